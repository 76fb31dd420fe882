/* SPDX-License-Identifier: MIT */
/*
 * Kernel emulation (include/nicsim/kern.h): net devices, offload devices, BPF objects with
 * reference counts / ids / descriptors, the bpf() commands and XDP attachment.
 *
 * Follows kernel/bpf/offload.c (bpf_prog_dev_bound_init, bpf_offload_dev_netdev_(un)register,
 * bpf_map_offload_*), kernel/bpf/syscall.c (bpf_prog_load, map_create, the element commands) and
 * net/core/dev.c (dev_change_xdp_fd, dev_xdp_attach, dev_xdp_install, dev_xdp_uninstall),
 * keeping their order of checks, errno values and extack messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kern_internal.h"
#include "nicsim/util.h"

/* ---------------------------------------------------------------------------------------------
 * Small utilities.
 */
void nicsim_extack_set(struct nicsim_extack *ea, const char *fmt, ...)
{
    va_list ap;

    if (!ea)
        return;
    va_start(ap, fmt);
    vsnprintf(ea->msg, sizeof(ea->msg), fmt, ap);
    va_end(ap);
}

void nicsim_kern_set_error(struct nicsim_kern *k, const char *fmt, ...)
{
    va_list ap;

    if (!k)
        return;
    va_start(ap, fmt);
    vsnprintf(k->err, sizeof(k->err), fmt, ap);
    va_end(ap);
}

const char *nicsim_kern_last_error(const struct nicsim_kern *k)
{
    return k ? k->err : "";
}

void vlog_init(struct vlog *log, uint32_t level)
{
    memset(log, 0, sizeof(*log));
    log->level = level;
}

void vlog_free(struct vlog *log)
{
    free(log->buf);
    memset(log, 0, sizeof(*log));
}

void vlog_vwrite(struct vlog *log, const char *fmt, va_list ap)
{
    char line[512];
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    size_t len;

    if (n < 0)
        return;
    len = strlen(line);
    if (len && line[len - 1] == '\n')
        line[--len] = '\0';
    snprintf(log->last, sizeof(log->last), "%s", line);
    if (log->len + len + 2 > log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 1024;
        char *nb;

        while (cap < log->len + len + 2)
            cap *= 2;
        nb = realloc(log->buf, cap);
        if (!nb)
            return;
        log->buf = nb;
        log->cap = cap;
    }
    memcpy(log->buf + log->len, line, len);
    log->len += len;
    log->buf[log->len++] = '\n';
    log->buf[log->len] = '\0';
}

void vlog_write(struct vlog *log, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog_vwrite(log, fmt, ap);
    va_end(ap);
}

