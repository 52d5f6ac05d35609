// SPDX-License-Identifier: GPL-2.0
/* Scheduler collector: on-CPU time, involuntary preemptions (who preempts whom) and run-queue wait per process.
 * One tp_btf/sched_switch handler; the common (voluntary) path is one per-CPU array lookup and one hash update. */
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
	__type(value, struct proc_cpu);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PAIRS);
	__type(key, __u64); /* victim tgid << 32 | aggressor tgid */
	__type(value, __u64);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* Per thread: when it was preempted, so the wait until it runs again can be charged to its process. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} preempted_at SEC(".maps");

/* Threads preempted and not yet back on a CPU. While it is zero (the common case) the switch-in path skips the
 * task-storage lookup. A thread always runs again before it exits, so increments and decrements pair up. */
__u64 waiting_threads = 0;

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

static __always_inline void drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);
	if (n)
		*n += 1;
}

static __always_inline struct proc_cpu *proc_of(__u32 tgid, struct task_struct *t)
{
	struct proc_cpu *p = bpf_map_lookup_elem(&procs, &tgid);
	if (p)
		return p;
	struct proc_cpu fresh = {};
	/* The process name is the group leader's comm, not the thread's. */
	BPF_CORE_READ_STR_INTO(&fresh.comm, t, group_leader, comm);
	if (bpf_map_update_elem(&procs, &tgid, &fresh, BPF_NOEXIST) && bpf_map_lookup_elem(&procs, &tgid) == NULL) {
		drop(DROP_PROCS);
		return NULL;
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
#ifdef HOTSPOT_BENCH_EMPTY
	return 0; /* npm run bench builds this variant: the cost of the attach point alone */
#endif
	__u32 zero = 0;
	struct cpu_state *cs = bpf_map_lookup_elem(&cpus, &zero);
	if (!cs)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;

	if (cs->ts && prev->pid) {
		__u64 delta = now - cs->ts;
		cs->busy_ns += delta;
		struct proc_cpu *p = proc_of(prev_tgid, prev);
		if (p) {
			__sync_fetch_and_add(&p->cpu_ns, delta);
			p->last_ts = now;
			p->last_cpu = bpf_get_smp_processor_id();
		}
		/* Involuntary: switched out while still runnable. Sleeping on I/O or a lock is not a preemption. */
		if ((preempt || task_state(prev) == 0) && next->pid && next_tgid != prev_tgid) {
			if (p)
				__sync_fetch_and_add(&p->preempted, 1);
			struct proc_cpu *a = proc_of(next_tgid, next);
			if (a)
				__sync_fetch_and_add(&a->preempts_others, 1);
			__u64 key = (__u64)prev_tgid << 32 | next_tgid, one = 1;
			__u64 *n = bpf_map_lookup_elem(&pairs, &key);
			if (n)
				__sync_fetch_and_add(n, 1);
			else if (bpf_map_update_elem(&pairs, &key, &one, BPF_NOEXIST) && !bpf_map_lookup_elem(&pairs, &key))
				drop(DROP_PAIRS);
			__u64 *at = bpf_task_storage_get(&preempted_at, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (at) {
				if (!*at)
					__sync_fetch_and_add(&waiting_threads, 1);
				*at = now;
			}
		}
	}
	if (next->pid && waiting_threads) {
		__u64 *at = bpf_task_storage_get(&preempted_at, next, 0, 0);
		if (at && *at) {
			struct proc_cpu *p = proc_of(next_tgid, next);
			if (p)
				__sync_fetch_and_add(&p->runq_wait_ns, now - *at);
			*at = 0;
			__sync_fetch_and_sub(&waiting_threads, 1);
		}
	}
	cs->ts = now;
	cs->tgid = next_tgid;
	cs->pid = next->pid;
	return 0;
}

/* After exec the process has a new name: refresh it so windows don't show the pre-exec fork name. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct proc_cpu *st = bpf_map_lookup_elem(&procs, &tgid);
	if (st)
		BPF_CORE_READ_STR_INTO(&st->comm, p, comm);
	return 0;
}
