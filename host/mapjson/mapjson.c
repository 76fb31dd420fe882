/* SPDX-License-Identifier: MIT */
/*
 * bpftool map JSON, read and written with jansson. See include/nicsim/mapjson.h for the forms
 * accepted and produced.
 */
#include "nicsim/util.h"
#include "nicsim/mapjson.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *map_name(const struct nicsim_mapjson_layout *l)
{
    return l->name ? l->name : "?";
}

static uint64_t key_hash(const uint8_t *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void index_put(size_t *slot, size_t mask, const struct nicsim_mapjson_entries *e, size_t i)
{
    size_t h = (size_t)key_hash(nicsim_mapjson_entries__key(e, i), e->key_size) & mask;
    while (slot[h])
        h = (h + 1) & mask;
    slot[h] = i + 1;
}

/* Rebuilt at twice the entries' capacity: at most half full. */
static int index_rebuild(struct nicsim_mapjson_entries *e, size_t min_entries)
{
    size_t cap = 1024;
    while (cap < 2 * min_entries)
        cap *= 2;
    size_t *slot = calloc(cap, sizeof(*slot));
    if (!slot)
        return -ENOMEM;
    for (size_t i = 0; i < e->count; i++)
        index_put(slot, cap - 1, e, i);
    free(e->index);
    e->index = slot;
    e->index_mask = cap - 1;
    return 0;
}

int nicsim_mapjson_entries__index(struct nicsim_mapjson_entries *e)
{
    return index_rebuild(e, e->count);
}

void nicsim_mapjson_entries__init(struct nicsim_mapjson_entries *e,
                                  const struct nicsim_mapjson_layout *l)
{
    memset(e, 0, sizeof(*e));
    e->key_size = l->key_size;
    e->value_stride = nicsim_mapjson_layout__value_stride(l);
}

int nicsim_mapjson_entries__append(struct nicsim_mapjson_entries *e, const void *key,
                                   const void *value)
{
    if (e->count == e->capacity) {
        size_t cap = e->capacity ? e->capacity * 2 : 16;
        /* A zero-size key or value still gets a non-NULL array, so realloc never "fails" on 0. */
        uint8_t *keys = realloc(e->keys, cap * e->key_size + 1);
        if (!keys)
            return -ENOMEM;
        e->keys = keys;
        uint8_t *values = realloc(e->values, cap * e->value_stride + 1);
        if (!values)
            return -ENOMEM;
        e->values = values;
        e->capacity = cap;
    }
    memcpy(nicsim_mapjson_entries__key(e, e->count), key, e->key_size);
    memcpy(nicsim_mapjson_entries__value(e, e->count), value, e->value_stride);
    if (e->index) {
        if (2 * (e->count + 1) > e->index_mask + 1 && index_rebuild(e, e->count + 1)) {
            free(e->index); /* no index rather than a wrong one */
            e->index = NULL;
        } else {
            index_put(e->index, e->index_mask, e, e->count);
        }
    }
    e->count++;
    return 0;
}

long nicsim_mapjson_entries__find(const struct nicsim_mapjson_entries *e, const void *key)
{
    if (e->index) {
        size_t h = (size_t)key_hash(key, e->key_size) & e->index_mask;
        for (; e->index[h]; h = (h + 1) & e->index_mask) {
            size_t i = e->index[h] - 1;
            if (memcmp(nicsim_mapjson_entries__key(e, i), key, e->key_size) == 0)
                return (long)i;
        }
        return -1;
    }
    for (size_t i = 0; i < e->count; i++) {
        if (memcmp(nicsim_mapjson_entries__key(e, i), key, e->key_size) == 0)
            return (long)i;
    }
    return -1;
}

void nicsim_mapjson_entries__free(struct nicsim_mapjson_entries *e)
{
    free(e->keys);
    free(e->values);
    free(e->index);
    e->keys = NULL;
    e->values = NULL;
    e->index = NULL;
    e->index_mask = 0;
    e->count = 0;
    e->capacity = 0;
}

/* ---- reading ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One byte of a key or value: "0x2a", "42" or 42. */
static bool parse_byte(const json_t *j, uint8_t *out)
{
    if (json_is_integer(j)) {
        json_int_t v = json_integer_value(j);
        if (v < 0 || v > 255)
            return false;
        *out = (uint8_t)v;
        return true;
    }
    if (!json_is_string(j))
        return false;
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    if (n >= 3 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (n > 4)
            return false;
        unsigned v = 0;
        for (size_t i = 2; i < n; i++) {
            int h = hexval(s[i]);
            if (h < 0)
                return false;
            v = v * 16 + (unsigned)h;
        }
        *out = (uint8_t)v;
        return true;
    }
    if (n == 0 || n > 3)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 255)
        return false;
    *out = (uint8_t)v;
    return true;
}

