/* SPDX-License-Identifier: MIT */
/*
 * NIC map library, its type-independent core: the table of maps, map creation (the kernel's
 * map_create rules; each type's own checks are its ops.check), memory and the budget, checked
 * sizes, map-in-map references, and the host's bpf(2) and the programs' helper operations, which
 * dispatch to the type's struct fm_map_ops. The types live one family a file, as kernel/bpf:
 * fw_maps_array.c (array, per-CPU array), fw_maps_fdarray.c (prog array, perf event array, array
 * of maps), fw_maps_htab.c (hash, per-CPU hash, LRU hashes, hash of maps; over the table of
 * fw_maps_hash.c and the LRU lists of fw_maps_lru.c), fw_maps_lpm.c (LPM trie), fw_maps_devmap.c
 * (devmap, devmap hash), fw_maps_cpumap.c, fw_maps_qs.c (queue, stack), fw_maps_bloom.c,
 * fw_maps_ringbuf.c.
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
 * Sizes (map_geometry and each type's ops.geometry, fm_size in fw_maps_internal.h): every count and
 * product is computed once, in 64 bits, with overflow refused. Limits besides each type's kernel
 * checks: a hash table holds at most 2^31 elements (the kernel's -E2BIG, after the per-CPU LRU
 * rounding), an LPM trie at most 2^30 prefixes (its preallocated nodes are indexed with 32 bits),
 * and a map's value memory is at most 4 GiB - 1 (a core addresses a map region with 32-bit
 * offsets); each is -E2BIG with the limit named. Then the budget: -ENOMEM.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"
#include "nicsim/util.h"

void nicsim_fm_say(char *msg, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (!msg || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
}

/* One entry per supported map type (enum bpf_map_type). */
static const struct fm_map_ops *const fm_map_ops[] = {
    [BPF_MAP_TYPE_ARRAY] = &nicsim_fm_array_ops,
    [BPF_MAP_TYPE_PERCPU_ARRAY] = &nicsim_fm_percpu_array_ops,
    [BPF_MAP_TYPE_PROG_ARRAY] = &nicsim_fm_prog_array_ops,
    [BPF_MAP_TYPE_PERF_EVENT_ARRAY] = &nicsim_fm_perf_event_array_ops,
    [BPF_MAP_TYPE_ARRAY_OF_MAPS] = &nicsim_fm_array_of_maps_ops,
    [BPF_MAP_TYPE_HASH] = &nicsim_fm_hash_ops,
    [BPF_MAP_TYPE_PERCPU_HASH] = &nicsim_fm_percpu_hash_ops,
    [BPF_MAP_TYPE_LRU_HASH] = &nicsim_fm_lru_hash_ops,
    [BPF_MAP_TYPE_LRU_PERCPU_HASH] = &nicsim_fm_lru_percpu_hash_ops,
    [BPF_MAP_TYPE_HASH_OF_MAPS] = &nicsim_fm_hash_of_maps_ops,
    [BPF_MAP_TYPE_LPM_TRIE] = &nicsim_fm_lpm_trie_ops,
    [BPF_MAP_TYPE_DEVMAP] = &nicsim_fm_devmap_ops,
    [BPF_MAP_TYPE_DEVMAP_HASH] = &nicsim_fm_devmap_hash_ops,
    [BPF_MAP_TYPE_CPUMAP] = &nicsim_fm_cpumap_ops,
    [BPF_MAP_TYPE_QUEUE] = &nicsim_fm_queue_ops,
    [BPF_MAP_TYPE_STACK] = &nicsim_fm_stack_ops,
    [BPF_MAP_TYPE_BLOOM_FILTER] = &nicsim_fm_bloom_ops,
    [BPF_MAP_TYPE_RINGBUF] = &nicsim_fm_ringbuf_ops,
};

const struct fm_map_ops *nicsim_fm_ops(uint32_t type)
{
    if (type >= sizeof(fm_map_ops) / sizeof(fm_map_ops[0]))
        return NULL;
    return fm_map_ops[type];
}

int nicsim_fw_maps__type_supported(uint32_t t)
{
    return nicsim_fm_ops(t) != NULL;
}

/* ---- store */
struct nicsim_fw_maps *nicsim_fw_maps__new(const struct nicsim_fw_maps_opts *opts)
{
    struct nicsim_fw_maps_opts o = {0};
    struct nicsim_fw_maps *m;

