/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: devmap and devmap hash (kernel/bpf/devmap.c), the redirect targets of
 * bpf_redirect_map. A devmap is indexed by a u32 key with a slot-present flag; a devmap hash
 * hashes the key itself (identity hash). Values are struct bpf_devmap_val: the target ifindex
 * and a program fd, which the NIC refuses (it runs no second program). Programs only read them
 * (dev_map_init_map sets BPF_F_RDONLY_PROG).
 *
 * Limits (dev_map_alloc_check / dev_map_init_map):
 *   key_size 4; value_size 4 (ifindex) or 8 (ifindex, prog fd); max_entries > 0;
 *   map_flags within DEV_CREATE_FLAG_MASK; devmap hash: max_entries <= 2^31 (-EINVAL).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

#define DEV_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)

static int dev_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries || a->key_size != 4 || (a->value_size != 4 && a->value_size != 8) ||
        (a->flags & ~DEV_CREATE_FLAG_MASK))
        FAIL(-EINVAL,
             "devmap: key_size 4, value_size 4 (ifindex) or 8 (ifindex, prog fd), "
             "max_entries > 0 and map_flags within 0x%x needed",
             DEV_CREATE_FLAG_MASK);
    if (a->type == BPF_MAP_TYPE_DEVMAP_HASH && a->max_entries > (1u << 31))
        FAIL(-EINVAL, "max_entries %u is too large", a->max_entries);
    return 0;
}

static int dev_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                        uint64_t *n_slots, char *msg, size_t msg_len)
{
    f->flags |= BPF_F_RDONLY_PROG; /* as dev_map_init_map */
    return nicsim_fm_geometry_entries(m, f, map_extra, n_slots, msg, msg_len);
}

/* A devmap value (struct bpf_devmap_val): the ifindex; a program fd is refused. */
static int devmap_value(struct fm_map *f, const void *value, uint8_t *out)
{
    uint32_t ifindex = fm_key_u32(value);
    int32_t fd = -1;

    if (f->value_size == 8)
        memcpy(&fd, (const uint8_t *)value + 4, 4);
    if (!ifindex && fd > 0)
        return -EINVAL; /* no program without a device */
    if (fd > 0)
        return -EINVAL; /* DEVMAP programs are not run by the NIC */
    memset(out, 0, 8);
    memcpy(out, &ifindex, 4); /* bpf_prog.id stays 0 */
    return 0;
}

static int devmap_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                         const void *value, uint64_t flags, struct fm_src s)
{
    uint32_t idx;
    uint8_t v[8];
    int err;

    (void)m;
    if (s.prog)
        return -EOPNOTSUPP;
    if (flags > BPF_EXIST)
        return -EINVAL;
    idx = fm_key_u32(key);
    if (idx >= f->max_entries)
        return -E2BIG;
    if (flags == BPF_NOEXIST)
        return -EEXIST;
    err = devmap_value(f, value, v);
    if (err)
        return err;
    if (!fm_key_u32(v)) { /* ifindex 0 empties the slot */
        if (f->present[idx])
            f->count--;
        f->present[idx] = 0;
        return 0;
    }
    memcpy(fm_slot_val(f, idx), v, f->value_size);
    if (!f->present[idx])
        f->count++;
    f->present[idx] = 1;
    return 0;
}

/* devmap, cpumap: empty the slot, an empty one included */
int nicsim_fm_dev_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t idx = fm_key_u32(key);

    (void)m;
    if (idx >= f->max_entries)
        return -EINVAL;
    if (f->present[idx])
        f->count--;
    f->present[idx] = 0;
    return 0;
}

static int devmap_redirect(struct fm_map *f, uint32_t key, uint32_t *ifindex)
{
    if (key >= f->max_entries || !f->present[key])
        return -ENOENT;
    memcpy(ifindex, fm_slot_val(f, key), 4);
    return 0;
}

/* ---- devmap hash */
/* every map 64, + 8 * B + N * 40 */
static int devhash_mem(const struct fm_map *f, uint64_t *mem)
{
    uint64_t x;
    int err = fm_size(fm_roundup_pow2(f->max_entries), 8, 64, &x);

    return err ? err : fm_size(f->max_entries, 40, x, mem);
}

static int devhash_alloc(const struct nicsim_fw_maps *m, struct fm_map *f)
{
    uint32_t seed = (f->flags & BPF_F_ZERO_SEED) ? 0 : m->hash_seed;
    int err;

    f->h = calloc(1, sizeof(*f->h));
    err = f->h ? nicsim_fm_htab_init(f->h, f->max_entries, f->key_size, seed, 1, 0, 0, m->n_cpus)
               : -ENOMEM;
    if (err) {
        free(f->h);
        f->h = NULL;
    }
    return err;
}

/* hash by index, a replacement goes to the bucket head, BPF_EXIST unchecked */
static int devhash_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                          const void *value, uint64_t flags, struct fm_src s)
{
    struct fm_htab *h = f->h;
    uint32_t hash = fm_key_u32(key), old, e;
    uint8_t v[8];
    int err;

    (void)m;
    if (s.prog)
        return -EOPNOTSUPP;
    if (flags > BPF_EXIST || !fm_key_u32(value))
        return -EINVAL;
    old = nicsim_fm_htab_find(h, key, hash);
    if (old != FM_NIL && (flags & BPF_NOEXIST))
        return -EEXIST;
    err = devmap_value(f, value, v);
    if (err)
        return err;
    if (old != FM_NIL) {
        nicsim_fm_htab_unlink(h, old);
        e = old;
    } else {
        if (h->count >= f->max_entries)
            return -E2BIG;
        e = nicsim_fm_htab_alloc(h);
        if (e == FM_NIL)
            return -E2BIG;
        memcpy(h->keys + (size_t)e * 4, key, 4);
    }
    memcpy(fm_slot_val(f, e), v, f->value_size);
    nicsim_fm_htab_link_head(h, e, hash);
    return 0;
}

static int devhash_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t e = nicsim_fm_htab_find(f->h, key, fm_key_u32(key));

    (void)m;
    if (e == FM_NIL)
        return -ENOENT;
    nicsim_fm_htab_unlink(f->h, e);
    nicsim_fm_htab_release(f->h, e);
    return 0;
}

static int devhash_redirect(struct fm_map *f, uint32_t key, uint32_t *ifindex)
{
    uint32_t slot = nicsim_fm_htab_find(f->h, &key, key);

    if (slot == FM_NIL)
        return -ENOENT;
    memcpy(ifindex, fm_slot_val(f, slot), 4);
    return 0;
}

const struct fm_map_ops nicsim_fm_devmap_ops = {
    .name = "devmap",
    .indexed = 1,
    .check = dev_check,
    .geometry = dev_geometry,
    .mem = nicsim_fm_mem_ids,
    .alloc = nicsim_fm_alloc_present,
    .free = nicsim_fm_free_present,
    .lookup = nicsim_fm_lookup_ids,
    .update = devmap_update,
    .del = nicsim_fm_dev_delete,
    .get_next_key = nicsim_fm_index_next_key,
    .redirect = devmap_redirect,
};

const struct fm_map_ops nicsim_fm_devmap_hash_ops = {
    .name = "devmap hash",
    .check = dev_check,
    .geometry = dev_geometry,
    .mem = devhash_mem,
    .alloc = devhash_alloc,
    .free = nicsim_fm_htab_free,
    .count = nicsim_fm_htab_count,
    .lookup = nicsim_fm_htab_lookup,
    .update = devhash_update,
    .del = devhash_delete,
    .get_next_key = nicsim_fm_htab_get_next_key,
    .redirect = devhash_redirect,
};
