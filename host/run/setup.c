/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: set-up of the object, the NIC, maps (--map, --maps-dir), programs, prog arrays,
 * attach. */
#include "run_int.h"

/* ---------------------------------------------------------------------------------------------
 * Map layouts: per-CPU maps hold one value per core on the NIC, one per possible CPU in the
 * kernel; bpf(2) exchanges per-CPU values padded to 8 bytes each.
 */
bool nicsim_run_is_dumpable(uint32_t type)
{
    return type != BPF_MAP_TYPE_PROG_ARRAY && type != BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
           type != BPF_MAP_TYPE_RINGBUF && type != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
           type != BPF_MAP_TYPE_HASH_OF_MAPS;
}

struct nicsim_mapjson_layout nicsim_run_nic_layout(const struct run *r,
                                                   const struct nicsim_obj_map *m)
{
    struct nicsim_mapjson_layout l = {.name = m->name,
                                      .key_size = m->key_size,
                                      .value_size = m->value_size,
                                      .per_cpu = nicsim_map_type_is_percpu(m->type),
                                      .ncpus = nicsim_sys__n_cores(r->sys)};
    return l;
}

/* bpftool's JSON (per-CPU values unpadded) -> bpf(2) value (per-CPU values padded to 8). */
static void to_syscall_value(const struct nicsim_mapjson_layout *l, const uint8_t *in, uint8_t *out)
{
    if (!l->per_cpu) {
        memcpy(out, in, l->value_size);
        return;
    }
    nicsim_percpu_pad(out, in, l->value_size, l->ncpus);
}

static void from_syscall_value(const struct nicsim_mapjson_layout *l, const uint8_t *in,
                               uint8_t *out)
{
    if (!l->per_cpu) {
        memcpy(out, in, l->value_size);
        return;
    }
    nicsim_percpu_unpad(out, in, l->value_size, l->ncpus);
}

/* Read every entry of a NIC map through bpf() on the offloaded map. */
int nicsim_run_nic_map_dump(struct run *r, size_t i, struct nicsim_mapjson_entries *out)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_mapjson_layout l = nicsim_run_nic_layout(r, m);
    size_t vsz = (size_t)nicsim_map_value_bytes(l.per_cpu, m->value_size, l.ncpus);
    uint8_t *key = calloc(1, m->key_size), *next = calloc(1, m->key_size);
    uint8_t *val = calloc(1, vsz), *jval = calloc(1, nicsim_mapjson_layout__value_stride(&l));
    int rc = -ENOMEM;
    bool first = true;

    nicsim_mapjson_entries__init(out, &l);
    if (!key || !next || !val || !jval)
        goto out;
    for (;;) {
        rc = nicsim_kern_map_get_next_key(r->k, r->map_fds[i], first ? NULL : key, next);
        if (rc == -ENOENT) {
            rc = 0;
            break;
        }
        if (rc)
            break;
        first = false;
        memcpy(key, next, m->key_size);
        rc = nicsim_kern_map_lookup_elem(r->k, r->map_fds[i], key, val);
        if (rc == -ENOENT)
            continue;
        if (rc)
            break;
        from_syscall_value(&l, val, jval);
        rc = nicsim_mapjson_entries__append(out, key, jval);
        if (rc)
            break;
    }
out:
    free(key);
    free(next);
    free(val);
    free(jval);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Set-up: object, NIC, maps, programs, attach.
 */
static uint32_t map_max_entries(const struct run *r, const struct nicsim_obj_map *m);

const char *nicsim_run_map_type_name(uint32_t t)
{
    return nicsim_bpf_map_type_name(t);
}

