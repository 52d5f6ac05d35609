// SPDX-License-Identifier: GPL-2.0
/* Task collector: the kernel's own per-task counters, read by walking every task once per window (iter/task)
 * instead of accounting each event. Costs grow with the number of tasks, not with the event rate.
 * - dump_tasks: one struct task_rec per thread (the helper sums threads into processes);
 * - dump_rss: one struct rss_rec per process leader, for the cheap RSS sub-samples taken within a window;
 * - walk_tasks and sample_rss: the same two readings without the iterator's per-task cost, where the kernel has
 *   the open-coded task iterator (6.7+), one record per process;
 * - on_exit: when the last thread of a process exits, its final totals go to `exits`, drained each window,
 *   so a process that lived 50 ms between two walks is still reported with its CPU and parent. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hotspot.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000

/* mm->rss_stat: `struct percpu_counter rss_stat[4]` since 6.2, `struct mm_rss_stat { atomic_long_t count[4]; }` before. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));
struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* Before 5.16 (or without THREAD_INFO_IN_TASK) the CPU lives in task_struct itself. */
struct task_struct___oldcpu {
	unsigned int cpu;
} __attribute__((preserve_access_index));

/* MM_FILEPAGES = 0, MM_ANONPAGES = 1, MM_SWAPENTS = 2 (not resident), MM_SHMEMPAGES = 3. */
static __always_inline void read_rss(struct mm_struct *mm, __u64 *file, __u64 *anon, __u64 *shmem)
{
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;
		*file = BPF_CORE_READ(old, rss_stat.count[0].counter);
		*anon = BPF_CORE_READ(old, rss_stat.count[1].counter);
		*shmem = BPF_CORE_READ(old, rss_stat.count[3].counter);
		return;
	}
	/* percpu_counter.count is the folded value get_mm_counter() returns (what /proc/PID/status shows). */
	*file = BPF_CORE_READ(mm, rss_stat[0].count);
	*anon = BPF_CORE_READ(mm, rss_stat[1].count);
	*shmem = BPF_CORE_READ(mm, rss_stat[3].count);
}

/* Process-wide fields. With `trusted` (iterator, tp_btf: BTF pointers) the chains are plain CO-RE loads that the
 * verifier turns into fault-safe PROBE_MEM loads; otherwise (raw_tp) every hop is a bpf_probe_read_kernel(). */
#define P(trusted, a, ...) ((trusted) ? (a)->__VA_ARGS__ : BPF_CORE_READ(a, __VA_ARGS__))

static __always_inline void fill_process(struct task_rec *r, struct task_struct *t, const int trusted)
{
	struct task_struct *leader = P(trusted, t, group_leader);
	r->start_ns = P(trusted, leader, start_time);
	r->ppid = trusted ? leader->real_parent->tgid : BPF_CORE_READ(leader, real_parent, tgid);
	/* Through a trusted pointer the name is two plain loads, not a helper call (bytes after the NUL are zero:
	 * the kernel sets comm with strscpy_pad). */
	if (trusted)
		__builtin_memcpy(r->comm, leader->comm, sizeof(r->comm));
	else
		bpf_probe_read_kernel_str(&r->comm, sizeof(r->comm), &leader->comm);
	struct signal_struct *sig = P(trusted, t, signal);
	if (sig) {
		/* Threads that already exited (and were reaped) were folded into the signal struct. */
		r->sig_exec_ns = P(trusted, sig, sum_sched_runtime);
		r->sig_nvcsw = P(trusted, sig, nvcsw);
		r->sig_nivcsw = P(trusted, sig, nivcsw);
		r->sig_min_flt = P(trusted, sig, min_flt);
		r->sig_maj_flt = P(trusted, sig, maj_flt);
		if (bpf_core_field_exists(sig->ioac)) {
			r->sig_read_bytes = P(trusted, sig, ioac.read_bytes);
			r->sig_write_bytes = P(trusted, sig, ioac.write_bytes);
		}
	}
	/* Blocked time of the threads that exited, kept on the leader (on_exit). Task storage needs a trusted pointer:
	 * the raw_tp exit hook goes without. */
	if (trusted) {
		struct blocked *b = bpf_task_storage_get(&blocked, leader, 0, 0);
		if (b) {
			r->sig_blocked_ns = b->dead_blocked_ns;
			r->sig_iowait_ns = b->dead_iowait_ns;
		}
	}
	struct mm_struct *mm = P(trusted, t, mm);
	if (mm) {
		read_rss(mm, &r->rss_file, &r->rss_anon, &r->rss_shmem);
		r->flags |= REC_MM;
	}
	/* The task's css_set: one set per combination of cgroups (v2 and every v1 hierarchy), held by the task, so
	 * the pointer changes exactly when the task moves and cannot be reused while it stays. The helper compares it
	 * to notice a move and then reads /proc/PID/cgroup: one load, where following it to the cgroups' kernfs ids
	 * was six dependent ones (a fifth of the pass at 10,000 processes). */
	r->css_set = (__u64)P(trusted, t, cgroups);
}

