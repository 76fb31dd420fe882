// SPDX-License-Identifier: MIT
// Reads max_entries and key_size of its map through the map pointer (struct bpf_map, as the
// kernel's verifier_map_ptr.c does), so the verdict depends on them: on the NIC the driver turns
// each load into the constant it reads.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 7);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int xdp_map_field(struct xdp_md *ctx)
{
    __u64 max_entries, key_size;
    __u32 key = 0;
    __u64 *n;

    /* struct bpf_map (6.18): key_size at 68, max_entries at 76 */
    asm volatile("%0 = *(u32 *)(%1 + 76)" : "=r"(max_entries) : "r"(&counts));
    asm volatile("%0 = *(u32 *)(%1 + 68)" : "=r"(key_size) : "r"(&counts));
    n = bpf_map_lookup_elem(&counts, &key);
    if (n)
        *n += max_entries * 10 + key_size;
    return ctx->data_end - ctx->data > max_entries * 20 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