/* How a JSON element that is not a byte is shown in a message: strings quoted with '', the rest
 * as JSON. */
static void describe(const json_t *j, char *buf, size_t len)
{
    if (json_is_string(j)) {
        snprintf(buf, len, "'%s'", json_string_value(j));
        return;
    }
    char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(buf, len, "%s", s ? s : "?");
    free(s);
}

/*
 * Reads a byte array `field` (e.g. "key", "value", "values[1].value") of exactly `size` bytes
 * (`size_what` names the map's size field) into out.
 */
static int parse_bytes(const json_t *arr, size_t idx, const char *field, uint8_t *out, size_t size,
                       const char *size_what, const struct nicsim_mapjson_layout *l, char *err,
                       size_t errlen)
{
    if (!json_is_array(arr)) {
        nicsim_errf(err, errlen, "entry %zu: %s is not an array of bytes", idx, field);
        return -EINVAL;
    }
    size_t n = json_array_size(arr);
    if (n != size) {
        nicsim_errf(err, errlen, "entry %zu: %s has %zu byte%s, map '%s' has %s %zu", idx, field, n,
                    n == 1 ? "" : "s", map_name(l), size_what, size);
        return -EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *b = json_array_get(arr, i);
        if (!parse_byte(b, &out[i])) {
            char shown[64];
            describe(b, shown, sizeof(shown));
            nicsim_errf(err, errlen, "entry %zu: %s[%zu]: %s is not a byte", idx, field, i, shown);
            return -EINVAL;
        }
    }
    return 0;
}

static int parse_percpu_values(const json_t *values, size_t idx, uint8_t *out,
                               const struct nicsim_mapjson_layout *l, char *err, size_t errlen)
{
    if (!json_is_array(values)) {
        nicsim_errf(err, errlen,
                    "entry %zu: values is not an array of {\"cpu\", \"value\"} objects", idx);
        return -EINVAL;
    }
    bool *seen = calloc(l->ncpus ? l->ncpus : 1, sizeof(*seen));
    if (!seen)
        return -ENOMEM;
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v)
    {
        if (!json_is_object(v)) {
            nicsim_errf(err, errlen, "entry %zu: values[%zu]: not an object", idx, i);
            rc = -EINVAL;
            break;
        }
        const json_t *cpu = json_object_get(v, "cpu");
        if (!cpu) {
            nicsim_errf(err, errlen, "entry %zu: values[%zu]: no 'cpu'", idx, i);
            rc = -EINVAL;
            break;
        }
        if (!json_is_integer(cpu)) {
            nicsim_errf(err, errlen, "entry %zu: values[%zu]: cpu is not an integer", idx, i);
            rc = -EINVAL;
            break;
        }
        json_int_t c = json_integer_value(cpu);
        if (c < 0 || c >= (json_int_t)l->ncpus) {
            nicsim_errf(err, errlen,
                        "entry %zu: values[%zu]: cpu %lld is out of range, map '%s' has %u CPUs",
                        idx, i, (long long)c, map_name(l), l->ncpus);
            rc = -EINVAL;
            break;
        }
        if (seen[c]) {
            nicsim_errf(err, errlen, "entry %zu: values[%zu]: cpu %lld appears twice", idx, i,
                        (long long)c);
            rc = -EINVAL;
            break;
        }
        seen[c] = true;
        const json_t *value = json_object_get(v, "value");
        if (!value) {
            nicsim_errf(err, errlen, "entry %zu: values[%zu]: no 'value'", idx, i);
            rc = -EINVAL;
            break;
        }
        char field[48];
        snprintf(field, sizeof(field), "values[%zu].value", i);
        rc = parse_bytes(value, idx, field, out + (size_t)c * l->value_size, l->value_size,
                         "value_size", l, err, errlen);
        if (rc)
            break;
    }
    free(seen);
    return rc;
}

