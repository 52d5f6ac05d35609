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
 * 232 bytes. */
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
	__u64 blocked_ns; /* in TASK_UNINTERRUPTIBLE (not TASK_NOLOAD) since we first saw it (struct blocked) */
	__u64 iowait_ns;  /* the part of it in io_schedule() (in_iowait) */
	__u64 read_bytes; /* ioac: bytes this thread caused to be read from storage */
	__u64 write_bytes; /* ioac: bytes it dirtied or wrote directly */
	/* process-wide (REC_PROCESS): threads already reaped, then resident pages by kind, then the cgroups */
	__u64 sig_exec_ns;
	__u64 sig_nvcsw;
	__u64 sig_nivcsw;
	__u64 sig_min_flt;
	__u64 sig_maj_flt;
	__u64 sig_blocked_ns; /* threads that exited (the leader's struct blocked) */
	__u64 sig_iowait_ns;
	__u64 sig_read_bytes; /* signal->ioac: threads already reaped */
	__u64 sig_write_bytes;
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

/* Final totals of processes that ended since the last window: written by tasks.bpf.c at sched_process_exit,
 * their CPU time completed by sched.bpf.c at the last thread's final switch (the helper hands one map to both). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_EXITS);
	__type(key, struct exit_key);
	__type(value, struct task_rec);
} exits SEC(".maps");

/* Per thread: time asleep in TASK_UNINTERRUPTIBLE that counts towards the load (not TASK_NOLOAD: idle kernel
 * threads), and the part of it that was an io_schedule() wait. sched.bpf.c stamps the sleep when the thread is
 * switched out and adds it up when it is switched in again; tasks.bpf.c creates the storage (at fork, and on its
 * first reading of a thread that was there before us) and reads it. One map, shared by the helper. */
struct blocked {
	__u64 since;       /* the run-queue clock when it went to sleep; 0: not asleep in D */
	__u64 since_delay; /* its sched_info.run_delay then */
	__u64 blocked_ns;  /* cumulative */
	__u64 iowait_ns;   /* cumulative, the io_schedule() part */
	__u64 dead_blocked_ns; /* on the group leader: what its threads that exited had */
	__u64 dead_iowait_ns;
	__u32 iowait; /* the pending sleep is an io_schedule() one */
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct blocked);
} blocked SEC(".maps");

#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_DEAD 0x80
#define TASK_NOLOAD 0x400

/* The run-queue clock (rq_clock(), what sched_info stamps last_queued with) of the CPU a task is on, reached through
 * its CFS run queue (rq->clock is out of reach by name where kallsyms lacks per-CPU variables). __schedule() brings
 * it up to date before the tracepoint: exact for prev at its switch-out; up to a tick behind for a running task.
 * Without group scheduling (no cfs_rq->rq), when it arrived plus what it has run since, which misses the stint's
 * IRQ and steal time (rq_clock_task): on this VM that overstated the blocked share by 4-12 points. */
static __always_inline __u64 rq_clock_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->se.cfs_rq->rq))
		return t->se.cfs_rq->rq->clock;
	return t->sched_info.last_arrival + (t->se.sum_exec_runtime - t->se.prev_sum_exec_runtime);
}

/* The part of a pending sleep that has passed: until it was queued to run again (sched_info.last_queued, or `now`
 * while it still sleeps), less the run-queue wait of a migration meanwhile (run_delay grew by it). */
static __always_inline __s64 blocked_part(struct blocked *b, struct task_struct *t, __u64 now)
{
	__u64 queued = t->sched_info.last_queued;
	return (__s64)((queued ? queued : now) - b->since) - (__s64)(t->sched_info.run_delay - b->since_delay);
}

#endif
