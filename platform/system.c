/* SPDX-License-Identifier: MIT */
/*
 * The NIC assembled: the firmware's core operations drive the datapath's cores, and the cores'
 * map unit is served from the firmware's map store (include/nicsim/system.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/system.h"
#include "nicsim/util.h"

#include "nicsim/core.h"
#include "nicsim/drv.h"
#include "nicsim/fw_hal.h"
#include "nicsim/fw_maps.h"
#include "nicsim/kern.h"
#include "nicsim/nicdev.h"
#include "nicsim/xdp.h"

#define SYS_MAP_LATENCY 2 /* docs/microarchitecture.md: map memory, 2 cycles */

struct sys_prog {
    uint32_t id;
    struct nicsim_prog *prog;
};

struct nicsim_sys {
    struct nicsim_kern *kern;
    struct nicsim_nic *nic;
    struct nicsim_drv *drv;
    struct nicsim_dp *dp;
    struct nicsim_nic_model *model; /* the SystemC NIC, or NULL: the plain loop */
    struct nicsim_pcie *pcie;       /* the model's BAR register logic */
    uint32_t n_ports, n_cores, clock_mhz;
    struct sys_prog *progs;
    size_t n_progs, cap_progs;
    /* Port programs set by the firmware before the datapath existed (never in practice). */
    uint32_t pending_port_prog[NICSIM_DP_MAX_PORTS];
};

static struct nicsim_fw_maps *sys_maps(struct nicsim_sys *sys)
{
    return nicsim_nic__maps(sys->nic);
}

static const struct nicsim_prog *sys_prog(const struct nicsim_sys *sys, uint32_t id)
{
    for (size_t i = 0; i < sys->n_progs; i++)
        if (sys->progs[i].id == id)
            return sys->progs[i].prog;
    return NULL;
}

/* ---- The map unit: helpers reach the firmware's map store. */
static int mu_info(void *ctx, uint32_t map_id, struct nicsim_xdp_map_info *info)
{
    struct nicsim_sys *sys = ctx;
    struct nicsim_fw_map_info fi;
    int rc = nicsim_fw_maps__info(sys_maps(sys), map_id, &fi);

    if (rc)
        return rc;
    info->type = fi.type;
    info->key_size = fi.key_size;
    info->value_size = fi.value_size;
    info->max_entries = fi.max_entries;
    return 0;
}

static int mu_lookup(void *ctx, uint32_t map_id, uint32_t cpu, const void *key, uint32_t *off)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw_maps__prog_lookup(sys_maps(sys), map_id, cpu, key, off);
}

static int mu_inner_map(void *ctx, uint32_t map_id, uint32_t cpu, const void *key,
                        uint32_t *inner_id)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw_maps__prog_lookup_map(sys_maps(sys), map_id, cpu, key, inner_id);
}

static int mu_update(void *ctx, uint32_t map_id, uint32_t cpu, const void *key, const void *value,
                     uint64_t flags)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw_maps__prog_update(sys_maps(sys), map_id, cpu, key, value, flags);
}

static int mu_remove(void *ctx, uint32_t map_id, uint32_t cpu, const void *key)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw_maps__prog_delete(sys_maps(sys), map_id, cpu, key);
}

static int mu_devmap_get(void *ctx, uint32_t map_id, uint32_t key, uint32_t *ifindex)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw_maps__devmap_get(sys_maps(sys), map_id, key, ifindex);
}

static const struct nicsim_prog *mu_prog_array_get(void *ctx, uint32_t map_id, uint32_t index)
{
    struct nicsim_sys *sys = ctx;
    uint32_t prog_id;

    if (nicsim_fw_maps__prog_array_get(sys_maps(sys), map_id, index, &prog_id))
        return NULL;
    return sys_prog(sys, prog_id);
}

static int mu_event_output(void *ctx, uint32_t map_id, uint32_t cpu, uint64_t index,
                           const void *data, uint32_t size)
{
    struct nicsim_sys *sys = ctx;

    return nicsim_fw__event_output(nicsim_nic__fw(sys->nic), map_id, cpu, index, data, size);
}

static const struct nicsim_xdp_map_ops map_unit = {
    .info = mu_info,
    .lookup = mu_lookup,
    .inner_map = mu_inner_map,
    .update = mu_update,
    .remove = mu_remove,
    .devmap_get = mu_devmap_get,
    .prog_array_get = mu_prog_array_get,
    .event_output = mu_event_output,
};