/* bpf_obj_name_cpy: letters, digits, '_' and '.'; at most 15 characters. */
static int obj_name_cpy(char *dst, const char *src)
{
    size_t i;

    memset(dst, 0, NICSIM_BPF_OBJ_NAME);
    if (!src)
        return 0;
    for (i = 0; src[i]; i++) {
        if (i >= NICSIM_BPF_OBJ_NAME - 1)
            return -EINVAL;
        if (!isalnum((unsigned char)src[i]) && src[i] != '_' && src[i] != '.')
            return -EINVAL;
        dst[i] = src[i];
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors and ids.
 */
static int fd_alloc(struct nicsim_kern *k, uint8_t kind, void *obj)
{
    for (size_t i = 3; i < k->n_fds; i++) {
        if (k->fds[i].kind == FD_FREE) {
            k->fds[i] = (struct fd_ent){.kind = kind, .obj = obj};
            return (int)i;
        }
    }
    {
        size_t n = k->n_fds < 3 ? 16 : k->n_fds * 2;
        struct fd_ent *nf = realloc(k->fds, n * sizeof(*nf));
        size_t at = k->n_fds < 3 ? 3 : k->n_fds;

        if (!nf)
            return -ENOMEM;
        memset(nf + k->n_fds, 0, (n - k->n_fds) * sizeof(*nf));
        k->fds = nf;
        k->n_fds = n;
        k->fds[at] = (struct fd_ent){.kind = kind, .obj = obj};
        return (int)at;
    }
}

static struct fd_ent *fd_get(struct nicsim_kern *k, int fd)
{
    if (fd < 0 || (size_t)fd >= k->n_fds || k->fds[fd].kind == FD_FREE)
        return NULL;
    return &k->fds[fd];
}

struct nicsim_bpf_prog *nicsim_kern_prog_by_fd(struct nicsim_kern *k, int fd)
{
    struct fd_ent *e = fd_get(k, fd);

    if (!e) {
        errno = EBADF;
        return NULL;
    }
    if (e->kind != FD_PROG) {
        errno = EINVAL;
        return NULL;
    }
    return e->obj;
}

struct nicsim_bpf_map *nicsim_kern_map_by_fd(struct nicsim_kern *k, int fd)
{
    struct fd_ent *e = fd_get(k, fd);

    if (!e) {
        errno = EBADF;
        return NULL;
    }
    if (e->kind != FD_MAP) {
        errno = EINVAL;
        return NULL;
    }
    return e->obj;
}

struct nicsim_bpf_map *kern_map_get(struct nicsim_kern *k, int fd)
{
    return nicsim_kern_map_by_fd(k, fd);
}

/* idr_alloc_cyclic: ids are never reused within a kernel's life. */
static int id_alloc(void ***table, size_t *n, void *obj, uint32_t *id)
{
    void **nt = realloc(*table, (*n + 1) * sizeof(void *));

    if (!nt)
        return -ENOMEM;
    nt[*n] = obj;
    *table = nt;
    (*n)++;
    *id = (uint32_t)*n;
    return 0;
}

static void prog_free_id(struct nicsim_bpf_prog *prog)
{
    struct nicsim_kern *k = prog->kern;
    uint32_t id = prog->aux->id;

    if (id && id <= k->n_prog_ids && k->progs[id - 1] == prog)
        k->progs[id - 1] = NULL;
    prog->aux->id = 0;
}

static void map_free_id(struct nicsim_bpf_map *map)
{
    struct nicsim_kern *k = map->kern;

    if (map->id && map->id <= k->n_map_ids && k->maps[map->id - 1] == map)
        k->maps[map->id - 1] = NULL;
    map->id = 0;
}

/* ---------------------------------------------------------------------------------------------
 * Offload devices (kernel/bpf/offload.c).
 */
static struct ondev *ondev_find(struct nicsim_kern *k, const struct nicsim_netdev *netdev)
{
    for (struct ondev *o = k->ondevs; o; o = o->next)
        if (o->netdev == netdev)
            return o;
    return NULL;
}

static int ondev_register(struct nicsim_kern *k, struct nicsim_bpf_offload_dev *offdev,
                          struct nicsim_netdev *netdev)
{
    struct ondev *o;

    if (ondev_find(k, netdev))
        return -EEXIST;
    o = calloc(1, sizeof(*o));
    if (!o)
        return -ENOMEM;
    o->netdev = netdev;
    o->offdev = offdev;
    o->next = k->ondevs;
    k->ondevs = o;
    if (offdev) {
        o->next_of_offdev = offdev->netdevs;
        offdev->netdevs = o;
    }
    return 0;
}

/* __bpf_prog_offload_destroy. */
static void prog_offload_destroy(struct nicsim_bpf_prog *prog)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;

    if (off->dev_state && off->offdev && off->offdev->ops->destroy)
        off->offdev->ops->destroy(prog);
    /* The program keeps its id (kernels >= 6.3 no longer free it here, so that audit and perf
     * see the id at unload): BPF_PROG_GET_NEXT_ID still lists an orphaned program and bpftool
     * shows it as "orphaned", while its info fails with -ENODEV. Orphaned maps do lose theirs. */
    free(off);
    prog->aux->offload = NULL;
}

/* __bpf_map_offload_destroy. */
static void map_offload_destroy(struct nicsim_bpf_map *map)
{
    struct nicsim_netdev *netdev = map->netdev;
    struct nicsim_netdev_bpf data = {0};
    struct nicsim_extack ea = {{0}};

    data.command = NICSIM_BPF_OFFLOAD_MAP_FREE;
    data.offmap = map;
    data.extack = &ea;
    if (netdev && netdev->netdev_ops && netdev->netdev_ops->ndo_bpf)
        netdev->netdev_ops->ndo_bpf(netdev, &data);
    map_free_id(map);
    map->netdev = NULL;
    map->next_offmap = NULL;
}

static void ondev_unlink_prog(struct ondev *o, struct nicsim_bpf_prog_offload *off)
{
    for (struct nicsim_bpf_prog_offload **pp = &o->progs; *pp; pp = &(*pp)->next) {
        if (*pp == off) {
            *pp = off->next;
            off->next = NULL;
            return;
        }
    }
}

static void ondev_unlink_map(struct ondev *o, struct nicsim_bpf_map *map)
{
    for (struct nicsim_bpf_map **pp = &o->maps; *pp; pp = &(*pp)->next_offmap) {
        if (*pp == map) {
            *pp = map->next_offmap;
            map->next_offmap = NULL;
            return;
        }
    }
}

/* __bpf_offload_dev_netdev_unregister. */
static void ondev_unregister(struct nicsim_kern *k, struct nicsim_bpf_offload_dev *offdev,
                             struct nicsim_netdev *netdev)
{
    struct ondev *o = ondev_find(k, netdev), *alt = NULL;

    if (!o)
        return;
    for (struct ondev **pp = &k->ondevs; *pp; pp = &(*pp)->next) {
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    }
    if (offdev) {
        for (struct ondev **pp = &offdev->netdevs; *pp; pp = &(*pp)->next_of_offdev) {
            if (*pp == o) {
                *pp = o->next_of_offdev;
                break;
            }
        }
        alt = offdev->netdevs; /* list_first_entry_or_null */
    }
    if (alt) {
        /* Move the objects to another port of the same device. */
        while (o->progs) {
            struct nicsim_bpf_prog_offload *off = o->progs;

            o->progs = off->next;
            off->netdev = alt->netdev;
            off->next = alt->progs;
            alt->progs = off;
        }
        while (o->maps) {
            struct nicsim_bpf_map *m = o->maps;

            o->maps = m->next_offmap;
            m->netdev = alt->netdev;
            m->next_offmap = alt->maps;
            alt->maps = m;
        }
    } else {
        /* No port left: orphan them. Programs first, they reference the maps. */
        while (o->progs) {
            struct nicsim_bpf_prog_offload *off = o->progs;

            o->progs = off->next;
            off->next = NULL;
            prog_offload_destroy(off->prog);
        }
        while (o->maps) {
            struct nicsim_bpf_map *m = o->maps;

            o->maps = m->next_offmap;
            map_offload_destroy(m);
        }
    }
    free(o);
}

struct nicsim_bpf_offload_dev *
nicsim_bpf_offload_dev_create(struct nicsim_kern *k, const struct nicsim_bpf_prog_offload_ops *ops,
                              void *priv)
{
    struct nicsim_bpf_offload_dev *offdev;

    if (!k || !ops) {
        errno = EINVAL;
        return NULL;
    }
    offdev = calloc(1, sizeof(*offdev));
    if (!offdev) {
        errno = ENOMEM;
        return NULL;
    }
    offdev->kern = k;
    offdev->ops = ops;
    offdev->priv = priv;
    return offdev;
}

void nicsim_bpf_offload_dev_destroy(struct nicsim_bpf_offload_dev *offdev)
{
    if (!offdev)
        return;
    while (offdev->netdevs)
        ondev_unregister(offdev->kern, offdev, offdev->netdevs->netdev);
    free(offdev);
}

void *nicsim_bpf_offload_dev_priv(struct nicsim_bpf_offload_dev *offdev)
{
    return offdev ? offdev->priv : NULL;
}

const struct nicsim_bpf_prog_offload_ops *
nicsim_bpf_offload_dev_ops(const struct nicsim_bpf_offload_dev *offdev)
{
    return offdev ? offdev->ops : NULL;
}

int nicsim_bpf_offload_dev_netdev_register(struct nicsim_bpf_offload_dev *offdev,
                                           struct nicsim_netdev *netdev)
{
    if (!offdev || !netdev || netdev->kern != offdev->kern)
        return -EINVAL;
    return ondev_register(offdev->kern, offdev, netdev);
}

void nicsim_bpf_offload_dev_netdev_unregister(struct nicsim_bpf_offload_dev *offdev,
                                              struct nicsim_netdev *netdev)
{
    if (!offdev || !netdev)
        return;
    ondev_unregister(offdev->kern, offdev, netdev);
}

struct nicsim_bpf_offload_dev *nicsim_bpf_offload_dev_of(struct nicsim_netdev *netdev)
{
    struct ondev *o = netdev ? ondev_find(netdev->kern, netdev) : NULL;

    return o ? o->offdev : NULL;
}

/* __bpf_offload_dev_match. */
static bool offload_dev_match(struct nicsim_bpf_prog *prog, struct nicsim_netdev *netdev)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;
    struct ondev *o1, *o2;

    if (!nicsim_bpf_prog_is_dev_bound(prog) || !off || !netdev)
        return false;
    if (off->netdev == netdev)
        return true;
    o1 = ondev_find(prog->kern, off->netdev);
    o2 = ondev_find(prog->kern, netdev);
    return o1 && o2 && o1->offdev && o1->offdev == o2->offdev;
}

bool nicsim_bpf_offload_dev_match(struct nicsim_bpf_prog *prog, struct nicsim_netdev *netdev)
{
    return prog && offload_dev_match(prog, netdev);
}

/* ---------------------------------------------------------------------------------------------
 * Reference counting.
 */
void nicsim_bpf_map_inc(struct nicsim_bpf_map *map)
{
    map->refcnt++;
}

