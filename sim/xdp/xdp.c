/* SPDX-License-Identifier: MIT */
/*
 * XDP on a NIC core: packet buffer, descriptor, and the helper unit's XDP helpers.
 * Semantics follow net/core/filter.c (bpf_xdp_adjust_head/meta/tail, bpf_xdp_load/store_bytes,
 * bpf_csum_diff, __bpf_xdp_redirect_map ...); cycle costs are docs/microarchitecture.md §5.
 */
#include "nicsim/xdp.h"
#include "nicsim/util.h"
#include "nicsim/printk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nicsim_xdp_core {
    struct nicsim_vm *vm;
    /* perf_event_output assembles its record (data, then packet bytes) here */
    uint8_t rec[NICSIM_XDP_PERF_MAX_RAW];
    struct nicsim_xdp_core_opts opts;
    uint64_t prng;      /* get_prandom_u32 state */
    uint64_t time_base; /* cycles since NIC start at the beginning of this packet */
    /* the packet being processed */
    uint8_t frame[NICSIM_XDP_FRAME_SIZE];
    struct nicsim_pkt_desc desc;
    uint32_t data, data_end, data_meta; /* offsets in frame */
    /* redirect state of this packet */
    uint32_t redirect_ifindex;
    int32_t redirect_map_id;
    uint32_t redirect_key;
    int32_t redirect_cpu; /* cpumap: the host CPU; -1 otherwise */
};

static const char *const action_names[] = {"XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
                                           "XDP_REDIRECT"};

const char *nicsim_xdp_action_name(uint64_t action)
{
    return action < 5 ? action_names[action] : "XDP_UNKNOWN";
}

/* ---- helper cycle costs (docs/microarchitecture.md §5) ------------------------------------ */

static uint32_t words8(uint32_t bytes)
{
    return (bytes + 7) / 8;
}

/* Cost of finding a key in a map of this type: array index vs hash vs trie walk. */
static uint32_t lookup_cost(const struct nicsim_xdp_map_info *mi)
{
    switch (mi->type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_CPUMAP:
        return 3;
    case BPF_MAP_TYPE_LPM_TRIE: /* one step per key byte after the prefix length */
        return 4 + 2 * (mi->key_size > 4 ? mi->key_size - 4 : 0);
    default: /* hash family: hash the key, compare it */
        return 6 + 2 * words8(mi->key_size);
    }
}

/* ---- bounded copies ----------------------------------------------------------------------------
 * Every byte a helper copies goes through a span: host memory together with its real capacity.
 * A span of program memory comes from the core's region check (nicsim_vm__translate: the whole
 * range inside one region, writable if written), a span of the frame from the packet's current
 * geometry, the event record from its buffer. span_sub takes [off, off + n) of a span or fails,
 * span_copy copies between two spans of the same length; all lengths are 64-bit, so no
 * program-controlled length can wrap past a check.
 */
struct span {
    uint8_t *p;
    uint64_t len;
};

static bool span_sub(struct span s, uint64_t off, uint64_t n, struct span *out)
{
    if (!s.p || off > s.len || n > s.len - off)
        return false;
    *out = (struct span){s.p + off, n};
    return true;
}

static bool span_copy(struct span dst, struct span src)
{
    if (!dst.p || !src.p || dst.len != src.len)
        return false;
    memmove(dst.p, src.p, (size_t)src.len);
    return true;
}

static bool span_zero(struct span dst)
{
    if (!dst.p)
        return false;
    memset(dst.p, 0, (size_t)dst.len);
    return true;
}

/* `n` bytes of program memory at NIC address `addr`, checked as the core checks an access. */
static bool prog_span(struct nicsim_vm *vm, uint64_t addr, uint64_t n, bool write, struct span *out)
{
    if (n > UINT32_MAX)
        return false;
    if (n == 0) {
        *out = (struct span){(uint8_t *)"", 0};
        return true;
    }
    uint8_t *p = nicsim_vm__translate(vm, addr, (uint32_t)n, write);
    if (!p)
        return false;
    *out = (struct span){p, n};
    return true;
}

/* The whole frame buffer and the packet data [data, data_end) in it. */
static struct span frame_span(struct nicsim_xdp_core *c)
{
    return (struct span){c->frame, sizeof(c->frame)};
}

static struct span packet_span(struct nicsim_xdp_core *c)
{
    struct span s = {NULL, 0};
    span_sub(frame_span(c), c->data, c->data_end - c->data, &s);
    return s;
}

/* ---- the packet ------------------------------------------------------------------------------ */