/* The object map an argument NAME=FILE names: its index, or -1 after a message. */
static int find_map_arg(struct run *r, const char *what, const char *arg, char *name,
                        size_t name_len, const char **file)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    int idx;

    if (!eq || n == 0 || !eq[1]) {
        nicsim_run_fail("%s '%s': expected NAME=FILE", what, arg);
        return -1;
    }
    if (n >= name_len) {
        nicsim_run_fail("%s '%.40s...': a map name has at most %zu characters", what, arg,
                        name_len - 1);
        return -1;
    }
    memcpy(name, arg, n);
    name[n] = 0;
    *file = eq + 1;
    idx = nicsim_obj__find_map(r->obj, name);
    if (idx < 0) {
        fprintf(stderr, "%s: %s %s: %s has no map '%s'; its maps:", nicsim_run_cmd_name, what, name,
                r->o->object, name);
        for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++)
            fprintf(stderr, " %s", nicsim_obj__map(r->obj, i)->name);
        fputc('\n', stderr);
        return -1;
    }
    return idx;
}

static int load_map_arg(struct run *r, const char *what, const char *arg);

/* --maps-dir: every DIR/NAME.json, in name order, then the --map arguments (which win).
 * 0, or 1 after a message. */
static int load_map_args(struct run *r)
{
    if (r->o->maps_dir) {
        struct dirent **ents;
        int n = scandir(r->o->maps_dir, &ents, NULL, alphasort);
        if (n < 0)
            return nicsim_run_fail("--maps-dir %s: %s", r->o->maps_dir, strerror(errno));
        int rc = 0;
        for (int i = 0; i < n; i++) {
            const char *d = ents[i]->d_name;
            size_t len = strlen(d);
            if (!rc && len > 5 && !strcmp(d + len - 5, ".json")) {
                size_t alen = 2 * len + strlen(r->o->maps_dir) + 3;
                char *arg = malloc(alen);
                if (!arg) {
                    rc = nicsim_run_fail("out of memory");
                } else {
                    snprintf(arg, alen, "%.*s=%s/%s", (int)(len - 5), d, r->o->maps_dir, d);
                    rc = load_map_arg(r, "--maps-dir", arg);
                    free(arg);
                }
            }
            free(ents[i]);
        }
        free(ents);
        if (rc)
            return rc;
    }
    for (unsigned a = 0; a < r->o->n_map_args; a++)
        if (load_map_arg(r, "--map", r->o->map_args[a]))
            return 1;
    return 0;
}

/* The map's JSON, read with the limit its size allows. */
static int read_map_json(const char *file, const struct nicsim_mapjson_layout *l,
                         struct nicsim_mapjson_entries *e, char *err, size_t errlen)
{
    return nicsim_mapjson__read_file(file, l, e, err, errlen);
}

static int set_inner_map(struct run *r, int outer, const void *key, int inner, const char *what);

/* The object map with this id in the emulated kernel, -1 if none. */
int nicsim_run_map_by_id(const struct run *r, uint32_t id)
{
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_bpf_map *km = nicsim_kern_map_by_fd(r->k, r->map_fds[i]);
        if (km && km->id == id)
            return (int)i;
    }
    return -1;
}

/* A map of maps' value given as a name: the id of that map of the object. */
static int inner_name_to_id(void *ctx, const char *name, uint8_t *value, char *err, size_t errlen)
{
    const struct run *r = ctx;
    int i = nicsim_obj__find_map(r->obj, name);
    const struct nicsim_bpf_map *km = i < 0 ? NULL : nicsim_kern_map_by_fd(r->k, r->map_fds[i]);

    if (!km) {
        snprintf(err, errlen, "%s has no map named '%s'", r->o->object, name);
        return -ENOENT;
    }
    memcpy(value, &km->id, 4);
    return 0;
}

/* --map OUTER=FILE for an array / hash of maps: bpftool's JSON of the outer map, whose values are
 * inner map ids (4 bytes, as bpftool prints them: the ids nicsim's kernel gives the object's
 * maps) or, more usefully, inner map names as strings ("value": "inner_a"). Each names a map of
 * the object, which both the NIC and the kernel comparison put in the element. */
