/* SPDX-License-Identifier: MIT */
/*
 * Host-side control client (include/nicsim/ctrl.h): builds control messages, puts them on the
 * request ring in host memory, rings the doorbell and waits — a bounded number of polls — for the
 * reply with the same sequence number on the response ring.
 *
 * Nothing from the device is trusted: reply lengths, types, counts and element sizes are checked
 * before use; a reply that does not add up is -EBADMSG.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/ctrl.h"
#include "nicsim/maptypes.h"
#include "nicsim/pcie.h"
#include "nicsim/util.h"
#include "nicsim/util.h"

#define CTRL_DEF_ENTRIES 16u
#define CTRL_DEF_SLOT    (64u * 1024u)
#define CTRL_DEF_POLLS   1000u

struct ctrl_map {
    uint32_t id;
    uint32_t type;
    uint32_t key_size;
    uint32_t value_size;
    size_t host_value_size;
};

struct nicsim_ctrl {
    const struct nicsim_bar_ops *bar;
    void *bar_ctx;
    uint32_t entries, slot;
    uint8_t *req_ring, *resp_ring;
    uint64_t req_bus, resp_bus;
    uint32_t req_head, resp_tail;
    uint32_t seq;
    uint32_t poll_budget;
    void (*idle)(void *user);
    void *idle_user;
    uint32_t n_ports, n_cores;
    uint8_t *msg;          /* request under construction, slot bytes */
    uint8_t *reply;        /* last reply, slot bytes */
    struct nicsim_msg err; /* nicsim_ctrl__last_error: the one message carrier (util.h) */
    struct ctrl_map *maps;
    size_t n_maps, cap_maps;
};

static inline int is_pow2(uint32_t v)
{
    return v && !(v & (v - 1u));
}

static uint32_t rd(struct nicsim_ctrl *c, uint32_t off)
{
    return c->bar->read32(c->bar_ctx, off);
}
static void wr(struct nicsim_ctrl *c, uint32_t off, uint32_t v)
{
    c->bar->write32(c->bar_ctx, off, v);
}

