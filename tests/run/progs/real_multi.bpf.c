// SPDX-License-Identifier: MIT
// Several programs in one object, the way real projects write them (issue 8, items 2-4):
//  - legacy section names libbpf cannot type: SEC("xdp_icmp") as samples/bpf's xdp_icmp, SEC("prog")
//    as older samples, SEC("xdp-test"); function names of 16+ characters as xdp-tutorial's
//    xdp_*_func and Katran's balancer_ingress;
//  - a tail call into another legacy-section program through a prog array (--prog-array);
//  - a TC program calling a kfunc, which the NIC cannot run and which must not block the others.
// Built as those projects build: clang -O2 -g -target bpf.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} rxcnt SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} jmp_table SEC(".maps");

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static __always_inline int ip_proto(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + sizeof(*eth);

    if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return -1;
    return iph->protocol;
}

/* counts packets per IP protocol, then hands them to jmp_table[0] */
SEC("xdp_icmp")
int xdp_count_protocol_func(struct xdp_md *ctx)
{
    int proto = ip_proto(ctx);
    __u32 key = proto < 0 ? 255 : (__u32)proto;
    __u64 *cnt = bpf_map_lookup_elem(&rxcnt, &key);

    if (cnt)
        __sync_fetch_and_add(cnt, 1);
    bpf_tail_call(ctx, &jmp_table, 0);
    return XDP_PASS;
}

/* the tail-call target: UDP is dropped */
SEC("xdp-test")
int xdp_drop_udp_tail_func(struct xdp_md *ctx)
{
    return ip_proto(ctx) == IPPROTO_UDP ? XDP_DROP : XDP_PASS;
}

/* another program of the object, never chosen in the tests */
SEC("prog")
int xdp_bounce_everything(struct xdp_md *ctx)
{
    return XDP_TX;
}

/* a TC program with a kfunc call: the NIC cannot load it, the kernel must not need to */
SEC("tc")
int tc_rcu_kfunc_user(struct __sk_buff *skb)
{
    bpf_rcu_read_lock();
    bpf_rcu_read_unlock();
    return 0;
}

char _license[] SEC("license") = "GPL";
