// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// For kref_test: reads the packet without a bounds check, which the verifier must refuse.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_reject(struct xdp_md *ctx)
{
    unsigned char *p = (void *)(long)ctx->data;
    return p[100];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
