// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// Maps of maps as Katran's balancer_ingress uses them (issue 8): an array of maps whose two inner
// arrays are set by a static initialiser (`.values = {...}`, relocations in .rel.maps), and a hash
// of maps filled by the user (`--map`), each looked up and then the inner map looked up in turn.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct counters_def {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
};

struct counters_def stats_tcp SEC(".maps"), stats_other SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct counters_def);
} stats_by_proto SEC(".maps") = {
    .values = {[0] = &stats_tcp, [1] = &stats_other},
};

struct vip_def {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);   /* destination address */
    __type(value, __u32); /* verdict */
};

struct vip_def vips_tcp SEC(".maps"), vips_udp SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32); /* IP protocol */
    __array(values, struct vip_def);
} vips_by_proto SEC(".maps");

SEC("xdp")
int balancer_ingress(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *iph = (void *)(eth + 1);
    __u32 proto, which, zero = 0, daddr, *verdict;
    __u64 *count;
    void *inner;

    if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    proto = iph->protocol;
    which = proto == 6 ? 0 : 1;
    inner = bpf_map_lookup_elem(&stats_by_proto, &which);
    if (!inner)
        return XDP_ABORTED;
    count = bpf_map_lookup_elem(inner, &zero);
    if (!count)
        return XDP_ABORTED;
    __sync_fetch_and_add(count, 1);
    inner = bpf_map_lookup_elem(&vips_by_proto, &proto);
    if (!inner)
        return XDP_PASS;
    daddr = iph->daddr;
    verdict = bpf_map_lookup_elem(inner, &daddr);
    if (!verdict || *verdict > XDP_TX)
        return XDP_PASS;
    return *verdict;
}

char LICENSE[] SEC("license") = "GPL";
