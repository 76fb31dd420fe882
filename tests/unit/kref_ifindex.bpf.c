// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// For kref_test: returns what it sees of the receiving device, ingress_ifindex * 16 +
// rx_queue_index, so a run shows which device and queue the kernel gave it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_ifindex(struct xdp_md *ctx)
{
    return (int)(ctx->ingress_ifindex * 16 + ctx->rx_queue_index);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
