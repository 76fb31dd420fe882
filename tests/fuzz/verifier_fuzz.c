/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes as an XDP program through the emulated kernel's verifier, the
 * NIC driver's offload callbacks (insn_hook, finalize, replace_insn / remove_insns, translate) and
 * the firmware's image loader, on the whole stack the offload lifecycle tests use: a kernel, an
 * emulated NIC with two ports (nicsim_nic: firmware, PCIe rings, control client) and the driver
 * bound to it.
 *
 * Input: [u8 ctl][4 x (u8 kind, u8 size)] map definitions, then instruction slots (struct
 * nicsim_insn, 8 bytes each; a trailing partial slot is dropped).
 *   ctl bit 0: the kernel refuses reads of unwritten stack (deny_uninit_stack);
 *   ctl bit 1: the program is loaded BPF_F_XDP_DEV_BOUND_ONLY (bound, not offloaded);
 *   ctl bit 2: attach in HW mode on port 1 instead of port 0 (the other port of the NIC);
 *   ctl bit 3: also put the program into every offloaded prog array (loads it on the NIC);
 *   ctl bits 4-5: verifier log level.
 *   map kind bits 0-1: array, hash, prog array, devmap; bit 7: no map in this fd_array slot.
 *   map size bits 0-1: value size 4 / 8 / 16 / 64 (array, hash; devmap: 4 or 8), bits 2-4:
 *   max_entries 1, 2, 4, 8, 16, 64, 256, 1024; bit 5: hash key of 8 bytes.
 * Each map is created twice, offloaded to port 0 (map_ifindex) and on the host, and the program
 * is loaded twice: with prog_ifindex of port 0 and fd_array naming the offloaded maps, then as a
 * host program with the host maps. An offloaded program that loads is attached in HW mode and
 * detached again; everything is closed and the stack torn down, so LeakSanitizer sees every
 * object the input created.
 *
 * Built with NICSIM_FUZZ_SEEDGEN, the file is instead a program that writes the seed corpus
 * (realistic XDP instruction sequences, in the format above) into the directory it is given, and
 * checks that the offloaded load of every seed that should load does.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/nicdev.h"

#define N_MAPS   4
#define HDR_LEN  (1 + 2 * N_MAPS)
#define LOG_SIZE 4096

enum { MK_ARRAY = 0, MK_HASH, MK_PROG_ARRAY, MK_DEVMAP, MK_NONE = 0x80 };

struct stack {
    struct nicsim_kern *k;
    struct nicsim_nic *nic;
    struct nicsim_drv *drv;
    int ifindex[2];
};

static int stack_up(struct stack *s, uint8_t ctl)
{
    struct nicsim_kern_opts ko = {.sz = sizeof(ko), .deny_uninit_stack = ctl & 1};
    struct nicsim_nic_opts no = {.sz = sizeof(no),
                                 .n_ports = 2,
                                 .n_cores = 1,
                                 .map_mem_bytes = 1u << 20,
                                 .max_maps = 16,
                                 .max_progs = 8,
                                 .event_queue_bytes = 4096};
    struct nicsim_drv_opts d = {.sz = sizeof(d), .prefix = "fz"};

    memset(s, 0, sizeof(*s));
    s->k = nicsim_kern__new(&ko);
    s->nic = s->k ? nicsim_nic__new(&no) : NULL;
    s->drv = s->nic ? nicsim_drv__probe(s->k, nicsim_nic__ctrl(s->nic), &d) : NULL;
    if (!s->drv)
        return -1;
    for (uint32_t p = 0; p < 2; p++)
        s->ifindex[p] = nicsim_drv__netdev(s->drv, p)->ifindex;
    return 0;
}

static void stack_down(struct stack *s)
{
    nicsim_drv__remove(s->drv);
    nicsim_nic__free(s->nic);
    nicsim_kern__free(s->k);
}

/* Map definition i of the input as a MAP_CREATE attribute; 0 if the slot holds no map. */
static int map_def(uint8_t kind, uint8_t size, uint32_t ifindex,
                   struct nicsim_kern_map_create_attr *a)
{
    static const uint32_t value_sizes[4] = {4, 8, 16, 64};
    static const uint32_t entries[8] = {1, 2, 4, 8, 16, 64, 256, 1024};

