// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: maps initialised through relocations in .maps: a program array with
// programs in its slots and an array of maps with inner maps in its slots.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps") = {
    .values = {[0] = &inner_a, [3] = &inner_b},
};

int tail_b(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __array(values, int(void *));
} jumps SEC(".maps") = {
    .values = {[1] = (void *)&tail_b},
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
    __u32 k = 0;
    void *m = bpf_map_lookup_elem(&outer, &k);

    return m ? XDP_TX : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
