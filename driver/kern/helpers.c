/* SPDX-License-Identifier: MIT */
/*
 * Helper names (generated from the uapi header's __BPF_FUNC_MAPPER, as the kernel's func_id_str
 * is), map type names (bpftool's), and the prototypes the verifier checks helper calls of XDP
 * programs against (net/core/filter.c xdp_func_proto + kernel/bpf/helpers.c
 * bpf_base_func_proto).
 */
#include <stddef.h>

#include "kern_internal.h"

#ifdef ___BPF_FUNC_MAPPER /* uapi >= 6.2: FN(name, id, ctx...) without separators */
#define NICSIM_FN_NAME_(x, y, ...) [y] = "bpf_" #x,
#else /* FN(name), comma-separated, ids in order */
#define NICSIM_FN_NAME_(x) "bpf_" #x
#endif
static const char *const helper_names[] = {__BPF_FUNC_MAPPER(NICSIM_FN_NAME_)};
#undef NICSIM_FN_NAME_

const char *nicsim_bpf_helper_name(int32_t func_id)
{
    if (func_id < 0 || (size_t)func_id >= sizeof(helper_names) / sizeof(helper_names[0]))
        return "unknown";
    return helper_names[func_id];
}

int32_t nicsim_helper_max_id(void)
{
    return __BPF_FUNC_MAX_ID;
}

