// SPDX-License-Identifier: GPL-2.0
/* Page-fault collector: faults per process and its resident set size, read in-kernel from mm->rss_stat.
 * The same handler is offered under five attach points; the helper enables the first one this kernel accepts
 * (tracepoints here; fentry/kprobe where tracing of functions is allowed and page_fault_user does not exist). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hotspot.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PROCS);
	__type(key, __u32);
	__type(value, struct proc_faults);
} faults SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* mm->rss_stat: `struct percpu_counter rss_stat[4]` since 6.2, `struct mm_rss_stat { atomic_long_t count[4]; }` before. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));
struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES (MM_SWAPENTS, index 2, is not resident). */
static __always_inline __u64 rss_pages(struct mm_struct *mm)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;
		return BPF_CORE_READ(old, rss_stat.count[0].counter) + BPF_CORE_READ(old, rss_stat.count[1].counter) +
		       BPF_CORE_READ(old, rss_stat.count[3].counter);
	}
	/* percpu_counter.count is the folded value get_mm_counter() returns (per-CPU deltas are not added). */
	return BPF_CORE_READ(mm, rss_stat[0].count) + BPF_CORE_READ(mm, rss_stat[1].count) +
	       BPF_CORE_READ(mm, rss_stat[3].count);
}

/* RSS moves by one page per fault, so reading it every 8th fault keeps it current to 32 KiB for a third of the cost. */
#define RSS_EVERY 8

static __always_inline int on_fault(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!tgid)
		return 0;
	struct proc_faults *f = bpf_map_lookup_elem(&faults, &tgid);
	if (!f) {
		struct proc_faults fresh = {};
		struct task_struct *t = (void *)bpf_get_current_task();
		BPF_CORE_READ_STR_INTO(&fresh.comm, t, group_leader, comm);
		if (bpf_map_update_elem(&faults, &tgid, &fresh, BPF_NOEXIST) && !bpf_map_lookup_elem(&faults, &tgid)) {
			__u32 reason = DROP_FAULTS;
			__u64 *n = bpf_map_lookup_elem(&drops, &reason);
			if (n)
				*n += 1;
			return 0;
		}
		f = bpf_map_lookup_elem(&faults, &tgid);
		if (!f)
			return 0;
	}
	__u64 n = __sync_fetch_and_add(&f->faults, 1);
	if (n % RSS_EVERY == 0) {
		struct task_struct *t = (void *)bpf_get_current_task();
		struct mm_struct *mm = BPF_CORE_READ(t, mm);
		if (mm)
			f->rss_pages = rss_pages(mm);
	}
	return 0;
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(fault_tp_btf)
{
	return on_fault();
}

SEC("raw_tp/page_fault_user")
int fault_raw_tp(void *ctx)
{
	return on_fault();
}

SEC("tracepoint/exceptions/page_fault_user")
int fault_tracepoint(void *ctx)
{
	return on_fault();
}

SEC("fentry/handle_mm_fault")
int BPF_PROG(fault_fentry)
{
	return on_fault();
}

SEC("kprobe/handle_mm_fault")
int fault_kprobe(void *ctx)
{
	return on_fault();
}
