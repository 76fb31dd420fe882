// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: BTF-defined maps (.maps) of many kinds and attribute spellings
// (maps of maps: map_in_map.bpf.c).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
};

struct flow_val {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow_key);
    __type(value, struct flow_val);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 24);
    __uint(max_entries, 8);
} sized SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} pcpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 512);
    __uint(map_flags, BPF_F_NO_COMMON_LRU);
    __type(key, __u64);
    __type(value, __u32);
} lru SEC(".maps");

struct lpm_key {
    __u32 prefixlen;
    __u8 addr[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 64);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key);
    __type(value, __u32);
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u32);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16384);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 100);
    __uint(map_extra, 3);
    __type(value, __u32);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 32);
    __uint(numa_node, 0);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
    __type(key, __u32);
    __type(value, __u32);
} pinned SEC(".maps");

SEC("xdp")
int xdp_maps(struct xdp_md *ctx)
{
    struct flow_key k = {};
    struct flow_val *v;
    __u32 zero = 0;
    __u64 *c;

    v = bpf_map_lookup_elem(&flows, &k);
    if (v)
        v->packets++;
    c = bpf_map_lookup_elem(&pcpu, &zero);
    if (c)
        (*c)++;
    if (bpf_map_lookup_elem(&sized, &zero))
        return XDP_DROP;
    if (bpf_map_peek_elem(&bloom, &zero) == 0)
        return XDP_DROP;
    if (bpf_map_lookup_elem(&pinned, &zero))
        return bpf_redirect_map(&xsks, 0, XDP_PASS);
    return bpf_redirect_map(&ports, 1, XDP_PASS);
}

SEC("xdp")
int xdp_events(struct xdp_md *ctx)
{
    __u64 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    __u32 key = 1;

    if (bpf_map_lookup_elem(&lru, &key) || bpf_map_lookup_elem(&routes, &key))
        key = 2;
    if (!e)
        return XDP_PASS;
    *e = key;
    bpf_ringbuf_submit(e, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x050a00;
