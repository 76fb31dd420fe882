/* SPDX-License-Identifier: MIT */
/*
 * NIC map library: map creation (the kernel's map_create / map_alloc_check rules), the host's
 * bpf(2) element operations and the programs' helper operations, over one store.
 *
 * Value memory: every map with in-place values owns one block of n_slots * value_stride bytes,
 * allocated at creation and never moved. value_stride = round_up(value_size, 8) * n_cpus (n_cpus
 * is 1 unless the map is per-CPU); the value of element slot e, CPU c is at
 * e * value_stride + c * round_up(value_size, 8). Slots: arrays by index, hashes by element,
 * the LPM trie by leaf.
 *
 * Memory charged to the budget (nicsim_fw_map_info.mem), in bytes, with S = value_stride,
 * B = the hash table's bucket count (roundup_pow_of_two(max_entries)), N = max_entries:
 *   every map                                  64 (descriptor)
 *   array, per-CPU array                       + N * S
 *   prog array, perf event array, array of maps, devmap, cpumap   + N * 8
 *   hash, per-CPU hash, LRU hashes, hash of maps          + 8 * B + N * (32 + round8(key) + S)
 *   devmap hash                                + 8 * B + N * 40
 *   LPM trie                                   + N * (S + 2 * (24 + round8(key - 4)))
 *   queue, stack                               + (N + 1) * round8(value)
 *   bloom filter                               + the bit array's bytes
 *   ring buffer                                + N + 4096 (data and the position pages)
 *
 * Sizes (map_geometry, fm_size in fw_maps_internal.h): every count and product is computed once,
 * in 64 bits, with overflow refused. Limits besides each type's kernel checks: a hash table holds
 * at most 2^31 elements (the kernel's -E2BIG, after the per-CPU LRU rounding), an LPM trie at
 * most 2^30 prefixes (its preallocated nodes are indexed with 32 bits), and a map's value memory
 * is at most 4 GiB - 1 (a core addresses a map region with 32-bit offsets); each is -E2BIG with
 * the limit named. Then the budget: -ENOMEM.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

#define KMALLOC_MAX_SIZE   (1ull << 22) /* x86-64: 1 << (PAGE_SHIFT + MAX_PAGE_ORDER) */
#define HTAB_ELEM_SIZE     48u          /* sizeof(struct htab_elem) */
#define PCPU_MIN_UNIT_SIZE (32u << 10)
#define LPM_DATA_SIZE_MAX  256u
#define LPM_VAL_SIZE_MAX   (KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - 24u)
#define PAGE_SIZE          4096u

#define ARRAY_CREATE_FLAG_MASK                                                                     \
    (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | FM_ACCESS_MASK | BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)
#define HTAB_CREATE_FLAG_MASK                                                                      \
    (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | FM_ACCESS_MASK | BPF_F_ZERO_SEED)
#define LPM_CREATE_FLAG_MASK   (BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | FM_ACCESS_MASK)
#define DEV_CREATE_FLAG_MASK   (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)
#define QS_CREATE_FLAG_MASK    (BPF_F_NUMA_NODE | FM_ACCESS_MASK)
#define BLOOM_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_ZERO_SEED | FM_ACCESS_MASK)