static int load_outer_map_arg(struct run *r, const char *what, const char *name, int idx,
                              const char *file)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, (size_t)idx);
    struct nicsim_mapjson_layout l = nicsim_run_nic_layout(r, m);
    struct nicsim_mapjson_entries e;
    char err[ERR_LEN];
    int rc = 0;

    l.max_entries = map_max_entries(r, m);
    l.value_name = inner_name_to_id;
    l.value_name_ctx = r;
    if (read_map_json(file, &l, &e, err, sizeof(err))) {
        nicsim_mapjson_entries__free(&e);
        return nicsim_run_fail("%s %s: %s", what, name, err);
    }
    for (size_t i = 0; i < e.count && !rc; i++) {
        uint32_t id;
        memcpy(&id, nicsim_mapjson_entries__value(&e, i), 4);
        int in = nicsim_run_map_by_id(r, id);
        if (in < 0) {
            rc = nicsim_run_fail(
                "%s %s: %s: entry %zu: value %u is the id of no map of %s (name the inner "
                "map: \"value\": \"NAME\")",
                what, name, file, i, id, r->o->object);
            break;
        }
        rc = set_inner_map(r, idx, nicsim_mapjson_entries__key(&e, i), in, what);
    }
    nicsim_mapjson_entries__free(&e);
    return rc;
}

/* 0, or 1 after a message. */
static int load_map_arg(struct run *r, const char *what, const char *arg)
{
    char name[RUN_MAX_NAME], err[ERR_LEN];
    const char *file = NULL;
    int idx = find_map_arg(r, what, arg, name, sizeof(name), &file);

    if (idx < 0)
        return 1;
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, (size_t)idx);
    if (m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m->type == BPF_MAP_TYPE_HASH_OF_MAPS)
        return load_outer_map_arg(r, what, name, idx, file);
    if (!nicsim_run_is_dumpable(m->type))
        return nicsim_run_fail(
            "%s %s: a %s map is not filled from JSON (use --prog-array for prog arrays)", what,
            name, nicsim_run_map_type_name(m->type));
    struct nicsim_mapjson_layout l = nicsim_run_nic_layout(r, m);
    l.max_entries = map_max_entries(r, m);
    struct nicsim_mapjson_entries e;
    if (read_map_json(file, &l, &e, err, sizeof(err))) {
        nicsim_mapjson_entries__free(&e);
        return nicsim_run_fail("%s %s: %s", what, name, err);
    }
    uint8_t *val = calloc(1, nicsim_round8(m->value_size) * l.ncpus + m->value_size);
    if (!val) {
        nicsim_mapjson_entries__free(&e);
        return nicsim_run_fail("%s %s: out of memory", what, name);
    }
    for (size_t i = 0; i < e.count; i++) {
        to_syscall_value(&l, nicsim_mapjson_entries__value(&e, i), val);
        int rc = nicsim_kern_map_update_elem(r->k, r->map_fds[idx],
                                             nicsim_mapjson_entries__key(&e, i), val, BPF_ANY);
        if (rc) {
            free(val);
            nicsim_mapjson_entries__free(&e);
            return nicsim_run_fail(
                "%s %s: %s: entry %zu: the NIC map refuses it: %s", what, name, file, i,
                *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k) : strerror(-rc));
        }
    }
    free(val);
    nicsim_mapjson_entries__free(&e);
    if (r->kref) {
        struct nicsim_kref_map_info ki;
        int ki_idx = nicsim_kref__map_index(r->kref, name);
        if (ki_idx < 0 || nicsim_kref__map_info(r->kref, (size_t)ki_idx, &ki))
            return nicsim_run_fail("%s %s: the kernel's copy of %s has no such map", what, name,
                                   r->o->object);
        ki.layout.max_entries = l.max_entries;
        if (read_map_json(file, &ki.layout, &e, err, sizeof(err))) {
            nicsim_mapjson_entries__free(&e);
            return nicsim_run_fail("%s %s: %s", what, name, err);
        }
        int rc = nicsim_kref__map_set(r->kref, name, &e, err, sizeof(err));
        nicsim_mapjson_entries__free(&e);
        if (rc)
            return nicsim_run_fail("%s %s: kernel: %s", what, name, err);
    }
    return 0;
}

/* The expected attach type libbpf loads an XDP program with: its section's (xdp/devmap:
 * BPF_XDP_DEVMAP, xdp/cpumap: BPF_XDP_CPUMAP, which the kernel refuses to attach to a device),
 * else BPF_XDP (legacy sections libbpf cannot type are loaded as XDP). */
