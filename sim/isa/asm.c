/* SPDX-License-Identifier: MIT */
/*
 * Assembler for the text syntax of the bpf_conformance suite (descended from uBPF's):
 *
 *   # comment                       label:            label: mov %r0, 1
 *   mov %r0, 1       add32 %r1, %r2       neg %r0      le16 %r0   be64 %r0   bswap32 %r0
 *   movsx1664 %r0, %r1              sdiv %r0, 3       smod32 %r0, %r1
 *   ldxw %r0, [%r1+4]               stw [%r10-8], 5   stxdw [%r10-8], %r1   ldxsb %r0, [%r1]
 *   lock add [%r10-8], %r1          lock fetch xor32 [%r10-4], %r1
 *   lock xchg [%r10-8], %r1         lock cmpxchg32 [%r10-8], %r1
 *   jeq %r1, 5, label   jne %r1, %r2, +3   ja -2   ja32 label
 *   call 5   call helper 5   call local label   call kfunc 7 (or runtime 7)   call %r2 (callx)
 *   lddw %r0, 0x1122334455667788    lddw %r1, map_fd 3 (LDDW source subtypes, see below)
 *   ldabsw 12   ldindh %r1, 12      exit
 *
 * Immediates are decimal (signed 32-bit range) or hex (up to 0xffffffff, the bit pattern);
 * offsets are signed 16-bit. A jump target is `+N`/`-N` or a label; the label `exit`, unless
 * defined, names the first EXIT. Aliases: swapN = bswapN, movsxN = movsxN64, callx %rN.
 * LDDW source subtypes: map_fd, map_value, btf_id, func, map_idx, map_idx_value (src 1..6).
 *
 * Error messages follow upstream's ("Invalid mnemonic: ldxq"), prefixed with the line number.
 * A text without any instruction is refused ("no instructions to assemble", index -1).
 */
#include "isa_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOKENS 8 /* more than any instruction has; the count beyond is still kept */

struct asm_label {
    char *name;
    size_t slot;
    long line;
};

struct asm_fixup {
    size_t slot;
    char *name;
    long line;
};

struct asm_ctx {
    struct nicsim_isa_insn *insn;
    long *line_of;
    size_t n, cap, cap_lines;
    struct asm_label *labels;
    size_t nlabels, caplabels;
    struct asm_fixup *fixups;
    size_t nfixups, capfixups;
    size_t first_exit;
    int have_exit;
    long line;
    struct nicsim_msg *err;
};

