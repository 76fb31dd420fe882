// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object: every kind of global data: .data, .rodata, .bss, custom .data.* and
// .rodata.* sections, string literals (.rodata.str1.1), static and hidden variables.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define __hidden __attribute__((visibility("hidden")))

volatile const __u32 cfg_port = 4789;                /* .rodata */
volatile const __u8 cfg_mac[6] = {2, 0, 0, 0, 0, 1}; /* .rodata */
__u64 pkt_count = 7;                                 /* .data */
__u32 drop_count;                                    /* .bss */
static __u32 static_seen;                            /* .bss, section-relative reference */
static __u64 static_init = 0x1122334455667788ULL;    /* .data, section-relative reference */
__hidden __u32 hidden_flag = 1;                      /* .data, hidden */
__u64 custom_counters[4] SEC(".data.counters") = {1, 2, 3, 4};
volatile const __u32 custom_table[3] SEC(".rodata.table") = {10, 20, 30};
__u8 scratch[64] SEC(".bss.scratch");

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
    __u32 len = ctx->data_end - ctx->data;

    pkt_count++;
    static_init ^= len;
    custom_counters[len & 3]++;
    scratch[len & 63] = (__u8)len;
    if (len < custom_table[len % 3] || cfg_mac[5] != 1) {
        drop_count++;
        static_seen = len;
        return XDP_DROP;
    }
    if (hidden_flag)
        bpf_printk("port %u len %u", cfg_port, len);
    /* a literal passed by address lands in the mergeable string section .rodata.str1.1 */
    if (len == 7)
        bpf_trace_printk("seven\n", sizeof("seven\n"));
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