uint32_t nicsim_run_xdp_attach_type(const struct nicsim_obj_prog *p)
{
    uint32_t t = p->expected_attach_type;
    return p->prog_type == BPF_PROG_TYPE_XDP && (t == BPF_XDP_DEVMAP || t == BPF_XDP_CPUMAP)
               ? t
               : BPF_XDP;
}

int nicsim_run_load_prog(struct run *r, size_t pi)
{
    const struct nicsim_obj_prog *p = nicsim_obj__prog(r->obj, pi);
    struct nicsim_kern_prog_load_attr a = {.sz = sizeof(a)};
    static char log[1 << 16];
    int fd;

    if (r->prog_fds[pi] >= 0)
        return 0;
    if (p->error) { /* the ELF loader could not link it (a kfunc call, CO-RE ...) */
        snprintf(r->last_err, sizeof(r->last_err), "%s: program %s (section %s) refused: %s",
                 r->o->object, p->name, p->section, p->error);
        if (!r->collect_errors)
            nicsim_run_fail("%s", r->last_err);
        return -1;
    }
    a.prog_type = p->prog_type ? p->prog_type : BPF_PROG_TYPE_XDP;
    a.expected_attach_type = nicsim_run_xdp_attach_type(p);
    a.insns = p->insns;
    a.insn_cnt = (uint32_t)p->n;
    a.license = nicsim_obj__license(r->obj);
    a.prog_name = p->name;
    a.prog_ifindex = (uint32_t)nicsim_sys__ifindex(r->sys, 0);
    a.fd_array = r->map_fds;
    a.fd_array_cnt = (uint32_t)nicsim_obj__n_maps(r->obj);
    a.log_buf = log;
    a.log_size = sizeof(log);
    a.log_level = 0;
    fd = nicsim_kern_prog_load(r->k, &a);
    if (fd < 0) {
        char at[32] = "";
        if (a.err_insn >= 0)
            snprintf(at, sizeof(at), " at insn %d", a.err_insn);
        char why[ERR_LEN];
        /* a poisoned CO-RE relocation: name it, as libbpf rewrites the kernel's log */
        const char *core =
            a.err_insn >= 0 ? nicsim_obj_prog__core_poison(p, (size_t)a.err_insn) : NULL;
        snprintf(r->last_err, sizeof(r->last_err), "%s: program %s (section %s) refused%s: %s",
                 r->o->object, p->name, p->section, at,
                 core ? core : nicsim_cli_prog_load_reason(fd, a.err_msg, why, sizeof(why)));
        if (!r->collect_errors)
            nicsim_run_fail("%s", r->last_err);
        return -1;
    }
    r->prog_fds[pi] = fd;
    return 0;
}

static int find_prog_index(const struct run *r, const char *name)
{
    for (size_t i = 0; i < nicsim_obj__n_progs(r->obj); i++)
        if (!strcmp(nicsim_obj__prog(r->obj, i)->name, name))
            return (int)i;
    return -1;
}

static int set_prog_array(struct run *r, int map_idx, uint32_t index, const char *prog_name,
                          const char *what)
{
    int pi = find_prog_index(r, prog_name);
    char err[ERR_LEN];

    if (pi < 0)
        return nicsim_run_fail("%s: %s has no program '%s'", what, r->o->object, prog_name);
    if (nicsim_run_load_prog(r, (size_t)pi))
        return 1;
    uint32_t fd = (uint32_t)r->prog_fds[pi];
    int rc = nicsim_kern_map_update_elem(r->k, r->map_fds[map_idx], &index, &fd, BPF_ANY);
    if (rc)
        return nicsim_run_fail(
            "%s: %s[%u] = %s: %s", what, nicsim_obj__map(r->obj, map_idx)->name, index, prog_name,
            *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k) : strerror(-rc));
    if (r->kref && strcmp(what, "static") &&
        nicsim_kref__set_tail_call(r->kref, nicsim_obj__map(r->obj, map_idx)->name, index,
                                   prog_name, err, sizeof(err)))
        return nicsim_run_fail("%s: kernel: %s", what, err);
    return 0;
}