__attribute__((format(printf, 3, 4))) static int asm_fail(struct asm_ctx *c, long line,
                                                          const char *fmt, ...)
{
    char msg[sizeof(c->err->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return nicsim_isa_fail(c->err, line, "line %ld: %s", line, msg);
}

static int oom(struct asm_ctx *c)
{
    nicsim_isa_fail(c->err, c->line, "line %ld: out of memory", c->line);
    return -ENOMEM;
}

/* Grow *arr (of *cap elements of size sz) to hold at least need elements. */
static int grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*arr, ncap * sz);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

/* ---- tokens ----------------------------------------------------------------------------- */

/*
 * Split a line into tokens at whitespace and commas, stopping at `#`. A bracketed memory
 * operand is one token with its inner whitespace removed. `out` must hold strlen(line) + 2
 * bytes. Returns the token count (which may exceed MAX_TOKENS; only the first are stored).
 */
static size_t tokenize(const char *line, char *out, char **tok)
{
    size_t nt = 0;
    const char *p = line;
    for (;;) {
        while (*p && (isspace((unsigned char)*p) || *p == ','))
            p++;
        if (!*p || *p == '#')
            break;
        char *start = out;
        int depth = 0;
        while (*p && *p != '#') {
            if (!depth && (isspace((unsigned char)*p) || *p == ','))
                break;
            if (*p == '[')
                depth = 1;
            else if (*p == ']')
                depth = 0;
            if (!(depth && isspace((unsigned char)*p)))
                *out++ = *p;
            p++;
        }
        *out++ = 0;
        if (nt < MAX_TOKENS)
            tok[nt] = start;
        nt++;
    }
    return nt;
}

/* ---- operands --------------------------------------------------------------------------- */

/* [+-](0x<hex> | <decimal>), the whole string. 0, -1 on syntax error, -2 on 64-bit overflow. */
static int parse_num(const char *s, int *neg, uint64_t *mag, int *hex)
{
    *neg = 0;
    *hex = 0;
    if (*s == '+' || *s == '-')
        *neg = *s++ == '-';
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        *hex = 1;
        s += 2;
    }
    if (!*s)
        return -1;
    unsigned base = *hex ? 16 : 10;
    uint64_t v = 0;
    int overflow = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (*hex && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (*hex && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            overflow = 1;
        v = v * base + d;
    }
    *mag = v;
    return overflow ? -2 : 0;
}

static int parse_imm32(struct asm_ctx *c, const char *s, int32_t *out)
{
    int neg, hex;
    uint64_t mag;
    int rc = parse_num(s, &neg, &mag, &hex);
    if (rc == -1)
        return asm_fail(c, c->line, "Invalid immediate: %.64s", s);
    /* hex may name any 32-bit pattern; decimal must fit a signed 32-bit value */
    uint64_t limit = neg ? 0x80000000u : hex ? 0xffffffffu : 0x7fffffffu;
    if (rc == -2 || mag > limit)
        return asm_fail(c, c->line, "Immediate out of 32-bit range: %.64s", s);
    *out = neg ? (int32_t)(-(int64_t)mag) : (int32_t)(uint32_t)mag;
    return 0;
}

static int parse_imm64(struct asm_ctx *c, const char *s, uint64_t *out)
{
    int neg, hex;
    uint64_t mag;
    int rc = parse_num(s, &neg, &mag, &hex);
    if (rc == -1)
        return asm_fail(c, c->line, "Invalid immediate: %.64s", s);
    if (rc == -2 || (neg && mag > (uint64_t)1 << 63))
        return asm_fail(c, c->line, "Immediate out of 64-bit range: %.64s", s);
    *out = neg ? (uint64_t)0 - mag : mag;
    return 0;
}

static int parse_off16(struct asm_ctx *c, const char *s, int16_t *out)
{
    int neg, hex;
    uint64_t mag;
    int rc = parse_num(s, &neg, &mag, &hex);
    if (rc == -1)
        return asm_fail(c, c->line, "Invalid offset: %.64s", s);
    if (rc == -2 || mag > (neg ? 32768u : 32767u))
        return asm_fail(c, c->line, "Offset out of 16-bit range: %.64s", s);
    *out = (int16_t)(neg ? -(int32_t)mag : (int32_t)mag);
    return 0;
}

static int parse_reg(struct asm_ctx *c, const char *s, uint8_t *out)
{
    if (s[0] == '%' && s[1] == 'r' && isdigit((unsigned char)s[2])) {
        unsigned v = 0;
        const char *p = s + 2;
        while (isdigit((unsigned char)*p) && v <= ISA_MAX_REG)
            v = v * 10 + (unsigned)(*p++ - '0');
        if (!*p && v <= ISA_MAX_REG) {
            *out = (uint8_t)v;
            return 0;
        }
    }
    return asm_fail(c, c->line, "Invalid register: %.64s", s);
}

/* [%rN], [%rN+off], [%rN-off] */
static int parse_mem(struct asm_ctx *c, char *s, uint8_t *reg, int16_t *off)
{
    size_t l = strlen(s);
    if (l < 3 || s[0] != '[' || s[l - 1] != ']')
        return asm_fail(c, c->line, "Failed to decode register and offset: %.64s", s);
    s[l - 1] = 0; /* the token is ours: tokenize() copied it */
    char *sign = strpbrk(s + 1, "+-");
    char save = 0;
    if (sign) {
        save = *sign;
        *sign = 0;
    }
    int rc = parse_reg(c, s + 1, reg);
    if (sign)
        *sign = save;
    *off = 0;
    if (!rc && sign)
        rc = parse_off16(c, sign, off);
    s[l - 1] = ']';
    return rc;
}

/* ---- emitting --------------------------------------------------------------------------- */

static struct nicsim_isa_insn *emit(struct asm_ctx *c, unsigned op)
{
    if (c->n >= NICSIM_ISA_MAX_INSNS) {
        asm_fail(c, c->line, "program exceeds %u slots", NICSIM_ISA_MAX_INSNS);
        return NULL;
    }
    if (grow((void **)&c->insn, &c->cap, c->n + 1, sizeof(*c->insn)) < 0 ||
        grow((void **)&c->line_of, &c->cap_lines, c->n + 1, sizeof(*c->line_of)) < 0) {
        oom(c);
        return NULL;
    }
    struct nicsim_isa_insn *d = &c->insn[c->n];
    memset(d, 0, sizeof(*d));
    d->op = (uint16_t)op;
    c->line_of[c->n] = c->line;
    c->n++;
    return d;
}

/* A jump target: `+N`/`-N`, or a label resolved once the whole text is read. */
static int parse_target(struct asm_ctx *c, const char *s, struct nicsim_isa_insn *d, int in_imm)
{
    if (s[0] == '+' || s[0] == '-') {
        if (in_imm)
            return parse_imm32(c, s, &d->imm);
        return parse_off16(c, s, &d->off);
    }
    if (grow((void **)&c->fixups, &c->capfixups, c->nfixups + 1, sizeof(*c->fixups)) < 0)
        return oom(c);
    char *name = strdup(s);
    if (!name)
        return oom(c);
    c->fixups[c->nfixups++] =
        (struct asm_fixup){.slot = (size_t)(d - c->insn), .name = name, .line = c->line};
    return 0;
}

static int operand_count(struct asm_ctx *c, const char *mnem)
{
    return asm_fail(c, c->line, "Invalid number of operands for mnemonic: %.64s", mnem);
}

/* Ops whose mnemonic is `name`: the immediate-form (or only) op in *k, the register form in
 * *x. Returns 0 if there is none. */
static int lookup(const char *name, unsigned *k, unsigned *x)
{
    *k = *x = NICSIM_OP_INVALID;
    for (unsigned op = 1; op < NICSIM_OP__COUNT; op++) {
        const struct isa_opinfo *info = isa_info(op);
        if (info->fmt == FMT_LDDW_HI || strcmp(nicsim_isa_op_name(op), name) != 0)
            continue;
        if (info->fmt == FMT_ALU_X || info->fmt == FMT_JCOND_X)
            *x = op;
        else
            *k = op;
    }
    return *k != NICSIM_OP_INVALID || *x != NICSIM_OP_INVALID;
}

static const char *alias(const char *m)
{
    static const char *const map[][2] = {
        {"swap16", "bswap16"},  {"swap32", "bswap32"},    {"swap64", "bswap64"},
        {"movsx8", "movsx864"}, {"movsx16", "movsx1664"}, {"movsx32", "movsx3264"},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(m, map[i][0]))
            return map[i][1];
    return m;
}

static int asm_call(struct asm_ctx *c, const char *mnem, char **t, size_t nt)
{
    struct nicsim_isa_insn *d;
    const char *mode = nt == 2 ? t[0] : "helper";
    const char *target = nt == 2 ? t[1] : nt == 1 ? t[0] : NULL;

    if (!target || (!strcmp(mnem, "callx") && nt != 1))
        return operand_count(c, mnem);
    if (!strcmp(mnem, "callx") || (!strcmp(mode, "helper") && target[0] == '%')) {
        if (!(d = emit(c, NICSIM_OP_CALLX)))
            return -EINVAL;
        return parse_reg(c, target, &d->dst);
    }
    if (!strcmp(mode, "helper")) {
        if (!(d = emit(c, NICSIM_OP_CALL_HELPER)))
            return -EINVAL;
        return parse_imm32(c, target, &d->imm);
    }
    if (!strcmp(mode, "local")) {
        if (!(d = emit(c, NICSIM_OP_CALL_LOCAL)))
            return -EINVAL;
        d->src = BPF_PSEUDO_CALL;
        return parse_target(c, target, d, 1);
    }
    if (!strcmp(mode, "kfunc") || !strcmp(mode, "runtime")) {
        if (!(d = emit(c, NICSIM_OP_CALL_KFUNC)))
            return -EINVAL;
        d->src = BPF_PSEUDO_KFUNC_CALL;
        return parse_imm32(c, target, &d->imm);
    }
    return asm_fail(c, c->line, "Invalid call mode: %.64s", mode);
}

static int asm_lddw(struct asm_ctx *c, char **t, size_t nt)
{
    unsigned src = NICSIM_LDDW_IMM64;
    if (nt != 2 && nt != 3)
        return operand_count(c, "lddw");
    if (nt == 3) {
        for (src = 1; src <= NICSIM_LDDW_MAP_IDX_VALUE; src++)
            if (!strcmp(t[1], nicsim_isa_lddw_kind_name(src)))
                break;
        if (src > NICSIM_LDDW_MAP_IDX_VALUE)
            return asm_fail(c, c->line, "Invalid lddw source kind: %.64s", t[1]);
    }
    uint8_t dst = 0;
    uint64_t v = 0;
    int rc;
    if ((rc = parse_reg(c, t[0], &dst)) || (rc = parse_imm64(c, t[nt - 1], &v)))
        return rc;
    struct nicsim_isa_insn *d = emit(c, NICSIM_OP_LDDW);
    if (!d)
        return -EINVAL;
    d->dst = dst;
    d->src = (uint8_t)src;
    d->imm = (int32_t)(uint32_t)v;
    d->imm64 = v;
    if (!(d = emit(c, NICSIM_OP_LDDW_HI)))
        return -EINVAL;
    d->imm = (int32_t)(uint32_t)(v >> 32);
    d->imm64 = (uint64_t)(int64_t)d->imm;
    return 0;
}

/* lock [fetch] OP [%rD+off], %rS */
static int asm_lock(struct asm_ctx *c, char **t, size_t nt)
{
    size_t i = 0;
    int fetch = nt > 0 && !strcmp(t[0], "fetch");
    i += (size_t)fetch;
    if (i >= nt || i >= MAX_TOKENS)
        return asm_fail(c, c->line, "Invalid number of operands for lock");
    const char *opword = t[i++];
    char name[48];
    int w = snprintf(name, sizeof(name), "lock %s%s", fetch ? "fetch " : "", opword);
    unsigned k, x;
    if (w < 0 || (size_t)w >= sizeof(name) || !lookup(name, &k, &x) ||
        isa_info(k)->fmt != FMT_ATOMIC)
        return asm_fail(c, c->line, "Invalid mnemonic: %.64s", name);
    if (nt - i != 2)
        return operand_count(c, opword);
    struct nicsim_isa_insn *d = emit(c, k);
    if (!d)
        return -EINVAL;
    int rc = parse_mem(c, t[i], &d->dst, &d->off);
    return rc ? rc : parse_reg(c, t[i + 1], &d->src);
}

static int asm_insn(struct asm_ctx *c, const char *mnem, char **t, size_t nt)
{
    if (!strcmp(mnem, "lock"))
        return asm_lock(c, t, nt);
    if (!strcmp(mnem, "call") || !strcmp(mnem, "callx"))
        return asm_call(c, mnem, t, nt);
    if (!strcmp(mnem, "lddw"))
        return asm_lddw(c, t, nt);

    unsigned k, x;
    if (!lookup(alias(mnem), &k, &x) || isa_info(k)->fmt == FMT_ATOMIC)
        return asm_fail(c, c->line, "Invalid mnemonic: %.64s", mnem);

    unsigned fmt = isa_info(k != NICSIM_OP_INVALID ? k : x)->fmt;
    static const size_t nops[] = {
        [FMT_ALU_K] = 2, [FMT_ALU_X] = 2, [FMT_ALU_1] = 1, [FMT_JCOND_K] = 3, [FMT_JCOND_X] = 3,
        [FMT_JA] = 1,    [FMT_JA32] = 1,  [FMT_EXIT] = 0,  [FMT_LDABS] = 1,   [FMT_LDIND] = 2,
        [FMT_LDX] = 2,   [FMT_ST] = 2,    [FMT_STX] = 2,
    };
    if (fmt >= sizeof(nops) / sizeof(nops[0]) || nt != nops[fmt])
        return operand_count(c, mnem);

    /* The register or immediate second operand of ALU and conditional jumps picks the form. */
    unsigned op = k;
    if (fmt == FMT_ALU_K || fmt == FMT_ALU_X || fmt == FMT_JCOND_K || fmt == FMT_JCOND_X) {
        int reg = t[1][0] == '%';
        op = reg ? x : k;
        if (op == NICSIM_OP_INVALID) /* MOVSX has no immediate form */
            return asm_fail(c, c->line, "Invalid register: %.64s", t[1]);
        fmt = isa_info(op)->fmt;
    }
    struct nicsim_isa_insn *d = emit(c, op);
    if (!d)
        return -EINVAL;
    if (op == NICSIM_OP_EXIT && !c->have_exit) {
        c->have_exit = 1;
        c->first_exit = c->n - 1;
    }
    int rc;
    switch (fmt) {
    case FMT_ALU_K:
        return (rc = parse_reg(c, t[0], &d->dst)) ? rc : parse_imm32(c, t[1], &d->imm);
    case FMT_ALU_X:
        return (rc = parse_reg(c, t[0], &d->dst)) ? rc : parse_reg(c, t[1], &d->src);
    case FMT_ALU_1:
        return parse_reg(c, t[0], &d->dst);
    case FMT_JCOND_K:
        if ((rc = parse_reg(c, t[0], &d->dst)) || (rc = parse_imm32(c, t[1], &d->imm)))
            return rc;
        return parse_target(c, t[2], d, 0);
    case FMT_JCOND_X:
        if ((rc = parse_reg(c, t[0], &d->dst)) || (rc = parse_reg(c, t[1], &d->src)))
            return rc;
        return parse_target(c, t[2], d, 0);
    case FMT_JA:
        return parse_target(c, t[0], d, 0);
    case FMT_JA32:
        return parse_target(c, t[0], d, 1);
    case FMT_LDABS:
        return parse_imm32(c, t[0], &d->imm);
    case FMT_LDIND:
        return (rc = parse_reg(c, t[0], &d->src)) ? rc : parse_imm32(c, t[1], &d->imm);
    case FMT_LDX:
        return (rc = parse_reg(c, t[0], &d->dst)) ? rc : parse_mem(c, t[1], &d->src, &d->off);
    case FMT_ST:
        return (rc = parse_mem(c, t[0], &d->dst, &d->off)) ? rc : parse_imm32(c, t[1], &d->imm);
    case FMT_STX:
        return (rc = parse_mem(c, t[0], &d->dst, &d->off)) ? rc : parse_reg(c, t[1], &d->src);
    default: /* EXIT */
        return 0;
    }
}

static int valid_label(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_' && *s != '.')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
            return 0;
    return 1;
}

static int add_label(struct asm_ctx *c, const char *name)
{
    if (!valid_label(name))
        return asm_fail(c, c->line, "Invalid label name: %.64s", name);
    if (grow((void **)&c->labels, &c->caplabels, c->nlabels + 1, sizeof(*c->labels)) < 0)
        return oom(c);
    char *copy = strdup(name);
    if (!copy)
        return oom(c);
    c->labels[c->nlabels++] = (struct asm_label){.name = copy, .slot = c->n, .line = c->line};
    return 0;
}

static int asm_line(struct asm_ctx *c, char **tok, size_t nt)
{
    size_t i = 0;
    /* leading `label:` tokens */
    while (i < nt && i < MAX_TOKENS) {
        size_t l = strlen(tok[i]);
        if (l < 2 || tok[i][l - 1] != ':')
            break;
        tok[i][l - 1] = 0;
        int rc = add_label(c, tok[i]);
        if (rc)
            return rc;
        i++;
    }
    if (i >= nt)
        return 0;
    if (i >= MAX_TOKENS)
        return asm_fail(c, c->line, "too many labels on one line");
    const char *mnem = tok[i];
    size_t nops = nt - i - 1;
    if (nops > MAX_TOKENS - i - 1) /* more operands than any instruction has */
        return !strcmp(mnem, "lock") ? asm_fail(c, c->line, "Invalid number of operands for lock")
                                     : operand_count(c, mnem);
    return asm_insn(c, mnem, tok + i + 1, nops);
}

/* ---- labels ----------------------------------------------------------------------------- */

static int label_cmp(const void *a, const void *b)
{
    const struct asm_label *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    return r ? r : (x->line > y->line) - (x->line < y->line);
}

static int label_name_cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct asm_label *)elem)->name);
}

