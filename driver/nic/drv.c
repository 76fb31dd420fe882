/* SPDX-License-Identifier: MIT */
/*
 * The NIC driver: probe / remove, ndo_bpf, offloaded maps (after drivers/net/netdevsim/bpf.c and
 * nfp's bpf/offload.c). Every operation on the NIC goes through the control client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drv_internal.h"
#include "nicsim/util.h"

void nicsim_drv_log(struct nicsim_drv *drv, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(drv->msg, sizeof(drv->msg), fmt, ap);
    va_end(ap);
    /* the caller of the failing bpf()-style call reads it there (nicsim_kern_last_error) */
    nicsim_kern_set_error(drv->kern, DRV_NAME ": %s", drv->msg);
}

/* A map operation the NIC refused: the firmware's sentence (map, element, key, reason) goes to
 * whoever called, under the map's name. The end of a walk (-ENOENT from get-next) is no error. */
static int map_refused(struct drv_map *dm, const char *op, int err)
{
    if (err && err != -ENOENT)
        nicsim_drv_log(dm->drv, "map %s: %s: %s", dm->map->name, op,
                       nicsim_ctrl__last_error(dm->drv->ctrl));
    else if (err)
        nicsim_kern_set_error(dm->drv->kern, DRV_NAME ": map %s: %s: %s", dm->map->name, op,
                              nicsim_ctrl__last_error(dm->drv->ctrl));
    return err;
}

const char *nicsim_drv__last_msg(const struct nicsim_drv *drv)
{
    return drv ? drv->msg : "";
}

struct drv_prog *nicsim_drv_prog_of(const struct nicsim_bpf_prog *prog)
{
    const struct nicsim_bpf_prog_offload *off;

    if (!prog || !nicsim_bpf_prog_is_offloaded(prog))
        return NULL;
    off = prog->aux->offload;
    if (!off || !off->offdev || nicsim_bpf_offload_dev_ops(off->offdev) != &nicsim_drv_offload_ops)
        return NULL;
    return off->dev_priv;
}

const char *nicsim_drv__prog_state(const struct nicsim_bpf_prog *prog)
{
    const struct drv_prog *dp = nicsim_drv_prog_of(prog);

    return dp ? dp->state : NULL;
}

uint32_t nicsim_drv__nic_prog_id(const struct nicsim_bpf_prog *prog)
{
    const struct drv_prog *dp = nicsim_drv_prog_of(prog);

    return dp ? dp->nic_id : 0;
}

const void *nicsim_drv__image(const struct nicsim_bpf_prog *prog, size_t *len)
{
    const struct drv_prog *dp = nicsim_drv_prog_of(prog);

    if (len)
        *len = dp ? dp->image_len : 0;
    return dp ? dp->image : NULL;
}

const uint32_t *nicsim_drv__slot_origins(const struct nicsim_bpf_prog *prog, uint32_t *n)
{
    const struct drv_prog *dp = nicsim_drv_prog_of(prog);
    bool ok = dp && dp->image && dp->live;

    *n = ok ? dp->n_live : 0;
    return ok ? dp->live : NULL;
}

