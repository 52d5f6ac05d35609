// SPDX-License-Identifier: GPL-2.0
/* The bench's floor: what attaching to sched_switch costs before any work. The same maps as bpf/sched.bpf.c, so
 * the helper loads it in place of the real object (npm run bench builds it next to a copy of the helper). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "sched.h"

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

SEC("raw_tp/sched_switch")
int BPF_PROG(on_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}
