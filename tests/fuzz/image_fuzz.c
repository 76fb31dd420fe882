/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes as a NIC program image (include/nicsim/nic_image.h,
 * docs/nic-image.md) given to the firmware's program loader with a PROG_LOAD control message,
 * through nicsim_fw__handle on a fake HAL.
 *
 * Each input is the whole image. A fresh firmware first gets a few maps (ids 1..5: a
 * single-entry array for direct value access, a hash, a prog array, a devmap, a perf event
 * array), then the image is loaded twice, inline in the message and DMA-read from host memory
 * (the fake DMA window holds the input): both must give the same verdict. A third load takes a
 * copy whose header is repaired to describe the input's length (magic, version, header length,
 * map and slot counts), so that mutations which change the length still reach the deep checks. A
 * loaded program must be what the loader promises the cores (checked in the fake core's load:
 * relocated LDDWs, NIC helper units only, jumps inside the program, no legacy loads, existing
 * maps), and is then attached to a port, put into the prog array, detached and unloaded. Every
 * reply must be well-formed.
 *
 * The fake core also runs what it is given: on a real core model with the NIC's helper unit
 * (sim/xdp) and a fake map unit, granted only the image's map table, over a 64-byte and a
 * 3,520-byte packet, so that the helpers see whatever arguments and packet geometry a loadable
 * image can produce (under ASan: no helper may touch host memory outside its destination).
 *
 * Built with NICSIM_FUZZ_SEEDGEN, the file is instead a program that writes the seed corpus into
 * the directory it is given: images produced by the driver's translator
 * (nicsim_drv_translate) from small verified programs referencing those maps, each checked to
 * load.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/core.h"
#include "nicsim/ctrl.h"
#include "nicsim/fw_hal.h"
#include "nicsim/nic_image.h"
#include "nicsim/pcie.h"
#include "nicsim/printk.h"
#include "nicsim/xdp.h"

#include "fuzz_fake_hal.h"

#define FUZZ_CAP  4096u
#define N_PORTS   2u
#define PROG_ARR  3u /* map id of the prog array */
#define MAX_STACK (512u * 8u)

struct fake {
    struct fuzz_bar bar; /* first: the fake HAL's ops take the harness's state as theirs */
    uint32_t n_maps;     /* ids 1..n_maps exist */
    uint32_t loaded;     /* programs on the cores */
    uint32_t port_prog;  /* set_port_prog calls with a program */
};

/* ---- Running a loaded program: a real core, a fake map unit with the preamble's maps ----------
 */
static uint8_t rt_array[8], rt_hash[16 * 8], rt_sink[NICSIM_XDP_PERF_MAX_RAW];