/* outer[key] = object map `inner` on the NIC (and, unless static, in the kernel comparison: libbpf
 * writes static initialisers itself). 0, or 1 after a message. */
static int set_inner_map(struct run *r, int outer, const void *key, int inner, const char *what)
{
    const char *oname = nicsim_obj__map(r->obj, outer)->name;
    const char *iname = nicsim_obj__map(r->obj, inner)->name;
    uint32_t fd = (uint32_t)r->map_fds[inner];
    char err[ERR_LEN];
    int rc = nicsim_kern_map_update_elem(r->k, r->map_fds[outer], key, &fd, BPF_ANY);

    if (rc)
        return nicsim_run_fail("%s: %s = map %s: %s", what, oname, iname,
                               *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k)
                                                             : strerror(-rc));
    if (r->kref && strcmp(what, "static") &&
        nicsim_kref__set_inner_map(r->kref, oname, key, iname, err, sizeof(err)))
        return nicsim_run_fail("%s: kernel: %s", what, err);
    return 0;
}

/* `.values = { [i] = &inner }` of maps of maps, after every map exists (libbpf's order). */
static int load_map_in_map_inits(struct run *r)
{
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        for (size_t j = 0; j < m->n_map_inits; j++) {
            int in = nicsim_obj__find_map(r->obj, m->map_inits[j].map);
            uint32_t key = m->map_inits[j].index;
            if (in < 0)
                return nicsim_run_fail("static: %s has no map '%s'", r->o->object,
                                       m->map_inits[j].map);
            if (set_inner_map(r, (int)i, &key, in, "static"))
                return 1;
        }
    }
    return 0;
}

static int load_prog_arrays(struct run *r)
{
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        for (size_t j = 0; j < m->n_prog_inits; j++)
            if (set_prog_array(r, (int)i, m->prog_inits[j].index, m->prog_inits[j].prog, "static"))
                return 1;
    }
    for (unsigned a = 0; a < r->o->n_prog_array_args; a++) {
        /* MAP:INDEX=PROG, its form and index checked with the arguments */
        const char *arg = r->o->prog_array_args[a], *colon = strchr(arg, ':');
        const char *eq = strchr(colon, '=');
        char map[RUN_MAX_NAME], prog[RUN_MAX_NAME];
        snprintf(map, sizeof(map), "%.*s", (int)(colon - arg), arg);
        snprintf(prog, sizeof(prog), "%s", eq + 1);
        uint32_t idx = (uint32_t)strtoull(colon + 1, NULL, 0);
        int mi = nicsim_obj__find_map(r->obj, map);
        if (mi < 0)
            return nicsim_run_fail("--prog-array %s: %s has no map '%s'", arg, r->o->object, map);
        if (nicsim_obj__map(r->obj, mi)->type != BPF_MAP_TYPE_PROG_ARRAY)
            return nicsim_run_fail("--prog-array %s: map '%s' is of type %s, not a prog array", arg,
                                   map,
                                   nicsim_run_map_type_name(nicsim_obj__map(r->obj, mi)->type));
        if (set_prog_array(r, mi, idx, prog, "--prog-array"))
            return 1;
    }
    return 0;
}

static int select_prog(struct run *r)
{
    char err[ERR_LEN];

    if (nicsim_cli_prog_select(r->obj, r->o->object, r->o->prog, &r->prog, err, sizeof(err)))
        return nicsim_run_fail("%s", err);
    return 0;
}

/* libbpf's rule: a perf event array declared without max_entries gets one slot per CPU (here:
 * per NIC core). */
static uint32_t map_max_entries(const struct run *r, const struct nicsim_obj_map *m)
{
    if (m->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && m->max_entries == 0)
        return nicsim_sys__n_cores(r->sys);
    return m->max_entries;
}

/* Create object map i on the NIC (map_ifindex of port 0) as libbpf would, with its initial
 * contents (global data). Returns the descriptor, or -1 with a sentence in why. */