/* ---- Core operations: what the firmware's HAL does to the cores. */
static int core_load(void *ctx, const struct nicsim_fw_prog_desc *d, char *msg, size_t msg_len)
{
    struct nicsim_sys *sys = ctx;
    /* the program may address the maps of its image's map table, and no other */
    uint32_t regions[NICSIM_IMG_MAX_MAPS];
    struct nicsim_prog_opts po = {.sz = sizeof(po),
                                  .helpers = nicsim_xdp_helpers(),
                                  .name = d->name,
                                  .regions = regions,
                                  .n_regions = d->n_maps};
    struct nicsim_msg e = {0};
    struct nicsim_prog *p;

    if (d->n_maps > NICSIM_IMG_MAX_MAPS) {
        nicsim_errf(msg, msg_len, "core refuses program %u: %u maps, at most %u", d->prog_id,
                    d->n_maps, NICSIM_IMG_MAX_MAPS);
        return -E2BIG;
    }
    for (uint32_t i = 0; i < d->n_maps; i++)
        regions[i] = NICSIM_MAP_REGION_BASE + d->map_ids[i];

    if (sys->n_progs == sys->cap_progs) {
        size_t cap = sys->cap_progs ? 2 * sys->cap_progs : 8;
        struct sys_prog *np = realloc(sys->progs, cap * sizeof(*np));

        if (!np)
            return -ENOMEM;
        sys->progs = np;
        sys->cap_progs = cap;
    }
    p = nicsim_prog__load(d->insns, d->n, &po, &e);
    if (!p) {
        nicsim_errf(msg, msg_len, "core refuses program %u: insn %ld: %s", d->prog_id, e.index,
                    e.msg);
        return -EINVAL;
    }
    sys->progs[sys->n_progs].id = d->prog_id;
    sys->progs[sys->n_progs].prog = p;
    sys->n_progs++;
    return 0;
}

static void core_unload(void *ctx, uint32_t prog_id)
{
    struct nicsim_sys *sys = ctx;

    for (size_t i = 0; i < sys->n_progs; i++) {
        if (sys->progs[i].id != prog_id)
            continue;
        if (sys->dp)
            for (uint32_t port = 0; port < sys->n_ports; port++)
                if (nicsim_dp__prog(sys->dp, port) == sys->progs[i].prog)
                    nicsim_dp__set_prog(sys->dp, port, NULL);
        nicsim_prog__free(sys->progs[i].prog);
        sys->progs[i] = sys->progs[--sys->n_progs];
        return;
    }
}

static int core_set_port_prog(void *ctx, uint32_t port, uint32_t prog_id)
{
    struct nicsim_sys *sys = ctx;
    const struct nicsim_prog *p = prog_id ? sys_prog(sys, prog_id) : NULL;

    if (port >= NICSIM_DP_MAX_PORTS || (prog_id && !p))
        return -EINVAL;
    if (!sys->dp) {
        sys->pending_port_prog[port] = prog_id;
        return 0;
    }
    return nicsim_dp__set_prog(sys->dp, port, p);
}

static void core_map_created(void *ctx, uint32_t map_id)
{
    struct nicsim_sys *sys = ctx;
    struct nicsim_fw_map_info fi;
    size_t len = 0;
    uint8_t *mem;

    if (!sys->dp || nicsim_fw_maps__info(sys_maps(sys), map_id, &fi))
        return;
    mem = nicsim_fw_maps__value_mem(sys_maps(sys), map_id, &len);
    /* A region offset is 32 bits: the map library refuses larger value memory (-E2BIG at
     * MAP_ALLOC); a longer one is never mapped truncated, it is not mapped at all. */
    if (len > UINT32_MAX)
        return;
    /* BPF_F_RDONLY_PROG (0x80): the program may only read the map (.rodata). Each core sees
     * one value per element, of a per-CPU map only its own slice. */
    struct nicsim_xdp_map_mem mm = {.sz = sizeof(mm),
                                    .mem = mem,
                                    .len = (uint32_t)len,
                                    .writable = !(fi.flags & 0x80u),
                                    .latency = SYS_MAP_LATENCY,
                                    .value_size = fi.value_size,
                                    .stride = mem ? fi.value_stride : 0,
                                    .slice = fi.n_cpus > 1 ? fi.value_stride / fi.n_cpus : 0};
    for (uint32_t c = 0; c < sys->n_cores; c++)
        nicsim_xdp_core__map_values(nicsim_dp__core(sys->dp, c), map_id, &mm);
}

