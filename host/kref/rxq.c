/* SPDX-License-Identifier: MIT */
/*
 * Writes to ctx->rx_queue_index in the kernel's copy of a program.
 *
 * The kernel lets only offloaded XDP programs write rx_queue_index (net/core/filter.c,
 * xdp_is_valid_access); the comparison loads the program unoffloaded, so the kernel would refuse
 * it. Those stores are found here (a may-analysis of which registers and 8-byte stack slots can
 * hold the context pointer, over every path, through bpf-to-bpf calls) and replaced, in the
 * instructions libbpf hands the kernel after its relocations, by `ja +0`: a no-op of the same
 * length, so no jump moves. libbpf's prog_prepare_load_fn of a custom section handler is the
 * only point where relocated instructions may be replaced, so the object is opened with handlers
 * for its sections (type XDP, as the NIC loads them).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "nicsim/kref.h"

#include "kref_rxq.h"

#define RXQ_OFF 16 /* offsetof(struct xdp_md, rx_queue_index) */

struct rxq_state {
    uint16_t regs;  /* bit r: r may hold the context pointer */
    uint64_t slots; /* bit s: the 8-byte stack slot at r10 - 8 * (s + 1) may hold it */
    bool seen;
};

static bool merge(struct rxq_state *to, uint16_t regs, uint64_t slots)
{
    bool changed = !to->seen || (to->regs | regs) != to->regs || (to->slots | slots) != to->slots;

    to->regs |= regs;
    to->slots |= slots;
    to->seen = true;
    return changed;
}

static int slot_of(int16_t off)
{
    return off < 0 && off >= -512 && off % 8 == 0 ? (-off / 8) - 1 : -1;
}

size_t nicsim_kref_rxq_writes(const struct bpf_insn *insns, size_t n, uint8_t *mark)
{
    struct rxq_state *st = calloc(n ? n : 1, sizeof(*st));
    size_t *work = calloc(n ? n : 1, sizeof(*work)), nw = 0, count = 0;
    bool *queued = calloc(n ? n : 1, sizeof(*queued));
    uint8_t *own = mark ? NULL : calloc(n ? n : 1, 1);

    if (!mark)
        mark = own;
    if (!st || !work || !queued || !mark || !n)
        goto out;
    memset(mark, 0, n);
    merge(&st[0], 1u << 1, 0);
    work[nw++] = 0;
    queued[0] = true;
    while (nw) {
        size_t i = work[--nw];
        const struct bpf_insn *in = &insns[i];
        uint16_t regs = st[i].regs;
        uint64_t slots = st[i].slots;
        uint8_t cls = in->code & 0x07, op = in->code & 0xf0, mode = in->code & 0xe0;
        size_t succ[2];
        int nsucc = 1;

        queued[i] = false;
        succ[0] = i + 1;
        if (in->dst_reg > 10 || in->src_reg > 10)
            continue;
        switch (cls) {
        case BPF_ALU:
        case BPF_ALU64:
            if (cls == BPF_ALU64 && in->code == (BPF_ALU64 | BPF_MOV | BPF_X) && !in->off)
                regs = (uint16_t)((regs & ~(1u << in->dst_reg)) |
                                  (((regs >> in->src_reg) & 1u) << in->dst_reg));
            else
                regs &= (uint16_t) ~(1u << in->dst_reg);
            break;
        case BPF_LD:
            regs &= (uint16_t) ~(1u << in->dst_reg);
            if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
                succ[0] = i + 2;
            break;
        case BPF_LDX: {
            int s = in->src_reg == 10 && (in->code & 0x18) == BPF_DW ? slot_of(in->off) : -1;
            bool ctx = s >= 0 && (slots >> s) & 1u;

            regs = (uint16_t)((regs & ~(1u << in->dst_reg)) | ((uint16_t)ctx << in->dst_reg));
            break;
        }
        case BPF_ST:
        case BPF_STX:
            if (mode == BPF_MEM && (in->code & 0x18) == BPF_W && in->off == RXQ_OFF &&
                (regs >> in->dst_reg) & 1u && !mark[i]) {
                mark[i] = 1;
                count++;
            }
            if (in->dst_reg == 10 && mode == BPF_MEM) {
                int s = slot_of(in->off & ~7);

                if (s >= 0) {
                    bool ctx = cls == BPF_STX && (in->code & 0x18) == BPF_DW &&
                               slot_of(in->off) == s && (regs >> in->src_reg) & 1u;

                    slots = (slots & ~(1ull << s)) | ((uint64_t)ctx << s);
                }
            }
            if (mode == BPF_ATOMIC && (in->imm & BPF_FETCH))
                regs &= (uint16_t) ~(1u << (in->imm == BPF_CMPXCHG ? 0 : in->src_reg));
            break;
        case BPF_JMP:
        case BPF_JMP32:
            if (op == BPF_EXIT) {
                nsucc = 0;
            } else if (op == BPF_CALL) {
                if (cls == BPF_JMP && in->src_reg == BPF_PSEUDO_CALL) {
                    long long t = (long long)i + in->imm + 1;

                    if (t >= 0 && (size_t)t < n && merge(&st[t], regs & 0x3e, 0) && !queued[t]) {
                        work[nw++] = (size_t)t;
                        queued[t] = true;
                    }
                }
                regs &= (uint16_t)~0x3fu;
            } else if (op == BPF_JA) {
                succ[0] = (size_t)((long long)i + 1 + (cls == BPF_JMP32 ? in->imm : in->off));
            } else {
                succ[1] = (size_t)((long long)i + 1 + in->off);
                nsucc = 2;
            }
            break;
        default:
            break;
        }
        for (int k = 0; k < nsucc; k++) {
            size_t t = succ[k];

            if (t < n && merge(&st[t], regs, slots) && !queued[t]) {
                work[nw++] = t;
                queued[t] = true;
            }
        }
    }
out:
    free(own);
    free(st);
    free(work);
    free(queued);
    return count;
}

