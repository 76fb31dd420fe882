/* SPDX-License-Identifier: MIT */
/*
 * Program type and expected attach type from the section name, as libbpf 1.x's section table
 * does it. A name ending in '+' matches the name itself or the name followed by "/anything"; a
 * name ending in '/' matches as a prefix; any other name matches exactly. First match wins, so
 * the more specific names come first ("xdp.frags/devmap" before "xdp.frags").
 */
#include <string.h>

#include <linux/bpf.h>

#include "obj_internal.h"

struct sec_def {
    const char *sec;
    uint32_t prog_type;
    uint32_t attach_type;
};

/* clang-format off */
static const struct sec_def sec_defs[] = {
    {"socket", BPF_PROG_TYPE_SOCKET_FILTER, 0},
    {"sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE},
    {"sk_reuseport", BPF_PROG_TYPE_SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT},
    {"kprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uprobe.s+", BPF_PROG_TYPE_KPROBE, 0},
    {"kretprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uretprobe+", BPF_PROG_TYPE_KPROBE, 0},
    {"uretprobe.s+", BPF_PROG_TYPE_KPROBE, 0},
    {"kprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI},
    {"kretprobe.multi+", BPF_PROG_TYPE_KPROBE, BPF_TRACE_KPROBE_MULTI},
    {"ksyscall+", BPF_PROG_TYPE_KPROBE, 0},
    {"kretsyscall+", BPF_PROG_TYPE_KPROBE, 0},
    {"usdt+", BPF_PROG_TYPE_KPROBE, 0},
    {"tc", BPF_PROG_TYPE_SCHED_CLS, 0},
    {"classifier", BPF_PROG_TYPE_SCHED_CLS, 0},
    {"action", BPF_PROG_TYPE_SCHED_ACT, 0},
    {"tracepoint+", BPF_PROG_TYPE_TRACEPOINT, 0},
    {"tp+", BPF_PROG_TYPE_TRACEPOINT, 0},
    {"raw_tracepoint+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
    {"raw_tp+", BPF_PROG_TYPE_RAW_TRACEPOINT, 0},
    {"raw_tracepoint.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0},
    {"raw_tp.w+", BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE, 0},
    {"tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP},
    {"fentry+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY},
    {"fmod_ret+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN},
    {"fexit+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT},
    {"fentry.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY},
    {"fmod_ret.s+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN},
    {"fexit.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT},
    {"freplace+", BPF_PROG_TYPE_EXT, 0},
    {"lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC},
    {"lsm.s+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC},
    {"lsm_cgroup+", BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP},
    {"iter+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER},
    {"iter.s+", BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER},
    {"syscall", BPF_PROG_TYPE_SYSCALL, 0},
    {"xdp.frags/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP},
    {"xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP},
    {"xdp.frags/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP},
    {"xdp/cpumap", BPF_PROG_TYPE_XDP, BPF_XDP_CPUMAP},
    {"xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP},
    {"xdp", BPF_PROG_TYPE_XDP, BPF_XDP},
    {"perf_event", BPF_PROG_TYPE_PERF_EVENT, 0},
    {"lwt_in", BPF_PROG_TYPE_LWT_IN, 0},
    {"lwt_out", BPF_PROG_TYPE_LWT_OUT, 0},
    {"lwt_xmit", BPF_PROG_TYPE_LWT_XMIT, 0},
    {"lwt_seg6local", BPF_PROG_TYPE_LWT_SEG6LOCAL, 0},
    {"sockops", BPF_PROG_TYPE_SOCK_OPS, BPF_CGROUP_SOCK_OPS},
    {"sk_skb/stream_parser", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_PARSER},
    {"sk_skb/stream_verdict", BPF_PROG_TYPE_SK_SKB, BPF_SK_SKB_STREAM_VERDICT},
    {"sk_skb", BPF_PROG_TYPE_SK_SKB, 0},
    {"sk_msg", BPF_PROG_TYPE_SK_MSG, BPF_SK_MSG_VERDICT},
    {"lirc_mode2", BPF_PROG_TYPE_LIRC_MODE2, BPF_LIRC_MODE2},
    {"flow_dissector", BPF_PROG_TYPE_FLOW_DISSECTOR, BPF_FLOW_DISSECTOR},
    {"cgroup_skb/ingress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS},
    {"cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS},
    {"cgroup/skb", BPF_PROG_TYPE_CGROUP_SKB, 0},
    {"cgroup/sock_create", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/sock_release", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE},
    {"cgroup/sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE},
    {"cgroup/post_bind4", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND},
    {"cgroup/post_bind6", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND},
    {"cgroup/bind4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND},
    {"cgroup/bind6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND},
    {"cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT},
    {"cgroup/connect6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT},
    {"cgroup/sendmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG},
    {"cgroup/sendmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG},
    {"cgroup/recvmsg4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG},
    {"cgroup/recvmsg6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG},
    {"cgroup/getpeername4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME},
    {"cgroup/getpeername6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME},
    {"cgroup/getsockname4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME},
    {"cgroup/getsockname6", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME},
    {"cgroup/sysctl", BPF_PROG_TYPE_CGROUP_SYSCTL, BPF_CGROUP_SYSCTL},
    {"cgroup/getsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT},
    {"cgroup/setsockopt", BPF_PROG_TYPE_CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT},
    {"cgroup/dev", BPF_PROG_TYPE_CGROUP_DEVICE, BPF_CGROUP_DEVICE},
    {"struct_ops+", BPF_PROG_TYPE_STRUCT_OPS, 0},
    {"sk_lookup", BPF_PROG_TYPE_SK_LOOKUP, BPF_SK_LOOKUP},
};
/* clang-format on */

static bool sec_def_matches(const char *def, const char *sec)
{
    size_t len = strlen(def);

    if (def[len - 1] == '/')
        return strncmp(sec, def, len) == 0;
    if (def[len - 1] == '+') {
        len--;
        return strncmp(sec, def, len) == 0 && (sec[len] == '\0' || sec[len] == '/');
    }
    return strcmp(sec, def) == 0;
}

void nicsim_ld_sec_def(const char *sec, uint32_t *prog_type, uint32_t *attach_type)
{
    *prog_type = BPF_PROG_TYPE_UNSPEC;
    *attach_type = 0;
    for (size_t i = 0; i < sizeof(sec_defs) / sizeof(sec_defs[0]); i++) {
        if (sec_def_matches(sec_defs[i].sec, sec)) {
            *prog_type = sec_defs[i].prog_type;
            *attach_type = sec_defs[i].attach_type;
            return;
        }
    }
}