    /* nicsim_opts_copy: the one options rule (a shorter struct's missing fields read 0, which
     * max_id may not be; a longer one's tail must be zero) */
    if (!opts || nicsim_opts_copy(&o, sizeof(o), opts)) {
        errno = EINVAL;
        return NULL;
    }
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
    if (f->ops->free)
        f->ops->free(f);
    free(f->vals);
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
struct fm_map *nicsim_fm_get(const struct nicsim_fw_maps *m, uint32_t id)
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

void nicsim_fm_inner_ref(struct nicsim_fw_maps *m, uint32_t id)
{
    m->maps[id]->refs++; /* id passed inner_ok: it exists */
}

void nicsim_fm_inner_put(struct nicsim_fw_maps *m, uint32_t id)
{
    struct fm_map *f = id && id <= m->max_id ? m->maps[id] : NULL;

    if (!f || !f->refs)
        return;
    if (!--f->refs && f->freed)
        release(m, id); /* the host freed it before: this was the last reference */
}

/* Whether a map-in-map value names a map matching the template (bpf_map_meta_equal). */
int nicsim_fm_inner_ok(const struct nicsim_fw_maps *m, const struct fm_map *f, uint32_t inner_id)
{
    const struct fm_map *in = nicsim_fm_get(m, inner_id);
    const struct nicsim_fw_map_attr *t = &f->inner;

    if (!in || in->type != t->type || in->key_size != t->key_size ||
        in->value_size != t->value_size || in->flags != t->flags)
        return 0;
    return !in->ops->meta_equal || in->ops->meta_equal(in, t);
}

uint64_t nicsim_fw_maps__mem_used(const struct nicsim_fw_maps *m)
{
    return m ? m->mem_used : 0;
}

/* ---- creation: the checks of map_create, then the type's map_alloc_check (ops.check) */
static int check_attr(struct nicsim_fw_maps *m, const struct nicsim_fw_map_attr *a, char *msg,
                      size_t msg_len)
{
    const struct fm_map_ops *ops = nicsim_fm_ops(a->type);
    uint32_t t = a->type, f = a->flags;
    int err;

    if (!ops)
        FAIL(-EINVAL, "map type %u is not supported by the NIC", t);
    if ((f & BPF_F_RDONLY) && (f & BPF_F_WRONLY))
        FAIL(-EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY exclude each other");
    if (a->inner_map_id && !ops->holds_maps)
        FAIL(-EINVAL, "map type %u holds no maps (inner map %u given)", t, a->inner_map_id);
    if (a->map_extra && !ops->map_extra) /* map_create */
        FAIL(-EINVAL, "map_extra 0x%llx is for bloom filters only",
             (unsigned long long)a->map_extra);
    err = ops->check(a, msg, msg_len);
    if (err)
        return err;
    if (ops->holds_maps) {
        struct fm_map *in = nicsim_fm_get(m, a->inner_map_id);

        if (!in)
            FAIL(-EINVAL, "map-in-map: the template map %u does not exist", a->inner_map_id);
        if (in->ops->holds_maps)
            FAIL(-EINVAL, "map-in-map: the template map %u holds maps itself", a->inner_map_id);
    }
    return 0;
}

int nicsim_fm_geometry_entries(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                               uint64_t *n_slots, char *msg, size_t msg_len)
{
    (void)m, (void)map_extra, (void)msg, (void)msg_len;
    *n_slots = f->max_entries;
    return 0;
}

/*
 * Every size of a new map, once, in 64 bits (fm_size): the type's geometry (element count, its
 * count limits, value slots), the value memory (slots * stride) and the bytes charged. A limit
 * passed is -E2BIG with the sentence, never a wrapped size.
 */
static int map_geometry(const struct nicsim_fw_maps *m, struct fm_map *f, uint64_t map_extra,
                        char *msg, size_t msg_len)
{
    uint64_t n_slots = 0, len;

    if (f->ops->geometry) {
        int err = f->ops->geometry(m, f, map_extra, &n_slots, msg, msg_len);

        if (err)
            return err;
    }
    if (fm_size(n_slots, f->stride, 0, &len) || len > FM_MAX_VALUE_MEM)
        FAIL(-E2BIG,
             "%llu elements of %u bytes are more than the %llu bytes a map region addresses",
             (unsigned long long)n_slots, f->stride, (unsigned long long)FM_MAX_VALUE_MEM);
    f->vals_len = (size_t)len;
    if (f->ops->mem(f, &f->mem)) /* the formula at the top, from checked 64-bit products */
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
    f->ops = nicsim_fm_ops(attr->type);
    f->type = attr->type;
    f->key_size = attr->key_size;
    f->value_size = attr->value_size;
    f->max_entries = f->attr_max_entries = attr->max_entries;
    f->flags = attr->flags;
    f->n_cpus = nicsim_map_type_is_percpu(f->type) ? m->n_cpus : 1;
    f->slice = (uint32_t)nicsim_round8(f->value_size);
    f->stride = f->slice * f->n_cpus; /* slice <= 32 KiB when per-CPU (check_attr) */
    if (f->ops->holds_maps) {
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
    if (!err && f->ops->alloc)
        err = f->ops->alloc(m, f);
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
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f)
        return -ENOENT;
    if (f->ops->drop_inner) /* an outer map going away drops what its elements hold */
        f->ops->drop_inner(m, f);
    if (f->refs) { /* still an outer map's element: gone for the host, kept for the outer map */
        f->freed = 1;
        return 0;
    }
    release(m, id);
    return 0;
}

int nicsim_fw_maps__info(const struct nicsim_fw_maps *m, uint32_t id,
                         struct nicsim_fw_map_info *info)
{
    const struct fm_map *f = nicsim_fm_get(m, id);

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
                                        .count = f->ops->count ? f->ops->count(f) : f->count};
    return 0;
}

uint8_t *nicsim_fw_maps__value_mem(struct nicsim_fw_maps *m, uint32_t id, size_t *len)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f || !f->ops->value_mem) {
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
    const struct fm_map *f = nicsim_fm_get(m, id);

    if (!f)
        return 0;
    return (size_t)nicsim_map_value_bytes(nicsim_map_type_is_percpu(f->type), f->value_size,
                                          f->n_cpus);
}

