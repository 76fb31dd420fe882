/* SPDX-License-Identifier: MIT */
/* ALU instructions: scalar arithmetic on bounds and tnums, pointer arithmetic, do_alu. */
#include <errno.h>

#include "verifier_internal.h"

static const char *const alu_str[16] = {"+=",  "-=", "*=", "/=", "|=",   "&=",     "<<=", ">>=",
                                        "neg", "%=", "^=", "=",  "s>>=", "endian", "?",   "?"};

/* ---------------------------------------------------------------------------------------------
 * Instructions.
 */
static uint64_t alu_compute(uint8_t op, int is64, int is_signed, uint64_t a, uint64_t b)
{
    if (!is64) {
        uint32_t x = (uint32_t)a, y = (uint32_t)b, r;

        switch (op) {
        case BPF_ADD:
            r = x + y;
            break;
        case BPF_SUB:
            r = x - y;
            break;
        case BPF_MUL:
            r = x * y;
            break;
        case BPF_DIV:
            if (is_signed)
                r = !y ? 0
                    : ((int32_t)x == INT32_MIN && (int32_t)y == -1)
                        ? x
                        : (uint32_t)((int32_t)x / (int32_t)y);
            else
                r = y ? x / y : 0;
            break;
        case BPF_MOD:
            if (is_signed)
                r = !y ? x : ((int32_t)y == -1) ? 0 : (uint32_t)((int32_t)x % (int32_t)y);
            else
                r = y ? x % y : x;
            break;
        case BPF_OR:
            r = x | y;
            break;
        case BPF_AND:
            r = x & y;
            break;
        case BPF_XOR:
            r = x ^ y;
            break;
        case BPF_LSH:
            r = x << (y & 31);
            break;
        case BPF_RSH:
            r = x >> (y & 31);
            break;
        case BPF_ARSH:
            r = (uint32_t)((int32_t)x >> (y & 31));
            break;
        default:
            r = 0;
            break;
        }
        return r;
    }
    switch (op) {
    case BPF_ADD:
        return a + b;
    case BPF_SUB:
        return a - b;
    case BPF_MUL:
        return a * b;
    case BPF_DIV:
        if (is_signed)
            return !b ? 0
                   : ((int64_t)a == INT64_MIN && (int64_t)b == -1)
                       ? a
                       : (uint64_t)((int64_t)a / (int64_t)b);
        return b ? a / b : 0;
    case BPF_MOD:
        if (is_signed)
            return !b ? a : ((int64_t)b == -1) ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
        return b ? a % b : a;
    case BPF_OR:
        return a | b;
    case BPF_AND:
        return a & b;
    case BPF_XOR:
        return a ^ b;
    case BPF_LSH:
        return a << (b & 63);
    case BPF_RSH:
        return a >> (b & 63);
    case BPF_ARSH:
        return (uint64_t)((int64_t)a >> (b & 63));
    default:
        return 0;
    }
}

static uint64_t bswap(uint64_t v, int bits)
{
    uint64_t r = 0;

    for (int i = 0; i < bits / 8; i++)
        r = (r << 8) | ((v >> (8 * i)) & 0xff);
    return r;
}

/* scalar_min_max_{add,sub,and,or,xor,mul,lsh,rsh,arsh}: d = d op s on 64 bits, both scalars (or
 * the variable parts of pointers, for add and sub). Shifts need a constant amount below 64. */
