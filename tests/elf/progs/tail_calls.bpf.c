// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: a program array initialised through relocations in .rel.maps
// (`__array(values, ...)` with `.values = {...}`), slots 1 and 3 set, 0 and 2 empty.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int tail_b(struct xdp_md *ctx);
int tail_c(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, int(void *));
} jumps SEC(".maps") = {
    .values = {[1] = (void *)&tail_b, [3] = (void *)&tail_c},
};

SEC("xdp")
int tail_a(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jumps, 1);
    return XDP_PASS;
}

SEC("xdp")
int tail_b(struct xdp_md *ctx)
{
    bpf_tail_call(ctx, &jumps, 3);
    return XDP_DROP;
}

SEC("xdp/devmap")
int tail_c(struct xdp_md *ctx)
{
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
