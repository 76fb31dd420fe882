/* SPDX-License-Identifier: MIT */
/*
 * In-process PCIe transport (include/nicsim/pcie.h, docs/register-map.md): the BAR0 register file
 * with its host access rules, a table of host buffers the device may reach by DMA, and the
 * interrupt latch.
 *
 * Bus addresses are handed out from NICSIM_PCIE_BUS_BASE upwards, page aligned, with an unmapped
 * guard page after every buffer so that a DMA running past the end of one buffer faults instead
 * of touching the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/pcie.h"

#define NICSIM_PCIE_BUS_BASE 0x100000000ull
#define NICSIM_PCIE_PAGE     4096ull
#define NICSIM_PCIE_MAX_MAPS 256u
#define NICSIM_PCIE_MAX_MAP  (1ull << 40)
#define NICSIM_PCIE_NREGS    (NICSIM_BAR0_SIZE / 4u)

struct pcie_mapping {
    uint8_t *host;
    uint64_t bus;
    size_t len;
    uint32_t dir; /* NICSIM_DMA_*; 0 = free slot */
};

struct nicsim_pcie {
    uint32_t regs[NICSIM_PCIE_NREGS];
    const struct nicsim_pcie_dev_ops *dev_ops;
    void *dev;
    nicsim_pcie_irq_fn irq_fn;
    void *irq_user;
    int in_irq; /* handler running: causes raised meanwhile are latched only */
    struct pcie_mapping maps[NICSIM_PCIE_MAX_MAPS];
    unsigned n_maps;
    uint64_t next_bus;
    struct nicsim_pcie_stats stats;
};

enum reg_access { REG_NONE = 0, REG_RO, REG_RW, REG_W1C, REG_WO };

static enum reg_access reg_access(uint32_t off)
{
    switch (off) {
    case NICSIM_BAR0_ID:
    case NICSIM_BAR0_VERSION:
    case NICSIM_BAR0_CAPS:
    case NICSIM_BAR0_NUM_PORTS:
    case NICSIM_BAR0_NUM_CORES:
    case NICSIM_BAR0_MAX_SLOT_SIZE:
    case NICSIM_BAR0_MAP_MEM_LO:
    case NICSIM_BAR0_MAP_MEM_HI:
    case NICSIM_BAR0_FW_STATUS:
    case NICSIM_BAR0_FW_ERROR:
    case NICSIM_BAR0_REQ_TAIL:
    case NICSIM_BAR0_RESP_HEAD:
        return REG_RO;
    case NICSIM_BAR0_CONTROL:
    case NICSIM_BAR0_IRQ_MASK:
    case NICSIM_BAR0_REQ_BASE_LO:
    case NICSIM_BAR0_REQ_BASE_HI:
    case NICSIM_BAR0_REQ_ENTRIES:
    case NICSIM_BAR0_REQ_SLOT_SIZE:
    case NICSIM_BAR0_REQ_HEAD:
    case NICSIM_BAR0_RESP_BASE_LO:
    case NICSIM_BAR0_RESP_BASE_HI:
    case NICSIM_BAR0_RESP_ENTRIES:
    case NICSIM_BAR0_RESP_SLOT_SIZE:
    case NICSIM_BAR0_RESP_TAIL:
    case NICSIM_BAR0_SCRATCH:
        return REG_RW;
    case NICSIM_BAR0_IRQ_STATUS:
        return REG_W1C;
    case NICSIM_BAR0_DOORBELL:
        return REG_WO;
    default:
        return REG_NONE;
    }
}

struct nicsim_pcie *nicsim_pcie__new(void)
{
    struct nicsim_pcie *pcie = calloc(1, sizeof(*pcie));

    if (!pcie) {
        errno = ENOMEM;
        return NULL;
    }
    pcie->regs[NICSIM_BAR0_IRQ_MASK / 4] = 0xffffffffu;
    pcie->next_bus = NICSIM_PCIE_BUS_BASE;
    return pcie;
}

void nicsim_pcie__free(struct nicsim_pcie *pcie)
{
    free(pcie);
}

void nicsim_pcie__set_device(struct nicsim_pcie *pcie, const struct nicsim_pcie_dev_ops *ops,
                             void *dev)
{
    pcie->dev_ops = ops;
    pcie->dev = dev;
}

