/* SPDX-License-Identifier: MIT */
/*
 * Kernel reference runner over libbpf: open, set maps, load, BPF_PROG_TEST_RUN, dump. The
 * choices (ctx, repeat, pinning, buffer sizes) are explained in include/nicsim/kref.h.
 */
#include "nicsim/util.h"
#include "nicsim/kref.h"
#include "nicsim/maptypes.h"
#include "nicsim/obj.h"
#include "kref_netns.h"
#include "kref_rxq.h"
#include "kref_trace.h"

#include <dirent.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define ETH_HLEN_BYTES  14u
#define XDP_FRAME_BYTES 4096u
#define XDP_MAX_LINEAR  3520u /* 4096 - 256 headroom - 320 tailroom (net/bpf/test_run.c) */
#define XDP_META_MAX_IN 32u   /* xdp_metalen_invalid(): at most 32 bytes, multiple of 4 */
#define LOG_BYTES       (1u << 20)
#define BPFFS_MAGIC     0xcafe4a11
#define BPFFS_ROOT      "/sys/fs/bpf"
#define PERF_PAGES      8

struct kref_map {
    struct bpf_map *map;
    char *name; /* real name: "flows", ".rodata" */
    struct nicsim_kref_map_info info;
    struct nicsim_mapjson_entries pending; /* set before load, written after */
    bool has_pending;
};

struct kref_tail {
    size_t map;
    uint32_t index;
    char *prog;
};

/* An element of a map of maps: outer[key] = the inner map (by its index). */
struct kref_inner {
    size_t map, inner;
    uint8_t *key;
};

/* Passed to the ringbuf/perf callbacks: which map a record came from. */
struct kref_sink {
    struct nicsim_kref *k;
    uint32_t map;
};

struct nicsim_kref {
    struct bpf_object *obj;
    struct bpf_program *prog;
    char *path;
    bool loaded;
    uint32_t ncpus;
    size_t n_maps;
    struct kref_map *maps;
    struct kref_sink *sinks; /* one per map */
    struct kref_tail *tails;
    size_t n_tails;
    struct kref_inner *inners;
    size_t n_inners;
    char *log;

    uint8_t *out;
    size_t out_cap;
    struct ring_buffer *rb;
    struct perf_buffer **pbs; /* one per map, NULL where not a perf event array */
    bool keep_events;         /* false while draining records of timing runs */
    struct nicsim_kref_event *events;
    size_t n_events, cap_events;
    uint64_t lost;
    struct kref_trace trace;    /* bpf_trace_printk lines (trace.c), when a program prints */
    bool trace_wanted;          /* a loaded program calls bpf_trace_printk */
    char trace_why[256];        /* why they cannot be read ("" when they can) */
    struct nicsim_kref_rxq rxq; /* writes to rx_queue_index patched out (rxq.c) */
    bool devices;               /* the opts' ifindexes exist in this thread's netns (netns.c) */
    char devices_why[256];      /* why not, when ifindexes were asked for ("" otherwise) */
};

static const char *unavailable_why(int e)
{
    switch (e) {
    case EPERM:
        return "the kernel refuses bpf() (Operation not permitted): run as root or with "
               "CAP_BPF and CAP_NET_ADMIN, and check kernel lockdown";
    case ENOSYS:
        return "this kernel has no bpf() system call (CONFIG_BPF_SYSCALL off)";
    default:
        return strerror(e);
    }
}

int nicsim_kref__probe(char *err, size_t errlen)
{
    /* r0 = XDP_PASS; exit */
    const struct bpf_insn insns[] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
        {.code = BPF_JMP | BPF_EXIT},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "nicsim_probe", "GPL", insns, 2, NULL);
    if (fd < 0) {
        int e = -fd;
        nicsim_errf(err, errlen, "kernel comparison unavailable: %s", unavailable_why(e));
        return e == EPERM || e == EACCES ? -EPERM : -e;
    }
    uint8_t pkt[ETH_HLEN_BYTES] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
    int rc = bpf_prog_test_run_opts(fd, &topts);
    close(fd);
    if (rc < 0) {
        int e = errno;
        nicsim_errf(err, errlen, "kernel comparison unavailable: BPF_PROG_TEST_RUN fails: %s",
                    unavailable_why(e));
        return e == EPERM ? -EPERM : -e;
    }
    if (topts.retval != XDP_PASS) {
        nicsim_errf(err, errlen, "BPF_PROG_TEST_RUN returned %u for a program returning XDP_PASS",
                    topts.retval);
        return -EIO;
    }
    return 0;
}

/* ---- open ---- */

static bool type_per_cpu(uint32_t t)
{
    return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
           t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Maps whose entries are data that a user-space lookup returns. */
static bool type_dumpable(uint32_t t)
{
    switch (t) {
    case BPF_MAP_TYPE_ARRAY:
    case BPF_MAP_TYPE_PERCPU_ARRAY:
    case BPF_MAP_TYPE_HASH:
    case BPF_MAP_TYPE_PERCPU_HASH:
    case BPF_MAP_TYPE_LRU_HASH:
    case BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case BPF_MAP_TYPE_LPM_TRIE:
    case BPF_MAP_TYPE_DEVMAP:
    case BPF_MAP_TYPE_DEVMAP_HASH:
    case BPF_MAP_TYPE_CPUMAP: /* struct bpf_cpumap_val: qsize, bpf_prog.id */
        return true;
    default:
        return false;
    }
}

/* Maps a program can write, hence saved and restored around timing runs. */
static bool map_writable_by_prog(const struct kref_map *m)
{
    if (m->info.frozen || !m->info.dumpable)
        return false;
    return m->info.type != BPF_MAP_TYPE_DEVMAP && m->info.type != BPF_MAP_TYPE_DEVMAP_HASH &&
           m->info.type != BPF_MAP_TYPE_CPUMAP;
}

static int describe_maps(struct nicsim_kref *k)
{
    struct bpf_map *map;
    size_t n = 0;
    bpf_object__for_each_map(map, k->obj) n++;
    k->maps = calloc(n ? n : 1, sizeof(*k->maps));
    k->sinks = calloc(n ? n : 1, sizeof(*k->sinks));
    if (!k->maps || !k->sinks)
        return -ENOMEM;
    bpf_object__for_each_map(map, k->obj)
    {
        struct kref_map *m = &k->maps[k->n_maps];
        const char *name = bpf_map__name(map);
        bool internal = bpf_map__is_internal(map);
        /* libbpf names global data maps "<obj>.rodata"; the object name has no '.', so the
         * section name starts at the first one. */
        const char *dot = internal ? strchr(name, '.') : NULL;
        m->map = map;
        m->name = strdup(dot ? dot : name);
        if (!m->name)
            return -ENOMEM;
        uint32_t type = bpf_map__type(map);
        struct nicsim_kref_map_info *in = &m->info;
        in->type = type;
        in->max_entries = bpf_map__max_entries(map);
        in->map_flags = bpf_map__map_flags(map);
        in->global_data = internal;
        in->frozen = internal && (in->map_flags & BPF_F_RDONLY_PROG);
        in->layout.name = m->name;
        in->layout.key_size = bpf_map__key_size(map);
        in->layout.value_size = bpf_map__value_size(map);
        in->layout.per_cpu = type_per_cpu(type);
        in->layout.ncpus = k->ncpus;
        in->dumpable = type_dumpable(type) && in->layout.key_size && in->layout.value_size;
        k->sinks[k->n_maps] = (struct kref_sink){.k = k, .map = (uint32_t)k->n_maps};
        k->n_maps++;
    }
    return 0;
}

static int check_bpffs(char *err, size_t errlen)
{
    struct statfs st;
    if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPFFS_MAGIC)
        return 0;
    if (mount("bpf", BPFFS_ROOT, "bpf", 0, NULL) == 0)
        return 0;
    int e = errno;
    nicsim_errf(err, errlen,
                "the object pins maps, which needs bpffs at " BPFFS_ROOT
                ", and mounting it failed (%s): mount -t bpf bpf " BPFFS_ROOT,
                strerror(e));
    return -e;
}

