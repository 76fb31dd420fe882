/* SPDX-License-Identifier: MIT */
/*
 * The emulated NIC device (include/nicsim/nicdev.h): a PCIe BAR, the firmware on a HAL that
 * reaches the BAR's device side, and a control client on the BAR's host side.
 *
 * Single-threaded: the doorbell runs the firmware's poll synchronously, so every client call has
 * its reply when it returns.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/nicdev.h"
#include "nicsim/util.h"

struct nic_prog {
    uint32_t id; /* 0: free */
    struct nicsim_isa_insn *insns;
    size_t n;
};

struct nicsim_nic {
    struct nicsim_pcie *pcie;
    int owns_pcie;
    struct nicsim_fw *fw;
    struct nicsim_ctrl *ctrl;
    uint32_t n_ports, n_cores;
    const struct nicsim_fw_core_ops *core; /* the datapath's, or NULL */
    void *core_ctx;
    struct nic_prog *progs;
    size_t n_progs;
    uint32_t port_prog[16];
};

/* ---- HAL over the PCIe model's device side. */
static uint32_t hal_reg_read(void *ctx, uint32_t off)
{
    return nicsim_pcie__dev_read32(((struct nicsim_nic *)ctx)->pcie, off);
}
static void hal_reg_write(void *ctx, uint32_t off, uint32_t val)
{
    nicsim_pcie__dev_write32(((struct nicsim_nic *)ctx)->pcie, off, val);
}
static int hal_dma_read(void *ctx, uint64_t bus, void *buf, size_t len)
{
    return nicsim_pcie__dma_read(((struct nicsim_nic *)ctx)->pcie, bus, buf, len);
}
static int hal_dma_write(void *ctx, uint64_t bus, const void *buf, size_t len)
{
    return nicsim_pcie__dma_write(((struct nicsim_nic *)ctx)->pcie, bus, buf, len);
}
static void hal_raise_irq(void *ctx, uint32_t causes)
{
    nicsim_pcie__raise_irq(((struct nicsim_nic *)ctx)->pcie, causes);
}

static const struct nicsim_fw_hal_ops nic_hal_ops = {
    .reg_read = hal_reg_read,
    .reg_write = hal_reg_write,
    .dma_read = hal_dma_read,
    .dma_write = hal_dma_write,
    .raise_irq = hal_raise_irq,
};

/* ---- Cores: keep a decoded copy of every program, forward to the datapath's ops. */
static struct nic_prog *nic_prog_slot(const struct nicsim_nic *nic, uint32_t id)
{
    for (size_t i = 0; i < nic->n_progs; i++)
        if (nic->progs[i].id == id)
            return &nic->progs[i];
    return NULL;
}

static int core_load(void *ctx, const struct nicsim_fw_prog_desc *d, char *msg, size_t msg_len)
{
    struct nicsim_nic *nic = ctx;
    struct nic_prog *slot = nic_prog_slot(nic, 0);
    struct nicsim_isa_insn *copy;
    int err;

    if (!slot) {
        struct nic_prog *p = realloc(nic->progs, (nic->n_progs + 1) * sizeof(*p));

        if (!p)
            return -ENOMEM;
        nic->progs = p;
        slot = &p[nic->n_progs++];
        memset(slot, 0, sizeof(*slot));
    }
    copy = malloc(d->n * sizeof(*copy));
    if (!copy)
        return -ENOMEM;
    memcpy(copy, d->insns, d->n * sizeof(*copy));
    if (nic->core && nic->core->load) {
        err = nic->core->load(nic->core_ctx, d, msg, msg_len);
        if (err) {
            free(copy);
            return err;
        }
    }
    slot->id = d->prog_id;
    slot->insns = copy;
    slot->n = d->n;
    return 0;
}

static void core_unload(void *ctx, uint32_t prog_id)
{
    struct nicsim_nic *nic = ctx;
    struct nic_prog *p = nic_prog_slot(nic, prog_id);

    if (nic->core && nic->core->unload)
        nic->core->unload(nic->core_ctx, prog_id);
    if (!p || !prog_id)
        return;
    free(p->insns);
    memset(p, 0, sizeof(*p));
}

static int core_set_port_prog(void *ctx, uint32_t port, uint32_t prog_id)
{
    struct nicsim_nic *nic = ctx;
    int err;

    if (port >= nic->n_ports)
        return -ENODEV;
    if (nic->core && nic->core->set_port_prog) {
        err = nic->core->set_port_prog(nic->core_ctx, port, prog_id);
        if (err)
            return err;
    }
    nic->port_prog[port] = prog_id;
    return 0;
}

static void core_map_created(void *ctx, uint32_t map_id)
{
    struct nicsim_nic *nic = ctx;

    if (nic->core && nic->core->map_created)
        nic->core->map_created(nic->core_ctx, map_id);
}

static void core_map_freed(void *ctx, uint32_t map_id)
{
    struct nicsim_nic *nic = ctx;

    if (nic->core && nic->core->map_freed)
        nic->core->map_freed(nic->core_ctx, map_id);
}