static void outer_clear(struct nicsim_bpf_map *outer);

void nicsim_bpf_map_put(struct nicsim_bpf_map *map)
{
    if (!map || --map->refcnt)
        return;
    if (map->offloaded) {
        /* bpf_map_offload_map_free */
        if (map->netdev) {
            struct ondev *o = ondev_find(map->kern, map->netdev);

            if (o)
                ondev_unlink_map(o, map);
            map_offload_destroy(map);
        }
    } else {
        if (map->inner_map_meta && map->host)
            outer_clear(map);
        nicsim_hostmap_free(map);
    }
    map_free_id(map);
    free(map->inner_map_meta);
    free(map);
}

void nicsim_bpf_prog_inc(struct nicsim_bpf_prog *prog)
{
    prog->aux->refcnt++;
}

/* bpf_prog_dev_bound_destroy. */
static void prog_dev_bound_destroy(struct nicsim_bpf_prog *prog)
{
    struct nicsim_bpf_prog_offload *off = prog->aux->offload;
    struct nicsim_netdev *netdev;
    struct ondev *o;

    if (!off)
        return;
    netdev = off->netdev;
    o = ondev_find(prog->kern, netdev);
    if (o)
        ondev_unlink_prog(o, off);
    prog_offload_destroy(prog);
    if (o && !o->offdev && !o->progs)
        ondev_unregister(prog->kern, NULL, netdev);
}

static void prog_free(struct nicsim_bpf_prog *prog)
{
    if (nicsim_bpf_prog_is_dev_bound(prog))
        prog_dev_bound_destroy(prog);
    prog_free_id(prog);
    for (uint32_t i = 0; i < prog->aux->used_map_cnt; i++)
        nicsim_bpf_map_put(prog->aux->used_maps[i]);
    free(prog->aux->used_maps);
    free(prog->insnsi);
    free(prog);
}

void nicsim_bpf_prog_put(struct nicsim_bpf_prog *prog)
{
    if (!prog || --prog->aux->refcnt)
        return;
    prog_free(prog);
}

/* ---------------------------------------------------------------------------------------------
 * Kernel and net devices.
 */
struct nicsim_kern *nicsim_kern__new(const struct nicsim_kern_opts *opts)
{
    struct nicsim_kern *k = calloc(1, sizeof(*k));

    if (!k) {
        errno = ENOMEM;
        return NULL;
    }
    if (opts) {
        if (nicsim_opts_copy(&k->opts, sizeof(k->opts), opts)) {
            free(k);
            errno = EINVAL;
            return NULL;
        }
    }
    k->opts.sz = sizeof(k->opts);
    k->next_ifindex = 1;
    k->lo = nicsim_kern_alloc_netdev(k, "lo", NULL, NULL);
    if (!k->lo || nicsim_kern_register_netdev(k->lo)) {
        nicsim_kern__free(k);
        errno = ENOMEM;
        return NULL;
    }
    k->lo->mtu = 65536;
    return k;
}

void nicsim_kern__free(struct nicsim_kern *k)
{
    if (!k)
        return;
    while (k->devs) {
        struct nicsim_netdev *d = k->devs;

        nicsim_kern_unregister_netdev(d);
        if (d == k->lo)
            nicsim_kern_free_netdev(d);
    }
    k->lo = NULL;
    for (size_t i = 0; i < k->n_fds; i++)
        if (k->fds[i].kind != FD_FREE)
            nicsim_kern_close(k, (int)i);
    /* Objects still referenced only by offload bookkeeping (none should be left). */
    while (k->ondevs)
        ondev_unregister(k, k->ondevs->offdev, k->ondevs->netdev);
    free(k->fds);
    free(k->progs);
    free(k->maps);
    free(k);
}

struct nicsim_netdev *nicsim_kern_alloc_netdev(struct nicsim_kern *k, const char *name,
                                               const struct nicsim_netdev_ops *ops, void *priv)
{
    struct nicsim_netdev *dev;

    if (!k || !name || !name[0] || strlen(name) >= NICSIM_IFNAMSIZ) {
        errno = EINVAL;
        return NULL;
    }
    dev = calloc(1, sizeof(*dev));
    if (!dev) {
        errno = ENOMEM;
        return NULL;
    }
    dev->kern = k;
    snprintf(dev->name, sizeof(dev->name), "%s", name);
    dev->netdev_ops = ops;
    dev->priv = priv;
    dev->mtu = 1500;
    return dev;
}

int nicsim_kern_register_netdev(struct nicsim_netdev *dev)
{
    struct nicsim_kern *k;
    struct nicsim_netdev **pp;

    if (!dev || dev->registered)
        return -EINVAL;
    k = dev->kern;
    if (nicsim_kern_dev_get_by_name(k, dev->name))
        return -EEXIST;
    dev->ifindex = k->next_ifindex++;
    dev->registered = true;
    for (pp = &k->devs; *pp; pp = &(*pp)->next_dev)
        ;
    *pp = dev;
    dev->next_dev = NULL;
    return 0;
}

/* dev_xdp_uninstall. */
static void dev_xdp_uninstall(struct nicsim_netdev *dev)
{
    for (int mode = NICSIM_XDP_MODE_SKB; mode < NICSIM_XDP_MODE__MAX; mode++) {
        struct nicsim_bpf_prog *prog = dev->xdp_prog[mode];

        if (!prog)
            continue;
        if (mode != NICSIM_XDP_MODE_SKB && dev->netdev_ops && dev->netdev_ops->ndo_bpf) {
            struct nicsim_extack ea = {{0}};
            struct nicsim_netdev_bpf xdp = {0};

            xdp.command =
                mode == NICSIM_XDP_MODE_HW ? NICSIM_XDP_SETUP_PROG_HW : NICSIM_XDP_SETUP_PROG;
            xdp.extack = &ea;
            dev->netdev_ops->ndo_bpf(dev, &xdp);
        }
        dev->xdp_prog[mode] = NULL;
        dev->xdp_flags[mode] = 0;
        nicsim_bpf_prog_put(prog);
    }
}

void nicsim_kern_unregister_netdev(struct nicsim_netdev *dev)
{
    struct nicsim_kern *k;
    struct ondev *o;

    if (!dev || !dev->registered)
        return;
    k = dev->kern;
    dev_xdp_uninstall(dev);
    /* bpf_dev_bound_netdev_unregister: devices without an offload device */
    o = ondev_find(k, dev);
    if (o && !o->offdev)
        ondev_unregister(k, NULL, dev);
    for (struct nicsim_netdev **pp = &k->devs; *pp; pp = &(*pp)->next_dev) {
        if (*pp == dev) {
            *pp = dev->next_dev;
            break;
        }
    }
    dev->next_dev = NULL;
    dev->registered = false;
}

void nicsim_kern_free_netdev(struct nicsim_netdev *dev)
{
    if (!dev)
        return;
    if (dev->registered)
        nicsim_kern_unregister_netdev(dev);
    free(dev);
}

