/* Map value and record layouts shared by the BPF collectors and the helper (src/helper/tasks.ts and
 * src/helper/sched.ts mirror them; a unit of layout change must change both), and the `drops` map they all have. */
#ifndef HOTSPOT_H
#define HOTSPOT_H

#define MAX_PAIRS 16384 /* victim→aggressor pairs: only involuntary switches land here */
#define MAX_EXITS 16384 /* processes that ended since the last window */
#define COMM_LEN 16

/* Index into the per-CPU `drops` arrays: updates lost because a map was full. */
enum drop_reason { DROP_PAIRS = 0, DROP_EXITS = 1, DROP_MAX = 2 };

/* Every object has one (the helper sums it per reason each window); include after <bpf/bpf_helpers.h>. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* One update lost to a full map (per CPU: no atomic). */
static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &reason);
	if (n)
		*n += 1;
}

/* task_rec.flags */
#define REC_KTHREAD 1 /* PF_KTHREAD */
#define REC_PROCESS 2 /* the process-wide fields (start … comm) are filled */
#define REC_EXITED 4  /* from the exit hook: final totals of a process whose last thread exited */
#define REC_MM 8      /* resident memory and cgroups were read (from a thread with an mm) */

/* tasks.bpf.c: one per thread from dump_tasks, one per process from walk_tasks, one per ended process in `exits`.
 * 168 bytes. */
struct task_rec {
	__u32 tgid;
	__u32 pid;
	__u32 flags;
	__u32 ppid;
	__u64 start_ns; /* group leader's start_time (CLOCK_MONOTONIC ns) */
	/* this thread, cumulative since it started */
	__u64 exec_ns;
	__u64 run_delay_ns;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 min_flt;
	__u64 maj_flt;
	/* process-wide (REC_PROCESS): threads already reaped, then resident pages by kind, then the cgroups */
	__u64 sig_exec_ns;
	__u64 sig_nvcsw;
	__u64 sig_nivcsw;
	__u64 sig_min_flt;
	__u64 sig_maj_flt;
	__u64 rss_file;
	__u64 rss_anon;
	__u64 rss_shmem;
	__u64 css_set; /* the task's set of cgroups (all hierarchies): compared to notice a move, never followed */
	__u32 cpu;     /* CPU it (or the process's first thread) last ran on */
	__u32 threads; /* threads summed in this record: 1 from the iterator, all of them from walk_tasks */
	char comm[COMM_LEN]; /* group leader's */
};

/* tasks.bpf.c dump_rss: one per process. 24 bytes. */
struct rss_rec {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;
	__u64 anon_shmem_pages;
};

/* tasks.bpf.c walk_tasks and sample_rss: how many records the last run wrote, and whether some did not fit. */
enum walk { WALK_TASKS = 0, WALK_RSS = 1 };
struct walk_state {
	__u32 count;
	__u32 truncated;
};

struct exit_key {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;
};

#endif