static int rt_info(void *ctx, uint32_t id, struct nicsim_xdp_map_info *mi)
{
    static const struct nicsim_xdp_map_info infos[] = {
        {2, 4, 8, 1}, {1, 4, 8, 16}, {3, 4, 4, 4}, {14, 4, 4, 4}, {4, 4, 4, 4}};

    (void)ctx;
    if (id < 1 || id > 5)
        return -ENOENT;
    *mi = infos[id - 1];
    return 0;
}
static int rt_lookup(void *ctx, uint32_t id, uint32_t cpu, const void *key, uint32_t *off)
{
    uint32_t k;

    (void)ctx;
    (void)cpu;
    memcpy(&k, key, 4);
    if (id == 1 && k == 0) {
        *off = 0;
        return 0;
    }
    if (id == 2) {
        *off = (k % 16) * 8;
        return 0;
    }
    return -ENOENT;
}
static int rt_update(void *ctx, uint32_t id, uint32_t cpu, const void *key, const void *value,
                     uint64_t flags)
{
    uint32_t k;

    (void)ctx;
    (void)cpu;
    (void)flags;
    memcpy(&k, key, 4);
    if (id == 1 && k == 0)
        memcpy(rt_array, value, 8);
    else if (id == 2)
        memcpy(rt_hash + (k % 16) * 8, value, 8);
    else
        return -EINVAL;
    return 0;
}
static int rt_remove(void *ctx, uint32_t id, uint32_t cpu, const void *key)
{
    (void)ctx;
    (void)id;
    (void)cpu;
    (void)key;
    return -ENOENT;
}
static int rt_devmap_get(void *ctx, uint32_t id, uint32_t key, uint32_t *ifindex)
{
    (void)ctx;
    if (id != 4 || key)
        return -ENOENT;
    *ifindex = 3;
    return 0;
}
static const struct nicsim_prog *rt_prog_array_get(void *ctx, uint32_t id, uint32_t index)
{
    (void)ctx;
    (void)id;
    (void)index;
    return NULL;
}
static int rt_event_output(void *ctx, uint32_t id, uint32_t cpu, uint64_t index, const void *data,
                           uint32_t size)
{
    (void)ctx;
    (void)cpu;
    (void)index;
    /* only event maps and the bpf_trace_printk stream, never more than a perf record holds */
    if ((id != 5 && id != 6 && id != NICSIM_EVENT_TRACE_PRINTK) || size > sizeof(rt_sink) ||
        (size && !data))
        abort();
    if (size)
        memcpy(rt_sink, data, size); /* ASan: every byte handed over is readable */
    return 0;
}
static const struct nicsim_xdp_map_ops rt_maps = {rt_info,         rt_lookup,     rt_update,
                                                  rt_remove,       rt_devmap_get, rt_prog_array_get,
                                                  rt_event_output, NULL};

static struct nicsim_xdp_core *rt_core(void)
{
    static struct nicsim_xdp_core *core;
    struct nicsim_xdp_core_opts o = {
        .sz = sizeof(o), .core_id = 1, .seed = 1, .budget = 1u << 14, .maps = &rt_maps};
    struct nicsim_xdp_map_mem a = {.sz = sizeof(a),
                                   .mem = rt_array,
                                   .len = sizeof(rt_array),
                                   .writable = 1,
                                   .latency = 2,
                                   .value_size = 8,
                                   .stride = 8};

    if (core)
        return core;
    core = nicsim_xdp_core__new(&o);
    if (!core || nicsim_xdp_core__map_values(core, 1, &a))
        abort();
    a.mem = rt_hash;
    a.len = sizeof(rt_hash);
    if (nicsim_xdp_core__map_values(core, 2, &a))
        abort();
    for (uint32_t id = 3; id <= 5; id++)
        if (nicsim_xdp_core__map_map(core, id, NULL, 0, 0, 2))
            abort();
    return core;
}

static void rt_run(const struct nicsim_fw_prog_desc *p)
{
    static uint8_t pkt[NICSIM_XDP_MAX_DATA];
    uint32_t regions[NICSIM_IMG_MAX_MAPS];
    struct nicsim_prog_opts po = {.sz = sizeof(po),
                                  .helpers = nicsim_xdp_helpers(),
                                  .name = "fuzz",
                                  .regions = regions,
                                  .n_regions = p->n_maps};
    struct nicsim_msg e;
    struct nicsim_prog *prog;
    static const uint32_t lens[] = {64, NICSIM_XDP_MAX_DATA};

    for (uint32_t i = 0; i < p->n_maps; i++)
        regions[i] = NICSIM_MAP_REGION_BASE + p->map_ids[i];
    prog = nicsim_prog__load(p->insns, p->n, &po, &e);
    if (!prog)
        abort(); /* what the loader accepts, a core can hold */
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        struct nicsim_xdp_pkt_in in = {.data = pkt, .len = lens[i], .ingress_ifindex = 2};
        struct nicsim_xdp_result r;

        memset(rt_array, 0, sizeof(rt_array));
        memset(rt_hash, 0, sizeof(rt_hash));
        for (uint32_t b = 0; b < lens[i]; b++)
            pkt[b] = (uint8_t)(b * 7 + 1);
        if (nicsim_xdp_core__run(rt_core(), prog, &in, &r))
            abort();
        /* the packet stays inside the frame: at most the tail limit plus the usable headroom */
        if (r.len < NICSIM_ETH_HLEN ||
            r.len + r.meta_len > NICSIM_XDP_MAX_DATA + NICSIM_XDP_HEADROOM - NICSIM_XDP_FRAME_HDR ||
            r.meta_len > NICSIM_XDP_META_MAX)
            abort();
    }
    nicsim_prog__free(prog);
}

