/* SPDX-License-Identifier: MIT */
/* Scalar bounds (unsigned, signed, 32-bit) kept consistent with the tnum, and register marking. */
#include <string.h>

#include "verifier_internal.h"

uint64_t nicsim_vrf_umax64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}
uint64_t nicsim_vrf_umin64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
int64_t nicsim_vrf_smax64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}
int64_t nicsim_vrf_smin64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void nicsim_vrf_set_tnum(struct nicsim_reg_state *r, struct tnum t)
{
    r->tn_value = t.v;
    r->tn_mask = t.m;
}

void nicsim_vrf_bounds_unbounded(struct nicsim_reg_state *r)
{
    r->umin = 0;
    r->umax = UINT64_MAX;
    r->smin = INT64_MIN;
    r->smax = INT64_MAX;
}

/* Narrow b to [lo, hi] (unsigned / signed). */
static void b32_u(struct bounds32 *b, uint32_t lo, uint32_t hi)
{
    b->umin = lo > b->umin ? lo : b->umin;
    b->umax = hi < b->umax ? hi : b->umax;
}
static void b32_s(struct bounds32 *b, int32_t lo, int32_t hi)
{
    b->smin = lo > b->smin ? lo : b->smin;
    b->smax = hi < b->smax ? hi : b->smax;
}

struct bounds32 nicsim_vrf_reg_bounds32(const struct nicsim_reg_state *r)
{
    struct tnum lo = nicsim_vrf_tnum_cast(nicsim_vrf_tnum_of(r), 4);
    struct bounds32 b = {(uint32_t)lo.v, (uint32_t)(lo.v | lo.m),
                         (int32_t)(uint32_t)(lo.v | (lo.m & 0x80000000u)),
                         (int32_t)(uint32_t)(lo.v | (lo.m & 0x7fffffffu))};

    if (r->has32) {
        b32_u(&b, r->u32_min, r->u32_max);
        b32_s(&b, r->s32_min, r->s32_max);
    }
    if ((r->umin >> 32) == (r->umax >> 32)) {
        b32_u(&b, (uint32_t)r->umin, (uint32_t)r->umax);
        if ((int32_t)r->umin <= (int32_t)r->umax)
            b32_s(&b, (int32_t)r->umin, (int32_t)r->umax);
    }
    if (((uint64_t)r->smin >> 32) == ((uint64_t)r->smax >> 32)) {
        if ((uint32_t)r->smin <= (uint32_t)r->smax)
            b32_u(&b, (uint32_t)r->smin, (uint32_t)r->smax);
        if ((int32_t)r->smin <= (int32_t)r->smax)
            b32_s(&b, (int32_t)r->smin, (int32_t)r->smax);
    }
    if ((int32_t)b.umin <= (int32_t)b.umax)
        b32_s(&b, (int32_t)b.umin, (int32_t)b.umax);
    if ((uint32_t)b.smin <= (uint32_t)b.smax) {
        b32_u(&b, (uint32_t)b.smin, (uint32_t)b.smax);
    } else if (b.umax < (uint32_t)b.smin) { /* as in reg_bounds_sync, on 32 bits */
        b.smin = (int32_t)b.umin;
        b32_u(&b, 0, (uint32_t)b.smax);
    } else if ((uint32_t)b.smax < b.umin) {
        b.smax = (int32_t)b.umax;
        b32_u(&b, (uint32_t)b.smin, UINT32_MAX);
    }
    return b;
}

bool nicsim_vrf_bounds32_within(struct bounds32 old, struct bounds32 cur)
{
    return old.umin <= cur.umin && old.umax >= cur.umax && old.smin <= cur.smin &&
           old.smax >= cur.smax;
}

/* __update_reg_bounds + __reg_deduce_bounds + __reg_deduce_mixed_bounds + __reg_bound_offset:
 * make the 64-bit bounds, the 32-bit ones and the tnum agree with each other. */