int nicsim_run_offload_map(struct run *r, size_t i, char *why, size_t why_len)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_kern_map_create_attr ma = {.sz = sizeof(ma)};
    struct nicsim_msg ea = {.index = -1};
    char kname[16]; /* libbpf truncates names to BPF_OBJ_NAME_LEN - 1 */

    snprintf(kname, sizeof(kname), "%s", m->name);
    ma.map_type = m->type;
    ma.key_size = m->key_size;
    ma.value_size = m->value_size;
    ma.max_entries = map_max_entries(r, m);
    ma.map_flags = m->map_flags;
    ma.map_ifindex = (uint32_t)nicsim_sys__ifindex(r->sys, 0);
    ma.map_name = kname;
    int tmpl = -1;
    if (m->inner) {
        /* a map of maps: its inner template first, as libbpf creates it, closed once the outer
         * map has taken its attributes */
        const struct nicsim_obj_map *in = m->inner;
        struct nicsim_kern_map_create_attr ta = {.sz = sizeof(ta),
                                                 .map_type = in->type,
                                                 .key_size = in->key_size,
                                                 .value_size = in->value_size,
                                                 .max_entries = in->max_entries,
                                                 .map_flags = in->map_flags,
                                                 .map_ifindex = ma.map_ifindex};
        char tname[16];
        snprintf(tname, sizeof(tname), "%s", in->name);
        ta.map_name = tname;
        tmpl = nicsim_kern_map_create(r->k, &ta, &ea);
        if (tmpl < 0) {
            snprintf(why, why_len,
                     "map %s: its inner map template %s (%s): cannot be offloaded: %s", m->name,
                     in->name, nicsim_run_map_type_name(in->type),
                     ea.msg[0] ? ea.msg : strerror(-tmpl));
            return -1;
        }
        ma.inner_map_fd = (uint32_t)tmpl;
    }
    int fd = nicsim_kern_map_create(r->k, &ma, &ea);
    if (tmpl >= 0)
        nicsim_kern_close(r->k, tmpl);
    if (fd < 0) {
        snprintf(why, why_len, "map %s (%s): cannot be offloaded: %s", m->name,
                 nicsim_run_map_type_name(m->type), ea.msg[0] ? ea.msg : strerror(-fd));
        return -1;
    }
    if (m->init && m->init_len) {
        uint32_t zero = 0;
        int rc = nicsim_kern_map_update_elem(r->k, fd, &zero, m->init, BPF_ANY);
        if (rc) {
            snprintf(why, why_len, "map %s: initial contents refused: %s", m->name,
                     *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k) : strerror(-rc));
            nicsim_kern_close(r->k, fd);
            return -1;
        }
    }
    return fd;
}

/* The object is read whole: a regular file, and no larger than an XDP object can be (programs of
 * at most 1,000,000 instructions, 8 MB each, with their relocations, BTF and line info). */
#define RUN_MAX_OBJECT (256ull << 20)

int nicsim_run_check_object(const char *path)
{
    struct stat st;

    if (stat(path, &st))
        return 0; /* the loader says why it cannot open it */
    if (S_ISDIR(st.st_mode))
        return nicsim_run_fail("%s: is a directory, not an object file", path);
    if (!S_ISREG(st.st_mode))
        return nicsim_run_fail("%s: not a regular file (an ELF object file is read whole)", path);
    if ((uint64_t)st.st_size > RUN_MAX_OBJECT)
        return nicsim_run_fail(
            "%s: %llu bytes, larger than the %llu bytes an XDP object file can take", path,
            (unsigned long long)st.st_size, RUN_MAX_OBJECT);
    return 0;
}