/* The iterator's task pointer is trusted, so its fields are plain (CO-RE relocated) loads; a raw_tp argument is
 * not, and needs bpf_probe_read_kernel. `trusted` is a constant after inlining: only one branch is emitted. */
#define FIELD(t, trusted, f) ((trusted) ? (t)->f : BPF_CORE_READ(t, f))

/* This thread's blocked time: what it has added up, and the part of a sleep still pending. The storage is created
 * for a thread that was there before us (`create`, on a reading): from then on its sleeps are counted. */
static __always_inline void read_blocked(struct task_rec *r, struct task_struct *t, const int create)
{
	struct blocked *b = bpf_task_storage_get(&blocked, t, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (!b)
		return;
	__u64 blocked_ns = b->blocked_ns, iowait_ns = b->iowait_ns;
	if (b->since) {
		__s64 d = blocked_part(b, t, rq_clock_of(bpf_get_current_task_btf()));
		if (d > 0) {
			blocked_ns += d;
			if (b->iowait)
				iowait_ns += d;
		}
	}
	r->blocked_ns += blocked_ns;
	r->iowait_ns += iowait_ns;
}

/* The wait of a thread queued for a CPU now: the kernel adds it to run_delay only when the thread next runs, so a
 * thread starved for longer than a window would read no wait in the windows it never ran and more than a window's
 * in the one it ran in. Read against its own run queue's clock, the clock last_queued was stamped with. */
static __always_inline __u64 queued_now(struct task_struct *t)
{
	__u64 since = t->sched_info.last_queued;
	if (!since)
		return 0;
	__u64 now = rq_clock_of(t);
	return now > since ? now - since : 0;
}

static __always_inline void fill_thread(struct task_rec *r, struct task_struct *t, const int trusted)
{
	r->tgid = FIELD(t, trusted, tgid);
	r->pid = FIELD(t, trusted, pid);
	r->flags = (FIELD(t, trusted, flags) & PF_KTHREAD) ? REC_KTHREAD : 0;
	r->exec_ns = FIELD(t, trusted, se.sum_exec_runtime);
	r->run_delay_ns = FIELD(t, trusted, sched_info.run_delay);
	if (trusted)
		r->run_delay_ns += queued_now(t);
	r->nvcsw = FIELD(t, trusted, nvcsw);
	r->nivcsw = FIELD(t, trusted, nivcsw);
	r->min_flt = FIELD(t, trusted, min_flt);
	r->maj_flt = FIELD(t, trusted, maj_flt);
	if (bpf_core_field_exists(t->ioac)) {
		r->read_bytes = FIELD(t, trusted, ioac.read_bytes);
		r->write_bytes = FIELD(t, trusted, ioac.write_bytes);
	}
	if (trusted)
		read_blocked(r, t, 1);
	if (bpf_core_field_exists(t->thread_info.cpu))
		r->cpu = FIELD(t, trusted, thread_info.cpu);
	else
		r->cpu = BPF_CORE_READ((struct task_struct___oldcpu *)t, cpu);
	r->threads = 1;
}

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	if (!t)
		return 0;
	struct task_rec r = {};
	fill_thread(&r, t, 1);
	/* Process-wide fields once per process: on the leader, or on any thread once the leader is a zombie
	 * (its mm is gone then); the helper keeps the first it gets per process. */
	if (t->pid == t->tgid || BPF_CORE_READ(t, group_leader, exit_state)) {
		r.flags |= REC_PROCESS;
		fill_process(&r, t, 1);
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/task")
int dump_rss(struct bpf_iter__task *ctx)
{
	struct task_struct *t = ctx->task;
	if (!t || t->pid != t->tgid)
		return 0;
	struct mm_struct *mm = t->mm;
	if (!mm)
		return 0;
	struct rss_rec r = { .tgid = t->tgid, .start_ns = t->start_time };
	__u64 file = 0, anon = 0, shmem = 0;
	read_rss(mm, &file, &anon, &shmem);
	r.anon_shmem_pages = anon + shmem;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

/* The same readings without the iterator's per-task cost, on kernels with the open-coded task iterator (6.7+):
 * one run (BPF_PROG_TEST_RUN) walks the task list under RCU, with no pid lookup and no task reference per task
 * (that machinery was half of a dump_tasks pass), into an array the helper has mapped into its memory, so the
 * records are read where they lie. The kfuncs are weak: where they are missing these programs do not load, and
 * the helper reads the iterators above instead. The helper sizes the arrays at load from the processes it sees;
 * a walk that finds more says so (`truncated`) and that reading takes the iterator's way. */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task, unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_rcu_read_lock(void) __weak __ksym;
extern void bpf_rcu_read_unlock(void) __weak __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set by the helper */
	__type(key, __u32);
	__type(value, struct task_rec);
} task_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1); /* set by the helper */
	__type(key, __u32);
	__type(value, struct rss_rec);
} rss_out SEC(".maps");

