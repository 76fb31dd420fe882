/* SPDX-License-Identifier: MIT */
/*
 * The firmware's map table: ids, the firmware's record of each map (fw_map_ent), and the map
 * library (include/nicsim/fw_maps.h) that stores the elements, checks the attributes and charges
 * the map-memory budget.
 *
 * The library answers kernel errnos; the one the control protocol cannot carry, the kernel's
 * internal ENOTSUPP (524, "not supported by this map type"), goes out as -EOPNOTSUPP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/fw_maps.h"

#include "fw_internal.h"
#include "nicsim/util.h"

/* The map library writes into a caller's buffer: hand it the carrier's text (no index). */
static char *msg_text(struct nicsim_msg *m)
{
    m->index = -1;
    return m->msg;
}
#define MSG_BUF(m) msg_text(m), sizeof((m)->msg)

static int wire_err(int err)
{
    return err == -NICSIM_ENOTSUPP ? -EOPNOTSUPP : err;
}

uint64_t nicsim_fw_maps_types(void)
{
    uint64_t m = 0;

    for (uint32_t t = 1; t < 64; t++)
        if (nicsim_fw_maps__type_supported(t))
            m |= 1ull << t;
    return m;
}

int nicsim_fw_maps_init(struct nicsim_fw *fw)
{
    struct nicsim_fw_maps_opts o = {
        .sz = sizeof(o), .n_cpus = fw->n_cores, .mem_budget = fw->map_mem, .max_id = fw->max_maps};

    fw->maps = nicsim_fw_maps__new(&o);
    return fw->maps ? 0 : -errno;
}

void nicsim_fw_maps_fini(struct nicsim_fw *fw)
{
    nicsim_fw_maps__free(fw->maps);
    fw->maps = NULL;
}

uint64_t nicsim_fw_maps_mem_used(const struct nicsim_fw *fw)
{
    return nicsim_fw_maps__mem_used(fw->maps);
}

const struct fw_map_ent *nicsim_fw_map_get(const struct nicsim_fw *fw, uint32_t id)
{
    if (!id || id > fw->max_maps || !fw->map_ent[id].used)
        return NULL;
    return &fw->map_ent[id];
}

size_t nicsim_fw_map_host_value_size(const struct nicsim_fw *fw, uint32_t id)
{
    if (!nicsim_fw_map_get(fw, id))
        return 0;
    return nicsim_fw_maps__host_value_size(fw->maps, id);
}

int nicsim_fw_map_create(struct nicsim_fw *fw, const struct nicsim_cmsg_map_alloc *a, uint32_t *id,
                         uint64_t *mem, struct nicsim_msg *msg)
{
    struct nicsim_fw_map_attr attr = {.type = a->type,
                                      .key_size = a->key_size,
                                      .value_size = a->value_size,
                                      .max_entries = a->max_entries,
                                      .flags = a->map_flags,
                                      .inner_map_id = a->inner_map_id,
                                      .map_extra = a->map_extra};
    struct nicsim_fw_map_info info;
    uint32_t slot = 0;
    int err;

    for (uint32_t i = 1; i <= fw->max_maps && !slot; i++)
        if (!fw->map_ent[i].used && !nicsim_fw_maps__in_use(fw->maps, i))
            slot = i; /* not a freed inner map an outer map still holds */
    if (!slot) {
        nicsim_msg_set(msg, -1, "no free map id");
        return -ENOSPC;
    }
    err = nicsim_fw_maps__create(fw->maps, slot, &attr, MSG_BUF(msg));
    if (err)
        return wire_err(err);
    nicsim_fw_maps__info(fw->maps, slot, &info);
    fw->map_ent[slot] = (struct fw_map_ent){.type = info.type,
                                            .key_size = info.key_size,
                                            .value_size = info.value_size,
                                            .max_entries = info.max_entries,
                                            .flags = info.flags,
                                            .mem = info.mem,
                                            .used = 1};
    fw->n_maps++;
    *id = slot;
    *mem = info.mem;
    return 0;
}

int nicsim_fw_map_destroy(struct nicsim_fw *fw, uint32_t id)
{
    if (!nicsim_fw_map_get(fw, id))
        return -ENOENT;
    nicsim_fw_maps__destroy(fw->maps, id);
    memset(&fw->map_ent[id], 0, sizeof(fw->map_ent[id]));
    fw->n_maps--;
    return 0;
}

int nicsim_fw_map_lookup(struct nicsim_fw *fw, uint32_t id, const void *key, void *value,
                         int and_delete, struct nicsim_msg *msg)
{
    const struct fw_map_ent *m = nicsim_fw_map_get(fw, id);

    if (!m) {
        nicsim_msg_set(msg, -1, "no map %u", id);
        return -ENOENT;
    }
    if (m->type == BPF_MAP_TYPE_BLOOM_FILTER && !and_delete) {
        /* the lookup message carries no value to test for membership */
        nicsim_msg_set(msg, -1, "bloom filters answer membership only");
        return -EOPNOTSUPP;
    }
    if (and_delete)
        return wire_err(nicsim_fw_maps__lookup_and_delete(fw->maps, id, key, value, MSG_BUF(msg)));
    return wire_err(nicsim_fw_maps__lookup(fw->maps, id, key, value, MSG_BUF(msg)));
}

int nicsim_fw_map_update(struct nicsim_fw *fw, uint32_t id, const void *key, const void *value,
                         uint64_t flags, struct nicsim_msg *msg)
{
    if (!nicsim_fw_map_get(fw, id)) {
        nicsim_msg_set(msg, -1, "no map %u", id);
        return -ENOENT;
    }
    return wire_err(nicsim_fw_maps__update(fw->maps, id, key, value, flags, MSG_BUF(msg)));
}

int nicsim_fw_map_delete(struct nicsim_fw *fw, uint32_t id, const void *key, struct nicsim_msg *msg)
{
    if (!nicsim_fw_map_get(fw, id)) {
        nicsim_msg_set(msg, -1, "no map %u", id);
        return -ENOENT;
    }
    return wire_err(nicsim_fw_maps__delete(fw->maps, id, key, MSG_BUF(msg)));
}

int nicsim_fw_map_get_next(struct nicsim_fw *fw, uint32_t id, const void *key, void *next,
                           struct nicsim_msg *msg)
{
    if (!nicsim_fw_map_get(fw, id)) {
        nicsim_msg_set(msg, -1, "no map %u", id);
        return -ENOENT;
    }
    return wire_err(nicsim_fw_maps__get_next_key(fw->maps, id, key, next, MSG_BUF(msg)));
}
