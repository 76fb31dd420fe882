// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Staged packet parser: one program per protocol layer, chained by tail calls.
 *
 *   xdp_parser (Ethernet, up to two VLAN tags)
 *     -> parse_ipv4 | parse_ipv6 (one hop-by-hop options header skipped)
 *          -> parse_tcp | parse_udp
 *
 * The entry stage reserves 8 bytes of XDP metadata (bpf_xdp_adjust_meta) in front of the
 * packet; each stage records there what it found (struct pkt_meta: header offsets, EtherType,
 * L4 protocol, VLAN count), and the next stage reads it instead of parsing again. The metadata
 * stays with the packet when it passes to the host (an AF_XDP or TC program could read it).
 *
 * The L4 stages send a summary of sampled packets (timestamp from bpf_ktime_get_ns, CPU,
 * addresses, ports, length) to the ring buffer `samples`; a packet is sampled when
 * bpf_get_prandom_u32() % config[0] == 0 (config[0] = 1: every packet, 0: none). A stage that
 * finds a header cut short or invalid drops the packet and reports it on the perf event array
 * `reports`, with the packet's first bytes attached. Everything else passes. Per-stage counts
 * are kept in the global array `counters` (.bss) with atomic adds.
 *
 * Maps: jmp (prog array, filled statically below), config (array), samples (ringbuf),
 * reports (perf event array); .bss (counters).
 * Helpers: tail_call, xdp_adjust_meta, map_lookup_elem, get_prandom_u32, ktime_get_ns,
 * get_smp_processor_id, xdp_get_buff_len, xdp_load_bytes, ringbuf_output, perf_event_output.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_MF        0x2000
#define IP_OFFSET    0x1fff
#define MAX_VLANS    2
#define MAX_L3_OFF   (ETH_HLEN + 4 * MAX_VLANS)
#define MAX_L4_OFF   512
#define REPORT_BYTES 64

enum stage {
    PROG_IPV4 = 0,
    PROG_IPV6 = 1,
    PROG_TCP = 2,
    PROG_UDP = 3,
    PROG_MAX = 4,
};

enum counter {
    CNT_IPV4 = 0,
    CNT_IPV6 = 1,
    CNT_OTHER_L3 = 2,
    CNT_TCP = 3,
    CNT_UDP = 4,
    CNT_OTHER_L4 = 5,
    CNT_FRAGMENT = 6,
    CNT_MALFORMED = 7,
    CNT_TAILCALL_MISS = 8,
    CNT_NO_META = 9,
    CNT_SAMPLED = 10,
    CNT_SAMPLE_LOST = 11,
    CNT_MAX = 12,
};

/* In the XDP metadata area, in front of the packet. */
struct pkt_meta {
    __u16 l3_off;   /* from the start of the packet */
    __u16 l4_off;   /* 0: not reached */
    __u16 l3_proto; /* EtherType, host order */
    __u8 l4_proto;  /* IPPROTO_*, 0: not reached */
    __u8 vlans;
};

struct sample {
    __u64 ts_ns;
    __u32 cpu;
    __u32 pkt_len;
    __u16 l3_proto;
    __u8 l4_proto;
    __u8 vlans;
    __u16 sport; /* host order */
    __u16 dport;
    __u8 saddr[16]; /* IPv4: the first 4 bytes */
    __u8 daddr[16];
};

struct report {
    __u32 stage; /* where the packet was found malformed: enum stage, PROG_MAX = Ethernet */
    __u32 pkt_len;
};

struct vlan_hdr {
    __be16 tci;
    __be16 proto;
};

struct ipv6_ext {
    __u8 nexthdr;
    __u8 hdrlen; /* 8-byte units, not counting the first 8 */
};

int parse_ipv4(struct xdp_md *ctx);
int parse_ipv6(struct xdp_md *ctx);
int parse_tcp(struct xdp_md *ctx);
int parse_udp(struct xdp_md *ctx);