static void core_map_freed(void *ctx, uint32_t map_id)
{
    struct nicsim_sys *sys = ctx;

    if (!sys->dp)
        return;
    for (uint32_t c = 0; c < sys->n_cores; c++)
        nicsim_xdp_core__unmap_map(nicsim_dp__core(sys->dp, c), map_id);
}

static const struct nicsim_fw_core_ops core_ops = {
    .load = core_load,
    .unload = core_unload,
    .set_port_prog = core_set_port_prog,
    .map_created = core_map_created,
    .map_freed = core_map_freed,
};

/* ---- Assembly. */
struct nicsim_sys *nicsim_sys__new(const struct nicsim_sys_opts *opts, char *err, size_t err_len)
{
    struct nicsim_sys_opts o = {0};
    struct nicsim_sys *sys;
    struct nicsim_nic_opts no = {.sz = sizeof(no)};
    struct nicsim_drv_opts dro = {.sz = sizeof(dro)};
    struct nicsim_kern_opts ko = {.sz = sizeof(ko)};
    struct nicsim_dp_opts dpo = {.sz = sizeof(dpo)};

    if (opts && nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        nicsim_errf(err, err_len, "system options: size %zu with unknown non-zero fields",
                    opts->sz);
        errno = EINVAL;
        return NULL;
    }
    o.n_ports = o.n_ports ? o.n_ports : 2;
    o.n_cores = o.n_cores ? o.n_cores : 4;
    o.clock_mhz = o.clock_mhz ? o.clock_mhz : 250;
    o.mtu = o.mtu ? o.mtu : 1500;
    if (o.n_ports > NICSIM_DP_MAX_PORTS || o.n_cores > NICSIM_DP_MAX_CORES) {
        nicsim_errf(err, err_len, "at most %d ports and %d cores", NICSIM_DP_MAX_PORTS,
                    NICSIM_DP_MAX_CORES);
        errno = EINVAL;
        return NULL;
    }
    sys = calloc(1, sizeof(*sys));
    if (!sys) {
        nicsim_errf(err, err_len, "out of memory");
        return NULL;
    }
    sys->n_ports = o.n_ports;
    sys->n_cores = o.n_cores;
    sys->clock_mhz = o.clock_mhz;

    no.n_ports = o.n_ports;
    no.n_cores = o.n_cores;
    no.map_mem_bytes = o.map_mem_bytes;
    no.core = &core_ops;
    no.core_ctx = sys;
    if (o.nic_model) {
        struct nicsim_nic_model_opts mo = {0};
        size_t msz = o.nic_model->sz < sizeof(mo) ? o.nic_model->sz : sizeof(mo);
        memcpy(&mo, o.nic_model, msz);
        mo.sz = sizeof(mo);
        mo.n_ports = o.n_ports;
        mo.n_cores = o.n_cores;
        sys->pcie = nicsim_pcie__new();
        if (!sys->pcie) {
            nicsim_errf(err, err_len, "NIC BAR: %s", strerror(errno));
            goto fail;
        }
        mo.pcie = sys->pcie;
        sys->model = nicsim_nic_model_new(&mo, err, err_len);
        if (!sys->model)
            goto fail;
        no.pcie = sys->pcie;
        no.host_bar = nicsim_nic_model_host_bar_ops();
        no.host_bar_ctx = sys->model;
    }
    sys->nic = nicsim_nic__new(&no);
    if (!sys->nic) {
        nicsim_errf(err, err_len, "NIC device: %s", strerror(errno));
        goto fail;
    }
    sys->kern = nicsim_kern__new(&ko);
    if (!sys->kern) {
        nicsim_errf(err, err_len, "kernel emulation: %s", strerror(errno));
        goto fail;
    }
    sys->drv = nicsim_drv__probe(sys->kern, nicsim_nic__ctrl(sys->nic), &dro);
    if (!sys->drv) {
        nicsim_errf(err, err_len, "driver probe: %s", strerror(errno));
        goto fail;
    }
    dpo.n_ports = o.n_ports;
    for (uint32_t p = 0; p < o.n_ports; p++) {
        dpo.ports[p].ifindex = (uint32_t)nicsim_sys__ifindex(sys, p);
        dpo.ports[p].mtu = o.mtu;
    }
    dpo.n_cores = o.n_cores;
    dpo.clock_mhz = o.clock_mhz;
    dpo.seed = o.seed;
    dpo.budget = o.budget;
    dpo.maps = &map_unit;
    dpo.maps_ctx = sys;
    sys->dp = nicsim_dp__new(&dpo);
    if (!sys->dp) {
        nicsim_errf(err, err_len, "datapath: %s", strerror(errno));
        goto fail;
    }
    if (sys->model && nicsim_nic_model_set_datapath(sys->model, sys->dp)) {
        nicsim_errf(err, err_len, "NIC model: the datapath does not match it");
        errno = EINVAL;
        goto fail;
    }
    for (uint32_t p = 0; p < o.n_ports; p++)
        if (sys->pending_port_prog[p])
            core_set_port_prog(sys, p, sys->pending_port_prog[p]);
    return sys;
fail:
    nicsim_sys__free(sys);
    return NULL;
}