static void scalar_op64(struct nicsim_reg_state *d, const struct nicsim_reg_state *s, uint8_t op)
{
    struct tnum a = nicsim_vrf_tnum_of(d), b = nicsim_vrf_tnum_of(s);
    uint64_t k = s->umin;
    int64_t lo, hi;

    d->has32 = 0; /* a new value: its low half's bounds follow from the rest */
    switch (op) {
    case BPF_ADD:
        if (__builtin_add_overflow(d->smin, s->smin, &lo) ||
            __builtin_add_overflow(d->smax, s->smax, &hi)) {
            lo = INT64_MIN;
            hi = INT64_MAX;
        }
        if (d->umin + s->umin < d->umin || d->umax + s->umax < d->umax) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin += s->umin;
            d->umax += s->umax;
        }
        d->smin = lo;
        d->smax = hi;
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_add(a, b));
        break;
    case BPF_SUB:
        if (__builtin_sub_overflow(d->smin, s->smax, &lo) ||
            __builtin_sub_overflow(d->smax, s->smin, &hi)) {
            lo = INT64_MIN;
            hi = INT64_MAX;
        }
        if (d->umin < s->umax) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin -= s->umax;
            d->umax -= s->umin;
        }
        d->smin = lo;
        d->smax = hi;
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_sub(a, b));
        break;
    case BPF_MUL:
        if (d->smin < 0 || s->smin < 0 || d->umax > UINT32_MAX || s->umax > UINT32_MAX) {
            nicsim_vrf_bounds_unbounded(d);
            nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_unknown);
            break;
        }
        d->umin *= s->umin;
        d->umax *= s->umax;
        d->smin = (int64_t)d->umin;
        d->smax = (int64_t)d->umax;
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_range(d->umin, d->umax));
        break;
    case BPF_AND:
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_and(a, b));
        d->umax = nicsim_vrf_umin64(d->umax, s->umax);
        d->umin = d->tn_value;
        goto sign_from_unsigned;
    case BPF_OR:
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_or(a, b));
        d->umin = nicsim_vrf_umax64(d->umin, s->umin);
        d->umax = d->tn_value | d->tn_mask;
        goto sign_from_unsigned;
    case BPF_XOR:
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_xor(a, b));
        d->umin = d->tn_value;
        d->umax = d->tn_value | d->tn_mask;
    sign_from_unsigned:
        if (d->smin < 0 || s->smin < 0) {
            d->smin = INT64_MIN;
            d->smax = INT64_MAX;
        } else {
            d->smin = (int64_t)d->umin;
            d->smax = (int64_t)d->umax;
        }
        break;
    case BPF_LSH:
        if (k && d->umax >> (64 - k)) {
            d->umin = 0;
            d->umax = UINT64_MAX;
        } else {
            d->umin <<= k;
            d->umax <<= k;
        }
        d->smin = INT64_MIN;
        d->smax = INT64_MAX;
        nicsim_vrf_set_tnum(d, (struct tnum){a.v << k, a.m << k});
        break;
    case BPF_RSH:
        d->umin >>= k;
        d->umax >>= k;
        d->smin = INT64_MIN;
        d->smax = INT64_MAX;
        nicsim_vrf_set_tnum(d, (struct tnum){a.v >> k, a.m >> k});
        break;
    case BPF_ARSH:
        d->smin >>= k;
        d->smax >>= k;
        d->umin = 0;
        d->umax = UINT64_MAX;
        nicsim_vrf_set_tnum(
            d, (struct tnum){(uint64_t)((int64_t)a.v >> k), (uint64_t)((int64_t)a.m >> k)});
        break;
    default:
        nicsim_vrf_bounds_unbounded(d);
        nicsim_vrf_set_tnum(d, nicsim_vrf_tnum_unknown);
        break;
    }
    nicsim_vrf_reg_bounds_sync(d);
}

/* adjust_scalar_min_max_vals: both operands scalars, not both constants. */
static void scalar_alu(struct nicsim_reg_state *d, const struct nicsim_reg_state *src, uint8_t op,
                       int is64)
{
    struct nicsim_reg_state s = *src;
    int bits = is64 ? 64 : 32;
    bool shift = op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH;

    d->id = 0;
    if (!is64) {
        nicsim_vrf_coerce_to_size(d, 4);
        nicsim_vrf_coerce_to_size(&s, 4);
    }
    if ((op == BPF_AND || op == BPF_MUL) &&
        ((s.known && s.value == 0) || (d->known && !d->value))) {
        nicsim_vrf_mark_known(d, 0);
        return;
    }
    if ((shift && !(s.known && s.value < (uint64_t)bits)) || (!is64 && op == BPF_ARSH) ||
        (op != BPF_ADD && op != BPF_SUB && op != BPF_MUL && op != BPF_AND && op != BPF_OR &&
         op != BPF_XOR && !shift)) {
        nicsim_vrf_mark_unknown(d);
    } else {
        scalar_op64(d, &s, op);
    }
    if (!is64)
        nicsim_vrf_coerce_to_size(d, 4);
}