struct nicsim_netdev *nicsim_kern_dev_get_by_index(struct nicsim_kern *k, int ifindex)
{
    for (struct nicsim_netdev *d = k ? k->devs : NULL; d; d = d->next_dev)
        if (d->ifindex == ifindex)
            return d;
    return NULL;
}

struct nicsim_netdev *nicsim_kern_dev_get_by_name(struct nicsim_kern *k, const char *name)
{
    for (struct nicsim_netdev *d = k ? k->devs : NULL; d; d = d->next_dev)
        if (!strcmp(d->name, name))
            return d;
    return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * BPF_PROG_LOAD.
 */
/* bpf_dev_offload_check */
static int dev_offload_check(const struct nicsim_netdev *netdev)
{
    if (!netdev)
        return -EINVAL;
    if (!netdev->netdev_ops || !netdev->netdev_ops->ndo_bpf)
        return -EOPNOTSUPP;
    return 0;
}

/* bpf_prog_dev_bound_init */
static int prog_dev_bound_init(struct nicsim_bpf_prog *prog,
                               const struct nicsim_kern_prog_load_attr *attr)
{
    struct nicsim_kern *k = prog->kern;
    struct nicsim_bpf_prog_offload *off;
    struct nicsim_netdev *netdev;
    struct ondev *o;
    int err;

    if (attr->prog_flags & ~(BPF_F_XDP_DEV_BOUND_ONLY | BPF_F_XDP_HAS_FRAGS))
        return -EINVAL;
    /* Frags are allowed only if the program is dev-bound-only, not when it is offloaded. */
    if ((attr->prog_flags & BPF_F_XDP_HAS_FRAGS) && !(attr->prog_flags & BPF_F_XDP_DEV_BOUND_ONLY))
        return -EINVAL;
    netdev = nicsim_kern_dev_get_by_index(k, (int)attr->prog_ifindex);
    if (!netdev)
        return -EINVAL;
    err = dev_offload_check(netdev);
    if (err)
        return err;
    prog->aux->offload_requested = !(attr->prog_flags & BPF_F_XDP_DEV_BOUND_ONLY);

    off = calloc(1, sizeof(*off));
    if (!off)
        return -ENOMEM;
    off->prog = prog;
    off->netdev = netdev;
    o = ondev_find(k, netdev);
    /* An offloaded program needs a port of a real offload device. */
    if (prog->aux->offload_requested && (!o || !o->offdev)) {
        free(off);
        return -EINVAL;
    }
    if (!o) {
        err = ondev_register(k, NULL, netdev);
        if (err) {
            free(off);
            return err;
        }
        o = ondev_find(k, netdev);
    }
    off->offdev = o->offdev;
    prog->aux->offload = off;
    off->next = o->progs;
    o->progs = off;
    return 0;
}

int nicsim_kern_prog_load(struct nicsim_kern *k, struct nicsim_kern_prog_load_attr *attr)
{
    const uint32_t flags_ok = BPF_F_STRICT_ALIGNMENT | BPF_F_ANY_ALIGNMENT | BPF_F_TEST_RND_HI32 |
                              BPF_F_XDP_HAS_FRAGS | BPF_F_XDP_DEV_BOUND_ONLY;
    struct nicsim_kern_prog_load_attr a = {0};
    struct nicsim_bpf_prog *prog;
    struct {
        struct nicsim_bpf_prog prog;
        struct nicsim_bpf_prog_aux aux;
    } * mem;
    struct vlog log;
    int err, fd;

    if (!k || !attr || attr->sz < offsetof(struct nicsim_kern_prog_load_attr, log_buf))
        return -EINVAL;
    k->err[0] = '\0';
    memcpy(&a, attr, attr->sz < sizeof(a) ? attr->sz : sizeof(a));
    if (attr->sz >= offsetof(struct nicsim_kern_prog_load_attr, err_insn) + sizeof(int32_t)) {
        attr->err_insn = -1;
        if (attr->sz >= sizeof(*attr))
            attr->err_msg[0] = '\0';
    }
    if (a.prog_flags & ~flags_ok)
        return -EINVAL;
    if (!a.insns || a.insn_cnt == 0 || a.insn_cnt > NICSIM_COMPLEXITY_LIMIT_INSNS)
        return -E2BIG;
    if (a.prog_type != BPF_PROG_TYPE_XDP) {
        if (attr->sz >= sizeof(*attr))
            snprintf(attr->err_msg, sizeof(attr->err_msg),
                     "program type %u is not XDP: this kernel loads XDP programs only",
                     a.prog_type);
        return -EINVAL;
    }
    if (a.expected_attach_type == 0)
        a.expected_attach_type = BPF_XDP;
    if (a.expected_attach_type != BPF_XDP && a.expected_attach_type != BPF_XDP_DEVMAP &&
        a.expected_attach_type != BPF_XDP_CPUMAP)
        return -EINVAL;
    if (!a.prog_ifindex && (a.prog_flags & BPF_F_XDP_DEV_BOUND_ONLY))
        return -EINVAL;

    mem = calloc(1, sizeof(*mem));
    if (!mem)
        return -ENOMEM;
    prog = &mem->prog;
    prog->aux = &mem->aux;
    prog->kern = k;
    prog->type = a.prog_type;
    prog->expected_attach_type = a.expected_attach_type;
    prog->aux->refcnt = 1;
    prog->aux->dev_bound = a.prog_ifindex != 0;
    prog->len = a.insn_cnt;
    prog->insnsi = malloc((size_t)a.insn_cnt * sizeof(*prog->insnsi));
    if (!prog->insnsi) {
        free(mem);
        return -ENOMEM;
    }
    memcpy(prog->insnsi, a.insns, (size_t)a.insn_cnt * sizeof(*prog->insnsi));
    /* bpf_attr.prog_name holds 15 characters and a NUL: a longer name arrives cut to 15, as
     * libbpf cuts it (balancer_ingress runs as balancer_ingres) */
    char pname[NICSIM_BPF_OBJ_NAME] = "";
    if (a.prog_name)
        snprintf(pname, sizeof(pname), "%s", a.prog_name);
    err = obj_name_cpy(prog->aux->name, pname);
    if (err) {
        if (attr->sz >= sizeof(*attr))
            snprintf(attr->err_msg, sizeof(attr->err_msg),
                     "program name '%s': only letters, digits, '_' and '.' are allowed", pname);
        prog_free(prog);
        return err;
    }
    if (nicsim_bpf_prog_is_dev_bound(prog)) {
        err = prog_dev_bound_init(prog, &a);
        if (err) {
            prog_free(prog);
            return err;
        }
    }

    vlog_init(&log, a.log_level);
    a.err_insn = -1;
    err = nicsim_bpf_check(prog, &a, &log);
    /* bpf_prog_select_runtime -> bpf_prog_offload_compile: the driver translates. */
    if (!err && nicsim_bpf_prog_is_offloaded(prog)) {
        struct nicsim_bpf_prog_offload *off = prog->aux->offload;

        if (!off)
            err = -ENODEV;
        else if (off->offdev->ops->translate)
            err = off->offdev->ops->translate(prog);
        /* translate has no verifier env to log to: always say what failed (a log_level >= 1
         * log would otherwise end with "processed N insns") */
        if (err)
            vlog_write(&log, "offloaded program translation failed (%d)%s%s", err,
                       k->err[0] ? ": " : "", k->err);
    }
    if (attr->sz >= offsetof(struct nicsim_kern_prog_load_attr, err_insn) + sizeof(int32_t))
        attr->err_insn = err ? a.err_insn : -1;
    if (attr->sz >= sizeof(*attr) && err)
        snprintf(attr->err_msg, sizeof(attr->err_msg), "%s", log.last);
    if (a.log_buf && a.log_size) {
        size_t n = log.len < a.log_size - 1 ? log.len : a.log_size - 1;

        if (n)
            memcpy(a.log_buf, log.buf, n);
        a.log_buf[n] = '\0';
    }
    vlog_free(&log);
    if (err) {
        prog_free(prog);
        return err;
    }

    err = id_alloc((void ***)&k->progs, &k->n_prog_ids, prog, &prog->aux->id);
    if (err) {
        prog_free(prog);
        return err;
    }
    fd = fd_alloc(k, FD_PROG, prog);
    if (fd < 0)
        prog_free(prog);
    return fd;
}

/* ---------------------------------------------------------------------------------------------
 * BPF_MAP_CREATE and the element commands.
 */
/* bpf_map_offload_map_alloc */
static int map_offload_alloc(struct nicsim_kern *k, struct nicsim_bpf_map *map,
                             const struct nicsim_kern_map_create_attr *attr,
                             struct nicsim_bpf_map *tmpl, struct nicsim_extack *extack)
{
    struct nicsim_extack ea = {{0}};
    struct nicsim_netdev_bpf data = {0};
    struct nicsim_netdev *netdev;
    struct ondev *o;
    int err;

