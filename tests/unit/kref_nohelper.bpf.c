// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// For kref_test: an XDP program calling bpf_get_socket_cookie (helper 46), which no kernel offers
// to XDP programs: the kernel's refusal is "this kernel lacks the helper", not "a bad program".
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __u64 (*cookie)(void *ctx) = (void *)46;

SEC("xdp")
int xdp_nohelper(struct xdp_md *ctx)
{
    return cookie(ctx) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
