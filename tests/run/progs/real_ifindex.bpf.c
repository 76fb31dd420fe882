// SPDX-License-Identifier: MIT
// A forwarding decision on ctx->ingress_ifindex, as real programs make it: frames from the
// loopback pass, frames from any other device are dropped; the receiving device and rx queue
// are printed and kept in a map (seen[0] = ingress_ifindex, seen[1] |= 1 << rx_queue_index).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} seen SEC(".maps");

SEC("xdp")
int xdp_by_ifindex(struct xdp_md *ctx)
{
    __u32 ifindex = ctx->ingress_ifindex, queue = ctx->rx_queue_index;
    __u32 k0 = 0, k1 = 1;
    __u32 *v = bpf_map_lookup_elem(&seen, &k0);

    if (v)
        *v = ifindex;
    v = bpf_map_lookup_elem(&seen, &k1);
    if (v && queue < 32)
        *v |= 1u << queue;
    bpf_printk("ingress %u queue %u", ifindex, queue);
    return ifindex == 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