/* The loader's promises to the cores. */
static int f_load(void *ctx, const struct nicsim_fw_prog_desc *p, char *msg, size_t msg_len)
{
    struct fake *f = ctx;
    const struct nicsim_isa_insn *last;

    if (!p->prog_id || !p->n || p->n > NICSIM_IMG_MAX_SLOTS || p->prog_type != 6 ||
        p->stack_depth > MAX_STACK || p->n_maps > NICSIM_IMG_MAX_MAPS || !memchr(p->name, 0, 17))
        abort();
    for (uint32_t i = 0; i < p->n_maps; i++)
        if (!p->map_ids[i] || p->map_ids[i] > f->n_maps)
            abort(); /* only maps that exist */
    for (size_t pc = 0; pc < p->n; pc++) {
        const struct nicsim_isa_insn *in = &p->insns[pc];
        long t = nicsim_isa_branch_target(in, (long)pc);

        switch (nicsim_isa_op_class(in->op)) {
        case NICSIM_CLASS_NONE:
        case NICSIM_CLASS_LEGACY:
            abort();
        case NICSIM_CLASS_LDDW:
            if (in->op == NICSIM_OP_LDDW &&
                (in->src != 0 || pc + 1 >= p->n || p->insns[pc + 1].op != NICSIM_OP_LDDW_HI))
                abort(); /* relocated to a plain 64-bit immediate */
            if (in->op == NICSIM_OP_LDDW_HI && (!pc || p->insns[pc - 1].op != NICSIM_OP_LDDW))
                abort();
            break;
        case NICSIM_CLASS_CALL:
            if (in->op != NICSIM_OP_CALL_HELPER || in->imm < 1 || in->imm >= NICSIM_HW__COUNT)
                abort(); /* NIC helper units only */
            break;
        default:
            break;
        }
        if (nicsim_isa_op_class(in->op) != NICSIM_CLASS_CALL_LOCAL &&
            nicsim_isa_op_class(in->op) != NICSIM_CLASS_JCOND &&
            nicsim_isa_op_class(in->op) != NICSIM_CLASS_JA)
            continue;
        if (t < 0 || (size_t)t >= p->n || p->insns[t].op == NICSIM_OP_LDDW_HI)
            abort(); /* inside the program, never into the middle of an LDDW */
    }
    last = &p->insns[p->n - 1];
    if (last->op != NICSIM_OP_EXIT && last->op != NICSIM_OP_JA && last->op != NICSIM_OP_JA32)
        abort();
    rt_run(p);
    f->loaded++;
    (void)msg;
    (void)msg_len;
    return 0;
}
static void f_unload(void *ctx, uint32_t prog_id)
{
    struct fake *f = ctx;

    if (!prog_id || !f->loaded)
        abort();
    f->loaded--;
}
static int f_set_port_prog(void *ctx, uint32_t port, uint32_t prog_id)
{
    struct fake *f = ctx;

    if (port >= N_PORTS)
        abort();
    f->port_prog += prog_id != 0;
    return 0;
}

static const struct nicsim_fw_core_ops fake_core = {f_load, f_unload, f_set_port_prog, NULL, NULL};

/* Send one message (header written here), check the reply, return its status; the reply body
 * is left in resp. */