void nicsim_pcie__set_irq_handler(struct nicsim_pcie *pcie, nicsim_pcie_irq_fn fn, void *user)
{
    pcie->irq_fn = fn;
    pcie->irq_user = user;
}

const struct nicsim_pcie_stats *nicsim_pcie__stats(const struct nicsim_pcie *pcie)
{
    return &pcie->stats;
}

unsigned nicsim_pcie__n_mappings(const struct nicsim_pcie *pcie)
{
    return pcie->n_maps;
}

uint32_t nicsim_pcie__dev_read32(const struct nicsim_pcie *pcie, uint32_t off)
{
    if (off >= NICSIM_BAR0_SIZE || (off & 3u))
        return 0xffffffffu;
    return pcie->regs[off / 4];
}

void nicsim_pcie__dev_write32(struct nicsim_pcie *pcie, uint32_t off, uint32_t val)
{
    if (off >= NICSIM_BAR0_SIZE || (off & 3u))
        return;
    pcie->regs[off / 4] = val;
}

/* Call the host's handler while an unmasked cause is pending (level-triggered line). */
static void pcie_update_irq(struct nicsim_pcie *pcie)
{
    uint32_t pending;

    if (!pcie->irq_fn || pcie->in_irq)
        return;
    pending = pcie->regs[NICSIM_BAR0_IRQ_STATUS / 4] & ~pcie->regs[NICSIM_BAR0_IRQ_MASK / 4];
    if (!pending)
        return;
    pcie->in_irq = 1;
    pcie->stats.irqs++;
    pcie->irq_fn(pcie->irq_user);
    pcie->in_irq = 0;
}

uint32_t nicsim_pcie__read32(struct nicsim_pcie *pcie, uint32_t off)
{
    pcie->stats.mmio_reads++;
    if (off >= NICSIM_BAR0_SIZE || (off & 3u)) {
        pcie->stats.bad_mmio++;
        return 0xffffffffu;
    }
    switch (reg_access(off)) {
    case REG_NONE:
    case REG_WO:
        return 0;
    default:
        return pcie->regs[off / 4];
    }
}

void nicsim_pcie__write32(struct nicsim_pcie *pcie, uint32_t off, uint32_t val)
{
    pcie->stats.mmio_writes++;
    if (off >= NICSIM_BAR0_SIZE || (off & 3u)) {
        pcie->stats.bad_mmio++;
        return;
    }
    switch (reg_access(off)) {
    case REG_NONE:
    case REG_RO:
        pcie->stats.bad_mmio++;
        return;
    case REG_W1C:
        pcie->regs[off / 4] &= ~val;
        return;
    case REG_WO: /* the doorbell */
        pcie->stats.doorbells++;
        if (pcie->dev_ops && pcie->dev_ops->doorbell)
            pcie->dev_ops->doorbell(pcie->dev);
        return;
    case REG_RW:
        break;
    }
    if (off == NICSIM_BAR0_CONTROL) {
        pcie->regs[off / 4] = val & ~NICSIM_CTRL_RESET;
        if (pcie->dev_ops && pcie->dev_ops->control)
            pcie->dev_ops->control(pcie->dev, val);
        return;
    }
    pcie->regs[off / 4] = val;
    if (off == NICSIM_BAR0_IRQ_MASK)
        pcie_update_irq(pcie);
}

void nicsim_pcie__raise_irq(struct nicsim_pcie *pcie, uint32_t causes)
{
    pcie->regs[NICSIM_BAR0_IRQ_STATUS / 4] |= causes & NICSIM_IRQ_ALL;
    pcie_update_irq(pcie);
}

/* The mapping that holds all of [bus, bus + len), or NULL. */
static struct pcie_mapping *pcie_find(struct nicsim_pcie *pcie, uint64_t bus, size_t len)
{
    for (unsigned i = 0; i < NICSIM_PCIE_MAX_MAPS; i++) {
        struct pcie_mapping *m = &pcie->maps[i];

        if (!m->dir || bus < m->bus)
            continue;
        if (bus - m->bus > m->len || len > m->len - (bus - m->bus))
            continue;
        return m;
    }
    return NULL;
}

