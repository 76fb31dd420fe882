/* SPDX-License-Identifier: MIT */
/* Register and memory checks: register reads and writes, context, map value, map pointer and
 * packet accesses, and check_mem_access dispatching by pointer type. */
#include <errno.h>
#include <string.h>

#include "verifier_internal.h"

/* ---------------------------------------------------------------------------------------------
 * Register and memory checks.
 */
int nicsim_vrf_check_reg_read(struct venv *env, int regno)
{
    if (regno >= NREGS) {
        nicsim_vrf_verbose(env, "R%d is invalid", regno);
        return -EINVAL;
    }
    if (nicsim_vrf_cur_regs(env)[regno].type == NICSIM_NOT_INIT) {
        nicsim_vrf_verbose(env, "R%d !read_ok", regno);
        return -EACCES;
    }
    return 0;
}

int nicsim_vrf_check_reg_write(struct venv *env, int regno)
{
    if (regno >= NREGS) {
        nicsim_vrf_verbose(env, "R%d is invalid", regno);
        return -EINVAL;
    }
    if (regno == REG_FP) {
        nicsim_vrf_verbose(env, "frame pointer is read only");
        return -EACCES;
    }
    return 0;
}

static int record_ptr_type(struct venv *env, uint8_t type)
{
    uint8_t *prev = &env->aux[env->insn_idx].ptr_type;

    if (*prev == NICSIM_NOT_INIT) {
        *prev = type;
        return 0;
    }
    if (*prev != type && (*prev == NICSIM_PTR_TO_CTX || type == NICSIM_PTR_TO_CTX)) {
        nicsim_vrf_verbose(env, "same insn cannot be used with different pointers");
        return -EINVAL;
    }
    return 0;
}

/* xdp_is_valid_access: struct xdp_md is data, data_end, data_meta, ingress_ifindex,
 * rx_queue_index, egress_ifindex (6 x u32). */
static int check_ctx_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                            int off, int size, int is_write, struct nicsim_reg_state *dst)
{
    int ok;

    /* __check_ptr_off_reg, in its order */
    if (reg->off < 0) {
        nicsim_vrf_verbose(env, "negative offset ctx ptr R%d off=%d disallowed", regno, reg->off);
        return -EACCES;
    }
    if (reg->off) {
        nicsim_vrf_verbose(env, "dereference of modified ctx ptr R%d off=%d disallowed", regno,
                           reg->off);
        return -EACCES;
    }
    if (reg->var_off) {
        char tn[48];

        nicsim_vrf_verbose(env, "variable ctx access var_off=%s disallowed",
                           nicsim_vrf_tnum_str(nicsim_vrf_tnum_of(reg), tn, sizeof(tn)));
        return -EACCES;
    }
    ok = off >= 0 && off < 24 && size == 4 && off % size == 0;
    if (off == 20 && env->prog->expected_attach_type != BPF_XDP_DEVMAP)
        ok = 0;
    if (is_write && !(nicsim_bpf_prog_is_offloaded(env->prog) && off == 16))
        ok = 0;
    if (!ok) {
        nicsim_vrf_verbose(env, "invalid bpf_context access off=%d size=%d", off, size);
        return -EACCES;
    }
    env->aux[env->insn_idx].ctx_field_size = (uint8_t)size;
    if (!dst)
        return 0;
    memset(dst, 0, sizeof(*dst));
    switch (off) {
    case 0:
        dst->type = NICSIM_PTR_TO_PACKET;
        break;
    case 4:
        dst->type = NICSIM_PTR_TO_PACKET_END;
        break;
    case 8:
        dst->type = NICSIM_PTR_TO_PACKET_META;
        break;
    default:
        nicsim_vrf_mark_unknown(dst);
        break;
    }
    return 0;
}

/* bpf_map_flags_to_cap + check_map_access_type: a program may not read a map created with
 * BPF_F_WRONLY_PROG nor write one created with BPF_F_RDONLY_PROG. `off` includes reg->off. */
