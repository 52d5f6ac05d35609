/* Map value layouts shared by the BPF collectors and the helper (src/helper/layout.ts mirrors them). */
#ifndef HOTSPOT_H
#define HOTSPOT_H

#define MAX_PROCS 65536 /* per-TGID maps: one slot per process the machine can plausibly run */
#define MAX_PAIRS 16384 /* victim→aggressor pairs: only involuntary switches land here */
#define COMM_LEN 16

/* Index into the per-CPU `drops` array: updates lost because a map was full. */
enum drop_reason { DROP_PROCS = 0, DROP_PAIRS = 1, DROP_FAULTS = 2, DROP_MAX = 3 };

/* sched.bpf.c: per TGID, summed since the last drain. 64 bytes. */
struct proc_cpu {
	__u64 cpu_ns;
	__u64 preempted;       /* involuntary switch-outs suffered */
	__u64 preempts_others; /* involuntary switch-outs caused */
	__u64 runq_wait_ns;    /* runnable-but-waiting time after a preemption */
	__u64 last_ts;
	__u32 last_cpu;
	__u32 _pad;
	char comm[COMM_LEN];
};

/* sched.bpf.c: per CPU, what is running now and since when. 32 bytes. */
struct cpu_state {
	__u32 tgid;
	__u32 pid; /* 0 = idle */
	__u64 ts;  /* switch-in time of the running task, bpf_ktime_get_ns() */
	__u64 busy_ns; /* cumulative non-idle time, never reset */
	__u64 _pad;
};

/* faults.bpf.c: per TGID, since the last drain. 32 bytes. */
struct proc_faults {
	__u64 faults;
	__u64 rss_pages; /* file + anon + shmem at the last sampled fault */
	char comm[COMM_LEN];
};

#endif
