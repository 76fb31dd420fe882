/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: queue and stack maps (kernel/bpf/queue_stack_maps.c).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

/* A ring of max_entries + 1 slots; positions in 64 bits (the slot
 * count is 2^32 for max_entries 0xffffffff, which map_geometry refuses anyway). */
static uint32_t qs_at(const struct fm_map *f, uint64_t pos)
{
    return (uint32_t)(pos % ((uint64_t)f->max_entries + 1));
}

int fm_qs_push(struct fm_map *f, const void *value, uint64_t flags)
{
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

int fm_qs_peek_pop(struct fm_map *f, void *value, int pop)
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
