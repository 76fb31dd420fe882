/* SPDX-License-Identifier: MIT */
/*
 * LPM trie (kernel/bpf/lpm_trie.c): a binary trie of prefixes whose data is big endian. Keys are
 * struct bpf_lpm_trie_key_u8 (u32 prefixlen, host order, then data_size bytes). Intermediate
 * nodes carry no value and always have two children; a node keeps the data bytes it was stored
 * with, bits past its prefix included, and get_next_key answers them as they are. get_next_key
 * walks the trie in post-order (more specific prefixes first); a key that is not in the trie
 * restarts at the leftmost node.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

static inline const uint8_t *ndata(const struct fm_lpm *t, uint32_t n)
{
    return t->data + (size_t)n * t->data_size;
}

static inline uint32_t key_plen(const uint8_t *key)
{
    uint32_t p;

    memcpy(&p, key, 4);
    return p;
}

static inline int extract_bit(const uint8_t *data, uint32_t index)
{
    return !!(data[index / 8] & (1u << (7 - (index % 8))));
}

/* Bits of node n that match key, at most min(prefixlens). */
static uint32_t lpm_match(const struct fm_lpm *t, uint32_t n, const uint8_t *key)
{
    uint32_t limit = t->plen[n] < key_plen(key) ? t->plen[n] : key_plen(key);
    const uint8_t *a = ndata(t, n), *b = key + 4;
    uint32_t bits = 0;

    for (uint32_t i = 0; i < t->data_size && bits < limit; i++) {
        uint8_t diff = a[i] ^ b[i];

        if (!diff) {
            bits += 8;
            continue;
        }
        while (!(diff & 0x80)) {
            bits++;
            diff <<= 1;
        }
        break;
    }
    return bits < limit ? bits : limit;
}

void nicsim_fm_lpm_fini(struct fm_lpm *t)
{
    free(t->child);
    free(t->plen);
    free(t->slot);
    free(t->im);
    free(t->data);
    free(t->node_free);
    free(t->slot_free);
    memset(t, 0, sizeof(*t));
}

int nicsim_fm_lpm_init(struct fm_lpm *t, uint32_t key_size, uint32_t max_entries)
{
    memset(t, 0, sizeof(*t));
    if (key_size < 5 || !max_entries || max_entries > FM_LPM_MAX_ENTRIES)
        return -E2BIG; /* node indices (2 * max_entries, child 2 * n + 1) stay below FM_NIL */
    t->data_size = key_size - 4;
    t->max_prefixlen = t->data_size * 8;
    t->max_entries = max_entries;
    t->n_nodes = (uint32_t)(2ull * max_entries);
    t->root = FM_NIL;
    t->child = malloc(sizeof(uint32_t) * 2 * t->n_nodes);
    t->plen = calloc(t->n_nodes, sizeof(uint32_t));
    t->slot = calloc(t->n_nodes, sizeof(uint32_t));
    t->im = calloc(t->n_nodes, 1);
    t->data = calloc(t->n_nodes, t->data_size);
    t->node_free = malloc(sizeof(uint32_t) * t->n_nodes);
    t->slot_free = malloc(sizeof(uint32_t) * max_entries);
    if (!t->child || !t->plen || !t->slot || !t->im || !t->data || !t->node_free || !t->slot_free) {
        nicsim_fm_lpm_fini(t);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < t->n_nodes; i++)
        t->node_free[i] = t->n_nodes - 1 - i;
    t->n_node_free = t->n_nodes;
    for (uint32_t i = 0; i < max_entries; i++)
        t->slot_free[i] = max_entries - 1 - i;
    t->n_slot_free = max_entries;
    return 0;
}

static uint32_t node_new(struct fm_lpm *t)
{
    uint32_t n = t->node_free[--t->n_node_free];

    t->child[2 * n] = t->child[2 * n + 1] = FM_NIL;
    t->im[n] = 0;
    t->slot[n] = FM_NIL;
    return n;
}

static void node_put(struct fm_lpm *t, uint32_t n)
{
    if (t->slot[n] != FM_NIL)
        t->slot_free[t->n_slot_free++] = t->slot[n];
    t->slot[n] = FM_NIL;
    t->node_free[t->n_node_free++] = n;
}