static void sync_desc(struct nicsim_xdp_core *c)
{
    c->desc.data = nicsim_addr(NICSIM_PKT_REGION, c->data);
    c->desc.data_end = nicsim_addr(NICSIM_PKT_REGION, c->data_end);
    c->desc.data_meta = nicsim_addr(NICSIM_PKT_REGION, c->data_meta);
    struct nicsim_region *r = nicsim_vm__region(c->vm, NICSIM_PKT_REGION);
    r->lo = c->data_meta;
    r->hi = c->data_end;
}

static struct nicsim_xdp_core *core_of(struct nicsim_vm *vm)
{
    return nicsim_vm__user(vm);
}

static void helper_fault(struct nicsim_helper_out *out, const char *fmt, unsigned long long a)
{
    out->action = NICSIM_HELPER_TRAP;
    snprintf(out->trap_msg, sizeof(out->trap_msg), fmt, a);
}

/* Map id from a map handle (r1 of map helpers), or -1. */
static int handle_map(struct nicsim_xdp_core *c, uint64_t handle, struct nicsim_xdp_map_info *mi)
{
    uint32_t region = nicsim_addr_region(handle);
    if (nicsim_addr_offset(handle) != 0 || region < NICSIM_MAP_REGION_BASE ||
        region >= NICSIM_MAX_REGIONS || !c->opts.maps)
        return -1;
    /* only maps granted to the running program (its image's map table) are visible */
    if (!nicsim_vm__region(c->vm, region))
        return -1;
    uint32_t id = region - NICSIM_MAP_REGION_BASE;
    if (c->opts.maps->info(c->opts.maps_ctx, id, mi) < 0)
        return -1;
    return (int)id;
}

/* Resolve (handle, key pointer) for the map helpers; faults the run when the program passes
 * something that is not a map or a readable key (the kernel's verifier would have refused it). */
static bool map_args(struct nicsim_xdp_core *c, const uint64_t args[5], const char *what,
                     struct nicsim_xdp_map_info *mi, int *id, const void **key,
                     struct nicsim_helper_out *out)
{
    *id = handle_map(c, args[0], mi);
    if (*id < 0) {
        helper_fault(out, "r1 = 0x%llx is not a map", (unsigned long long)args[0]);
        return false;
    }
    *key = nicsim_vm__translate(c->vm, args[1], mi->key_size, 0);
    if (!*key) {
        out->action = NICSIM_HELPER_TRAP;
        snprintf(out->trap_msg, sizeof(out->trap_msg),
                 "%s key at 0x%llx (%u bytes) is not readable", what, (unsigned long long)args[1],
                 mi->key_size);
        return false;
    }
    return true;
}

static void h_map_lookup(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                         struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    const void *key;
    int id;
    if (!map_args(c, args, "lookup", &mi, &id, &key, out))
        return;
    uint32_t off;
    out->cycles = lookup_cost(&mi);
    if (mi.type == BPF_MAP_TYPE_ARRAY_OF_MAPS || mi.type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        /* the inner map's handle (the kernel's JIT returns the map pointer the element holds);
         * the program may use that map while it runs: it reached it through its own outer map */
        uint32_t inner;
        out->cycles += 1;
        out->ret = 0;
        if (!c->opts.maps->inner_map || c->opts.maps->inner_map(c->opts.maps_ctx, (uint32_t)id,
                                                                c->opts.core_id, key, &inner) < 0)
            return;
        if (inner >= NICSIM_MAX_REGIONS - NICSIM_MAP_REGION_BASE ||
            nicsim_vm__grant_now(vm, NICSIM_MAP_REGION_BASE + inner) < 0) {
            helper_fault(out, "inner map %llu of the outer map is not on this core",
                         (unsigned long long)inner);
            return;
        }
        out->ret = nicsim_addr(NICSIM_MAP_REGION_BASE + inner, 0);
        return;
    }
    int rc = c->opts.maps->lookup(c->opts.maps_ctx, (uint32_t)id, c->opts.core_id, key, &off);
    out->ret = rc < 0 ? 0 : nicsim_addr(NICSIM_MAP_REGION_BASE + (uint32_t)id, off);
}

static void h_map_update(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                         struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    const void *key;
    int id;
    if (!map_args(c, args, "update", &mi, &id, &key, out))
        return;
    const void *value = nicsim_vm__translate(vm, args[2], mi.value_size, 0);
    if (!value) {
        helper_fault(out, "update value at 0x%llx is not readable", (unsigned long long)args[2]);
        return;
    }
    out->cycles = lookup_cost(&mi) + 4 + words8(mi.value_size);
    out->ret = (uint64_t)(int64_t)c->opts.maps->update(c->opts.maps_ctx, (uint32_t)id,
                                                       c->opts.core_id, key, value, args[3]);
}