/* libbpf fills the slots with the programs at load time. */
struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, PROG_MAX);
    __uint(key_size, sizeof(__u32));
    __array(values, int(struct xdp_md *));
} jmp SEC(".maps") = {
    .values =
        {
            [PROG_IPV4] = (void *)&parse_ipv4,
            [PROG_IPV6] = (void *)&parse_ipv6,
            [PROG_TCP] = (void *)&parse_tcp,
            [PROG_UDP] = (void *)&parse_udp,
        },
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32); /* [0]: sample one packet in this many; 0: none */
} config SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 64 * 1024);
} samples SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(max_entries, 128); /* one slot per CPU */
    __uint(key_size, sizeof(__u32));
    __uint(value_size, sizeof(__u32));
} reports SEC(".maps");

__u64 counters[CNT_MAX];

static __always_inline void bump(__u32 c)
{
    if (c < CNT_MAX)
        __sync_fetch_and_add(&counters[c], 1);
}

static __always_inline int malformed(struct xdp_md *ctx, __u32 stage)
{
    __u32 len = bpf_xdp_get_buff_len(ctx);
    struct report r = {.stage = stage, .pkt_len = len};
    __u64 cap = len < REPORT_BYTES ? len : REPORT_BYTES;
    bpf_perf_event_output(ctx, &reports, BPF_F_CURRENT_CPU | (cap << 32), &r, sizeof(r));
    bump(CNT_MALFORMED);
    return XDP_DROP;
}

/* The metadata, or NULL when it is not there (a stage run without the entry stage). */
static __always_inline struct pkt_meta *get_meta(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    struct pkt_meta *m = (void *)(long)ctx->data_meta;
    if ((void *)(m + 1) > data)
        return NULL;
    return m;
}

static __always_inline int next_stage(struct xdp_md *ctx, __u32 prog)
{
    bpf_tail_call(ctx, &jmp, prog);
    bump(CNT_TAILCALL_MISS); /* the slot is empty */
    return XDP_PASS;
}

SEC("xdp")
int xdp_parser(struct xdp_md *ctx)
{
    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct pkt_meta))) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct pkt_meta *m = get_meta(ctx);
    if (!m) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > data_end)
        return malformed(ctx, PROG_MAX);
    __u16 proto = eth->h_proto;
    __u32 off = sizeof(*eth);
    __u8 vlans = 0;
#pragma unroll
    for (int i = 0; i < MAX_VLANS; i++) {
        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        struct vlan_hdr *vh = data + off;
        if ((void *)(vh + 1) > data_end)
            return malformed(ctx, PROG_MAX);
        proto = vh->proto;
        off += sizeof(*vh);
        vlans++;
    }
    m->l3_off = off;
    m->l4_off = 0;
    m->l3_proto = bpf_ntohs(proto);
    m->l4_proto = 0;
    m->vlans = vlans;

    if (proto == bpf_htons(ETH_P_IP)) {
        bump(CNT_IPV4);
        return next_stage(ctx, PROG_IPV4);
    }
    if (proto == bpf_htons(ETH_P_IPV6)) {
        bump(CNT_IPV6);
        return next_stage(ctx, PROG_IPV6);
    }
    bump(CNT_OTHER_L3);
    return XDP_PASS;
}

static __always_inline int to_l4(struct xdp_md *ctx, __u8 proto)
{
    if (proto == IPPROTO_TCP)
        return next_stage(ctx, PROG_TCP);
    if (proto == IPPROTO_UDP)
        return next_stage(ctx, PROG_UDP);
    bump(CNT_OTHER_L4);
    return XDP_PASS;
}

SEC("xdp")
int parse_ipv4(struct xdp_md *ctx)
{
    struct pkt_meta *m = get_meta(ctx);
    if (!m) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 off = m->l3_off;
    if (off > MAX_L3_OFF)
        return malformed(ctx, PROG_IPV4);
    struct iphdr *ip = data + off;
    if ((void *)(ip + 1) > data_end)
        return malformed(ctx, PROG_IPV4);
    __u32 ihl = ip->ihl * 4;
    if (ip->version != 4 || ihl < sizeof(*ip) || bpf_ntohs(ip->tot_len) < ihl)
        return malformed(ctx, PROG_IPV4);
    m->l4_proto = ip->protocol;
    if (ip->frag_off & bpf_htons(IP_OFFSET)) {
        bump(CNT_FRAGMENT); /* a later fragment: no L4 header in it */
        return XDP_PASS;
    }
    m->l4_off = off + ihl;
    return to_l4(ctx, ip->protocol);
}

