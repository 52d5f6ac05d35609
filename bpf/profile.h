/* Layouts shared by profile.bpf.c and src/helper/profile.ts (a change to one must change the other). */
#ifndef HOTSPOT_PROFILE_H
#define HOTSPOT_PROFILE_H

#define PROFILE_MAX_DEPTH 127  /* PERF_MAX_STACK_DEPTH: frames per stack the kernel walks */
#define PROFILE_MAX_STACKS 8192 /* distinct user or kernel stacks in one profile */
#define PROFILE_MAX_KEYS 16384  /* distinct (thread, user stack, kernel stack) triples */

/* One key of `counts`: 16 bytes. A stack id < 0 is the negated errno of bpf_get_stackid (-EFAULT: no stack of
 * that kind at the sample, e.g. no kernel stack for a sample taken in user mode; -EEXIST/-ENOMEM: lost). */
struct sample_key {
	__u32 tgid;
	__u32 pid;
	__s32 user_stack;
	__s32 kern_stack;
};

/* `target[0]`, written by the helper after load, before the perf events are opened. */
struct profile_config {
	__u32 tgid;
	__u32 _pad;
};

/* Index into `lost` (per CPU). */
enum profile_lost { LOST_KEYS = 0, LOST_MAX = 1 };

#endif
