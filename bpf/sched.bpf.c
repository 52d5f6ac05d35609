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

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* Involuntary: switched out while still runnable. Sleeping on I/O or a lock is not a preemption. */
	if (!preempt && task_state(prev) != 0)
		return 0;
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