static void h_map_delete(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                         struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    const void *key;
    int id;
    if (!map_args(c, args, "delete", &mi, &id, &key, out))
        return;
    out->cycles = lookup_cost(&mi) + 2;
    out->ret = (uint64_t)(int64_t)c->opts.maps->remove(c->opts.maps_ctx, (uint32_t)id,
                                                       c->opts.core_id, key);
}

static void h_ktime(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                    struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    uint64_t cycles = c->time_base + nicsim_vm__cycles_now(vm);
    out->ret = cycles * 1000 / c->opts.clock_mhz;
    out->cycles = 2;
}

/* splitmix64: a reproducible per-core stream. */
static void h_prandom(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                      struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    uint64_t z = (c->prng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    out->ret = (uint32_t)(z ^ (z >> 31));
    out->cycles = 2;
}

static void h_smp_id(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                     struct nicsim_helper_out *out)
{
    out->ret = core_of(vm)->opts.core_id;
    out->cycles = 1;
}

static void h_tail_call(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                        struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    out->cycles = 4;
    int id = handle_map(c, args[1], &mi);
    if (id < 0 || mi.type != BPF_MAP_TYPE_PROG_ARRAY) {
        helper_fault(out, "tail call: r2 = 0x%llx is not a prog array",
                     (unsigned long long)args[1]);
        return;
    }
    /* The kernel takes the index as u32; out of range or empty falls through. */
    uint32_t index = (uint32_t)args[2];
    const struct nicsim_prog *target =
        index < mi.max_entries ? c->opts.maps->prog_array_get(c->opts.maps_ctx, (uint32_t)id, index)
                               : NULL;
    if (!target)
        return;
    out->action = NICSIM_HELPER_TAIL_CALL;
    out->tail = target;
}

static void h_redirect(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                       struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    out->cycles = 2;
    if (args[1]) {
        out->ret = NICSIM_XDP_ABORTED;
        return;
    }
    c->redirect_ifindex = (uint32_t)args[0];
    c->redirect_map_id = -1;
    c->redirect_cpu = -1;
    out->ret = NICSIM_XDP_REDIRECT;
}

static void h_redirect_map(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                           struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    const uint64_t action_mask = 3;                   /* ABORTED | DROP | PASS | TX */
    const uint64_t flag_mask = 1ull << 3 | 1ull << 4; /* BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS */
    int id = handle_map(c, args[0], &mi);
    if (id < 0 || (mi.type != BPF_MAP_TYPE_DEVMAP && mi.type != BPF_MAP_TYPE_DEVMAP_HASH &&
                   mi.type != BPF_MAP_TYPE_CPUMAP)) {
        helper_fault(out, "redirect_map: r1 = 0x%llx is not a devmap or cpumap",
                     (unsigned long long)args[0]);
        return;
    }
    out->cycles = 1 + lookup_cost(&mi);
    uint64_t flags = args[2];
    bool cpumap = mi.type == BPF_MAP_TYPE_CPUMAP;
    /* cpu_map_redirect passes no flag mask: a broadcast flag is XDP_ABORTED */
    if (flags & ~(action_mask | (cpumap ? 0 : flag_mask))) {
        out->ret = NICSIM_XDP_ABORTED;
        return;
    }
    if (flags & flag_mask) {
        /* Broadcast redirects are not offloaded; the driver refuses programs that could ask. */
        helper_fault(out, "redirect_map: broadcast flags 0x%llx are not supported",
                     (unsigned long long)flags);
        return;
    }
    uint32_t target; /* devmap: the ifindex; cpumap: the host CPU */
    if (c->opts.maps->devmap_get(c->opts.maps_ctx, (uint32_t)id, (uint32_t)args[1], &target) < 0) {
        /* __bpf_xdp_redirect_map: no entry clears the target (the last call counts) */
        c->redirect_ifindex = 0;
        c->redirect_map_id = -1;
        c->redirect_cpu = -1;
        out->ret = flags & action_mask;
        return;
    }
    c->redirect_ifindex = cpumap ? 0 : target;
    c->redirect_cpu = cpumap ? (int32_t)target : -1;
    c->redirect_map_id = id;
    c->redirect_key = (uint32_t)args[1];
    out->ret = NICSIM_XDP_REDIRECT;
}

/* ---- checksums: the kernel's csum_partial (x86-64) and bpf_csum_diff ----------------------- */

static uint32_t csum_partial(const uint8_t *p, uint32_t len, uint32_t seed)
{
    uint64_t sum = seed;
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        sum += w;
        sum += sum < w; /* end-around carry */
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, p + i, len - i);
        sum += w;
        sum += sum < w;
    }
    uint32_t hi = (uint32_t)(sum >> 32), lo = (uint32_t)sum;
    uint32_t r = hi + lo;
    return r + (r < lo);
}