/* Slot a label names, or -1. */
static long find_label(const struct asm_ctx *c, const char *name)
{
    const struct asm_label *l =
        c->nlabels ? bsearch(name, c->labels, c->nlabels, sizeof(*l), label_name_cmp) : NULL;
    if (l)
        return (long)l->slot;
    if (!strcmp(name, "exit") && c->have_exit)
        return (long)c->first_exit;
    return -1;
}

static int resolve(struct asm_ctx *c)
{
    if (c->nlabels)
        qsort(c->labels, c->nlabels, sizeof(*c->labels), label_cmp);
    for (size_t i = 1; i < c->nlabels; i++)
        if (!strcmp(c->labels[i].name, c->labels[i - 1].name))
            return asm_fail(c, c->labels[i].line,
                            "Duplicate label: %.64s (first defined at line %ld)", c->labels[i].name,
                            c->labels[i - 1].line);

    for (size_t i = 0; i < c->nfixups; i++) {
        const struct asm_fixup *f = &c->fixups[i];
        long target = find_label(c, f->name);
        if (target < 0)
            return asm_fail(c, f->line, "Invalid label: %.64s", f->name);
        struct nicsim_isa_insn *d = &c->insn[f->slot];
        long delta = target - (long)f->slot - 1;
        unsigned fmt = isa_info(d->op)->fmt;
        if (fmt == FMT_JA32 || fmt == FMT_CALL_LOCAL) {
            d->imm = (int32_t)delta; /* programs are far shorter than 2^31 slots */
        } else {
            if (delta < INT16_MIN || delta > INT16_MAX)
                return asm_fail(c, f->line, "Jump to %.64s is out of 16-bit offset range (%ld)",
                                f->name, delta);
            d->off = (int16_t)delta;
        }
    }
    return 0;
}