/* "a (xdp), b (tc)": every program of the object with its section. */
static void list_progs(const struct nicsim_kref *k, char *buf, size_t len)
{
    struct bpf_program *p;
    size_t used = 0;

    buf[0] = '\0';
    bpf_object__for_each_program(p, k->obj)
    {
        if (used >= len)
            break;
        int n = snprintf(buf + used, len - used, "%s%s (section %s)", used ? ", " : "",
                         bpf_program__name(p), bpf_program__section_name(p));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, len, "none");
}

/*
 * Makes `p` loadable as the XDP program the NIC runs: a section libbpf does not know (the
 * legacy SEC("xdp1"), "xdp_icmp", "prog" ...) leaves its type unset, and the NIC loads such a
 * program as XDP, so the kernel is told the same (bpf_program__set_type and the expected attach
 * type), and it is loaded even if its section starts with '?'.
 */
static int make_xdp(struct nicsim_kref *k, struct bpf_program *p, char *err, size_t errlen)
{
    enum bpf_prog_type t = bpf_program__type(p);

    if (t == BPF_PROG_TYPE_UNSPEC) {
        bpf_program__set_type(p, BPF_PROG_TYPE_XDP);
        bpf_program__set_expected_attach_type(p, BPF_XDP);
    } else if (t != BPF_PROG_TYPE_XDP) {
        nicsim_errf(err, errlen,
                    "%s: program '%s' (section %s) is a %s program, not XDP: the NIC runs XDP "
                    "programs only",
                    k->path, bpf_program__name(p), bpf_program__section_name(p),
                    libbpf_bpf_prog_type_str(t) ? libbpf_bpf_prog_type_str(t) : "non-XDP");
        return -EINVAL;
    }
    bpf_program__set_autoload(p, true);
    return 0;
}

/*
 * The program named `name` (by function name, else by section name, as the NIC's loader finds
 * it), or the only XDP program when name is NULL. Only it is loaded (autoload off for every
 * other program of the object: a TC program calling a kfunc, or a program in a section libbpf
 * cannot type, must not stop it); tail-call targets are added by nicsim_kref__set_tail_call.
 */
static int choose_prog(struct nicsim_kref *k, const char *name, char *err, size_t errlen)
{
    char names[256] = "";
    size_t n_xdp = 0;
    struct bpf_program *p;
    bpf_object__for_each_program(p, k->obj)
    {
        if (name && !strcmp(bpf_program__name(p), name))
            k->prog = p;
        if (bpf_program__type(p) != BPF_PROG_TYPE_XDP)
            continue;
        n_xdp++;
        size_t used = strlen(names);
        snprintf(names + used, sizeof(names) - used, "%s%s", used ? ", " : "",
                 bpf_program__name(p));
        if (!name && n_xdp == 1)
            k->prog = p;
    }
    if (name && !k->prog) {
        bpf_object__for_each_program(p, k->obj)
        {
            if (!strcmp(bpf_program__section_name(p), name)) {
                k->prog = p;
                break;
            }
        }
    }
    if (name && !k->prog) {
        char all[1024];
        list_progs(k, all, sizeof(all));
        nicsim_errf(err, errlen, "%s: no program named '%s' (it has: %s)", k->path, name, all);
        return -ENOENT;
    }
    if (!name && n_xdp == 0) {
        char all[1024];
        list_progs(k, all, sizeof(all));
        nicsim_errf(err, errlen, "%s: no XDP program (SEC(\"xdp\")); it has: %s", k->path, all);
        return -ENOENT;
    }
    if (!name && n_xdp > 1) {
        k->prog = NULL;
        nicsim_errf(err, errlen, "%s: %zu XDP programs (%s): choose one by name", k->path, n_xdp,
                    names);
        return -EINVAL;
    }
    bpf_object__for_each_program(p, k->obj) bpf_program__set_autoload(p, false);
    return make_xdp(k, k->prog, err, errlen);
}

/*
 * Programs named by the static initialisers of prog arrays (`.values = { [0] = &prog }`):
 * libbpf writes those slots at load and fails the whole load for a program it did not load, and
 * the NIC side loads them too; so they are loaded. libbpf has no accessor for the initialisers:
 * they are read with nicsim's own ELF loader (an object it cannot open has none it can report).
 */
static int load_static_tail_targets(struct nicsim_kref *k, char *err, size_t errlen)
{
    struct nicsim_obj *o = nicsim_obj__open_file(k->path, NULL, NULL, 0);

    for (size_t i = 0; o && i < nicsim_obj__n_maps(o); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(o, i);
        for (size_t j = 0; j < m->n_prog_inits; j++) {
            struct bpf_program *p = bpf_object__find_program_by_name(k->obj, m->prog_inits[j].prog);
            int rc = p ? make_xdp(k, p, err, errlen) : 0;
            if (rc) {
                nicsim_obj__free(o);
                return rc;
            }
        }
    }
    nicsim_obj__free(o);
    return 0;
}

/*
 * A program the NIC runs offloaded may write ctx->rx_queue_index (its host receive queue); the
 * kernel refuses such a write from a program that is not offloaded, as the comparison's is. When
 * the programs to load have such writes (found in nicsim's own link of them), the object is
 * opened again with section handlers that replace them by no-ops after libbpf's relocations
 * (rxq.c); nicsim_kref__rx_queue_writes_removed tells how many.
 */