    if (kind & MK_NONE)
        return 0;
    memset(a, 0, sizeof(*a));
    a->sz = sizeof(*a);
    a->key_size = 4;
    a->value_size = value_sizes[size & 3];
    a->max_entries = entries[(size >> 2) & 7];
    a->map_ifindex = ifindex;
    a->map_name = "fz";
    switch (kind & 3) {
    case MK_ARRAY:
        a->map_type = BPF_MAP_TYPE_ARRAY;
        break;
    case MK_HASH:
        a->map_type = BPF_MAP_TYPE_HASH;
        a->key_size = size & 0x20 ? 8 : 4;
        break;
    case MK_PROG_ARRAY:
        a->map_type = BPF_MAP_TYPE_PROG_ARRAY;
        a->value_size = 4;
        break;
    default:
        a->map_type = BPF_MAP_TYPE_DEVMAP;
        a->value_size = size & 1 ? 8 : 4;
        break;
    }
    return 1;
}

static int load(struct stack *s, const struct nicsim_insn *insns, uint32_t n, const int *fds,
                uint32_t ifindex, uint32_t flags, uint32_t log_level, char *log)
{
    struct nicsim_kern_prog_load_attr a = {
        .sz = sizeof(a),
        .prog_type = BPF_PROG_TYPE_XDP,
        .expected_attach_type = BPF_XDP,
        .insns = insns,
        .insn_cnt = n,
        .license = "GPL",
        .prog_name = "fuzz",
        .prog_flags = flags,
        .prog_ifindex = ifindex,
        .fd_array = fds,
        .fd_array_cnt = N_MAPS,
        .log_buf = log,
        .log_size = LOG_SIZE,
        .log_level = log_level,
    };
    int fd = nicsim_kern_prog_load(s->k, &a);

    if (fd < 0 && (a.err_insn < -1 || a.err_insn >= (int32_t)n || !memchr(log, 0, LOG_SIZE)))
        abort(); /* a refusal names an instruction of the program (or none) and a log */
    return fd;
}

/* Offloaded: attach in HW mode (the driver loads the image into the firmware), put it into the
 * offloaded prog arrays, take it out, detach. */
static void exercise_offloaded(struct stack *s, int fd, uint8_t ctl, const int *fds)
{
    struct nicsim_msg ea = {.index = -1};
    struct nicsim_kern_xdp_query q;
    int port = ctl & 4 ? 1 : 0;
    uint32_t key = 0;

    if (ctl & 8) {
        for (int i = 0; i < N_MAPS; i++) {
            struct nicsim_bpf_map *m = fds[i] >= 0 ? nicsim_kern_map_by_fd(s->k, fds[i]) : NULL;

            if (m && m->map_type == BPF_MAP_TYPE_PROG_ARRAY &&
                nicsim_kern_map_update_elem(s->k, fds[i], &key, &fd, BPF_ANY) == 0)
                nicsim_kern_map_delete_elem(s->k, fds[i], &key);
        }
    }
    if (nicsim_kern_xdp_attach(s->k, s->ifindex[port], fd, -1, XDP_FLAGS_HW_MODE, &ea))
        return;
    if (nicsim_kern_xdp_query(s->k, s->ifindex[port], &q) || q.attach_mode != XDP_ATTACHED_HW)
        abort(); /* attached, so the query shows it */
    if (nicsim_kern_xdp_attach(s->k, s->ifindex[port], -1, -1, XDP_FLAGS_HW_MODE, &ea))
        abort(); /* detaching what is attached cannot fail */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char log[LOG_SIZE];
    struct nicsim_insn *insns;
    struct stack s;
    int off_fds[N_MAPS], host_fds[N_MAPS], fd;
    uint32_t n, flags;
    uint8_t ctl;

    if (size < HDR_LEN + sizeof(struct nicsim_insn))
        return 0;
    ctl = data[0];
    n = (uint32_t)((size - HDR_LEN) / sizeof(struct nicsim_insn));
    insns = malloc(n * sizeof(*insns)); /* its own allocation: ASan sees reads past the end */
    if (!insns)
        return 0;
    memcpy(insns, data + HDR_LEN, n * sizeof(*insns));
    if (stack_up(&s, ctl))
        abort();
    for (int i = 0; i < N_MAPS; i++) {
        struct nicsim_kern_map_create_attr a;

        off_fds[i] = host_fds[i] = -1;
        if (!map_def(data[1 + 2 * i], data[2 + 2 * i], (uint32_t)s.ifindex[0], &a))
            continue;
        off_fds[i] = nicsim_kern_map_create(s.k, &a, NULL);
        a.map_ifindex = 0;
        host_fds[i] = nicsim_kern_map_create(s.k, &a, NULL);
    }

    flags = ctl & 2 ? BPF_F_XDP_DEV_BOUND_ONLY : 0;
    fd = load(&s, insns, n, off_fds, (uint32_t)s.ifindex[0], flags, (ctl >> 4) & 3, log);
    if (fd >= 0) {
        size_t len = 0;

        if (!(ctl & 2)) {
            if (!nicsim_drv__image(nicsim_kern_prog_by_fd(s.k, fd), &len) || !len)
                abort(); /* an offloaded program that loaded has been translated */
            exercise_offloaded(&s, fd, ctl, off_fds);
        }
        nicsim_kern_close(s.k, fd);
    }
    fd = load(&s, insns, n, host_fds, 0, 0, (ctl >> 4) & 3, log);
    if (fd >= 0)
        nicsim_kern_close(s.k, fd);

    for (int i = 0; i < N_MAPS; i++) {
        if (off_fds[i] >= 0)
            nicsim_kern_close(s.k, off_fds[i]);
        if (host_fds[i] >= 0)
            nicsim_kern_close(s.k, host_fds[i]);
    }
    stack_down(&s);
    free(insns);
    return 0;
}

