// SPDX-License-Identifier: MIT
// Programs for devmap and cpumap entries (SEC("xdp/devmap"), SEC("xdp/cpumap"): expected attach
// types BPF_XDP_DEVMAP and BPF_XDP_CPUMAP) beside a device's program: the kernel loads them but
// refuses to attach them to a device. xdp_dm reads egress_ifindex, which only devmap programs may.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("xdp/devmap")
int xdp_dm(struct xdp_md *ctx)
{
    return ctx->egress_ifindex ? XDP_PASS : XDP_DROP;
}

SEC("xdp.frags/cpumap")
int xdp_cm(struct xdp_md *ctx)
{
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