static uint32_t csum_add(uint32_t a, uint32_t b)
{
    uint32_t r = a + b;
    return r + (r < b);
}

static uint16_t csum_from32to16(uint32_t sum)
{
    sum += (sum >> 16) | (sum << 16);
    return (uint16_t)(sum >> 16);
}

int64_t nicsim_csum_diff(const uint8_t *from, uint32_t from_size, const uint8_t *to,
                         uint32_t to_size, uint32_t seed)
{
    if (((from_size | to_size) & 3) || (uint64_t)from_size + to_size > 512)
        return -EINVAL;
    uint32_t ret = seed;
    if (from_size && to_size)
        ret = csum_add(csum_partial(to, to_size, seed), ~csum_partial(from, from_size, 0));
    else if (to_size)
        ret = csum_partial(to, to_size, seed);
    else if (from_size)
        ret = ~csum_partial(from, from_size, ~seed);
    return csum_from32to16(ret);
}

static void h_csum_diff(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                        struct nicsim_helper_out *out)
{
    uint32_t from_size = (uint32_t)args[1], to_size = (uint32_t)args[3];
    out->cycles = 2 + words8(from_size) + words8(to_size);
    /* the kernel refuses sizes before it reads anything */
    if (((from_size | to_size) & 3) || (uint64_t)from_size + to_size > 512) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    struct span from, to;
    if (!prog_span(vm, args[0], from_size, false, &from)) {
        helper_fault(out, "csum_diff: from buffer at 0x%llx is not readable",
                     (unsigned long long)args[0]);
        return;
    }
    if (!prog_span(vm, args[2], to_size, false, &to)) {
        helper_fault(out, "csum_diff: to buffer at 0x%llx is not readable",
                     (unsigned long long)args[2]);
        return;
    }
    out->ret = (uint64_t)nicsim_csum_diff(from.p, from_size, to.p, to_size, (uint32_t)args[4]);
}

/* ---- packet geometry helpers ---------------------------------------------------------------- */

static void h_adjust_head(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                          struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    int64_t delta = (int32_t)args[1];
    uint32_t metalen = c->data - c->data_meta;
    int64_t data = (int64_t)c->data + delta;
    out->cycles = 2 + words8(metalen);
    if (data < (int64_t)(NICSIM_XDP_FRAME_HDR + metalen) ||
        data > (int64_t)c->data_end - (int64_t)NICSIM_ETH_HLEN) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    struct span src, dst;
    if (!span_sub(frame_span(c), c->data_meta, metalen, &src) ||
        !span_sub(frame_span(c), (uint64_t)((int64_t)c->data_meta + delta), metalen, &dst) ||
        !span_copy(dst, src)) {
        helper_fault(out, "xdp_adjust_head: metadata move by %lld leaves the frame",
                     (long long)delta);
        return;
    }
    c->data_meta = (uint32_t)((int64_t)c->data_meta + delta);
    c->data = (uint32_t)data;
    sync_desc(c);
    out->ret = 0;
}

static void h_adjust_meta(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                          struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    int64_t meta = (int64_t)c->data_meta + (int32_t)args[1];
    out->cycles = 2;
    if (meta < (int64_t)NICSIM_XDP_FRAME_HDR || meta > (int64_t)c->data) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    uint64_t metalen = (uint64_t)((int64_t)c->data - meta);
    if ((metalen & 3) || metalen > NICSIM_XDP_META_MAX) {
        out->ret = (uint64_t)(int64_t)-EACCES;
        return;
    }
    c->data_meta = (uint32_t)meta;
    sync_desc(c);
    out->ret = 0;
}

static void h_adjust_tail(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                          struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    int64_t delta = (int32_t)args[1];
    int64_t end = (int64_t)c->data_end + delta;
    out->cycles = 2 + (delta > 0 ? words8((uint32_t)delta) : 0);
    if (end > (int64_t)(NICSIM_XDP_FRAME_SIZE - NICSIM_XDP_TAILROOM) ||
        end < (int64_t)c->data + (int64_t)NICSIM_ETH_HLEN) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    struct span grown;
    if (delta > 0 &&
        (!span_sub(frame_span(c), c->data_end, (uint64_t)delta, &grown) || !span_zero(grown))) {
        helper_fault(out, "xdp_adjust_tail: growing by %lld leaves the frame", (long long)delta);
        return;
    }
    c->data_end = (uint32_t)end;
    sync_desc(c);
    out->ret = 0;
}

