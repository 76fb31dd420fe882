/* SPDX-License-Identifier: MIT */
/*
 * The kernel's hash table layout (kernel/bpf/hashtab.c): n_buckets = roundup_pow_of_two(
 * max_entries), the bucket of a key is htab_map_hash(key) & (n_buckets - 1) where htab_map_hash
 * is jhash2 over 32-bit words when the key size is a multiple of 4 and jhash otherwise, seeded
 * with the map's seed (0 with BPF_F_ZERO_SEED). New elements go to the head of their bucket's
 * list; get_next_key walks a bucket's list and then the following buckets, and restarts from the
 * first bucket when the given key is not in the map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

/* ---- jhash (include/linux/jhash.h, Bob Jenkins' lookup3) */
#define JHASH_INITVAL 0xdeadbeefu

static inline uint32_t rol32(uint32_t w, unsigned s)
{
    return (w << s) | (w >> ((32 - s) & 31));
}

static inline void jmix(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *a -= *c;
    *a ^= rol32(*c, 4);
    *c += *b;
    *b -= *a;
    *b ^= rol32(*a, 6);
    *a += *c;
    *c -= *b;
    *c ^= rol32(*b, 8);
    *b += *a;
    *a -= *c;
    *a ^= rol32(*c, 16);
    *c += *b;
    *b -= *a;
    *b ^= rol32(*a, 19);
    *a += *c;
    *c -= *b;
    *c ^= rol32(*b, 4);
    *b += *a;
}

static inline void jfinal(uint32_t *a, uint32_t *b, uint32_t *c)
{
    *c ^= *b;
    *c -= rol32(*b, 14);
    *a ^= *c;
    *a -= rol32(*c, 11);
    *b ^= *a;
    *b -= rol32(*a, 25);
    *c ^= *b;
    *c -= rol32(*b, 16);
    *a ^= *c;
    *a -= rol32(*c, 4);
    *b ^= *a;
    *b -= rol32(*a, 14);
    *c ^= *b;
    *c -= rol32(*b, 24);
}

static inline uint32_t get32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return v;
}

uint32_t nicsim_fm_jhash(const void *key, uint32_t len, uint32_t seed)
{
    const uint8_t *k = key;
    uint32_t a, b, c;

    a = b = c = JHASH_INITVAL + len + seed;
    while (len > 12) {
        a += get32(k);
        b += get32(k + 4);
        c += get32(k + 8);
        jmix(&a, &b, &c);
        len -= 12;
        k += 12;
    }
    switch (len) { /* the tail, byte by byte, little-endian within each word */
    case 12:
        c += (uint32_t)k[11] << 24; /* fall through */
    case 11:
        c += (uint32_t)k[10] << 16; /* fall through */
    case 10:
        c += (uint32_t)k[9] << 8; /* fall through */
    case 9:
        c += k[8]; /* fall through */
    case 8:
        b += (uint32_t)k[7] << 24; /* fall through */
    case 7:
        b += (uint32_t)k[6] << 16; /* fall through */
    case 6:
        b += (uint32_t)k[5] << 8; /* fall through */
    case 5:
        b += k[4]; /* fall through */
    case 4:
        a += (uint32_t)k[3] << 24; /* fall through */
    case 3:
        a += (uint32_t)k[2] << 16; /* fall through */
    case 2:
        a += (uint32_t)k[1] << 8; /* fall through */
    case 1:
        a += k[0];
        jfinal(&a, &b, &c);
        break;
    default:
        break;
    }
    return c;
}

uint32_t nicsim_fm_jhash2(const void *key, uint32_t n, uint32_t seed)
{
    const uint8_t *k = key;
    uint32_t a, b, c;

    a = b = c = JHASH_INITVAL + (n << 2) + seed;
    while (n > 3) {
        a += get32(k);
        b += get32(k + 4);
        c += get32(k + 8);
        jmix(&a, &b, &c);
        n -= 3;
        k += 12;
    }
    switch (n) {
    case 3:
        c += get32(k + 8); /* fall through */
    case 2:
        b += get32(k + 4); /* fall through */
    case 1:
        a += get32(k);
        jfinal(&a, &b, &c);
        break;
    default:
        break;
    }
    return c;
}

uint32_t nicsim_fm_htab_hash(const struct fm_htab *h, const void *key)
{
    if (h->identity) {
        uint32_t v;

        memcpy(&v, key, 4);
        return v;
    }
    if (h->key_size % 4 == 0)
        return nicsim_fm_jhash2(key, h->key_size / 4, h->seed);
    return nicsim_fm_jhash(key, h->key_size, h->seed);
}