static void ctrl_seterr(struct nicsim_ctrl *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ctrl_seterr(struct nicsim_ctrl *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nicsim_msg_vset(&c->err, -1, fmt, ap);
    va_end(ap);
}

/* ---------------------------------------------------------------------------------------------
 * Life cycle.
 */
struct nicsim_ctrl *nicsim_ctrl__new(const struct nicsim_bar_ops *bar, void *bar_ctx,
                                     const struct nicsim_ctrl_opts *opts)
{
    struct nicsim_ctrl *c;
    uint32_t max_slot;
    size_t ring_bytes;
    int err, slot_given = 0;

    if (!bar || !bar->read32 || !bar->write32 || !bar->dma_map || !bar->dma_unmap ||
        (opts && opts->sz < sizeof(size_t))) {
        errno = EINVAL;
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    c->bar = bar;
    c->bar_ctx = bar_ctx;
    c->entries = CTRL_DEF_ENTRIES;
    c->slot = CTRL_DEF_SLOT;
    c->poll_budget = CTRL_DEF_POLLS;
    if (opts) {
        struct nicsim_ctrl_opts o = {0};

        if (nicsim_opts_copy(&o, sizeof(o), opts)) {
            free(c);
            errno = EINVAL;
            return NULL;
        }
        if (o.ring_entries)
            c->entries = o.ring_entries;
        if (o.slot_size) {
            c->slot = o.slot_size;
            slot_given = 1;
        }
        if (o.poll_budget)
            c->poll_budget = o.poll_budget;
        c->idle = o.idle;
        c->idle_user = o.idle_user;
    }

    err = ENODEV;
    if (rd(c, NICSIM_BAR0_ID) != NICSIM_BAR0_ID_VALUE ||
        (rd(c, NICSIM_BAR0_VERSION) >> 16) != (NICSIM_BAR0_VERSION_VALUE >> 16) ||
        !(rd(c, NICSIM_BAR0_CAPS) & NICSIM_CAP_CMSG) ||
        rd(c, NICSIM_BAR0_FW_STATUS) == NICSIM_FW_STATUS_DOWN)
        goto fail;
    c->n_ports = rd(c, NICSIM_BAR0_NUM_PORTS);
    c->n_cores = rd(c, NICSIM_BAR0_NUM_CORES);
    max_slot = rd(c, NICSIM_BAR0_MAX_SLOT_SIZE);
    if (!slot_given && max_slot >= NICSIM_RING_MIN_SLOT && c->slot > max_slot)
        c->slot = max_slot;
    err = EINVAL;
    if (!is_pow2(c->entries) || c->entries > NICSIM_RING_MAX_ENTRIES || !is_pow2(c->slot) ||
        c->slot < NICSIM_RING_MIN_SLOT || c->slot > NICSIM_RING_MAX_SLOT || c->slot > max_slot ||
        !c->n_cores)
        goto fail;

    err = ENOMEM;
    ring_bytes = (size_t)c->entries * c->slot;
    c->req_ring = calloc(1, ring_bytes);
    c->resp_ring = calloc(1, ring_bytes);
    c->msg = calloc(1, c->slot);
    c->reply = calloc(1, c->slot);
    if (!c->req_ring || !c->resp_ring || !c->msg || !c->reply)
        goto fail;
    err = -bar->dma_map(bar_ctx, c->req_ring, ring_bytes, NICSIM_DMA_TO_DEVICE, &c->req_bus);
    if (err)
        goto fail;
    err = -bar->dma_map(bar_ctx, c->resp_ring, ring_bytes, NICSIM_DMA_FROM_DEVICE, &c->resp_bus);
    if (err) {
        bar->dma_unmap(bar_ctx, c->req_bus);
        c->req_bus = 0;
        goto fail;
    }

    wr(c, NICSIM_BAR0_CONTROL, 0);
    wr(c, NICSIM_BAR0_REQ_BASE_LO, (uint32_t)c->req_bus);
    wr(c, NICSIM_BAR0_REQ_BASE_HI, (uint32_t)(c->req_bus >> 32));
    wr(c, NICSIM_BAR0_REQ_ENTRIES, c->entries);
    wr(c, NICSIM_BAR0_REQ_SLOT_SIZE, c->slot);
    wr(c, NICSIM_BAR0_REQ_HEAD, 0);
    wr(c, NICSIM_BAR0_RESP_BASE_LO, (uint32_t)c->resp_bus);
    wr(c, NICSIM_BAR0_RESP_BASE_HI, (uint32_t)(c->resp_bus >> 32));
    wr(c, NICSIM_BAR0_RESP_ENTRIES, c->entries);
    wr(c, NICSIM_BAR0_RESP_SLOT_SIZE, c->slot);
    wr(c, NICSIM_BAR0_RESP_TAIL, 0);
    /* replies are polled; events and firmware errors interrupt */
    wr(c, NICSIM_BAR0_IRQ_STATUS, NICSIM_IRQ_ALL);
    wr(c, NICSIM_BAR0_IRQ_MASK, ~(uint32_t)(NICSIM_IRQ_EVENTS | NICSIM_IRQ_FW_ERROR));
    wr(c, NICSIM_BAR0_CONTROL, NICSIM_CTRL_RESET | NICSIM_CTRL_ENABLE);
    return c;

fail:
    nicsim_ctrl__free(c);
    errno = err;
    return NULL;
}

void nicsim_ctrl__free(struct nicsim_ctrl *c)
{
    if (!c)
        return;
    if (c->req_bus || c->resp_bus)
        wr(c, NICSIM_BAR0_CONTROL, 0);
    if (c->req_bus)
        c->bar->dma_unmap(c->bar_ctx, c->req_bus);
    if (c->resp_bus)
        c->bar->dma_unmap(c->bar_ctx, c->resp_bus);
    free(c->req_ring);
    free(c->resp_ring);
    free(c->msg);
    free(c->reply);
    free(c->maps);
    free(c);
}

const char *nicsim_ctrl__last_error(const struct nicsim_ctrl *c)
{
    return c->err.msg;
}
uint32_t nicsim_ctrl__n_ports(const struct nicsim_ctrl *c)
{
    return c->n_ports;
}
uint32_t nicsim_ctrl__n_cores(const struct nicsim_ctrl *c)
{
    return c->n_cores;
}

uint32_t nicsim_ctrl__irq(struct nicsim_ctrl *c)
{
    uint32_t causes = rd(c, NICSIM_BAR0_IRQ_STATUS) & ~rd(c, NICSIM_BAR0_IRQ_MASK) & NICSIM_IRQ_ALL;

    if (causes)
        wr(c, NICSIM_BAR0_IRQ_STATUS, causes);
    return causes;
}

/* ---------------------------------------------------------------------------------------------
 * Transport.
 */
static int ctrl_wait_request_slot(struct nicsim_ctrl *c)
{
    for (uint32_t i = 0; i <= c->poll_budget; i++) {
        uint32_t tail = rd(c, NICSIM_BAR0_REQ_TAIL);

        if ((uint32_t)(c->req_head - tail) < c->entries)
            return 0;
        wr(c, NICSIM_BAR0_DOORBELL, 1); /* kick: the firmware may be waiting for a doorbell */
        if (c->idle)
            c->idle(c->idle_user);
    }
    ctrl_seterr(c, "request ring full: firmware consumes no requests");
    return -ETIMEDOUT;
}

/* Take replies off the response ring until the one for `seq` (stale replies of requests that
 * timed out earlier are dropped). Returns its length (copied to c->reply), 0 if not there yet, or
 * a negative errno. */
static int ctrl_reap(struct nicsim_ctrl *c, uint32_t seq, uint8_t type)
{
    uint32_t head = rd(c, NICSIM_BAR0_RESP_HEAD);

    if ((uint32_t)(head - c->resp_tail) > c->entries) {
        ctrl_seterr(c, "response ring head %u is %u entries ahead of tail %u (ring of %u)", head,
                    head - c->resp_tail, c->resp_tail, c->entries);
        return -EIO;
    }
    while (c->resp_tail != head) {
        const uint8_t *slot = c->resp_ring + (size_t)(c->resp_tail & (c->entries - 1)) * c->slot;
        struct nicsim_cmsg_hdr h;

        nicsim_cmsg_hdr_get(&h, slot);
        c->resp_tail++;
        wr(c, NICSIM_BAR0_RESP_TAIL, c->resp_tail);
        if (h.seq != seq)
            continue; /* stale */
        if (h.version != NICSIM_CMSG_VERSION || h.type != (type | NICSIM_CMSG_REPLY) ||
            h.len < sizeof(h) || h.len > c->slot) {
            ctrl_seterr(c, "bad reply to %s (seq %u): version %u, type 0x%x, length %u",
                        nicsim_cmsg_type_name(type), seq, h.version, h.type, h.len);
            return -EBADMSG;
        }
        memcpy(c->reply, slot, h.len);
        return (int)h.len;
    }
    return 0;
}

static int ctrl_send(struct nicsim_ctrl *c, size_t len, int *reply_len)
{
    struct nicsim_cmsg_hdr h;
    int ret;

    if (len < sizeof(h) || len > c->slot)
        return -E2BIG;
    nicsim_cmsg_hdr_get(&h, c->msg);
    h.version = NICSIM_CMSG_VERSION;
    h.seq = ++c->seq;
    h.len = (uint32_t)len;
    h.status = 0;
    nicsim_cmsg_hdr_put(c->msg, &h);

    ret = ctrl_wait_request_slot(c);
    if (ret)
        return ret;
    memcpy(c->req_ring + (size_t)(c->req_head & (c->entries - 1)) * c->slot, c->msg, len);
    c->req_head++;
    wr(c, NICSIM_BAR0_REQ_HEAD, c->req_head);
    wr(c, NICSIM_BAR0_DOORBELL, 1);

    for (uint32_t i = 0; i <= c->poll_budget; i++) {
        ret = ctrl_reap(c, h.seq, h.type);
        if (ret) {
            if (ret > 0)
                *reply_len = ret;
            return ret < 0 ? ret : 0;
        }
        /* kick again: reaping stale replies may have made the room the firmware waits for */
        wr(c, NICSIM_BAR0_DOORBELL, 1);
        if (c->idle)
            c->idle(c->idle_user);
    }
    ctrl_seterr(c, "no reply to %s (seq %u) after %u polls (firmware status %u)",
                nicsim_cmsg_type_name(h.type) ? nicsim_cmsg_type_name(h.type) : "?", h.seq,
                c->poll_budget, rd(c, NICSIM_BAR0_FW_STATUS));
    return -ETIMEDOUT;
}

int nicsim_ctrl__xfer(struct nicsim_ctrl *c, void *req, size_t req_len, void *resp, size_t cap)
{
    int len = 0, err;

    if (!req || req_len < sizeof(struct nicsim_cmsg_hdr) || req_len > c->slot)
        return -EINVAL;
    memcpy(c->msg, req, req_len);
    err = ctrl_send(c, req_len, &len);
    if (err)
        return err;
    memcpy(req, c->msg, sizeof(struct nicsim_cmsg_hdr)); /* seq and len as sent */
    if (resp)
        memcpy(resp, c->reply, (size_t)len < cap ? (size_t)len : cap);
    return len;
}

/* Start a request of `type` in c->msg; returns the body. */
static void *ctrl_begin(struct nicsim_ctrl *c, uint8_t type, uint16_t flags)
{
    struct nicsim_cmsg_hdr h = {.version = NICSIM_CMSG_VERSION, .type = type, .flags = flags};

    memset(c->msg, 0, c->slot < 512 ? c->slot : 512);
    nicsim_cmsg_hdr_put(c->msg, &h);
    return c->msg + sizeof(h);
}

/* Copy an error sentence from a reply. */
static void ctrl_copy_text(struct nicsim_ctrl *c, const uint8_t *text, size_t n)
{
    if (n >= sizeof(c->err.msg))
        n = sizeof(c->err.msg) - 1;
    memcpy(c->err.msg, text, n);
    c->err.msg[n] = '\0';
    c->err.index = -1;
}

/* Send and interpret the status. *body / *out_len describe the reply body; a successful body
 * shorter than `min_body` is -EBADMSG. The error sentence of an error reply is the body, except
 * for map operations (map_op set), whose caller finds it after the elements. */
static int ctrl_call_ex(struct nicsim_ctrl *c, size_t body_len, size_t min_body,
                        const uint8_t **body, size_t *out_len, int map_op)
{
    struct nicsim_cmsg_hdr h;
    int len = 0, err;

    c->err.msg[0] = '\0';
    err = ctrl_send(c, sizeof(h) + body_len, &len);
    if (err)
        return err;
    nicsim_cmsg_hdr_get(&h, c->reply);
    if (body)
        *body = c->reply + sizeof(h);
    if (out_len)
        *out_len = (size_t)len - sizeof(h);
    if (h.status != NICSIM_CMSG_OK) {
        if (!map_op)
            ctrl_copy_text(c, c->reply + sizeof(h), (size_t)len - sizeof(h));
        return nicsim_cmsg_status_to_errno(h.status);
    }
    if ((size_t)len - sizeof(h) < min_body) {
        ctrl_seterr(c, "reply to %s: body of %zu bytes, expected %zu",
                    nicsim_cmsg_type_name(h.type), (size_t)len - sizeof(h), min_body);
        return -EBADMSG;
    }
    return 0;
}

static int ctrl_call(struct nicsim_ctrl *c, size_t body_len, size_t min_body, const uint8_t **body,
                     size_t *out_len)
{
    return ctrl_call_ex(c, body_len, min_body, body, out_len, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Firmware information, programs, datapath, stats, events.
 */
int nicsim_ctrl__fw_info(struct nicsim_ctrl *c, struct nicsim_cmsg_fw_info *out)
{
    const uint8_t *body;
    int err;

    if (!out)
        return -EINVAL;
    ctrl_begin(c, NICSIM_CMSG_FW_INFO, 0);
    err = ctrl_call(c, 0, sizeof(*out), &body, NULL);
    if (!err)
        nicsim_cmsg_fw_info_get(out, body);
    return err;
}

int nicsim_ctrl__prog_load(struct nicsim_ctrl *c, const void *image, size_t len, uint32_t *prog_id)
{
    struct nicsim_cmsg_prog_load_reply rep;
    struct nicsim_cmsg_prog_load req = {0};
    const uint8_t *body;
    uint64_t bus;
    int err;

    if (!image || !len || len > UINT32_MAX || !prog_id)
        return -EINVAL;
    /* the device only reads the image; the cast drops const for the mapping call */
    err = c->bar->dma_map(c->bar_ctx, (void *)(uintptr_t)image, len, NICSIM_DMA_TO_DEVICE, &bus);
    if (err)
        return err;
    req.image_addr = bus;
    req.image_len = (uint32_t)len;
    nicsim_cmsg_prog_load_put(ctrl_begin(c, NICSIM_CMSG_PROG_LOAD, 0), &req);
    err = ctrl_call(c, sizeof(req), sizeof(rep), &body, NULL);
    c->bar->dma_unmap(c->bar_ctx, bus);
    if (err)
        return err;
    nicsim_cmsg_prog_load_reply_get(&rep, body);
    if (!rep.prog_id) {
        ctrl_seterr(c, "PROG_LOAD reply names program id 0");
        return -EBADMSG;
    }
    *prog_id = rep.prog_id;
    return 0;
}

static int ctrl_id_op(struct nicsim_ctrl *c, uint8_t type, uint32_t id)
{
    struct nicsim_cmsg_id req = {.id = id};

    nicsim_cmsg_id_put(ctrl_begin(c, type, 0), &req);
    return ctrl_call(c, sizeof(req), 0, NULL, NULL);
}

int nicsim_ctrl__prog_unload(struct nicsim_ctrl *c, uint32_t prog_id)
{
    return ctrl_id_op(c, NICSIM_CMSG_PROG_UNLOAD, prog_id);
}

static int ctrl_xdp(struct nicsim_ctrl *c, uint8_t type, uint32_t port, uint32_t prog_id,
                    uint32_t flags, uint32_t *old)
{
    struct nicsim_cmsg_xdp req = {.port = port, .prog_id = prog_id, .flags = flags};
    struct nicsim_cmsg_xdp_reply rep;
    const uint8_t *body;
    int err;

    nicsim_cmsg_xdp_put(ctrl_begin(c, type, 0), &req);
    err = ctrl_call(c, sizeof(req), sizeof(rep), &body, NULL);
    if (err)
        return err;
    nicsim_cmsg_xdp_reply_get(&rep, body);
    if (old)
        *old = rep.old_prog_id;
    return 0;
}

int nicsim_ctrl__xdp_attach(struct nicsim_ctrl *c, uint32_t port, uint32_t prog_id, uint32_t flags,
                            uint32_t *old_prog_id)
{
    return ctrl_xdp(c, NICSIM_CMSG_XDP_ATTACH, port, prog_id, flags, old_prog_id);
}

int nicsim_ctrl__xdp_detach(struct nicsim_ctrl *c, uint32_t port, uint32_t *old_prog_id)
{
    return ctrl_xdp(c, NICSIM_CMSG_XDP_DETACH, port, 0, 0, old_prog_id);
}

int nicsim_ctrl__stats(struct nicsim_ctrl *c, uint32_t scope, uint32_t id, uint32_t flags,
                       struct nicsim_stats *out)
{
    struct nicsim_cmsg_stats_req req = {.scope = scope, .id = id, .flags = flags};
    const uint8_t *body;
    int err;

    if (!out)
        return -EINVAL;
    nicsim_cmsg_stats_req_put(ctrl_begin(c, NICSIM_CMSG_STATS, 0), &req);
    err = ctrl_call(c, sizeof(req), sizeof(*out), &body, NULL);
    if (!err)
        nicsim_stats_get(out, body);
    return err;
}

int nicsim_ctrl__events_drain(struct nicsim_ctrl *c, nicsim_ctrl_event_fn fn, void *user,
                              uint64_t *lost)
{
    struct nicsim_cmsg_events_req req = {0};
    uint64_t lost_total = 0;
    int delivered = 0;

    if (!fn)
        return -EINVAL;
    for (;;) {
        struct nicsim_cmsg_events_reply rep;
        const uint8_t *body;
        size_t body_len, off;
        int err, stop = 0;

        nicsim_cmsg_events_req_put(ctrl_begin(c, NICSIM_CMSG_EVENTS, 0), &req);
        err = ctrl_call(c, sizeof(req), sizeof(rep), &body, &body_len);
        if (err)
            return err;
        nicsim_cmsg_events_reply_get(&rep, body);
        lost_total += rep.lost;
        off = sizeof(rep);
        for (uint32_t i = 0; i < rep.count; i++) {
            struct nicsim_event_rec rec;

            if (body_len - off < sizeof(rec)) {
                ctrl_seterr(c, "EVENTS reply: record %u of %u runs past the reply", i, rep.count);
                return -EBADMSG;
            }
            nicsim_event_rec_get(&rec, body + off);
            off += sizeof(rec);
            if (body_len - off < nicsim_round8(rec.len)) {
                ctrl_seterr(c, "EVENTS reply: record %u claims %u data bytes, %zu left", i, rec.len,
                            body_len - off);
                return -EBADMSG;
            }
            if (!stop) {
                delivered++;
                stop = fn(user, &rec, body + off);
            }
            off += nicsim_round8(rec.len);
        }
        if (stop || !rep.pending)
            break;
        if (!rep.count) {
            ctrl_seterr(c, "EVENTS reply: %u records pending but none delivered", rep.pending);
            return -EIO;
        }
    }
    if (lost)
        *lost = lost_total;
    return delivered;
}

/* ---------------------------------------------------------------------------------------------
 * Maps.
 */
static struct ctrl_map *ctrl_map_find(const struct nicsim_ctrl *c, uint32_t id)
{
    for (size_t i = 0; i < c->n_maps; i++)
        if (c->maps[i].id == id)
            return &c->maps[i];
    return NULL;
}

int nicsim_ctrl__map_alloc_inner(struct nicsim_ctrl *c, uint32_t type, uint32_t key_size,
                                 uint32_t value_size, uint32_t max_entries, uint32_t flags,
                                 uint32_t inner_map_id, uint32_t *id)
{
    struct nicsim_cmsg_map_alloc req = {
        .type = type,
        .key_size = key_size,
        .value_size = value_size,
        .max_entries = max_entries,
        .map_flags = flags,
        .inner_map_id = inner_map_id,
    };
    struct nicsim_cmsg_map_alloc_reply rep;
    struct ctrl_map *m;
    const uint8_t *body;
    int err;

    if (!id)
        return -EINVAL;
    if (c->n_maps == c->cap_maps) {
        size_t cap = c->cap_maps ? c->cap_maps * 2 : 16;
        struct ctrl_map *maps = realloc(c->maps, cap * sizeof(*maps));

        if (!maps)
            return -ENOMEM;
        c->maps = maps;
        c->cap_maps = cap;
    }
    nicsim_cmsg_map_alloc_put(ctrl_begin(c, NICSIM_CMSG_MAP_ALLOC, 0), &req);
    err = ctrl_call(c, sizeof(req), sizeof(rep), &body, NULL);
    if (err)
        return err;
    nicsim_cmsg_map_alloc_reply_get(&rep, body);
    if (!rep.map_id || ctrl_map_find(c, rep.map_id)) {
        ctrl_seterr(c, "MAP_ALLOC reply names map id %u, which is 0 or already in use", rep.map_id);
        return -EBADMSG;
    }
    m = &c->maps[c->n_maps++];
    m->id = rep.map_id;
    m->type = type;
    m->key_size = key_size;
    m->value_size = value_size;
    m->host_value_size =
        (size_t)nicsim_map_value_bytes(nicsim_map_type_is_percpu(type), value_size, c->n_cores);
    *id = rep.map_id;
    return 0;
}

int nicsim_ctrl__map_alloc(struct nicsim_ctrl *c, uint32_t type, uint32_t key_size,
                           uint32_t value_size, uint32_t max_entries, uint32_t flags, uint32_t *id)
{
    return nicsim_ctrl__map_alloc_inner(c, type, key_size, value_size, max_entries, flags, 0, id);
}

int nicsim_ctrl__map_free(struct nicsim_ctrl *c, uint32_t id)
{
    struct ctrl_map *m = ctrl_map_find(c, id);
    int err = ctrl_id_op(c, NICSIM_CMSG_MAP_FREE, id);

    if (!err && m)
        *m = c->maps[--c->n_maps];
    return err;
}

size_t nicsim_ctrl__map_value_size(const struct nicsim_ctrl *c, uint32_t id)
{
    const struct ctrl_map *m = ctrl_map_find(c, id);

    return m ? m->host_value_size : 0;
}

static struct ctrl_map *ctrl_map_get(struct nicsim_ctrl *c, uint32_t id)
{
    struct ctrl_map *m = ctrl_map_find(c, id);

    if (!m)
        ctrl_seterr(c, "map %u was not allocated through this client", id);
    return m;
}

/* Elements that fit in one message. */
static uint32_t ctrl_fit(const struct nicsim_ctrl *c, size_t elem)
{
    size_t room = c->slot - sizeof(struct nicsim_cmsg_hdr) - sizeof(struct nicsim_cmsg_map_op);

    if (!elem)
        return 1;
    return room / elem > UINT32_MAX ? UINT32_MAX : (uint32_t)(room / elem);
}

/*
 * One map-op message: `n` elements from keys (+ values when the request carries them). Returns the
 * status as an errno; *done = the reply's count (checked against n / max_count), *rbody / *rlen =
 * the reply's elements, `relem` bytes each. An error reply is the map-op body, the elements done,
 * then the firmware's sentence.
 */
static int ctrl_map_msg(struct nicsim_ctrl *c, const struct ctrl_map *m, uint8_t type,
                        uint16_t flags, const uint8_t *keys, const uint8_t *values, uint32_t n,
                        uint64_t op_flags, uint32_t max_count, size_t relem, uint32_t *done,
                        const uint8_t **rbody, size_t *rlen)
{
    struct nicsim_cmsg_map_op op = {
        .map_id = m->id,
        .count = n,
        .key_size = m->key_size,
        .value_size = m->value_size,
        .flags = op_flags,
        .max_count = max_count,
    };
    size_t kp = nicsim_round8(m->key_size), vp = nicsim_round8(m->host_value_size);
    uint8_t *body = ctrl_begin(c, type, flags);
    uint8_t *p = body + sizeof(op);
    uint32_t limit = max_count ? max_count : n;
    struct nicsim_cmsg_map_op rop;
    const uint8_t *rb = NULL;
    size_t len = 0;
    int err;

    nicsim_cmsg_map_op_put(body, &op);
    for (uint32_t i = 0; i < n; i++) {
        memset(p, 0, kp);
        if (m->key_size)
            memcpy(p, keys + (size_t)i * m->key_size, m->key_size);
        p += kp;
        if (values) {
            memset(p, 0, vp);
            memcpy(p, values + (size_t)i * m->host_value_size, m->host_value_size);
            p += vp;
        }
    }
    *done = 0;
    err = ctrl_call_ex(c, (size_t)(p - body), 0, &rb, &len, 1);
    if (err && !rb)
        return err; /* transport error */
    if (len < sizeof(rop)) {
        if (err) {
            ctrl_copy_text(c, rb, len);
            return err;
        }
        ctrl_seterr(c, "map %u: %s reply without its map-op body", m->id,
                    nicsim_cmsg_type_name(type));
        return -EBADMSG;
    }
    nicsim_cmsg_map_op_get(&rop, rb);
    if (rop.count > limit || (relem && (len - sizeof(rop)) / relem < rop.count)) {
        ctrl_seterr(c, "map %u: %s reply counts %u elements (%u asked) in %zu bytes", m->id,
                    nicsim_cmsg_type_name(type), rop.count, limit, len);
        return -EBADMSG;
    }
    if (err)
        ctrl_copy_text(c, rb + sizeof(rop) + (size_t)rop.count * relem,
                       len - sizeof(rop) - (size_t)rop.count * relem);
    *done = rop.count;
    *rbody = rb + sizeof(rop);
    *rlen = len - sizeof(rop);
    return err;
}

int nicsim_ctrl__map_lookup_batch(struct nicsim_ctrl *c, uint32_t id, const void *keys,
                                  void *values, uint32_t *count)
{
    struct ctrl_map *m = ctrl_map_get(c, id);
    uint32_t total, fit, done_all = 0;
    size_t kp, vp;
    int err = 0;

    if (!m)
        return -ENOENT;
    if (!count || (!keys && m->key_size && *count) || (!values && *count)) {
        ctrl_seterr(c, "map %u: lookup without a count, keys or room for the values", id);
        return -EINVAL;
    }
    total = *count;
    kp = nicsim_round8(m->key_size);
    vp = nicsim_round8(m->host_value_size);
    fit = ctrl_fit(c, kp + vp);
    if (!fit) {
        ctrl_seterr(c, "map %u: one element does not fit a message slot", id);
        return -E2BIG;
    }
    while (done_all < total && !err) {
        uint32_t n = total - done_all < fit ? total - done_all : fit, done = 0;
        const uint8_t *rb = NULL;
        size_t rlen = 0;

        err = ctrl_map_msg(c, m, NICSIM_CMSG_MAP_LOOKUP, 0,
                           (const uint8_t *)keys + (size_t)done_all * m->key_size, NULL, n, 0, 0,
                           kp + vp, &done, &rb, &rlen);
        for (uint32_t i = 0; i < done; i++)
            memcpy((uint8_t *)values + (size_t)(done_all + i) * m->host_value_size,
                   rb + i * (kp + vp) + kp, m->host_value_size);
        done_all += done;
        if (!err && done != n) {
            ctrl_seterr(c, "map %u: lookup reply did %u of %u elements without an error", id, done,
                        n);
            err = -EBADMSG;
        }
    }
    *count = done_all;
    return err;
}

static int ctrl_map_write_batch(struct nicsim_ctrl *c, uint8_t type, uint32_t id, const void *keys,
                                const void *values, uint32_t *count, uint64_t flags)
{
    struct ctrl_map *m = ctrl_map_get(c, id);
    uint32_t total, fit, done_all = 0;
    size_t elem;
    int err = 0;

    if (!m)
        return -ENOENT;
    if (!count || (!keys && m->key_size && *count) ||
        (type == NICSIM_CMSG_MAP_UPDATE && !values && *count)) {
        ctrl_seterr(c, "map %u: %s without a count, keys or values", id,
                    nicsim_cmsg_type_name(type));
        return -EINVAL;
    }
    total = *count;
    elem = nicsim_round8(m->key_size) +
           (type == NICSIM_CMSG_MAP_UPDATE ? nicsim_round8(m->host_value_size) : 0);
    fit = ctrl_fit(c, elem);
    if (!fit) {
        ctrl_seterr(c, "map %u: one element does not fit a message slot", id);
        return -E2BIG;
    }
    while (done_all < total && !err) {
        uint32_t n = total - done_all < fit ? total - done_all : fit, done = 0;
        const uint8_t *rb;
        size_t rlen;

        err = ctrl_map_msg(c, m, type, 0, (const uint8_t *)keys + (size_t)done_all * m->key_size,
                           type == NICSIM_CMSG_MAP_UPDATE
                               ? (const uint8_t *)values + (size_t)done_all * m->host_value_size
                               : NULL,
                           n, flags, 0, 0, &done, &rb, &rlen);
        done_all += done;
        if (!err && done != n) {
            ctrl_seterr(c, "map %u: %s reply did %u of %u elements without an error", id,
                        nicsim_cmsg_type_name(type), done, n);
            err = -EBADMSG;
        }
    }
    *count = done_all;
    return err;
}

int nicsim_ctrl__map_update_batch(struct nicsim_ctrl *c, uint32_t id, const void *keys,
                                  const void *values, uint32_t *count, uint64_t flags)
{
    return ctrl_map_write_batch(c, NICSIM_CMSG_MAP_UPDATE, id, keys, values, count, flags);
}

int nicsim_ctrl__map_delete_batch(struct nicsim_ctrl *c, uint32_t id, const void *keys,
                                  uint32_t *count)
{
    return ctrl_map_write_batch(c, NICSIM_CMSG_MAP_DELETE, id, keys, NULL, count, 0);
}

int nicsim_ctrl__map_get_next_batch(struct nicsim_ctrl *c, uint32_t id, const void *key, void *keys,
                                    void *values, uint32_t *count)
{
    struct ctrl_map *m = ctrl_map_get(c, id);
    uint32_t total, fit, done_all = 0;
    const uint8_t *from = key;
    size_t kp, vp;

    if (!m)
        return -ENOENT;
    if (!count || !*count || !keys)
        return -EINVAL;
    total = *count;
    kp = nicsim_round8(m->key_size);
    vp = values ? nicsim_round8(m->host_value_size) : 0;
    fit = ctrl_fit(c, kp + vp);
    if (!fit) {
        ctrl_seterr(c, "map %u: one element does not fit a message slot", id);
        return -E2BIG;
    }
    while (done_all < total) {
        uint32_t want = total - done_all < fit ? total - done_all : fit, done = 0;
        uint16_t flags = values ? 0 : NICSIM_CMSG_F_KEYS_ONLY;
        const uint8_t *rb = NULL;
        size_t rlen = 0;
        int err;

        if (from)
            err = ctrl_map_msg(c, m, NICSIM_CMSG_MAP_GETNEXT, flags, from, NULL, 1, 0, want,
                               kp + vp, &done, &rb, &rlen);
        else
            err = ctrl_map_msg(c, m, NICSIM_CMSG_MAP_GETFIRST, flags, NULL, NULL, 0, 0, want,
                               kp + vp, &done, &rb, &rlen);
        if (err == -ENOENT && done_all) {
            err = 0;
            done = 0;
        }
        if (err) {
            *count = done_all;
            return err;
        }
        for (uint32_t i = 0; i < done; i++) {
            const uint8_t *e = rb + i * (kp + vp);

            memcpy((uint8_t *)keys + (size_t)(done_all + i) * m->key_size, e, m->key_size);
            if (values)
                memcpy((uint8_t *)values + (size_t)(done_all + i) * m->host_value_size, e + kp,
                       m->host_value_size);
        }
        done_all += done;
        if (done < want)
            break; /* end of the map */
        from = (const uint8_t *)keys + (size_t)(done_all - 1) * m->key_size;
    }
    *count = done_all;
    return 0;
}

/* ---- Single elements. */
int nicsim_ctrl__map_lookup(struct nicsim_ctrl *c, uint32_t id, const void *key, void *value)
{
    uint32_t n = 1;

    return nicsim_ctrl__map_lookup_batch(c, id, key, value, &n);
}

int nicsim_ctrl__map_lookup_and_delete(struct nicsim_ctrl *c, uint32_t id, const void *key,
                                       void *value)
{
    struct ctrl_map *m = ctrl_map_get(c, id);
    const uint8_t *rb = NULL;
    uint32_t done = 0;
    size_t rlen = 0;
    int err;

    if (!m)
        return -ENOENT;
    if ((!key && m->key_size) || !value)
        return -EINVAL;
    if (ctrl_fit(c, nicsim_round8(m->key_size) + nicsim_round8(m->host_value_size)) < 1)
        return -E2BIG;
    err = ctrl_map_msg(c, m, NICSIM_CMSG_MAP_LOOKUP, NICSIM_CMSG_F_AND_DELETE, key, NULL, 1, 0, 0,
                       nicsim_round8(m->key_size) + nicsim_round8(m->host_value_size), &done, &rb,
                       &rlen);
    if (err)
        return err;
    if (done != 1) {
        ctrl_seterr(c, "map %u: lookup-and-delete reply without the value", id);
        return -EBADMSG;
    }
    memcpy(value, rb + nicsim_round8(m->key_size), m->host_value_size);
    return 0;
}

int nicsim_ctrl__map_update(struct nicsim_ctrl *c, uint32_t id, const void *key, const void *value,
                            uint64_t flags)
{
    uint32_t n = 1;

    return nicsim_ctrl__map_update_batch(c, id, key, value, &n, flags);
}

int nicsim_ctrl__map_delete(struct nicsim_ctrl *c, uint32_t id, const void *key)
{
    uint32_t n = 1;

    return nicsim_ctrl__map_delete_batch(c, id, key, &n);
}

int nicsim_ctrl__map_get_next(struct nicsim_ctrl *c, uint32_t id, const void *key, void *next_key)
{
    uint32_t n = 1;
    int err = nicsim_ctrl__map_get_next_batch(c, id, key, next_key, NULL, &n);

    if (!err && !n)
        return -ENOENT;
    return err;
}