static void say(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!msg || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

#define FAIL(err, ...)                                                                             \
    do {                                                                                           \
        say(msg, msg_len, __VA_ARGS__);                                                            \
        return (err);                                                                              \
    } while (0)

/* ---- type classes */
static int is_plain_array(uint32_t t)
{
    return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

static int is_fd_array(uint32_t t)
{
    return t == BPF_MAP_TYPE_PROG_ARRAY || t == BPF_MAP_TYPE_PERF_EVENT_ARRAY ||
           t == BPF_MAP_TYPE_ARRAY_OF_MAPS;
}

/* Arrays of redirect targets indexed by the key, with a slot-present flag. */
static int is_devarray(uint32_t t)
{
    return t == BPF_MAP_TYPE_DEVMAP || t == BPF_MAP_TYPE_CPUMAP;
}

static int is_htab(uint32_t t)
{
    return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_HASH ||
           t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_HASH_OF_MAPS;
}

static int is_lru(uint32_t t)
{
    return t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int has_value_mem(uint32_t t)
{
    return is_plain_array(t) || is_htab(t) || t == BPF_MAP_TYPE_LPM_TRIE;
}

int nicsim_fw_maps__type_supported(uint32_t t)
{
    return fm_ops(t) != NULL;
}

/* ---- store */
struct nicsim_fw_maps *nicsim_fw_maps__new(const struct nicsim_fw_maps_opts *opts)
{
    struct nicsim_fw_maps_opts o = {0};
    struct nicsim_fw_maps *m;

    if (!opts || opts->sz < offsetof(struct nicsim_fw_maps_opts, max_id) + sizeof(uint32_t)) {
        errno = EINVAL;
        return NULL;
    }
    memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
    if (!o.n_cpus || o.n_cpus > 64 || !o.max_id || o.max_id > (1u << 24) ||
        o.host_cpu >= o.n_cpus) {
        errno = EINVAL;
        return NULL;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->maps = calloc((size_t)o.max_id + 1u, sizeof(*m->maps));
    if (!m->maps) {
        free(m);
        errno = ENOMEM;
        return NULL;
    }
    m->n_cpus = o.n_cpus;
    m->max_id = o.max_id;
    m->host_cpu = o.host_cpu;
    m->hash_seed = o.hash_seed;
    m->mem_budget = o.mem_budget ? o.mem_budget : UINT64_MAX;
    return m;
}

static void map_free(struct fm_map *f)
{
    if (!f)
        return;
    if (f->h) {
        fm_htab_fini(f->h);
        free(f->h);
    }
    if (f->t) {
        fm_lpm_fini(f->t);
        free(f->t);
    }
    free(f->vals);
    free(f->present);
    free(f->bits);
    free(f);
}

void nicsim_fw_maps__free(struct nicsim_fw_maps *m)
{
    if (!m)
        return;
    for (uint32_t i = 0; i <= m->max_id; i++)
        map_free(m->maps[i]);
    free(m->maps);
    free(m);
}

/* A map the host can name: not one it freed that an outer map still holds. */
static struct fm_map *get(const struct nicsim_fw_maps *m, uint32_t id)
{
    if (!m || !id || id > m->max_id || !m->maps[id] || m->maps[id]->freed)
        return NULL;
    return m->maps[id];
}

int nicsim_fw_maps__in_use(const struct nicsim_fw_maps *m, uint32_t id)
{
    return m && id && id <= m->max_id && m->maps[id];
}

/* ---- map-in-map references (the kernel's: an outer map's element holds its inner map). */
static void release(struct nicsim_fw_maps *m, uint32_t id)
{
    struct fm_map *f = m->maps[id];

    m->mem_used -= f->mem;
    map_free(f);
    m->maps[id] = NULL;
}

static void inner_ref(struct nicsim_fw_maps *m, uint32_t id)
{
    m->maps[id]->refs++; /* id passed inner_ok: it exists */
}

static void inner_put(struct nicsim_fw_maps *m, uint32_t id)
{
    struct fm_map *f = id && id <= m->max_id ? m->maps[id] : NULL;

    if (!f || !f->refs)
        return;
    if (!--f->refs && f->freed)
        release(m, id); /* the host freed it before: this was the last reference */
}

/* An outer map going away drops what its elements hold. */
static void inner_put_all(struct nicsim_fw_maps *m, struct fm_map *f)
{
    uint32_t id;

    if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
        for (uint32_t i = 0; i < f->max_entries; i++)
            if (f->present[i]) {
                memcpy(&id, f->vals + (size_t)i * f->stride, 4);
                inner_put(m, id);
            }
    } else if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        for (uint32_t e = 0; e < f->h->n_elems; e++)
            if (f->h->in_htab[e]) {
                memcpy(&id, f->vals + (size_t)e * f->stride, 4);
                inner_put(m, id);
            }
    }
}

uint64_t nicsim_fw_maps__mem_used(const struct nicsim_fw_maps *m)
{
    return m ? m->mem_used : 0;
}

/* ---- creation: the checks of map_create and of each type's map_alloc_check / map_alloc */
static int access_ok(uint32_t flags)
{
    return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !=
           (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

static int check_array(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries)
        FAIL(-EINVAL, "max_entries must not be 0");
    if (a->key_size != 4)
        FAIL(-EINVAL, "array maps have 4-byte keys (u32 index), not %u", a->key_size);
    if (!a->value_size)
        FAIL(-EINVAL, "value_size must not be 0");
    if ((a->flags & ~ARRAY_CREATE_FLAG_MASK) || !access_ok(a->flags))
        FAIL(-EINVAL, "map_flags 0x%x are not valid for an array map", a->flags);
    if (a->type == BPF_MAP_TYPE_PERCPU_ARRAY && (a->flags & BPF_F_NUMA_NODE))
        FAIL(-EINVAL, "per-CPU arrays take no NUMA node");
    if (a->type != BPF_MAP_TYPE_ARRAY && (a->flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
        FAIL(-EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for BPF_MAP_TYPE_ARRAY only");
    if (a->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && (a->flags & BPF_F_PRESERVE_ELEMS))
        FAIL(-EINVAL, "BPF_F_PRESERVE_ELEMS is for perf event arrays only");
    if (a->value_size > 0x7fffffffu)
        FAIL(-E2BIG, "value_size %u is too large", a->value_size);
    if (a->type == BPF_MAP_TYPE_PERCPU_ARRAY && nicsim_round8(a->value_size) > PCPU_MIN_UNIT_SIZE)
        FAIL(-E2BIG, "per-CPU values are limited to %u bytes, not %u", PCPU_MIN_UNIT_SIZE,
             a->value_size);
    if (a->max_entries > (1u << 31))
        FAIL(-E2BIG, "max_entries %u is too large", a->max_entries);
    return 0;
}

static int check_htab(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    int percpu = nicsim_map_type_is_percpu(a->type), lru = is_lru(a->type);

    if ((a->flags & ~HTAB_CREATE_FLAG_MASK) || !access_ok(a->flags))
        FAIL(-EINVAL, "map_flags 0x%x are not valid for a hash map", a->flags);
    if (!lru && (a->flags & BPF_F_NO_COMMON_LRU))
        FAIL(-EINVAL, "BPF_F_NO_COMMON_LRU is for LRU hash maps only");
    if (lru && (a->flags & BPF_F_NO_PREALLOC))
        FAIL(-NICSIM_ENOTSUPP, "LRU hash maps are always preallocated (BPF_F_NO_PREALLOC refused)");
    if ((a->flags & BPF_F_NUMA_NODE) && (percpu || (a->flags & BPF_F_NO_COMMON_LRU)))
        FAIL(-EINVAL, "per-CPU maps take no NUMA node");
    if (!a->max_entries || !a->key_size || !a->value_size)
        FAIL(-EINVAL, "key_size (%u), value_size (%u) and max_entries (%u) must not be 0",
             a->key_size, a->value_size, a->max_entries);
    if ((uint64_t)a->key_size + a->value_size >= KMALLOC_MAX_SIZE - HTAB_ELEM_SIZE)
        FAIL(-E2BIG, "key_size + value_size (%llu) is too large",
             (unsigned long long)a->key_size + a->value_size);
    if (percpu && nicsim_round8(a->value_size) > PCPU_MIN_UNIT_SIZE)
        FAIL(-E2BIG, "per-CPU values are limited to %u bytes, not %u", PCPU_MIN_UNIT_SIZE,
             a->value_size);
    return 0;
}

static int check_fd_array(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size != 4)
        FAIL(-EINVAL, "map type %u holds 4-byte ids, not %u-byte values", a->type, a->value_size);
    if (a->flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
        FAIL(-EINVAL, "map type %u takes no BPF_F_RDONLY_PROG / BPF_F_WRONLY_PROG", a->type);
    return check_array(a, msg, msg_len);
}

static int check_hash_of_maps(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size != 4)
        FAIL(-EINVAL, "hash of maps holds 4-byte ids, not %u-byte values", a->value_size);
    return check_htab(a, msg, msg_len); /* max_entries: map_geometry, after LRU rounding */
}

static int check_lpm(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    uint32_t f = a->flags;

    if (!a->max_entries || !(f & BPF_F_NO_PREALLOC) || (f & ~LPM_CREATE_FLAG_MASK) || !access_ok(f))
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

static int check_dev(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries || a->key_size != 4 || (a->value_size != 4 && a->value_size != 8) ||
        (a->flags & ~DEV_CREATE_FLAG_MASK))
        FAIL(-EINVAL,
             "devmap: key_size 4, value_size 4 (ifindex) or 8 (ifindex, prog fd), "
             "max_entries > 0 and map_flags within 0x%x needed",
             DEV_CREATE_FLAG_MASK);
    if (a->type == BPF_MAP_TYPE_DEVMAP_HASH && a->max_entries > (1u << 31))
        FAIL(-EINVAL, "max_entries %u is too large", a->max_entries);
    return 0;
}

static int check_cpumap(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    /* cpu_map_alloc */
    if (!a->max_entries || a->key_size != 4 || (a->value_size != 4 && a->value_size != 8) ||
        (a->flags & ~BPF_F_NUMA_NODE))
        FAIL(-EINVAL,
             "cpumap: key_size 4 (the CPU), value_size 4 (qsize) or 8 (qsize, prog fd), "
             "max_entries > 0 and map_flags within 0x%x needed",
             BPF_F_NUMA_NODE);
    if (a->max_entries > FM_CPUMAP_MAX_CPUS)
        FAIL(-E2BIG, "cpumap: max_entries %u is more than the NIC's %u host CPUs", a->max_entries,
             FM_CPUMAP_MAX_CPUS);
    return 0;
}

static int check_qs(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (!a->max_entries || a->key_size || !a->value_size || (a->flags & ~QS_CREATE_FLAG_MASK) ||
        !access_ok(a->flags))
        FAIL(-EINVAL, "queue / stack: key_size 0, value_size and max_entries > 0 needed");
    if (a->value_size > KMALLOC_MAX_SIZE)
        FAIL(-E2BIG, "value_size %u is too large", a->value_size);
    return 0;
}

static int check_bloom(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->value_size > KMALLOC_MAX_SIZE) /* bloom_map_alloc_check, before map_alloc */
        FAIL(-E2BIG, "bloom filter: value_size %u is more than %llu", a->value_size,
             (unsigned long long)KMALLOC_MAX_SIZE);
    if (a->key_size || !a->value_size || !a->max_entries || (a->flags & ~BLOOM_CREATE_FLAG_MASK) ||
        !access_ok(a->flags))
        FAIL(-EINVAL, "bloom filter: key_size 0, value_size and max_entries > 0 needed");
    if (a->map_extra & ~0xfull)
        FAIL(-EINVAL, "bloom filter: map_extra 0x%llx, only bits 0-3 (hash functions) exist",
             (unsigned long long)a->map_extra);
    return 0;
}

static int check_ringbuf(const struct nicsim_fw_map_attr *a, char *msg, size_t msg_len)
{
    if (a->flags & ~BPF_F_NUMA_NODE)
        FAIL(-EINVAL, "ring buffer: map_flags 0x%x are not valid", a->flags);
    if (a->key_size || a->value_size || a->max_entries < PAGE_SIZE ||
        (a->max_entries & (a->max_entries - 1)))
        FAIL(-EINVAL,
             "ring buffer: key and value size 0, size a power of 2 and a multiple "
             "of %u",
             PAGE_SIZE);
    return 0;
}

/* ---- Memory charged per type (the table in this file's head comment); S = f->stride. */
static int mem_array(const struct fm_map *f, uint64_t *mem)
{
    return fm_size(f->max_entries, f->stride, 64, mem);
}

/* prog array, perf event array, array of maps, devmap, cpumap: 8 bytes an entry */
static int mem_ids(const struct fm_map *f, uint64_t *mem)
{
    return fm_size(f->max_entries, 8, 64, mem);
}

static int mem_htab(const struct fm_map *f, uint64_t *mem)
{
    uint64_t per = 32 + nicsim_round8(f->key_size) + f->stride, x;
    int err = fm_size(fm_roundup_pow2(f->max_entries), 8, 64, &x);

    return err ? err : fm_size(f->max_entries, per, x, mem);
}

static int mem_devhash(const struct fm_map *f, uint64_t *mem)
{
    uint64_t x;
    int err = fm_size(fm_roundup_pow2(f->max_entries), 8, 64, &x);

    return err ? err : fm_size(f->max_entries, 40, x, mem);
}

static int mem_lpm(const struct fm_map *f, uint64_t *mem)
{
    uint64_t per = f->stride + 2 * (24 + nicsim_round8(f->key_size - 4));

    return fm_size(f->max_entries, per, 64, mem);
}

static int mem_qs(const struct fm_map *f, uint64_t *mem)
{
    return fm_size((uint64_t)f->max_entries + 1, nicsim_round8(f->value_size), 64, mem);
}

static int mem_bloom(const struct fm_map *f, uint64_t *mem)
{
    *mem = 64 + (uint64_t)f->bloom_mask / 8 + 1;
    return 0;
}

static int mem_ringbuf(const struct fm_map *f, uint64_t *mem)
{
    *mem = 64 + (uint64_t)f->max_entries + PAGE_SIZE;
    return 0;
}

/* bpf(2) lookups per type, defined with the host side below */
static int lookup_array(struct fm_map *f, const void *key, void *value);
static int lookup_ids(struct fm_map *f, const void *key, void *value);
static int lookup_notsupp(struct fm_map *f, const void *key, void *value);
static int lookup_lpm(struct fm_map *f, const void *key, void *value);
static int lookup_qs(struct fm_map *f, const void *key, void *value);
static int lookup_bloom(struct fm_map *f, const void *key, void *value);
static int lookup_htab(struct fm_map *f, const void *key, void *value);
/* bpf(2) deletes per type, defined with the host side below */
static int delete_bloom(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_dev(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_devhash(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_einval(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_fd(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_htab(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_lpm(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);
static int delete_ringbuf(struct nicsim_fw_maps *m, struct fm_map *f, const void *key);

/* One entry per supported map type (enum bpf_map_type): its name in messages and its creation
 * checks (the kernel's map_alloc_check with the NIC's limits). */
static const struct fm_map_ops fm_map_ops[] = {
    [BPF_MAP_TYPE_ARRAY] = {.name = "array",
                            .check = check_array,
                            .mem = mem_array,
                            .lookup = lookup_array,
                            .del = delete_einval},
    [BPF_MAP_TYPE_PERCPU_ARRAY] = {.name = "per-CPU array",
                                   .check = check_array,
                                   .mem = mem_array,
                                   .lookup = lookup_array,
                                   .del = delete_einval},
    [BPF_MAP_TYPE_PROG_ARRAY] = {.name = "prog array",
                                 .check = check_fd_array,
                                 .mem = mem_ids,
                                 .lookup = lookup_ids,
                                 .del = delete_fd},
    [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = {.name = "perf event array",
                                       .check = check_fd_array,
                                       .mem = mem_ids,
                                       .lookup = lookup_notsupp,
                                       .del = delete_fd},
    [BPF_MAP_TYPE_ARRAY_OF_MAPS] = {.name = "array of maps",
                                    .check = check_fd_array,
                                    .mem = mem_ids,
                                    .lookup = lookup_ids,
                                    .del = delete_fd},
    [BPF_MAP_TYPE_HASH] = {.name = "hash",
                           .check = check_htab,
                           .mem = mem_htab,
                           .lookup = lookup_htab,
                           .del = delete_htab},
    [BPF_MAP_TYPE_PERCPU_HASH] = {.name = "per-CPU hash",
                                  .check = check_htab,
                                  .mem = mem_htab,
                                  .lookup = lookup_htab,
                                  .del = delete_htab},
    [BPF_MAP_TYPE_LRU_HASH] = {.name = "LRU hash",
                               .check = check_htab,
                               .mem = mem_htab,
                               .lookup = lookup_htab,
                               .del = delete_htab},
    [BPF_MAP_TYPE_LRU_PERCPU_HASH] = {.name = "LRU per-CPU hash",
                                      .check = check_htab,
                                      .mem = mem_htab,
                                      .lookup = lookup_htab,
                                      .del = delete_htab},
    [BPF_MAP_TYPE_HASH_OF_MAPS] = {.name = "hash of maps",
                                   .check = check_hash_of_maps,
                                   .mem = mem_htab,
                                   .lookup = lookup_htab,
                                   .del = delete_htab},
    [BPF_MAP_TYPE_LPM_TRIE] = {.name = "LPM trie",
                               .check = check_lpm,
                               .mem = mem_lpm,
                               .lookup = lookup_lpm,
                               .del = delete_lpm},
    [BPF_MAP_TYPE_DEVMAP] = {.name = "devmap",
                             .check = check_dev,
                             .mem = mem_ids,
                             .lookup = lookup_ids,
                             .del = delete_dev},
    [BPF_MAP_TYPE_DEVMAP_HASH] = {.name = "devmap hash",
                                  .check = check_dev,
                                  .mem = mem_devhash,
                                  .lookup = lookup_htab,
                                  .del = delete_devhash},
    [BPF_MAP_TYPE_CPUMAP] = {.name = "cpumap",
                             .check = check_cpumap,
                             .mem = mem_ids,
                             .lookup = lookup_ids,
                             .del = delete_dev},
    [BPF_MAP_TYPE_QUEUE] = {.name = "queue",
                            .check = check_qs,
                            .mem = mem_qs,
                            .lookup = lookup_qs,
                            .del = delete_einval},
    [BPF_MAP_TYPE_STACK] = {.name = "stack",
                            .check = check_qs,
                            .mem = mem_qs,
                            .lookup = lookup_qs,
                            .del = delete_einval},
    [BPF_MAP_TYPE_BLOOM_FILTER] = {.name = "bloom filter",
                                   .check = check_bloom,
                                   .mem = mem_bloom,
                                   .lookup = lookup_bloom,
                                   .del = delete_bloom},
    [BPF_MAP_TYPE_RINGBUF] = {.name = "ring buffer",
                              .check = check_ringbuf,
                              .mem = mem_ringbuf,
                              .lookup = lookup_notsupp,
                              .del = delete_ringbuf},
};

const struct fm_map_ops *fm_ops(uint32_t type)
{
    if (type >= sizeof(fm_map_ops) / sizeof(fm_map_ops[0]) || !fm_map_ops[type].check)
        return NULL;
    return &fm_map_ops[type];
}

static int check_attr(struct nicsim_fw_maps *m, const struct nicsim_fw_map_attr *a, char *msg,
                      size_t msg_len)
{
    const struct fm_map_ops *ops = fm_ops(a->type);
    uint32_t t = a->type, f = a->flags;
    int err;

    if (!ops)
        FAIL(-EINVAL, "map type %u is not supported by the NIC", t);
    if ((f & BPF_F_RDONLY) && (f & BPF_F_WRONLY))
        FAIL(-EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
    if (a->inner_map_id && t != BPF_MAP_TYPE_ARRAY_OF_MAPS && t != BPF_MAP_TYPE_HASH_OF_MAPS)
        FAIL(-EINVAL, "map type %u holds no maps (inner map %u given)", t, a->inner_map_id);
    if (a->map_extra && t != BPF_MAP_TYPE_BLOOM_FILTER) /* map_create */
        FAIL(-EINVAL, "map_extra 0x%llx is for bloom filters only",
             (unsigned long long)a->map_extra);
    err = ops->check(a, msg, msg_len);
    if (err)
        return err;
    if (t == BPF_MAP_TYPE_ARRAY_OF_MAPS || t == BPF_MAP_TYPE_HASH_OF_MAPS) {
        struct fm_map *in = get(m, a->inner_map_id);

        if (!in)
            FAIL(-EINVAL, "map-in-map: the template map %u does not exist", a->inner_map_id);
        if (in->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || in->type == BPF_MAP_TYPE_HASH_OF_MAPS)
            FAIL(-EINVAL, "map-in-map: the template map %u holds maps itself", a->inner_map_id);
    }
    return 0;
}

/* Bytes charged (the formula at the top), from checked 64-bit products. */
static int mem_of(const struct fm_map *f, uint64_t *mem)
{
    return fm_ops(f->type)->mem(f, mem);
}

/*
 * Every size of a new map, once, in 64 bits (fm_size): the element count after the LRU per-CPU
 * rounding, the kernel's and the NIC's count limits, the value memory (slots * stride) and the
 * bytes charged. A limit passed is -E2BIG with the sentence, never a wrapped size.
 */
static int map_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                        char *msg, size_t msg_len)
{
    uint64_t n_slots = 0, len;

    if (is_lru(f->type) && (f->flags & BPF_F_NO_COMMON_LRU)) {
        /* htab_map_alloc: roundup(max_entries, CPUs), rounddown when that passes u32 */
        uint64_t up = ((uint64_t)f->max_entries + m->n_cpus - 1) / m->n_cpus * m->n_cpus;

        f->max_entries = up > UINT32_MAX ? f->max_entries / m->n_cpus * m->n_cpus : (uint32_t)up;
    }
    if (is_htab(f->type) && f->max_entries > FM_HTAB_MAX_ENTRIES)
        FAIL(-E2BIG, "max_entries %u is more than a hash table's %u", f->max_entries,
             FM_HTAB_MAX_ENTRIES);
    if (f->type == BPF_MAP_TYPE_LPM_TRIE && f->max_entries > FM_LPM_MAX_ENTRIES)
        FAIL(-E2BIG, "LPM trie: max_entries %u is more than the NIC's %u (preallocated nodes)",
             f->max_entries, FM_LPM_MAX_ENTRIES);
    if (f->type == BPF_MAP_TYPE_BLOOM_FILTER)
        fm_bloom_size(f, map_extra);
    if (f->type == BPF_MAP_TYPE_QUEUE || f->type == BPF_MAP_TYPE_STACK) {
        f->stride = f->value_size; /* a ring of max_entries + 1 raw values */
        f->n_cpus = 1;
        n_slots = (uint64_t)f->max_entries + 1;
    } else if (is_plain_array(f->type) || is_fd_array(f->type) || is_devarray(f->type) ||
               is_htab(f->type) || f->type == BPF_MAP_TYPE_LPM_TRIE ||
               f->type == BPF_MAP_TYPE_DEVMAP_HASH) {
        n_slots = f->max_entries;
    }
    if (fm_size(n_slots, f->stride, 0, &len) || len > FM_MAX_VALUE_MEM)
        FAIL(-E2BIG,
             "%llu elements of %u bytes are more than the %llu bytes a map region addresses",
             (unsigned long long)n_slots, f->stride, (unsigned long long)FM_MAX_VALUE_MEM);
    f->vals_len = (size_t)len;
    if (mem_of(f, &f->mem))
        FAIL(-E2BIG, "the map's size overflows 64 bits");
    return 0;
}

int nicsim_fw_maps__create(struct nicsim_fw_maps *m, uint32_t id,
                           const struct nicsim_fw_map_attr *attr, char *msg, size_t msg_len)
{
    struct fm_map *f;
    int err;

    if (!m || !attr)
        FAIL(-EINVAL, "no store or no attributes");
    if (!id || id > m->max_id)
        FAIL(-EINVAL, "map id %u is not in 1..%u", id, m->max_id);
    if (m->maps[id])
        FAIL(-EEXIST, "map id %u is in use", id);
    err = check_attr(m, attr, msg, msg_len);
    if (err)
        return err;
    f = calloc(1, sizeof(*f));
    if (!f)
        FAIL(-ENOMEM, "no firmware memory");
    f->type = attr->type;
    f->key_size = attr->key_size;
    f->value_size = attr->value_size;
    f->max_entries = f->attr_max_entries = attr->max_entries;
    f->flags = attr->flags;
    if (f->type == BPF_MAP_TYPE_DEVMAP || f->type == BPF_MAP_TYPE_DEVMAP_HASH)
        f->flags |= BPF_F_RDONLY_PROG; /* as dev_map_init_map */
    f->n_cpus = nicsim_map_type_is_percpu(f->type) ? m->n_cpus : 1;
    f->slice = (uint32_t)nicsim_round8(f->value_size);
    f->stride = f->slice * f->n_cpus; /* slice <= 32 KiB when per-CPU (check_attr) */
    if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || f->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        const struct fm_map *in = m->maps[attr->inner_map_id];

        f->inner = (struct nicsim_fw_map_attr){.type = in->type,
                                               .key_size = in->key_size,
                                               .value_size = in->value_size,
                                               .max_entries = in->max_entries,
                                               .flags = in->flags};
    }
    err = map_geometry(m, f, attr->map_extra, msg, msg_len);
    if (err) {
        map_free(f);
        return err;
    }
    if (f->mem > m->mem_budget - m->mem_used) {
        uint64_t need = f->mem;

        map_free(f);
        FAIL(-ENOMEM, "map needs %llu bytes of map memory, %llu of %llu are left",
             (unsigned long long)need, (unsigned long long)(m->mem_budget - m->mem_used),
             (unsigned long long)m->mem_budget);
    }
    f->vals = calloc(f->vals_len ? f->vals_len : 1, 1);
    err = f->vals ? 0 : -ENOMEM;
    if (!err && (is_fd_array(f->type) || is_devarray(f->type))) {
        f->present = calloc(f->max_entries, 1);
        err = f->present ? 0 : -ENOMEM;
    }
    if (!err && (is_htab(f->type) || f->type == BPF_MAP_TYPE_DEVMAP_HASH)) {
        uint32_t seed = (f->flags & BPF_F_ZERO_SEED) ? 0 : m->hash_seed;

        f->h = calloc(1, sizeof(*f->h));
        err = f->h ? fm_htab_init(f->h, f->max_entries, f->key_size, seed,
                                  f->type == BPF_MAP_TYPE_DEVMAP_HASH, is_lru(f->type),
                                  !!(f->flags & BPF_F_NO_COMMON_LRU), m->n_cpus)
                   : -ENOMEM;
        if (err) {
            free(f->h);
            f->h = NULL;
        }
    }
    if (!err && f->type == BPF_MAP_TYPE_LPM_TRIE) {
        f->t = calloc(1, sizeof(*f->t));
        err = f->t ? fm_lpm_init(f->t, f->key_size, f->max_entries) : -ENOMEM;
        if (err) {
            free(f->t);
            f->t = NULL;
        }
    }
    if (!err && f->type == BPF_MAP_TYPE_BLOOM_FILTER) {
        f->seed = (f->flags & BPF_F_ZERO_SEED) ? 0 : m->hash_seed;
        f->bits = calloc((size_t)f->bloom_mask / 8 + 1, 1);
        err = f->bits ? 0 : -ENOMEM;
    }
    if (err) {
        map_free(f);
        FAIL(err, "no firmware memory for map %u", id);
    }
    m->maps[id] = f;
    m->mem_used += f->mem;
    return 0;
}

int nicsim_fw_maps__destroy(struct nicsim_fw_maps *m, uint32_t id)
{
    struct fm_map *f = get(m, id);

    if (!f)
        return -ENOENT;
    inner_put_all(m, f);
    if (f->refs) { /* still an outer map's element: gone for the host, kept for the outer map */
        f->freed = 1;
        return 0;
    }
    release(m, id);
    return 0;
}

static uint32_t count_of(const struct fm_map *f)
{
    if (is_plain_array(f->type))
        return f->max_entries;
    if (f->h)
        return f->h->count;
    if (f->t)
        return f->t->n_entries;
    if (f->type == BPF_MAP_TYPE_QUEUE || f->type == BPF_MAP_TYPE_STACK)
        return f->q_count;
    return f->count;
}

int nicsim_fw_maps__info(const struct nicsim_fw_maps *m, uint32_t id,
                         struct nicsim_fw_map_info *info)
{
    const struct fm_map *f = get(m, id);

    if (!f)
        return -ENOENT;
    if (!info)
        return -EINVAL;
    *info = (struct nicsim_fw_map_info){.type = f->type,
                                        .key_size = f->key_size,
                                        .value_size = f->value_size,
                                        .max_entries = f->max_entries,
                                        .flags = f->flags,
                                        .n_cpus = f->n_cpus,
                                        .value_stride = f->stride,
                                        .mem = f->mem,
                                        .count = count_of(f)};
    return 0;
}

uint8_t *nicsim_fw_maps__value_mem(struct nicsim_fw_maps *m, uint32_t id, size_t *len)
{
    struct fm_map *f = get(m, id);

    if (!f || !has_value_mem(f->type)) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = f->vals_len;
    return f->vals;
}

size_t nicsim_fw_maps__host_value_size(const struct nicsim_fw_maps *m, uint32_t id)
{
    const struct fm_map *f = get(m, id);

    if (!f)
        return 0;
    return (size_t)nicsim_map_value_bytes(nicsim_map_type_is_percpu(f->type), f->value_size,
                                          f->n_cpus);
}

/* ---------------------------------------------------------------------------------------------
 * Element helpers.
 */
/* Host view out: per-CPU values copy every slice whole (round_up(value_size, 8), as the kernel's
 * copy_map_value_long), others value_size bytes. */
static void val_out(const struct fm_map *f, uint32_t slot, void *out)
{
    const uint8_t *v = f->vals + (size_t)slot * f->stride;

    memcpy(out, v, nicsim_map_type_is_percpu(f->type) ? f->stride : f->value_size);
}

static void val_in_host(struct fm_map *f, uint32_t slot, const void *in)
{
    memcpy(fm_slot_val(f, slot), in,
           nicsim_map_type_is_percpu(f->type) ? f->stride : f->value_size);
}

/* A program's write: its CPU's slice (value_size bytes); `fresh` zeroes the other slices. */
static void val_in_prog(struct fm_map *f, uint32_t slot, uint32_t cpu, const void *in, int fresh)
{
    uint8_t *v = fm_slot_val(f, slot);

    if (!nicsim_map_type_is_percpu(f->type)) {
        memcpy(v, in, f->value_size);
        return;
    }
    if (fresh)
        memset(v, 0, f->stride);
    memcpy(v + (size_t)cpu * f->slice, in, f->value_size);
}

struct src {
    int prog;     /* from a program: CPU slice semantics */
    uint32_t cpu; /* the acting CPU */
};

static void val_write(struct fm_map *f, uint32_t slot, struct src s, const void *in, int fresh)
{
    if (s.prog)
        val_in_prog(f, slot, s.cpu, in, fresh);
    else
        val_in_host(f, slot, in);
}

static int check_flags(uint32_t found, uint64_t flags)
{
    if (found != FM_NIL && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_NOEXIST)
        return -EEXIST;
    if (found == FM_NIL && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_EXIST)
        return -ENOENT;
    return 0;
}

/* Whether a map-in-map value names a map matching the template (bpf_map_meta_equal). */
static int inner_ok(const struct nicsim_fw_maps *m, const struct fm_map *f, uint32_t inner_id)
{
    const struct fm_map *in = get(m, inner_id);
    const struct nicsim_fw_map_attr *t = &f->inner;

    if (!in || in->type != t->type || in->key_size != t->key_size ||
        in->value_size != t->value_size || in->flags != t->flags)
        return 0;
    if (t->type == BPF_MAP_TYPE_ARRAY || t->type == BPF_MAP_TYPE_PERCPU_ARRAY)
        return (t->flags & BPF_F_INNER_MAP) || in->max_entries == t->max_entries;
    return 1;
}

/* ---- hash family */
static int htab_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key,
                       const void *value, uint64_t flags, struct src s)
{
    struct fm_htab *h = f->h;
    uint32_t hash = fm_htab_hash(h, key), old, e;
    int err;

    if (f->type == BPF_MAP_TYPE_LRU_HASH) {
        if (flags > BPF_EXIST)
            return -EINVAL;
        /* the new node comes off the LRU first (it may evict), then the flags are checked */
        e = fm_lru_pop_free(&h->lru_lists, s.cpu);
        if (e == FM_NIL)
            return -ENOMEM;
        memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
        val_write(f, e, s, value, 1);
        old = fm_htab_find(h, key, hash);
        err = check_flags(old, flags);
        if (err) {
            fm_lru_push_free(&h->lru_lists, e);
            return err;
        }
        fm_htab_link_head(h, e, hash);
        if (old != FM_NIL) {
            fm_lru_set_ref(&h->lru_lists, e);
            fm_htab_unlink(h, old);
            fm_lru_push_free(&h->lru_lists, old);
        }
        return 0;
    }
    if (f->type == BPF_MAP_TYPE_LRU_PERCPU_HASH) {
        e = FM_NIL;
        if (flags > BPF_EXIST)
            return -EINVAL;
        if (flags != BPF_EXIST) {
            e = fm_lru_pop_free(&h->lru_lists, s.cpu);
            if (e == FM_NIL)
                return -ENOMEM;
            memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
        }
        old = fm_htab_find(h, key, hash);
        err = check_flags(old, flags);
        if (!err && old != FM_NIL) {
            fm_lru_set_ref(&h->lru_lists, old);
            val_write(f, old, s, value, 0);
        } else if (!err) {
            val_write(f, e, s, value, 1);
            fm_htab_link_head(h, e, hash);
            e = FM_NIL;
        }
        if (e != FM_NIL)
            fm_lru_push_free(&h->lru_lists, e);
        return err;
    }
    if (f->type == BPF_MAP_TYPE_HASH) {
        if ((flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST)
            return -EINVAL;
        if (flags & BPF_F_LOCK)
            return -EINVAL; /* no bpf_spin_lock in the value */
    } else if (flags > BPF_EXIST) {
        return -EINVAL;
    }
    if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS && !inner_ok(m, f, fm_key_u32(value)))
        return -EINVAL;
    old = fm_htab_find(h, key, hash);
    err = check_flags(old, flags);
    if (err)
        return err;
    if (old != FM_NIL) {
        uint32_t held = 0;

        if (f->type ==
            BPF_MAP_TYPE_HASH_OF_MAPS) { /* the new inner map first: it may be the same */
            memcpy(&held, fm_slot_val(f, old), 4);
            inner_ref(m, fm_key_u32(value));
        }
        val_write(f, old, s, value, 0);
        inner_put(m, held);
        if (f->type == BPF_MAP_TYPE_HASH) { /* the replacement goes to the head of its bucket */
            fm_htab_unlink(h, old);
            fm_htab_link_head(h, old, hash);
        }
        return 0;
    }
    e = fm_htab_alloc(h);
    if (e == FM_NIL)
        return -E2BIG;
    memcpy(h->keys + (size_t)e * h->key_size, key, h->key_size);
    val_write(f, e, s, value, 1);
    fm_htab_link_head(h, e, hash);
    if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS)
        inner_ref(m, fm_key_u32(value));
    return 0;
}

static int htab_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, void *value_out)
{
    struct fm_htab *h = f->h;
    uint32_t e = fm_htab_find(h, key, fm_htab_hash(h, key)), held = 0;

    if (e == FM_NIL)
        return -ENOENT;
    if (value_out)
        val_out(f, e, value_out);
    if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS)
        memcpy(&held, fm_slot_val(f, e), 4);
    fm_htab_unlink(h, e);
    if (h->lru)
        fm_lru_push_free(&h->lru_lists, e);
    else
        fm_htab_release(h, e);
    inner_put(m, held);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Host side.
 */
static const char *type_name(uint32_t t)
{
    const struct fm_map_ops *ops = fm_ops(t);

    return ops ? ops->name : "map";
}

static int is_indexed(uint32_t t)
{
    return is_plain_array(t) || is_fd_array(t) || is_devarray(t);
}

/* The sentence of a refused host operation: what was refused and the limit or rule, in terms of
 * the map (its type, index and max_entries), as the kernel's errno alone cannot say. */
static int explain(const struct fm_map *f, int err, const void *key, const void *value, char *msg,
                   size_t msg_len)
{
    const char *tn = type_name(f->type);
    uint32_t idx = key && f->key_size >= 4 ? fm_key_u32(key) : 0;

    switch (-err) {
    case 0:
        return 0;
    case E2BIG:
        if (is_indexed(f->type))
            FAIL(err, "%s: index %u is past max_entries %u", tn, idx, f->max_entries);
        FAIL(err, "%s: the map is full (max_entries %u)", tn, f->max_entries);
    case ENOENT:
        if (is_indexed(f->type) && idx >= f->max_entries)
            FAIL(err, "%s: index %u is past max_entries %u", tn, idx, f->max_entries);
        if (f->type == BPF_MAP_TYPE_QUEUE || f->type == BPF_MAP_TYPE_STACK)
            FAIL(err, "%s: empty", tn);
        FAIL(err, "%s: no such element", tn);
    case EEXIST:
        if (is_indexed(f->type))
            FAIL(err, "%s: BPF_NOEXIST, and array elements always exist", tn);
        FAIL(err, "%s: the element exists (BPF_NOEXIST)", tn);
    case EINVAL:
        if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || f->type == BPF_MAP_TYPE_HASH_OF_MAPS)
            FAIL(err, "%s: the value is not a map like the template (or the flags are wrong)", tn);
        if (is_plain_array(f->type))
            FAIL(err, "%s: flags invalid, or array elements cannot be deleted", tn);
        FAIL(err, "%s: invalid for this map type or its flags", tn);
    case EOVERFLOW: /* cpumap only */
        FAIL(err, "%s: qsize %u is more than %u", tn, value ? fm_key_u32(value) : 0,
             FM_CPUMAP_MAX_QSIZE);
    case ENODEV: /* cpumap only */
        FAIL(err, "%s: CPU %u is not one of the NIC's %u host CPUs", tn, idx, FM_CPUMAP_MAX_CPUS);
    case EPERM:
        FAIL(err, "%s: the map's access flags (0x%x) refuse it", tn, f->flags);
    case ENOSPC:
        FAIL(err, "%s: the trie is full (max_entries %u)", tn, f->max_entries);
    case ENOMEM:
        FAIL(err, "%s: no free element (max_entries %u)", tn, f->max_entries);
    case NICSIM_ENOTSUPP:
    case EOPNOTSUPP:
        if (f->type == BPF_MAP_TYPE_CPUMAP && value && f->value_size == 8)
            FAIL(err,
                 "%s: CPU %u: bpf_prog.fd %d: the NIC cannot run a second program on the host "
                 "CPU (only qsize, with prog fd 0, can be offloaded)",
                 tn, idx, (int32_t)fm_key_u32((const uint8_t *)value + 4));
        FAIL(err, "%s: operation not supported by this map type", tn);
    default:
        FAIL(err, "%s: refused (%d)", tn, err);
    }
}

#define RET(err) return explain(f, (err), key, NULL, msg, msg_len)

/* ---- bpf(2) lookups per type (ops.lookup) */
static int lookup_array(struct fm_map *f, const void *key, void *value)
{
    uint32_t idx = fm_key_u32(key);

    if (idx >= f->max_entries)
        return -ENOENT;
    val_out(f, idx, value);
    return 0;
}

/* prog array, array of maps, devmap, cpumap: an empty slot is -ENOENT */
static int lookup_ids(struct fm_map *f, const void *key, void *value)
{
    uint32_t idx = fm_key_u32(key);

    if (idx >= f->max_entries || !f->present[idx])
        return -ENOENT;
    val_out(f, idx, value);
    return 0;
}

/* perf event array, ring buffer */
static int lookup_notsupp(struct fm_map *f, const void *key, void *value)
{
    return -NICSIM_ENOTSUPP;
}

static int lookup_lpm(struct fm_map *f, const void *key, void *value)
{
    uint32_t e = fm_lpm_lookup(f->t, key);

    if (e == FM_NIL)
        return -ENOENT;
    val_out(f, e, value);
    return 0;
}

static int lookup_qs(struct fm_map *f, const void *key, void *value)
{
    return fm_qs_peek_pop(f, value, 0);
}

static int lookup_bloom(struct fm_map *f, const void *key, void *value)
{
    return fm_bloom_peek(f, value);
}

/* hash tables (LRU: a host lookup does not mark the element) */
static int lookup_htab(struct fm_map *f, const void *key, void *value)
{
    uint32_t e = fm_htab_find(f->h, key, fm_htab_hash(f->h, key));

    if (e == FM_NIL)
        return -ENOENT;
    val_out(f, e, value);
    return 0;
}

static int host_lookup(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, void *value)
{
    (void)m;
    return fm_ops(f->type)->lookup(f, key, value);
}

int nicsim_fw_maps__lookup(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *value,
                           char *msg, size_t msg_len)
{
    struct fm_map *f = get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_WRONLY)
        RET(-EPERM);
    RET(host_lookup(m, f, key, value));
}

int nicsim_fw_maps__lookup_and_delete(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                                      void *value, char *msg, size_t msg_len)
{
    struct fm_map *f = get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & (BPF_F_RDONLY | BPF_F_WRONLY))
        RET(-EPERM);
    if (f->type == BPF_MAP_TYPE_QUEUE || f->type == BPF_MAP_TYPE_STACK)
        RET(fm_qs_peek_pop(f, value, 1));
    if (f->type == BPF_MAP_TYPE_HASH || f->type == BPF_MAP_TYPE_PERCPU_HASH || is_lru(f->type))
        RET(htab_delete(m, f, key, value));
    RET(-NICSIM_ENOTSUPP);
}

static int do_update(struct nicsim_fw_maps *m, struct fm_map *f, const void *key, const void *value,
                     uint64_t flags, struct src s)
{
    uint32_t idx, slot;
    int err;

    switch (f->type) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
        if (f->type == BPF_MAP_TYPE_ARRAY ? (flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST
                                          : flags > BPF_EXIST)
            return -EINVAL;
        if (flags & BPF_F_LOCK)
            return -EINVAL;
        idx = fm_key_u32(key);
        if (idx >= f->max_entries)
            return -E2BIG;
        if (flags == BPF_NOEXIST)
            return -EEXIST;
        val_write(f, idx, s, value, 0);
        return 0;
    case BPF_MAP_TYPE_PROG_ARRAY:
    case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
    case BPF_MAP_TYPE_ARRAY_OF_MAPS:
        if (s.prog)
            return -EOPNOTSUPP;
        if (flags != BPF_ANY)
            return -EINVAL;
        idx = fm_key_u32(key);
        if (idx >= f->max_entries)
            return -E2BIG;
        if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
            uint32_t held = 0;

            if (!inner_ok(m, f, fm_key_u32(value)))
                return -EINVAL;
            if (f->present[idx])
                memcpy(&held, fm_slot_val(f, idx), 4);
            inner_ref(m, fm_key_u32(value)); /* before the put: it may be the same map */
            inner_put(m, held);
        }
        memcpy(fm_slot_val(f, idx), value, 4);
        if (!f->present[idx])
            f->count++;
        f->present[idx] = 1;
        return 0;
    case BPF_MAP_TYPE_DEVMAP: {
        uint8_t v[8];

        if (s.prog)
            return -EOPNOTSUPP;
        if (flags > BPF_EXIST)
            return -EINVAL;
        idx = fm_key_u32(key);
        if (idx >= f->max_entries)
            return -E2BIG;
        if (flags == BPF_NOEXIST)
            return -EEXIST;
        err = fm_devmap_value(f, value, v);
        if (err)
            return err;
        if (!fm_key_u32(v)) { /* ifindex 0 empties the slot */
            if (f->present[idx])
                f->count--;
            f->present[idx] = 0;
            return 0;
        }
        memcpy(fm_slot_val(f, idx), v, f->value_size);
        if (!f->present[idx])
            f->count++;
        f->present[idx] = 1;
        return 0;
    }
    case BPF_MAP_TYPE_DEVMAP_HASH:
        if (s.prog)
            return -EOPNOTSUPP;
        return fm_devhash_update(f, key, value, flags);
    case BPF_MAP_TYPE_CPUMAP:
        if (s.prog)
            return -EOPNOTSUPP;
        return fm_cpumap_update(f, key, value, flags);
    case BPF_MAP_TYPE_LPM_TRIE:
        err = fm_lpm_update(f->t, key, flags, &slot);
        if (!err)
            val_write(f, slot, s, value, 1);
        return err;
    case BPF_MAP_TYPE_QUEUE:
    case BPF_MAP_TYPE_STACK:
        return fm_qs_push(f, value, flags);
    case BPF_MAP_TYPE_BLOOM_FILTER:
        return fm_bloom_push(f, value, flags);
    case BPF_MAP_TYPE_RINGBUF:
        return -NICSIM_ENOTSUPP;
    default:
        return htab_update(m, f, key, value, flags, s);
    }
}

int nicsim_fw_maps__update(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                           const void *value, uint64_t flags, char *msg, size_t msg_len)
{
    struct fm_map *f = get(m, id);
    struct src s = {0, m ? m->host_cpu : 0};

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_RDONLY)
        RET(-EPERM);
    if (flags & BPF_F_LOCK)
        FAIL(-EINVAL, "map %u: BPF_F_LOCK needs a bpf_spin_lock in the value, NIC maps have none",
             id);
    return explain(f, do_update(m, f, key, value, flags, s), key, value, msg, msg_len);
}

/* ---- bpf(2) deletes per type (ops.del) */
/* arrays, queue, stack: elements cannot be deleted */
static int delete_einval(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return -EINVAL;
}

/* prog array, perf event array, array of maps: empty the slot (dropping a held inner map) */
static int delete_fd(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t idx = fm_key_u32(key), held;

    if (idx >= f->max_entries)
        return -E2BIG;
    if (!f->present[idx])
        return -ENOENT;
    f->present[idx] = 0;
    f->count--;
    if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
        memcpy(&held, fm_slot_val(f, idx), 4);
        inner_put(m, held);
    }
    return 0;
}

/* devmap, cpumap: empty the slot, an empty one included */
static int delete_dev(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t idx = fm_key_u32(key);

    if (idx >= f->max_entries)
        return -EINVAL;
    if (f->present[idx])
        f->count--;
    f->present[idx] = 0;
    return 0;
}

static int delete_devhash(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t e = fm_htab_find(f->h, key, fm_key_u32(key));

    if (e == FM_NIL)
        return -ENOENT;
    fm_htab_unlink(f->h, e);
    fm_htab_release(f->h, e);
    return 0;
}

static int delete_lpm(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    uint32_t slot;

    return fm_lpm_delete(f->t, key, &slot);
}

static int delete_bloom(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return -EOPNOTSUPP;
}

static int delete_ringbuf(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return -NICSIM_ENOTSUPP;
}

static int delete_htab(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return htab_delete(m, f, key, NULL);
}

static int do_delete(struct nicsim_fw_maps *m, struct fm_map *f, const void *key)
{
    return fm_ops(f->type)->del(m, f, key);
}

int nicsim_fw_maps__delete(struct nicsim_fw_maps *m, uint32_t id, const void *key, char *msg,
                           size_t msg_len)
{
    struct fm_map *f = get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_RDONLY)
        RET(-EPERM);
    RET(do_delete(m, f, key));
}