int nicsim_pcie__dma_read(struct nicsim_pcie *pcie, uint64_t bus, void *buf, size_t len)
{
    struct pcie_mapping *m;

    pcie->stats.dma_reads++;
    if (!len)
        return 0;
    m = pcie_find(pcie, bus, len);
    if (!m || !(m->dir & NICSIM_DMA_TO_DEVICE)) {
        pcie->stats.dma_faults++;
        return -EFAULT;
    }
    memcpy(buf, m->host + (bus - m->bus), len);
    pcie->stats.dma_read_bytes += len;
    return 0;
}

int nicsim_pcie__dma_write(struct nicsim_pcie *pcie, uint64_t bus, const void *buf, size_t len)
{
    struct pcie_mapping *m;

    pcie->stats.dma_writes++;
    if (!len)
        return 0;
    m = pcie_find(pcie, bus, len);
    if (!m || !(m->dir & NICSIM_DMA_FROM_DEVICE)) {
        pcie->stats.dma_faults++;
        return -EFAULT;
    }
    memcpy(m->host + (bus - m->bus), buf, len);
    pcie->stats.dma_write_bytes += len;
    return 0;
}

int nicsim_pcie__dma_map(struct nicsim_pcie *pcie, void *ptr, size_t len, uint32_t dir,
                         uint64_t *bus)
{
    uint64_t span;

    if (!ptr || !bus || !len || len > NICSIM_PCIE_MAX_MAP || !dir || (dir & ~NICSIM_DMA_BIDIR))
        return -EINVAL;
    /* round up to pages, plus one guard page */
    span = ((uint64_t)len + NICSIM_PCIE_PAGE - 1) / NICSIM_PCIE_PAGE * NICSIM_PCIE_PAGE;
    span += NICSIM_PCIE_PAGE;
    if (pcie->next_bus > UINT64_MAX - span)
        return -ENOSPC;
    for (unsigned i = 0; i < NICSIM_PCIE_MAX_MAPS; i++) {
        struct pcie_mapping *m = &pcie->maps[i];

        if (m->dir)
            continue;
        m->host = ptr;
        m->len = len;
        m->dir = dir;
        m->bus = pcie->next_bus;
        pcie->next_bus += span;
        pcie->n_maps++;
        *bus = m->bus;
        return 0;
    }
    return -ENOSPC;
}

void nicsim_pcie__dma_unmap(struct nicsim_pcie *pcie, uint64_t bus)
{
    for (unsigned i = 0; i < NICSIM_PCIE_MAX_MAPS; i++) {
        struct pcie_mapping *m = &pcie->maps[i];

        if (m->dir && m->bus == bus) {
            memset(m, 0, sizeof(*m));
            pcie->n_maps--;
            return;
        }
    }
}

/* ---- The vtable. */
static uint32_t ops_read32(void *ctx, uint32_t off)
{
    return nicsim_pcie__read32(ctx, off);
}
static void ops_write32(void *ctx, uint32_t off, uint32_t val)
{
    nicsim_pcie__write32(ctx, off, val);
}
static int ops_dma_read(void *ctx, uint64_t bus, void *buf, size_t len)
{
    return nicsim_pcie__dma_read(ctx, bus, buf, len);
}
static int ops_dma_write(void *ctx, uint64_t bus, const void *buf, size_t len)
{
    return nicsim_pcie__dma_write(ctx, bus, buf, len);
}
static void ops_raise_irq(void *ctx, uint32_t causes)
{
    nicsim_pcie__raise_irq(ctx, causes);
}
static int ops_dma_map(void *ctx, void *ptr, size_t len, uint32_t dir, uint64_t *bus)
{
    return nicsim_pcie__dma_map(ctx, ptr, len, dir, bus);
}
static void ops_dma_unmap(void *ctx, uint64_t bus)
{
    nicsim_pcie__dma_unmap(ctx, bus);
}

static const struct nicsim_bar_ops pcie_bar_ops = {
    .read32 = ops_read32,
    .write32 = ops_write32,
    .dma_read = ops_dma_read,
    .dma_write = ops_dma_write,
    .raise_irq = ops_raise_irq,
    .dma_map = ops_dma_map,
    .dma_unmap = ops_dma_unmap,
};

const struct nicsim_bar_ops *nicsim_pcie_bar_ops(void)
{
    return &pcie_bar_ops;
}
