/* SPDX-License-Identifier: MIT */
/*
 * nicsim PCIe transport: the NIC's BAR0 register file, host memory seen through an IOMMU-like
 * mapping table, and the interrupt line (docs/register-map.md).
 *
 * The host side and the device side only meet through struct nicsim_bar_ops, so that another
 * transport (a SystemC TLM socket) can carry the same traffic. struct nicsim_pcie is the
 * in-process implementation:
 *   - host -> device: read32 / write32 on BAR0. A write to NICSIM_BAR0_DOORBELL calls the
 *     device's doorbell hook *synchronously* (single-threaded model): when write32 returns, the
 *     firmware has processed every pending request it could. A threaded or SystemC scheduler
 *     instead leaves the hook NULL and calls the firmware's poll entry point itself.
 *   - device -> host: dma_read / dma_write of host memory by bus address (only inside buffers the
 *     host mapped, with the direction it allowed: anything else is -EFAULT, like an IOMMU
 *     fault), and raise_irq, which latches causes in IRQ_STATUS and calls the host's interrupt
 *     handler when an unmasked cause is pending.
 */
#ifndef NICSIM_PCIE_H
#define NICSIM_PCIE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * BAR0 register map (32-bit registers, byte offsets). RO = read-only to the host; the device
 * writes every register through its own path.
 */
#define NICSIM_BAR0_SIZE 0x100u

#define NICSIM_BAR0_ID            0x000u /* RO: NICSIM_BAR0_ID_VALUE */
#define NICSIM_BAR0_VERSION       0x004u /* RO: register-map version, major << 16 | minor */
#define NICSIM_BAR0_CAPS          0x008u /* RO: NICSIM_CAP_* */
#define NICSIM_BAR0_NUM_PORTS     0x00cu /* RO */
#define NICSIM_BAR0_NUM_CORES     0x010u /* RO */
#define NICSIM_BAR0_MAX_SLOT_SIZE 0x014u /* RO: largest ring slot the firmware accepts */
#define NICSIM_BAR0_MAP_MEM_LO    0x018u /* RO: bytes of map memory, low half */
#define NICSIM_BAR0_MAP_MEM_HI    0x01cu /* RO: high half */
#define NICSIM_BAR0_FW_STATUS     0x020u /* RO: enum nicsim_fw_status */
#define NICSIM_BAR0_FW_ERROR      0x024u /* RO: enum nicsim_fw_error, last fatal ring error */
#define NICSIM_BAR0_CONTROL       0x028u /* RW: NICSIM_CTRL_* */
#define NICSIM_BAR0_DOORBELL      0x030u /* WO: any write = "requests pending"; reads 0 */
#define NICSIM_BAR0_IRQ_STATUS    0x034u /* RW1C: pending causes, NICSIM_IRQ_* */
#define NICSIM_BAR0_IRQ_MASK      0x038u /* RW: 1 = cause masked; reset value all ones */
/* Request ring: host produces (head), firmware consumes (tail). */
#define NICSIM_BAR0_REQ_BASE_LO   0x040u /* RW: bus address, 8-byte aligned */
#define NICSIM_BAR0_REQ_BASE_HI   0x044u
#define NICSIM_BAR0_REQ_ENTRIES   0x048u /* RW: slots, power of two, 1..NICSIM_RING_MAX_ENTRIES */
#define NICSIM_BAR0_REQ_SLOT_SIZE 0x04cu /* RW: bytes per slot, power of two */
#define NICSIM_BAR0_REQ_HEAD      0x050u /* RW: free-running producer count */
#define NICSIM_BAR0_REQ_TAIL      0x054u /* RO: free-running consumer count */
/* Response ring: firmware produces (head), host consumes (tail). */
#define NICSIM_BAR0_RESP_BASE_LO   0x060u
#define NICSIM_BAR0_RESP_BASE_HI   0x064u
#define NICSIM_BAR0_RESP_ENTRIES   0x068u
#define NICSIM_BAR0_RESP_SLOT_SIZE 0x06cu
#define NICSIM_BAR0_RESP_HEAD      0x070u /* RO */
#define NICSIM_BAR0_RESP_TAIL      0x074u /* RW */
#define NICSIM_BAR0_SCRATCH        0x080u /* RW: no effect (driver self-test) */

#define NICSIM_BAR0_ID_VALUE      0x4e494353u /* "SCIN" read as bytes: 'S','C','I','N' */
#define NICSIM_BAR0_VERSION_VALUE 0x00010000u /* 1.0 */

#define NICSIM_CAP_CMSG   0x1u /* control-message rings */
#define NICSIM_CAP_EVENTS 0x2u /* event queue + NICSIM_IRQ_EVENTS */
#define NICSIM_CAP_XDP    0x4u /* XDP offload */

#define NICSIM_CTRL_ENABLE 0x1u /* rings configured: the firmware may use them */
#define NICSIM_CTRL_RESET  0x2u /* self-clearing: firmware drops ring state, tails/heads = 0 */

#define NICSIM_IRQ_RESP     0x1u /* a response was posted */
#define NICSIM_IRQ_EVENTS   0x2u /* the event queue went from empty to non-empty */
#define NICSIM_IRQ_FW_ERROR 0x4u /* fatal ring error, see FW_ERROR */
#define NICSIM_IRQ_ALL      0x7u

