// SPDX-License-Identifier: GPL-2.0
/* Preemption collector: who preempts whom, the one thing only an event can tell. Everything else (CPU time,
 * run-queue wait, context switches, faults, RSS) the kernel already counts per task; tasks.bpf.c reads it.
 * The common (voluntary) switch returns after one compare: no clock read, no map lookup. A preemption is counted
 * in this CPU's own small table (no hashing of the key, no atomic): the pairs a CPU switches between repeat, so
 * they nearly always hit; only a pair that does not fit its slot goes to the shared `pairs` hash. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sched.h"

char LICENSE[] SEC("license") = "GPL";

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

/* Where tp_btf is refused: the same through a raw tracepoint (arguments read with bpf_probe_read_kernel). */
static __always_inline unsigned int task_state_raw(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

/* victim (switched out while runnable) → aggressor (switched in), once per preemption */
static __always_inline void count_pair(__u32 victim, __u32 aggressor)
{
	__u64 key = (__u64)victim << 32 | aggressor;
	/* The table the helper is not reading (it flips `bank` before reading the other), this CPU's part of it,
	 * and the key's slot there. sched_switch runs with interrupts off: nothing else writes this CPU's slots. */
	__u32 *bank = bpf_map_lookup_elem(&control, &(__u32){ 0 });
	if (!bank)
		return;
	__u32 i = ((bpf_get_smp_processor_id() * 2 + (*bank & 1)) << SLOT_BITS) | slot_of(key);
	struct slot *s = bpf_map_lookup_elem(&slots, &i);
	if (!s)
		return;
	if (s->key == key) {
		s->count++;
		return;
	}
	/* Another pair holds the slot: its count moves to the shared hash, and this pair takes the slot. */
	if (s->count)
		add_to_pairs(s->key, s->count);
	s->key = key;
	s->count = 1;
}

/* prev goes to sleep in D: stamp it (the storage exists for every thread tasks.bpf.c has seen). */
static __always_inline void block_begin(struct task_struct *prev)
{
	struct blocked *b = bpf_task_storage_get(&blocked, prev, 0, 0);
	if (!b)
		return;
	b->since = rq_clock_of(prev);
	b->since_delay = prev->sched_info.run_delay;
	b->iowait = BPF_CORE_READ_BITFIELD(prev, in_iowait);
}

/* next runs again after a sleep in D: add it up. sched_info_arrive() has not run yet, so last_queued is still the
 * time it was woken (queued). */
static __always_inline void block_end(struct task_struct *next)
{
	struct blocked *b = bpf_task_storage_get(&blocked, next, 0, 0);
	if (!b || !b->since)
		return;
	__s64 d = blocked_part(b, next, 0); /* queued: last_queued is set */
	b->since = 0;
	if (d <= 0 || !next->sched_info.last_queued)
		return;
	b->blocked_ns += d;
	if (b->iowait)
		b->iowait_ns += d;
}

/* The last switch of a task that exited: its CPU time is final only now (the exit tracepoint fires before the
 * exit path and this last slice are accounted). If it wrote its process's exit record, complete it. */
static __always_inline void exit_final(struct task_struct *prev)
{
	struct exit_key key = { .tgid = prev->tgid, .start_ns = prev->group_leader->start_time };
	struct task_rec *r = bpf_map_lookup_elem(&exits, &key);
	if (r && r->pid == prev->pid)
		r->exec_ns = prev->se.sum_exec_runtime;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* The scheduler marks a task whose last sleep was in D (not TASK_NOLOAD) so: one load skips every other. */
	if (BPF_CORE_READ_BITFIELD(next, sched_contributes_to_load))
		block_end(next);
	/* Involuntary: switched out while still runnable. Sleeping on I/O or a lock is not a preemption. */
	unsigned int state = task_state(prev);
	if (!preempt && state != 0) {
		if ((state & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) == TASK_UNINTERRUPTIBLE)
			block_begin(prev);
		else if (state & TASK_DEAD)
			exit_final(prev);
		return 0;
	}
	__u32 prev_tgid = prev->tgid, next_tgid = next->tgid;
	if (!prev->pid || !next->pid || prev_tgid == next_tgid)
		return 0;
	count_pair(prev_tgid, next_tgid);
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (!preempt && task_state_raw(prev) != 0)
		return 0;
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid), next_tgid = BPF_CORE_READ(next, tgid);
	if (!BPF_CORE_READ(prev, pid) || !BPF_CORE_READ(next, pid) || prev_tgid == next_tgid)
		return 0;
	count_pair(prev_tgid, next_tgid);
	return 0;
}
