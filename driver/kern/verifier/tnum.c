/* SPDX-License-Identifier: MIT */
/*
 * Value tracking (after kernel/bpf/tnum.c and the verifier's bounds): a scalar, or the variable
 * part of a pointer's offset, is described by unsigned and signed bounds (bounds.c) and by its
 * known bits, a tnum: `m` has the unknown bits set, `v` the value of the known ones.
 */
#include <stdio.h>

#include "verifier_internal.h"

const struct tnum nicsim_vrf_tnum_unknown = {0, ~0ull};

struct tnum nicsim_vrf_tnum_const(uint64_t v)
{
    return (struct tnum){v, 0};
}
struct tnum nicsim_vrf_tnum_of(const struct nicsim_reg_state *r)
{
    return (struct tnum){r->tn_value, r->tn_mask};
}

/* The smallest tnum holding every value of [min, max]. */
struct tnum nicsim_vrf_tnum_range(uint64_t min, uint64_t max)
{
    uint64_t chi = min ^ max, delta;
    int bits = chi ? 64 - __builtin_clzll(chi) : 0;

    if (bits > 63)
        return nicsim_vrf_tnum_unknown;
    delta = (1ull << bits) - 1;
    return (struct tnum){min & ~delta, delta};
}

struct tnum nicsim_vrf_tnum_add(struct tnum a, struct tnum b)
{
    uint64_t sm = a.m + b.m, sv = a.v + b.v;
    uint64_t carries = (sm + sv) ^ sv, mu = carries | a.m | b.m;

    return (struct tnum){sv & ~mu, mu};
}

struct tnum nicsim_vrf_tnum_sub(struct tnum a, struct tnum b)
{
    uint64_t dv = a.v - b.v;
    uint64_t borrows = (dv + a.m) ^ (dv - b.m), mu = borrows | a.m | b.m;

    return (struct tnum){dv & ~mu, mu};
}

struct tnum nicsim_vrf_tnum_and(struct tnum a, struct tnum b)
{
    uint64_t v = a.v & b.v;

    return (struct tnum){v, (a.v | a.m) & (b.v | b.m) & ~v};
}

struct tnum nicsim_vrf_tnum_or(struct tnum a, struct tnum b)
{
    uint64_t v = a.v | b.v;

    return (struct tnum){v, (a.m | b.m) & ~v};
}

struct tnum nicsim_vrf_tnum_xor(struct tnum a, struct tnum b)
{
    uint64_t mu = a.m | b.m;

    return (struct tnum){(a.v ^ b.v) & ~mu, mu};
}

struct tnum nicsim_vrf_tnum_intersect(struct tnum a, struct tnum b)
{
    uint64_t mu = a.m & b.m;

    return (struct tnum){(a.v | b.v) & ~mu, mu};
}

struct tnum nicsim_vrf_tnum_cast(struct tnum a, int bytes)
{
    uint64_t mask = bytes >= 8 ? ~0ull : (1ull << (bytes * 8)) - 1;

    return (struct tnum){a.v & mask, a.m & mask};
}

/* tnum_is_aligned */
bool nicsim_vrf_tnum_aligned(struct tnum a, int size)
{
    return !((a.v | a.m) & (uint64_t)(size - 1));
}

/* tnum_strn as the running kernel prints it: a constant as a number, else (value; mask). */
const char *nicsim_vrf_tnum_str(struct tnum a, char *buf, size_t len)
{
    if (!a.m)
        snprintf(buf, len, "%llu", (unsigned long long)a.v);
    else
        snprintf(buf, len, "(0x%llx; 0x%llx)", (unsigned long long)a.v, (unsigned long long)a.m);
    return buf;
}

/* Every value `b` allows, `a` allows too. */
bool nicsim_vrf_tnum_in(struct tnum a, struct tnum b)
{
    if (b.m & ~a.m)
        return false;
    return a.v == (b.v & ~a.m);
}
