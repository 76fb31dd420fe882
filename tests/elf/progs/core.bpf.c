// SPDX-License-Identifier: MIT
/*
 * CO-RE as a vmlinux.h-based project writes it: the kernel types are declared locally (the way
 * vmlinux.h declares them, every record marked preserve_access_index) and reached through
 * .BTF.ext CO-RE relocations, resolved at load time against the running kernel's BTF.
 *
 *   - struct xdp_md: the context itself, through CO-RE field offsets;
 *   - struct xdp_md___x: a flavor with a different local layout (rx_queue_index at 8 here, 16 in
 *     the kernel) that must be relocated onto struct xdp_md;
 *   - struct iphdr: bitfields (ihl, version) read with BPF_CORE_READ_BITFIELD (byte offset,
 *     byte size, signedness, left and right shifts);
 *   - enum xdp_action: enum value relocations; a type and a field that do not exist in any
 *     kernel (existence 0); a field that does not exist, read unguarded (the relocation that
 *     matches nothing: libbpf poisons the instruction).
 */
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u16 __sum16;
typedef __u32 __wsum;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct xdp_md {
    __u32 data;
    __u32 data_end;
    __u32 data_meta;
    __u32 ingress_ifindex;
    __u32 rx_queue_index;
    __u32 egress_ifindex;
};

struct xdp_md___x {
    __u32 data;
    __u32 data_end;
    __u32 rx_queue_index;
    __u32 no_such_field___in_any_kernel;
};

struct ethhdr {
    unsigned char h_dest[6];
    unsigned char h_source[6];
    __be16 h_proto;
};

struct iphdr {
    __u8 ihl : 4;
    __u8 version : 4;
    __u8 tos;
    __be16 tot_len;
    __be16 id;
    __be16 frag_off;
    __u8 ttl;
    __u8 protocol;
    __sum16 check;
    __be32 saddr;
    __be32 daddr;
};

struct nicsim_no_such_type___anywhere {
    int x;
};
#pragma clang attribute pop

enum xdp_action {
    XDP_ABORTED = 0,
    XDP_DROP,
    XDP_PASS,
    XDP_TX,
    XDP_REDIRECT,
};

enum nicsim_no_such_enum {
    NICSIM_NO_SUCH_VALUE = 7,
};

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#ifndef CORE_POISON
/* IPv4 with a 20-byte header: PASS; IPv4 with options: TX; not IPv4: DROP; a TTL of 1: ABORTED.
 * Every constant comes out of a CO-RE relocation. */
SEC("xdp")
int core_parse(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct xdp_md___x *old = (void *)ctx;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + bpf_core_type_size(struct ethhdr);
    __u64 ihl, version;

    if ((void *)(iph + 1) > data_end)
        return bpf_core_enum_value(enum xdp_action, XDP_DROP);
    if (eth->h_proto != __builtin_bswap16(0x0800))
        return bpf_core_enum_value(enum xdp_action, XDP_DROP);
    ihl = BPF_CORE_READ_BITFIELD(iph, ihl);
    version = BPF_CORE_READ_BITFIELD(iph, version);
    if (version != 4 || __builtin_preserve_field_info(iph->ttl, BPF_FIELD_SIGNED))
        return bpf_core_enum_value(enum xdp_action, XDP_DROP);
    if (bpf_core_type_exists(struct nicsim_no_such_type___anywhere) ||
        bpf_core_enum_value_exists(enum nicsim_no_such_enum, NICSIM_NO_SUCH_VALUE))
        return bpf_core_enum_value(enum xdp_action, XDP_DROP);
    /* guarded: the relocation matches nothing and the read is dead code */
    if (bpf_core_field_exists(old->no_such_field___in_any_kernel) &&
        old->no_such_field___in_any_kernel)
        return bpf_core_enum_value(enum xdp_action, XDP_DROP);
    if (iph->ttl == 1 && old->rx_queue_index < 0x10000)
        return bpf_core_enum_value(enum xdp_action, XDP_ABORTED);
    if (ihl != 5 && bpf_core_field_exists(old->rx_queue_index) &&
        bpf_core_enum_value_exists(enum xdp_action, XDP_TX))
        return bpf_core_enum_value(enum xdp_action, XDP_TX);
    return bpf_core_enum_value(enum xdp_action, XDP_PASS);
}
#else
/* The same unguarded: the poisoned instruction is reachable. */
SEC("xdp")
int core_poisoned(struct xdp_md *ctx)
{
    struct xdp_md___x *old = (void *)ctx;

    if (old->data_end == 0)
        return XDP_DROP;
    return old->no_such_field___in_any_kernel ? XDP_DROP : XDP_PASS;
}
#endif

char _license[] SEC("license") = "GPL";
