/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: devmap and devmap hash elements (kernel/bpf/devmap.c).
 */
#include <errno.h>
#include <string.h>

#include "fw_maps_internal.h"

/* A devmap value (struct bpf_devmap_val): the ifindex; a program fd is refused. */
int fm_devmap_value(struct fm_map *f, const void *value, uint8_t *out)
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

/* devmap hash: hash by index, a replacement goes to the bucket head, BPF_EXIST unchecked */
int fm_devhash_update(struct fm_map *f, const void *key, const void *value, uint64_t flags)
{
    struct fm_htab *h = f->h;
    uint32_t hash = fm_key_u32(key), old, e;
    uint8_t v[8];
    int err;

    if (flags > BPF_EXIST || !fm_key_u32(value))
        return -EINVAL;
    old = fm_htab_find(h, key, hash);
    if (old != FM_NIL && (flags & BPF_NOEXIST))
        return -EEXIST;
    err = fm_devmap_value(f, value, v);
    if (err)
        return err;
    if (old != FM_NIL) {
        fm_htab_unlink(h, old);
        e = old;
    } else {
        if (h->count >= f->max_entries)
            return -E2BIG;
        e = fm_htab_alloc(h);
        if (e == FM_NIL)
            return -E2BIG;
        memcpy(h->keys + (size_t)e * 4, key, 4);
    }
    memcpy(fm_slot_val(f, e), v, f->value_size);
    fm_htab_link_head(h, e, hash);
    return 0;
}