/* [WALK_TASKS]: the last walk_tasks run; [WALK_RSS]: the last sample_rss run. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct walk_state);
} walk_state SEC(".maps");

/* One record per process: its threads summed (they come one after another, leader first), plus the process-wide
 * fields. A zombie leader has no mm and has left its cgroups: those come from the first thread that has an mm. */
/* The walk's state, reset for a new run. */
static __always_inline struct walk_state *walk_begin(__u32 which)
{
	struct walk_state *st = bpf_map_lookup_elem(&walk_state, &which);
	if (st) {
		st->count = 0;
		st->truncated = 0;
	}
	return st;
}

SEC("syscall")
int walk_tasks(void *ctx)
{
	struct walk_state *st = walk_begin(WALK_TASKS);
	if (!st)
		return 0;
	struct task_rec *r = NULL;
	struct bpf_iter_task it;
	struct task_struct *t;
	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_THREADS);
	while ((t = bpf_iter_task_next(&it))) {
		/* The walk starts at init_task, CPU 0's idle task (pid 0): not a process, and absent from /proc. */
		if (!t->pid)
			continue;
		if (!r || r->tgid != t->tgid) {
			/* Re-read from the map, so the verifier sees one unknown index rather than a state per iteration. */
			__u32 i = st->count;
			r = bpf_map_lookup_elem(&task_out, &i);
			if (!r) {
				st->truncated = 1;
				break;
			}
			st->count = i + 1;
			__builtin_memset(r, 0, sizeof(*r));
			fill_thread(r, t, 1);
			r->flags |= REC_PROCESS;
			fill_process(r, t, 1);
			continue;
		}
		r->threads++;
		r->exec_ns += t->se.sum_exec_runtime;
		r->run_delay_ns += t->sched_info.run_delay + queued_now(t);
		r->nvcsw += t->nvcsw;
		r->nivcsw += t->nivcsw;
		r->min_flt += t->min_flt;
		r->maj_flt += t->maj_flt;
		if (bpf_core_field_exists(t->ioac)) {
			r->read_bytes += t->ioac.read_bytes;
			r->write_bytes += t->ioac.write_bytes;
		}
		read_blocked(r, t, 1);
		struct mm_struct *mm = t->mm;
		if (mm && !(r->flags & REC_MM)) {
			read_rss(mm, &r->rss_file, &r->rss_anon, &r->rss_shmem);
			r->css_set = (__u64)t->cgroups;
			r->flags |= REC_MM;
		}
	}
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return 0;
}