void nicsim_vrf_reg_bounds_sync(struct nicsim_reg_state *r)
{
    uint64_t sign = 1ull << 63, lo32 = 0xffffffffull;

    for (int pass = 0; pass < 2; pass++) {
        struct bounds32 b = nicsim_vrf_reg_bounds32(r);

        if (b.umin <= b.umax && b.smin <= b.smax) {
            /* what the low half's bounds say of the 64-bit value */
            uint64_t nu_min = (r->umin & ~lo32) | b.umin, nu_max = (r->umax & ~lo32) | b.umax;
            int64_t ns_min = (int64_t)(((uint64_t)r->smin & ~lo32) | b.umin);
            int64_t ns_max = (int64_t)(((uint64_t)r->smax & ~lo32) | b.umax);
            struct tnum t = nicsim_vrf_tnum_of(r), t32;

            r->umin = nicsim_vrf_umax64(r->umin, nu_min);
            r->umax = nicsim_vrf_umin64(r->umax, nu_max);
            r->smin = nicsim_vrf_smax64(r->smin, ns_min);
            r->smax = nicsim_vrf_smin64(r->smax, ns_max);
            if (b.smin >= 0 && r->smin >= INT32_MIN && r->smax <= INT32_MAX) {
                r->smin = nicsim_vrf_smax64(r->smin, b.smin);
                r->smax = nicsim_vrf_smin64(r->smax, b.smax);
            }
            t32 = nicsim_vrf_tnum_intersect(nicsim_vrf_tnum_cast(t, 4),
                                            nicsim_vrf_tnum_range(b.umin, b.umax));
            nicsim_vrf_set_tnum(r, (struct tnum){(t.v & ~lo32) | t32.v, (t.m & ~lo32) | t32.m});
            if (r->has32) {
                r->u32_min = b.umin;
                r->u32_max = b.umax;
                r->s32_min = b.smin;
                r->s32_max = b.smax;
            }
        }
        r->umin = nicsim_vrf_umax64(r->umin, r->tn_value);
        r->umax = nicsim_vrf_umin64(r->umax, r->tn_value | r->tn_mask);
        r->smin = nicsim_vrf_smax64(r->smin, (int64_t)(r->tn_value | (r->tn_mask & sign)));
        r->smax = nicsim_vrf_smin64(r->smax, (int64_t)(r->tn_value | (r->tn_mask & ~sign)));
        if ((uint64_t)r->smin <= (uint64_t)r->smax) { /* one sign: the same range unsigned */
            r->umin = nicsim_vrf_umax64(r->umin, (uint64_t)r->smin);
            r->umax = nicsim_vrf_umin64(r->umax, (uint64_t)r->smax);
        } else if (r->umax < (uint64_t)r->smin) {
            /* the signed range crosses zero, the unsigned one lies below its negative part:
             * only [0, smax] of it is possible */
            r->smin = (int64_t)r->umin;
            r->umax = nicsim_vrf_umin64(r->umax, (uint64_t)r->smax);
        } else if ((uint64_t)r->smax < r->umin) { /* ... above its positive part */
            r->smax = (int64_t)r->umax;
            r->umin = nicsim_vrf_umax64(r->umin, (uint64_t)r->smin);
        }
        if ((int64_t)r->umin <= (int64_t)r->umax) { /* does not cross the sign boundary */
            r->smin = nicsim_vrf_smax64(r->smin, (int64_t)r->umin);
            r->smax = nicsim_vrf_smin64(r->smax, (int64_t)r->umax);
        }
        if (r->umin <= r->umax)
            nicsim_vrf_set_tnum(r,
                                nicsim_vrf_tnum_intersect(nicsim_vrf_tnum_of(r),
                                                          nicsim_vrf_tnum_range(r->umin, r->umax)));
    }
    if (r->type == NICSIM_SCALAR_VALUE) {
        r->known = r->tn_mask == 0;
        r->value = r->known ? r->tn_value : 0;
    } else {
        r->var_off = !(r->tn_mask == 0 && r->tn_value == 0);
    }
}