uint32_t nicsim_drv__nic_map_id(const struct nicsim_bpf_map *map)
{
    const struct drv_map *dm = map && map->offloaded && map->netdev ? map->dev_priv : NULL;

    return dm ? dm->nic_id : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Offloaded maps: element operations go to the firmware by NIC map id.
 */
static struct drv_map *dmap(struct nicsim_bpf_map *map)
{
    return map->dev_priv;
}

static const struct nicsim_bpf_map_dev_ops drv_map_ops;

static bool is_map_in_map(const struct nicsim_bpf_map *map)
{
    return map->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
           map->map_type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* A map offloaded to this NIC (not orphaned), else NULL. */
static struct drv_map *own_map(struct nicsim_drv *drv, struct nicsim_bpf_map *map)
{
    if (!map || !map->offloaded || !map->netdev || map->dev_ops != &drv_map_ops ||
        dmap(map)->drv != drv)
        return NULL;
    return dmap(map);
}

static struct drv_map *map_by_nic_id(struct nicsim_drv *drv, uint32_t nic_id)
{
    for (struct drv_map *dm = drv->maps; dm; dm = dm->next_map)
        if (dm->nic_id == nic_id)
            return dm;
    return NULL;
}

/* ---- Maps of maps: the NIC's elements hold NIC map ids; the kernel's, map references. The
 * driver keeps a kernel reference on each inner map an element of an outer map holds, so that
 * the inner map stays on the NIC (and mapped in the cores) while it can be reached, and reports
 * the kernel's map id to user space. */
static struct nicsim_bpf_map *held_map(struct drv_map *dm, const void *key)
{
    uint32_t nic_id = 0;
    struct drv_map *in;

    if (nicsim_ctrl__map_lookup(dm->drv->ctrl, dm->nic_id, key, &nic_id))
        return NULL;
    in = map_by_nic_id(dm->drv, nic_id);
    return in ? in->map : NULL;
}

static int outer_update(struct drv_map *dm, const void *key, const void *value, uint64_t flags)
{
    struct nicsim_drv *drv = dm->drv;
    struct nicsim_bpf_map *inner, *old;
    struct drv_map *in;
    uint32_t fd;
    int err;

    memcpy(&fd, value, 4);
    inner = nicsim_kern_map_by_fd(drv->kern, (int)fd);
    if (!inner) {
        err = -errno;
        nicsim_drv_log(drv, "map %s: %d is not a map descriptor", dm->map->name, (int)fd);
        return err;
    }
    in = own_map(drv, inner);
    if (!in) {
        nicsim_drv_log(drv,
                       "map %s: map %u (%s) is not offloaded to this NIC; an outer map on the NIC "
                       "can only hold maps of the NIC",
                       dm->map->name, inner->id, inner->name);
        return -EINVAL;
    }
    old = held_map(dm, key);
    err = map_refused(dm, "update",
                      nicsim_ctrl__map_update(drv->ctrl, dm->nic_id, key, &in->nic_id, flags));
    if (err)
        return err;
    nicsim_bpf_map_inc(inner);
    nicsim_bpf_map_put(old);
    return 0;
}

static int drv_map_lookup(struct nicsim_bpf_map *map, void *key, void *value)
{
    struct drv_map *dm = dmap(map);

    if (is_map_in_map(map)) {
        /* user space reads the inner map's kernel id (bpf_map_fd_sys_lookup_elem) */
        struct nicsim_bpf_map *in;
        uint32_t nic_id = 0, id;
        int err = map_refused(dm, "lookup",
                              nicsim_ctrl__map_lookup(dm->drv->ctrl, dm->nic_id, key, &nic_id));

        if (err)
            return err;
        in = map_by_nic_id(dm->drv, nic_id) ? map_by_nic_id(dm->drv, nic_id)->map : NULL;
        id = in ? in->id : 0;
        memcpy(value, &id, 4);
        return 0;
    }

    if (map->map_type == BPF_MAP_TYPE_PROG_ARRAY) {
        /* The kernel reports the program's id for prog array lookups from user space. */
        uint32_t idx, id;

        memcpy(&idx, key, 4);
        if (idx >= map->max_entries)
            return -ENOENT;
        if (!dm->slots[idx])
            return -ENOENT;
        id = dm->slots[idx]->aux->id;
        memcpy(value, &id, 4);
        return 0;
    }
    return map_refused(dm, "lookup",
                       nicsim_ctrl__map_lookup(dm->drv->ctrl, dm->nic_id, key, value));
}

static int prog_array_update(struct drv_map *dm, uint32_t idx, const void *value, uint64_t flags)
{
    struct nicsim_drv *drv = dm->drv;
    struct nicsim_bpf_prog *prog, *old;
    struct drv_prog *dp;
    uint32_t fd, nic_id;
    int err;

    if (idx >= dm->map->max_entries) {
        nicsim_drv_log(drv, "prog array %s: index %u is past max_entries %u", dm->map->name, idx,
                       dm->map->max_entries);
        return -E2BIG;
    }
    if (flags == BPF_NOEXIST) {
        nicsim_drv_log(drv, "prog array %s: BPF_NOEXIST, and array elements always exist",
                       dm->map->name);
        return -EEXIST;
    }
    memcpy(&fd, value, 4);
    prog = nicsim_kern_prog_by_fd(drv->kern, (int)fd);
    if (!prog) {
        err = -errno;
        nicsim_drv_log(drv, "prog array %s: index %u: %d is not a program descriptor",
                       dm->map->name, idx, (int)fd);
        return err;
    }
    dp = nicsim_drv_prog_of(prog);
    if (!dp || !nicsim_bpf_offload_dev_match(prog, dm->map->netdev)) {
        nicsim_drv_log(drv, "prog array %s: program %u is not offloaded to this NIC", dm->map->name,
                       prog->aux->id);
        return -EINVAL;
    }
    err = nicsim_drv_prog_get_nic(dp, NULL);
    if (err)
        return err;
    nic_id = dp->nic_id;
    err = nicsim_ctrl__map_update(drv->ctrl, dm->nic_id, &idx, &nic_id, BPF_ANY);
    if (err) {
        map_refused(dm, "update", err);
        nicsim_drv_prog_put_nic(dp);
        return err;
    }
    nicsim_bpf_prog_inc(prog);
    old = dm->slots[idx];
    dm->slots[idx] = prog;
    if (old) {
        nicsim_drv_prog_put_nic(nicsim_drv_prog_of(old));
        nicsim_bpf_prog_put(old);
    }
    return 0;
}

static int drv_map_update(struct nicsim_bpf_map *map, void *key, void *value, uint64_t flags)
{
    struct drv_map *dm = dmap(map);

    if (map->map_type == BPF_MAP_TYPE_PROG_ARRAY) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        return prog_array_update(dm, idx, value, flags);
    }
    if (is_map_in_map(map))
        return outer_update(dm, key, value, flags);
    return map_refused(dm, "update",
                       nicsim_ctrl__map_update(dm->drv->ctrl, dm->nic_id, key, value, flags));
}

static void prog_array_clear(struct drv_map *dm, uint32_t idx)
{
    struct nicsim_bpf_prog *old = dm->slots[idx];

    dm->slots[idx] = NULL;
    if (old) {
        nicsim_drv_prog_put_nic(nicsim_drv_prog_of(old));
        nicsim_bpf_prog_put(old);
    }
}

static int drv_map_delete(struct nicsim_bpf_map *map, void *key)
{
    struct drv_map *dm = dmap(map);
    struct nicsim_bpf_map *held = is_map_in_map(map) ? held_map(dm, key) : NULL;
    int err = map_refused(dm, "delete", nicsim_ctrl__map_delete(dm->drv->ctrl, dm->nic_id, key));

    if (!err)
        nicsim_bpf_map_put(held);

    if (!err && map->map_type == BPF_MAP_TYPE_PROG_ARRAY) {
        uint32_t idx;

        memcpy(&idx, key, 4);
        if (idx < map->max_entries)
            prog_array_clear(dm, idx);
    }
    return err;
}

static int drv_map_get_next(struct nicsim_bpf_map *map, void *key, void *next_key)
{
    struct drv_map *dm = dmap(map);

    return map_refused(dm, "get-next",
                       nicsim_ctrl__map_get_next(dm->drv->ctrl, dm->nic_id, key, next_key));
}

static const struct nicsim_bpf_map_dev_ops drv_map_ops = {
    .map_get_next_key = drv_map_get_next,
    .map_lookup_elem = drv_map_lookup,
    .map_update_elem = drv_map_update,
    .map_delete_elem = drv_map_delete,
};

static int drv_map_alloc(struct nicsim_drv *drv, struct nicsim_bpf_map *map,
                         struct nicsim_bpf_map *tmpl, struct nicsim_extack *extack)
{
    struct drv_map *dm, *tm = NULL;
    int err;

    if (!nicsim_drv_map_type_offloadable(map->map_type)) {
        nicsim_extack_set(extack, DRV_NAME ": map type %s cannot be offloaded",
                          nicsim_bpf_map_type_name(map->map_type));
        nicsim_drv_log(drv, "map type %s cannot be offloaded",
                       nicsim_bpf_map_type_name(map->map_type));
        return -EOPNOTSUPP;
    }
    if (is_map_in_map(map) && !(tm = own_map(drv, tmpl))) {
        nicsim_extack_set(extack,
                          DRV_NAME ": map of maps %s: its inner map template must be a map "
                                   "offloaded to this NIC",
                          map->name);
        nicsim_drv_log(drv,
                       "map of maps %s: its inner map template (%s) is not offloaded to this NIC",
                       map->name, tmpl ? tmpl->name : "none");
        return -EINVAL;
    }
    dm = calloc(1, sizeof(*dm));
    if (!dm)
        return -ENOMEM;
    if (map->map_type == BPF_MAP_TYPE_PROG_ARRAY) {
        dm->slots = calloc(map->max_entries ? map->max_entries : 1, sizeof(*dm->slots));
        if (!dm->slots) {
            free(dm);
            return -ENOMEM;
        }
    }
    err = nicsim_ctrl__map_alloc_inner(drv->ctrl, map->map_type, map->key_size, map->value_size,
                                       map->max_entries, map->map_flags, tm ? tm->nic_id : 0,
                                       &dm->nic_id);
    if (err) {
        nicsim_extack_set(extack, DRV_NAME ": firmware refused the map: %s",
                          nicsim_ctrl__last_error(drv->ctrl));
        nicsim_drv_log(drv, "firmware refused the map: %s", nicsim_ctrl__last_error(drv->ctrl));
        free(dm->slots);
        free(dm);
        return err;
    }
    dm->drv = drv;
    dm->map = map;
    dm->next_map = drv->maps;
    drv->maps = dm;
    if (dm->slots) {
        dm->next_prog_array = drv->prog_arrays;
        drv->prog_arrays = dm;
    }
    map->dev_ops = &drv_map_ops;
    map->dev_priv = dm;
    return 0;
}

/* An outer map going away: the inner maps its elements hold, to let go of once the NIC has freed
 * the outer map (so that none is freed on the NIC while an element still holds it). */
static struct nicsim_bpf_map **outer_held(struct drv_map *dm, size_t *n)
{
    uint8_t key[512], next[512];
    const void *prev = NULL;
    struct nicsim_bpf_map **held = NULL, **nh;

    *n = 0;
    if (dm->map->key_size > sizeof(key))
        return NULL;
    while (!nicsim_ctrl__map_get_next(dm->drv->ctrl, dm->nic_id, prev, next)) {
        struct nicsim_bpf_map *in = held_map(dm, next);

        memcpy(key, next, dm->map->key_size);
        prev = key;
        if (!in || !(nh = realloc(held, (*n + 1) * sizeof(*held))))
            continue;
        held = nh;
        held[(*n)++] = in;
    }
    return held;
}

static void drv_map_free(struct nicsim_drv *drv, struct nicsim_bpf_map *map)
{
    struct drv_map *dm = map->dev_priv;
    struct nicsim_bpf_map **held = NULL;
    size_t n_held = 0;

    if (!dm)
        return;
    for (struct drv_map **pp = &drv->maps; *pp; pp = &(*pp)->next_map) {
        if (*pp == dm) {
            *pp = dm->next_map;
            break;
        }
    }
    if (is_map_in_map(map))
        held = outer_held(dm, &n_held);
    if (dm->slots) {
        for (struct drv_map **pp = &drv->prog_arrays; *pp; pp = &(*pp)->next_prog_array) {
            if (*pp == dm) {
                *pp = dm->next_prog_array;
                break;
            }
        }
        /* the NIC's slots first, so the programs can be unloaded */
        for (uint32_t i = 0; i < map->max_entries; i++)
            if (dm->slots[i])
                nicsim_ctrl__map_delete(drv->ctrl, dm->nic_id, &i);
    }
    if (nicsim_ctrl__map_free(drv->ctrl, dm->nic_id))
        nicsim_drv_log(drv, "firmware kept map %u: %s", dm->nic_id,
                       nicsim_ctrl__last_error(drv->ctrl));
    for (size_t i = 0; i < n_held; i++)
        nicsim_bpf_map_put(held[i]);
    free(held);
    if (dm->slots) {
        for (uint32_t i = 0; i < map->max_entries; i++)
            prog_array_clear(dm, i);
        free(dm->slots);
    }
    free(dm);
    map->dev_priv = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * ndo_bpf.
 */
/* nsim_setup_prog_checks */
static int setup_prog_checks(struct drv_port *p, struct nicsim_netdev_bpf *bpf)
{
    if (bpf->prog && nicsim_bpf_prog_is_offloaded(bpf->prog)) {
        nicsim_extack_set(bpf->extack, DRV_NAME ": attempt to load offloaded prog to drv");
        return -EINVAL;
    }
    (void)p;
    return 0;
}

/* nsim_setup_prog_hw_checks */
static int setup_prog_hw_checks(struct drv_port *p, struct nicsim_netdev_bpf *bpf)
{
    const struct drv_prog *dp;

    if (!bpf->prog)
        return 0;
    if (!nicsim_bpf_prog_is_offloaded(bpf->prog)) {
        nicsim_extack_set(bpf->extack, DRV_NAME ": xdpoffload of non-bound program");
        return -EINVAL;
    }
    dp = nicsim_drv_prog_of(bpf->prog);
    if (!dp || dp->drv != p->drv) {
        nicsim_extack_set(bpf->extack, DRV_NAME ": program bound to different dev");
        return -EINVAL;
    }
    if (!dp->image) {
        nicsim_extack_set(bpf->extack, DRV_NAME ": program not translated");
        return -EINVAL;
    }
    return 0;
}

static int xdp_setup_hw(struct drv_port *p, struct nicsim_netdev_bpf *bpf)
{
    struct nicsim_drv *drv = p->drv;
    struct drv_prog *dp = nicsim_drv_prog_of(bpf->prog), *old = nicsim_drv_prog_of(p->hw_prog);
    int err;

    if (!bpf->prog) {
        if (!p->hw_prog)
            return 0;
        err = nicsim_ctrl__xdp_detach(drv->ctrl, p->port, NULL);
        if (err) {
            nicsim_extack_set(bpf->extack, DRV_NAME ": firmware refused to detach: %s",
                              nicsim_ctrl__last_error(drv->ctrl));
            return err;
        }
        p->hw_prog = NULL;
        nicsim_drv_prog_put_nic(old);
        return 0;
    }
    err = nicsim_drv_prog_get_nic(dp, bpf->extack);
    if (err)
        return err;
    err = nicsim_ctrl__xdp_attach(drv->ctrl, p->port, dp->nic_id, 0, NULL);
    if (err) {
        nicsim_extack_set(bpf->extack, DRV_NAME ": firmware refused to attach: %s",
                          nicsim_ctrl__last_error(drv->ctrl));
        nicsim_drv_prog_put_nic(dp);
        return err;
    }
    p->hw_prog = bpf->prog;
    nicsim_drv_prog_put_nic(old);
    return 0;
}

static int drv_ndo_bpf(struct nicsim_netdev *dev, struct nicsim_netdev_bpf *bpf)
{
    struct drv_port *p = dev->priv;
    int err;

    switch (bpf->command) {
    case NICSIM_XDP_SETUP_PROG:
        err = setup_prog_checks(p, bpf);
        if (err)
            return err;
        /* Native XDP runs in the host's RX path: the NIC is not involved, the driver records it
         * (as netdevsim does). */
        p->drv_prog = bpf->prog;
        return 0;
    case NICSIM_XDP_SETUP_PROG_HW:
        err = setup_prog_hw_checks(p, bpf);
        if (err)
            return err;
        return xdp_setup_hw(p, bpf);
    case NICSIM_BPF_OFFLOAD_MAP_ALLOC:
        return drv_map_alloc(p->drv, bpf->offmap, bpf->inner_map, bpf->extack);
    case NICSIM_BPF_OFFLOAD_MAP_FREE:
        drv_map_free(p->drv, bpf->offmap);
        return 0;
    default:
        return -EINVAL;
    }
}

static const struct nicsim_netdev_ops drv_netdev_ops = {.ndo_bpf = drv_ndo_bpf};

/* ---------------------------------------------------------------------------------------------
 * Probe / remove.
 */
struct nicsim_drv *nicsim_drv__probe(struct nicsim_kern *k, struct nicsim_ctrl *ctrl,
                                     const struct nicsim_drv_opts *opts)
{
    struct nicsim_drv_opts o = {0};
    struct nicsim_drv *drv;
    int err;

    if (!k || !ctrl) {
        errno = EINVAL;
        return NULL;
    }
    if (opts) {
        if (nicsim_opts_copy(&o, sizeof(o), opts)) {
            errno = EINVAL;
            return NULL;
        }
    }
    if (!o.prefix)
        o.prefix = "nicsim";
    drv = calloc(1, sizeof(*drv));
    if (!drv) {
        errno = ENOMEM;
        return NULL;
    }
    drv->kern = k;
    drv->ctrl = ctrl;
    drv->n_ports = nicsim_ctrl__n_ports(ctrl);
    if (!drv->n_ports || drv->n_ports > NICSIM_DRV_MAX_PORTS) {
        free(drv);
        errno = ENODEV;
        return NULL;
    }
    drv->offdev = nicsim_bpf_offload_dev_create(k, &nicsim_drv_offload_ops, drv);
    if (!drv->offdev) {
        err = errno;
        free(drv);
        errno = err;
        return NULL;
    }
    for (uint32_t i = 0; i < drv->n_ports; i++) {
        struct drv_port *p = &drv->ports[i];
        char name[NICSIM_IFNAMSIZ];

        p->drv = drv;
        p->port = i;
        if ((size_t)snprintf(name, sizeof(name), "%s%u", o.prefix, i) >= sizeof(name)) {
            err = EINVAL;
            goto fail;
        }
        p->netdev = nicsim_kern_alloc_netdev(k, name, &drv_netdev_ops, p);
        if (!p->netdev) {
            err = errno;
            goto fail;
        }
        err = -nicsim_kern_register_netdev(p->netdev);
        if (!err)
            err = -nicsim_bpf_offload_dev_netdev_register(drv->offdev, p->netdev);
        if (err) {
            nicsim_kern_free_netdev(p->netdev);
            p->netdev = NULL;
            goto fail;
        }
    }
    return drv;
fail:
    nicsim_drv__remove(drv);
    errno = err;
    return NULL;
}

int nicsim_drv__port_remove(struct nicsim_drv *drv, uint32_t port)
{
    struct drv_port *p;

    if (!drv || port >= drv->n_ports)
        return -EINVAL;
    p = &drv->ports[port];
    if (!p->netdev)
        return -ENODEV;
    /* unregister_netdevice detaches XDP; then the port leaves the offload device (nsim_destroy /
     * nfp_bpf_vnic_free order). */
    nicsim_kern_unregister_netdev(p->netdev);
    nicsim_bpf_offload_dev_netdev_unregister(drv->offdev, p->netdev);
    nicsim_kern_free_netdev(p->netdev);
    p->netdev = NULL;
    p->drv_prog = NULL;
    p->hw_prog = NULL;
    return 0;
}

void nicsim_drv__remove(struct nicsim_drv *drv)
{
    if (!drv)
        return;
    for (uint32_t i = 0; i < drv->n_ports; i++)
        if (drv->ports[i].netdev)
            nicsim_drv__port_remove(drv, i);
    nicsim_bpf_offload_dev_destroy(drv->offdev);
    free(drv);
}

uint32_t nicsim_drv__n_ports(const struct nicsim_drv *drv)
{
    return drv ? drv->n_ports : 0;
}

struct nicsim_netdev *nicsim_drv__netdev(const struct nicsim_drv *drv, uint32_t port)
{
    return drv && port < drv->n_ports ? drv->ports[port].netdev : NULL;
}