static const char *const map_type_names[] = {
    [BPF_MAP_TYPE_UNSPEC] = "unspec",
    [BPF_MAP_TYPE_HASH] = "hash",
    [BPF_MAP_TYPE_ARRAY] = "array",
    [BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
    [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
    [BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
    [BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
    [BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
    [BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
    [BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
    [BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
    [BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
    [BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
    [BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
    [BPF_MAP_TYPE_DEVMAP] = "devmap",
    [BPF_MAP_TYPE_SOCKMAP] = "sockmap",
    [BPF_MAP_TYPE_CPUMAP] = "cpumap",
    [BPF_MAP_TYPE_XSKMAP] = "xskmap",
    [BPF_MAP_TYPE_SOCKHASH] = "sockhash",
    [BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
    [BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
    [BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
    [BPF_MAP_TYPE_QUEUE] = "queue",
    [BPF_MAP_TYPE_STACK] = "stack",
    [BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
    [BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
    [BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
    [BPF_MAP_TYPE_RINGBUF] = "ringbuf",
    [BPF_MAP_TYPE_INODE_STORAGE] = "inode_storage",
    [BPF_MAP_TYPE_TASK_STORAGE] = "task_storage",
    [BPF_MAP_TYPE_BLOOM_FILTER] = "bloom_filter",
    [BPF_MAP_TYPE_USER_RINGBUF] = "user_ringbuf",
    [NICSIM_BPF_MAP_TYPE_CGRP_STORAGE] = "cgrp_storage",
};

const char *nicsim_bpf_map_type_name(uint32_t map_type)
{
    if (map_type >= sizeof(map_type_names) / sizeof(map_type_names[0]) || !map_type_names[map_type])
        return "unknown";
    return map_type_names[map_type];
}

/* ---------------------------------------------------------------------------------------------
 * Prototypes. `modelled` 0: an XDP program may call the helper but this verifier does not model
 * what it returns (socket references, ring buffer records, callbacks, timers, dynptrs): such
 * calls are refused with a message saying so (docs/offload.md, "Limits").
 */
#define P(ret_, pkt_, a1, a2, a3, a4, a5)                                                          \
    {                                                                                              \
        .known = 1, .modelled = 1, .pkt_access = (pkt_), .ret = (ret_),                            \
        .arg = {a1, a2, a3, a4, a5},                                                               \
    }
#define UNMODELLED                                                                                 \
    {                                                                                              \
        .known = 1, .modelled = 0                                                                  \
    }

static const struct helper_proto protos[] = {
    [BPF_FUNC_map_lookup_elem] =
        P(RET_PTR_TO_MAP_VALUE_OR_NULL, 1, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, 0, 0, 0),
    [BPF_FUNC_map_update_elem] = P(RET_INTEGER, 1, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY,
                                   ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING, 0),
    [BPF_FUNC_map_delete_elem] = P(RET_INTEGER, 1, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, 0, 0, 0),
    [BPF_FUNC_ktime_get_ns] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    /* as the kernel's bpf_trace_printk_proto: r3-r5 are not checked (a call with fewer than
     * three arguments leaves them unset) */
    [BPF_FUNC_trace_printk] = P(RET_INTEGER, 0, ARG_PTR_TO_MEM, ARG_CONST_SIZE, 0, 0, 0),
    [BPF_FUNC_get_prandom_u32] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_get_smp_processor_id] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_tail_call] = P(RET_VOID, 0, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, 0, 0),
    [BPF_FUNC_redirect] = P(RET_INTEGER, 0, ARG_ANYTHING, ARG_ANYTHING, 0, 0, 0),
    [BPF_FUNC_perf_event_output] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR,
                                     ARG_ANYTHING, ARG_PTR_TO_MEM, ARG_CONST_SIZE_OR_ZERO),
    [BPF_FUNC_csum_diff] = P(RET_INTEGER, 1, ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO,
                             ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING),
    [BPF_FUNC_get_numa_node_id] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_xdp_adjust_head] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, 0, 0, 0),
    [BPF_FUNC_redirect_map] =
        P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING, 0, 0),
    [BPF_FUNC_xdp_adjust_meta] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, 0, 0, 0),
    [BPF_FUNC_xdp_adjust_tail] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, 0, 0, 0),
    [BPF_FUNC_fib_lookup] =
        P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM, ARG_CONST_SIZE, ARG_ANYTHING, 0),
    [BPF_FUNC_sk_lookup_tcp] = UNMODELLED,
    [BPF_FUNC_sk_lookup_udp] = UNMODELLED,
    [BPF_FUNC_sk_release] = UNMODELLED,
    [BPF_FUNC_map_push_elem] =
        P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_VALUE, ARG_ANYTHING, 0, 0),
    [BPF_FUNC_map_pop_elem] =
        P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE, 0, 0, 0),
    [BPF_FUNC_map_peek_elem] =
        P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE, 0, 0, 0),
    [BPF_FUNC_spin_lock] = UNMODELLED,
    [BPF_FUNC_spin_unlock] = UNMODELLED,
    [BPF_FUNC_skc_lookup_tcp] = UNMODELLED,
    [BPF_FUNC_tcp_check_syncookie] = UNMODELLED,
    [BPF_FUNC_tcp_gen_syncookie] = UNMODELLED,
    [BPF_FUNC_probe_read_kernel] = UNMODELLED,
    [BPF_FUNC_probe_read_kernel_str] = UNMODELLED,
    [BPF_FUNC_jiffies64] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_ktime_get_boot_ns] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_ringbuf_output] = P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_PTR_TO_MEM,
                                  ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING, 0),
    [BPF_FUNC_ringbuf_reserve] = UNMODELLED,
    [BPF_FUNC_ringbuf_submit] = UNMODELLED,
    [BPF_FUNC_ringbuf_discard] = UNMODELLED,
    [BPF_FUNC_ringbuf_query] = P(RET_INTEGER, 0, ARG_CONST_MAP_PTR, ARG_ANYTHING, 0, 0, 0),
    [BPF_FUNC_per_cpu_ptr] = UNMODELLED,
    [BPF_FUNC_this_cpu_ptr] = UNMODELLED,
    [BPF_FUNC_ktime_get_coarse_ns] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_check_mtu] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_FIXED_MEM4,
                             ARG_ANYTHING, ARG_ANYTHING),
    [BPF_FUNC_for_each_map_elem] = UNMODELLED,
    [BPF_FUNC_snprintf] = UNMODELLED,
    [BPF_FUNC_timer_init] = UNMODELLED,
    [BPF_FUNC_timer_set_callback] = UNMODELLED,
    [BPF_FUNC_timer_start] = UNMODELLED,
    [BPF_FUNC_timer_cancel] = UNMODELLED,
    [BPF_FUNC_loop] = UNMODELLED,
    [BPF_FUNC_strncmp] = UNMODELLED,
    [BPF_FUNC_xdp_get_buff_len] = P(RET_INTEGER, 0, ARG_PTR_TO_CTX, 0, 0, 0, 0),
    [BPF_FUNC_xdp_load_bytes] =
        P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE, 0),
    [BPF_FUNC_xdp_store_bytes] =
        P(RET_INTEGER, 0, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM, ARG_CONST_SIZE, 0),
    [BPF_FUNC_kptr_xchg] = UNMODELLED,
    [BPF_FUNC_map_lookup_percpu_elem] = P(RET_PTR_TO_MAP_VALUE_OR_NULL, 0, ARG_CONST_MAP_PTR,
                                          ARG_PTR_TO_MAP_KEY, ARG_ANYTHING, 0, 0),
    [BPF_FUNC_dynptr_from_mem] = UNMODELLED,
    [BPF_FUNC_ringbuf_reserve_dynptr] = UNMODELLED,
    [BPF_FUNC_ringbuf_submit_dynptr] = UNMODELLED,
    [BPF_FUNC_ringbuf_discard_dynptr] = UNMODELLED,
    [BPF_FUNC_dynptr_read] = UNMODELLED,
    [BPF_FUNC_dynptr_write] = UNMODELLED,
    [BPF_FUNC_dynptr_data] = UNMODELLED,
    [BPF_FUNC_tcp_raw_gen_syncookie_ipv4] = UNMODELLED,
    [BPF_FUNC_tcp_raw_gen_syncookie_ipv6] = UNMODELLED,
    [BPF_FUNC_tcp_raw_check_syncookie_ipv4] = UNMODELLED,
    [BPF_FUNC_tcp_raw_check_syncookie_ipv6] = UNMODELLED,
    [BPF_FUNC_ktime_get_tai_ns] = P(RET_INTEGER, 0, 0, 0, 0, 0, 0),
    [BPF_FUNC_user_ringbuf_drain] = UNMODELLED,
};

const struct helper_proto *nicsim_helper_proto(int32_t func_id)
{
    if (func_id <= 0 || (size_t)func_id >= sizeof(protos) / sizeof(protos[0]))
        return NULL;
    return protos[func_id].known ? &protos[func_id] : NULL;
}

/* bpf_helper_changes_pkt_data, for the helpers an XDP program may call: after these every packet
 * pointer the program holds is invalid (the verifier turns them into scalars). */
bool nicsim_helper_changes_pkt_data(int32_t func_id)
{
    switch (func_id) {
    case BPF_FUNC_xdp_adjust_head:
    case BPF_FUNC_xdp_adjust_meta:
    case BPF_FUNC_xdp_adjust_tail:
        return true;
    default:
        return false;
    }
}