static void h_get_buff_len(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                           struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    out->ret = c->data_end - c->data;
    out->cycles = 1;
}

/* bpf_xdp_load_bytes / store_bytes: offset and len checked as bpf_xdp_pointer does. */
static void xdp_copy(struct nicsim_vm *vm, const uint64_t args[5], struct nicsim_helper_out *out,
                     bool store)
{
    struct nicsim_xdp_core *c = core_of(vm);
    uint32_t off = (uint32_t)args[1], len = (uint32_t)args[3];
    out->cycles = 2 + words8(len);
    if (off > 0xffff || len > 0xffff) {
        out->ret = (uint64_t)(int64_t)-EFAULT;
        return;
    }
    struct span buf, pkt;
    if (!span_sub(packet_span(c), off, len, &pkt)) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    if (!prog_span(vm, args[2], len, !store, &buf)) {
        helper_fault(out, "buffer at 0x%llx is not accessible", (unsigned long long)args[2]);
        return;
    }
    if (store)
        span_copy(pkt, buf);
    else
        span_copy(buf, pkt);
    out->ret = 0;
}

static void h_load_bytes(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                         struct nicsim_helper_out *out)
{
    xdp_copy(vm, args, out, false);
}

static void h_store_bytes(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                          struct nicsim_helper_out *out)
{
    xdp_copy(vm, args, out, true);
}

/* ---- events --------------------------------------------------------------------------------- */

#define BPF_F_INDEX_MASK  0xffffffffull
#define BPF_F_CTXLEN_MASK (0xfffffull << 32)

