// SPDX-License-Identifier: MIT
// A helper the NIC does not have (bpf_fib_lookup): refused at offload time, naming it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_fib(struct xdp_md *ctx)
{
    struct bpf_fib_lookup p = {.family = 2, .ifindex = ctx->ingress_ifindex};

    if (bpf_fib_lookup(ctx, &p, sizeof(p), 0) == BPF_FIB_LKUP_RET_SUCCESS)
        return XDP_TX;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