void nicsim_sys__free(struct nicsim_sys *sys)
{
    if (!sys)
        return;
    if (sys->drv)
        nicsim_drv__remove(sys->drv);
    if (sys->kern)
        nicsim_kern__free(sys->kern);
    nicsim_nic__free(sys->nic); /* its control client may still use the model's BAR */
    nicsim_nic_model_free(sys->model);
    nicsim_pcie__free(sys->pcie);
    for (size_t i = 0; i < sys->n_progs; i++)
        nicsim_prog__free(sys->progs[i].prog);
    free(sys->progs);
    nicsim_dp__free(sys->dp);
    free(sys);
}

struct nicsim_kern *nicsim_sys__kern(struct nicsim_sys *sys)
{
    return sys->kern;
}
struct nicsim_drv *nicsim_sys__drv(struct nicsim_sys *sys)
{
    return sys->drv;
}
struct nicsim_nic *nicsim_sys__nic(struct nicsim_sys *sys)
{
    return sys->nic;
}
struct nicsim_ctrl *nicsim_sys__ctrl(struct nicsim_sys *sys)
{
    return nicsim_nic__ctrl(sys->nic);
}
struct nicsim_dp *nicsim_sys__dp(struct nicsim_sys *sys)
{
    return sys->dp;
}
uint32_t nicsim_sys__n_ports(const struct nicsim_sys *sys)
{
    return sys->n_ports;
}
uint32_t nicsim_sys__n_cores(const struct nicsim_sys *sys)
{
    return sys->n_cores;
}
uint32_t nicsim_sys__clock_mhz(const struct nicsim_sys *sys)
{
    return sys->clock_mhz;
}
struct nicsim_nic_model *nicsim_sys__nic_model(struct nicsim_sys *sys)
{
    return sys->model;
}
void nicsim_sys__finish(struct nicsim_sys *sys)
{
    nicsim_nic_model_finish(sys->model);
}
uint32_t nicsim_sys__n_loaded(const struct nicsim_sys *sys)
{
    return (uint32_t)sys->n_progs;
}

int nicsim_sys__ifindex(const struct nicsim_sys *sys, uint32_t port)
{
    struct nicsim_netdev *nd = port < sys->n_ports ? nicsim_drv__netdev(sys->drv, port) : NULL;

    return nd ? nd->ifindex : -ENODEV;
}

int nicsim_sys__rx(struct nicsim_sys *sys, uint32_t port, const uint8_t *frame, uint32_t caplen,
                   uint32_t wirelen, uint64_t arrival_ns, struct nicsim_dp_result *res)
{
    struct nicsim_fw *fw = nicsim_nic__fw(sys->nic);
    int rc = sys->model
                 ? nicsim_nic_model_rx(sys->model, port, frame, caplen, wirelen, arrival_ns, res)
                 : nicsim_dp__rx(sys->dp, port, frame, caplen, wirelen, arrival_ns, res);

    if (rc)
        return rc;
    /* a frame the MAC refused or found no room for in the receive buffer: an rx error */
    if ((res->error && res->error != NICSIM_DP_ERR_NO_PROGRAM) ||
        res->drop == NICSIM_DP_DROP_RX_BUFFER_FULL)
        nicsim_fw__count(fw, port, 0, 0, wirelen, 0, 1);
    else if (res->error == NICSIM_DP_OK)
        nicsim_fw__count(fw, port, nicsim_fw__port_prog(fw, port), res->xdp.action, res->xdp.len,
                         res->xdp.run.cycles, 0);
    return 0;
}
