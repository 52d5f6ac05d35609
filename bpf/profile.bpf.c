// SPDX-License-Identifier: GPL-2.0
/* On-demand CPU profile of one process: run from a software CPU-clock perf event on every online CPU (opened by
 * src/helper/profile.ts at the requested frequency), it keeps the samples whose thread belongs to the requested
 * thread group, with its user and kernel stacks as stack ids, counted per (thread, user stack, kernel stack). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "profile.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct profile_config);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, PROFILE_MAX_STACKS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PROFILE_MAX_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROFILE_MAX_KEYS);
	__type(key, struct sample_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx)
{
	__u32 zero = 0;
	struct profile_config *cfg = bpf_map_lookup_elem(&target, &zero);
	__u64 id = bpf_get_current_pid_tgid();
	if (!cfg || cfg->tgid == 0 || (__u32)(id >> 32) != cfg->tgid)
		return 0;
	struct sample_key key = {
		.tgid = id >> 32,
		.pid = (__u32)id,
		.user_stack = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK),
		.kern_stack = bpf_get_stackid(ctx, &stacks, 0),
	};
	__u64 one = 1;
	__u64 *n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST) != 0) {
		/* Full, or another CPU inserted it first: retry the add once, else count the sample as lost. */
		n = bpf_map_lookup_elem(&counts, &key);
		if (n) {
			__sync_fetch_and_add(n, 1);
		} else {
			__u32 r = LOST_KEYS;
			__u64 *l = bpf_map_lookup_elem(&lost, &r);
			if (l)
				*l += 1;
		}
	}
	return 0;
}