static int check_map_access_type(struct venv *env, const struct nicsim_bpf_map *map, long off,
                                 int size, int is_write)
{
    if (is_write && (map->map_flags & BPF_F_RDONLY_PROG)) {
        nicsim_vrf_verbose(env, "write into map forbidden, value_size=%u off=%ld size=%d",
                           map->value_size, off, size);
        return -EACCES;
    }
    if (!is_write && (map->map_flags & BPF_F_WRONLY_PROG) &&
        !(map->map_flags & BPF_F_RDONLY_PROG)) {
        nicsim_vrf_verbose(env, "read from map forbidden, value_size=%u off=%ld size=%d",
                           map->value_size, off, size);
        return -EACCES;
    }
    return 0;
}

/* __check_mem_access for a map value. */
static int map_value_range_ok(struct venv *env, int off, int size, uint32_t value_size, int zero_ok)
{
    bool size_ok = size > 0 || (size == 0 && zero_ok);

    if (off >= 0 && size_ok && (uint64_t)off + (uint64_t)size <= value_size)
        return 0;
    nicsim_vrf_verbose(env, "invalid access to map value, value_size=%u off=%d size=%d", value_size,
                       off, size);
    return -EACCES;
}

/* check_map_access_type + check_map_access (check_mem_region_access): the access at `off`
 * (the instruction's; the pointer's fixed offset is added here) of `size` bytes must lie within
 * the value for every value the pointer's variable offset may take: its smallest (smin) and its
 * largest (umax, which must be below BPF_MAX_VAR_OFF). A program the kernel refuses for its
 * map accesses is refused here, whatever the NIC checks at run time. */
int nicsim_vrf_check_map_value_access(struct venv *env, int regno,
                                      const struct nicsim_reg_state *reg, int off, int size,
                                      int is_write, int zero_ok)
{
    struct nicsim_bpf_map *map = reg->map_ptr;
    long o = (long)reg->off + off;
    int err;

    if (!map) {
        nicsim_vrf_verbose(env, "R%d invalid map_ptr to access map value", regno);
        return -EACCES;
    }
    err = check_map_access_type(env, map, o, size, is_write);
    if (err)
        return err;
    if (reg->smin < 0 && (reg->smin == INT64_MIN || o + reg->smin != (int32_t)(o + reg->smin) ||
                          reg->smin + o < 0)) {
        nicsim_vrf_verbose(
            env,
            "R%d min value is negative, either use unsigned index or do a if (index >=0) "
            "check.",
            regno);
        return -EACCES;
    }
    if (map_value_range_ok(env, (int)(reg->smin + o), size, map->value_size, zero_ok)) {
        nicsim_vrf_verbose(env, "R%d min value is outside of the allowed memory range", regno);
        return -EACCES;
    }
    if (reg->umax >= MAX_VAR_OFF) {
        nicsim_vrf_verbose(
            env, "R%d unbounded memory access, make sure to bounds check any such access", regno);
        return -EACCES;
    }
    if (map_value_range_ok(env, (int)(reg->umax + o), size, map->value_size, zero_ok)) {
        nicsim_vrf_verbose(env, "R%d max value is outside of the allowed memory range", regno);
        return -EACCES;
    }
    return 0;
}

/* Reading struct bpf_map through a map pointer (check_ptr_to_map_access + btf_struct_access),
 * as the running kernel (6.18, x86-64) lays it out: the fields up to `id`. Scalars read as
 * unknown numbers (the NIC gets the map's actual value, nicsim_bpf_map_field); pointer members
 * would be PTR_TO_BTF_ID, which this verifier does not model. */
