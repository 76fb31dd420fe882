// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
/*
 * Stateful IPv4 firewall.
 *
 * A new TCP or UDP flow is let in when a rule in `rules` allows its destination (address, port,
 * protocol; address 0 is any address); a new TCP flow must open with a bare SYN. The flow is
 * then remembered in the LRU hash `flows`, and later packets of either direction pass without a
 * rule lookup. A RST from either side forgets the flow; a FIN marks it closing. Invalid TCP flag
 * combinations (SYN+FIN, SYN+RST, no flags, FIN+PSH+URG "xmas") are dropped, flow or no flow.
 * ICMP passes when the load-time constant allow_icmp is set; other IP protocols, IP fragments and
 * malformed headers are dropped; non-IPv4 traffic passes. Every decision is counted in the
 * per-CPU array `stats`.
 *
 * Maps: flows (LRU hash), rules (hash), stats (per-CPU array); .rodata (allow_icmp).
 * Helpers: map_lookup_elem, map_update_elem, map_delete_elem, ktime_get_ns.
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

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

enum stat {
    STAT_NOT_IPV4 = 0,
    STAT_MALFORMED = 1,
    STAT_FRAGMENT = 2,
    STAT_ICMP = 3,
    STAT_ICMP_DENIED = 4,
    STAT_OTHER_PROTO = 5,
    STAT_BAD_FLAGS = 6,
    STAT_NOT_SYN = 7,
    STAT_NO_RULE = 8,
    STAT_DENIED = 9,
    STAT_NEW_FLOW = 10,
    STAT_ESTABLISHED = 11,
    STAT_REPLY = 12,
    STAT_CLOSED = 13,
    STAT_MAX = 14,
};

enum flow_state {
    FLOW_SYN_SENT = 1,
    FLOW_ESTABLISHED = 2,
    FLOW_CLOSING = 3,
    FLOW_UDP = 4,
};

struct flow_key {
    __u32 saddr; /* network order, as on the wire; so are the ports */
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct flow {
    __u64 last_seen_ns;
    __u64 packets; /* both directions */
    __u64 bytes;   /* IP bytes, both directions */
    __u32 state;   /* enum flow_state */
    __u32 pad;
};

struct rule_key {
    __u32 daddr; /* 0: any destination address */
    __u16 dport; /* network order */
    __u8 proto;
    __u8 pad;
};

enum rule_action {
    RULE_ALLOW = 1,
    RULE_DENY = 2,
};

struct rule {
    __u32 id;
    __u32 action; /* enum rule_action */
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 4096);
    __type(key, struct flow_key);
    __type(value, struct flow);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct rule_key);
    __type(value, struct rule);
} rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, STAT_MAX);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

/* Set by the loader before load (libbpf: .rodata). */
const volatile __u8 allow_icmp = 1;

static __always_inline int count(__u32 stat, int verdict)
{
    __u64 *c = bpf_map_lookup_elem(&stats, &stat);
    if (c)
        *c += 1;
    return verdict;
}

static __always_inline void touch(struct flow *f, __u32 ip_bytes)
{
    f->last_seen_ns = bpf_ktime_get_ns();
    f->packets += 1;
    f->bytes += ip_bytes;
}

static __always_inline int bad_tcp_flags(__u8 fl)
{
    if ((fl & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
        return 1;
    if ((fl & (TCP_SYN | TCP_RST)) == (TCP_SYN | TCP_RST))
        return 1;
    if (fl == 0)
        return 1;
    if ((fl & (TCP_FIN | TCP_PSH | TCP_URG)) == (TCP_FIN | TCP_PSH | TCP_URG))
        return 1;
    return 0;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
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
    __u32 ihl = ip->ihl * 4;
    if (ip->version != 4 || ihl < sizeof(*ip) || (void *)ip + ihl > data_end ||
        bpf_ntohs(ip->tot_len) < ihl)
        return count(STAT_MALFORMED, XDP_DROP);
    if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
        return count(STAT_FRAGMENT, XDP_DROP);

    if (ip->protocol == IPPROTO_ICMP)
        return allow_icmp ? count(STAT_ICMP, XDP_PASS) : count(STAT_ICMP_DENIED, XDP_DROP);
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return count(STAT_OTHER_PROTO, XDP_DROP);

    struct flow_key key = {.saddr = ip->saddr, .daddr = ip->daddr, .proto = ip->protocol};
    __u8 flags = 0;
    void *l4 = (void *)ip + ihl;
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = l4;
        if ((void *)(tcp + 1) > data_end || tcp->doff < 5)
            return count(STAT_MALFORMED, XDP_DROP);
        key.sport = tcp->source;
        key.dport = tcp->dest;
        flags = ((__u8 *)tcp)[13];
        if (bad_tcp_flags(flags))
            return count(STAT_BAD_FLAGS, XDP_DROP);
    } else {
        struct udphdr *udp = l4;
        if ((void *)(udp + 1) > data_end)
            return count(STAT_MALFORMED, XDP_DROP);
        key.sport = udp->source;
        key.dport = udp->dest;
    }
    __u32 ip_bytes = bpf_ntohs(ip->tot_len);
    int tcp = ip->protocol == IPPROTO_TCP;

    /* A packet of a flow this side opened. */
    struct flow *f = bpf_map_lookup_elem(&flows, &key);
    if (f) {
        if (tcp && (flags & TCP_RST)) {
            bpf_map_delete_elem(&flows, &key);
            return count(STAT_CLOSED, XDP_PASS);
        }
        if (tcp && (flags & TCP_FIN))
            f->state = FLOW_CLOSING;
        touch(f, ip_bytes);
        return count(STAT_ESTABLISHED, XDP_PASS);
    }

    /* A reply: the flow was opened from the other side. */
    struct flow_key rev = {.saddr = key.daddr,
                           .daddr = key.saddr,
                           .sport = key.dport,
                           .dport = key.sport,
                           .proto = key.proto};
    f = bpf_map_lookup_elem(&flows, &rev);
    if (f) {
        if (tcp && (flags & TCP_RST)) {
            bpf_map_delete_elem(&flows, &rev);
            return count(STAT_CLOSED, XDP_PASS);
        }
        if (tcp && (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
            f->state == FLOW_SYN_SENT)
            f->state = FLOW_ESTABLISHED;
        if (tcp && (flags & TCP_FIN))
            f->state = FLOW_CLOSING;
        touch(f, ip_bytes);
        return count(STAT_REPLY, XDP_PASS);
    }

    /* A new flow. */
    if (tcp && (flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
        return count(STAT_NOT_SYN, XDP_DROP);
    struct rule_key rk = {.daddr = key.daddr, .dport = key.dport, .proto = key.proto};
    struct rule *r = bpf_map_lookup_elem(&rules, &rk);
    if (!r) {
        rk.daddr = 0;
        r = bpf_map_lookup_elem(&rules, &rk);
    }
    if (!r)
        return count(STAT_NO_RULE, XDP_DROP);
    if (r->action != RULE_ALLOW)
        return count(STAT_DENIED, XDP_DROP);

    struct flow nf = {.last_seen_ns = bpf_ktime_get_ns(),
                      .packets = 1,
                      .bytes = ip_bytes,
                      .state = tcp ? FLOW_SYN_SENT : FLOW_UDP};
    bpf_map_update_elem(&flows, &key, &nf, BPF_NOEXIST);
    return count(STAT_NEW_FLOW, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
