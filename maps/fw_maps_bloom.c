/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: bloom filter maps (kernel/bpf/bloom_filter.c). No keys; push is an update,
 * peek a lookup (0: maybe present, -ENOENT: absent); elements cannot be deleted.
 *
 * Limits (bloom_map_alloc_check, bloom_map_alloc):
 *   value_size <= KMALLOC_MAX_SIZE (-E2BIG); key_size 0; value_size, max_entries > 0;
 *   map_flags within BLOOM_CREATE_FLAG_MASK; map_extra bits 0-3 only (the hash functions);
 *   the bit array: max_entries * k * 7 / 5 bits rounded up to a power of two, at most 2^32.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

#define BLOOM_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | FM_ACCESS_MASK)

static int bloom_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size > KMALLOC_MAX_SIZE) /* bloom_map_alloc_check, before map_alloc */
        FAIL(-E2BIG, "bloom filter: value_size %u is more than %llu", a->value_size,
             (unsigned long long)KMALLOC_MAX_SIZE);
    if (a->key_size || !a->value_size || !a->max_entries || (a->flags & ~BLOOM_CREATE_FLAG_MASK) ||
        !fm_access_ok(a->flags))
        FAIL(-EINVAL, "bloom filter: key_size 0, value_size and max_entries > 0 needed");
    if (a->map_extra & ~0xfull)
        FAIL(-EINVAL, "bloom filter: map_extra 0x%llx, only bits 0-3 (hash functions) exist",
             (unsigned long long)a->map_extra);
    return 0;
}

/* bloom_map_alloc: k = map_extra's hash functions (0: 5); max_entries * k * 7 / 5 bits rounded
 * up to a power of two, in 64 bits where the kernel's u32 products overflow to 2^32 bits. */
static int bloom_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                          uint64_t *n_slots, char *msg, size_t msg_len)
{
    uint64_t nr_bits;

    (void)m, (void)msg, (void)msg_len;
    *n_slots = 0; /* no value memory: the bit array */

    f->bloom_nr_hash = map_extra & 0xf ? (uint32_t)(map_extra & 0xf) : 5;
    nr_bits = (uint64_t)f->max_entries * f->bloom_nr_hash;
    if (nr_bits > UINT32_MAX || nr_bits / 5 * 7 > (1ull << 31)) {
        f->bloom_mask = UINT32_MAX; /* the kernel's overflow case: 2^32 bits */
        return 0;
    }
    nr_bits = nr_bits / 5 * 7;
    nr_bits = nr_bits <= 64 ? 64 : fm_roundup_pow2(nr_bits);
    f->bloom_mask = (uint32_t)(nr_bits - 1);
    return 0;
}

/* every map 64, + the bit array's bytes */
static int bloom_mem(const struct fm_map *f, uint64_t *mem)
{
    *mem = 64 + (uint64_t)f->bloom_mask / 8 + 1;
    return 0;
}

static int bloom_alloc(const struct nicsim_fw_maps *m, struct fm_map *f)
{
    f->seed = (f->flags & BPF_F_ZERO_SEED) ? 0 : m->hash_seed;
    f->bits = calloc((size_t)f->bloom_mask / 8 + 1, 1);
    return f->bits ? 0 : -ENOMEM;
}

static void bloom_free(struct fm_map *f)
{
    free(f->bits);
}

static uint32_t bloom_hash(const struct fm_map *f, const void *value, uint32_t i)
{
    uint32_t h = f->value_size % 4 == 0 ? nicsim_fm_jhash2(value, f->value_size / 4, f->seed + i)
                                        : nicsim_fm_jhash(value, f->value_size, f->seed + i);

    return h & f->bloom_mask;
}

static int bloom_push(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                      const void *value, uint64_t flags, struct fm_src s)
{
    (void)m, (void)key, (void)s;
    if (flags != BPF_ANY)
        return -EINVAL;
    for (uint32_t i = 0; i < f->bloom_nr_hash; i++) {
        uint32_t b = bloom_hash(f, value, i);

        f->bits[b / 8] |= (uint8_t)(1u << (b % 8));
    }
    return 0;
}

static int bloom_peek(struct fm_map *f, const void *key, void *value)
{
    (void)key;
    for (uint32_t i = 0; i < f->bloom_nr_hash; i++) {
        uint32_t b = bloom_hash(f, value, i);

        if (!(f->bits[b / 8] & (1u << (b % 8))))
            return -ENOENT;
    }
    return 0;
}

static int bloom_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    (void)m, (void)f, (void)key;
    return -EOPNOTSUPP;
}

static int bloom_get_next_key(struct fm_map *f, const void *key, void *next)
{
    (void)f, (void)key, (void)next;
    return -EINVAL;
}

const struct fm_map_ops nicsim_fm_bloom_ops = {
    .name = "bloom filter",
    .prog_write = 1,
    .map_extra = 1,
    .check = bloom_check,
    .geometry = bloom_geometry,
    .mem = bloom_mem,
    .alloc = bloom_alloc,
    .free = bloom_free,
    .lookup = bloom_peek,
    .update = bloom_push,
    .del = bloom_delete,
    .get_next_key = bloom_get_next_key,
};
