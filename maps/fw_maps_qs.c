/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: queue and stack maps (kernel/bpf/queue_stack_maps.c). No keys; push is an
 * update, peek a lookup, pop a lookup-and-delete. Programs push, peek and pop too.
 *
 * Limits (queue_stack_map_alloc_check):
 *   key_size 0; value_size > 0 and <= KMALLOC_MAX_SIZE (-E2BIG); max_entries > 0;
 *   map_flags within QS_CREATE_FLAG_MASK; value memory (max_entries + 1) * value_size
 *   <= 4 GiB - 1 (the core).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

#define QS_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | FM_ACCESS_MASK)

static int qs_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries || a->key_size || !a->value_size || (a->flags & ~QS_CREATE_FLAG_MASK) ||
        !fm_access_ok(a->flags))
        FAIL(-EINVAL, "queue / stack: key_size 0, value_size and max_entries > 0 needed");
    if (a->value_size > KMALLOC_MAX_SIZE)
        FAIL(-E2BIG, "value_size %u is too large", a->value_size);
    return 0;
}

/* a ring of max_entries + 1 raw values */
static int qs_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                       uint64_t *n_slots, char *msg, size_t msg_len)
{
    (void)m, (void)map_extra, (void)msg, (void)msg_len;
    f->stride = f->value_size;
    f->n_cpus = 1;
    *n_slots = (uint64_t)f->max_entries + 1;
    return 0;
}

/* every map 64, + (N + 1) * round8(value) */
static int qs_mem(const struct fm_map *f, uint64_t *mem)
{
    return fm_size((uint64_t)f->max_entries + 1, nicsim_round8(f->value_size), 64, mem);
}

static uint32_t qs_count(const struct fm_map *f)
{
    return f->q_count;
}

/* A ring of max_entries + 1 slots; positions in 64 bits (the slot
 * count is 2^32 for max_entries 0xffffffff, which map_geometry refuses anyway). */
static uint32_t qs_at(const struct fm_map *f, uint64_t pos)
{
    return (uint32_t)(pos % ((uint64_t)f->max_entries + 1));
}

static int qs_push(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, const void *value,
                   uint64_t flags, struct fm_src s)
{
    (void)m, (void)key, (void)s;
    if ((flags & BPF_NOEXIST) || flags > BPF_EXIST)
        return -EINVAL;
    if (f->q_count == f->max_entries) {
        if (!(flags & BPF_EXIST))
            return -E2BIG;
        f->q_head = qs_at(f, (uint64_t)f->q_head + 1); /* drop the oldest */
        f->q_count--;
    }
    memcpy(fm_slot_val(f, qs_at(f, (uint64_t)f->q_head + f->q_count)), value, f->value_size);
    f->q_count++;
    return 0;
}

static int qs_peek_pop(struct fm_map *f, void *value, int pop)
{
    uint32_t at;

    if (!f->q_count)
        return -ENOENT;
    at = f->type == BPF_MAP_TYPE_QUEUE ? f->q_head : qs_at(f, (uint64_t)f->q_head + f->q_count - 1);
    memcpy(value, fm_slot_val(f, at), f->value_size);
    if (pop) {
        if (f->type == BPF_MAP_TYPE_QUEUE)
            f->q_head = qs_at(f, (uint64_t)f->q_head + 1);
        f->q_count--;
    }
    return 0;
}

static int qs_peek(struct fm_map *f, const void *key, void *value)
{
    (void)key;
    return qs_peek_pop(f, value, 0);
}

static int qs_pop(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, void *value)
{
    (void)m, (void)key;
    return qs_peek_pop(f, value, 1);
}

/* elements cannot be deleted by key */
static int qs_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    (void)m, (void)f, (void)key;
    return -EINVAL;
}

static int qs_get_next_key(struct fm_map *f, const void *key, void *next)
{
    (void)f, (void)key, (void)next;
    return -EINVAL;
}

const struct fm_map_ops nicsim_fm_queue_ops = {
    .name = "queue",
    .prog_write = 1,
    .enoent_why = "empty",
    .check = qs_check,
    .geometry = qs_geometry,
    .mem = qs_mem,
    .count = qs_count,
    .lookup = qs_peek,
    .lookup_and_delete = qs_pop,
    .update = qs_push,
    .del = qs_delete,
    .get_next_key = qs_get_next_key,
};

const struct fm_map_ops nicsim_fm_stack_ops = {
    .name = "stack",
    .prog_write = 1,
    .enoent_why = "empty",
    .check = qs_check,
    .geometry = qs_geometry,
    .mem = qs_mem,
    .count = qs_count,
    .lookup = qs_peek,
    .lookup_and_delete = qs_pop,
    .update = qs_push,
    .del = qs_delete,
    .get_next_key = qs_get_next_key,
};