int nicsim_run_setup(struct run *r)
{
    char err[ERR_LEN];
    struct nicsim_sys_opts so = {.sz = sizeof(so)};

    if (nicsim_run_check_object(r->o->object))
        return 1;
    r->obj = nicsim_obj__open_file(r->o->object, NULL, err, sizeof(err));
    if (!r->obj)
        return nicsim_run_fail("%s", err);
    if (select_prog(r))
        return 1;
    for (unsigned i = 0; i < r->o->n_ignore_args; i++) {
        /* MAP:OFFSET:LEN, its form and numbers checked with the arguments */
        const char *arg = r->o->ignore_args[i], *c1 = strchr(arg, ':');
        char name[RUN_MAX_NAME], *end;
        snprintf(name, sizeof(name), "%.*s", (int)(c1 - arg), arg);
        unsigned long long off = strtoull(c1 + 1, &end, 0), len = strtoull(end + 1, NULL, 0);
        r->ignore[i].map = nicsim_obj__find_map(r->obj, name);
        if (r->ignore[i].map < 0)
            return nicsim_run_fail("--ignore-bytes %s: %s has no map '%s'", arg, r->o->object,
                                   name);
        uint32_t vs = nicsim_obj__map(r->obj, (size_t)r->ignore[i].map)->value_size;
        if (off >= vs || len > vs - off)
            return nicsim_run_fail(
                "--ignore-bytes %s: bytes %llu..%llu are outside the %u-byte value of map "
                "'%s' (OFFSET 0..%u, OFFSET + LEN at most %u)",
                arg, off, off + len - 1, vs, name, vs ? vs - 1 : 0, vs);
        r->ignore[i].off = (unsigned)off;
        r->ignore[i].len = (unsigned)len;
    }

    so.n_ports = r->o->ports;
    so.n_cores = r->o->cores;
    so.clock_mhz = r->o->clock_mhz;
    so.mtu = r->o->mtu;
    so.seed = r->o->seed;
    so.budget = r->o->budget;
    struct nicsim_nic_model_opts mo = {.sz = sizeof(mo),
                                       .rx_buffer_bytes = r->o->rx_buffer_bytes,
                                       .rx_buffer_descs = r->o->rx_buffer_descs,
                                       .tx_queue_frames = r->o->tx_queue_frames,
                                       .host_queues = r->o->host_queues,
                                       .host_ring_entries = r->o->host_ring,
                                       .host_drain_mpps = r->o->host_drain_mpps,
                                       .dispatch = r->o->dispatch,
                                       .vcd_path = r->o->wave_nic};
    for (uint32_t p = 0; p < NICSIM_DP_MAX_PORTS; p++)
        mo.line_rate_gbps[p] =
            r->o->line_rate_port_gbps[p] > 0 ? r->o->line_rate_port_gbps[p] : r->o->line_rate_gbps;
    if (!r->o->plain_loop)
        so.nic_model = &mo; /* nicsim run goes through the SystemC NIC */
    r->sys = nicsim_sys__new(&so, err, sizeof(err));
    if (!r->sys)
        return nicsim_run_fail("cannot start the NIC: %s", err);
    r->k = nicsim_sys__kern(r->sys);
    for (uint32_t c = 0; r->o->backend && c < nicsim_sys__n_cores(r->sys); c++)
        nicsim_vm__set_backend(nicsim_xdp_core__vm(nicsim_dp__core(nicsim_sys__dp(r->sys), c)),
                               r->o->backend, r->o->backend_ctx);

    if (r->o->compare_kernel) {
        /* the kernel's runs see the NIC ports' ifindexes and rx queues (one per core) */
        uint32_t ifx[NICSIM_DP_MAX_PORTS];
        struct nicsim_kref_opts ko = {.sz = sizeof(ko),
                                      .prog_name = r->prog->name,
                                      .ifindexes = ifx,
                                      .n_rx_queues = nicsim_sys__n_cores(r->sys)};
        for (; ko.n_ifindexes < nicsim_sys__n_ports(r->sys) && ko.n_ifindexes < NICSIM_DP_MAX_PORTS;
             ko.n_ifindexes++)
            ifx[ko.n_ifindexes] = (uint32_t)nicsim_sys__ifindex(r->sys, (uint32_t)ko.n_ifindexes);
        int rc = nicsim_kref__probe(err, sizeof(err));
        if (nicsim_kref__unavailable(rc)) {
            fprintf(stderr,
                    "nicsim run: --compare-kernel: the kernel refuses bpf() (%s); "
                    "running without the comparison\n",
                    err);
        } else {
            nicsim_run_kpin_init(&r->kpin);
            r->kref = nicsim_kref__open(r->o->object, &ko, err, sizeof(err));
            if (!r->kref)
                return nicsim_run_fail("--compare-kernel: %s", err);
        }
    }

    size_t nm = nicsim_obj__n_maps(r->obj), np = nicsim_obj__n_progs(r->obj);
    r->map_fds = calloc(nm + 1, sizeof(int));
    r->prog_fds = calloc(np + 1, sizeof(int));
    if (!r->map_fds || !r->prog_fds)
        return nicsim_run_fail("out of memory");
    for (size_t i = 0; i < np; i++)
        r->prog_fds[i] = -1;
    for (size_t i = 0; i < nm; i++) {
        char why[ERR_LEN];
        r->map_fds[i] = nicsim_run_offload_map(r, i, why, sizeof(why));
        if (r->map_fds[i] < 0)
            return nicsim_run_fail("%s: %s", r->o->object, why);
    }
    if (load_map_in_map_inits(r) || load_map_args(r))
        return 1;
    if (nicsim_run_load_prog(r, (size_t)(r->prog - nicsim_obj__prog(r->obj, 0))))
        return 1;
    if (load_prog_arrays(r))
        return 1;

    /* Every port of the NIC runs the program (`ip link set dev PORT xdpoffload` on each: a
     * program bound to one port may run on all ports of its NIC). */
    for (uint32_t port = 0; port < nicsim_sys__n_ports(r->sys); port++) {
        struct nicsim_msg ea = {.index = -1};
        int rc = nicsim_kern_xdp_attach(r->k, nicsim_sys__ifindex(r->sys, port),
                                        r->prog_fds[r->prog - nicsim_obj__prog(r->obj, 0)], -1,
                                        XDP_FLAGS_HW_MODE, &ea);
        if (rc)
            return nicsim_run_fail(
                "%s: program %s (section %s) refused: attach to port %u in HW mode: %s",
                r->o->object, r->prog->name, r->prog->section, port,
                ea.msg[0] ? ea.msg : strerror(-rc));
    }
    if (!r->o->quiet)
        nicsim_cli_prog_report_skipped(r->obj, r->o->object, r->prog, r->prog_fds, stderr);
    if (r->o->ingress_port >= nicsim_sys__n_ports(r->sys))
        return nicsim_run_fail("--ingress-port %u: the NIC has ports 0..%u", r->o->ingress_port,
                               nicsim_sys__n_ports(r->sys) - 1);
    if (r->kref) {
        int rc = nicsim_kref__load(r->kref, err, sizeof(err));
        if (nicsim_kref__unavailable(rc)) {
            fprintf(stderr, "nicsim run: --compare-kernel: %s; running without the comparison\n",
                    err);
            nicsim_kref__close(r->kref);
            r->kref = NULL;
            if (r->o->kernel_skipped)
                *r->o->kernel_skipped = true;
        } else if (rc) {
            return nicsim_run_fail("--compare-kernel: the kernel refuses %s: %s", r->o->object,
                                   err);
        }
    }
    if (r->kref && nicsim_kref__rx_queue_writes_removed(r->kref))
        fprintf(stderr,
                "nicsim run: --compare-kernel: the kernel runs %s without its %zu writes to "
                "rx_queue_index (allowed only to offloaded programs)\n",
                r->prog->name, nicsim_kref__rx_queue_writes_removed(r->kref));
    if (r->kref && nicsim_kref__ifindex_unavailable(r->kref))
        fprintf(stderr,
                "nicsim run: --compare-kernel: the kernel's runs see ctx->ingress_ifindex 1 (lo) "
                "and rx_queue_index 0, not the NIC port's: %s\n",
                nicsim_kref__ifindex_unavailable(r->kref));
    if (r->kref && nicsim_kref__trace_unavailable(r->kref))
        fprintf(stderr, "nicsim run: --compare-kernel: bpf_trace_printk lines not compared: %s\n",
                nicsim_kref__trace_unavailable(r->kref));
    return 0;
}
