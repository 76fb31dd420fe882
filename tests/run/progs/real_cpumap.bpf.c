// SPDX-License-Identifier: MIT
/*
 * Flow spreading over host CPUs as Suricata's xdp_filter / xdp_lb and bpf-examples'
 * xdp_cpumap_qinq do it: a hash of the IPv4 addresses picks a CPU, and bpf_redirect_map into a
 * BPF_MAP_TYPE_CPUMAP sends the frame there. On the NIC that is host receive-queue selection.
 * A CPU with no cpumap entry passes the frame (the flags' low bits: XDP_PASS). Built as those
 * projects build (linux/bpf.h, clang -O2 -g -target bpf).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define N_CPUS 4

struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, N_CPUS);
    __type(key, __u32);
    __type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, N_CPUS);
    __type(key, __u32);
    __type(value, __u64);
} cpu_hits SEC(".maps");

SEC("xdp")
int xdp_cpumap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + sizeof(*eth);
    __u32 hash, cpu;
    __u64 *hits;

    if ((void *)(iph + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    hash = iph->saddr ^ iph->daddr;
    hash ^= hash >> 16;
    hash ^= hash >> 8;
    cpu = hash % N_CPUS;
    hits = bpf_map_lookup_elem(&cpu_hits, &cpu);
    if (hits)
        __sync_fetch_and_add(hits, 1);
    return bpf_redirect_map(&cpu_map, cpu, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