/* check_reg_sane_offset: what may be added to a pointer, and where it may end up. */
static bool reg_sane_offset(struct venv *env, const struct nicsim_reg_state *reg, uint8_t type)
{
    const char *t = nicsim_reg_type_str(type);
    int64_t val = (int64_t)reg->tn_value;

    if (!reg->tn_mask && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF)) {
        nicsim_vrf_verbose(env, "math between %s pointer and %lld is not allowed", t,
                           (long long)val);
        return false;
    }
    if (reg->off >= MAX_VAR_OFF || reg->off <= -MAX_VAR_OFF) {
        nicsim_vrf_verbose(env, "%s pointer offset %d is not allowed", t, reg->off);
        return false;
    }
    if (reg->smin == INT64_MIN) {
        nicsim_vrf_verbose(
            env, "math between %s pointer and register with unbounded min value is not allowed", t);
        return false;
    }
    if (reg->smin >= MAX_VAR_OFF || reg->smin <= -MAX_VAR_OFF) {
        nicsim_vrf_verbose(env, "value %lld makes %s pointer be out of bounds",
                           (long long)reg->smin, t);
        return false;
    }
    return true;
}

/* adjust_ptr_min_max_vals: ptr (dst side after swapping) op scalar. A constant goes into the
 * fixed offset (a packet pointer keeps its id and range); anything else into the variable part,
 * and a packet pointer gets a new id with nothing known to be in range. */
static int ptr_arith(struct venv *env, int dst_regno, struct nicsim_reg_state *ptr,
                     const struct nicsim_reg_state *scalar, uint8_t op, int is64)
{
    int64_t v = (int64_t)scalar->value, noff;

    if (!is64) {
        if (op == BPF_SUB) { /* allow_ptr_leaks: a meaningless number */
            nicsim_vrf_mark_unknown(ptr);
            return 0;
        }
        nicsim_vrf_verbose(env, "R%d 32-bit pointer arithmetic prohibited", dst_regno);
        return -EACCES;
    }
    if (ptr->type == NICSIM_PTR_TO_MAP_VALUE_OR_NULL) {
        nicsim_vrf_verbose(env, "R%d pointer arithmetic on %s prohibited, null-check it first",
                           dst_regno, nicsim_reg_type_str(ptr->type));
        return -EACCES;
    }
    if (ptr->type == NICSIM_PTR_TO_PACKET_END ||
        (ptr->type == NICSIM_CONST_PTR_TO_MAP &&
         !(scalar->known && scalar->value == 0 && op == BPF_ADD))) {
        nicsim_vrf_verbose(env, "R%d pointer arithmetic on %s prohibited", dst_regno,
                           nicsim_reg_type_str(ptr->type));
        return -EACCES;
    }
    if (!reg_sane_offset(env, scalar, ptr->type) || !reg_sane_offset(env, ptr, ptr->type))
        return -EINVAL;
    if (op == BPF_SUB && ptr->type == NICSIM_PTR_TO_STACK) {
        /* the kernel's rule (JITs may not cope with it): r10 copies only grow by additions */
        nicsim_vrf_verbose(env, "R%d subtraction from stack pointer prohibited", dst_regno);
        return -EACCES;
    }
    if (op == BPF_AND || op == BPF_OR || op == BPF_XOR) {
        nicsim_vrf_verbose(env, "R%d bitwise operator %s on pointer prohibited", dst_regno,
                           alu_str[op >> 4]);
        return -EACCES;
    }
    if (op != BPF_ADD && op != BPF_SUB) {
        nicsim_vrf_verbose(env, "R%d pointer arithmetic with %s operator prohibited", dst_regno,
                           alu_str[op >> 4]);
        return -EACCES;
    }
    noff = op == BPF_ADD ? (int64_t)ptr->off + v : (int64_t)ptr->off - v;
    if (scalar->known && noff == (int64_t)(int32_t)noff) {
        ptr->off = (int32_t)noff;
    } else {
        scalar_op64(ptr, scalar, op);
        if (nicsim_vrf_is_pkt(ptr)) {
            ptr->id = ++env->id_gen;
            if (op == BPF_ADD || scalar->smin < 0)
                ptr->range = 0;
        }
    }
    if (!reg_sane_offset(env, ptr, ptr->type))
        return -EINVAL;
    return 0;
}

