// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * IPv4 forwarding by longest-prefix match.
 *
 * The destination address is looked up in the LPM trie `routes`, which gives an index into
 * `nexthops`. A next hop says how the packet leaves:
 *   - by a port of the devmap `tx_ports` (bpf_redirect_map; a port with no device passes the
 *     packet, unmodified, to the host instead),
 *   - by an entry of the devmap hash `tx_ifs` (bpf_redirect_map; no such entry drops),
 *   - by an interface index directly (bpf_redirect),
 *   - to the host (NH_LOCAL: passes, TTL untouched), or nowhere (NH_BLACKHOLE: drops).
 * Forwarded packets get the next hop's MAC addresses and their TTL decremented with an
 * incremental checksum update (RFC 1624); a packet whose TTL would reach 0 drops.
 *
 * Headers are checked as a router does: a bad IPv4 header drops, and so does a bad header
 * checksum (verified with bpf_csum_diff); packets with IP options go to the host's slow path
 * (XDP_PASS), non-IPv4 too. No route drops. Outcomes are counted in the per-CPU array `stats`.
 *
 * Maps: routes (LPM trie), nexthops (array), tx_ports (devmap), tx_ifs (devmap hash),
 * stats (per-CPU array).
 * Helpers: map_lookup_elem, csum_diff, redirect, redirect_map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum nh_flags {
    NH_DEVMAP = 0,            /* port: a key of tx_ports */
    NH_DEVMAP_HASH = 1u << 0, /* port: a key of tx_ifs */
    NH_IFINDEX = 1u << 1,     /* port: an interface index, bpf_redirect */
    NH_LOCAL = 1u << 2,       /* deliver to the host */
    NH_BLACKHOLE = 1u << 3,
};

enum stat {
    STAT_NOT_IPV4 = 0,
    STAT_MALFORMED = 1,
    STAT_BAD_CSUM = 2,
    STAT_OPTIONS = 3,
    STAT_TTL_EXPIRED = 4,
    STAT_NO_ROUTE = 5,
    STAT_LOCAL = 6,
    STAT_BLACKHOLE = 7,
    STAT_FWD_DEVMAP = 8,
    STAT_FWD_DEVMAP_HASH = 9,
    STAT_FWD_IFINDEX = 10,
    STAT_FWD_MISS = 11, /* redirect_map found no device: default action taken */
    STAT_MAX = 12,
};

struct route_key {
    __u32 prefixlen;
    __u32 addr; /* network order */
};

struct nexthop {
    __u8 dmac[6];
    __u8 smac[6];
    __u32 port;
    __u32 flags; /* enum nh_flags */
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 256);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct route_key);
    __type(value, __u32); /* nexthops index */
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, struct nexthop);
} nexthops SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u32); /* ifindex */
} tx_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u32); /* ifindex */
} tx_ifs SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, STAT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

static __always_inline int count(__u32 stat, int verdict)
{
    __u64 *c = bpf_map_lookup_elem(&stats, &stat);
    if (c)
        *c += 1;
    return verdict;
}

static __always_inline __u16 csum_fold(__u64 s)
{
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (__u16)~s;
}

/* TTL - 1, checksum + 0x0100 in one's complement (the kernel's ip_decrease_ttl). */
static __always_inline void decrease_ttl(struct iphdr *ip)
{
    __u32 check = ip->check;
    check += bpf_htons(0x0100);
    ip->check = (__u16)(check + (check >= 0xffff));
    ip->ttl--;
}

SEC("xdp")
int xdp_router(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return count(STAT_MALFORMED, XDP_DROP);
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return count(STAT_NOT_IPV4, XDP_PASS);
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return count(STAT_MALFORMED, XDP_DROP);
    if (ip->version != 4 || ip->ihl < 5 || bpf_ntohs(ip->tot_len) < ip->ihl * 4)
        return count(STAT_MALFORMED, XDP_DROP);
    if (ip->ihl != 5)
        return count(STAT_OPTIONS, XDP_PASS);
    if (csum_fold((__u64)bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0)) != 0)
        return count(STAT_BAD_CSUM, XDP_DROP);
    if (ip->ttl <= 1)
        return count(STAT_TTL_EXPIRED, XDP_DROP);

    struct route_key rk = {.prefixlen = 32, .addr = ip->daddr};
    __u32 *nh_idx = bpf_map_lookup_elem(&routes, &rk);
    if (!nh_idx)
        return count(STAT_NO_ROUTE, XDP_DROP);
    struct nexthop *nh = bpf_map_lookup_elem(&nexthops, nh_idx);
    if (!nh)
        return count(STAT_NO_ROUTE, XDP_DROP);
    if (nh->flags & NH_LOCAL)
        return count(STAT_LOCAL, XDP_PASS);
    if (nh->flags & NH_BLACKHOLE)
        return count(STAT_BLACKHOLE, XDP_DROP);

    /* Choose the way out first: a miss leaves the packet as it came for the default action. */
    long act;
    __u32 stat;
    if (nh->flags & NH_IFINDEX) {
        act = bpf_redirect(nh->port, 0);
        stat = STAT_FWD_IFINDEX;
    } else if (nh->flags & NH_DEVMAP_HASH) {
        act = bpf_redirect_map(&tx_ifs, nh->port, XDP_DROP);
        stat = STAT_FWD_DEVMAP_HASH;
    } else {
        act = bpf_redirect_map(&tx_ports, nh->port, XDP_PASS);
        stat = STAT_FWD_DEVMAP;
    }
    if (act != XDP_REDIRECT)
        return count(STAT_FWD_MISS, act);

    decrease_ttl(ip);
    __builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
    return count(stat, XDP_REDIRECT);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