/* The bounds describe at least one value (a branch refining them to nothing is dead). */
bool nicsim_vrf_reg_bounds_ok(const struct nicsim_reg_state *r)
{
    struct bounds32 b = nicsim_vrf_reg_bounds32(r);

    return r->umin <= r->umax && r->smin <= r->smax && !(r->tn_value & r->tn_mask) &&
           r->tn_value <= r->umax && (r->tn_value | r->tn_mask) >= r->umin && b.umin <= b.umax &&
           b.smin <= b.smax;
}

void nicsim_vrf_mark_unknown(struct nicsim_reg_state *r)
{
    memset(r, 0, sizeof(*r));
    r->type = NICSIM_SCALAR_VALUE;
    nicsim_vrf_bounds_unbounded(r);
    nicsim_vrf_set_tnum(r, nicsim_vrf_tnum_unknown);
}

void nicsim_vrf_mark_known(struct nicsim_reg_state *r, uint64_t v)
{
    memset(r, 0, sizeof(*r));
    r->type = NICSIM_SCALAR_VALUE;
    r->known = 1;
    r->value = v;
    r->umin = r->umax = v;
    r->smin = r->smax = (int64_t)v;
    nicsim_vrf_set_tnum(r, nicsim_vrf_tnum_const(v));
}

/* coerce_reg_to_size: the value zero-extended from its low `bytes` bytes. */
void nicsim_vrf_coerce_to_size(struct nicsim_reg_state *r, int bytes)
{
    uint64_t mask = bytes >= 8 ? UINT64_MAX : (1ull << (bytes * 8)) - 1;

    if (bytes >= 8)
        return;
    if (bytes < 4)
        r->has32 = 0; /* the low 32 bits change */
    if (bytes == 4) { /* what is known of the low half */
        struct bounds32 b = nicsim_vrf_reg_bounds32(r);

        if (b.umin <= b.umax) {
            r->umin = b.umin;
            r->umax = b.umax;
        }
    }
    nicsim_vrf_set_tnum(r, nicsim_vrf_tnum_cast(nicsim_vrf_tnum_of(r), bytes));
    if (r->umax > mask || r->umin > r->umax) {
        r->umin = 0;
        r->umax = mask;
    }
    r->smin = (int64_t)r->umin;
    r->smax = (int64_t)r->umax;
    nicsim_vrf_reg_bounds_sync(r);
}

/* A scalar loaded with sign extension from `bytes` bytes. */
void nicsim_vrf_mark_unknown_sext(struct nicsim_reg_state *r, int bytes)
{
    nicsim_vrf_mark_unknown(r);
    r->smin = -(int64_t)(1ull << (bytes * 8 - 1));
    r->smax = (int64_t)(1ull << (bytes * 8 - 1)) - 1;
    nicsim_vrf_reg_bounds_sync(r);
}

/* The ranges of `old` hold those of `cur`. */
bool nicsim_vrf_range_within(const struct nicsim_reg_state *old, const struct nicsim_reg_state *cur)
{
    return old->umin <= cur->umin && old->umax >= cur->umax && old->smin <= cur->smin &&
           old->smax >= cur->smax;
}

void nicsim_vrf_mark_not_init(struct nicsim_reg_state *r)
{
    memset(r, 0, sizeof(*r));
}

int nicsim_vrf_is_pointer(const struct nicsim_reg_state *r)
{
    return r->type != NICSIM_NOT_INIT && r->type != NICSIM_SCALAR_VALUE;
}

int nicsim_vrf_is_pkt(const struct nicsim_reg_state *r)
{
    return r->type == NICSIM_PTR_TO_PACKET || r->type == NICSIM_PTR_TO_PACKET_META;
}
