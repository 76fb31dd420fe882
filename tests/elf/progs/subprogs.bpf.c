// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: several programs per section, subprograms in .text (global noinline,
// static __noinline, nested, shared between programs) and program types from section names.
// (A callback passed by address, lddw src 4, is refused: see refused.bpf.c, USE_CALLBACK.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

__u64 total = 0;

static __noinline __u64 bump(__u32 slot)
{
    __u64 *v = bpf_map_lookup_elem(&hits, &slot);
    if (!v)
        return 0;
    *v += 1;
    total += 1;
    return *v;
}

static __noinline int classify(__u32 len)
{
    if (len > 1000)
        return bump(1) > 5 ? XDP_DROP : XDP_PASS;
    return (int)bump(0) & 1 ? XDP_PASS : XDP_TX;
}

__attribute__((noinline)) int global_len(struct xdp_md *ctx)
{
    if (!ctx)
        return 0;
    return (int)(ctx->data_end - ctx->data);
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx)
{
    return classify((__u32)global_len(ctx));
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx)
{
    return global_len(ctx) > 64 ? (int)bump(2) & 3 : XDP_ABORTED;
}

SEC("xdp.frags")
int xdp_frags_prog(struct xdp_md *ctx)
{
    return global_len(ctx) > 0 ? XDP_PASS : XDP_DROP;
}

SEC("xdp/devmap")
int xdp_devmap_prog(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("xdp/custom_hook")
int xdp_custom(struct xdp_md *ctx)
{
    return bump(3) ? XDP_PASS : XDP_DROP;
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
    return skb->len > 100 ? 2 : 0;
}

SEC("classifier")
int cls_prog(struct __sk_buff *skb)
{
    return 0;
}

SEC("socket")
int sock_prog(struct __sk_buff *skb)
{
    return 0;
}

SEC("?xdp")
int xdp_optional(struct xdp_md *ctx)
{
    return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_write")
int tp_prog(void *ctx)
{
    return 0;
}

SEC("nicsim_unknown")
int unknown_prog(void *ctx)
{
    return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
