// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object for the refusals: one feature per variant, selected with -D. Without
// any of them it is a plain program that uses no map at all (which must load).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#if defined(USE_CORE)
/* a local definition with CO-RE relocations on every field access */
struct iphdr {
    __u8 ihl_version;
    __u8 tos;
    __u16 tot_len;
} __attribute__((preserve_access_index));
#elif defined(USE_KFUNC)
extern void bpf_rcu_read_lock(void) __ksym;
#elif defined(USE_KSYM)
extern const int bpf_prog_active __ksym;
#elif defined(USE_KCONFIG)
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
#elif defined(USE_CALLBACK)
static int loop_cb(__u32 index, void *data)
{
    *(__u64 *)data += index;
    return 0;
}
#elif defined(USE_MAP_IN_MAP)
/* a map of maps of maps: the kernel refuses an inner map that holds maps (bpf_map_meta_alloc) */
struct inner0 {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
};

struct inner {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 1);
    __type(key, __u32);
    __array(values, struct inner0);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner);
} outer SEC(".maps");
#endif

SEC("xdp")
int xdp_refused(struct xdp_md *ctx)
{
    int r = XDP_PASS;
#if defined(USE_CORE)
    struct iphdr *iph = (void *)(long)ctx->data;

    if ((void *)(iph + 1) > (void *)(long)ctx->data_end)
        return XDP_DROP;
    r = iph->tot_len > 100 ? XDP_PASS : XDP_DROP;
#elif defined(USE_KFUNC)
    bpf_rcu_read_lock();
#elif defined(USE_KSYM)
    r = (int)(long)&bpf_prog_active;
#elif defined(USE_KCONFIG)
    r = LINUX_KERNEL_VERSION > 0x050000 ? XDP_PASS : XDP_DROP;
#elif defined(USE_CALLBACK)
    __u64 acc = 0;

    bpf_loop(4, loop_cb, &acc, 0);
    r = acc == 6 ? XDP_PASS : XDP_DROP;
#elif defined(USE_MAP_IN_MAP)
    __u32 k = 0;

    r = bpf_map_lookup_elem(&outer, &k) ? XDP_TX : XDP_PASS;
#endif
    return r;
}

#if defined(USE_STATIC_PROG)
/* a static function in a program section: libbpf refuses these too */
SEC("xdp")
static __attribute__((used)) int xdp_static(struct xdp_md *ctx)
{
    return XDP_DROP;
}
#endif

char LICENSE[] SEC("license") = "GPL";