static void h_perf_event_output(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                                struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    uint64_t flags = args[2];
    uint32_t size = (uint32_t)args[4], ctxlen = (uint32_t)((flags & BPF_F_CTXLEN_MASK) >> 32);
    int id = handle_map(c, args[1], &mi);
    if (id < 0 || mi.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
        helper_fault(out, "perf_event_output: r2 = 0x%llx is not a perf event array",
                     (unsigned long long)args[1]);
        return;
    }
    out->cycles = 4 + words8(size) + words8(ctxlen);
    if (flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    if (ctxlen > c->data_end - c->data) {
        out->ret = (uint64_t)(int64_t)-EFAULT;
        return;
    }
    struct span data, ctx, rec = {c->rec, sizeof(c->rec)}, rec_data, rec_ctx;
    if (!prog_span(vm, args[3], size, false, &data)) {
        helper_fault(out, "perf_event_output: data at 0x%llx is not readable",
                     (unsigned long long)args[3]);
        return;
    }
    /* The record is what the kernel's bpf_event_output sends: `size` bytes of data, then
     * `ctxlen` packet bytes, as one raw sample whose 16-bit perf record size must hold it. */
    if (!span_sub(packet_span(c), 0, ctxlen, &ctx) || !span_sub(rec, 0, size, &rec_data) ||
        !span_sub(rec, size, ctxlen, &rec_ctx)) {
        out->ret = (uint64_t)(int64_t)-E2BIG;
        return;
    }
    span_copy(rec_data, data);
    span_copy(rec_ctx, ctx);
    uint64_t index = flags & BPF_F_INDEX_MASK;
    if (index == BPF_F_INDEX_MASK) /* BPF_F_CURRENT_CPU */
        index = c->opts.core_id;
    out->ret = (uint64_t)(int64_t)c->opts.maps->event_output(
        c->opts.maps_ctx, (uint32_t)id, c->opts.core_id, index, c->rec, size + ctxlen);
}

static void h_ringbuf_output(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                             struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    struct nicsim_xdp_map_info mi;
    uint32_t size = (uint32_t)args[2];
    int id = handle_map(c, args[0], &mi);
    if (id < 0 || mi.type != BPF_MAP_TYPE_RINGBUF) {
        helper_fault(out, "ringbuf_output: r1 = 0x%llx is not a ring buffer",
                     (unsigned long long)args[0]);
        return;
    }
    out->cycles = 4 + words8(size);
    /* BPF_RB_NO_WAKEUP (1) and BPF_RB_FORCE_WAKEUP (2) only */
    if (args[3] & ~3ull) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    struct span data;
    if (!prog_span(vm, args[1], size, false, &data)) {
        helper_fault(out, "ringbuf_output: data at 0x%llx is not readable",
                     (unsigned long long)args[1]);
        return;
    }
    /* The map unit honours the ring's size as __bpf_ringbuf_reserve does (a record that does
     * not fit the ring's free space is refused and counted); bpf_ringbuf_output knows one
     * failure, no room: -EAGAIN. */
    int rc = c->opts.maps->event_output(c->opts.maps_ctx, (uint32_t)id, c->opts.core_id, 0,
                                        size ? data.p : NULL, size);
    out->ret = (uint64_t)(int64_t)(rc < 0 ? -EAGAIN : rc);
}

/* ---- bpf_trace_printk -------------------------------------------------------------------------
 * The format is checked as the kernel checks it, %s strings are read now (the memory may change
 * after the helper returns), and the record (include/nicsim/printk.h) goes to the host through
 * the event queue perf_event_output uses, under map id NICSIM_EVENT_TRACE_PRINTK. r0 is the
 * length of the text, as bpf_trace_printk returns it.
 */
static void h_trace_printk(struct nicsim_vm *vm, void *user, const uint64_t args[5],
                           struct nicsim_helper_out *out)
{
    struct nicsim_xdp_core *c = core_of(vm);
    uint32_t fmt_size = (uint32_t)args[1];
    uint8_t rec[NICSIM_PRINTK_MAX_ARGS * 8 + NICSIM_PRINTK_OUT_MAX +
                NICSIM_PRINTK_MAX_ARGS * NICSIM_PRINTK_STR_MAX];
    char text[NICSIM_PRINTK_OUT_MAX];
    int is_str[NICSIM_PRINTK_MAX_ARGS];
    size_t at, flen;

    (void)user;
    out->cycles = 8 + words8(fmt_size);
    const char *fmt = fmt_size ? nicsim_vm__translate(vm, args[0], fmt_size, 0) : NULL;
    if (!fmt) {
        helper_fault(out, "trace_printk: format at 0x%llx is not readable",
                     (unsigned long long)args[0]);
        return;
    }
    int n = nicsim_printk_scan(fmt, fmt_size, is_str);
    flen = n < 0 ? 0 : strlen(fmt) + 1;
    if (n < 0 || flen > NICSIM_PRINTK_OUT_MAX) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    memcpy(rec, &args[2], NICSIM_PRINTK_MAX_ARGS * 8);
    at = NICSIM_PRINTK_MAX_ARGS * 8;
    memcpy(rec + at, fmt, flen);
    at += flen;
    for (int k = 0; k < n; k++) {
        if (!is_str[k])
            continue;
        /* as strncpy_from_kernel_nofault: up to the first byte that cannot be read */
        uint32_t j = 0;
        for (; j + 1 < NICSIM_PRINTK_STR_MAX; j++) {
            const char *b = nicsim_vm__translate(vm, args[2 + k] + j, 1, 0);
            if (!b || !*b)
                break;
            rec[at + j] = (uint8_t)*b;
        }
        rec[at + j] = 0;
        at += j + 1;
        out->cycles += words8(j + 1);
    }
    int len = nicsim_printk_format(rec, at, text, sizeof(text));
    if (len < 0) {
        out->ret = (uint64_t)(int64_t)-EINVAL;
        return;
    }
    /* a core with no map unit behind it (unit tests, tools) has nowhere to send the line: it is
     * dropped, and r0 is what printing it returns */
    if (c->opts.maps && c->opts.maps->event_output)
        c->opts.maps->event_output(c->opts.maps_ctx, NICSIM_EVENT_TRACE_PRINTK, c->opts.core_id, 0,
                                   rec, (uint32_t)at);
    out->ret = (uint64_t)len;
}

/* ---- helper table -----------------------------------------------------------------------------
 */

static const struct nicsim_helper xdp_helpers[NICSIM_MAX_HELPERS] = {
    [NICSIM_HW_MAP_LOOKUP] = {"map_lookup_elem", h_map_lookup, NULL},
    [NICSIM_HW_MAP_UPDATE] = {"map_update_elem", h_map_update, NULL},
    [NICSIM_HW_MAP_DELETE] = {"map_delete_elem", h_map_delete, NULL},
    [NICSIM_HW_KTIME] = {"ktime_get_ns", h_ktime, NULL},
    [NICSIM_HW_PRANDOM] = {"get_prandom_u32", h_prandom, NULL},
    [NICSIM_HW_SMP_ID] = {"get_smp_processor_id", h_smp_id, NULL},
    [NICSIM_HW_TAIL_CALL] = {"tail_call", h_tail_call, NULL},
    [NICSIM_HW_REDIRECT] = {"redirect", h_redirect, NULL},
    [NICSIM_HW_REDIRECT_MAP] = {"redirect_map", h_redirect_map, NULL},
    [NICSIM_HW_CSUM_DIFF] = {"csum_diff", h_csum_diff, NULL},
    [NICSIM_HW_ADJUST_HEAD] = {"xdp_adjust_head", h_adjust_head, NULL},
    [NICSIM_HW_ADJUST_META] = {"xdp_adjust_meta", h_adjust_meta, NULL},
    [NICSIM_HW_ADJUST_TAIL] = {"xdp_adjust_tail", h_adjust_tail, NULL},
    [NICSIM_HW_GET_BUFF_LEN] = {"xdp_get_buff_len", h_get_buff_len, NULL},
    [NICSIM_HW_LOAD_BYTES] = {"xdp_load_bytes", h_load_bytes, NULL},
    [NICSIM_HW_STORE_BYTES] = {"xdp_store_bytes", h_store_bytes, NULL},
    [NICSIM_HW_PERF_EVENT_OUTPUT] = {"perf_event_output", h_perf_event_output, NULL},
    [NICSIM_HW_RINGBUF_OUTPUT] = {"ringbuf_output", h_ringbuf_output, NULL},
    [NICSIM_HW_TRACE_PRINTK] = {"trace_printk", h_trace_printk, NULL},
};

const struct nicsim_helper *nicsim_xdp_helpers(void)
{
    return xdp_helpers;
}

/* ---- the core ---------------------------------------------------------------------------------
 */

struct nicsim_xdp_core *nicsim_xdp_core__new(const struct nicsim_xdp_core_opts *opts)
{
    struct nicsim_xdp_core_opts o = {0};

    if (!opts || nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        errno = EINVAL;
        return NULL;
    }
    o.sz = sizeof(o);
    struct nicsim_xdp_core *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->opts = o;
    if (!c->opts.clock_mhz)
        c->opts.clock_mhz = 250;
    c->prng = o.seed + o.core_id;
    struct nicsim_vm_opts vo = {.sz = sizeof(vo), .core_id = o.core_id, .budget = o.budget};
    c->vm = nicsim_vm__new(&vo);
    if (!c->vm) {
        free(c);
        return NULL;
    }
    nicsim_vm__set_user(c->vm, c);
    struct nicsim_timing t;
    nicsim_timing_default(&t);
    struct nicsim_region ctx = {.host = (uint8_t *)&c->desc,
                                .lo = 0,
                                .hi = sizeof(c->desc),
                                .kind = NICSIM_RGN_CTX,
                                /* stores reach it only as the driver translates them: a 4-byte
                                 * write to rx_queue_index, which the verifier admits for
                                 * offloaded programs alone (xdp_is_valid_access) */
                                .writable = 1,
                                .latency = t.region_latency[NICSIM_RGN_CTX]};
    struct nicsim_region pkt = {.host = c->frame,
                                .lo = 0,
                                .hi = 0,
                                .kind = NICSIM_RGN_PACKET,
                                .writable = 1,
                                .latency = t.region_latency[NICSIM_RGN_PACKET]};
    if (nicsim_vm__map_at(c->vm, NICSIM_CTX_REGION, &ctx) < 0 ||
        nicsim_vm__map_at(c->vm, NICSIM_PKT_REGION, &pkt) < 0) {
        nicsim_xdp_core__free(c);
        errno = EINVAL;
        return NULL;
    }
    return c;
}

void nicsim_xdp_core__free(struct nicsim_xdp_core *core)
{
    if (!core)
        return;
    nicsim_vm__free(core->vm);
    free(core);
}

struct nicsim_vm *nicsim_xdp_core__vm(struct nicsim_xdp_core *core)
{
    return core->vm;
}

void nicsim_xdp_core__set_time(struct nicsim_xdp_core *core, uint64_t cycles)
{
    core->time_base = cycles;
}

int nicsim_xdp_core__map_values(struct nicsim_xdp_core *core, uint32_t map_id,
                                const struct nicsim_xdp_map_mem *m)
{
    if (!core || !m || m->sz < sizeof(*m) || map_id >= NICSIM_MAX_REGIONS - NICSIM_MAP_REGION_BASE)
        return -EINVAL;
    /* A handle-only map still needs backing for the region entry; its window is empty. */
    static uint8_t no_memory[1];
    struct nicsim_region r = {.host = m->mem ? m->mem : no_memory,
                              .lo = 0,
                              .hi = m->mem ? m->len : 0,
                              .kind = m->writable ? NICSIM_RGN_MAP : NICSIM_RGN_RODATA,
                              .writable = (uint8_t)(m->writable != 0),
                              .latency = m->latency ? m->latency : 1,
                              .flags = NICSIM_RGN_F_GRANTED,
                              .owner = map_id};
    if (m->mem && m->stride && !m->value_size) {
        r.hi = 0; /* values of 0 bytes: nothing to address */
    } else if (m->mem && m->stride) {
        uint64_t lo = m->slice ? (uint64_t)core->opts.core_id * m->slice : 0;
        if (lo + m->value_size > m->stride)
            return -EINVAL;
        r.elem_stride = m->stride;
        r.elem_lo = (uint32_t)lo;
        r.elem_hi = (uint32_t)(lo + m->value_size);
    }
    int rc = nicsim_vm__map_at(core->vm, NICSIM_MAP_REGION_BASE + map_id, &r);
    return rc < 0 ? rc : 0;
}

int nicsim_xdp_core__map_map(struct nicsim_xdp_core *core, uint32_t map_id, uint8_t *mem,
                             uint32_t len, int writable, uint8_t latency)
{
    struct nicsim_xdp_map_mem m = {
        .sz = sizeof(m), .mem = mem, .len = len, .writable = writable, .latency = latency};
    return nicsim_xdp_core__map_values(core, map_id, &m);
}

void nicsim_xdp_core__unmap_map(struct nicsim_xdp_core *core, uint32_t map_id)
{
    if (map_id < NICSIM_MAX_REGIONS - NICSIM_MAP_REGION_BASE)
        nicsim_vm__unmap(core->vm, NICSIM_MAP_REGION_BASE + map_id);
}

int nicsim_xdp_core__run(struct nicsim_xdp_core *c, const struct nicsim_prog *prog,
                         const struct nicsim_xdp_pkt_in *pkt, struct nicsim_xdp_result *res)
{
    if (!c || !prog || !pkt || !res || pkt->len == 0 || pkt->len > NICSIM_XDP_MAX_DATA)
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    /* Fresh frame: headroom and tailroom zeroed, as a freshly allocated kernel test frame. */
    memset(c->frame, 0, NICSIM_XDP_HEADROOM);
    memcpy(c->frame + NICSIM_XDP_HEADROOM, pkt->data, pkt->len);
    memset(c->frame + NICSIM_XDP_HEADROOM + pkt->len, 0,
           NICSIM_XDP_FRAME_SIZE - NICSIM_XDP_HEADROOM - pkt->len);
    c->data = c->data_meta = NICSIM_XDP_HEADROOM;
    c->data_end = NICSIM_XDP_HEADROOM + pkt->len;
    memset(&c->desc, 0, sizeof(c->desc));
    c->desc.ingress_ifindex = pkt->ingress_ifindex;
    c->desc.rx_queue_index = pkt->rx_queue_index;
    c->desc.port = pkt->port;
    sync_desc(c);
    c->redirect_ifindex = 0;
    c->redirect_map_id = -1;
    c->redirect_key = 0;
    c->redirect_cpu = -1;

    nicsim_vm__run(c->vm, prog, nicsim_addr(NICSIM_CTX_REGION, 0), 0, &res->run);

    /* A trap or the watchdog ends the program without a return value: XDP_ABORTED, as the
     * kernel's exception path would give. */
    res->r0 = res->run.status == NICSIM_RUN_OK ? res->run.r0 : NICSIM_XDP_ABORTED;
    if (res->run.status != NICSIM_RUN_OK)
        res->action = NICSIM_XDP_ABORTED;
    else
        res->action = res->r0 <= NICSIM_XDP_REDIRECT ? (uint32_t)res->r0 : NICSIM_XDP_ABORTED;
    res->data = c->frame + c->data;
    res->len = c->data_end - c->data;
    res->rx_queue = c->desc.rx_queue_index;
    res->meta = c->frame + c->data_meta;
    res->meta_len = c->data - c->data_meta;
    if (res->action == NICSIM_XDP_REDIRECT) {
        res->redirect_ifindex = c->redirect_ifindex;
        res->redirect_map_id = c->redirect_map_id;
        res->redirect_key = c->redirect_key;
        res->redirect_cpu = c->redirect_cpu;
    } else {
        res->redirect_map_id = -1;
        res->redirect_cpu = -1;
    }
    return 0;
}