/* A slot: the root or a child pointer. */
static uint32_t *slot_of(struct fm_lpm *t, uint32_t parent, int dir)
{
    return parent == FM_NIL ? &t->root : &t->child[2 * parent + dir];
}

uint32_t nicsim_fm_lpm_lookup(const struct fm_lpm *t, const uint8_t *key)
{
    uint32_t found = FM_NIL;

    if (key_plen(key) > t->max_prefixlen)
        return FM_NIL;
    for (uint32_t n = t->root; n != FM_NIL;) {
        uint32_t m = lpm_match(t, n, key);

        if (m == t->max_prefixlen) {
            found = n;
            break;
        }
        if (m < t->plen[n])
            break;
        if (!t->im[n])
            found = n;
        n = t->child[2 * n + extract_bit(key + 4, t->plen[n])];
    }
    return found == FM_NIL ? FM_NIL : t->slot[found];
}

static int check_add(struct fm_lpm *t, uint64_t flags)
{
    if (flags == BPF_EXIST)
        return -ENOENT;
    if (t->n_entries == t->max_entries)
        return -ENOSPC;
    t->n_entries++;
    return 0;
}

int nicsim_fm_lpm_update(struct fm_lpm *t, const uint8_t *key, uint64_t flags, uint32_t *slot)
{
    uint32_t parent = FM_NIL, n, nn, im, m = 0;
    int dir = 0, err;
    uint32_t *s;

    if (flags > BPF_EXIST)
        return -EINVAL;
    if (key_plen(key) > t->max_prefixlen)
        return -EINVAL;
    for (n = t->root; n != FM_NIL; n = *slot_of(t, parent, dir)) {
        m = lpm_match(t, n, key);
        if (t->plen[n] != m || t->plen[n] == key_plen(key))
            break;
        parent = n;
        dir = extract_bit(key + 4, t->plen[n]);
    }
    s = slot_of(t, parent, dir);
    if (n != FM_NIL && t->plen[n] == m) {
        /* exact prefix: the new node replaces this one (its data, its value) */
        if (!t->im[n]) {
            if (flags == BPF_NOEXIST)
                return -EEXIST;
        } else {
            err = check_add(t, flags);
            if (err)
                return err;
            t->im[n] = 0;
            t->slot[n] = t->slot_free[--t->n_slot_free];
        }
        memcpy(t->data + (size_t)n * t->data_size, key + 4, t->data_size);
        *slot = t->slot[n];
        return 0;
    }
    err = check_add(t, flags);
    if (err)
        return err;
    nn = node_new(t);
    t->plen[nn] = key_plen(key);
    memcpy(t->data + (size_t)nn * t->data_size, key + 4, t->data_size);
    t->slot[nn] = t->slot_free[--t->n_slot_free];
    *slot = t->slot[nn];
    if (n == FM_NIL) {
        *s = nn;
        return 0;
    }
    if (m == key_plen(key)) { /* the new prefix is an ancestor of n */
        t->child[2 * nn + extract_bit(ndata(t, n), m)] = n;
        *s = nn;
        return 0;
    }
    im = node_new(t);
    t->plen[im] = m;
    t->im[im] = 1;
    memcpy(t->data + (size_t)im * t->data_size, ndata(t, n), t->data_size);
    if (extract_bit(key + 4, m)) {
        t->child[2 * im] = n;
        t->child[2 * im + 1] = nn;
    } else {
        t->child[2 * im] = nn;
        t->child[2 * im + 1] = n;
    }
    *s = im;
    return 0;
}