static int rxq_setup(struct nicsim_kref *k, const struct bpf_object_open_opts *oopts,
                     const char *name, char *err, size_t errlen)
{
    struct nicsim_obj *o = nicsim_obj__open_file(k->path, NULL, NULL, 0);
    const char *secs[NICSIM_KREF_RXQ_MAX_SECS];
    struct bpf_program *p;
    size_t found = 0, n = 0;
    int rc;

    for (size_t i = 0; o && i < nicsim_obj__n_progs(o); i++) {
        const struct nicsim_obj_prog *np = nicsim_obj__prog(o, i);
        const struct bpf_program *lp = bpf_object__find_program_by_name(k->obj, np->name);

        if (lp && bpf_program__autoload(lp) && !np->error)
            found += nicsim_kref_rxq_writes((const struct bpf_insn *)np->insns, np->n, NULL);
    }
    nicsim_obj__free(o);
    if (!found)
        return 0;
    bpf_object__for_each_program(p, k->obj)
    {
        if (n == NICSIM_KREF_RXQ_MAX_SECS || !(secs[n] = strdup(bpf_program__section_name(p))))
            break;
        n++;
    }
    bpf_object__close(k->obj);
    k->obj = NULL;
    k->prog = NULL;
    rc = nicsim_kref_rxq_register(&k->rxq, secs, n);
    for (size_t i = 0; i < n; i++)
        free((void *)secs[i]);
    if (rc) {
        nicsim_errf(err, errlen, "%s: cannot register libbpf section handlers: %s", k->path,
                    strerror(-rc));
        return rc;
    }
    k->obj = bpf_object__open_file(k->path, oopts);
    if (!k->obj) {
        rc = -errno;
        nicsim_errf(err, errlen, "%s: cannot open as a BPF object: %s", k->path, strerror(errno));
        return rc;
    }
    rc = choose_prog(k, name, err, errlen);
    if (!rc)
        rc = load_static_tail_targets(k, err, errlen);
    k->rxq.prog = k->prog;
    return rc;
}

size_t nicsim_kref__rx_queue_writes_removed(const struct nicsim_kref *k)
{
    return k ? k->rxq.removed : 0;
}

struct nicsim_kref *nicsim_kref__open(const char *path, const struct nicsim_kref_opts *opts,
                                      char *err, size_t errlen)
{
    struct nicsim_kref_opts o = {0};
    if (opts && nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        nicsim_errf(err, errlen, "kref options: size %zu with unknown non-zero fields", opts->sz);
        errno = EINVAL;
        return NULL;
    }
    struct nicsim_kref *k = calloc(1, sizeof(*k));
    if (!k) {
        errno = ENOMEM;
        return NULL;
    }
    k->trace.fd = -1; /* no trace_pipe open (0 would be stdin) */
    int rc = -ENOMEM;
    k->path = strdup(path);
    k->log = calloc(1, LOG_BYTES);
    int ncpus = libbpf_num_possible_cpus();
    if (!k->path || !k->log)
        goto fail;
    if (ncpus <= 0) {
        rc = ncpus ? ncpus : -EINVAL;
        nicsim_errf(err, errlen, "cannot count the possible CPUs: %s", strerror(-rc));
        goto fail;
    }
    k->ncpus = (uint32_t)ncpus;
    /* CO-RE against the same BTF as nicsim's loader (host/elf/core.c) */
    const char *btf_path = getenv("NICSIM_VMLINUX_BTF");
    LIBBPF_OPTS(bpf_object_open_opts, oopts, .kernel_log_buf = k->log, .kernel_log_size = LOG_BYTES,
                .btf_custom_path = btf_path && *btf_path ? btf_path : NULL);
    k->obj = bpf_object__open_file(path, &oopts);
    if (!k->obj) {
        rc = -errno;
        nicsim_errf(err, errlen, "%s: cannot open as a BPF object: %s", path, strerror(errno));
        goto fail;
    }
    rc = choose_prog(k, o.prog_name, err, errlen);
    if (!rc)
        rc = load_static_tail_targets(k, err, errlen);
    if (!rc)
        rc = rxq_setup(k, &oopts, o.prog_name, err, errlen);
    if (rc)
        goto fail;
    rc = describe_maps(k);
    if (rc)
        goto fail;
    bool pins = false;
    for (size_t i = 0; i < k->n_maps; i++) {
        if (!bpf_map__pin_path(k->maps[i].map))
            continue;
        pins = true;
        if (!o.keep_pinning)
            bpf_map__set_pin_path(k->maps[i].map, NULL);
    }
    if (pins && o.keep_pinning) {
        rc = check_bpffs(err, errlen);
        if (rc)
            goto fail;
    }
    if (o.n_ifindexes)
        k->devices = nicsim_kref_netns_devices(o.ifindexes, o.n_ifindexes, o.n_rx_queues,
                                               k->devices_why, sizeof(k->devices_why)) == 0;
    return k;
fail:
    nicsim_kref__close(k);
    errno = -rc;
    return NULL;
}

static void free_events(struct nicsim_kref *k)
{
    for (size_t i = 0; i < k->n_events; i++)
        free((void *)k->events[i].data);
    k->n_events = 0;
    k->lost = 0;
}

void nicsim_kref__close(struct nicsim_kref *k)
{
    if (!k)
        return;
    free_events(k);
    free(k->events);
    nicsim_kref_trace_close(&k->trace);
    ring_buffer__free(k->rb);
    for (size_t i = 0; k->pbs && i < k->n_maps; i++)
        perf_buffer__free(k->pbs[i]);
    free(k->pbs);
    for (size_t i = 0; i < k->n_maps; i++) {
        free(k->maps[i].name);
        nicsim_mapjson_entries__free(&k->maps[i].pending);
    }
    free(k->maps);
    free(k->sinks);
    for (size_t i = 0; i < k->n_tails; i++)
        free(k->tails[i].prog);
    free(k->tails);
    for (size_t i = 0; i < k->n_inners; i++)
        free(k->inners[i].key);
    free(k->inners);
    bpf_object__close(k->obj);
    nicsim_kref_rxq_unregister(&k->rxq);
    free(k->out);
    free(k->log);
    free(k->path);
    free(k);
}

const char *nicsim_kref__prog_name(const struct nicsim_kref *k)
{
    return bpf_program__name(k->prog);
}

uint32_t nicsim_kref__ncpus(const struct nicsim_kref *k)
{
    return k->ncpus;
}

size_t nicsim_kref__map_count(const struct nicsim_kref *k)
{
    return k->n_maps;
}

int nicsim_kref__map_info(const struct nicsim_kref *k, size_t i, struct nicsim_kref_map_info *info)
{
    if (i >= k->n_maps)
        return -ENOENT;
    *info = k->maps[i].info;
    return 0;
}