/* ---- table */
static int lru_del_from_htab(void *arg, uint32_t node)
{
    struct fm_htab *h = arg;

    if (!h->in_htab[node])
        return 0;
    nicsim_fm_htab_unlink(h, node);
    return 1;
}

void nicsim_fm_htab_fini(struct fm_htab *h)
{
    if (h->lru)
        nicsim_fm_lru_fini(&h->lru_lists);
    free(h->bucket);
    free(h->next);
    free(h->hash);
    free(h->in_htab);
    free(h->keys);
    free(h->free_stk);
    memset(h, 0, sizeof(*h));
}

int nicsim_fm_htab_init(struct fm_htab *h, uint32_t n_elems, uint32_t key_size, uint32_t seed,
                        int identity, int lru, int percpu_lru, uint32_t n_cpus)
{
    size_t ne = n_elems ? n_elems : 1;

    memset(h, 0, sizeof(*h));
    if (n_elems > FM_HTAB_MAX_ENTRIES)
        return -E2BIG; /* the bucket count would not fit 32 bits */
    h->n_elems = n_elems;
    h->n_buckets = (uint32_t)fm_roundup_pow2(n_elems);
    h->seed = seed;
    h->key_size = key_size;
    h->identity = identity;
    h->lru = lru;
    h->bucket = malloc(sizeof(uint32_t) * h->n_buckets);
    h->next = malloc(sizeof(uint32_t) * ne);
    h->hash = calloc(ne, sizeof(uint32_t));
    h->in_htab = calloc(ne, 1);
    h->keys = calloc(ne, key_size);
    h->free_stk = lru ? NULL : malloc(sizeof(uint32_t) * ne);
    if (!h->bucket || !h->next || !h->hash || !h->in_htab || !h->keys || (!lru && !h->free_stk)) {
        nicsim_fm_htab_fini(h);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < h->n_buckets; i++)
        h->bucket[i] = FM_NIL;
    for (uint32_t i = 0; i < n_elems; i++)
        h->next[i] = FM_NIL;
    if (lru) {
        int err =
            nicsim_fm_lru_init(&h->lru_lists, percpu_lru, n_elems, n_cpus, lru_del_from_htab, h);

        if (err) {
            h->lru = 0;
            nicsim_fm_htab_fini(h);
            return err;
        }
        return 0;
    }
    /* free stack: element 0 on top */
    for (uint32_t i = 0; i < n_elems; i++)
        h->free_stk[i] = n_elems - 1 - i;
    h->n_free = n_elems;
    return 0;
}

uint32_t nicsim_fm_htab_find(const struct fm_htab *h, const void *key, uint32_t hash)
{
    for (uint32_t e = h->bucket[hash & (h->n_buckets - 1)]; e != FM_NIL; e = h->next[e])
        if (h->hash[e] == hash && !memcmp(h->keys + (size_t)e * h->key_size, key, h->key_size))
            return e;
    return FM_NIL;
}

void nicsim_fm_htab_link_head(struct fm_htab *h, uint32_t e, uint32_t hash)
{
    uint32_t *b = &h->bucket[hash & (h->n_buckets - 1)];

    h->hash[e] = hash;
    h->next[e] = *b;
    *b = e;
    h->in_htab[e] = 1;
    h->count++;
}

void nicsim_fm_htab_unlink(struct fm_htab *h, uint32_t e)
{
    uint32_t *p = &h->bucket[h->hash[e] & (h->n_buckets - 1)];

    while (*p != FM_NIL && *p != e)
        p = &h->next[*p];
    if (*p == e)
        *p = h->next[e];
    h->next[e] = FM_NIL;
    h->in_htab[e] = 0;
    h->count--;
}

uint32_t nicsim_fm_htab_alloc(struct fm_htab *h)
{
    return h->n_free ? h->free_stk[--h->n_free] : FM_NIL;
}

void nicsim_fm_htab_release(struct fm_htab *h, uint32_t e)
{
    h->free_stk[h->n_free++] = e;
}

int nicsim_fm_htab_next_key(const struct fm_htab *h, const void *key, void *next)
{
    uint32_t i = 0;

    if (key) {
        uint32_t hash = nicsim_fm_htab_hash(h, key);
        uint32_t e = nicsim_fm_htab_find(h, key, hash);

        if (e != FM_NIL) {
            if (h->next[e] != FM_NIL) {
                memcpy(next, h->keys + (size_t)h->next[e] * h->key_size, h->key_size);
                return 0;
            }
            i = (hash & (h->n_buckets - 1)) + 1;
        }
    }
    for (; i < h->n_buckets; i++)
        if (h->bucket[i] != FM_NIL) {
            memcpy(next, h->keys + (size_t)h->bucket[i] * h->key_size, h->key_size);
            return 0;
        }
    return -ENOENT;
}