int nicsim_vrf_do_alu(struct venv *env, const struct nicsim_insn *in)
{
    uint8_t op = insn_op(in->code);
    int is64 = insn_class(in->code) == BPF_ALU64, x = insn_src(in->code) == BPF_X;
    struct nicsim_reg_state *regs = nicsim_vrf_cur_regs(env);
    struct nicsim_reg_state src, *dst;
    int err;

    if (op == BPF_NEG || op == BPF_END) {
        if (op == BPF_NEG && (x || in->src || in->off || in->imm)) {
            nicsim_vrf_verbose(env, "BPF_NEG uses reserved fields");
            return -EINVAL;
        }
        if (op == BPF_END && (in->src || in->off ||
                              (in->imm != 16 && in->imm != 32 && in->imm != 64) || (is64 && x))) {
            nicsim_vrf_verbose(env, "BPF_END uses reserved fields");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_read(env, in->dst);
        if (!err)
            err = nicsim_vrf_check_reg_write(env, in->dst);
        if (err)
            return err;
        dst = &regs[in->dst];
        if (dst->type != NICSIM_SCALAR_VALUE || !dst->known) {
            int bits = op == BPF_END ? in->imm : 64;

            if (op == BPF_END && !is64 && !x && dst->type == NICSIM_SCALAR_VALUE) {
                dst->id = 0;
                nicsim_vrf_coerce_to_size(dst, bits / 8); /* to little endian: a truncation here */
                return 0;
            }
            nicsim_vrf_mark_unknown(dst);
            if (op == BPF_END)
                nicsim_vrf_coerce_to_size(dst, bits / 8);
            else if (!is64)
                nicsim_vrf_coerce_to_size(dst, 4);
            return 0;
        }
        if (op == BPF_NEG) {
            nicsim_vrf_mark_known(dst, is64 ? (uint64_t) - (int64_t)dst->value
                                            : (uint32_t) - (int32_t)dst->value);
        } else {
            uint64_t v = dst->value;
            int bits = in->imm;
            /* LE on a little-endian machine truncates, BE / BSWAP swap */
            if (!is64 && !x)
                v = bits == 64 ? v : v & ((1ull << bits) - 1);
            else
                v = bswap(v, bits);
            nicsim_vrf_mark_known(dst, v);
        }
        return 0;
    }

    if (op == BPF_MOV) {
        if (x) {
            if (in->imm ||
                (in->off && !((is64 && (in->off == 8 || in->off == 16 || in->off == 32)) ||
                              (!is64 && (in->off == 8 || in->off == 16))))) {
                nicsim_vrf_verbose(env, "BPF_MOV uses reserved fields");
                return -EINVAL;
            }
            err = nicsim_vrf_check_reg_read(env, in->src);
            if (err)
                return err;
        } else if (in->src || in->off) {
            nicsim_vrf_verbose(env, "BPF_MOV uses reserved fields");
            return -EINVAL;
        }
        err = nicsim_vrf_check_reg_write(env, in->dst);
        if (err)
            return err;
        dst = &regs[in->dst];
        if (!x) {
            nicsim_vrf_mark_known(dst, is64 ? (uint64_t)(int64_t)in->imm : (uint32_t)in->imm);
            return 0;
        }
        if (is64 && !in->off) {
            /* a copy of an unknown scalar is linked to it: bounds learnt for one hold for both */
            if (regs[in->src].type == NICSIM_SCALAR_VALUE && !regs[in->src].known &&
                !regs[in->src].id)
                regs[in->src].id = ++env->id_gen;
            *dst = regs[in->src];
            return 0;
        }
        if (!is64 && !in->off && regs[in->src].type == NICSIM_SCALAR_VALUE &&
            !regs[in->src].known && nicsim_vrf_reg_width(&regs[in->src]) <= 32) {
            /* w1 = w2 of a value below 2^32 is a copy: linked as a 64-bit move */
            nicsim_vrf_assign_scalar_id(env, &regs[in->src]);
            *dst = regs[in->src];
            return 0;
        }
        src = regs[in->src];
        if (src.type != NICSIM_SCALAR_VALUE) {
            nicsim_vrf_mark_unknown(dst); /* partial copy of a pointer: a number (root may) */
            if (!is64)
                nicsim_vrf_coerce_to_size(dst, 4);
            return 0;
        }
        if (!src.known) {
            uint64_t half = in->off ? 1ull << (in->off - 1) : 0;

            src.id = 0;
            if (!in->off) {
                *dst = src;
            } else if (src.umax < half) {
                *dst = src; /* the sign bit is known clear: nothing changes */
            } else if (src.umin >= half && src.umax < 2 * half) {
                /* the sign bit is known set: every value moves down by 2 * half */
                nicsim_vrf_mark_unknown(dst);
                dst->smin = (int64_t)src.umin - (int64_t)(2 * half);
                dst->smax = (int64_t)src.umax - (int64_t)(2 * half);
                nicsim_vrf_reg_bounds_sync(dst);
            } else {
                nicsim_vrf_mark_unknown_sext(dst, in->off / 8);
            }
            if (!is64)
                nicsim_vrf_coerce_to_size(dst, 4);
            return 0;
        }
        {
            uint64_t v = src.value;

            if (in->off == 8)
                v = (uint64_t)(int64_t)(int8_t)v;
            else if (in->off == 16)
                v = (uint64_t)(int64_t)(int16_t)v;
            else if (in->off == 32)
                v = (uint64_t)(int64_t)(int32_t)v;
            nicsim_vrf_mark_known(dst, is64 ? v : (uint32_t)v);
        }
        return 0;
    }

    if (op > BPF_END) {
        nicsim_vrf_verbose(env, "invalid BPF_ALU opcode %x", op);
        return -EINVAL;
    }
    {
        int off_ok = !in->off || (in->off == 1 && (op == BPF_DIV || op == BPF_MOD));

        if ((x && (in->imm || !off_ok)) || (!x && (in->src || !off_ok))) {
            nicsim_vrf_verbose(env, "BPF_ALU uses reserved fields");
            return -EINVAL;
        }
    }
    if (x) {
        err = nicsim_vrf_check_reg_read(env, in->src);
        if (err)
            return err;
    }
    err = nicsim_vrf_check_reg_read(env, in->dst);
    if (err)
        return err;
    if (!x && (op == BPF_DIV || op == BPF_MOD) && in->imm == 0) {
        nicsim_vrf_verbose(env, "div by zero");
        return -EINVAL;
    }
    if (!x && (op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
        (in->imm < 0 || in->imm >= (is64 ? 64 : 32))) {
        nicsim_vrf_verbose(env, "invalid shift %d", in->imm);
        return -EINVAL;
    }
    err = nicsim_vrf_check_reg_write(env, in->dst);
    if (err)
        return err;
    dst = &regs[in->dst];
    if (x)
        src = regs[in->src];
    else
        nicsim_vrf_mark_known(&src, (uint64_t)(int64_t)in->imm);

    if (nicsim_vrf_is_pointer(&src) && nicsim_vrf_is_pointer(dst)) {
        if (op == BPF_SUB) {
            nicsim_vrf_mark_unknown(dst); /* ptr - ptr: a number (allow_ptr_leaks) */
            return 0;
        }
        nicsim_vrf_verbose(env, "R%d pointer %s pointer prohibited", in->dst, alu_str[op >> 4]);
        return -EACCES;
    }
    if (nicsim_vrf_is_pointer(dst))
        return ptr_arith(env, in->dst, dst, &src, op, is64);
    if (nicsim_vrf_is_pointer(&src)) {
        struct nicsim_reg_state p = src;

        if (!is64 && op == BPF_SUB) { /* allow_ptr_leaks: a meaningless number */
            nicsim_vrf_mark_unknown(dst);
            return 0;
        }
        if (op == BPF_SUB) {
            nicsim_vrf_verbose(env, "R%d tried to subtract pointer from scalar", in->dst);
            return -EACCES;
        }
        err = ptr_arith(env, in->dst, &p, dst, op, is64);
        if (!err)
            *dst = p;
        return err;
    }
    if (dst->known && src.known &&
        /* is_safe_to_compute_dst_reg_range: a shift by the width or more is unknown */
        !((op == BPF_LSH || op == BPF_RSH || op == BPF_ARSH) &&
          (is64 ? src.value : (uint32_t)src.value) >= (uint64_t)(is64 ? 64 : 32))) {
        uint64_t v = alu_compute(op, is64, in->off == 1, dst->value, src.value);

        nicsim_vrf_mark_known(dst, is64 ? v : (uint32_t)v);
    } else {
        scalar_alu(dst, &src, op, is64);
    }
    return 0;
}
