// SPDX-License-Identifier: GPL-2.0
/* Preemption collector: who preempts whom, the one thing only an event can tell. Everything else (CPU time,
 * run-queue wait, context switches, faults, RSS) the kernel already counts per task; tasks.bpf.c reads it.
 * The common (voluntary) switch returns after one compare: no clock read, no map lookup. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hotspot.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PAIRS);
	__type(key, __u64); /* victim tgid << 32 | aggressor tgid */
	__type(value, __u64);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Kernels before 5.14 call the state field `state`. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* tp_btf hands us BTF-typed pointers: a direct (CO-RE relocated) load is one instruction, where BPF_CORE_READ
 * would be a bpf_probe_read_kernel() call on every context switch. */
static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state;
	return ((struct task_struct___pre514 *)t)->state;
}

static __always_inline int count_pair(bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* Involuntary: switched out while still runnable. Sleeping on I/O or a lock is not a preemption. */
	if (!preempt && task_state(prev) != 0)
		return 0;
	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;
	if (!prev->pid || !next->pid || prev_tgid == next_tgid)
		return 0;
	__u64 key = (__u64)prev_tgid << 32 | next_tgid, one = 1;
	__u64 *n = bpf_map_lookup_elem(&pairs, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else if (bpf_map_update_elem(&pairs, &key, &one, BPF_NOEXIST) && !bpf_map_lookup_elem(&pairs, &key)) {
		__u32 reason = DROP_PAIRS;
		__u64 *d = bpf_map_lookup_elem(&drops, &reason);
		if (d)
			*d += 1;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
#ifdef HOTSPOT_BENCH_EMPTY
	return 0; /* npm run bench builds this variant: the cost of the attach point alone */
#endif
	return count_pair(preempt, prev, next);
}

/* Where tp_btf is refused: the same through a raw tracepoint (arguments read with bpf_probe_read_kernel). */
SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
#ifdef HOTSPOT_BENCH_EMPTY
	return 0;
#endif
	if (!preempt) {
		unsigned int state = bpf_core_field_exists(prev->__state)
					     ? BPF_CORE_READ(prev, __state)
					     : BPF_CORE_READ((struct task_struct___pre514 *)prev, state);
		if (state != 0)
			return 0;
	}
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), next_tgid = BPF_CORE_READ(next, tgid);
	if (!BPF_CORE_READ(prev, pid) || !BPF_CORE_READ(next, pid) || prev_tgid == next_tgid)
		return 0;
	__u64 key = (__u64)prev_tgid << 32 | next_tgid, one = 1;
	__u64 *n = bpf_map_lookup_elem(&pairs, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&pairs, &key, &one, BPF_NOEXIST);
	return 0;
}