int nicsim_kref__map_index(const struct nicsim_kref *k, const char *name)
{
    for (size_t i = 0; i < k->n_maps; i++) {
        if (strcmp(k->maps[i].name, name) == 0 || strcmp(bpf_map__name(k->maps[i].map), name) == 0)
            return (int)i;
    }
    return -ENOENT;
}

const char *nicsim_kref__log(const struct nicsim_kref *k)
{
    return k->log ? k->log : "";
}

/* ---- map contents ---- */

/* Kernel per-CPU values are 8-byte aligned per CPU; ours are packed. */
static size_t kernel_value_bytes(const struct kref_map *m)
{
    const struct nicsim_mapjson_layout *l = &m->info.layout;
    return (size_t)nicsim_map_value_bytes(l->per_cpu, l->value_size, l->ncpus);
}

static void pack_percpu(const struct kref_map *m, const uint8_t *kernel, uint8_t *packed)
{
    const struct nicsim_mapjson_layout *l = &m->info.layout;
    nicsim_percpu_unpad(packed, kernel, l->value_size, l->ncpus);
}

static void unpack_percpu(const struct kref_map *m, const uint8_t *packed, uint8_t *kernel)
{
    const struct nicsim_mapjson_layout *l = &m->info.layout;
    nicsim_percpu_pad(kernel, packed, l->value_size, l->ncpus);
}

/* BPF_MAP_UPDATE_BATCH for many entries: 0, or -EOPNOTSUPP to write them one by one. */
static int write_batch(struct kref_map *m, const struct nicsim_mapjson_entries *e)
{
    size_t vs = kernel_value_bytes(m);
    uint8_t *vals;
    int rc = 0;

    if (e->count < 64 || e->count > UINT32_MAX)
        return -EOPNOTSUPP;
    if (!m->info.layout.per_cpu) {
        vals = e->values;
    } else {
        vals = malloc(e->count * vs);
        if (!vals)
            return -EOPNOTSUPP;
        for (size_t i = 0; i < e->count; i++)
            unpack_percpu(m, nicsim_mapjson_entries__value(e, i), vals + i * vs);
    }
    uint32_t count = (uint32_t)e->count;
    LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
    if (bpf_map_update_batch(bpf_map__fd(m->map), e->keys, vals, &count, &opts) < 0 ||
        count != e->count)
        rc = -EOPNOTSUPP; /* redo one by one, which also names the entry that fails */
    if (vals != e->values)
        free(vals);
    return rc;
}

static int write_entries(struct kref_map *m, const struct nicsim_mapjson_entries *e, char *err,
                         size_t errlen)
{
    if (write_batch(m, e) == 0)
        return 0;
    int fd = bpf_map__fd(m->map);
    uint8_t *kv = malloc(kernel_value_bytes(m) + 1);
    if (!kv)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < e->count; i++) {
        const uint8_t *v = nicsim_mapjson_entries__value(e, i);
        if (m->info.layout.per_cpu) {
            unpack_percpu(m, v, kv);
            v = kv;
        }
        if (bpf_map_update_elem(fd, nicsim_mapjson_entries__key(e, i), v, BPF_ANY) < 0) {
            rc = -errno;
            nicsim_errf(err, errlen, "map '%s': entry %zu: the kernel refuses the update: %s%s",
                        m->name, i, strerror(errno),
                        errno == E2BIG ? " (the map is full, or the key is past max_entries)"
                        : errno == ENODEV && m->info.type == BPF_MAP_TYPE_CPUMAP
                            ? " (a cpumap key is a CPU: this machine has no such CPU)"
                            : "");
            break;
        }
    }
    free(kv);
    return rc;
}

static int set_global_initial(struct kref_map *m, const struct nicsim_mapjson_entries *e, char *err,
                              size_t errlen)
{
    static const uint8_t zero_key[4];
    if (e->count == 0)
        return 0;
    if (e->count > 1 || e->key_size != 4 || memcmp(e->keys, zero_key, 4) != 0) {
        nicsim_errf(err, errlen, "map '%s' is global data: it has one entry, key 0 (4 bytes)",
                    m->name);
        return -EINVAL;
    }
    int rc = bpf_map__set_initial_value(m->map, e->values, e->value_stride);
    if (rc)
        nicsim_errf(err, errlen, "map '%s': cannot set its initial value: %s", m->name,
                    strerror(-rc));
    return rc;
}

int nicsim_kref__map_set(struct nicsim_kref *k, const char *map_name,
                         const struct nicsim_mapjson_entries *e, char *err, size_t errlen)
{
    int idx = nicsim_kref__map_index(k, map_name);
    if (idx < 0) {
        nicsim_errf(err, errlen, "%s: no map named '%s'", k->path, map_name);
        return -ENOENT;
    }
    struct kref_map *m = &k->maps[idx];
    const struct nicsim_mapjson_layout *l = &m->info.layout;
    if (m->info.type == BPF_MAP_TYPE_PROG_ARRAY) {
        nicsim_errf(
            err, errlen,
            "map '%s' is a prog array: its values are program fds; set its slots by program "
            "name instead",
            m->name);
        return -EINVAL;
    }
    if (!m->info.dumpable && !m->info.global_data) {
        nicsim_errf(err, errlen, "map '%s' (type %u) has no entries user space can set", m->name,
                    m->info.type);
        return -EINVAL;
    }
    if (e->key_size != l->key_size || e->value_stride != nicsim_mapjson_layout__value_stride(l)) {
        nicsim_errf(err, errlen,
                    "map '%s': entries have %zu-byte keys and %zu-byte values, the map %u and %zu",
                    m->name, e->key_size, e->value_stride, l->key_size,
                    nicsim_mapjson_layout__value_stride(l));
        return -EINVAL;
    }
    if (!k->loaded && m->info.global_data)
        return set_global_initial(m, e, err, errlen);
    if (k->loaded) {
        if (m->info.frozen) {
            nicsim_errf(err, errlen, "map '%s' is read-only once loaded; set it before load",
                        m->name);
            return -EROFS;
        }
        return write_entries(m, e, err, errlen);
    }
    if (!m->has_pending) {
        nicsim_mapjson_entries__init(&m->pending, l);
        m->has_pending = true;
    }
    for (size_t i = 0; i < e->count; i++) {
        int rc = nicsim_mapjson_entries__append(&m->pending, nicsim_mapjson_entries__key(e, i),
                                                nicsim_mapjson_entries__value(e, i));
        if (rc)
            return rc;
    }
    return 0;
}

int nicsim_kref__map_set_dir(struct nicsim_kref *k, const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        nicsim_errf(err, errlen, "%s: %s", dir, strerror(e));
        return -e;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n <= 5 || strcmp(de->d_name + n - 5, ".json") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(n - 5), de->d_name);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        int idx = nicsim_kref__map_index(k, name);
        if (idx < 0) {
            nicsim_errf(err, errlen, "%s: %s has no map named '%s'", path, k->path, name);
            rc = -ENOENT;
            break;
        }
        struct nicsim_mapjson_entries e;
        rc = nicsim_mapjson__read_file(path, &k->maps[idx].info.layout, &e, err, errlen);
        if (rc == 0)
            rc = nicsim_kref__map_set(k, name, &e, err, errlen);
        nicsim_mapjson_entries__free(&e);
    }
    closedir(d);
    return rc;
}