/* ---------------------------------------------------------------------------------------------
 * Element values: the per-CPU layout rule (nicsim/maptypes.h) for every type.
 */
void nicsim_fm_val_out(const struct fm_map *f, uint32_t slot, void *out)
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

void nicsim_fm_val_write(struct fm_map *f, uint32_t slot, struct fm_src s, const void *in,
                         int fresh)
{
    if (s.prog)
        val_in_prog(f, slot, s.cpu, in, fresh);
    else
        val_in_host(f, slot, in);
}

/* ---------------------------------------------------------------------------------------------
 * Host side.
 */
/* The sentence of a refused host operation: what was refused and the limit or rule, in terms of
 * the map (its type, index and max_entries), as the kernel's errno alone cannot say. */
static int explain(const struct fm_map *f, int err, const void *key, const void *value, char *msg,
                   size_t msg_len)
{
    const struct fm_map_ops *ops = f->ops;
    const char *tn = ops->name;
    uint32_t idx = key && f->key_size >= 4 ? fm_key_u32(key) : 0;

    if (!err)
        return 0;
    if (ops->explain && ops->explain(f, err, key, value, msg, msg_len))
        return err;
    switch (-err) {
    case E2BIG:
        if (ops->indexed)
            FAIL(err, "%s: index %u is past max_entries %u", tn, idx, f->max_entries);
        FAIL(err, "%s: the map is full (max_entries %u)", tn, f->max_entries);
    case ENOENT:
        if (ops->indexed && idx >= f->max_entries)
            FAIL(err, "%s: index %u is past max_entries %u", tn, idx, f->max_entries);
        FAIL(err, "%s: %s", tn, ops->enoent_why ? ops->enoent_why : "no such element");
    case EEXIST:
        if (ops->indexed)
            FAIL(err, "%s: BPF_NOEXIST, and array elements always exist", tn);
        FAIL(err, "%s: the element exists (BPF_NOEXIST)", tn);
    case EINVAL:
        FAIL(err, "%s: %s", tn,
             ops->einval_why ? ops->einval_why : "invalid for this map type or its flags");
    case EPERM:
        FAIL(err, "%s: the map's access flags (0x%x) refuse it", tn, f->flags);
    case ENOSPC:
        FAIL(err, "%s: the trie is full (max_entries %u)", tn, f->max_entries);
    case ENOMEM:
        FAIL(err, "%s: no free element (max_entries %u)", tn, f->max_entries);
    case NICSIM_ENOTSUPP:
    case EOPNOTSUPP:
        FAIL(err, "%s: operation not supported by this map type", tn);
    default:
        FAIL(err, "%s: refused (%d)", tn, err);
    }
}

#define RET(err) return explain(f, (err), key, NULL, msg, msg_len)

int nicsim_fw_maps__lookup(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *value,
                           char *msg, size_t msg_len)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_WRONLY)
        RET(-EPERM);
    RET(f->ops->lookup(f, key, value));
}

