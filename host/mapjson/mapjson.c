/* SPDX-License-Identifier: MIT */
/*
 * bpftool map JSON, read and written with jansson. See include/nicsim/mapjson.h for the forms
 * accepted and produced.
 */
#include "nicsim/util.h"
#include "nicsim/mapjson.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *map_name(const struct nicsim_mapjson_layout *l)
{
    return l->name ? l->name : "?";
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
    e->count++;
    return 0;
}

long nicsim_mapjson_entries__find(const struct nicsim_mapjson_entries *e, const void *key)
{
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
    e->keys = NULL;
    e->values = NULL;
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

/* The JSON index of the first entry before `upto` whose key is `key` (all of them parsed). */
static size_t earlier_entry(const json_t *root, size_t upto, const uint8_t *key,
                            const struct nicsim_mapjson_layout *l)
{
    uint8_t *k = malloc(l->key_size);
    size_t found = 0;
    for (size_t i = 0; k && i < upto; i++) {
        const json_t *ent = json_array_get(root, i);
        const json_t *vj = json_object_get(ent, "value");
        if (json_is_object(vj) && json_object_get(vj, "error"))
            continue;
        const json_t *kj = json_object_get(ent, "key");
        if (parse_bytes(kj, i, "key", k, l->key_size, "key_size", l, NULL, 0) == 0 &&
            memcmp(k, key, l->key_size) == 0) {
            found = i;
            break;
        }
    }
    free(k);
    return found;
}

static int parse_root(const json_t *root, const struct nicsim_mapjson_layout *l,
                      struct nicsim_mapjson_entries *out, char *err, size_t errlen)
{
    if (!json_is_array(root)) {
        nicsim_errf(err, errlen,
                    "expected a JSON array of entries (as `bpftool -j map dump` prints)");
        return -EINVAL;
    }
    size_t stride = nicsim_mapjson_layout__value_stride(l);
    uint8_t *key = malloc(l->key_size);
    uint8_t *value = malloc(stride);
    if (!key || !value) {
        free(key);
        free(value);
        return -ENOMEM;
    }
    int rc = 0;
    size_t i;
    json_t *ent;
    json_array_foreach(root, i, ent)
    {
        rc = parse_entry(ent, i, key, value, l, err, errlen);
        if (rc == 1) {
            rc = 0;
            continue;
        }
        if (rc)
            break;
        if (nicsim_mapjson_entries__find(out, key) >= 0) {
            nicsim_errf(err, errlen, "entry %zu: key duplicates entry %zu", i,
                        earlier_entry(root, i, key, l));
            rc = -EINVAL;
            break;
        }
        rc = nicsim_mapjson_entries__append(out, key, value);
        if (rc)
            break;
    }
    free(key);
    free(value);
    return rc;
}

int nicsim_mapjson__parse(const char *json, const struct nicsim_mapjson_layout *l,
                          struct nicsim_mapjson_entries *out, char *err, size_t errlen)
{
    nicsim_mapjson_entries__init(out, l);
    int rc = check_layout(l, err, errlen);
    if (rc)
        return rc;
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        nicsim_errf(err, errlen, "line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
        return -EINVAL;
    }
    rc = parse_root(root, l, out, err, errlen);
    json_decref(root);
    return rc;
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
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len < cap - 1)
            break;
        cap *= 2;
        char *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    int rd_err = ferror(f);
    fclose(f);
    if (!buf)
        return -ENOMEM;
    if (rd_err) {
        free(buf);
        nicsim_errf(err, errlen, "%s: read error", path);
        return -EIO;
    }
    buf[len] = '\0';
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
