// SPDX-License-Identifier: MIT
// bpf_printk only inside a subprogram (a noinline helper function, as real programs factor their
// debug output): the kernel comparison must still read the kernel's lines.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __attribute__((noinline)) int debug_len(int len)
{
    bpf_printk("frame of %d bytes", len);
    return len;
}

SEC("xdp")
int xdp_printk_in_subprog(struct xdp_md *ctx)
{
    return debug_len(ctx->data_end - ctx->data) > 0 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