struct map_member {
    const char *name;
    int off, size;
    bool ptr;
};
static const struct map_member map_members[] = {
    {"sha", 0, 32, false},           {"excl", 32, 4, false},       {"ops", 40, 8, true},
    {"inner_map_meta", 48, 8, true}, {"security", 56, 8, true},    {"map_type", 64, 4, false},
    {"key_size", 68, 4, false},      {"value_size", 72, 4, false}, {"max_entries", 76, 4, false},
    {"map_extra", 80, 8, false},     {"map_flags", 88, 4, false},  {"id", 92, 4, false},
};
#define MAP_MEMBERS_END 96

/* The BTF struct the kernel's map_btf_id names for a map type. */
static const char *map_btf_struct(uint32_t map_type)
{
    switch (map_type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_CGROUP_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
        return "bpf_array";
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_HASH_OF_MAPS:
        return "bpf_htab";
    case BPF_MAP_TYPE_LPM_TRIE:
        return "lpm_trie";
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
        return "bpf_dtab";
    case BPF_MAP_TYPE_RINGBUF:
        return "bpf_ringbuf_map";
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
        return "bpf_queue_stack";
    default:
        return "bpf_map";
    }
}

static int check_map_ptr_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                int off, int size, int is_write, struct nicsim_reg_state *dst)
{
    const char *tname = map_btf_struct(reg->map_ptr ? reg->map_ptr->map_type : 0);
    int o = reg->off + off;

    if (o < 0) {
        nicsim_vrf_verbose(env, "R%d is %s invalid negative access: off=%d", regno, tname, o);
        return -EACCES;
    }
    if (is_write) {
        nicsim_vrf_verbose(env, "only read from %s is supported", tname);
        return -EACCES;
    }
    if (o + size > MAP_MEMBERS_END) {
        nicsim_vrf_verbose(
            env,
            "reading struct %s at off %d size %d (beyond struct bpf_map's id) is not "
            "supported by the nicsim verifier",
            tname, o, size);
        return -EOPNOTSUPP;
    }
    for (size_t i = 0; i < sizeof(map_members) / sizeof(map_members[0]); i++) {
        const struct map_member *m = &map_members[i];

        if (o < m->off || o >= m->off + m->size)
            continue;
        if (m->ptr && (o != m->off || size != m->size)) {
            nicsim_vrf_verbose(
                env,
                "cannot access ptr member %s with moff %d in struct bpf_map with off %d "
                "size %d",
                m->name, m->off, o, size);
            return -EACCES;
        }
        if (m->ptr) {
            nicsim_vrf_verbose(env,
                               "reading pointer member %s of struct bpf_map (a BTF pointer) is not "
                               "supported by the nicsim verifier",
                               m->name);
            return -EOPNOTSUPP;
        }
        if (o + size > m->off + m->size) {
            nicsim_vrf_verbose(
                env,
                "access beyond the end of member %s (mend:%d) in struct bpf_map with off %d "
                "size %d",
                m->name, m->off + m->size, o, size);
            return -EACCES;
        }
        if (dst)
            nicsim_vrf_mark_unknown(dst);
        return 0;
    }
    nicsim_vrf_verbose(env, "struct bpf_map doesn't have field at offset %d", o);
    return -EINVAL;
}

int nicsim_bpf_map_field(const struct nicsim_bpf_map *map, int off, int size, uint64_t *val)
{
    uint8_t img[MAP_MEMBERS_END] = {0}; /* sha, excl, map_extra: 0 as a fresh kernel map has */
    uint64_t v = 0;

    if (!map || !val || off < 0 || size <= 0 || size > 8 || off + size > MAP_MEMBERS_END)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(map_members) / sizeof(map_members[0]); i++)
        if (map_members[i].ptr && off < map_members[i].off + map_members[i].size &&
            off + size > map_members[i].off)
            return -EINVAL;
    memcpy(img + 64, &map->map_type, 4);
    memcpy(img + 68, &map->key_size, 4);
    memcpy(img + 72, &map->value_size, 4);
    memcpy(img + 76, &map->max_entries, 4);
    memcpy(img + 88, &map->map_flags, 4);
    memcpy(img + 92, &map->id, 4);
    memcpy(&v, img + off, (size_t)size); /* little-endian */
    *val = v;
    return 0;
}

