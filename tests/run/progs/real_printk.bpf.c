// SPDX-License-Identifier: MIT
// bpf_printk as xdp-tutorial and programs under development use it: the format lives in .rodata
// (bpf_printk's static const char[]), up to three arguments, %s of a string in .rodata.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static const char proto_names[][8] = {"icmp", "tcp", "udp", "other"};

SEC("xdp")
int xdp_printk_debug_func(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *iph = data + sizeof(*eth);
    int k;

    if ((void *)(iph + 1) > data_end) {
        bpf_printk("short frame: %d bytes", (int)(data_end - data));
        return XDP_PASS;
    }
    k = iph->protocol == 1 ? 0 : iph->protocol == 6 ? 1 : iph->protocol == 17 ? 2 : 3;
    bpf_printk("len %u proto %s ttl %x", (unsigned)(data_end - data), proto_names[k], iph->ttl);
    if (iph->ttl < 2)
        bpf_printk("ttl expired: %-4d|%05u|%llx", iph->ttl, bpf_ntohs(iph->tot_len),
                   0x1122334455667788ull);
    return iph->ttl < 2 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