SEC("xdp")
int parse_ipv6(struct xdp_md *ctx)
{
    struct pkt_meta *m = get_meta(ctx);
    if (!m) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 off = m->l3_off;
    if (off > MAX_L3_OFF)
        return malformed(ctx, PROG_IPV6);
    struct ipv6hdr *ip6 = data + off;
    if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
        return malformed(ctx, PROG_IPV6);
    __u8 next = ip6->nexthdr;
    __u32 l4 = off + sizeof(*ip6);
    if (next == IPPROTO_HOPOPTS) {
        struct ipv6_ext *ext = (void *)(ip6 + 1);
        if ((void *)(ext + 1) > data_end)
            return malformed(ctx, PROG_IPV6);
        next = ext->nexthdr;
        l4 += (ext->hdrlen + 1) * 8;
    }
    m->l4_off = l4;
    m->l4_proto = next;
    return to_l4(ctx, next);
}

/* Sends a summary of the packet to `samples` if it is sampled. */
static __always_inline void sample(struct xdp_md *ctx, const struct pkt_meta *m, __u16 sport,
                                   __u16 dport)
{
    __u32 zero = 0;
    __u32 *rate = bpf_map_lookup_elem(&config, &zero);
    if (!rate || *rate == 0 || bpf_get_prandom_u32() % *rate != 0)
        return;
    struct sample s = {
        .ts_ns = bpf_ktime_get_ns(),
        .cpu = bpf_get_smp_processor_id(),
        .pkt_len = bpf_xdp_get_buff_len(ctx),
        .l3_proto = m->l3_proto,
        .l4_proto = m->l4_proto,
        .vlans = m->vlans,
        .sport = sport,
        .dport = dport,
    };
    __u32 l3 = m->l3_off;
    if (m->l3_proto == ETH_P_IP) {
        bpf_xdp_load_bytes(ctx, l3 + offsetof(struct iphdr, saddr), s.saddr, 4);
        bpf_xdp_load_bytes(ctx, l3 + offsetof(struct iphdr, daddr), s.daddr, 4);
    } else {
        bpf_xdp_load_bytes(ctx, l3 + offsetof(struct ipv6hdr, saddr), s.saddr, 16);
        bpf_xdp_load_bytes(ctx, l3 + offsetof(struct ipv6hdr, daddr), s.daddr, 16);
    }
    if (bpf_ringbuf_output(&samples, &s, sizeof(s), 0))
        bump(CNT_SAMPLE_LOST);
    else
        bump(CNT_SAMPLED);
}

SEC("xdp")
int parse_tcp(struct xdp_md *ctx)
{
    struct pkt_meta *m = get_meta(ctx);
    if (!m) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 off = m->l4_off;
    if (off > MAX_L4_OFF)
        return malformed(ctx, PROG_TCP);
    struct tcphdr *tcp = data + off;
    if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
        return malformed(ctx, PROG_TCP);
    bump(CNT_TCP);
    sample(ctx, m, bpf_ntohs(tcp->source), bpf_ntohs(tcp->dest));
    return XDP_PASS;
}

SEC("xdp")
int parse_udp(struct xdp_md *ctx)
{
    struct pkt_meta *m = get_meta(ctx);
    if (!m) {
        bump(CNT_NO_META);
        return XDP_PASS;
    }
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 off = m->l4_off;
    if (off > MAX_L4_OFF)
        return malformed(ctx, PROG_UDP);
    struct udphdr *udp = data + off;
    if ((void *)(udp + 1) > data_end || bpf_ntohs(udp->len) < sizeof(*udp))
        return malformed(ctx, PROG_UDP);
    bump(CNT_UDP);
    sample(ctx, m, bpf_ntohs(udp->source), bpf_ntohs(udp->dest));
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
