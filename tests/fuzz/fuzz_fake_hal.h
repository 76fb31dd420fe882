/* SPDX-License-Identifier: MIT */
/*
 * The fuzz targets' fake firmware HAL: BAR registers in an array, and one read-only DMA window
 * (bus addresses FUZZ_BUS..) that is the fuzzer's input. A harness's own state starts with a
 * struct fuzz_bar, so the same ops serve it.
 */
#ifndef NICSIM_FUZZ_FAKE_HAL_H
#define NICSIM_FUZZ_FAKE_HAL_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "nicsim/fw_hal.h"
#include "nicsim/pcie.h"

#define FUZZ_BUS 0x10000ull

struct fuzz_bar {
    uint32_t regs[NICSIM_BAR0_SIZE / 4];
    const uint8_t *dma; /* the input */
    size_t dma_len;
};

static uint32_t fuzz_reg_read(void *ctx, uint32_t off)
{
    struct fuzz_bar *b = ctx;
    return off < NICSIM_BAR0_SIZE && !(off & 3) ? b->regs[off / 4] : 0xffffffffu;
}

static void fuzz_reg_write(void *ctx, uint32_t off, uint32_t v)
{
    struct fuzz_bar *b = ctx;
    if (off < NICSIM_BAR0_SIZE && !(off & 3))
        b->regs[off / 4] = v;
}

static int fuzz_dma_read(void *ctx, uint64_t bus, void *buf, size_t len)
{
    struct fuzz_bar *b = ctx;
    if (bus < FUZZ_BUS || bus - FUZZ_BUS > b->dma_len || len > b->dma_len - (bus - FUZZ_BUS))
        return -EFAULT;
    memcpy(buf, b->dma + (bus - FUZZ_BUS), len);
    return 0;
}

static int fuzz_dma_write(void *ctx, uint64_t bus, const void *buf, size_t len)
{
    (void)ctx, (void)bus, (void)buf, (void)len;
    return -EFAULT; /* the input is read-only */
}

static void fuzz_irq(void *ctx, uint32_t causes)
{
    (void)ctx, (void)causes;
}

static const struct nicsim_fw_hal_ops fuzz_hal_ops = {fuzz_reg_read, fuzz_reg_write, fuzz_dma_read,
                                                      fuzz_dma_write, fuzz_irq};

#endif /* NICSIM_FUZZ_FAKE_HAL_H */