/* Parses entry `idx` into key/value. 1 when the entry is to be skipped (an error slot). */
static int parse_entry(const json_t *ent, size_t idx, uint8_t *key, uint8_t *value,
                       const struct nicsim_mapjson_layout *l, char *err, size_t errlen)
{
    if (!json_is_object(ent)) {
        nicsim_errf(err, errlen, "entry %zu: not an object with 'key' and 'value'", idx);
        return -EINVAL;
    }
    const json_t *k = json_object_get(ent, "key");
    const json_t *v = json_object_get(ent, "value");
    const json_t *vs = json_object_get(ent, "values");
    if (!k) {
        nicsim_errf(err, errlen, "entry %zu: no 'key'", idx);
        return -EINVAL;
    }
    if (json_is_object(v) && json_object_get(v, "error"))
        return 1;
    int rc = parse_bytes(k, idx, "key", key, l->key_size, "key_size", l, err, errlen);
    if (rc)
        return rc;
    if (v && vs) {
        nicsim_errf(err, errlen, "entry %zu: both 'value' and 'values'; give one", idx);
        return -EINVAL;
    }
    if (!v && !vs) {
        nicsim_errf(err, errlen, "entry %zu: no 'value'%s", idx, l->per_cpu ? " or 'values'" : "");
        return -EINVAL;
    }
    if (vs) {
        if (!l->per_cpu) {
            nicsim_errf(err, errlen,
                        "entry %zu: 'values' (per-CPU values) given, but map '%s' is not per-CPU",
                        idx, map_name(l));
            return -EINVAL;
        }
        memset(value, 0, nicsim_mapjson_layout__value_stride(l));
        return parse_percpu_values(vs, idx, value, l, err, errlen);
    }
    if (json_is_string(v) && l->value_name && !l->per_cpu) {
        char why[256] = "";
        rc = l->value_name(l->value_name_ctx, json_string_value(v), value, why, sizeof(why));
        if (rc)
            nicsim_errf(err, errlen, "entry %zu: value '%s': %s", idx, json_string_value(v), why);
        return rc;
    }
    rc = parse_bytes(v, idx, "value", value, l->value_size, "value_size", l, err, errlen);
    if (rc || !l->per_cpu)
        return rc;
    /* A plain value for a per-CPU map: every CPU gets it. */
    for (uint32_t c = 1; c < l->ncpus; c++)
        memcpy(value + (size_t)c * l->value_size, value, l->value_size);
    return 0;
}

static int check_layout(const struct nicsim_mapjson_layout *l, char *err, size_t errlen)
{
    if (l->key_size == 0 || l->value_size == 0) {
        nicsim_errf(err, errlen, "map '%s' has key_size %u and value_size %u; both must be > 0",
                    map_name(l), l->key_size, l->value_size);
        return -EINVAL;
    }
    if (l->per_cpu && l->ncpus == 0) {
        nicsim_errf(err, errlen, "map '%s' is per-CPU but has 0 CPUs", map_name(l));
        return -EINVAL;
    }
    return 0;
}

/* What reading a dump keeps between entries. */
struct reader {
    const struct nicsim_mapjson_layout *l;
    struct nicsim_mapjson_entries *out;
    uint8_t *key, *value;
    size_t *json_index; /* the JSON index of each entry kept, for messages */
    char *err;
    size_t errlen;
};

/* Entry i of the dump: checked, and kept unless it is an error slot. 0 or -errno. */
static int take_entry(struct reader *r, const json_t *ent, size_t i)
{
    const struct nicsim_mapjson_layout *l = r->l;
    struct nicsim_mapjson_entries *out = r->out;
    int rc = parse_entry(ent, i, r->key, r->value, l, r->err, r->errlen);
    if (rc == 1)
        return 0;
    if (rc)
        return rc;
    if (l->max_entries && out->count == l->max_entries) {
        nicsim_errf(r->err, r->errlen, "entry %zu: map '%s' holds at most %u entries (max_entries)",
                    i, map_name(l), l->max_entries);
        return -E2BIG;
    }
    if (!out->index && (rc = nicsim_mapjson_entries__index(out)))
        return rc;
    long dup = nicsim_mapjson_entries__find(out, r->key);
    if (dup >= 0) {
        nicsim_errf(r->err, r->errlen, "entry %zu: key duplicates entry %zu", i,
                    r->json_index[dup]);
        return -EINVAL;
    }
    size_t cap = out->capacity;
    rc = nicsim_mapjson_entries__append(out, r->key, r->value);
    if (rc)
        return rc;
    if (out->capacity != cap || !r->json_index) {
        size_t *ji = realloc(r->json_index, out->capacity * sizeof(*ji));
        if (!ji)
            return -ENOMEM;
        r->json_index = ji;
    }
    r->json_index[out->count - 1] = i;
    return 0;
}