#ifdef NICSIM_FUZZ_SEEDGEN
/* ---------------------------------------------------------------------------------------------
 * Seed corpus: realistic XDP programs, each with the maps it expects.
 */
#define CODE(cls, op, src) ((uint8_t)((cls) | (op) | (src)))
#define I(c, d, s, o, i)                                                                           \
    ((struct nicsim_insn){.code = (c), .dst = (d), .src = (s), .off = (o), .imm = (i)})
#define MOV_K(d, i)        I(CODE(BPF_ALU64, BPF_MOV, BPF_K), d, 0, 0, i)
#define MOV_X(d, s)        I(CODE(BPF_ALU64, BPF_MOV, BPF_X), d, s, 0, 0)
#define ADD_K(d, i)        I(CODE(BPF_ALU64, BPF_ADD, BPF_K), d, 0, 0, i)
#define ADD_X(d, s)        I(CODE(BPF_ALU64, BPF_ADD, BPF_X), d, s, 0, 0)
#define AND_K(d, i)        I(CODE(BPF_ALU64, BPF_AND, BPF_K), d, 0, 0, i)
#define LDX(sz, d, s, o)   I(CODE(BPF_LDX, BPF_MEM, sz), d, s, o, 0)
#define STX(sz, d, s, o)   I(CODE(BPF_STX, BPF_MEM, sz), d, s, o, 0)
#define ST(sz, d, o, i)    I(CODE(BPF_ST, BPF_MEM, sz), d, 0, o, i)
#define JMP_K(op, d, i, o) I(CODE(BPF_JMP, op, BPF_K), d, 0, o, i)
#define JMP_X(op, d, s, o) I(CODE(BPF_JMP, op, BPF_X), d, s, o, 0)
#define JA(o)              I(CODE(BPF_JMP, BPF_JA, 0), 0, 0, o, 0)
#define CALL(f)            I(CODE(BPF_JMP, BPF_CALL, 0), 0, 0, 0, f)
#define CALL_LOCAL(o)      I(CODE(BPF_JMP, BPF_CALL, 0), 0, 1, 0, o)
#define EXIT()             I(CODE(BPF_JMP, BPF_EXIT, 0), 0, 0, 0, 0)
#define XADD_DW(d, s, o)   I(CODE(BPF_STX, BPF_ATOMIC, BPF_DW), d, s, o, BPF_ADD)
/* LDDW of map fd_array[i] (handle) / its value at offset o: two slots. */
#define LD_MAP(d, i)        I(0x18, d, 5, 0, i), I(0, 0, 0, 0, 0)
#define LD_MAP_VAL(d, i, o) I(0x18, d, 6, 0, i), I(0, 0, 0, 0, o)

/* map kinds and sizes: array 1 x 8 bytes, hash 8 x 8, prog array 4, devmap 4 (4-byte values) */
static const uint8_t default_maps[2 * N_MAPS] = {MK_ARRAY,      1 | 0 << 2, MK_HASH,   1 | 3 << 2,
                                                 MK_PROG_ARRAY, 2 << 2,     MK_DEVMAP, 2 << 2};

/* r2 = data, r3 = data_end; if (data + 14 > data_end) goto +o */
#define ETH_BOUNDS(o)                                                                              \
    LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), MOV_X(4, 2), ADD_K(4, 14), JMP_X(BPF_JGT, 4, 3, o)
