// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: maps of maps declared in BTF, as Katran declares them: an array of
// maps whose `__array(values, struct inner_def)` gives the inner template and whose `.values`
// initialiser (relocations in .rel.maps) fills slots 0 and 2, and a hash of maps without
// initialiser, filled at run time.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct inner_def {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
};

struct inner_def inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner_def);
} outer_arr SEC(".maps") = {
    .values = {[0] = &inner_a, [2] = &inner_b},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 16);
        __type(key, __u32);
        __type(value, __u32);
    });
} outer_hash SEC(".maps");

SEC("xdp")
int xdp_mim(struct xdp_md *ctx)
{
    __u32 k = 0;
    void *in = bpf_map_lookup_elem(&outer_arr, &k);
    __u64 *v;

    if (!in)
        return XDP_PASS;
    v = bpf_map_lookup_elem(in, &k);
    if (!v)
        return XDP_PASS;
    in = bpf_map_lookup_elem(&outer_hash, &k);
    if (in && bpf_map_lookup_elem(in, &k))
        return XDP_TX;
    return *v ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
