// SPDX-License-Identifier: MIT
// nicsim profile: code the verifier proves dead (a branch on a register it knows is zero) is
// removed before translation, so the NIC image's slots after it are not the object's: the source
// lines must be mapped through the driver's record of where each slot came from.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_dead_code(struct xdp_md *ctx)
{
    long x;
    asm volatile("%0 = 0\n if %0 == 0 goto +3\n %0 += 1\n %0 += 2\n %0 += 3\n" : "=r"(x));
    long len = ctx->data_end - ctx->data;
    return len > 1234567 ? XDP_DROP : (int)x + XDP_PASS;
}

char _license[] SEC("license") = "GPL";