static const char *skip_ws(const char *p, long *line, const char **line_start)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        if (*p == '\n') {
            (*line)++;
            *line_start = p + 1;
        }
        p++;
    }
    return p;
}

/*
 * The top-level array is walked here, one entry at a time decoded by jansson, so that memory
 * holds the text and the entries read, never the whole document as JSON values (a million
 * entries would take gigabytes).
 */
static int parse_stream(struct reader *r, const char *json)
{
    long line = 1;
    const char *line_start = json;
    const char *p = skip_ws(json, &line, &line_start);
    size_t len = strlen(json);

    if (*p != '[') {
        json_error_t jerr;
        json_t *root = json_loads(json, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        if (!root) {
            nicsim_errf(r->err, r->errlen, "line %d, column %d: %s", jerr.line, jerr.column,
                        jerr.text);
            return -EINVAL;
        }
        json_decref(root);
        nicsim_errf(r->err, r->errlen,
                    "expected a JSON array of entries (as `bpftool -j map dump` prints)");
        return -EINVAL;
    }
    p = skip_ws(p + 1, &line, &line_start);
    if (*p == ']')
        goto end;
    for (size_t i = 0;; i++) {
        json_error_t jerr;
        json_t *ent =
            json_loadb(p, len - (size_t)(p - json),
                       JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
        if (!ent) {
            long col = jerr.line <= 1 ? (long)(p - line_start) + jerr.column : jerr.column;
            nicsim_errf(r->err, r->errlen, "line %ld, column %ld: %s", line + jerr.line - 1, col,
                        jerr.text);
            return -EINVAL;
        }
        for (const char *q = p; q < p + jerr.position; q++) {
            if (*q == '\n') {
                line++;
                line_start = q + 1;
            }
        }
        p += jerr.position;
        int rc = take_entry(r, ent, i);
        json_decref(ent);
        if (rc)
            return rc;
        p = skip_ws(p, &line, &line_start);
        if (*p == ']')
            break;
        if (*p != ',') {
            nicsim_errf(r->err, r->errlen,
                        "line %ld, column %ld: expected ',' or ']' after entry %zu", line,
                        (long)(p - line_start) + 1, i);
            return -EINVAL;
        }
        p = skip_ws(p + 1, &line, &line_start);
    }
end:
    p = skip_ws(p + 1, &line, &line_start);
    if (*p) {
        nicsim_errf(r->err, r->errlen, "line %ld, column %ld: end of file expected after the array",
                    line, (long)(p - line_start) + 1);
        return -EINVAL;
    }
    return 0;
}

int nicsim_mapjson__parse(const char *json, const struct nicsim_mapjson_layout *l,
                          struct nicsim_mapjson_entries *out, char *err, size_t errlen)
{
    nicsim_mapjson_entries__init(out, l);
    int rc = check_layout(l, err, errlen);
    if (rc)
        return rc;
    struct reader r = {.l = l, .out = out, .err = err, .errlen = errlen};
    r.key = malloc(l->key_size);
    r.value = malloc(nicsim_mapjson_layout__value_stride(l));
    rc = r.key && r.value ? parse_stream(&r, json) : -ENOMEM;
    free(r.json_index);
    free(r.key);
    free(r.value);
    if (rc)
        nicsim_mapjson_entries__free(out); /* nothing half-read is left to the caller */
    return rc;
}

uint64_t nicsim_mapjson_layout__file_limit(const struct nicsim_mapjson_layout *l)
{
    if (!l->max_entries)
        return NICSIM_MAPJSON_FILE_MAX;
    uint64_t per = NICSIM_MAPJSON_BYTES_PER_BYTE *
                       ((uint64_t)l->key_size + (uint64_t)nicsim_mapjson_layout__value_stride(l)) +
                   NICSIM_MAPJSON_ENTRY_BYTES;
    return NICSIM_MAPJSON_FILE_BASE + per * l->max_entries;
}

int nicsim_mapjson__read_file(const char *path, const struct nicsim_mapjson_layout *l,
                              struct nicsim_mapjson_entries *out, char *err, size_t errlen)
{
    nicsim_mapjson_entries__init(out, l);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        nicsim_errf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    uint64_t limit = nicsim_mapjson_layout__file_limit(l);
    size_t len = 0;
    char *buf =
        nicsim_read_limited(f, limit > SIZE_MAX - 2 ? SIZE_MAX - 2 : (size_t)limit, true, &len);
    int e = errno;
    fclose(f);
    if (!buf) {
        if (e == EISDIR)
            nicsim_errf(err, errlen, "%s: is a directory, not a map dump", path);
        else if (e == EFBIG)
            nicsim_errf(err, errlen,
                        "%s: longer than %llu bytes, the most a dump of map '%s' can take "
                        "(max_entries %u, key %u, value %zu bytes)",
                        path, (unsigned long long)limit, map_name(l), l->max_entries, l->key_size,
                        nicsim_mapjson_layout__value_stride(l));
        else if (e == EILSEQ)
            nicsim_errf(err, errlen, "%s: a NUL byte at offset %zu: not JSON text", path, len);
        else
            nicsim_errf(err, errlen, "%s: read error: %s", path, strerror(e));
        return e == EILSEQ ? -EINVAL : -e;
    }
    char msg[512];
    int rc = nicsim_mapjson__parse(buf, l, out, msg, sizeof(msg));
    free(buf);
    if (rc)
        nicsim_errf(err, errlen, "%s: %s", path, msg);
    return rc;
}

/* ---- writing ---- */

static json_t *byte_array(const uint8_t *p, size_t n)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char s[5];
        snprintf(s, sizeof(s), "0x%02x", p[i]);
        if (json_array_append_new(arr, json_string(s))) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static json_t *entry_json(const struct nicsim_mapjson_layout *l,
                          const struct nicsim_mapjson_entries *e, size_t i)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "key", byte_array(nicsim_mapjson_entries__key(e, i), l->key_size)))
        goto fail;
    const uint8_t *v = nicsim_mapjson_entries__value(e, i);
    if (!l->per_cpu) {
        if (json_object_set_new(o, "value", byte_array(v, l->value_size)))
            goto fail;
        return o;
    }
    json_t *values = json_array();
    if (json_object_set_new(o, "values", values))
        goto fail;
    for (uint32_t c = 0; c < l->ncpus; c++) {
        json_t *cv = json_object();
        if (json_array_append_new(values, cv) || json_object_set_new(cv, "cpu", json_integer(c)) ||
            json_object_set_new(cv, "value",
                                byte_array(v + (size_t)c * l->value_size, l->value_size)))
            goto fail;
    }
    return o;