/* *(u32 *)(fp - 4) = 0; r2 = fp - 4; r1 = map i; r0 = lookup */
#define LOOKUP_KEY0(i)                                                                             \
    ST(BPF_W, 10, -4, 0), MOV_X(2, 10), ADD_K(2, -4), LD_MAP(1, i), CALL(BPF_FUNC_map_lookup_elem)

static const struct nicsim_insn s_pass[] = {MOV_K(0, XDP_PASS), EXIT()};

static const struct nicsim_insn s_eth[] = {
    /* r5 = eth->h_proto; pass IPv4, drop the rest and runts */
    ETH_BOUNDS(5),      LDX(BPF_H, 5, 2, 12),
    MOV_K(0, XDP_PASS), JMP_K(BPF_JEQ, 5, 0x0008, 1),
    MOV_K(0, XDP_DROP), EXIT(),
    MOV_K(0, XDP_DROP), EXIT()};

static const struct nicsim_insn s_count[] = {LOOKUP_KEY0(0),   JMP_K(BPF_JEQ, 0, 0, 2), MOV_K(1, 1),
                                             XADD_DW(0, 1, 0), MOV_K(0, XDP_PASS),      EXIT()};

static const struct nicsim_insn s_hash[] = {
    /* key = ingress_ifindex, value = 1: update, then look up and read it */
    LDX(BPF_W, 6, 1, 12),
    STX(BPF_W, 10, 6, -4),
    ST(BPF_DW, 10, -16, 1),
    MOV_X(2, 10),
    ADD_K(2, -4),
    MOV_X(3, 10),
    ADD_K(3, -16),
    LD_MAP(1, 1),
    MOV_K(4, BPF_ANY),
    CALL(BPF_FUNC_map_update_elem),
    LOOKUP_KEY0(1),
    JMP_K(BPF_JEQ, 0, 0, 1),
    LDX(BPF_DW, 0, 0, 0),
    MOV_K(0, XDP_PASS),
    EXIT()};

static const struct nicsim_insn s_loop[] = {
    /* sum the first 8 packet bytes, one bounds check per byte */
    LDX(BPF_W, 2, 1, 0), LDX(BPF_W, 3, 1, 4), MOV_K(6, 0), MOV_K(7, 0),
    /* loop: */
    MOV_X(4, 2), ADD_K(4, 1), JMP_X(BPF_JGT, 4, 3, 5), LDX(BPF_B, 5, 2, 0), ADD_X(7, 5),
    ADD_K(2, 1), ADD_K(6, 1), JMP_K(BPF_JLT, 6, 8, -8), MOV_X(0, 7), AND_K(0, 3), EXIT()};

static const struct nicsim_insn s_tail[] = {LD_MAP(2, 2), MOV_K(3, 0), CALL(BPF_FUNC_tail_call),
                                            MOV_K(0, XDP_PASS), EXIT()};

static const struct nicsim_insn s_redirect[] = {LD_MAP(1, 3), MOV_K(2, 0), MOV_K(3, XDP_PASS),
                                                CALL(BPF_FUNC_redirect_map), EXIT()};

static const struct nicsim_insn s_subprog[] = {
    /* main: r0 = f(ctx); f: bounds check, return XDP_DROP or XDP_PASS */
    CALL_LOCAL(1), EXIT(), ETH_BOUNDS(2), MOV_K(0, XDP_PASS), EXIT(), MOV_K(0, XDP_DROP), EXIT()};

static const struct nicsim_insn s_global[] = {
    /* a global counter through direct value access */
    LD_MAP_VAL(1, 0, 0),  LDX(BPF_DW, 2, 1, 0), ADD_K(2, 1),
    STX(BPF_DW, 1, 2, 0), MOV_K(0, XDP_PASS),   EXIT()};

static const struct nicsim_insn s_adjust[] = {
    /* pop 4 bytes, then the packet pointers must be reloaded */
    MOV_X(6, 1),
    MOV_K(2, 4),
    CALL(BPF_FUNC_xdp_adjust_head),
    JMP_K(BPF_JNE, 0, 0, 9),
    LDX(BPF_W, 2, 6, 0),
    LDX(BPF_W, 3, 6, 4),
    MOV_X(4, 2),
    ADD_K(4, 1),
    JMP_X(BPF_JGT, 4, 3, 2),
    ST(BPF_B, 2, 0, 0),
    JA(0),
    MOV_K(0, XDP_TX),
    EXIT(),
    MOV_K(0, XDP_ABORTED),
    EXIT()};