static const struct nicsim_fw_core_ops nic_core_ops = {
    .load = core_load,
    .unload = core_unload,
    .set_port_prog = core_set_port_prog,
    .map_created = core_map_created,
    .map_freed = core_map_freed,
};

/* ---- PCIe device hooks. */
static void dev_doorbell(void *dev)
{
    nicsim_fw__poll(((struct nicsim_nic *)dev)->fw);
}
static void dev_control(void *dev, uint32_t value)
{
    nicsim_fw__control(((struct nicsim_nic *)dev)->fw, value);
}

static const struct nicsim_pcie_dev_ops nic_dev_ops = {
    .doorbell = dev_doorbell,
    .control = dev_control,
};

/* ---------------------------------------------------------------------------------------------
 */
struct nicsim_nic *nicsim_nic__new(const struct nicsim_nic_opts *opts)
{
    struct nicsim_nic_opts o = {0};
    struct nicsim_fw_opts fo = {.sz = sizeof(fo)};
    struct nicsim_fw_hal hal;
    struct nicsim_nic *nic;
    int err = ENOMEM;

    if (opts) {
        if (nicsim_opts_copy(&o, sizeof(o), opts)) {
            errno = EINVAL;
            return NULL;
        }
    }
    if (!o.n_ports)
        o.n_ports = 1;
    if (!o.n_cores)
        o.n_cores = 4;
    if (o.n_ports > 16) {
        errno = EINVAL;
        return NULL;
    }
    nic = calloc(1, sizeof(*nic));
    if (!nic) {
        errno = ENOMEM;
        return NULL;
    }
    nic->n_ports = o.n_ports;
    nic->n_cores = o.n_cores;
    nic->core = o.core;
    nic->core_ctx = o.core_ctx;
    nic->pcie = o.pcie ? o.pcie : nicsim_pcie__new();
    nic->owns_pcie = !o.pcie;
    if (!nic->pcie)
        goto fail;

    fo.n_ports = o.n_ports;
    fo.n_cores = o.n_cores;
    fo.map_mem_bytes = o.map_mem_bytes;
    fo.max_maps = o.max_maps;
    fo.max_progs = o.max_progs;
    fo.event_queue_bytes = o.event_queue_bytes;
    hal = (struct nicsim_fw_hal){
        .ops = &nic_hal_ops, .ctx = nic, .core = &nic_core_ops, .core_ctx = nic};
    nic->fw = nicsim_fw__new(&hal, &fo);
    if (!nic->fw) {
        err = errno;
        goto fail;
    }
    nicsim_pcie__set_device(nic->pcie, &nic_dev_ops, nic);
    nic->ctrl = o.host_bar ? nicsim_ctrl__new(o.host_bar, o.host_bar_ctx, o.ctrl)
                           : nicsim_ctrl__new(nicsim_pcie_bar_ops(), nic->pcie, o.ctrl);
    if (!nic->ctrl) {
        err = errno;
        goto fail;
    }
    return nic;
fail:
    nicsim_nic__free(nic);
    errno = err;
    return NULL;
}

void nicsim_nic__free(struct nicsim_nic *nic)
{
    if (!nic)
        return;
    nicsim_ctrl__free(nic->ctrl);
    if (nic->pcie)
        nicsim_pcie__set_device(nic->pcie, NULL, NULL);
    nicsim_fw__free(nic->fw);
    if (nic->owns_pcie)
        nicsim_pcie__free(nic->pcie);
    for (size_t i = 0; i < nic->n_progs; i++)
        free(nic->progs[i].insns);
    free(nic->progs);
    free(nic);
}

struct nicsim_ctrl *nicsim_nic__ctrl(struct nicsim_nic *nic)
{
    return nic->ctrl;
}
struct nicsim_pcie *nicsim_nic__pcie(struct nicsim_nic *nic)
{
    return nic->pcie;
}
struct nicsim_fw *nicsim_nic__fw(struct nicsim_nic *nic)
{
    return nic->fw;
}
struct nicsim_fw_maps *nicsim_nic__maps(struct nicsim_nic *nic)
{
    return nicsim_fw__maps(nic->fw);
}
uint32_t nicsim_nic__n_ports(const struct nicsim_nic *nic)
{
    return nic->n_ports;
}
uint32_t nicsim_nic__n_cores(const struct nicsim_nic *nic)
{
    return nic->n_cores;
}

uint32_t nicsim_nic__port_prog(const struct nicsim_nic *nic, uint32_t port)
{
    return port < nic->n_ports ? nic->port_prog[port] : 0;
}

const struct nicsim_isa_insn *nicsim_nic__prog(const struct nicsim_nic *nic, uint32_t prog_id,
                                               size_t *n)
{
    const struct nic_prog *p = prog_id ? nic_prog_slot(nic, prog_id) : NULL;

    if (n)
        *n = p ? p->n : 0;
    return p ? p->insns : NULL;
}
