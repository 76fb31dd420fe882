/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: SEQUENCES of well-formed control messages whose numbers are boundary values,
 * into the firmware (fake HAL). cmsg_fuzz mutates bytes and so rarely forms a MAP_ALLOC whose
 * max_entries is exactly 0x80000001 for a hash of maps; this harness builds every message itself
 * and draws every size, count, id, index and flag from a table of edges (0, 1, 2^k +- 1, 2^31,
 * 0x80000001, 0xffffffff, the kernel's KMALLOC_MAX_SIZE, ...) or, less often, from the input,
 * so the firmware's size arithmetic is tried where it wraps.
 *
 * Input: a sequence of records, each an operation byte followed by the bytes its fields draw
 * (draw_u32: one selector byte, then 0, 1 or 4 bytes). It allocates maps (tracking each reply's
 * id, sizes and type so later element operations are well-formed), frees them, updates, looks up,
 * deletes and walks them, loads and unloads a small program referencing them, attaches it, and
 * reads counters and events. After every reply: it is well-formed, the map memory used stays
 * within the budget, and a successful MAP_ALLOC reply names an id the firmware does not already
 * have in use. A hang (the bug this target was written for: roundup_pow2 looping on 2^31 + 1)
 * is a libFuzzer timeout.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/ctrl.h"
#include "nicsim/fw_hal.h"
#include "nicsim/pcie.h"

#include "fuzz_fake_hal.h"

#define CAP      65536u
#define MAX_MAPS 16u
#define N_CORES  2u

struct rd {
    const uint8_t *p;
    size_t n;
};

static uint8_t byte(struct rd *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static const uint32_t edges[] = {
    0,
    1,
    2,
    3,
    4,
    5,
    7,
    8,
    9,
    16,
    63,
    64,
    255,
    256,
    4095,
    4096,
    4097,
    32768,
    32769,
    65535,
    65536,
    1u << 20,
    (1u << 22) - 48,
    1u << 22,
    (1u << 22) + 1,
    1u << 24,
    1u << 28,
    1u << 29,
    1u << 30,
    0x7ffffffe,
    0x7fffffff,
    0x80000000,
    0x80000001,
    0x80000002,
    0xc0000000,
    0xfffffff0,
    0xfffffffe,
    0xffffffff,
};
#define N_EDGES (sizeof(edges) / sizeof(edges[0]))

/* Mostly an edge; sometimes a small number or four raw bytes. */
static uint32_t draw_u32(struct rd *r)
{
    uint8_t s = byte(r);
    uint32_t v = 0;

    if (s < 0xc0)
        return edges[s % N_EDGES];
    if (s < 0xe0)
        return byte(r);
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)byte(r) << (8 * i);
    return v;
}

/* Kernel map types: the NIC's, and a few it does not have. */
static const uint32_t types[] = {1,  2,  3,  4,  5,  6,  9,  10, 11, 12,
                                 13, 14, 22, 23, 25, 27, 30, 0,  7,  99};
/* The usual key / value size of each type above (so that max_entries alone is at an edge). */
static const uint32_t shape[][2] = {{4, 8}, {4, 8}, {4, 4}, {4, 4}, {4, 8}, {4, 8}, {4, 8},
                                    {4, 8}, {8, 8}, {4, 4}, {4, 4}, {4, 4}, {0, 8}, {0, 8},
                                    {4, 4}, {0, 0}, {0, 8}, {4, 4}, {4, 4}, {4, 4}};
static const uint32_t flag_sets[] = {0,      1,        2,          8,          16, 64,
                                     128,    256,      1u << 10,   1u << 12,   65, 1 | 128,
                                     2 | 64, 1u << 11, 0x8000000u, 0xffffffffu};

struct map {
    uint32_t id, type, ks, vs;
};

struct st {
    struct nicsim_fw *fw;
    uint8_t msg[CAP], resp[CAP];
    struct map maps[MAX_MAPS];
    uint32_t n_maps, prog, budget;
};

static void check_reply(size_t rlen, const uint8_t *resp)
{
    struct nicsim_cmsg_hdr rh;

    nicsim_cmsg_hdr_get(&rh, resp);
    if (rlen < sizeof(rh) || rlen > CAP || rh.len != rlen || (rlen & 7) ||
        rh.version != NICSIM_CMSG_VERSION || !(rh.type & NICSIM_CMSG_REPLY) ||
        rh.status > NICSIM_CMSG__MAX_STATUS)
        abort();
}

/* Send type/flags with the body already at s->msg + 16; returns the reply status. */
static uint32_t xfer(struct st *s, uint8_t type, uint16_t flags, size_t body)
{
    struct nicsim_cmsg_hdr h = {.version = NICSIM_CMSG_VERSION,
                                .type = type,
                                .flags = flags,
                                .len = (uint32_t)(sizeof(h) + body)};
    size_t rlen;

    nicsim_cmsg_hdr_put(s->msg, &h);
    rlen = nicsim_fw__handle(s->fw, s->msg, sizeof(h) + body, s->resp, CAP);
    check_reply(rlen, s->resp);
    nicsim_cmsg_hdr_get(&h, s->resp);
    return h.status;
}

static void fw_info_check(struct st *s)
{
    struct nicsim_cmsg_fw_info info;

    if (xfer(s, NICSIM_CMSG_FW_INFO, 0, 0) != NICSIM_CMSG_OK)
        abort();
    nicsim_cmsg_fw_info_get(&info, s->resp + sizeof(struct nicsim_cmsg_hdr));
    if (info.map_mem_used > info.map_mem_total || info.n_maps > info.max_maps)
        abort();
}

static const struct map *pick_map(struct st *s, struct rd *r, struct map *tmp)
{
    uint8_t b = byte(r);

    if (s->n_maps && b < 0xe0)
        return &s->maps[b % s->n_maps];
    *tmp = (struct map){.id = draw_u32(r), .ks = draw_u32(r), .vs = draw_u32(r)};
    return tmp;
}

static void op_alloc(struct st *s, struct rd *r)
{
    struct nicsim_cmsg_map_alloc a = {0};
    struct nicsim_cmsg_map_alloc_reply rep;
    uint8_t t = byte(r), how = byte(r);
    uint32_t ti = t % (sizeof(types) / sizeof(types[0]));

    a.type = types[ti];
    a.key_size = how & 1 ? draw_u32(r) : shape[ti][0];
    a.value_size = how & 2 ? draw_u32(r) : shape[ti][1];
    a.max_entries = draw_u32(r);
    a.map_flags = how & 4 ? flag_sets[byte(r) % (sizeof(flag_sets) / sizeof(flag_sets[0]))]
                          : (a.type == 11 ? 1u : 0u); /* LPM needs BPF_F_NO_PREALLOC */
    if (how & 16) /* bloom filters: hash functions; any other type must refuse it */
        a.map_extra = how & 32 ? draw_u32(r) : byte(r) & 0x1f;
    if (a.type == 12 || a.type == 13)
        a.inner_map_id = s->n_maps && !(how & 8) ? s->maps[byte(r) % s->n_maps].id : draw_u32(r);
    nicsim_cmsg_map_alloc_put(s->msg + 16, &a);
    if (xfer(s, NICSIM_CMSG_MAP_ALLOC, 0, sizeof(a)) != NICSIM_CMSG_OK)
        return;
    nicsim_cmsg_map_alloc_reply_get(&rep, s->resp + 16);
    for (uint32_t i = 0; i < s->n_maps; i++)
        if (s->maps[i].id == rep.map_id)
            abort(); /* an id handed out twice */
    if (rep.mem_bytes > s->budget)
        abort();
    if (s->n_maps < MAX_MAPS)
        s->maps[s->n_maps++] = (struct map){rep.map_id, a.type, a.key_size, a.value_size};
    fw_info_check(s);
}

static void op_free(struct st *s, struct rd *r)
{
    struct map tmp;
    const struct map *m = pick_map(s, r, &tmp);
    struct nicsim_cmsg_id id = {.id = m->id};

    nicsim_cmsg_id_put(s->msg + 16, &id);
    if (xfer(s, NICSIM_CMSG_MAP_FREE, 0, sizeof(id)) != NICSIM_CMSG_OK)
        return;
    for (uint32_t i = 0; i < s->n_maps; i++) /* the id may have been drawn, not picked */
        if (s->maps[i].id == id.id) {
            s->maps[i] = s->maps[--s->n_maps];
            break;
        }
    fw_info_check(s);
}

static size_t host_vs(const struct map *m)
{
    int percpu = m->type == 5 || m->type == 6 || m->type == 10;

    return percpu ? (size_t)((m->vs + 7u) & ~7u) * N_CORES : m->vs;
}

static void op_map(struct st *s, struct rd *r, uint8_t type)
{
    struct map tmp;
    const struct map *m = pick_map(s, r, &tmp);
    struct nicsim_cmsg_map_op op = {.map_id = m->id, .key_size = m->ks, .value_size = m->vs};
    uint8_t how = byte(r);
    uint16_t flags = how & 0x10 ? NICSIM_CMSG_F_AND_DELETE : 0;
    size_t kp = ((size_t)m->ks + 7) & ~(size_t)7, vp = (host_vs(m) + 7) & ~(size_t)7, elem, off;

    op.count = type == NICSIM_CMSG_MAP_GETFIRST  ? 0
               : type == NICSIM_CMSG_MAP_GETNEXT ? 1
                                                 : 1 + (how & 3);
    if (how & 0x20)
        op.count = draw_u32(r);
    if (type == NICSIM_CMSG_MAP_UPDATE)
        op.flags = how & 0x40 ? draw_u32(r) : (how >> 2) & 3;
    if (type == NICSIM_CMSG_MAP_GETFIRST || type == NICSIM_CMSG_MAP_GETNEXT)
        op.max_count = how & 0x80 ? draw_u32(r) : 1 + (how & 7);
    elem = kp + (type == NICSIM_CMSG_MAP_UPDATE ? vp : 0);
    off = 16 + sizeof(op);
    /* elements only when they fit the message: otherwise just the header (refused by size) */
    if (op.count <= 64 && elem <= 4096 && off + op.count * elem <= CAP) {
        for (uint32_t i = 0; i < op.count; i++) {
            uint8_t *e = s->msg + off + i * elem;
            uint32_t k = draw_u32(r);

            memset(e, 0, elem);
            memcpy(e, &k, kp < 4 ? kp : 4);
            for (size_t j = 4; j < kp && j < 16; j++)
                e[j] = byte(r);
            if (type == NICSIM_CMSG_MAP_UPDATE && vp >= 4) {
                uint32_t v = draw_u32(r); /* an id for fd maps, a number otherwise */

                memcpy(e + kp, &v, 4);
            }
        }
        off += op.count * elem;
    }
    nicsim_cmsg_map_op_put(s->msg + 16, &op);
    xfer(s, type, flags, off - 16);
}

/* A small program: lddw r1 <map handle>; mov r0, 2; exit, with one map in its table. */
static void op_load(struct st *s, struct rd *r)
{
    uint8_t img[64 + 4 + 4 * 8] = {0x4e, 0x58, 0x49, 0x4d, 1, 0, 64, 0, 4, 0, 0, 0,
                                   1,    0,    0,    0,    6, 0, 0,  0, 8, 0, 0, 0};
    struct nicsim_cmsg_prog_load pl = {.image_len = sizeof(img)};
    struct map tmp;
    const struct map *m = pick_map(s, r, &tmp);
    const uint8_t code[] = {0x18, 0x51, 0, 0, 0, 0, 0, 0, 0,    0, 0, 0, 0, 0, 0, 0,
                            0xb7, 0,    0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0};

    memcpy(img + 32, "seq", 3);
    memcpy(img + 64, &m->id, 4);
    memcpy(img + 64 + 4, code, sizeof(code));
    memcpy(img + 64 + 4 + 4, &m->id, 4);
    nicsim_cmsg_prog_load_put(s->msg + 16, &pl);
    memcpy(s->msg + 16 + sizeof(pl), img, sizeof(img));
    if (xfer(s, NICSIM_CMSG_PROG_LOAD, NICSIM_CMSG_F_INLINE, sizeof(pl) + sizeof(img)) ==
        NICSIM_CMSG_OK)
        memcpy(&s->prog, s->resp + 16, 4);
}

static void op_id(struct st *s, struct rd *r, uint8_t type)
{
    uint32_t v[4] = {byte(r) & 1 ? s->prog : draw_u32(r), 0, 0, 0};
    size_t len = 8;

    if (type == NICSIM_CMSG_XDP_ATTACH || type == NICSIM_CMSG_XDP_DETACH ||
        type == NICSIM_CMSG_STATS) {
        v[1] = v[0];
        v[0] = draw_u32(r);
        if (type == NICSIM_CMSG_XDP_DETACH)
            v[1] = 0;
        if (type == NICSIM_CMSG_STATS)
            v[2] = byte(r) & 1;
        len = 16;
    } else if (type == NICSIM_CMSG_EVENTS) {
        v[0] = draw_u32(r);
    }
    memcpy(s->msg + 16, v, len);
    xfer(s, type, 0, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct st s;
    struct rd r = {data, size};
    struct fuzz_bar f = {.dma = data, .dma_len = size};
    struct nicsim_fw_hal hal = {.ops = &fuzz_hal_ops, .ctx = &f};
    struct nicsim_fw_opts o = {.sz = sizeof(o),
                               .n_ports = 2,
                               .n_cores = N_CORES,
                               .max_maps = MAX_MAPS,
                               .max_progs = 4,
                               .event_queue_bytes = 4096};
    int steps = 0;

    /* a small map memory, or one large enough that only the NIC's limits stop a map */
    s.budget = byte(&r) & 1 ? 64u << 20 : 1u << 20;
    o.map_mem_bytes = s.budget;
    s.fw = nicsim_fw__new(&hal, &o);
    if (!s.fw)
        abort();
    s.n_maps = 0;
    s.prog = 0;
    while (r.n && steps++ < 64) {
        uint8_t op = byte(&r);

        switch (op % 14) {
        case 0:
        case 1:
            op_alloc(&s, &r);
            break;
        case 2:
            op_free(&s, &r);
            break;
        case 3:
            op_map(&s, &r, NICSIM_CMSG_MAP_UPDATE);
            break;
        case 4:
            op_map(&s, &r, NICSIM_CMSG_MAP_LOOKUP);
            break;
        case 5:
            op_map(&s, &r, NICSIM_CMSG_MAP_DELETE);
            break;
        case 6:
            op_map(&s, &r, NICSIM_CMSG_MAP_GETFIRST);
            break;
        case 7:
            op_map(&s, &r, NICSIM_CMSG_MAP_GETNEXT);
            break;
        case 8:
            op_load(&s, &r);
            break;
        case 9:
            op_id(&s, &r, NICSIM_CMSG_PROG_UNLOAD);
            break;
        case 10:
            op_id(&s, &r, byte(&r) & 1 ? NICSIM_CMSG_XDP_ATTACH : NICSIM_CMSG_XDP_DETACH);
            break;
        case 11:
            op_id(&s, &r, NICSIM_CMSG_STATS);
            break;
        case 12:
            nicsim_fw__count(s.fw, draw_u32(&r), draw_u32(&r), draw_u32(&r), draw_u32(&r),
                             draw_u32(&r), byte(&r) & 1);
            nicsim_fw__event_output(s.fw, draw_u32(&r), draw_u32(&r), draw_u32(&r), data,
                                    draw_u32(&r) % (size + 1));
            break;
        default:
            op_id(&s, &r, NICSIM_CMSG_EVENTS);
            break;
        }
    }
    nicsim_fw__free(s.fw);
    return 0;
}
