// SPDX-License-Identifier: MIT
// Loops for as long as the first packet byte says, without a bound the verifier can see: refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_spin(struct xdp_md *ctx)
{
    unsigned char *data = (unsigned char *)(long)ctx->data;
    unsigned char *end = (unsigned char *)(long)ctx->data_end;
    volatile unsigned long n = 0;

    if (data + 1 > end)
        return XDP_PASS;
    for (unsigned long i = 0; i != (unsigned long)data[0] * 1000000000ul + 1; i += 2)
        n += i;
    return n ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