int nicsim_fm_lpm_delete(struct fm_lpm *t, const uint8_t *key, uint32_t *slot)
{
    uint32_t parent = FM_NIL, gparent = FM_NIL, n, m = 0;
    int dir = 0, pdir = 0;
    uint32_t *trim, *trim2;

    if (key_plen(key) > t->max_prefixlen)
        return -EINVAL;
    for (n = t->root; n != FM_NIL; n = *slot_of(t, parent, dir)) {
        m = lpm_match(t, n, key);
        if (t->plen[n] != m || t->plen[n] == key_plen(key))
            break;
        gparent = parent;
        pdir = dir;
        parent = n;
        dir = extract_bit(key + 4, t->plen[n]);
    }
    if (n == FM_NIL || t->plen[n] != key_plen(key) || t->plen[n] != m || t->im[n])
        return -ENOENT;
    trim = slot_of(t, parent, dir);
    trim2 = parent == FM_NIL ? &t->root : slot_of(t, gparent, pdir);
    t->n_entries--;
    if (slot)
        *slot = t->slot[n];
    if (t->child[2 * n] != FM_NIL && t->child[2 * n + 1] != FM_NIL) {
        t->im[n] = 1; /* keeps the node as an intermediate one */
        t->slot_free[t->n_slot_free++] = t->slot[n];
        t->slot[n] = FM_NIL;
        return 0;
    }
    if (parent != FM_NIL && t->im[parent] && t->child[2 * n] == FM_NIL &&
        t->child[2 * n + 1] == FM_NIL) {
        /* drop the intermediate parent too, promoting the sibling */
        *trim2 = t->child[2 * parent] == n ? t->child[2 * parent + 1] : t->child[2 * parent];
        node_put(t, parent);
        node_put(t, n);
        return 0;
    }
    if (t->child[2 * n] != FM_NIL)
        *trim = t->child[2 * n];
    else if (t->child[2 * n + 1] != FM_NIL)
        *trim = t->child[2 * n + 1];
    else
        *trim = FM_NIL;
    node_put(t, n);
    return 0;
}

static void copy_key(const struct fm_lpm *t, uint32_t n, uint8_t *next)
{
    memcpy(next, &t->plen[n], 4);
    memcpy(next + 4, ndata(t, n), t->data_size);
}

int nicsim_fm_lpm_next_key(const struct fm_lpm *t, const uint8_t *key, uint8_t *next)
{
    uint32_t search_root = t->root, n, next_node = FM_NIL, m = 0;
    uint32_t stack[2056]; /* max_prefixlen + 1 <= 2049 */
    int sp = -1;

    if (search_root == FM_NIL)
        return -ENOENT;
    if (key && key_plen(key) <= t->max_prefixlen) {
        for (n = search_root; n != FM_NIL;) {
            stack[++sp] = n;
            m = lpm_match(t, n, key);
            if (t->plen[n] != m || t->plen[n] == key_plen(key))
                break;
            n = t->child[2 * n + extract_bit(key + 4, t->plen[n])];
        }
        if (n != FM_NIL && t->plen[n] == m && !t->im[n]) {
            /* found: the next node in post-order */
            n = stack[sp];
            for (; sp > 0; sp--) {
                uint32_t parent = stack[sp - 1];

                if (t->child[2 * parent] == n) {
                    search_root = t->child[2 * parent + 1];
                    if (search_root != FM_NIL)
                        goto find_leftmost;
                }
                if (!t->im[parent]) {
                    copy_key(t, parent, next);
                    return 0;
                }
                n = parent;
            }
            return -ENOENT;
        }
    }
find_leftmost:
    for (n = search_root; n != FM_NIL;) {
        if (t->im[n]) {
            n = t->child[2 * n];
        } else {
            next_node = n;
            n = t->child[2 * n];
            if (n == FM_NIL)
                n = t->child[2 * next_node + 1];
        }
    }
    copy_key(t, next_node, next);
    return 0;
}

/* ---- The LPM trie map type.
 * Limits (trie_alloc, with the NIC's):
 *   max_entries > 0 and at most 2^30 on the NIC (2 * max_entries preallocated nodes);
 *   map_flags include BPF_F_NO_PREALLOC, within LPM_CREATE_FLAG_MASK;
 *   key_size 4 (prefixlen) + 1..256 data bytes; value_size 1..LPM_VAL_SIZE_MAX;
 *   value memory max_entries * value_stride <= 4 GiB - 1 (the core). */
#define LPM_DATA_SIZE_MAX    256u
#define LPM_VAL_SIZE_MAX     (KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - 24u)
#define LPM_CREATE_FLAG_MASK (BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | FM_ACCESS_MASK)

