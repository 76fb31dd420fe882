/* SPDX-License-Identifier: MIT */
/* Program loading: copy decoded slots into executable form, resolve helpers, refuse what the
 * core does not execute. */
#include "core_internal.h"
#include "nicsim/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int refuse(struct nicsim_msg *err, long index,
                                                        const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    nicsim_msg_vset(err, index, fmt, ap);
    va_end(ap);
    errno = EINVAL;
    return -EINVAL;
}

/* Checks one slot against what the core can run; fills x->target. */
static int resolve(struct nicsim_prog *p, const struct nicsim_isa_insn *in, long pc,
                   struct nicsim_xinsn *x, struct nicsim_msg *err)
{
    switch (nicsim_isa_op_class(in->op)) {
    case NICSIM_CLASS_LEGACY:
        return refuse(err, pc,
                      "insn %ld: legacy packet load %s (LD_ABS/LD_IND) is not supported by the "
                      "NIC core (not available to XDP programs)",
                      pc, nicsim_isa_op_name(in->op));
    case NICSIM_CLASS_LDDW:
        if (in->op == NICSIM_OP_LDDW && in->src != NICSIM_LDDW_IMM64)
            return refuse(err, pc,
                          "insn %ld: lddw with unresolved source type %u (a map or BTF reference "
                          "must be resolved before loading)",
                          pc, in->src);
        return 0;
    case NICSIM_CLASS_CALL:
        if (in->op == NICSIM_OP_CALL_KFUNC)
            return refuse(err, pc, "insn %ld: kfunc call (BTF id %d) is not supported", pc,
                          in->imm);
        if (in->op == NICSIM_OP_CALL_HELPER) {
            if (in->imm < 0 || in->imm >= NICSIM_MAX_HELPERS || !p->helpers[in->imm].fn)
                return refuse(err, pc, "insn %ld: unsupported helper %d", pc, in->imm);
            x->target = in->imm;
        }
        return 0;
    case NICSIM_CLASS_JCOND:
    case NICSIM_CLASS_JA:
    case NICSIM_CLASS_CALL_LOCAL:
        x->target = (int32_t)nicsim_isa_branch_target(in, pc);
        if (x->target < 0 || (size_t)x->target >= p->n)
            return refuse(err, pc, "insn %ld: %s target %d outside the program", pc,
                          nicsim_isa_op_name(in->op), x->target);
        return 0;
    default:
        if (in->op == NICSIM_OP_INVALID || in->op >= NICSIM_OP__COUNT)
            return refuse(err, pc, "insn %ld: invalid instruction", pc);
        return 0;
    }
}

struct nicsim_prog *nicsim_prog__load(const struct nicsim_isa_insn *insns, size_t n,
                                      const struct nicsim_prog_opts *opts, struct nicsim_msg *err)
{
    struct nicsim_prog_opts o = {0};

    if (err) {
        err->index = -1;
        err->msg[0] = 0;
    }
    if (opts && nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        refuse(err, -1, "program options: size %zu with unknown non-zero fields", opts->sz);
        return NULL;
    }
    opts = opts ? &o : NULL;
    if (!insns || n == 0 || n > NICSIM_ISA_MAX_INSNS) {
        refuse(err, -1, "a program of %zu slots cannot be loaded", n);
        return NULL;
    }
    struct nicsim_prog *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->code = calloc(n, sizeof(*p->code));
    p->src = malloc(n * sizeof(*p->src));
    if (!p->code || !p->src) {
        free(p->code);
        free(p->src);
        free(p);
        errno = ENOMEM;
        return NULL;
    }
    p->n = n;
    memcpy(p->src, insns, n * sizeof(*p->src));
    if (opts && opts->timing)
        p->timing = *opts->timing;
    else
        nicsim_timing_default(&p->timing);
    if (opts && opts->helpers)
        memcpy(p->helpers, opts->helpers, sizeof(p->helpers));
    snprintf(p->name, sizeof(p->name), "%s", opts && opts->name ? opts->name : "prog");
    static uint64_t next_serial;
    p->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
    if (opts && opts->n_regions) {
        if (opts->n_regions > NICSIM_MAX_GRANTS || !opts->regions) {
            refuse(err, -1, "%u granted regions: a program may be granted at most %d",
                   opts->n_regions, NICSIM_MAX_GRANTS);
            nicsim_prog__free(p);
            errno = EINVAL;
            return NULL;
        }
        p->grants = malloc(opts->n_regions * sizeof(*p->grants));
        if (!p->grants) {
            nicsim_prog__free(p);
            errno = ENOMEM;
            return NULL;
        }
        for (uint32_t i = 0; i < opts->n_regions; i++) {
            if (opts->regions[i] == 0 || opts->regions[i] >= NICSIM_MAX_REGIONS) {
                refuse(err, -1, "granted region %u is not a region number (1..%d)",
                       opts->regions[i], NICSIM_MAX_REGIONS - 1);
                nicsim_prog__free(p);
                errno = EINVAL;
                return NULL;
            }
            p->grants[i] = opts->regions[i];
        }
        p->n_grants = opts->n_regions;
    }

    for (size_t pc = 0; pc < n; pc++) {
        const struct nicsim_isa_insn *in = &insns[pc];
        struct nicsim_xinsn *x = &p->code[pc];
        x->op = (uint8_t)in->op;
        x->dst = in->dst;
        x->src = in->src;
        x->size = in->size;
        x->off = in->off;
        x->imm = in->imm;
        x->imm64 = in->imm64;
        if (resolve(p, in, (long)pc, x, err) < 0) {
            nicsim_prog__free(p);
            errno = EINVAL;
            return NULL;
        }
        nicsim_timing__annotate(&p->timing, in, x);
    }
    return p;
}

void nicsim_prog__free(struct nicsim_prog *prog)
{
    if (!prog)
        return;
    free(prog->code);
    free(prog->src);
    free(prog->grants);
    free(prog);
}

const struct nicsim_isa_insn *nicsim_prog__insns(const struct nicsim_prog *prog)
{
    return prog->src;
}

size_t nicsim_prog__len(const struct nicsim_prog *prog)
{
    return prog->n;
}
const char *nicsim_prog__name(const struct nicsim_prog *prog)
{
    return prog->name;
}