int nicsim_fw_maps__get_next_key(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *next,
                                 char *msg, size_t msg_len)
{
    struct fm_map *f = get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_WRONLY)
        RET(-EPERM);
    if (is_indexed(f->type)) {
        uint32_t idx = key ? fm_key_u32(key) : UINT32_MAX, nx;

        if (idx >= f->max_entries) {
            nx = 0;
        } else {
            if (idx == f->max_entries - 1)
                FAIL(-ENOENT, "map %u: no index after %u", id, idx);
            nx = idx + 1;
        }
        memcpy(next, &nx, 4);
        return 0;
    }
    if (f->h)
        RET(fm_htab_next_key(f->h, key, next));
    if (f->t)
        RET(fm_lpm_next_key(f->t, key, next));
    if (f->type == BPF_MAP_TYPE_RINGBUF)
        RET(-NICSIM_ENOTSUPP);
    RET(-EINVAL); /* queue, stack, bloom filter */
}

/* ---------------------------------------------------------------------------------------------
 * Program side.
 */
int nicsim_fw_maps__prog_lookup(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, uint32_t *value_off)
{
    struct fm_map *f = get(m, id);
    uint32_t slot;

    if (!f || !key || !value_off)
        return -EINVAL;
    if (cpu >= m->n_cpus)
        return -EINVAL;
    if (is_plain_array(f->type)) {
        slot = fm_key_u32(key);
        if (slot >= f->max_entries)
            return -ENOENT;
    } else if (is_htab(f->type)) {
        slot = fm_htab_find(f->h, key, fm_htab_hash(f->h, key));
        if (slot == FM_NIL)
            return -ENOENT;
        if (f->h->lru)
            fm_lru_set_ref(&f->h->lru_lists, slot);
    } else if (f->type == BPF_MAP_TYPE_LPM_TRIE) {
        slot = fm_lpm_lookup(f->t, key);
        if (slot == FM_NIL)
            return -ENOENT;
    } else {
        return -EOPNOTSUPP;
    }
    /* < vals_len <= FM_MAX_VALUE_MEM (map_geometry): fits the 32-bit region offset */
    *value_off =
        (uint32_t)((uint64_t)slot * f->stride + (f->n_cpus > 1 ? (uint64_t)cpu * f->slice : 0));
    return 0;
}