int nicsim_fw_maps__lookup_and_delete(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                                      void *value, char *msg, size_t msg_len)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & (BPF_F_RDONLY | BPF_F_WRONLY))
        RET(-EPERM);
    if (!f->ops->lookup_and_delete)
        RET(-NICSIM_ENOTSUPP);
    RET(f->ops->lookup_and_delete(m, f, key, value));
}

int nicsim_fw_maps__update(struct nicsim_fw_maps *m, uint32_t id, const void *key,
                           const void *value, uint64_t flags, char *msg, size_t msg_len)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    struct fm_src s = {0, m ? m->host_cpu : 0};

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_RDONLY)
        RET(-EPERM);
    if (flags & BPF_F_LOCK)
        FAIL(-EINVAL, "map %u: BPF_F_LOCK needs a bpf_spin_lock in the value, NIC maps have none",
             id);
    return explain(f, f->ops->update(m, f, key, value, flags, s), key, value, msg, msg_len);
}

int nicsim_fw_maps__delete(struct nicsim_fw_maps *m, uint32_t id, const void *key, char *msg,
                           size_t msg_len)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_RDONLY)
        RET(-EPERM);
    RET(f->ops->del(m, f, key));
}

int nicsim_fw_maps__get_next_key(struct nicsim_fw_maps *m, uint32_t id, const void *key, void *next,
                                 char *msg, size_t msg_len)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    int err;

    if (!f)
        FAIL(-ENOENT, "map %u does not exist", id);
    if (f->flags & BPF_F_WRONLY)
        RET(-EPERM);
    err = f->ops->get_next_key(f, key, next);
    if (f->ops->indexed) {
        if (err == -ENOENT) /* only after the last index */
            FAIL(-ENOENT, "map %u: no index after %u", id, fm_key_u32(key));
        return err;
    }
    RET(err);
}

/* ---------------------------------------------------------------------------------------------
 * Program side.
 */
int nicsim_fw_maps__prog_lookup(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, uint32_t *value_off)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    uint32_t slot;
    int err;

    if (!f || !key || !value_off)
        return -EINVAL;
    if (cpu >= m->n_cpus)
        return -EINVAL;
    if (!f->ops->prog_slot)
        return -EOPNOTSUPP;
    err = f->ops->prog_slot(f, key, &slot);
    if (err)
        return err;
    /* < vals_len <= FM_MAX_VALUE_MEM (map_geometry): fits the 32-bit region offset */
    *value_off =
        (uint32_t)((uint64_t)slot * f->stride + (f->n_cpus > 1 ? (uint64_t)cpu * f->slice : 0));
    return 0;
}

int nicsim_fw_maps__prog_lookup_map(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                    const void *key, uint32_t *inner_id)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    uint32_t slot;
    int err;

    if (!f || !key || !inner_id || cpu >= m->n_cpus)
        return -EINVAL;
    if (!f->ops->map_slot)
        return -EINVAL;
    err = f->ops->map_slot(f, key, &slot);
    if (err)
        return err;
    memcpy(inner_id, f->vals + (size_t)slot * f->stride, 4);
    return 0;
}

static int prog_ok(const struct nicsim_fw_maps *m, const struct fm_map *f, uint32_t cpu)
{
    if (!f || cpu >= m->n_cpus)
        return -EINVAL;
    if (!f->ops->prog_write)
        return -EOPNOTSUPP;
    if (f->flags & BPF_F_RDONLY_PROG)
        return -EPERM;
    return 0;
}

int nicsim_fw_maps__prog_update(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key, const void *value, uint64_t flags)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    struct fm_src s = {1, cpu};
    int err = prog_ok(m, f, cpu);

    if (err)
        return err;
    if (f->ops->holds_maps)
        return -EOPNOTSUPP;
    return f->ops->update(m, f, key, value, flags, s);
}

int nicsim_fw_maps__prog_delete(struct nicsim_fw_maps *m, uint32_t id, uint32_t cpu,
                                const void *key)
{
    struct fm_map *f = nicsim_fm_get(m, id);
    int err = prog_ok(m, f, cpu);

    if (err)
        return err;
    return f->ops->del(m, f, key);
}

int nicsim_fw_maps__devmap_get(struct nicsim_fw_maps *m, uint32_t id, uint32_t key,
                               uint32_t *ifindex)
{
    struct fm_map *f = nicsim_fm_get(m, id);

    if (!f || !ifindex || !f->ops->redirect)
        return -EINVAL;
    return f->ops->redirect(f, key, ifindex);
}