static int lpm_check(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    uint32_t f = a->flags;

    if (!a->max_entries || !(f & BPF_F_NO_PREALLOC) || (f & ~LPM_CREATE_FLAG_MASK) ||
        !fm_access_ok(f))
        FAIL(-EINVAL,
             "LPM trie: max_entries must not be 0 and map_flags 0x%x must include "
             "BPF_F_NO_PREALLOC and nothing unsupported",
             f);
    if (a->key_size < 5 || a->key_size > 4 + LPM_DATA_SIZE_MAX)
        FAIL(-EINVAL, "LPM trie: key_size %u is not 4 (prefixlen) + 1..%u data bytes", a->key_size,
             LPM_DATA_SIZE_MAX);
    if (a->value_size < 1 || a->value_size > LPM_VAL_SIZE_MAX)
        FAIL(-EINVAL, "LPM trie: value_size %u is not in 1..%llu", a->value_size,
             (unsigned long long)LPM_VAL_SIZE_MAX);
    return 0;
}

static int lpm_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                        uint64_t *n_slots, char *msg, size_t msg_len)
{
    if (f->max_entries > FM_LPM_MAX_ENTRIES)
        FAIL(-E2BIG, "LPM trie: max_entries %u is more than the NIC's %u (preallocated nodes)",
             f->max_entries, FM_LPM_MAX_ENTRIES);
    return nicsim_fm_geometry_entries(m, f, map_extra, n_slots, msg, msg_len);
}

/* every map 64, + N * (S + 2 * (24 + round8(key - 4))) */
static int lpm_mem(const struct fm_map *f, uint64_t *mem)
{
    uint64_t per = f->stride + 2 * (24 + nicsim_round8(f->key_size - 4));

    return fm_size(f->max_entries, per, 64, mem);
}

static int lpm_alloc(const struct nicsim_fw_maps *m, struct fm_map *f)
{
    int err;

    (void)m;
    f->t = calloc(1, sizeof(*f->t));
    err = f->t ? nicsim_fm_lpm_init(f->t, f->key_size, f->max_entries) : -ENOMEM;
    if (err) {
        free(f->t);
        f->t = NULL;
    }
    return err;
}

static void lpm_free(struct fm_map *f)
{
    if (f->t) {
        nicsim_fm_lpm_fini(f->t);
        free(f->t);
    }
}

static uint32_t lpm_count(const struct fm_map *f)
{
    return f->t->n_entries;
}

static int lpm_lookup(struct fm_map *f, const void *key, void *value)
{
    uint32_t e = nicsim_fm_lpm_lookup(f->t, key);

    if (e == FM_NIL)
        return -ENOENT;
    nicsim_fm_val_out(f, e, value);
    return 0;
}

static int lpm_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                      const void *value, uint64_t flags, struct fm_src s)
{
    uint32_t slot;
    int err = nicsim_fm_lpm_update(f->t, key, flags, &slot);

    (void)m;
    if (!err)
        nicsim_fm_val_write(f, slot, s, value, 1);
    return err;
}

static int lpm_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t slot;

    (void)m;
    return nicsim_fm_lpm_delete(f->t, key, &slot);
}

static int lpm_get_next_key(struct fm_map *f, const void *key, void *next)
{
    return nicsim_fm_lpm_next_key(f->t, key, next);
}

static int lpm_prog_slot(struct fm_map *f, const void *key, uint32_t *slot)
{
    *slot = nicsim_fm_lpm_lookup(f->t, key);
    return *slot == FM_NIL ? -ENOENT : 0;
}

const struct fm_map_ops nicsim_fm_lpm_trie_ops = {
    .name = "LPM trie",
    .value_mem = 1,
    .prog_write = 1,
    .check = lpm_check,
    .geometry = lpm_geometry,
    .mem = lpm_mem,
    .alloc = lpm_alloc,
    .free = lpm_free,
    .count = lpm_count,
    .lookup = lpm_lookup,
    .update = lpm_update,
    .del = lpm_delete,
    .get_next_key = lpm_get_next_key,
    .prog_slot = lpm_prog_slot,
};
