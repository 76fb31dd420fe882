/* SPDX-License-Identifier: MIT */
/*
 * NIC firmware main loop (include/nicsim/fw_hal.h): boot, the control-message rings, the message
 * header checks, and the datapath-facing counters and event queue.
 *
 * The rings live in host memory. The firmware keeps its own copies of REQ_TAIL and RESP_HEAD and
 * re-reads the host's REQ_HEAD / RESP_TAIL on every poll; a host that moves them inconsistently
 * (more pending entries than the ring has) halts the firmware with FW_ERROR set, instead of making
 * it process garbage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"
#include "nicsim/pcie.h"
#include "nicsim/printk.h"
#include "nicsim/util.h"

static uint32_t reg_rd(struct nicsim_fw *fw, uint32_t off)
{
    return fw->hal.ops->reg_read(fw->hal.ctx, off);
}
static void reg_wr(struct nicsim_fw *fw, uint32_t off, uint32_t v)
{
    fw->hal.ops->reg_write(fw->hal.ctx, off, v);
}
static void fw_irq(struct nicsim_fw *fw, uint32_t causes)
{
    if (fw->hal.ops->raise_irq)
        fw->hal.ops->raise_irq(fw->hal.ctx, causes);
}

/* ---------------------------------------------------------------------------------------------
 * Reply builder.
 */
size_t nicsim_fw_reply_room(const struct fw_reply *r)
{
    return r->cap - r->len;
}

void *nicsim_fw_reply_put(struct fw_reply *r, const void *src, size_t n)
{
    size_t padded = nicsim_round8(n);
    uint8_t *p;

    if (n > r->cap || padded > r->cap - r->len)
        return NULL;
    p = r->buf + r->len;
    if (src)
        memcpy(p, src, n);
    else
        memset(p, 0, n);
    memset(p + n, 0, padded - n);
    r->len += padded;
    return p;
}

static int is_map_op(uint8_t type)
{
    return type >= NICSIM_CMSG_MAP_LOOKUP && type <= NICSIM_CMSG_MAP_GETNEXT;
}

static int fw_vfail(struct fw_reply *r, uint32_t status, const char *fmt, va_list ap)
{
    char text[NICSIM_CMSG_ERRMSG_MAX];
    size_t n;

    r->status = status ? status : NICSIM_CMSG_EIO;
    /* map operations: the map-op body always comes first */
    if (is_map_op(r->type) &&
        r->len < sizeof(struct nicsim_cmsg_hdr) + sizeof(struct nicsim_cmsg_map_op)) {
        r->len = sizeof(struct nicsim_cmsg_hdr);
        nicsim_fw_reply_put(r, NULL, sizeof(struct nicsim_cmsg_map_op));
    }
    vsnprintf(text, sizeof(text), fmt, ap);
    n = strlen(text) + 1;
    if (n > nicsim_fw_reply_room(r))
        n = nicsim_fw_reply_room(r) & ~(size_t)7u;
    if (n) {
        text[n - 1] = '\0';
        nicsim_fw_reply_put(r, text, n);
    }
    return -1;
}

int nicsim_fw_fail(struct fw_reply *r, uint32_t status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fw_vfail(r, status, fmt, ap);
    va_end(ap);
    return -1;
}

