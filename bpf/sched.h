/* The preemption collector's maps, shared by bpf/sched.bpf.c and the bench's floor (scripts/bench/floor.bpf.c,
 * an on_switch that returns at once), so the helper loads either. src/helper/sched.ts reads them. */
#ifndef HOTSPOT_SCHED_H
#define HOTSPOT_SCHED_H
#include "hotspot.h"

#define SLOT_BITS 6 /* 64 slots per CPU and bank */

/* One pair's count in a CPU's table. */
struct slot {
	__u64 key; /* victim tgid << 32 | aggressor tgid */
	__u64 count;
};

/* [(cpu × 2 + bank) × 64 + slot]: two banks per CPU, the helper reads (and zeroes) the one BPF is not writing.
 * Mapped into the helper's memory; sized to the possible CPUs at load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 2 << SLOT_BITS); /* set by the helper */
	__type(key, __u32);
	__type(value, struct slot);
} slots SEC(".maps");

/* [0]: the bank BPF writes (its low bit), flipped by the helper each window through its mapping. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} control SEC(".maps");

/* Pairs evicted from a slot by another pair, drained by the helper each window. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PAIRS);
	__type(key, __u64); /* victim tgid << 32 | aggressor tgid */
	__type(value, __u64);
} pairs SEC(".maps");

/* A pair's slot: the key's bits mixed by a multiplication (Fibonacci hashing), top bits kept. */
static __always_inline __u32 slot_of(__u64 key)
{
	return (__u32)((key * 0x9E3779B97F4A7C15ULL) >> (64 - SLOT_BITS));
}

static __always_inline void add_to_pairs(__u64 key, __u64 count)
{
	__u64 *n = bpf_map_lookup_elem(&pairs, &key);
	if (n) {
		__sync_fetch_and_add(n, count);
	} else if (bpf_map_update_elem(&pairs, &key, &count, BPF_NOEXIST) && !bpf_map_lookup_elem(&pairs, &key)) {
		count_drop(DROP_PAIRS);
	}
}

#endif
