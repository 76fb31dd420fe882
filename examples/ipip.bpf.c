// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * IP-in-IP tunnel endpoint (RFC 2003) for IPv4.
 *
 * Encapsulation: an IPv4 packet whose destination has an entry in `tunnels` gets an outer IPv4
 * header (from the tunnel's local to its remote address, protocol 4, TTL 64, TOS and DF copied
 * from the inner header, checksum computed with bpf_csum_diff) in front of it, new Ethernet
 * addresses from the tunnel entry, and leaves by the port it came in on (XDP_TX). Room for the
 * outer header comes from bpf_xdp_adjust_head. A packet whose outer form would exceed the
 * tunnel MTU (1500) drops.
 *
 * Decapsulation: an IPIP packet to one of our addresses (`endpoints`) loses its outer header
 * and passes to the host as the inner packet; its inner header must be a whole IPv4 header.
 *
 * Both directions first trim Ethernet padding past the IP datagram's total length
 * (bpf_xdp_adjust_tail), and copy headers with bpf_xdp_load_bytes/bpf_xdp_store_bytes rather
 * than through packet pointers. Everything else passes untouched. Outcomes are counted in the
 * array `counters` with atomic adds (one copy shared by all CPUs).
 *
 * Maps: tunnels (hash), endpoints (hash), counters (array).
 * Helpers: map_lookup_elem, csum_diff, xdp_adjust_head, xdp_adjust_tail, xdp_get_buff_len,
 * xdp_load_bytes, xdp_store_bytes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_DF      0x4000
#define TUNNEL_MTU 1500
#define OUTER_TTL  64

enum counter {
    C_ENCAP = 0,
    C_DECAP = 1,
    C_PASS = 2,        /* not IPv4, or no tunnel for it */
    C_MALFORMED = 3,   /* bad outer/plain IPv4 header, or shorter than its total length */
    C_BAD_INNER = 4,   /* IPIP for us whose inner packet is not a whole IPv4 header */
    C_TOO_BIG = 5,     /* would exceed the tunnel MTU */
    C_TRIMMED = 6,     /* had Ethernet padding removed */
    C_ADJUST_FAIL = 7, /* bpf_xdp_adjust_head/tail refused */
    C_MAX = 8,
};

struct tunnel {
    __u32 local;  /* outer source, network order */
    __u32 remote; /* outer destination */
    __u8 dmac[6]; /* next hop towards remote */
    __u8 smac[6]; /* our port's MAC */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32); /* inner destination address, network order */
    __type(value, struct tunnel);
} tunnels SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);   /* a local address that terminates tunnels */
    __type(value, __u32); /* tunnel id, informational */
} endpoints SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, C_MAX);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

static __always_inline int count(__u32 c, int verdict)
{
    __u64 *v = bpf_map_lookup_elem(&counters, &c);
    if (v)
        __sync_fetch_and_add(v, 1);
    return verdict;
}

static __always_inline __u16 csum_fold(__u64 s)
{
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (__u16)~s;
}

/* Removes bytes past ETH_HLEN + ip_len (Ethernet padding). 0, or -1 when the packet is shorter
 * than that or the kernel refuses. */
static __always_inline int trim_to(struct xdp_md *ctx, __u32 ip_len)
{
    __u32 want = ETH_HLEN + ip_len;
    __u32 have = bpf_xdp_get_buff_len(ctx);
    if (have < want)
        return -1;
    if (have == want)
        return 0;
    if (bpf_xdp_adjust_tail(ctx, -(int)(have - want)))
        return -1;
    count(C_TRIMMED, 0);
    return 0;
}

static __always_inline int decap(struct xdp_md *ctx, __u32 outer_len, __u32 outer_tot)
{
    struct iphdr inner;
    if (outer_tot < outer_len + sizeof(inner))
        return count(C_BAD_INNER, XDP_DROP);
    if (bpf_xdp_load_bytes(ctx, ETH_HLEN + outer_len, &inner, sizeof(inner)))
        return count(C_BAD_INNER, XDP_DROP);
    if (inner.version != 4 || inner.ihl < 5 || bpf_ntohs(inner.tot_len) != outer_tot - outer_len)
        return count(C_BAD_INNER, XDP_DROP);
    if (trim_to(ctx, outer_tot))
        return count(C_MALFORMED, XDP_DROP);

    struct ethhdr eth;
    if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)))
        return count(C_MALFORMED, XDP_DROP);
    if (bpf_xdp_adjust_head(ctx, (int)outer_len))
        return count(C_ADJUST_FAIL, XDP_DROP);
    if (bpf_xdp_store_bytes(ctx, 0, &eth, sizeof(eth)))
        return count(C_ADJUST_FAIL, XDP_DROP);
    return count(C_DECAP, XDP_PASS);
}

static __always_inline int encap(struct xdp_md *ctx, const struct tunnel *t,
                                 const struct iphdr *inner_hdr, __u32 inner_tot)
{
    if (inner_tot + sizeof(struct iphdr) > TUNNEL_MTU)
        return count(C_TOO_BIG, XDP_DROP);

    struct iphdr outer = {
        .version = 4,
        .ihl = 5,
        .tos = inner_hdr->tos,
        .tot_len = bpf_htons(inner_tot + sizeof(struct iphdr)),
        .id = 0,
        .frag_off = inner_hdr->frag_off & bpf_htons(IP_DF),
        .ttl = OUTER_TTL,
        .protocol = IPPROTO_IPIP,
        .check = 0,
        .saddr = t->local,
        .daddr = t->remote,
    };
    outer.check = csum_fold((__u64)bpf_csum_diff(0, 0, (__be32 *)&outer, sizeof(outer), 0));

    struct ethhdr eth = {.h_proto = bpf_htons(ETH_P_IP)};
    __builtin_memcpy(eth.h_dest, t->dmac, ETH_ALEN);
    __builtin_memcpy(eth.h_source, t->smac, ETH_ALEN);

    if (trim_to(ctx, inner_tot))
        return count(C_MALFORMED, XDP_DROP);
    if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
        return count(C_ADJUST_FAIL, XDP_DROP);
    if (bpf_xdp_store_bytes(ctx, 0, &eth, sizeof(eth)) ||
        bpf_xdp_store_bytes(ctx, ETH_HLEN, &outer, sizeof(outer)))
        return count(C_ADJUST_FAIL, XDP_DROP);
    return count(C_ENCAP, XDP_TX);
}

SEC("xdp")
int xdp_ipip(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return count(C_MALFORMED, XDP_DROP);
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return count(C_PASS, XDP_PASS);
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return count(C_MALFORMED, XDP_DROP);
    __u32 ihl = ip->ihl * 4;
    __u32 tot = bpf_ntohs(ip->tot_len);
    if (ip->version != 4 || ihl < sizeof(*ip) || tot < ihl)
        return count(C_MALFORMED, XDP_DROP);

    if (ip->protocol == IPPROTO_IPIP) {
        __u32 daddr = ip->daddr;
        if (bpf_map_lookup_elem(&endpoints, &daddr))
            return decap(ctx, ihl, tot);
    }
    __u32 daddr = ip->daddr;
    struct tunnel *t = bpf_map_lookup_elem(&tunnels, &daddr);
    if (!t)
        return count(C_PASS, XDP_PASS);
    struct iphdr inner = *ip; /* packet pointers die at the first adjust */
    return encap(ctx, t, &inner, tot);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