static int apply_tail(struct nicsim_kref *k, const struct kref_tail *t, char *err, size_t errlen)
{
    struct bpf_program *p = bpf_object__find_program_by_name(k->obj, t->prog);
    int pfd = p ? bpf_program__fd(p) : -1;
    if (pfd < 0) {
        nicsim_errf(err, errlen, "map '%s' slot %u: program '%s' is not loaded",
                    k->maps[t->map].name, t->index, t->prog);
        return -ENOENT;
    }
    if (bpf_map_update_elem(bpf_map__fd(k->maps[t->map].map), &t->index, &pfd, BPF_ANY) < 0) {
        int e = errno;
        nicsim_errf(err, errlen, "map '%s' slot %u = '%s': the kernel refuses it: %s",
                    k->maps[t->map].name, t->index, t->prog, strerror(e));
        return -e;
    }
    return 0;
}

int nicsim_kref__set_tail_call(struct nicsim_kref *k, const char *map_name, uint32_t index,
                               const char *prog_name, char *err, size_t errlen)
{
    int idx = nicsim_kref__map_index(k, map_name);
    if (idx < 0 || k->maps[idx].info.type != BPF_MAP_TYPE_PROG_ARRAY) {
        nicsim_errf(err, errlen, "%s: no prog array named '%s'", k->path, map_name);
        return -ENOENT;
    }
    if (index >= k->maps[idx].info.max_entries) {
        nicsim_errf(err, errlen, "map '%s': slot %u is past its %u entries", map_name, index,
                    k->maps[idx].info.max_entries);
        return -E2BIG;
    }
    struct bpf_program *target = bpf_object__find_program_by_name(k->obj, prog_name);
    if (!target) {
        char all[1024];
        list_progs(k, all, sizeof(all));
        nicsim_errf(err, errlen, "%s: no program named '%s' (it has: %s)", k->path, prog_name, all);
        return -ENOENT;
    }
    if (!k->loaded) {
        int rc = make_xdp(k, target, err, errlen); /* a tail-call target is loaded too */
        if (rc)
            return rc;
    }
    struct kref_tail t = {.map = (size_t)idx, .index = index, .prog = strdup(prog_name)};
    if (!t.prog)
        return -ENOMEM;
    if (k->loaded) {
        int rc = apply_tail(k, &t, err, errlen);
        free(t.prog);
        return rc;
    }
    struct kref_tail *nt = realloc(k->tails, (k->n_tails + 1) * sizeof(*nt));
    if (!nt) {
        free(t.prog);
        return -ENOMEM;
    }
    k->tails = nt;
    k->tails[k->n_tails++] = t;
    return 0;
}

static int apply_inner(struct nicsim_kref *k, const struct kref_inner *t, char *err, size_t errlen)
{
    int fd = bpf_map__fd(k->maps[t->inner].map);

    if (bpf_map_update_elem(bpf_map__fd(k->maps[t->map].map), t->key, &fd, BPF_ANY) < 0) {
        int e = errno;
        nicsim_errf(err, errlen, "map '%s': element = map '%s': the kernel refuses it: %s",
                    k->maps[t->map].name, k->maps[t->inner].name, strerror(e));
        return -e;
    }
    return 0;
}

int nicsim_kref__set_inner_map(struct nicsim_kref *k, const char *map_name, const void *key,
                               const char *inner_name, char *err, size_t errlen)
{
    int idx = nicsim_kref__map_index(k, map_name), in = nicsim_kref__map_index(k, inner_name);
    uint32_t t = idx < 0 ? 0 : k->maps[idx].info.type;

    if (t != BPF_MAP_TYPE_ARRAY_OF_MAPS && t != BPF_MAP_TYPE_HASH_OF_MAPS) {
        nicsim_errf(err, errlen, "%s: no map of maps named '%s'", k->path, map_name);
        return -ENOENT;
    }
    if (in < 0) {
        nicsim_errf(err, errlen, "%s: no map named '%s'", k->path, inner_name);
        return -ENOENT;
    }
    struct kref_inner e = {.map = (size_t)idx, .inner = (size_t)in};
    size_t ks = k->maps[idx].info.layout.key_size;
    if (!(e.key = malloc(ks ? ks : 1)))
        return -ENOMEM;
    memcpy(e.key, key, ks);
    if (k->loaded) {
        int rc = apply_inner(k, &e, err, errlen);
        free(e.key);
        return rc;
    }
    struct kref_inner *ne = realloc(k->inners, (k->n_inners + 1) * sizeof(*ne));
    if (!ne) {
        free(e.key);
        return -ENOMEM;
    }
    k->inners = ne;
    k->inners[k->n_inners++] = e;
    return 0;
}

int nicsim_kref__outer_map_dump(const struct nicsim_kref *k, size_t i,
                                struct nicsim_mapjson_entries *out, char *err, size_t errlen)
{
    const struct kref_map *m = i < k->n_maps ? &k->maps[i] : NULL;
    struct nicsim_mapjson_layout l = {.name = m ? m->name : "?", .value_size = 4};
    uint8_t key[512], next[512];
    bool first = true;
    int rc = 0;

    if (m)
        l.key_size = m->info.layout.key_size;
    nicsim_mapjson_entries__init(out, &l);
    if (!m ||
        (m->info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && m->info.type != BPF_MAP_TYPE_HASH_OF_MAPS) ||
        l.key_size > sizeof(key)) {
        nicsim_errf(err, errlen, "map %zu is not a map of maps", i);
        return -EINVAL;
    }
    int fd = bpf_map__fd(m->map);
    while (bpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
        uint32_t id = 0, idx = UINT32_MAX;
        first = false;
        memcpy(key, next, l.key_size);
        if (bpf_map_lookup_elem(fd, key, &id) < 0) {
            if (errno == ENOENT)
                continue; /* an empty slot of an array of maps */
            rc = -errno;
            nicsim_errf(err, errlen, "map '%s': lookup: %s", m->name, strerror(errno));
            break;
        }
        for (size_t j = 0; j < k->n_maps && idx == UINT32_MAX; j++) {
            struct bpf_map_info info = {0};
            uint32_t len = sizeof(info);
            if (!bpf_obj_get_info_by_fd(bpf_map__fd(k->maps[j].map), &info, &len) && info.id == id)
                idx = (uint32_t)j;
        }
        if ((rc = nicsim_mapjson_entries__append(out, key, (const uint8_t *)&idx)))
            break;
    }
    return rc;
}

