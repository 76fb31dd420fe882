// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: legacy map definitions in the "maps" section. EXT_DEF selects the
// iproute2 layout (struct bpf_elf_map, with id/pinning/inner fields); PINNED sets its pinning.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifdef EXT_DEF
struct bpf_elf_map {
    __u32 type;
    __u32 size_key;
    __u32 size_value;
    __u32 max_elem;
    __u32 flags;
    __u32 id;
    __u32 pinning;
    __u32 inner_id;
    __u32 inner_idx;
};
#ifdef PINNED
#define PIN 2
#else
#define PIN 0
#endif
#define MAP(name, t, k, v, n, f) struct bpf_elf_map SEC("maps") name = {t, k, v, n, f, 0, PIN, 0, 0}
#else
struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};
#define MAP(name, t, k, v, n, f) struct bpf_map_def SEC("maps") name = {t, k, v, n, f}
#endif

MAP(legacy_hash, BPF_MAP_TYPE_HASH, 4, 8, 128, 0);
MAP(legacy_array, BPF_MAP_TYPE_ARRAY, 4, 16, 10, 0);
MAP(legacy_lru, BPF_MAP_TYPE_LRU_HASH, 8, 8, 256, BPF_F_NO_COMMON_LRU);

__u32 seen;

SEC("xdp")
int xdp_legacy(struct xdp_md *ctx)
{
    __u32 k = 0;
    __u64 *v = bpf_map_lookup_elem(&legacy_hash, &k);

    if (v)
        (*v)++;
    if (bpf_map_lookup_elem(&legacy_array, &k))
        seen++;
    return bpf_map_lookup_elem(&legacy_lru, &k) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
