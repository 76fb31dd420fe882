// SPDX-License-Identifier: (GPL-2.0-only OR MIT)
// ELF loader test object for the refusals: one feature per variant, selected with -D.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#if defined(USE_CORE)
struct task_struct {
    int pid;
    int tgid;
} __attribute__((preserve_access_index));
#elif defined(USE_KFUNC)
extern void bpf_rcu_read_lock(void) __ksym;
#elif defined(USE_KSYM)
extern const int bpf_prog_active __ksym;
#elif defined(USE_KCONFIG)
extern unsigned int LINUX_KERNEL_VERSION __kconfig;
#elif defined(USE_STATIC_PROG)
/* a static function in a program section: libbpf refuses these too */
#endif

SEC("xdp")
int xdp_refused(struct xdp_md *ctx)
{
    int r = XDP_PASS;
#if defined(USE_CORE)
    struct task_struct *t = (void *)bpf_get_current_task();
    r = BPF_CORE_READ(t, tgid);
#elif defined(USE_KFUNC)
    bpf_rcu_read_lock();
#elif defined(USE_KSYM)
    r = (int)(long)&bpf_prog_active;
#elif defined(USE_KCONFIG)
    r = LINUX_KERNEL_VERSION > 0x050000 ? XDP_PASS : XDP_DROP;
#endif
    return r;
}

#if defined(USE_STATIC_PROG)
SEC("xdp")
static __attribute__((used)) int xdp_static(struct xdp_md *ctx)
{
    return XDP_DROP;
}
#endif

char LICENSE[] SEC("license") = "GPL";