int nicsim_fw_fail_errno(struct fw_reply *r, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fw_vfail(r, nicsim_cmsg_errno_to_status(err), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---------------------------------------------------------------------------------------------
 * One message.
 */
/* Header flags each type defines. */
static uint16_t type_flags(uint8_t type)
{
    switch (type) {
    case NICSIM_CMSG_MAP_LOOKUP:
        return NICSIM_CMSG_F_AND_DELETE;
    case NICSIM_CMSG_MAP_GETFIRST:
    case NICSIM_CMSG_MAP_GETNEXT:
        return NICSIM_CMSG_F_KEYS_ONLY;
    case NICSIM_CMSG_PROG_LOAD:
        return NICSIM_CMSG_F_INLINE;
    default:
        return 0;
    }
}

size_t nicsim_fw__handle(struct nicsim_fw *fw, const void *req, size_t len, void *resp, size_t cap)
{
    struct nicsim_cmsg_hdr h = {0}, rh;
    struct fw_reply r = {.buf = resp, .cap = cap, .len = sizeof(rh)};
    const uint8_t *msg = req;

    if (!resp || cap < 256)
        return 0;
    if (cap > UINT32_MAX)
        r.cap = cap = UINT32_MAX & ~(size_t)7u;
    memset(resp, 0, sizeof(rh));
    if (!msg)
        len = 0;
    if (len >= sizeof(h))
        nicsim_cmsg_hdr_get(&h, msg);
    else if (len >= 2)
        h.type = msg[1];
    r.type = h.type & ~NICSIM_CMSG_REPLY;

    if (len < sizeof(h))
        nicsim_fw_fail(&r, NICSIM_CMSG_EBADMSG,
                       "message of %zu bytes is shorter than the %zu-byte header", len, sizeof(h));
    else if (h.version != NICSIM_CMSG_VERSION)
        nicsim_fw_fail(&r, NICSIM_CMSG_EBADMSG, "message version %u, firmware speaks %u", h.version,
                       NICSIM_CMSG_VERSION);
    else if (h.len != len)
        nicsim_fw_fail(&r, NICSIM_CMSG_EBADMSG, "header length %u, message has %zu bytes", h.len,
                       len);
    else if ((h.type & NICSIM_CMSG_REPLY) || !nicsim_cmsg_type_name(h.type))
        nicsim_fw_fail(&r, NICSIM_CMSG_EBADMSG, "unknown message type 0x%02x", h.type);
    else if (h.status != 0)
        nicsim_fw_fail(&r, NICSIM_CMSG_EBADMSG, "%s request carries status %u (must be 0)",
                       nicsim_cmsg_type_name(h.type), h.status);
    else if (h.flags & ~type_flags(h.type))
        nicsim_fw_fail(&r, NICSIM_CMSG_EINVAL, "%s: flags 0x%x are not defined",
                       nicsim_cmsg_type_name(h.type), h.flags & ~type_flags(h.type));
    else
        nicsim_fw_msg_dispatch(fw, h.type, h.flags, msg + sizeof(h), len - sizeof(h), &r);

    rh.version = NICSIM_CMSG_VERSION;
    rh.type = (uint8_t)(r.type | NICSIM_CMSG_REPLY);
    rh.flags = 0;
    rh.seq = h.seq;
    rh.len = (uint32_t)r.len;
    rh.status = r.status;
    nicsim_cmsg_hdr_put(resp, &rh);
    return r.len;
}

/* ---------------------------------------------------------------------------------------------
 * Rings.
 */
struct fw_ring {
    uint64_t base;
    uint32_t entries, slot;
};

static void fw_halt(struct nicsim_fw *fw, uint32_t why)
{
    fw->halted = 1;
    reg_wr(fw, NICSIM_BAR0_FW_ERROR, why);
    reg_wr(fw, NICSIM_BAR0_FW_STATUS, NICSIM_FW_STATUS_HALTED);
    fw_irq(fw, NICSIM_IRQ_FW_ERROR);
}

static int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

static int fw_ring_read(struct nicsim_fw *fw, uint32_t base_lo, struct fw_ring *ring)
{
    /* the four config registers are consecutive: BASE_LO, BASE_HI, ENTRIES, SLOT_SIZE */
    ring->base = reg_rd(fw, base_lo) | (uint64_t)reg_rd(fw, base_lo + 4) << 32;
    ring->entries = reg_rd(fw, base_lo + 8);
    ring->slot = reg_rd(fw, base_lo + 12);
    if (!ring->base || (ring->base & 7u) || !is_pow2(ring->entries) ||
        ring->entries > NICSIM_RING_MAX_ENTRIES || !is_pow2(ring->slot) ||
        ring->slot < NICSIM_RING_MIN_SLOT || ring->slot > FW_MAX_SLOT)
        return -EINVAL;
    /* the whole ring must be addressable */
    if (ring->base > UINT64_MAX - (uint64_t)ring->entries * ring->slot)
        return -EINVAL;
    return 0;
}

static int fw_bufs(struct nicsim_fw *fw, uint32_t size)
{
    uint8_t *a, *b;

    if (fw->buf_size >= size)
        return 0;
    a = malloc(size);
    b = malloc(size);
    if (!a || !b) {
        free(a);
        free(b);
        return -ENOMEM;
    }
    free(fw->req_buf);
    free(fw->resp_buf);
    fw->req_buf = a;
    fw->resp_buf = b;
    fw->buf_size = size;
    return 0;
}

int nicsim_fw__poll(struct nicsim_fw *fw)
{
    struct fw_ring req, resp;
    uint32_t head, pending;
    int done = 0;

    if (fw->halted)
        return -EIO;
    if (!(reg_rd(fw, NICSIM_BAR0_CONTROL) & NICSIM_CTRL_ENABLE))
        return 0;
    if (fw_ring_read(fw, NICSIM_BAR0_REQ_BASE_LO, &req) ||
        fw_ring_read(fw, NICSIM_BAR0_RESP_BASE_LO, &resp)) {
        fw_halt(fw, NICSIM_FW_ERR_RING_CONFIG);
        return -EINVAL;
    }
    if (fw_bufs(fw, req.slot > resp.slot ? req.slot : resp.slot))
        return -ENOMEM; /* try again on the next doorbell */

    head = reg_rd(fw, NICSIM_BAR0_REQ_HEAD);
    pending = head - fw->req_tail;
    if (pending > req.entries) {
        fw_halt(fw, NICSIM_FW_ERR_RING_OVERFLOW);
        return -EOVERFLOW;
    }
    while (pending) {
        uint32_t resp_tail = reg_rd(fw, NICSIM_BAR0_RESP_TAIL);
        uint32_t used = fw->resp_head - resp_tail;
        uint64_t req_at, resp_at;
        struct nicsim_cmsg_hdr h;
        uint8_t hb[sizeof(h)];
        size_t n, rlen;

        if (used > resp.entries) {
            fw_halt(fw, NICSIM_FW_ERR_RING_OVERFLOW);
            return -EOVERFLOW;
        }
        if (used == resp.entries)
            break; /* no room for the reply: wait for the host */
        req_at = req.base + (uint64_t)(fw->req_tail & (req.entries - 1)) * req.slot;
        resp_at = resp.base + (uint64_t)(fw->resp_head & (resp.entries - 1)) * resp.slot;
        if (fw->hal.ops->dma_read(fw->hal.ctx, req_at, hb, sizeof(hb))) {
            fw_halt(fw, NICSIM_FW_ERR_DMA);
            return -EFAULT;
        }
        nicsim_cmsg_hdr_get(&h, hb);
        /* read what the header claims, within the slot; the parser judges the rest */
        n = h.len < sizeof(h) ? sizeof(h) : h.len > req.slot ? req.slot : h.len;
        if (fw->hal.ops->dma_read(fw->hal.ctx, req_at, fw->req_buf, n)) {
            fw_halt(fw, NICSIM_FW_ERR_DMA);
            return -EFAULT;
        }
        rlen = nicsim_fw__handle(fw, fw->req_buf, n, fw->resp_buf, resp.slot);
        if (fw->hal.ops->dma_write(fw->hal.ctx, resp_at, fw->resp_buf, rlen)) {
            fw_halt(fw, NICSIM_FW_ERR_DMA);
            return -EFAULT;
        }
        fw->req_tail++;
        fw->resp_head++;
        reg_wr(fw, NICSIM_BAR0_REQ_TAIL, fw->req_tail);
        reg_wr(fw, NICSIM_BAR0_RESP_HEAD, fw->resp_head);
        pending--;
        done++;
    }
    if (done)
        fw_irq(fw, NICSIM_IRQ_RESP);
    return done;
}

void nicsim_fw__control(struct nicsim_fw *fw, uint32_t value)
{
    if (!(value & NICSIM_CTRL_RESET))
        return;
    fw->halted = 0;
    fw->req_tail = 0;
    fw->resp_head = 0;
    reg_wr(fw, NICSIM_BAR0_REQ_TAIL, 0);
    reg_wr(fw, NICSIM_BAR0_RESP_HEAD, 0);
    reg_wr(fw, NICSIM_BAR0_FW_ERROR, NICSIM_FW_ERR_NONE);
    reg_wr(fw, NICSIM_BAR0_FW_STATUS, NICSIM_FW_STATUS_READY);
}

/* ---------------------------------------------------------------------------------------------
 * Life cycle.
 */
struct nicsim_fw *nicsim_fw__new(const struct nicsim_fw_hal *hal, const struct nicsim_fw_opts *opts)
{
    struct nicsim_fw_opts o = {0};
    struct nicsim_fw *fw;

    if (!hal || !hal->ops || !hal->ops->reg_read || !hal->ops->reg_write || !hal->ops->dma_read ||
        !hal->ops->dma_write || !opts || nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!o.map_mem_bytes)
        o.map_mem_bytes = FW_DEF_MAP_MEM;
    if (!o.max_maps)
        o.max_maps = FW_DEF_MAX_MAPS;
    if (!o.max_progs)
        o.max_progs = FW_DEF_MAX_PROGS;
    if (!o.event_queue_bytes)
        o.event_queue_bytes = FW_DEF_EVQ_BYTES;
    if (!o.n_ports || o.n_ports > FW_MAX_PORTS || !o.n_cores || o.n_cores > FW_MAX_CORES ||
        o.max_maps > FW_MAX_MAP_ID || o.max_progs > 65536u) {
        errno = EINVAL;
        return NULL;
    }
    fw = calloc(1, sizeof(*fw));
    if (!fw) {
        errno = ENOMEM;
        return NULL;
    }
    fw->hal = *hal;
    fw->n_ports = o.n_ports;
    fw->n_cores = o.n_cores;
    fw->map_mem = o.map_mem_bytes;
    fw->max_maps = o.max_maps;
    fw->max_progs = o.max_progs;
    fw->evq_bytes = o.event_queue_bytes;
    fw->map_ent = calloc((size_t)fw->max_maps + 1u, sizeof(*fw->map_ent));
    fw->progs = calloc(fw->max_progs, sizeof(*fw->progs));
    if (!fw->map_ent || !fw->progs || nicsim_fw_maps_init(fw)) {
        free(fw->map_ent);
        free(fw->progs);
        free(fw);
        errno = ENOMEM;
        return NULL;
    }

    reg_wr(fw, NICSIM_BAR0_ID, NICSIM_BAR0_ID_VALUE);
    reg_wr(fw, NICSIM_BAR0_VERSION, NICSIM_BAR0_VERSION_VALUE);
    reg_wr(fw, NICSIM_BAR0_CAPS, NICSIM_CAP_CMSG | NICSIM_CAP_EVENTS | NICSIM_CAP_XDP);
    reg_wr(fw, NICSIM_BAR0_NUM_PORTS, fw->n_ports);
    reg_wr(fw, NICSIM_BAR0_NUM_CORES, fw->n_cores);
    reg_wr(fw, NICSIM_BAR0_MAX_SLOT_SIZE, FW_MAX_SLOT);
    reg_wr(fw, NICSIM_BAR0_MAP_MEM_LO, (uint32_t)fw->map_mem);
    reg_wr(fw, NICSIM_BAR0_MAP_MEM_HI, (uint32_t)(fw->map_mem >> 32));
    reg_wr(fw, NICSIM_BAR0_REQ_TAIL, 0);
    reg_wr(fw, NICSIM_BAR0_RESP_HEAD, 0);
    reg_wr(fw, NICSIM_BAR0_FW_ERROR, NICSIM_FW_ERR_NONE);
    reg_wr(fw, NICSIM_BAR0_FW_STATUS, NICSIM_FW_STATUS_READY);
    return fw;
}

void nicsim_fw__free(struct nicsim_fw *fw)
{
    if (!fw)
        return;
    for (uint32_t i = 0; i < fw->max_progs; i++) {
        free(fw->progs[i].insns);
        free(fw->progs[i].map_ids);
    }
    while (fw->evq_head) {
        struct fw_event *e = fw->evq_head;

        fw->evq_head = e->next;
        free(e);
    }
    nicsim_fw_maps_fini(fw);
    reg_wr(fw, NICSIM_BAR0_FW_STATUS, NICSIM_FW_STATUS_DOWN);
    free(fw->map_ent);
    free(fw->progs);
    free(fw->req_buf);
    free(fw->resp_buf);
    free(fw->val_buf);
    free(fw);
}

/* ---------------------------------------------------------------------------------------------
 * Datapath side.
 */
struct nicsim_fw_maps *nicsim_fw__maps(struct nicsim_fw *fw)
{
    return fw->maps;
}
uint32_t nicsim_fw__n_cores(const struct nicsim_fw *fw)
{
    return fw->n_cores;
}

uint32_t nicsim_fw__port_prog(const struct nicsim_fw *fw, uint32_t port)
{
    return port < fw->n_ports ? fw->ports[port].prog_id : 0;
}

static void stats_add(struct nicsim_stats *s, uint64_t action, uint32_t bytes, uint64_t cycles,
                      int error)
{
    s->packets++;
    s->bytes += bytes;
    s->verdicts[action < NICSIM_STATS_N_VERDICTS - 1 ? action : NICSIM_STATS_N_VERDICTS - 1]++;
    s->cycles += cycles;
    if (error)
        s->errors++;
}

void nicsim_fw__count(struct nicsim_fw *fw, uint32_t port, uint32_t prog_id, uint64_t action,
                      uint32_t bytes, uint64_t cycles, int error)
{
    if (port < fw->n_ports)
        stats_add(&fw->ports[port].stats, action, bytes, cycles, error);
    if (prog_id && prog_id <= fw->max_progs && fw->progs[prog_id - 1].id == prog_id)
        stats_add(&fw->progs[prog_id - 1].stats, action, bytes, cycles, error);
}

int nicsim_fw__event_output(struct nicsim_fw *fw, uint32_t map_id, uint32_t cpu, uint64_t index,
                            const void *data, uint32_t len)
{
    const struct fw_map_ent *m = nicsim_fw_map_get(fw, map_id);
    size_t need = sizeof(struct nicsim_event_rec) + nicsim_round8(len);
    struct fw_event *e;
    int was_empty;

    /* bpf_trace_printk records have a map id of their own (no map has it) */
    if (map_id != NICSIM_EVENT_TRACE_PRINTK &&
        (!m || (m->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && m->type != BPF_MAP_TYPE_RINGBUF)))
        return -ENOENT;
    if (m && m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && index >= m->max_entries)
        return -E2BIG;
    if ((len && !data) || need > fw->evq_bytes)
        return -E2BIG;
    if (m && m->type == BPF_MAP_TYPE_RINGBUF) {
        /* The ring's size (max_entries bytes) as __bpf_ringbuf_reserve: every record not yet
         * read by the host takes round_up(len + 8, 8); the producer may not get a full ring
         * ahead of the consumer. A record that does not fit is refused and counted. */
        if (m->ring_pending + fw_ring_rec_bytes(len) >= m->max_entries) {
            fw->evq_lost++;
            return -EAGAIN;
        }
    }
    if (need > fw->evq_bytes - fw->evq_used) {
        fw->evq_lost++;
        return -ENOSPC;
    }
    e = malloc(sizeof(*e) + len);
    if (!e) {
        fw->evq_lost++;
        return -ENOSPC;
    }
    e->next = NULL;
    e->rec = (struct nicsim_event_rec){.map_id = map_id, .cpu = cpu, .index = index, .len = len};
    if (len)
        memcpy(e->data, data, len);
    was_empty = !fw->evq_head;
    if (fw->evq_tail)
        fw->evq_tail->next = e;
    else
        fw->evq_head = e;
    fw->evq_tail = e;
    fw->evq_used += (uint32_t)need;
    fw->evq_count++;
    if (m && m->type == BPF_MAP_TYPE_RINGBUF)
        fw->map_ent[map_id].ring_pending += fw_ring_rec_bytes(len);
    if (was_empty)
        fw_irq(fw, NICSIM_IRQ_EVENTS);
    return 0;
}
