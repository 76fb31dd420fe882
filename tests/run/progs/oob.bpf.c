// SPDX-License-Identifier: MIT
// Reads the packet without checking data_end: the verifier refuses it, as the kernel's does.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_oob(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;

    return data[20] == 6 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