static uint32_t send(struct nicsim_fw *fw, uint8_t type, uint16_t flags, const void *body,
                     size_t len, const void *tail, size_t tail_len, uint8_t *resp)
{
    static uint8_t msg[16 + 64 + (1u << 20)];
    struct nicsim_cmsg_hdr h = {.version = NICSIM_CMSG_VERSION, .type = type, .flags = flags};
    struct nicsim_cmsg_hdr rh;
    size_t rlen;

    if (len + tail_len > sizeof(msg) - sizeof(h))
        abort();
    h.len = (uint32_t)(sizeof(h) + len + tail_len);
    nicsim_cmsg_hdr_put(msg, &h);
    memcpy(msg + sizeof(h), body, len);
    if (tail_len)
        memcpy(msg + sizeof(h) + len, tail, tail_len);
    rlen = nicsim_fw__handle(fw, msg, h.len, resp, FUZZ_CAP);
    nicsim_cmsg_hdr_get(&rh, resp);
    if (rlen < sizeof(rh) || rlen > FUZZ_CAP || rh.len != rlen || (rlen & 7) ||
        rh.version != NICSIM_CMSG_VERSION || rh.type != (type | NICSIM_CMSG_REPLY) ||
        rh.status > NICSIM_CMSG__MAX_STATUS)
        abort();
    /* an error reply explains itself in a NUL-terminated sentence */
    if (rh.status != NICSIM_CMSG_OK && rlen > sizeof(rh) && !memchr(resp + sizeof(rh), 0, rlen))
        abort();
    return rh.status;
}

static void preamble(struct nicsim_fw *fw, struct fake *f, uint8_t *resp)
{
    /* type, key, value, max_entries: ids 1..5 */
    static const uint32_t maps[][4] = {
        {2, 4, 8, 1},  /* array, single entry: direct value access */
        {1, 4, 8, 16}, /* hash */
        {3, 4, 4, 4},  /* prog array (PROG_ARR) */
        {14, 4, 4, 4}, /* devmap */
        {4, 4, 4, 4},  /* perf event array */
    };
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        struct nicsim_cmsg_map_alloc a = {.type = maps[i][0],
                                          .key_size = maps[i][1],
                                          .value_size = maps[i][2],
                                          .max_entries = maps[i][3]};

        if (send(fw, NICSIM_CMSG_MAP_ALLOC, 0, &a, sizeof(a), NULL, 0, resp) != NICSIM_CMSG_OK)
            abort();
        f->n_maps++;
    }
}

/* PROG_LOAD, inline or by DMA: the status, *id the program's id when loaded. */
static uint32_t prog_load(struct nicsim_fw *fw, const uint8_t *img, size_t len, int inline_img,
                          uint8_t *resp, uint32_t *id)
{
    struct nicsim_cmsg_prog_load pl = {.image_len = (uint32_t)len};
    struct nicsim_cmsg_prog_load_reply rep;
    uint32_t st;

    if (!inline_img)
        pl.image_addr = FUZZ_BUS;
    st = send(fw, NICSIM_CMSG_PROG_LOAD, inline_img ? NICSIM_CMSG_F_INLINE : 0, &pl, sizeof(pl),
              inline_img ? img : NULL, inline_img ? len : 0, resp);
    *id = 0;
    if (st == NICSIM_CMSG_OK) {
        nicsim_cmsg_prog_load_reply_get(&rep, resp + sizeof(struct nicsim_cmsg_hdr));
        if (!rep.prog_id || rep.n_slots * 8ull > len)
            abort();
        *id = rep.prog_id;
    }
    return st;
}

/* A loaded program: attach, into the prog array, detach, out, unload. */
static void exercise(struct nicsim_fw *fw, uint32_t id, uint8_t *resp)
{
    struct nicsim_cmsg_xdp at = {.port = 0, .prog_id = id};
    struct nicsim_cmsg_id un = {.id = id};
    struct nicsim_cmsg_map_op op = {.map_id = PROG_ARR, .count = 1, .key_size = 4, .value_size = 4};
    uint8_t req[sizeof(op) + 16] = {0};
    uint32_t key = 1;

    if (send(fw, NICSIM_CMSG_XDP_ATTACH, 0, &at, sizeof(at), NULL, 0, resp) != NICSIM_CMSG_OK)
        abort(); /* a loaded program can run on a port */
    /* element: key padded to 8 bytes, value padded to 8 bytes */
    nicsim_cmsg_map_op_put(req, &op);
    memcpy(req + sizeof(op), &key, 4);
    memcpy(req + sizeof(op) + 8, &id, 4);
    if (send(fw, NICSIM_CMSG_MAP_UPDATE, 0, req, sizeof(req), NULL, 0, resp) != NICSIM_CMSG_OK)
        abort(); /* a loaded program can be a tail call target */
    if (send(fw, NICSIM_CMSG_MAP_DELETE, 0, req, sizeof(op) + 8, NULL, 0, resp) != NICSIM_CMSG_OK)
        abort();
    at.prog_id = 0;
    if (send(fw, NICSIM_CMSG_XDP_DETACH, 0, &at, sizeof(at), NULL, 0, resp) != NICSIM_CMSG_OK)
        abort();
    if (send(fw, NICSIM_CMSG_PROG_UNLOAD, 0, &un, sizeof(un), NULL, 0, resp) != NICSIM_CMSG_OK)
        abort();
}