    if (k->opts.strict_offload_map_types && attr->map_type != BPF_MAP_TYPE_ARRAY &&
        attr->map_type != BPF_MAP_TYPE_HASH)
        return -EINVAL;
    netdev = nicsim_kern_dev_get_by_index(k, (int)attr->map_ifindex);
    err = dev_offload_check(netdev);
    if (err)
        return err;
    o = ondev_find(k, netdev);
    if (!o || !o->offdev)
        return -EINVAL;
    map->netdev = netdev;
    data.command = NICSIM_BPF_OFFLOAD_MAP_ALLOC;
    data.offmap = map;
    data.inner_map = tmpl;
    data.extack = extack ? extack : &ea;
    err = netdev->netdev_ops->ndo_bpf(netdev, &data);
    if (err) {
        map->netdev = NULL;
        return err;
    }
    map->next_offmap = o->maps;
    o->maps = map;
    return 0;
}

/* ---- Maps of maps (kernel/bpf/map_in_map.c). */
static bool map_is_map_in_map(const struct nicsim_bpf_map *map)
{
    return map->map_type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
           map->map_type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

/* bpf_map_meta_alloc: a copy of the template's attributes. */
static int map_meta_alloc(struct nicsim_kern *k, struct nicsim_bpf_map *map, int inner_fd,
                          struct nicsim_bpf_map **tmpl)
{
    struct fd_ent *e;
    struct nicsim_bpf_map *inner, *meta;

    if (map->value_size != 4) /* fd_array_map_alloc_check / fd_htab_map_alloc_check, first */
        return -EINVAL;
    e = fd_get(k, inner_fd);
    if (!e)
        return -EBADF;
    if (e->kind != FD_MAP)
        return -EINVAL;
    inner = e->obj;
    if (inner->inner_map_meta) /* "Does not support >1 level map-in-map" */
        return -EINVAL;
    meta = calloc(1, sizeof(*meta));
    if (!meta)
        return -ENOMEM;
    meta->kern = k;
    meta->map_type = inner->map_type;
    meta->key_size = inner->key_size;
    meta->value_size = inner->value_size;
    meta->max_entries = inner->max_entries;
    meta->map_flags = inner->map_flags;
    meta->refcnt = 1;
    meta->is_inner_meta = true;
    meta->offloaded = inner->offloaded; /* the device's maps stand in for it */
    memcpy(meta->name, inner->name, sizeof(meta->name));
    map->inner_map_meta = meta;
    *tmpl = inner;
    return 0;
}

bool kern_map_meta_equal(const struct nicsim_bpf_map *meta, const struct nicsim_bpf_map *map)
{
    if (meta->map_type != map->map_type || meta->key_size != map->key_size ||
        meta->value_size != map->value_size || meta->map_flags != map->map_flags)
        return false;
    /* array_map_meta_equal */
    if (meta->map_type == BPF_MAP_TYPE_ARRAY || meta->map_type == BPF_MAP_TYPE_PERCPU_ARRAY)
        return (meta->map_flags & BPF_F_INNER_MAP) || meta->max_entries == map->max_entries;
    return true;
}

/* The inner map an element of a host outer map holds (its id), NULL if none. */
static struct nicsim_bpf_map *held_map(struct nicsim_bpf_map *outer, const void *key)
{
    struct nicsim_kern *k = outer->kern;
    uint32_t id = 0;

    if (nicsim_hostmap_lookup(outer, key, &id) || !id || id > k->n_map_ids)
        return NULL;
    return k->maps[id - 1];
}

/* bpf_map_fd_get_ptr + the element update: the value is a map descriptor; the element holds a
 * reference on that map, and user space reads back its id (bpf_map_fd_sys_lookup_elem). */
static int outer_update(struct nicsim_bpf_map *outer, const void *key, const void *value,
                        uint64_t flags)
{
    struct nicsim_kern *k = outer->kern;
    struct nicsim_bpf_map *inner, *old;
    struct fd_ent *e;
    uint32_t fd;
    int err;

    memcpy(&fd, value, 4);
    e = fd_get(k, (int)fd);
    if (!e)
        return -EBADF;
    if (e->kind != FD_MAP)
        return -EINVAL;
    inner = e->obj;
    if (!kern_map_meta_equal(outer->inner_map_meta, inner) || inner->offloaded) {
        nicsim_kern_set_error(
            k,
            "map %s: map %u (%s) does not match the inner map template "
            "(type, key and value size, flags%s)",
            outer->name, inner->id, inner->name,
            outer->inner_map_meta->map_type == BPF_MAP_TYPE_ARRAY ? ", max_entries" : "");
        return -EINVAL;
    }
    old = held_map(outer, key);
    err = nicsim_hostmap_update(outer, key, &inner->id, flags);
    if (err)
        return err;
    nicsim_bpf_map_inc(inner);
    nicsim_bpf_map_put(old);
    return 0;
}

static int outer_delete(struct nicsim_bpf_map *outer, const void *key)
{
    struct nicsim_bpf_map *old = held_map(outer, key);
    int err = nicsim_hostmap_delete(outer, key);

    if (!err)
        nicsim_bpf_map_put(old);
    return err;
}

/* An outer map going away drops the inner maps its elements hold. */
static void outer_clear(struct nicsim_bpf_map *outer)
{
    uint8_t key[512], next[512];
    const void *prev = NULL;

    if (outer->key_size > sizeof(key))
        return;
    while (!nicsim_hostmap_get_next(outer, prev, next)) {
        struct nicsim_bpf_map *old = held_map(outer, next);

        memcpy(key, next, outer->key_size);
        prev = key;
        nicsim_bpf_map_put(old); /* an inner map holds no maps: the outer one is untouched */
    }
}

int nicsim_kern_map_create(struct nicsim_kern *k, const struct nicsim_kern_map_create_attr *attr,
                           struct nicsim_extack *extack)
{
    struct nicsim_kern_map_create_attr a = {0};
    struct nicsim_bpf_map *map, *tmpl = NULL;
    int err, fd;

    if (!k || !attr || nicsim_opts_copy(&a, sizeof(a), attr))
        return -EINVAL;
    if (a.map_type == BPF_MAP_TYPE_UNSPEC || a.map_type >= NICSIM_MAX_BPF_MAP_TYPE)
        return -EINVAL;
    /* bpf_map_flags_access_ok: a program may not be denied both reading and writing */
    if ((a.map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) ==
        (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
        return -EINVAL;
    map = calloc(1, sizeof(*map));
    if (!map)
        return -ENOMEM;
    map->kern = k;
    map->map_type = a.map_type;
    map->key_size = a.key_size;
    map->value_size = a.value_size;
    map->max_entries = a.max_entries;
    map->map_flags = a.map_flags;
    map->refcnt = 1;
    err = obj_name_cpy(map->name, a.map_name);
    if (!err && map_is_map_in_map(map))
        err = map_meta_alloc(k, map, (int)a.inner_map_fd, &tmpl);
    if (!err && a.map_ifindex) {
        map->offloaded = true;
        err = map_offload_alloc(k, map, &a, tmpl, extack);
    } else if (!err) {
        err = nicsim_hostmap_alloc(map);
    }
    if (err) {
        free(map->inner_map_meta);
        free(map);
        return err;
    }
    err = id_alloc((void ***)&k->maps, &k->n_map_ids, map, &map->id);
    if (err) {
        nicsim_bpf_map_put(map);
        return err;
    }
    fd = fd_alloc(k, FD_MAP, map);
    if (fd < 0)
        nicsim_bpf_map_put(map);
    return fd;
}

static int map_get(struct nicsim_kern *k, int fd, struct nicsim_bpf_map **out)
{
    struct fd_ent *e = k ? fd_get(k, fd) : NULL;

    if (!e)
        return -EBADF;
    if (e->kind != FD_MAP)
        return -EINVAL;
    *out = e->obj;
    return 0;
}

int nicsim_kern_map_lookup_elem(struct nicsim_kern *k, int fd, const void *key, void *value)
{
    struct nicsim_bpf_map *map;
    int err = map_get(k, fd, &map);

    if (k)
        k->err[0] = '\0';
    if (err)
        return err;
    if (!value || (!key && map->key_size))
        return -EFAULT;
    if (!map->offloaded)
        return nicsim_hostmap_lookup(map, key, value);
    if (!map->netdev)
        return -ENODEV;
    return map->dev_ops->map_lookup_elem(map, (void *)key, value);
}

int nicsim_kern_map_update_elem(struct nicsim_kern *k, int fd, const void *key, const void *value,
                                uint64_t flags)
{
    struct nicsim_bpf_map *map;
    int err = map_get(k, fd, &map);

    if (k)
        k->err[0] = '\0';
    if (err)
        return err;
    if (!value || (!key && map->key_size))
        return -EFAULT;
    if (!map->offloaded && map->inner_map_meta)
        return outer_update(map, key, value, flags);
    if (!map->offloaded)
        return nicsim_hostmap_update(map, key, value, flags);
    if (flags > BPF_EXIST)
        return -EINVAL;
    if (!map->netdev)
        return -ENODEV;
    return map->dev_ops->map_update_elem(map, (void *)key, (void *)value, flags);
}

int nicsim_kern_map_delete_elem(struct nicsim_kern *k, int fd, const void *key)
{
    struct nicsim_bpf_map *map;
    int err = map_get(k, fd, &map);

    if (k)
        k->err[0] = '\0';
    if (err)
        return err;
    if (!key && map->key_size)
        return -EFAULT;
    if (!map->offloaded && map->inner_map_meta)
        return outer_delete(map, key);
    if (!map->offloaded)
        return nicsim_hostmap_delete(map, key);
    if (!map->netdev)
        return -ENODEV;
    return map->dev_ops->map_delete_elem(map, (void *)key);
}

int nicsim_kern_map_get_next_key(struct nicsim_kern *k, int fd, const void *key, void *next_key)
{
    struct nicsim_bpf_map *map;
    int err = map_get(k, fd, &map);

    if (k)
        k->err[0] = '\0';
    if (err)
        return err;
    if (!next_key)
        return -EFAULT;
    if (!map->offloaded)
        return nicsim_hostmap_get_next(map, key, next_key);
    if (!map->netdev)
        return -ENODEV;
    return map->dev_ops->map_get_next_key(map, (void *)key, next_key);
}

/* ---------------------------------------------------------------------------------------------
 * Descriptors, ids, info.
 */
int nicsim_kern_close(struct nicsim_kern *k, int fd)
{
    struct fd_ent *e = k ? fd_get(k, fd) : NULL;
    struct fd_ent copy;

    if (!e)
        return -EBADF;
    if (e->kind == FD_MAP) {
        /* map_release_uref: when the last user reference of a prog array goes, its entries are
         * cleared (bpf_fd_array_map_clear), which breaks the reference cycle between a prog
         * array and the programs that tail-call through it. */
        struct nicsim_bpf_map *map = e->obj;
        size_t users = 0;

        for (size_t i = 3; i < k->n_fds; i++)
            users += k->fds[i].kind == FD_MAP && k->fds[i].obj == map;
        if (users == 1 && map->map_type == BPF_MAP_TYPE_PROG_ARRAY)
            for (uint32_t i = 0; i < map->max_entries; i++)
                nicsim_kern_map_delete_elem(k, fd, &i);
        e = fd_get(k, fd);
    }
    copy = *e;
    e->kind = FD_FREE;
    e->obj = NULL;
    if (copy.kind == FD_PROG)
        nicsim_bpf_prog_put(copy.obj);
    else
        nicsim_bpf_map_put(copy.obj);
    return 0;
}

int nicsim_kern_prog_get_fd_by_id(struct nicsim_kern *k, uint32_t id)
{
    struct nicsim_bpf_prog *prog;
    int fd;

    if (!k || !id || id > k->n_prog_ids || !k->progs[id - 1])
        return -ENOENT;
    prog = k->progs[id - 1];
    fd = fd_alloc(k, FD_PROG, prog);
    if (fd >= 0)
        nicsim_bpf_prog_inc(prog);
    return fd;
}

int nicsim_kern_map_get_fd_by_id(struct nicsim_kern *k, uint32_t id)
{
    struct nicsim_bpf_map *map;
    int fd;

    if (!k || !id || id > k->n_map_ids || !k->maps[id - 1])
        return -ENOENT;
    map = k->maps[id - 1];
    fd = fd_alloc(k, FD_MAP, map);
    if (fd >= 0)
        nicsim_bpf_map_inc(map);
    return fd;
}

int nicsim_kern_prog_get_next_id(struct nicsim_kern *k, uint32_t start_id, uint32_t *next_id)
{
    for (size_t i = start_id; k && i < k->n_prog_ids; i++) {
        if (k->progs[i]) {
            *next_id = (uint32_t)i + 1;
            return 0;
        }
    }
    return -ENOENT;
}

int nicsim_kern_map_get_next_id(struct nicsim_kern *k, uint32_t start_id, uint32_t *next_id)
{
    for (size_t i = start_id; k && i < k->n_map_ids; i++) {
        if (k->maps[i]) {
            *next_id = (uint32_t)i + 1;
            return 0;
        }
    }
    return -ENOENT;
}

int nicsim_kern_prog_get_info(struct nicsim_kern *k, int fd, struct nicsim_kern_prog_info *info)
{
    struct fd_ent *e = k ? fd_get(k, fd) : NULL;
    struct nicsim_bpf_prog *prog;

    if (!e)
        return -EBADF;
    if (e->kind != FD_PROG || !info)
        return -EINVAL;
    prog = e->obj;
    memset(info, 0, sizeof(*info));
    info->id = prog->aux->id;
    info->type = prog->type;
    memcpy(info->name, prog->aux->name, sizeof(info->name));
    info->dev_bound = prog->aux->dev_bound;
    info->offloaded = prog->aux->offload_requested;
    info->xlated_len = prog->len * (uint32_t)sizeof(struct nicsim_insn);
    info->nr_map_ids = prog->aux->used_map_cnt;
    for (uint32_t i = 0; i < prog->aux->used_map_cnt; i++)
        info->map_ids[i] = prog->aux->used_maps[i]->id;
    if (nicsim_bpf_prog_is_offloaded(prog)) {
        /* bpf_prog_offload_info_fill */
        if (!prog->aux->offload)
            return -ENODEV;
        info->ifindex = (uint32_t)prog->aux->offload->netdev->ifindex;
        info->jited_len = prog->aux->offload->jited_len;
    } else if (prog->aux->offload) {
        info->ifindex = (uint32_t)prog->aux->offload->netdev->ifindex;
    }
    return 0;
}

int nicsim_kern_map_get_info(struct nicsim_kern *k, int fd, struct nicsim_kern_map_info *info)
{
    struct nicsim_bpf_map *map;
    int err = map_get(k, fd, &map);

    if (err)
        return err;
    if (!info)
        return -EINVAL;
    memset(info, 0, sizeof(*info));
    info->id = map->id;
    info->type = map->map_type;
    info->key_size = map->key_size;
    info->value_size = map->value_size;
    info->max_entries = map->max_entries;
    info->map_flags = map->map_flags;
    memcpy(info->name, map->name, sizeof(info->name));
    if (map->offloaded) {
        /* bpf_map_offload_info_fill */
        if (!map->netdev)
            return -ENODEV;
        info->ifindex = (uint32_t)map->netdev->ifindex;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * XDP (net/core/dev.c).
 */
static enum nicsim_xdp_mode dev_xdp_mode(const struct nicsim_netdev *dev, uint32_t flags)
{
    if (flags & XDP_FLAGS_HW_MODE)
        return NICSIM_XDP_MODE_HW;
    if (flags & XDP_FLAGS_DRV_MODE)
        return NICSIM_XDP_MODE_DRV;
    if (flags & XDP_FLAGS_SKB_MODE)
        return NICSIM_XDP_MODE_SKB;
    return dev->netdev_ops && dev->netdev_ops->ndo_bpf ? NICSIM_XDP_MODE_DRV : NICSIM_XDP_MODE_SKB;
}

static int dev_xdp_prog_count(const struct nicsim_netdev *dev)
{
    int n = 0;

    for (int m = 0; m < NICSIM_XDP_MODE__MAX; m++)
        n += dev->xdp_prog[m] != NULL;
    return n;
}

/* bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_XDP, attach_drv): a new reference or -errno. */
static int prog_get_type_dev(struct nicsim_kern *k, int fd, bool attach_drv,
                             struct nicsim_bpf_prog **out)
{
    struct fd_ent *e = fd_get(k, fd);
    struct nicsim_bpf_prog *prog;

    if (!e)
        return -EBADF;
    if (e->kind != FD_PROG)
        return -EINVAL;
    prog = e->obj;
    if (prog->type != BPF_PROG_TYPE_XDP)
        return -EINVAL;
    if (nicsim_bpf_prog_is_offloaded(prog) && !attach_drv)
        return -EINVAL;
    nicsim_bpf_prog_inc(prog);
    *out = prog;
    return 0;
}

/* dev_xdp_install: the driver (or the generic hook) gets its own reference. */
static int dev_xdp_install(struct nicsim_netdev *dev, enum nicsim_xdp_mode mode,
                           struct nicsim_extack *extack, uint32_t flags,
                           struct nicsim_bpf_prog *prog)
{
    struct nicsim_netdev_bpf xdp = {0};
    int err;

    if (mode == NICSIM_XDP_MODE_SKB)
        return 0; /* generic_xdp_install: nothing to set up in this emulation */
    xdp.command = mode == NICSIM_XDP_MODE_HW ? NICSIM_XDP_SETUP_PROG_HW : NICSIM_XDP_SETUP_PROG;
    xdp.extack = extack;
    xdp.flags = flags;
    xdp.prog = prog;
    err = dev->netdev_ops->ndo_bpf(dev, &xdp);
    return err;
}

static int dev_xdp_attach(struct nicsim_netdev *dev, struct nicsim_extack *extack,
                          struct nicsim_bpf_prog *new_prog, struct nicsim_bpf_prog *old_prog,
                          uint32_t flags)
{
    unsigned num_modes = (unsigned)__builtin_popcount(flags & XDP_FLAGS_MODES);
    enum nicsim_xdp_mode mode;
    struct nicsim_bpf_prog *cur_prog;
    int err;

    /* just one XDP mode bit should be set, zero defaults to drv/skb mode */
    if (num_modes > 1) {
        nicsim_extack_set(extack, "Only one XDP mode flag can be set");
        return -EINVAL;
    }
    /* avoid ambiguity if offload + drv/skb mode progs are both loaded */
    if (!num_modes && dev_xdp_prog_count(dev) > 1) {
        nicsim_extack_set(extack, "More than one program loaded, unset mode is ambiguous");
        return -EINVAL;
    }
    /* old_prog != NULL implies XDP_FLAGS_REPLACE is set */
    if (old_prog && !(flags & XDP_FLAGS_REPLACE)) {
        nicsim_extack_set(extack, "XDP_FLAGS_REPLACE is not specified");
        return -EINVAL;
    }
    mode = dev_xdp_mode(dev, flags);
    cur_prog = dev->xdp_prog[mode];
    if ((flags & XDP_FLAGS_REPLACE) && cur_prog != old_prog) {
        nicsim_extack_set(extack, "Active program does not match expected");
        return -EEXIST;
    }
    if (new_prog) {
        bool offload = mode == NICSIM_XDP_MODE_HW;
        enum nicsim_xdp_mode other_mode =
            mode == NICSIM_XDP_MODE_SKB ? NICSIM_XDP_MODE_DRV : NICSIM_XDP_MODE_SKB;

        if ((flags & XDP_FLAGS_UPDATE_IF_NOEXIST) && cur_prog) {
            nicsim_extack_set(extack, "XDP program already attached");
            return -EBUSY;
        }
        if (!offload && dev->xdp_prog[other_mode]) {
            nicsim_extack_set(extack, "Native and generic XDP can't be active at the same time");
            return -EEXIST;
        }
        if (!offload && nicsim_bpf_prog_is_offloaded(new_prog)) {
            nicsim_extack_set(extack,
                              "Using offloaded program without HW_MODE flag is not supported");
            return -EINVAL;
        }
        if (nicsim_bpf_prog_is_dev_bound(new_prog) && !offload_dev_match(new_prog, dev)) {
            nicsim_extack_set(extack, "Program bound to different device");
            return -EINVAL;
        }
        if (nicsim_bpf_prog_is_dev_bound(new_prog) && mode == NICSIM_XDP_MODE_SKB) {
            nicsim_extack_set(extack, "Can't attach device-bound programs in generic mode");
            return -EINVAL;
        }
        if (new_prog->expected_attach_type == BPF_XDP_DEVMAP) {
            nicsim_extack_set(extack, "BPF_XDP_DEVMAP programs can not be attached to a device");
            return -EINVAL;
        }
        if (new_prog->expected_attach_type == BPF_XDP_CPUMAP) {
            nicsim_extack_set(extack, "BPF_XDP_CPUMAP programs can not be attached to a device");
            return -EINVAL;
        }
    }
    /* don't call drivers if the effective program didn't change */
    if (new_prog != cur_prog) {
        if (mode != NICSIM_XDP_MODE_SKB && (!dev->netdev_ops || !dev->netdev_ops->ndo_bpf)) {
            nicsim_extack_set(extack, "Underlying driver does not support XDP in native mode");
            return -EOPNOTSUPP;
        }
        if (new_prog)
            nicsim_bpf_prog_inc(new_prog);
        err = dev_xdp_install(dev, mode, extack, flags, new_prog);
        if (err) {
            if (new_prog)
                nicsim_bpf_prog_put(new_prog);
            return err;
        }
        /* The device's reference moves to the slot; the caller's goes with the slot's old one. */
        if (new_prog)
            nicsim_bpf_prog_put(new_prog);
    }
    dev->xdp_prog[mode] = new_prog;
    dev->xdp_flags[mode] = new_prog ? flags : 0;
    if (cur_prog)
        nicsim_bpf_prog_put(cur_prog);
    return 0;
}

int nicsim_kern_xdp_attach(struct nicsim_kern *k, int ifindex, int prog_fd, int expected_fd,
                           uint32_t flags, struct nicsim_extack *extack)
{
    struct nicsim_bpf_prog *new_prog = NULL, *old_prog = NULL;
    struct nicsim_netdev *dev;
    enum nicsim_xdp_mode mode;
    int err = 0;

    if (!k)
        return -EINVAL;
    /* rtnetlink do_setlink / IFLA_XDP */
    dev = nicsim_kern_dev_get_by_index(k, ifindex);
    if (!dev)
        return -ENODEV;
    if (flags & ~XDP_FLAGS_MASK)
        return -EINVAL;
    if (__builtin_popcount(flags & XDP_FLAGS_MODES) > 1)
        return -EINVAL;
    if (!(flags & XDP_FLAGS_REPLACE))
        expected_fd = -1;

    /* dev_change_xdp_fd */
    mode = dev_xdp_mode(dev, flags);
    if (prog_fd >= 0) {
        err = prog_get_type_dev(k, prog_fd, mode != NICSIM_XDP_MODE_SKB, &new_prog);
        if (err)
            return err;
    }
    if (expected_fd >= 0) {
        err = prog_get_type_dev(k, expected_fd, mode != NICSIM_XDP_MODE_SKB, &old_prog);
        if (err) {
            old_prog = NULL;
            goto out;
        }
    }
    err = dev_xdp_attach(dev, extack, new_prog, old_prog, flags);
out:
    if (err && new_prog)
        nicsim_bpf_prog_put(new_prog);
    if (old_prog)
        nicsim_bpf_prog_put(old_prog);
    return err;
}

int nicsim_kern_xdp_query(struct nicsim_kern *k, int ifindex, struct nicsim_kern_xdp_query *q)
{
    static const uint8_t attached[NICSIM_XDP_MODE__MAX] = {XDP_ATTACHED_SKB, XDP_ATTACHED_DRV,
                                                           XDP_ATTACHED_HW};
    struct nicsim_netdev *dev = nicsim_kern_dev_get_by_index(k, ifindex);
    uint32_t ids[NICSIM_XDP_MODE__MAX];

    if (!dev)
        return -ENODEV;
    if (!q)
        return -EINVAL;
    memset(q, 0, sizeof(*q));
    q->attach_mode = XDP_ATTACHED_NONE;
    for (int m = 0; m < NICSIM_XDP_MODE__MAX; m++) {
        ids[m] = dev->xdp_prog[m] ? dev->xdp_prog[m]->aux->id : 0;
        if (!ids[m])
            continue;
        if (!q->prog_id) {
            q->attach_mode = attached[m];
            q->prog_id = ids[m];
        } else {
            q->attach_mode = XDP_ATTACHED_MULTI;
        }
    }
    if (q->attach_mode == XDP_ATTACHED_MULTI)
        q->prog_id = 0;
    q->skb_prog_id = ids[NICSIM_XDP_MODE_SKB];
    q->drv_prog_id = ids[NICSIM_XDP_MODE_DRV];
    q->hw_prog_id = ids[NICSIM_XDP_MODE_HW];
    return 0;
}