/* BPF_MAP_LOOKUP_BATCH: the whole map in a few system calls (the same order as a key walk).
 * -EOPNOTSUPP when the map type or the kernel has no batch operations: walk the keys instead. */
static int dump_batch(const struct kref_map *m, int fd, struct nicsim_mapjson_entries *out,
                      char *err, size_t errlen)
{
    const struct nicsim_mapjson_layout *l = &m->info.layout;
    uint32_t chunk = m->info.max_entries < 4096 ? m->info.max_entries : 4096;
    size_t ks = l->key_size, vs = kernel_value_bytes(m);
    uint8_t *keys = malloc((size_t)(chunk ? chunk : 1) * ks);
    uint8_t *vals = malloc((size_t)(chunk ? chunk : 1) * vs);
    uint8_t *packed = malloc(nicsim_mapjson_layout__value_stride(l));
    uint64_t in_batch = 0, out_batch = 0; /* opaque cursor: a key (arrays) or a bucket */
    bool first = true;
    int rc = (keys && vals && packed && ks <= sizeof(in_batch)) ? 0 : -EOPNOTSUPP;

    if (chunk == 0)
        rc = -EOPNOTSUPP;
    while (rc == 0) {
        uint32_t count = chunk;
        int r = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals, &count,
                                     NULL);
        int e = r < 0 ? errno : 0;
        if (r < 0 && e != ENOENT) {
            if (first && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP || e == 524))
                rc = -EOPNOTSUPP;
            else if (e == ENOSPC) /* a hash bucket larger than the chunk */
                rc = -EOPNOTSUPP;
            else {
                rc = -e;
                nicsim_errf(err, errlen, "map '%s': batch lookup fails: %s", m->name, strerror(e));
            }
            break;
        }
        for (uint32_t j = 0; rc == 0 && j < count; j++) {
            const uint8_t *v = vals + (size_t)j * vs;
            if (l->per_cpu) {
                pack_percpu(m, v, packed);
                v = packed;
            }
            rc = nicsim_mapjson_entries__append(out, keys + (size_t)j * ks, v);
        }
        if (e == ENOENT)
            break;
        in_batch = out_batch;
        first = false;
    }
    if (rc == -EOPNOTSUPP) { /* start again with a key walk */
        nicsim_mapjson_entries__free(out);
        nicsim_mapjson_entries__init(out, l);
    }
    free(keys);
    free(vals);
    free(packed);
    return rc;
}

int nicsim_kref__map_dump(const struct nicsim_kref *k, size_t i, struct nicsim_mapjson_entries *out,
                          char *err, size_t errlen)
{
    if (i >= k->n_maps)
        return -ENOENT;
    const struct kref_map *m = &k->maps[i];
    nicsim_mapjson_entries__init(out, &m->info.layout);
    if (!k->loaded) {
        nicsim_errf(err, errlen, "map '%s': the object is not loaded", m->name);
        return -EINVAL;
    }
    if (!m->info.dumpable)
        return 0;
    int fd = bpf_map__fd(m->map);
    size_t ks = m->info.layout.key_size;
    int brc = dump_batch(m, fd, out, err, errlen);
    if (brc != -EOPNOTSUPP)
        return brc;
    uint8_t *key = calloc(1, ks), *next = calloc(1, ks);
    uint8_t *kv = malloc(kernel_value_bytes(m));
    uint8_t *packed = malloc(nicsim_mapjson_layout__value_stride(&m->info.layout));
    int rc = (key && next && kv && packed) ? 0 : -ENOMEM;
    const void *cur = NULL;
    while (rc == 0) {
        if (bpf_map_get_next_key(fd, cur, next) < 0) {
            if (errno != ENOENT) {
                rc = -errno;
                nicsim_errf(err, errlen, "map '%s': cannot walk its keys: %s", m->name,
                            strerror(errno));
            }
            break;
        }
        memcpy(key, next, ks);
        cur = key;
        if (bpf_map_lookup_elem(fd, key, kv) < 0) {
            if (errno == ENOENT)
                continue; /* an empty devmap slot, or an entry deleted meanwhile */
            rc = -errno;
            nicsim_errf(err, errlen, "map '%s': lookup fails: %s", m->name, strerror(errno));
            break;
        }
        const uint8_t *v = kv;
        if (m->info.layout.per_cpu) {
            pack_percpu(m, kv, packed);
            v = packed;
        }
        rc = nicsim_mapjson_entries__append(out, key, v);
    }
    free(key);
    free(next);
    free(kv);
    free(packed);
    return rc;
}

/* ---- load ---- */

static int ringbuf_sample(void *ctx, void *data, size_t size);
static void perf_sample(void *ctx, int cpu, void *data, __u32 size);
static void perf_lost(void *ctx, int cpu, __u64 cnt);

static int open_event_buffers(struct nicsim_kref *k, char *err, size_t errlen)
{
    k->pbs = calloc(k->n_maps ? k->n_maps : 1, sizeof(*k->pbs));
    if (!k->pbs)
        return -ENOMEM;
    for (size_t i = 0; i < k->n_maps; i++) {
        struct kref_map *m = &k->maps[i];
        int fd = bpf_map__fd(m->map);
        if (m->info.type == BPF_MAP_TYPE_RINGBUF) {
            int rc = k->rb ? ring_buffer__add(k->rb, fd, ringbuf_sample, &k->sinks[i]) : 0;
            if (!k->rb) {
                k->rb = ring_buffer__new(fd, ringbuf_sample, &k->sinks[i], NULL);
                rc = k->rb ? 0 : -errno;
            }
            if (rc) {
                nicsim_errf(err, errlen, "map '%s': cannot read the ring buffer: %s", m->name,
                            strerror(-rc));
                return rc;
            }
        } else if (m->info.type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
            k->pbs[i] =
                perf_buffer__new(fd, PERF_PAGES, perf_sample, perf_lost, &k->sinks[i], NULL);
            if (!k->pbs[i]) {
                int rc = -errno;
                nicsim_errf(err, errlen, "map '%s': cannot open its perf buffers: %s", m->name,
                            strerror(errno));
                return rc;
            }
        }
    }
    return 0;
}

/* A verifier refusal that only says this kernel lacks a helper for XDP programs: the line that
 * says so, or NULL. The kernel words it "program of this type cannot use helper NAME#ID" (helper
 * not offered to the program type) or "unknown func NAME#ID" (helper this kernel does not know). */
static const char *missing_helper_line(const char *log, char *line, size_t linelen)
{
    static const char *const says[] = {"program of this type cannot use helper", "unknown func"};
    for (size_t i = 0; i < sizeof(says) / sizeof(says[0]); i++) {
        const char *p = strstr(log, says[i]);
        if (!p)
            continue;
        size_t n = strcspn(p, "\n");
        if (n >= linelen)
            n = linelen - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        return line;
    }
    return NULL;
}

