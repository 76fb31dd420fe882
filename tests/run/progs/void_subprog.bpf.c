// SPDX-License-Identifier: MIT
// A subprogram returning void, as the kernel's test_xdp_noinline.c and Katran write them (issue 8
// item 1): the callee never writes r0; only the main program's exit needs it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) void add_len(struct xdp_md *ctx, __u64 *acc)
{
    *acc += (__u64)(ctx->data_end - ctx->data);
}

SEC("xdp")
int xdp_void_sub(struct xdp_md *ctx)
{
    __u64 acc = 0;

    add_len(ctx, &acc);
    add_len(ctx, &acc);
    return acc > 400 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
