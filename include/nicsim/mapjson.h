/* SPDX-License-Identifier: MIT */
/*
 * Map contents in the JSON form `bpftool -j map dump` prints, read and written.
 *
 * A dump is an array of entries. Ordinary maps:
 *     [{"key": ["0x01","0x00","0x00","0x00"], "value": ["0x2a","0x00","0x00","0x00"]}, ...]
 * Per-CPU maps (percpu array/hash, lru percpu hash):
 *     [{"key": [...], "values": [{"cpu": 0, "value": [...]}, {"cpu": 1, "value": [...]}]}, ...]
 *
 * Reading also accepts:
 *   - a plain "value" for a per-CPU map: it sets every CPU, as `bpftool map update` does;
 *   - "values" that name only some CPUs: the CPUs not named are zero;
 *   - the "formatted" member bpftool adds when the map has BTF: ignored, the raw "key" and
 *     "value"/"values" arrays are what counts;
 *   - entries whose "value" is {"error": "..."}, which bpftool prints for slots it could not read
 *     (an empty devmap slot, a perf event array): skipped;
 *   - bytes written "0x2a" or "0x2A" (one or two hex digits), "42" (decimal string) or 42 (JSON
 *     integer), each 0..255.
 * Two entries with the same key are an error (found through a hash of the keys: a million entries
 * read in about a second), and so are more entries than max_entries when the layout gives it. Messages name the entry index and the field and
 * say what is wrong: "entry 3: key has 3 bytes, map 'flows' has key_size 4".
 *
 * Writing produces the first two forms exactly as bpftool prints them (keys and values as
 * "0x%02x" strings, "values" with every CPU for per-CPU maps; compact, or indented with
 * NICSIM_MAPJSON_PRETTY), so a dump written here reads back here, and compares equal, byte for
 * byte, with `bpftool -j map dump` of a map without BTF.
 *
 * The library knows nothing of any map implementation: a map is its layout (key size, value
 * size, per-CPU or not, number of CPUs), its contents an array of entries.
 */
#ifndef NICSIM_MAPJSON_H
#define NICSIM_MAPJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_mapjson_layout {
    const char *name;    /* the map's name, used in messages; NULL reads as "?" */
    uint32_t key_size;   /* bytes, > 0 */
    uint32_t value_size; /* bytes per CPU for per-CPU maps, > 0 */
    bool per_cpu;
    uint32_t ncpus; /* per-CPU maps: values per entry (> 0); ignored otherwise */
    uint32_t max_entries; /* the map's max_entries, 0 when not known: bounds what is read */
    /* Maps of maps: a value may also be given as a JSON string, the name of a map, which this
     * function turns into the value's bytes (the map's id); 0, or -errno with a sentence in err.
     * NULL: values are byte arrays only. */
    int (*value_name)(void *ctx, const char *name, uint8_t *value, char *err, size_t errlen);
    void *value_name_ctx;
};

/* The largest dump file read for a layout: NICSIM_MAPJSON_FILE_BASE bytes, plus, per entry the map
 * can hold, NICSIM_MAPJSON_BYTES_PER_BYTE per key and value byte ("0x2a", its comma and the
 * indentation of a pretty-printed dump) and NICSIM_MAPJSON_ENTRY_BYTES (braces, member names, a
 * BTF "formatted" member); NICSIM_MAPJSON_FILE_MAX when max_entries is not known. */
#define NICSIM_MAPJSON_FILE_BASE (1ull << 20)
#define NICSIM_MAPJSON_BYTES_PER_BYTE 32ull
#define NICSIM_MAPJSON_ENTRY_BYTES 4096ull
#define NICSIM_MAPJSON_FILE_MAX (1ull << 30)
uint64_t nicsim_mapjson_layout__file_limit(const struct nicsim_mapjson_layout *l);

/* Bytes of one entry's value: value_size, times ncpus for a per-CPU map (CPU 0's value first). */
static inline size_t nicsim_mapjson_layout__value_stride(const struct nicsim_mapjson_layout *l)
{
    return (size_t)l->value_size * (l->per_cpu ? l->ncpus : 1u);
}

/* A map's contents: `count` entries, keys and values packed back to back. */
struct nicsim_mapjson_entries {
    size_t count;
    size_t capacity;
    size_t key_size;
    size_t value_stride;
    uint8_t *keys;   /* count * key_size bytes */
    uint8_t *values; /* count * value_stride bytes */
    /* A hash index of the keys (nicsim_mapjson_entries__index), kept up to date by append:
     * slot i holds an entry index + 1, or 0. NULL when not built. */
    size_t *index;
    size_t index_mask;
};

/* An empty set of entries for maps of layout `l`. Needs no freeing while empty. */
void nicsim_mapjson_entries__init(struct nicsim_mapjson_entries *e,
                                  const struct nicsim_mapjson_layout *l);
/* Appends a copy of key (key_size bytes) and value (value_stride bytes). 0 or -ENOMEM. */
int nicsim_mapjson_entries__append(struct nicsim_mapjson_entries *e, const void *key,
                                   const void *value);
/* Index of the entry with this key, or -1: through the hash index when it is built (constant
 * time), else by a search of every entry. */
long nicsim_mapjson_entries__find(const struct nicsim_mapjson_entries *e, const void *key);
/* Builds the hash index of the keys (kept by later appends, freed with the entries). 0 or
 * -ENOMEM. */
int nicsim_mapjson_entries__index(struct nicsim_mapjson_entries *e);
/* Frees the arrays and leaves `e` empty (and still usable for the same layout). */
void nicsim_mapjson_entries__free(struct nicsim_mapjson_entries *e);

static inline uint8_t *nicsim_mapjson_entries__key(const struct nicsim_mapjson_entries *e, size_t i)
{
    return e->keys + i * e->key_size;
}
static inline uint8_t *nicsim_mapjson_entries__value(const struct nicsim_mapjson_entries *e,
                                                     size_t i)
{
    return e->values + i * e->value_stride;
}

/*
 * Parses a dump into `out` (initialised here; on failure it is left empty, nothing to free,
 * though nicsim_mapjson_entries__free is harmless). 0, or -EINVAL with a message in err (-ENOMEM
 * when out of memory).
 */
int nicsim_mapjson__parse(const char *json, const struct nicsim_mapjson_layout *l,
                          struct nicsim_mapjson_entries *out, char *err, size_t errlen);
/* As nicsim_mapjson__parse on a file's contents; messages start with the path. -ENOENT etc. when
 * the file cannot be read, -EISDIR for a directory, -EFBIG past
 * nicsim_mapjson_layout__file_limit, -EINVAL for a NUL byte (not JSON text). */
int nicsim_mapjson__read_file(const char *path, const struct nicsim_mapjson_layout *l,
                              struct nicsim_mapjson_entries *out, char *err, size_t errlen);

enum nicsim_mapjson_format_flags {
    NICSIM_MAPJSON_PRETTY = 1u << 0, /* indented, one member a line; default is one line */
};

/* The dump as a NUL-terminated string (free() it), ending in a newline. NULL with errno set on
 * failure. */
char *nicsim_mapjson__format(const struct nicsim_mapjson_layout *l,
                             const struct nicsim_mapjson_entries *e, unsigned flags);
/* Writes the dump to `path` ("-" is standard output). 0 or -errno with a message in err. */
int nicsim_mapjson__write_file(const char *path, const struct nicsim_mapjson_layout *l,
                               const struct nicsim_mapjson_entries *e, unsigned flags, char *err,
                               size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