/* check_packet_access + __check_mem_access: `off` (the instruction's plus the pointer's fixed
 * offset) + size must lie within the range learnt for the pointer from comparisons with data_end
 * (data for pkt_meta); the range already covers the variable offset, which must not be negative. */
int nicsim_vrf_check_packet_access(struct venv *env, int regno, const struct nicsim_reg_state *reg,
                                   int off, int size, int zero_ok)
{
    if (reg->smin < 0) {
        nicsim_vrf_verbose(
            env,
            "R%d min value is negative, either use unsigned index or do a if (index >=0) "
            "check.",
            regno);
        return -EACCES;
    }
    if (reg->range >= 0 && off >= 0 && (size > 0 || (size == 0 && zero_ok)) &&
        (int64_t)off + size <= reg->range)
        return 0;
    if (reg->range >= 0)
        nicsim_vrf_verbose(env, "invalid access to packet, off=%d size=%d, R%d(id=%u,off=%d,r=%d)",
                           off, size, regno, reg->id, off, reg->range);
    nicsim_vrf_verbose(env, "R%d offset is outside of the packet", regno);
    return reg->range < 0 ? -EINVAL : -EACCES;
}

/* check_mem_access for LDX / ST / STX. val: the stored register (STX) or NULL (ST imm). */
int nicsim_vrf_check_mem_access(struct venv *env, int regno, int off, int size, int is_write,
                                const struct nicsim_reg_state *val, int64_t imm,
                                struct nicsim_reg_state *dst)
{
    struct nicsim_reg_state reg = nicsim_vrf_cur_regs(env)[regno];
    int err;

    err = record_ptr_type(env, reg.type);
    if (err)
        return err;
    switch (reg.type) {
    case NICSIM_PTR_TO_STACK:
        if (is_write)
            return nicsim_vrf_check_stack_write(env, regno, &reg, off, size, val, !val && imm == 0,
                                                imm);
        return nicsim_vrf_check_stack_read(env, regno, &reg, off, size, dst);
    case NICSIM_PTR_TO_CTX:
        return check_ctx_access(env, regno, &reg, off, size, is_write, dst);
    case NICSIM_PTR_TO_PACKET:
    case NICSIM_PTR_TO_PACKET_META:
        err = nicsim_vrf_check_packet_access(env, regno, &reg, reg.off + off, size, 0);
        if (!err && dst)
            nicsim_vrf_mark_unknown(dst);
        return err;
    case NICSIM_PTR_TO_MAP_VALUE:
        /* check_generic_ptr_alignment: strict for atomics (strict_alignment_once) */
        if (env->strict_align && size > 1 &&
            !nicsim_vrf_tnum_aligned(
                nicsim_vrf_tnum_add(nicsim_vrf_tnum_of(&reg),
                                    nicsim_vrf_tnum_const((uint64_t)(int64_t)(reg.off + off))),
                size)) {
            char tn[48];

            nicsim_vrf_verbose(env, "misaligned value access off %s+%d+%d size %d",
                               nicsim_vrf_tnum_str(nicsim_vrf_tnum_of(&reg), tn, sizeof(tn)),
                               reg.off, off, size);
            return -EACCES;
        }
        err = nicsim_vrf_check_map_value_access(env, regno, &reg, off, size, is_write, 0);
        if (!err && dst)
            nicsim_vrf_mark_unknown(dst);
        return err;
    case NICSIM_CONST_PTR_TO_MAP:
        return check_map_ptr_access(env, regno, &reg, off, size, is_write, dst);
    default:
        nicsim_vrf_verbose(env, "R%d invalid mem access '%s'", regno,
                           nicsim_reg_type_str(reg.type));
        return -EACCES;
    }
}