/* The last `lines` lines of the verifier log. */
static const char *log_tail(const char *log, int lines)
{
    const char *end = log + strlen(log);
    while (end > log && end[-1] == '\n')
        end--;
    const char *p = end;
    while (p > log && lines > 0) {
        p--;
        if (*p == '\n')
            lines--;
    }
    return p == log ? p : p + 1;
}

int nicsim_kref__load(struct nicsim_kref *k, char *err, size_t errlen)
{
    if (k->loaded) {
        nicsim_errf(err, errlen, "%s is already loaded", k->path);
        return -EALREADY;
    }
    int rc = nicsim_kref__probe(err, errlen);
    if (rc)
        return rc;
    k->log[0] = '\0';
    rc = bpf_object__load(k->obj);
    if (rc) {
        if (rc == -EPERM) {
            nicsim_errf(err, errlen, "kernel comparison unavailable: loading %s: %s", k->path,
                        unavailable_why(EPERM));
            return rc;
        }
        char line[160];
        if (missing_helper_line(k->log, line, sizeof(line))) {
            struct utsname u;
            nicsim_errf(err, errlen,
                        "kernel comparison unavailable: %s: the running kernel (%s) does not let "
                        "XDP programs use a helper the program calls (its verifier: \"%s\")",
                        k->path, uname(&u) == 0 ? u.release : "?", line);
            return -EOPNOTSUPP;
        }
        nicsim_errf(err, errlen, "%s: the kernel refuses to load it (%s)%s%s", k->path,
                    strerror(-rc), k->log[0] ? "; verifier log ends:\n" : "",
                    k->log[0] ? log_tail(k->log, 4) : "");
        return rc;
    }
    k->loaded = true;
    for (size_t i = 0; i < k->n_maps; i++) {
        struct kref_map *m = &k->maps[i];
        if (!m->has_pending)
            continue;
        rc = write_entries(m, &m->pending, err, errlen);
        nicsim_mapjson_entries__free(&m->pending);
        m->has_pending = false;
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < k->n_tails; i++) {
        rc = apply_tail(k, &k->tails[i], err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < k->n_inners; i++) {
        rc = apply_inner(k, &k->inners[i], err, errlen);
        if (rc)
            return rc;
    }
    /* after load, a program's instructions include its subprograms' */
    k->trace_wanted = false;
    struct bpf_program *p;
    bpf_object__for_each_program(p, k->obj)
    {
        const struct bpf_insn *in = bpf_program__insns(p);
        for (size_t i = 0; bpf_program__autoload(p) && i < bpf_program__insn_cnt(p); i++)
            if (in[i].code == (BPF_JMP | BPF_CALL) && in[i].src_reg == 0 &&
                in[i].imm == BPF_FUNC_trace_printk)
                k->trace_wanted = true;
    }
    /* without the kernel's lines the comparison goes on; trace_why says why */
    if (k->trace_wanted && nicsim_kref_trace_open(&k->trace, k->trace_why, sizeof(k->trace_why)))
        k->trace.fd = -1;
    return open_event_buffers(k, err, errlen);
}

const char *nicsim_kref__ifindex_unavailable(const struct nicsim_kref *k)
{
    return k && k->devices_why[0] ? k->devices_why : NULL;
}

const char *nicsim_kref__trace_unavailable(const struct nicsim_kref *k)
{
    return k->trace_wanted && k->trace.fd < 0 ? k->trace_why : NULL;
}

/* ---- run ---- */

static void add_event(struct nicsim_kref *k, uint32_t map, int32_t cpu, const void *data,
                      uint32_t size)
{
    if (!k->keep_events)
        return;
    if (k->n_events == k->cap_events) {
        size_t cap = k->cap_events ? k->cap_events * 2 : 16;
        struct nicsim_kref_event *ev = realloc(k->events, cap * sizeof(*ev));
        if (!ev)
            return;
        k->events = ev;
        k->cap_events = cap;
    }
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    k->events[k->n_events++] =
        (struct nicsim_kref_event){.map = map, .cpu = cpu, .size = size, .data = copy};
}

static int ringbuf_sample(void *ctx, void *data, size_t size)
{
    struct kref_sink *s = ctx;
    add_event(s->k, s->map, -1, data, (uint32_t)size);
    return 0;
}

static void perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
    struct kref_sink *s = ctx;
    add_event(s->k, s->map, cpu, data, size);
}

static void perf_lost(void *ctx, int cpu, __u64 cnt)
{
    struct kref_sink *s = ctx;
    if (s->k->keep_events)
        s->k->lost += cnt;
}

static void collect_events(struct nicsim_kref *k)
{
    if (k->rb)
        ring_buffer__consume(k->rb);
    for (size_t i = 0; k->pbs && i < k->n_maps; i++) {
        if (k->pbs[i])
            perf_buffer__consume(k->pbs[i]);
    }
}

struct snapshot {
    struct nicsim_mapjson_entries *maps; /* one per map; empty for maps not saved */
    size_t n;
};

static void snapshot_free(struct snapshot *s)
{
    for (size_t i = 0; i < s->n; i++)
        nicsim_mapjson_entries__free(&s->maps[i]);
    free(s->maps);
}

static int snapshot_take(struct nicsim_kref *k, struct snapshot *s, char *err, size_t errlen)
{
    s->n = k->n_maps;
    s->maps = calloc(s->n ? s->n : 1, sizeof(*s->maps));
    if (!s->maps)
        return -ENOMEM;
    for (size_t i = 0; i < k->n_maps; i++) {
        nicsim_mapjson_entries__init(&s->maps[i], &k->maps[i].info.layout);
        if (!map_writable_by_prog(&k->maps[i]))
            continue;
        int rc = nicsim_kref__map_dump(k, i, &s->maps[i], err, errlen);
        if (rc)
            return rc;
        /* snapshot_restore looks every current key up in it, after every timed packet */
        rc = nicsim_mapjson_entries__index(&s->maps[i]);
        if (rc)
            return rc;
    }
    return 0;
}

static bool type_is_array(uint32_t t)
{
    return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY;
}

