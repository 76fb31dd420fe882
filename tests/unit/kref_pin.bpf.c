// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// For kref_test: a map pinned by name, which the runner must not pin unless asked to.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} nicsim_kref_pin SEC(".maps");

SEC("xdp")
int xdp_pin(struct xdp_md *ctx)
{
    __u32 zero = 0;
    __u64 *v = bpf_map_lookup_elem(&nicsim_kref_pin, &zero);
    if (v)
        *v += 1;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
