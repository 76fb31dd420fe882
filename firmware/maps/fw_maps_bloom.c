/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: bloom filter maps (kernel/bpf/bloom_filter.c).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

/* bloom_map_alloc: k = map_extra's hash functions (0: 5); max_entries * k * 7 / 5 bits rounded
 * up to a power of two, in 64 bits where the kernel's u32 products overflow to 2^32 bits. */
void fm_bloom_size(struct fm_map *f, uint64_t map_extra)
{
    uint64_t nr_bits;

    f->bloom_nr_hash = map_extra & 0xf ? (uint32_t)(map_extra & 0xf) : 5;
    nr_bits = (uint64_t)f->max_entries * f->bloom_nr_hash;
    if (nr_bits > UINT32_MAX || nr_bits / 5 * 7 > (1ull << 31)) {
        f->bloom_mask = UINT32_MAX; /* the kernel's overflow case: 2^32 bits */
        return;
    }
    nr_bits = nr_bits / 5 * 7;
    nr_bits = nr_bits <= 64 ? 64 : fm_roundup_pow2(nr_bits);
    f->bloom_mask = (uint32_t)(nr_bits - 1);
}

static uint32_t bloom_hash(const struct fm_map *f, const void *value, uint32_t i)
{
    uint32_t h = f->value_size % 4 == 0 ? fm_jhash2(value, f->value_size / 4, f->seed + i)
                                        : fm_jhash(value, f->value_size, f->seed + i);

    return h & f->bloom_mask;
}

int fm_bloom_push(struct fm_map *f, const void *value, uint64_t flags)
{
    if (flags != BPF_ANY)
        return -EINVAL;
    for (uint32_t i = 0; i < f->bloom_nr_hash; i++) {
        uint32_t b = bloom_hash(f, value, i);

        f->bits[b / 8] |= (uint8_t)(1u << (b % 8));
    }
    return 0;
}

int fm_bloom_peek(const struct fm_map *f, const void *value)
{
    for (uint32_t i = 0; i < f->bloom_nr_hash; i++) {
        uint32_t b = bloom_hash(f, value, i);

        if (!(f->bits[b / 8] & (1u << (b % 8))))
            return -ENOENT;
    }
    return 0;
}
