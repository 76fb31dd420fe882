/* SPDX-License-Identifier: MIT */
/*
 * Disassembler to the conformance-suite syntax that asm.c reads. Jump and local-call targets are
 * written as relative offsets (`+N` / `-N`), so every line stands alone and reassembles to the
 * same bytes.
 */
#include "isa_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Small values in decimal, the rest as the 32-bit pattern in hex (what the assembler reads). */
static void fmt_imm(char *b, size_t len, int32_t v)
{
    if (v >= -65535 && v <= 65535)
        snprintf(b, len, "%" PRId32, v);
    else
        snprintf(b, len, "0x%" PRIx32, (uint32_t)v);
}

static void fmt_mem(char *b, size_t len, unsigned reg, int16_t off)
{
    if (off == 0)
        snprintf(b, len, "[%%r%u]", reg);
    else
        snprintf(b, len, "[%%r%u%+d]", reg, (int)off);
}

int nicsim_disasm_insn(const struct nicsim_insn *raw, size_t avail, char *buf, size_t len)
{
    if (!raw || avail == 0 || !buf || len == 0)
        return -EINVAL;

    struct nicsim_isa_insn d;
    struct nicsim_msg err;
    int slots = nicsim_isa_decode_one(raw, avail, &d, &err);
    if (slots < 0) {
        snprintf(buf, len, "<invalid: %s>", err.msg);
        return slots;
    }

    const struct isa_opinfo *info = isa_info(d.op);
    const char *m = nicsim_isa_op_name(d.op);
    char a[48], b[48];
    int w;
    switch (info->fmt) {
    case FMT_ALU_K:
        fmt_imm(a, sizeof(a), d.imm);
        w = snprintf(buf, len, "%s %%r%u, %s", m, d.dst, a);
        break;
    case FMT_ALU_X:
        w = snprintf(buf, len, "%s %%r%u, %%r%u", m, d.dst, d.src);
        break;
    case FMT_ALU_1:
        w = snprintf(buf, len, "%s %%r%u", m, d.dst);
        break;
    case FMT_JCOND_K:
        fmt_imm(a, sizeof(a), d.imm);
        w = snprintf(buf, len, "%s %%r%u, %s, %+d", m, d.dst, a, (int)d.off);
        break;
    case FMT_JCOND_X:
        w = snprintf(buf, len, "%s %%r%u, %%r%u, %+d", m, d.dst, d.src, (int)d.off);
        break;
    case FMT_JA:
        w = snprintf(buf, len, "%s %+d", m, (int)d.off); /* ja, may_goto */
        break;
    case FMT_JA32:
        w = snprintf(buf, len, "ja32 %+" PRId32, d.imm);
        break;
    case FMT_CALL_IMM:
        w = snprintf(buf, len, "%s %" PRId32, m, d.imm);
        break;
    case FMT_CALL_LOCAL:
        w = snprintf(buf, len, "call local %+" PRId32, d.imm);
        break;
    case FMT_CALLX: /* upstream's spelling: the register operand makes it a callx */
        w = snprintf(buf, len, "call %%r%u", d.dst);
        break;
    case FMT_EXIT:
        w = snprintf(buf, len, "exit");
        break;
    case FMT_LDDW: {
        const char *kind = nicsim_isa_lddw_kind_name(d.src);
        if (d.imm64 <= 65535)
            snprintf(a, sizeof(a), "%" PRIu64, d.imm64);
        else
            snprintf(a, sizeof(a), "0x%" PRIx64, d.imm64);
        w = snprintf(buf, len, "lddw %%r%u, %s%s%s", d.dst, kind ? kind : "", kind ? " " : "", a);
        break;
    }
    case FMT_LDABS:
        fmt_imm(a, sizeof(a), d.imm);
        w = snprintf(buf, len, "%s %s", m, a);
        break;
    case FMT_LDIND:
        fmt_imm(a, sizeof(a), d.imm);
        w = snprintf(buf, len, "%s %%r%u, %s", m, d.src, a);
        break;
    case FMT_LDX:
        fmt_mem(a, sizeof(a), d.src, d.off);
        w = snprintf(buf, len, "%s %%r%u, %s", m, d.dst, a);
        break;
    case FMT_ST:
        fmt_mem(a, sizeof(a), d.dst, d.off);
        fmt_imm(b, sizeof(b), d.imm);
        w = snprintf(buf, len, "%s %s, %s", m, a, b);
        break;
    case FMT_STX:
    case FMT_ATOMIC: /* the mnemonic carries "lock [fetch]" */
        fmt_mem(a, sizeof(a), d.dst, d.off);
        w = snprintf(buf, len, "%s %s, %%r%u", m, a, d.src);
        break;
    default: /* LDDW_HI never comes out of decode_one */
        snprintf(buf, len, "<invalid>");
        return -EINVAL;
    }
    if (w < 0 || (size_t)w >= len)
        return -ENOSPC;
    return slots;
}

char *nicsim_disasm(const struct nicsim_insn *raw, size_t n)
{
    if (!raw && n) {
        errno = EINVAL;
        return NULL;
    }
    size_t cap = 64 + n * 32, used = 0;
    char *text = malloc(cap);
    if (!text) {
        errno = ENOMEM;
        return NULL;
    }
    text[0] = 0;
    for (size_t i = 0; i < n;) {
        char line[160];
        int rc = nicsim_disasm_insn(&raw[i], n - i, line, sizeof(line));
        if (rc < 0) {
            free(text);
            errno = -rc;
            return NULL;
        }
        size_t l = strlen(line);
        if (used + l + 2 > cap) {
            size_t ncap = cap * 2 + l + 2;
            char *t = realloc(text, ncap);
            if (!t) {
                free(text);
                errno = ENOMEM;
                return NULL;
            }
            text = t;
            cap = ncap;
        }
        memcpy(text + used, line, l);
        used += l;
        text[used++] = '\n';
        text[used] = 0;
        i += (size_t)rc;
    }
    return text;
}