static const struct nicsim_insn s_stack[] = {
    /* spill and fill, a branch on a value read back from the stack */
    STX(BPF_DW, 10, 1, -8),  LDX(BPF_DW, 1, 10, -8), LDX(BPF_W, 2, 1, 16),
    STX(BPF_W, 10, 2, -12),  LDX(BPF_W, 3, 10, -12), MOV_K(0, XDP_PASS),
    JMP_K(BPF_JGT, 3, 3, 1), MOV_K(0, XDP_DROP),     EXIT()};

static const struct nicsim_insn s_may_goto[] = {
    /* a may_goto loop over a masked index into the array value, narrow spills and fills, a
     * 32-bit comparison and a read of the map's max_entries through the map pointer */
    LOOKUP_KEY0(0),
    JMP_K(BPF_JEQ, 0, 0, 11),
    MOV_X(6, 0),
    MOV_K(7, 0),
    I(CODE(BPF_JMP, 0xe0, BPF_K), 0, 0, 8, 0), /* may_goto +8 */
    STX(BPF_W, 10, 7, -16),
    LDX(BPF_W, 8, 10, -16),
    AND_K(8, 7),
    MOV_X(2, 6),
    ADD_X(2, 8),
    LDX(BPF_B, 3, 2, 0),
    ADD_K(7, 1),
    I(CODE(BPF_JMP32, BPF_JLT, BPF_K), 7, 0, -9, 100), /* if w7 < 100 goto may_goto */
    LD_MAP(1, 0),
    LDX(BPF_W, 0, 1, 76), /* max_entries */
    AND_K(0, 3),
    EXIT()};

struct seed {
    const char *name;
    uint8_t ctl;
    const struct nicsim_insn *insns;
    size_t n;
    int loads; /* the offloaded load must succeed */
};

#define SEED(name, ctl, arr, loads)                                                                \
    {                                                                                              \
        name, ctl, arr, sizeof(arr) / sizeof(arr[0]), loads                                        \
    }

static const struct seed seeds[] = {
    SEED("pass", 0, s_pass, 1),         SEED("eth", 0x08, s_eth, 1),
    SEED("count", 0x10, s_count, 1),    SEED("hash", 0x04, s_hash, 1),
    SEED("loop", 0x20, s_loop, 1),      SEED("tail", 0x08, s_tail, 1),
    SEED("redirect", 0, s_redirect, 1), SEED("subprog", 0x01, s_subprog, 1),
    SEED("global", 0, s_global, 1),     SEED("adjust", 0x02, s_adjust, 1),
    SEED("stack", 0x11, s_stack, 1),    SEED("may_goto", 0, s_may_goto, 1),
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s SEED_DIR\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
        const struct seed *sd = &seeds[i];
        size_t len = HDR_LEN + sd->n * sizeof(struct nicsim_insn);
        uint8_t *buf = malloc(len);
        char path[4096];
        FILE *f;

        if (!buf)
            return 1;
        buf[0] = sd->ctl;
        memcpy(buf + 1, default_maps, sizeof(default_maps));
        memcpy(buf + HDR_LEN, sd->insns, sd->n * sizeof(struct nicsim_insn));
        snprintf(path, sizeof(path), "%s/%s", argv[1], sd->name);
        f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
            perror(path);
            return 1;
        }
        if (sd->loads) {
            /* the seed is only useful if it goes deep: check the offloaded load succeeds */
            struct stack s;
            int fds[N_MAPS], fd;
            static char log[LOG_SIZE];

            if (stack_up(&s, sd->ctl))
                return 1;
            for (int m = 0; m < N_MAPS; m++) {
                struct nicsim_kern_map_create_attr a;

                map_def(default_maps[2 * m], default_maps[2 * m + 1], (uint32_t)s.ifindex[0], &a);
                fds[m] = nicsim_kern_map_create(s.k, &a, NULL);
            }
            fd = load(&s, sd->insns, (uint32_t)sd->n, fds, (uint32_t)s.ifindex[0],
                      sd->ctl & 2 ? BPF_F_XDP_DEV_BOUND_ONLY : 0, 1, log);
            if (fd < 0) {
                fprintf(stderr, "seed %s does not load (%d): %s\n", sd->name, fd, log);
                return 1;
            }
            stack_down(&s);
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
    }
    return 0;
}
#endif