int nicsim_fw_maps__prog_lookup_map(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                    const void *key, uint32_t *inner_id)
{
    struct fm_map *f = get(m, id);
    uint32_t slot;

    if (!f || !key || !inner_id || cpu >= m->n_cpus)
        return -EINVAL;
    if (f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS) {
        slot = fm_key_u32(key);
        if (slot >= f->max_entries || !f->present[slot])
            return -ENOENT;
    } else if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS) {
        slot = fm_htab_find(f->h, key, fm_htab_hash(f->h, key));
        if (slot == FM_NIL)
            return -ENOENT;
    } else {
        return -EINVAL;
    }
    memcpy(inner_id, f->vals + (size_t)slot * f->stride, 4);
    return 0;
}

static int prog_ok(const struct nicsim_fw_maps *m, const struct fm_map *f, uint32_t cpu)
{
    if (!f || cpu >= m->n_cpus)
        return -EINVAL;
    if (!has_value_mem(f->type) && f->type != BPF_MAP_TYPE_QUEUE && f->type != BPF_MAP_TYPE_STACK &&
        f->type != BPF_MAP_TYPE_BLOOM_FILTER)
        return -EOPNOTSUPP;
    if (f->flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    return 0;
}

int nicsim_fw_maps__prog_update(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, const void *value, uint64_t flags)
{
    struct fm_map *f = get(m, id);
    struct src s = {1, cpu};
    int err = prog_ok(m, f, cpu);

    if (err)
        return err;
    if (f->type == BPF_MAP_TYPE_HASH_OF_MAPS || f->type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
        return -EOPNOTSUPP;
    return do_update(m, f, key, value, flags, s);
}

int nicsim_fw_maps__prog_delete(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key)
{
    struct fm_map *f = get(m, id);
    int err = prog_ok(m, f, cpu);

    if (err)
        return err;
    return do_delete(m, f, key);
}

int nicsim_fw_maps__devmap_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t key,
                               uint32_t *ifindex)
{
    struct fm_map *f = get(m, id);
    uint32_t slot = key;

    if (!f || !ifindex)
        return -EINVAL;
    if (f->type == BPF_MAP_TYPE_DEVMAP) {
        if (key >= f->max_entries || !f->present[key])
            return -ENOENT;
    } else if (f->type == BPF_MAP_TYPE_DEVMAP_HASH) {
        slot = fm_htab_find(f->h, &key, key);
        if (slot == FM_NIL)
            return -ENOENT;
    } else if (f->type == BPF_MAP_TYPE_CPUMAP) {
        if (key >= f->max_entries || !f->present[key])
            return -ENOENT;
        *ifindex = key; /* the host CPU, hence host receive queue, is the key */
        return 0;
    } else {
        return -EINVAL;
    }
    memcpy(ifindex, fm_slot_val(f, slot), 4);
    return 0;
}

int nicsim_fw_maps__prog_array_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t index,
                                   uint32_t *prog_id)
{
    struct fm_map *f = get(m, id);

    if (!f || !prog_id || f->type != BPF_MAP_TYPE_PROG_ARRAY)
        return -EINVAL;
    if (index >= f->max_entries || !f->present[index])
        return -ENOENT;
    memcpy(prog_id, fm_slot_val(f, index), 4);
    return 0;
}