fail:
    json_decref(o);
    return NULL;
}

char *nicsim_mapjson__format(const struct nicsim_mapjson_layout *l,
                             const struct nicsim_mapjson_entries *e, unsigned flags)
{
    if (check_layout(l, NULL, 0) || e->key_size != l->key_size ||
        e->value_stride != nicsim_mapjson_layout__value_stride(l)) {
        errno = EINVAL;
        return NULL;
    }
    json_t *root = json_array();
    if (!root) {
        errno = ENOMEM;
        return NULL;
    }
    for (size_t i = 0; i < e->count; i++) {
        if (json_array_append_new(root, entry_json(l, e, i))) {
            json_decref(root);
            errno = ENOMEM;
            return NULL;
        }
    }
    size_t jflags =
        JSON_PRESERVE_ORDER | ((flags & NICSIM_MAPJSON_PRETTY) ? JSON_INDENT(4) : JSON_COMPACT);
    char *s = json_dumps(root, jflags);
    json_decref(root);
    if (!s) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

int nicsim_mapjson__write_file(const char *path, const struct nicsim_mapjson_layout *l,
                               const struct nicsim_mapjson_entries *e, unsigned flags, char *err,
                               size_t errlen)
{
    char *s = nicsim_mapjson__format(l, e, flags);
    if (!s) {
        int rc = -errno;
        nicsim_errf(err, errlen, "map '%s': cannot format its entries: %s", map_name(l),
                    strerror(errno));
        return rc;
    }
    bool to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f) {
        int rc = -errno;
        nicsim_errf(err, errlen, "%s: %s", path, strerror(errno));
        free(s);
        return rc;
    }
    size_t n = strlen(s);
    bool ok = fwrite(s, 1, n, f) == n;
    ok = (to_stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    free(s);
    if (!ok) {
        nicsim_errf(err, errlen, "%s: write error", path);
        return -EIO;
    }
    return 0;
}
