/* SPDX-License-Identifier: MIT */
/*
 * nicsim NIC firmware: the management core's control-plane program, and the hardware abstraction
 * layer (HAL) it runs on.
 *
 * The firmware serves the control-message rings (include/nicsim/wire/cmsg.h,
 * docs/control-messages.md): it validates every message, owns the NIC's map memory (through the
 * fw_maps library), the program store, the datapath configuration (port -> program), the
 * counters and the event queue.
 *
 * It touches hardware only through struct nicsim_fw_hal: BAR registers, DMA to host memory, the
 * interrupt line, and the "core" operations that write a program into core instruction memory and
 * set the datapath configuration registers. Tests link a fake HAL; the NIC device
 * (include/nicsim/nicdev.h) plugs the PCIe model and a datapath in.
 */
#ifndef NICSIM_FW_HAL_H
#define NICSIM_FW_HAL_H

#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"
#include "nicsim/wire/cmsg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A program as the firmware hands it to the cores: relocated (LDDW map forms replaced by NIC
 * addresses) and decoded. */
struct nicsim_fw_prog_desc {
    uint32_t prog_id;
    uint32_t prog_type; /* from the image header */
    uint32_t stack_depth;
    uint32_t flags;                      /* NICSIM_IMG_F_* */
    char name[17];                       /* NUL-terminated */
    const struct nicsim_isa_insn *insns; /* n decoded slots, valid during the call only */
    size_t n;
    const uint32_t *map_ids; /* maps the program references */
    uint32_t n_maps;
};

/* What the cores and the datapath registers offer. All entries optional (NULL: accepted, no-op). */
struct nicsim_fw_core_ops {
    /* Write a program into core instruction memory (every core). 0 or -errno; on failure msg
     * (may be NULL) receives a sentence. */
    int (*load)(void *ctx, const struct nicsim_fw_prog_desc *prog, char *msg, size_t msg_len);
    void (*unload)(void *ctx, uint32_t prog_id);
    /* Datapath configuration register of `port`: the program it runs, 0 for none. */
    int (*set_port_prog)(void *ctx, uint32_t port, uint32_t prog_id);
    /* A map was created (before any program can reference it) / is being freed. */
    void (*map_created)(void *ctx, uint32_t map_id);
    void (*map_freed)(void *ctx, uint32_t map_id);
};

struct nicsim_fw_hal_ops {
    /* BAR0 registers, device view (offsets as in include/nicsim/pcie.h). */
    uint32_t (*reg_read)(void *ctx, uint32_t off);
    void (*reg_write)(void *ctx, uint32_t off, uint32_t val);
    /* DMA to / from host memory by bus address: 0 or a negative errno (-EFAULT). */
    int (*dma_read)(void *ctx, uint64_t bus, void *buf, size_t len);
    int (*dma_write)(void *ctx, uint64_t bus, const void *buf, size_t len);
    /* Latch interrupt causes (NICSIM_IRQ_*). */
    void (*raise_irq)(void *ctx, uint32_t causes);
};

struct nicsim_fw_hal {
    const struct nicsim_fw_hal_ops *ops;
    void *ctx;
    const struct nicsim_fw_core_ops *core; /* may be NULL */
    void *core_ctx;
};

struct nicsim_fw_opts {
    size_t sz;                  /* sizeof(struct nicsim_fw_opts) */
    uint32_t n_ports;           /* 1..16 */
    uint32_t n_cores;           /* 1..64 */
    uint64_t map_mem_bytes;     /* map-memory budget; 0: 64 MiB */
    uint32_t max_maps;          /* 0: 256 */
    uint32_t max_progs;         /* 0: 64 */
    uint32_t event_queue_bytes; /* 0: 256 KiB */
};

struct nicsim_fw;
struct nicsim_fw_maps; /* include/nicsim/fw_maps.h */

/* Boot: writes the identification registers, FW_STATUS = READY. NULL with errno on bad opts. */
struct nicsim_fw *nicsim_fw__new(const struct nicsim_fw_hal *hal,
                                 const struct nicsim_fw_opts *opts);
void nicsim_fw__free(struct nicsim_fw *fw);

/*
 * Serve the rings: process every pending request (while the response ring has room), post the
 * replies, update REQ_TAIL / RESP_HEAD and raise NICSIM_IRQ_RESP. Returns the number of requests
 * processed or a negative errno after a fatal ring error (the firmware then halts: FW_STATUS
 * HALTED, FW_ERROR set, NICSIM_IRQ_FW_ERROR raised, until CONTROL.RESET).
 * This is the explicit entry point for any scheduler; the in-process device calls it on doorbell.
 */
int nicsim_fw__poll(struct nicsim_fw *fw);
/* The host wrote CONTROL (RESET handling). */
void nicsim_fw__control(struct nicsim_fw *fw, uint32_t value);

/*
 * Handle one control message (the parser; the fuzz target's entry): `req` is untrusted, `len`
 * bytes. Writes the reply (at most `cap` bytes, cap >= 256) and returns its length. Never fails:
 * a bad message gets an error reply.
 */
size_t nicsim_fw__handle(struct nicsim_fw *fw, const void *req, size_t len, void *resp, size_t cap);

/* ---- For the datapath. */
struct nicsim_fw_maps *nicsim_fw__maps(struct nicsim_fw *fw);
uint32_t nicsim_fw__n_cores(const struct nicsim_fw *fw);
/* Program attached to `port` (0: none). */
uint32_t nicsim_fw__port_prog(const struct nicsim_fw *fw, uint32_t port);
/* Account one packet of `port` run by program `prog_id` (0: none) with XDP verdict `action`. */
void nicsim_fw__count(struct nicsim_fw *fw, uint32_t port, uint32_t prog_id, uint64_t action,
                      uint32_t bytes, uint64_t cycles, int error);
/* Queue a perf-event / ring-buffer record for the host: 0, -E2BIG (record larger than the queue),
 * -ENOSPC (queue full: counted as lost), -ENOENT (no such event map). */
int nicsim_fw__event_output(struct nicsim_fw *fw, uint32_t map_id, uint32_t cpu, uint64_t index,
                            const void *data, uint32_t len);

#ifdef __cplusplus
}
#endif
#endif /* NICSIM_FW_HAL_H */