#define NICSIM_RING_MAX_ENTRIES 4096u
#define NICSIM_RING_MIN_SLOT    256u
#define NICSIM_RING_MAX_SLOT    (1u << 20)

enum nicsim_fw_status {
    NICSIM_FW_STATUS_DOWN = 0,   /* no firmware */
    NICSIM_FW_STATUS_READY = 1,  /* serving the rings */
    NICSIM_FW_STATUS_HALTED = 2, /* stopped after a fatal ring error until CONTROL.RESET */
};

enum nicsim_fw_error {
    NICSIM_FW_ERR_NONE = 0,
    NICSIM_FW_ERR_RING_CONFIG = 1,   /* bad base/entries/slot size */
    NICSIM_FW_ERR_RING_OVERFLOW = 2, /* head - tail larger than the ring */
    NICSIM_FW_ERR_DMA = 3,           /* a ring access faulted */
};

/* ---------------------------------------------------------------------------------------------
 * The transport interface.
 */
#define NICSIM_DMA_TO_DEVICE   0x1u /* the device may read */
#define NICSIM_DMA_FROM_DEVICE 0x2u /* the device may write */
#define NICSIM_DMA_BIDIR       0x3u

struct nicsim_bar_ops {
    /* host -> device: BAR0 MMIO. Offsets outside the BAR or unaligned read 0xffffffff. */
    uint32_t (*read32)(void *ctx, uint32_t off);
    void (*write32)(void *ctx, uint32_t off, uint32_t val);
    /* device -> host: DMA by bus address; 0 or -EFAULT. */
    int (*dma_read)(void *ctx, uint64_t bus, void *buf, size_t len);
    int (*dma_write)(void *ctx, uint64_t bus, const void *buf, size_t len);
    /* device -> host: latch interrupt causes (NICSIM_IRQ_*). */
    void (*raise_irq)(void *ctx, uint32_t causes);
    /* host platform: make [ptr, ptr+len) reachable by the device (dir: NICSIM_DMA_*). */
    int (*dma_map)(void *ctx, void *ptr, size_t len, uint32_t dir, uint64_t *bus);
    void (*dma_unmap)(void *ctx, uint64_t bus);
};

/* ---------------------------------------------------------------------------------------------
 * The in-process implementation.
 */
struct nicsim_pcie;

/* What the device (firmware glue) plugs into the BAR. All optional. */
struct nicsim_pcie_dev_ops {
    void (*doorbell)(void *dev);                /* host wrote DOORBELL */
    void (*control)(void *dev, uint32_t value); /* host wrote CONTROL (before RESET self-clears) */
};

typedef void (*nicsim_pcie_irq_fn)(void *user);

struct nicsim_pcie *nicsim_pcie__new(void);
void nicsim_pcie__free(struct nicsim_pcie *pcie);
/* The vtable whose ctx is a struct nicsim_pcie. */
const struct nicsim_bar_ops *nicsim_pcie_bar_ops(void);

void nicsim_pcie__set_device(struct nicsim_pcie *pcie, const struct nicsim_pcie_dev_ops *ops,
                             void *dev);
/* Device-side register access: no host access rules (sets RO registers). */
uint32_t nicsim_pcie__dev_read32(const struct nicsim_pcie *pcie, uint32_t off);
void nicsim_pcie__dev_write32(struct nicsim_pcie *pcie, uint32_t off, uint32_t val);
/* Host interrupt handler, called from raise_irq when (IRQ_STATUS & ~IRQ_MASK) != 0. */
void nicsim_pcie__set_irq_handler(struct nicsim_pcie *pcie, nicsim_pcie_irq_fn fn, void *user);

/* Counters for tests and diagnostics. */
struct nicsim_pcie_stats {
    uint64_t mmio_reads, mmio_writes, bad_mmio; /* bad: out of range, unaligned, RO write */
    uint64_t doorbells, irqs;                   /* irqs: handler invocations */
    uint64_t dma_reads, dma_writes, dma_faults;
    uint64_t dma_read_bytes, dma_write_bytes;
};
const struct nicsim_pcie_stats *nicsim_pcie__stats(const struct nicsim_pcie *pcie);
/* Number of live DMA mappings (a leak check for tests). */
unsigned nicsim_pcie__n_mappings(const struct nicsim_pcie *pcie);

/* Direct calls of the vtable entries. */
uint32_t nicsim_pcie__read32(struct nicsim_pcie *pcie, uint32_t off);
void nicsim_pcie__write32(struct nicsim_pcie *pcie, uint32_t off, uint32_t val);
int nicsim_pcie__dma_read(struct nicsim_pcie *pcie, uint64_t bus, void *buf, size_t len);
int nicsim_pcie__dma_write(struct nicsim_pcie *pcie, uint64_t bus, const void *buf, size_t len);
void nicsim_pcie__raise_irq(struct nicsim_pcie *pcie, uint32_t causes);
int nicsim_pcie__dma_map(struct nicsim_pcie *pcie, void *ptr, size_t len, uint32_t dir,
                         uint64_t *bus);
void nicsim_pcie__dma_unmap(struct nicsim_pcie *pcie, uint64_t bus);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_PCIE_H */