/* Last verdict of the inline load (for the seed generator). */
static uint32_t last_status;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t resp[FUZZ_CAP];
    struct fake f = {.bar = {.dma = data, .dma_len = size}};
    struct nicsim_fw_hal hal = {
        .ops = &fuzz_hal_ops, .ctx = &f, .core = &fake_core, .core_ctx = &f};
    struct nicsim_fw_opts o = {.sz = sizeof(o),
                               .n_ports = N_PORTS,
                               .n_cores = 2,
                               .map_mem_bytes = 1u << 20,
                               .max_maps = 16,
                               .max_progs = 4,
                               .event_queue_bytes = 4096};
    struct nicsim_fw *fw;
    uint32_t st_inline, st_dma, id_inline, id_dma;

    if (size > (1u << 20))
        return 0;
    fw = nicsim_fw__new(&hal, &o);
    if (!fw)
        abort();
    preamble(fw, &f, resp);
    st_inline = prog_load(fw, data, size, 1, resp, &id_inline);
    st_dma = prog_load(fw, data, size, 0, resp, &id_dma);
    if (st_inline != st_dma || f.loaded != (id_inline != 0) + (id_dma != 0))
        abort(); /* the same image gives the same verdict however it arrives */
    last_status = st_inline;
    if (id_inline)
        exercise(fw, id_inline, resp);
    if (id_dma)
        exercise(fw, id_dma, resp);
    /* Most mutations change the length, which the header must match: load a repaired copy too,
     * so that they reach the map table and slot checks. */
    if (size >= sizeof(struct nicsim_img_hdr)) {
        static uint8_t fixed[1u << 20];
        struct nicsim_img_hdr h;
        size_t len;

        nicsim_img_hdr_get(&h, data);
        h.magic = NICSIM_IMG_MAGIC;
        h.version = NICSIM_IMG_VERSION;
        h.hdr_len = sizeof(h);
        if (h.n_maps > NICSIM_IMG_MAX_MAPS || 4ull * h.n_maps > size - sizeof(h))
            h.n_maps = (uint32_t)((size - sizeof(h)) / 4 < 4 ? (size - sizeof(h)) / 4 : 4);
        h.n_slots = (uint32_t)((size - sizeof(h) - 4u * h.n_maps) / 8);
        len = sizeof(h) + 4u * h.n_maps + 8u * h.n_slots;
        memcpy(fixed, data, len);
        nicsim_img_hdr_put(fixed, &h);
        if (prog_load(fw, fixed, len, 1, resp, &id_inline) == NICSIM_CMSG_OK)
            exercise(fw, id_inline, resp);
    }
    if (f.loaded)
        abort(); /* every program unloaded from the cores */
    nicsim_fw__free(fw);
    return 0;
}

#ifdef NICSIM_FUZZ_SEEDGEN
/* ---------------------------------------------------------------------------------------------
 * Seed corpus: the translator's images of small verified programs. Programs are written in the
 * verifier's output form (LDDW map references are indexes into map_ids).
 */
#include "nicsim/drv.h"