static void ctx_free(struct asm_ctx *c)
{
    for (size_t i = 0; i < c->nlabels; i++)
        free(c->labels[i].name);
    for (size_t i = 0; i < c->nfixups; i++)
        free(c->fixups[i].name);
    free(c->labels);
    free(c->fixups);
    free(c->insn);
    free(c->line_of);
}

static int assemble(struct asm_ctx *c, const char *text)
{
    char *line = NULL, *toks = NULL;
    size_t cap = 0;
    int rc = 0;
    for (const char *p = text; *p && !rc;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        c->line++;
        if (len + 2 > cap) {
            free(line);
            free(toks);
            cap = len + 2;
            line = malloc(cap);
            toks = malloc(cap);
            if (!line || !toks) {
                rc = oom(c);
                break;
            }
        }
        memcpy(line, p, len);
        line[len] = 0;
        char *tok[MAX_TOKENS] = {0};
        size_t nt = tokenize(line, toks, tok);
        if (nt)
            rc = asm_line(c, tok, nt);
        p = eol ? eol + 1 : p + len;
    }
    free(line);
    free(toks);
    return rc ? rc : resolve(c);
}

int nicsim_asm(const char *text, struct nicsim_insn **out, size_t *n, struct nicsim_msg *err)
{
    if (err) {
        err->index = -1;
        err->msg[0] = 0;
    }
    if (!text || !out || !n)
        return nicsim_isa_fail(err, -1, "no text to assemble");
    *out = NULL;
    *n = 0;

    struct asm_ctx c = {.err = err};
    int rc = assemble(&c, text);
    if (!rc && c.n == 0)
        rc = nicsim_isa_fail(err, -1, "no instructions to assemble");
    struct nicsim_insn *raw = NULL;
    if (!rc) {
        raw = calloc(c.n ? c.n : 1, sizeof(*raw));
        if (!raw)
            rc = oom(&c);
    }
    if (!rc) {
        rc = nicsim_isa_encode(c.insn, c.n, raw, err);
        if (rc && err && err->index >= 0 && (size_t)err->index < c.n) {
            long line = c.line_of[err->index];
            char msg[sizeof(err->msg)];
            memcpy(msg, err->msg, sizeof(msg));
            nicsim_isa_fail(err, line, "line %ld: %s", line, msg);
        }
    }
    ctx_free(&c);
    if (rc) {
        free(raw);
        return rc;
    }
    *out = raw;
    *n = c.n;
    return 0;
}