/* libbpf_prepare_prog_load's part that matters to XDP (the handler replaces libbpf's own). */
static int rxq_prepare(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
    struct nicsim_kref_rxq *r = (struct nicsim_kref_rxq *)cookie;
    size_t n = bpf_program__insn_cnt(prog), found;
    struct bpf_insn *insns;
    uint8_t *mark;

    if (!strncmp(bpf_program__section_name(prog), "xdp.frags", 9))
        opts->prog_flags |= BPF_F_XDP_HAS_FRAGS;
    insns = malloc((n ? n : 1) * sizeof(*insns));
    mark = malloc(n ? n : 1);
    if (!insns || !mark) {
        free(insns);
        free(mark);
        return -ENOMEM;
    }
    memcpy(insns, bpf_program__insns(prog), n * sizeof(*insns));
    found = nicsim_kref_rxq_writes(insns, n, mark);
    for (size_t i = 0; found && i < n; i++)
        if (mark[i])
            insns[i] = (struct bpf_insn){.code = BPF_JMP | BPF_JA}; /* ja +0 */
    if (found && prog == r->prog)
        r->removed += found;
    else if (found)
        r->removed_others += found;
    int rc = found ? bpf_program__set_insns(prog, insns, n) : 0;
    free(insns);
    free(mark);
    return rc;
}

int nicsim_kref_rxq_register(struct nicsim_kref_rxq *r, const char *const *secs, size_t n)
{
    LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .cookie = (long)r,
                .prog_prepare_load_fn = rxq_prepare);

    for (size_t i = 0; i < n && r->n_handlers < NICSIM_KREF_RXQ_MAX_SECS; i++) {
        bool dup = false;
        int id;

        for (size_t j = 0; j < i; j++)
            dup |= !strcmp(secs[j], secs[i]);
        if (dup)
            continue;
        id = libbpf_register_prog_handler(secs[i], BPF_PROG_TYPE_XDP, BPF_XDP, &ho);
        if (id < 0)
            return id;
        r->handlers[r->n_handlers++] = id;
    }
    return 0;
}

void nicsim_kref_rxq_unregister(struct nicsim_kref_rxq *r)
{
    while (r->n_handlers)
        libbpf_unregister_prog_handler(r->handlers[--r->n_handlers]);
}