#define CODE(cls, op, src) ((uint8_t)((cls) | (op) | (src)))
#define I(c, d, s, o, i)                                                                           \
    ((struct nicsim_insn){.code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV_K(d, i)         I(CODE(BPF_ALU64, BPF_MOV, BPF_K), d, 0, 0, i)
#define MOV_X(d, s)         I(CODE(BPF_ALU64, BPF_MOV, BPF_X), d, s, 0, 0)
#define ADD_K(d, i)         I(CODE(BPF_ALU64, BPF_ADD, BPF_K), d, 0, 0, i)
#define LDX(sz, d, s, o)    I(CODE(BPF_LDX, BPF_MEM, sz), d, s, o, 0)
#define STX(sz, d, s, o)    I(CODE(BPF_STX, BPF_MEM, sz), d, s, o, 0)
#define ST(sz, d, o, i)     I(CODE(BPF_ST, BPF_MEM, sz), d, 0, o, i)
#define JMP_K(op, d, i, o)  I(CODE(BPF_JMP, op, BPF_K), d, 0, o, i)
#define JMP_X(op, d, s, o)  I(CODE(BPF_JMP, op, BPF_X), d, s, o, 0)
#define CALL(f)             I(CODE(BPF_JMP, BPF_CALL, 0), 0, 0, 0, f)
#define CALL_LOCAL(o)       I(CODE(BPF_JMP, BPF_CALL, 0), 0, 1, 0, o)
#define EXIT()              I(CODE(BPF_JMP, BPF_EXIT, 0), 0, 0, 0, 0)
#define LD_MAP(d, i)        I(0x18, d, 5, 0, i), I(0, 0, 0, 0, 0)
#define LD_MAP_VAL(d, i, o) I(0x18, d, 6, 0, i), I(0, 0, 0, 0, o)
#define LD_IMM64(d, lo, hi) I(0x18, d, 0, 0, lo), I(0, 0, 0, 0, hi)

static const struct nicsim_insn s_pass[] = {MOV_K(0, 2), EXIT()};
/* data / data_end from the context (ctx flags set on the two loads), a bounds check */
static const struct nicsim_insn s_bounds[] = {
    LDX(BPF_W, 2, 1, 0),  LDX(BPF_W, 3, 1, 4), MOV_X(4, 2), ADD_K(4, 14), JMP_X(BPF_JGT, 4, 3, 3),
    LDX(BPF_H, 5, 2, 12), MOV_K(0, 2),         EXIT(),      MOV_K(0, 1),  EXIT()};
static const uint8_t c_bounds[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
static const struct nicsim_insn s_lookup[] = {ST(BPF_W, 10, -4, 0),
                                              MOV_X(2, 10),
                                              ADD_K(2, -4),
                                              LD_MAP(1, 0),
                                              CALL(BPF_FUNC_map_lookup_elem),
                                              JMP_K(BPF_JEQ, 0, 0, 1),
                                              LDX(BPF_DW, 0, 0, 0),
                                              MOV_K(0, 2),
                                              EXIT()};
static const struct nicsim_insn s_global[] = {
    LD_MAP_VAL(1, 0, 4), LDX(BPF_W, 2, 1, 0), ADD_K(2, 1), STX(BPF_W, 1, 2, 0),
    LD_IMM64(3, 1, 2),   MOV_K(0, 2),         EXIT()};
static const struct nicsim_insn s_tail[] = {LD_MAP(2, 0), MOV_K(3, 0), CALL(BPF_FUNC_tail_call),
                                            MOV_K(0, 2), EXIT()};
static const struct nicsim_insn s_redirect[] = {LD_MAP(1, 0), MOV_K(2, 0), MOV_K(3, 0),
                                                CALL(BPF_FUNC_redirect_map), EXIT()};
static const struct nicsim_insn s_subprog[] = {
    MOV_K(6, 0), CALL_LOCAL(2), ADD_K(0, 0), EXIT(), LDX(BPF_W, 2, 1, 12), MOV_K(0, 2), EXIT()};
static const uint8_t c_subprog[] = {0, 0, 0, 0, 1, 0, 0};
static const struct nicsim_insn s_events[] = {MOV_X(6, 1),  ST(BPF_DW, 10, -8, 7),
                                              MOV_X(4, 10), ADD_K(4, -8),
                                              LD_MAP(2, 0), LD_IMM64(3, -1, 0),
                                              MOV_K(5, 8),  CALL(BPF_FUNC_perf_event_output),
                                              MOV_K(0, 2),  EXIT()};

/* the packet grown to the buffer's limits, then a perf record of 512 bytes of stack and all of it
 */
static const struct nicsim_insn s_grow[] = {MOV_X(6, 1),
                                            MOV_K(2, 3456),
                                            CALL(BPF_FUNC_xdp_adjust_tail),
                                            MOV_X(1, 6),
                                            MOV_K(2, -216),
                                            CALL(BPF_FUNC_xdp_adjust_head),
                                            MOV_X(1, 6),
                                            MOV_X(4, 10),
                                            ADD_K(4, -512),
                                            LD_MAP(2, 0),
                                            LD_IMM64(3, -1, 3736),
                                            MOV_K(5, 512),
                                            CALL(BPF_FUNC_perf_event_output),
                                            MOV_K(0, 2),
                                            EXIT()};

static const uint32_t m_array[] = {1}, m_hash[] = {2}, m_prog_array[] = {PROG_ARR},
                      m_devmap[] = {4}, m_perf[] = {5};

struct seed {
    const char *name;
    const struct nicsim_insn *insns;
    uint32_t n;
    const uint8_t *ctx;
    const uint32_t *maps;
    uint32_t n_maps, stack, flags;
};

#define SEED(name, arr, ctx, maps, n_maps, stack, flags)                                           \
    {                                                                                              \
        name, arr, sizeof(arr) / sizeof(arr[0]), ctx, maps, n_maps, stack, flags                   \
    }

static const struct seed seeds[] = {
    SEED("pass", s_pass, NULL, NULL, 0, 0, 0),
    SEED("bounds", s_bounds, c_bounds, NULL, 0, 0, 0),
    SEED("lookup", s_lookup, NULL, m_hash, 1, 8, 0),
    SEED("global", s_global, NULL, m_array, 1, 0, 0),
    SEED("tail", s_tail, NULL, m_prog_array, 1, 0, NICSIM_IMG_F_USES_TAIL_CALL),
    SEED("redirect", s_redirect, NULL, m_devmap, 1, 0, 0),
    SEED("subprog", s_subprog, c_subprog, NULL, 0, 0, 0),
    SEED("events", s_events, NULL, m_perf, 1, 8, 0),
    SEED("grow", s_grow, NULL, m_perf, 1, 512, NICSIM_IMG_F_USES_PKT_WRITE),
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        const struct seed *sd = &seeds[i];
        struct nicsim_drv_xlate x = {.sz = sizeof(x),
                                     .insns = sd->insns,
                                     .n = sd->n,
                                     .ctx = sd->ctx,
                                     .map_ids = sd->maps,
                                     .n_maps = sd->n_maps,
                                     .stack_depth = sd->stack,
                                     .flags = sd->flags,
                                     .name = sd->name};
        struct nicsim_msg msg;
        char path[4096];
        void *img;
        size_t len;
        FILE *f;
        int err = nicsim_drv_translate(&x, &img, &len, &msg);

        if (err) {
            fprintf(stderr, "seed %s: translate: %s\n", sd->name, msg.msg);
            return 1;
        }
        snprintf(path, sizeof(path), "%s/%s", argv[1], sd->name);
        f = fopen(path, "wb");
        if (!f || fwrite(img, 1, len, f) != len || fclose(f)) {
            perror(path);
            return 1;
        }
        /* the seed is only useful if the firmware loads it */
        LLVMFuzzerTestOneInput(img, len);
        if (last_status != NICSIM_CMSG_OK) {
            fprintf(stderr, "seed %s: the firmware refuses the image (status %u)\n", sd->name,
                    last_status);
            return 1;
        }
        free(img);
    }
    return 0;
}
#endif