/* Deletes the keys added since the snapshot, then rewrites the snapshot's entries. */
static int snapshot_restore(struct nicsim_kref *k, const struct snapshot *s, char *err,
                            size_t errlen)
{
    for (size_t i = 0; i < k->n_maps; i++) {
        struct kref_map *m = &k->maps[i];
        if (!map_writable_by_prog(m))
            continue;
        if (!type_is_array(m->info.type)) {
            struct nicsim_mapjson_entries now;
            int rc = nicsim_kref__map_dump(k, i, &now, err, errlen);
            for (size_t j = 0; rc == 0 && j < now.count; j++) {
                const uint8_t *key = nicsim_mapjson_entries__key(&now, j);
                if (nicsim_mapjson_entries__find(&s->maps[i], key) < 0 &&
                    bpf_map_delete_elem(bpf_map__fd(m->map), key) < 0 && errno != ENOENT) {
                    rc = -errno;
                    nicsim_errf(err, errlen, "map '%s': cannot restore it after timing: %s",
                                m->name, strerror(errno));
                }
            }
            nicsim_mapjson_entries__free(&now);
            if (rc)
                return rc;
        }
        int rc = write_entries(m, &s->maps[i], err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

static int explain_run_error(struct nicsim_kref *k, int e, uint32_t len, char *err, size_t errlen)
{
    bool frags = bpf_program__flags(k->prog) & BPF_F_XDP_HAS_FRAGS;
    if (e == EINVAL && len < ETH_HLEN_BYTES)
        nicsim_errf(
            err, errlen,
            "packet of %u bytes: BPF_PROG_TEST_RUN refuses XDP packets shorter than %u bytes "
            "(ETH_HLEN)",
            len, ETH_HLEN_BYTES);
    else if (e == EINVAL && len > XDP_MAX_LINEAR && !frags)
        nicsim_errf(err, errlen,
                    "packet of %u bytes: BPF_PROG_TEST_RUN gives a program without frags support "
                    "(SEC(\"xdp.frags\")) at most %u bytes",
                    len, XDP_MAX_LINEAR);
    else
        nicsim_errf(err, errlen, "packet of %u bytes: BPF_PROG_TEST_RUN fails: %s", len,
                    strerror(e));
    return -e;
}

int nicsim_kref__run(struct nicsim_kref *k, const void *pkt, uint32_t len,
                     const struct nicsim_kref_run_opts *opts, struct nicsim_kref_result *res,
                     char *err, size_t errlen)
{
    struct nicsim_kref_run_opts o = {0};
    memset(res, 0, sizeof(*res));
    if (opts && nicsim_opts_copy(&o, sizeof(o), opts) < 0) {
        nicsim_errf(err, errlen, "kref run options: size %zu with unknown non-zero fields",
                    opts->sz);
        return -EINVAL;
    }
    if (!k->loaded) {
        nicsim_errf(err, errlen, "%s is not loaded", k->path);
        return -EINVAL;
    }
    if (o.meta_in_len % 4 || o.meta_in_len > XDP_META_MAX_IN) {
        nicsim_errf(err, errlen,
                    "metadata of %u bytes: the kernel takes a multiple of 4, at most %u",
                    o.meta_in_len, XDP_META_MAX_IN);
        return -EINVAL;
    }
    uint32_t in_len = o.meta_in_len + len;
    uint8_t *in = malloc(in_len ? in_len : 1);
    size_t cap = (size_t)in_len + 2 * XDP_FRAME_BYTES;
    if (!in)
        return -ENOMEM;
    if (k->out_cap < cap) {
        uint8_t *out = realloc(k->out, cap);
        if (!out) {
            free(in);
            return -ENOMEM;
        }
        k->out = out;
        k->out_cap = cap;
    }
    if (o.meta_in_len)
        memcpy(in, o.meta_in, o.meta_in_len);
    memcpy(in + o.meta_in_len, pkt, len);

    /* Leftover records (none expected) are not this packet's. */
    k->keep_events = false;
    collect_events(k);
    free_events(k);
    nicsim_kref_trace_read(&k->trace, false); /* lines of earlier timing runs */

    /* the NIC port's device and rx queue where it exists, else the loopback's queue 0 */
    struct xdp_md ctx_in = {.data = o.meta_in_len, .data_end = in_len, .ingress_ifindex = 1};
    if (o.ingress_ifindex && k->devices) {
        ctx_in.ingress_ifindex = o.ingress_ifindex;
        ctx_in.rx_queue_index = o.rx_queue_index;
    }
    struct xdp_md ctx_out = {0};
    LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = in, .data_size_in = in_len, .data_out = k->out,
                .data_size_out = (uint32_t)k->out_cap, .ctx_in = &ctx_in,
                .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out),
                .repeat = 1);
    int prog_fd = bpf_program__fd(k->prog);
    int rc = bpf_prog_test_run_opts(prog_fd, &topts);
    if (rc < 0) {
        rc = explain_run_error(k, errno, len, err, errlen);
        free(in);
        return rc;
    }
    k->keep_events = true;
    collect_events(k);
    k->keep_events = false;
    nicsim_kref_trace_read(&k->trace, true);
    res->trace = (const char *const *)k->trace.lines;
    res->n_trace = k->trace.n;
    res->trace_read = k->trace.fd >= 0;

    /* data_out is metadata + packet (its fragments included); ctx_out.data is the metadata's
     * length, data_end the end of the linear part. */
    uint32_t meta = ctx_out.data, end = ctx_out.data_end;
    if (meta > end || end > topts.data_size_out) {
        nicsim_errf(err, errlen, "the kernel reports data %u, data_end %u for %u output bytes",
                    meta, end, topts.data_size_out);
        free(in);
        return -EIO;
    }
    res->verdict = topts.retval;
    res->meta = k->out;
    res->meta_len = meta;
    res->data = k->out + meta;
    res->len = topts.data_size_out - meta;
    res->linear_len = end - meta;
    res->duration_ns = topts.duration;
    res->runs = 1;

    if (o.repeat > 1) {
        struct snapshot snap = {0};
        rc = snapshot_take(k, &snap, err, errlen);
        if (rc == 0) {
            /* The output of timed runs goes to a scratch copy: the result points at k->out. */
            uint8_t *scratch = malloc(cap);
            ctx_out = (struct xdp_md){0};
            LIBBPF_OPTS(bpf_test_run_opts, t2, .data_in = in, .data_size_in = in_len,
                        .data_out = scratch, .data_size_out = (uint32_t)cap, .ctx_in = &ctx_in,
                        .ctx_size_in = sizeof(ctx_in), .ctx_out = &ctx_out,
                        .ctx_size_out = sizeof(ctx_out), .repeat = o.repeat);
            if (!scratch) {
                rc = -ENOMEM;
            } else if (bpf_prog_test_run_opts(prog_fd, &t2) < 0) {
                rc = explain_run_error(k, errno, len, err, errlen);
            } else {
                res->duration_ns = t2.duration;
                res->runs = o.repeat;
            }
            free(scratch);
            collect_events(k); /* discarded: keep_events is false */
            int rrc = snapshot_restore(k, &snap, err, errlen);
            if (rc == 0)
                rc = rrc;
        }
        snapshot_free(&snap);
    }
    free(in);
    res->events = k->events;
    res->n_events = k->n_events;
    res->lost_events = k->lost;
    return rc;
}