/* anon + shmem of every process leader with an mm, for the sub-window samples (dump_rss's walk). */
SEC("syscall")
int sample_rss(void *ctx)
{
	struct walk_state *st = walk_begin(WALK_RSS);
	if (!st)
		return 0;
	struct bpf_iter_task it;
	struct task_struct *t;
	bpf_rcu_read_lock();
	bpf_iter_task_new(&it, NULL, BPF_TASK_ITER_ALL_PROCS);
	while ((t = bpf_iter_task_next(&it))) {
		struct mm_struct *mm = t->mm;
		if (!mm || (t->flags & PF_KTHREAD))
			continue;
		__u32 i = st->count;
		struct rss_rec *r = bpf_map_lookup_elem(&rss_out, &i);
		if (!r) {
			st->truncated = 1;
			break;
		}
		__u64 file = 0, anon = 0, shmem = 0;
		read_rss(mm, &file, &anon, &shmem);
		r->tgid = t->tgid;
		r->start_ns = t->start_time;
		r->anon_shmem_pages = anon + shmem;
		st->count = i + 1;
	}
	bpf_iter_task_destroy(&it);
	bpf_rcu_read_unlock();
	return 0;
}

/* Only the last thread of a process does any work: the totals are then the signal struct's (reaped threads)
 * plus this thread's own. Every other thread exit returns after one load and a compare. */
static __always_inline int on_exit(struct task_struct *t, int group_dead, const int trusted)
{
	if (!group_dead) {
		/* A thread other than the leader leaves: its blocked time goes to the leader, as its other counters go
		 * to the signal struct (a leader that exits first stays, a zombie, and is read as a thread). */
		if (trusted && t->pid != t->tgid) {
			struct blocked *b = bpf_task_storage_get(&blocked, t, 0, 0);
			struct blocked *l = bpf_task_storage_get(&blocked, t->group_leader, 0, 0);
			if (b && l) {
				__sync_fetch_and_add(&l->dead_blocked_ns, b->blocked_ns);
				__sync_fetch_and_add(&l->dead_iowait_ns, b->iowait_ns);
			}
		}
		return 0;
	}
	struct exit_key key = {};
	struct task_rec r = {};
	fill_thread(&r, t, trusted);
	key.tgid = r.tgid;
	fill_process(&r, t, trusted);
	/* A leader that exited before this thread is a zombie with its own blocked time, not yet in dead_*. */
	if (trusted && t->pid != t->tgid) {
		struct blocked *l = bpf_task_storage_get(&blocked, t->group_leader, 0, 0);
		if (l) {
			r.blocked_ns += l->blocked_ns;
			r.iowait_ns += l->iowait_ns;
		}
	}
	r.flags |= REC_PROCESS | REC_EXITED;
	key.start_ns = r.start_ns;
	if (bpf_map_update_elem(&exits, &key, &r, BPF_ANY))
		count_drop(DROP_EXITS);
	return 0;
}

/* do_exit() decrements signal->live before the tracepoint, so 0 means this is the last thread. (Recent kernels
 * also pass group_dead as an argument, but older ones do not, and reading a missing argument fails to load.) */
static __always_inline int group_dead_of(struct task_struct *t)
{
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	return sig && BPF_CORE_READ(sig, live.counter) == 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_btf, struct task_struct *t)
{
	return on_exit(t, group_dead_of(t), 1);
}

/* A new thread or process gets its blocked-time storage here, outside the scheduler: on_switch only looks it up
 * (creating it there would allocate memory under the run-queue lock). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	bpf_task_storage_get(&blocked, child, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(on_exit_raw, struct task_struct *t)
{
	return on_exit(t, group_dead_of(t), 0);
}
