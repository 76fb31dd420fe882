// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Layer-4 load balancer for IPv4 TCP and UDP.
 *
 * A packet to a virtual service (VIP: address, port, protocol in `vips`) goes to one of the
 * service's backends, `backends[first .. first + count)`: the first packet of a connection picks
 * one by a hash of its 5-tuple, and the per-CPU LRU table `conns` keeps later packets of the
 * connection on it. The packet is rewritten in place (destination IP = the backend's, source
 * MAC = the MAC it was sent to, destination MAC = the backend's), the IP and TCP/UDP checksums
 * are updated incrementally with bpf_csum_diff, and it leaves by the port it came in on
 * (XDP_TX). Packets and bytes per VIP go to the per-CPU hash `vip_stats`.
 *
 * Other traffic passes to the host; fragments too (their ports are not known). A VIP with no
 * backends, or whose backend slot is empty, drops; so do malformed headers.
 *
 * Maps: vips (hash), backends (array), conns (LRU per-CPU hash), vip_stats (per-CPU hash).
 * Helpers: map_lookup_elem, map_update_elem, csum_diff.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

struct vip_key {
    __u32 addr; /* network order */
    __u16 port; /* network order */
    __u8 proto;
    __u8 pad;
};

struct vip {
    __u32 first; /* backends[first .. first + count) */
    __u32 count;
};

struct backend {
    __u32 addr; /* network order; 0: empty slot */
    __u8 mac[6];
    __u16 pad;
};

struct conn_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct vip_counters {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct vip_key);
    __type(value, struct vip);
} vips SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, struct backend);
} backends SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct conn_key);
    __type(value, __u32); /* backend index + 1 */
} conns SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, struct vip_key);
    __type(value, struct vip_counters);
} vip_stats SEC(".maps");

static __always_inline __u16 csum_fold(__u64 s)
{
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (__u16)~s;
}

/* The checksum `check` over data in which the 4 bytes `from` became `to` (RFC 1624). */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
    __s64 d = bpf_csum_diff(&from, sizeof(from), &to, sizeof(to), ~check & 0xffff);
    return csum_fold((__u64)d);
}

/* The 5-tuple hash a connection's backend is chosen by. Fields are taken as the little-endian
 * CPU loads them from the wire; the trace generator computes the same. */
static __always_inline __u32 conn_hash(const struct conn_key *k)
{
    __u32 h = k->saddr ^ k->daddr;
    h ^= ((__u32)k->sport << 16) | k->dport;
    h ^= k->proto;
    h *= 0x9e3779b1u;
    h ^= h >> 16;
    return h;
}

SEC("xdp")
int xdp_l4lb(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    __u32 ihl = ip->ihl * 4;
    if (ip->version != 4 || ihl < sizeof(*ip) || (void *)ip + ihl > data_end)
        return XDP_DROP;
    if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
        return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return XDP_PASS;

    void *l4 = (void *)ip + ihl;
    struct conn_key ck = {.saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol};
    __u16 *l4check; /* the TCP or UDP checksum field */
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end)
            return XDP_DROP;
        ck.sport = tcp->source;
        ck.dport = tcp->dest;
        l4check = &tcp->check;
    } else {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return XDP_DROP;
        ck.sport = udp->source;
        ck.dport = udp->dest;
        l4check = &udp->check;
    }

    struct vip_key vk = {.addr = ip->daddr, .port = ck.dport, .proto = ck.proto};
    struct vip *v = bpf_map_lookup_elem(&vips, &vk);
    if (!v)
        return XDP_PASS;

    struct vip_counters *st = bpf_map_lookup_elem(&vip_stats, &vk);
    if (st) {
        st->packets += 1;
        st->bytes += bpf_ntohs(ip->tot_len);
    } else {
        struct vip_counters init = {.packets = 1, .bytes = bpf_ntohs(ip->tot_len)};
        bpf_map_update_elem(&vip_stats, &vk, &init, BPF_NOEXIST);
    }

    __u32 count = v->count;
    if (count == 0)
        return XDP_DROP;
    /* conns holds backend index + 1 for the CPU that saw the connection; 0 (the value another
     * CPU finds for a key it did not insert) means "not known here": hash again. */
    __u32 idx;
    __u32 *known = bpf_map_lookup_elem(&conns, &ck);
    if (known && *known) {
        idx = *known - 1;
    } else {
        idx = v->first + conn_hash(&ck) % count;
        __u32 stored = idx + 1;
        bpf_map_update_elem(&conns, &ck, &stored, BPF_ANY);
    }
    struct backend *be = bpf_map_lookup_elem(&backends, &idx);
    if (!be || be->addr == 0)
        return XDP_DROP;

    __u32 old_daddr = ip->daddr;
    __u32 new_daddr = be->addr;
    ip->daddr = new_daddr;
    ip->check = csum_replace4(ip->check, old_daddr, new_daddr);
    /* The destination address is part of the TCP/UDP pseudo-header. */
    if (ck.proto == IPPROTO_TCP) {
        *l4check = csum_replace4(*l4check, old_daddr, new_daddr);
    } else if (*l4check) { /* UDP checksum 0: none */
        __u16 c = csum_replace4(*l4check, old_daddr, new_daddr);
        *l4check = c ? c : 0xffff;
    }

    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
    return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
