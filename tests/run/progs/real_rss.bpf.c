// SPDX-License-Identifier: MIT
/*
 * Receive-side scaling as Netronome's offload samples do it (bpf-samples' RSS, Suricata's
 * xdp_filter offload build): a hash of the IPv4 addresses picks the host receive queue, written
 * to ctx->rx_queue_index, which the kernel allows only to offloaded programs. Built as those
 * projects build (linux/bpf.h, clang -O2 -g -target bpf). The write happens in a subprogram
 * through a context pointer spilled to the stack, and on one path only.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define N_QUEUES 4

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, N_QUEUES);
    __type(key, __u32);
    __type(value, __u64);
} queue_hits SEC(".maps");

static __attribute__((noinline)) int steer(struct xdp_md *ctx, __u32 hash)
{
    volatile struct xdp_md *volatile keep = ctx; /* spilled and filled: still the context */
    __u32 q = hash % N_QUEUES;
    __u64 *hits = bpf_map_lookup_elem(&queue_hits, &q);

    if (hits)
        __sync_fetch_and_add(hits, 1);
    keep->rx_queue_index = q;
    return XDP_PASS;
}

SEC("xdp")
int xdp_rss(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + sizeof(*eth);
    __u32 hash;

    if ((void *)(iph + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS; /* left on the queue it came in on */
    hash = iph->saddr ^ iph->daddr;
    hash ^= hash >> 16;
    hash ^= hash >> 8;
    if (iph->protocol == IPPROTO_ICMP)
        return XDP_DROP;
    return steer(ctx, hash);
}

char _license[] SEC("license") = "GPL";
