/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/*
 * nicsim run: offload an XDP object to the simulated NIC the way a user would on Linux (maps
 * created with map_ifindex, the program loaded with prog_ifindex and attached in HW mode, all
 * through the emulated kernel, the NIC driver, the BAR and the firmware), replay a trace through
 * the NIC's MAC and cores, and report per packet; optionally the same object in the host kernel
 * through libbpf and BPF_PROG_TEST_RUN, compared packet by packet and map by map.
 */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include <jansson.h>

#include "nicsim/ctrl.h"
#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/kref.h"
#include "nicsim/mapjson.h"
#include "nicsim/maptypes.h"
#include "nicsim/obj.h"
#include "nicsim/pcie.h"
#include "nicsim/system.h"
#include "nicsim/util.h"
#include "nicsim/xdp.h"
#include "printk.h"
#include "progsel.h"
#include "bpfconf.h"
#include "opt.h"
#include "outfile.h"
#include "replay.h"
#include "report.h"

#define ERR_LEN 512

/* The kernel runs BPF_PROG_TEST_RUN on the calling thread's CPU: each kernel run is pinned to the
 * CPU chosen at set-up, so that every packet sees the same per-CPU map slices and the comparison
 * does not depend on the scheduler; the thread's own affinity is restored after each run (the
 * rest of the process, and what it starts, keeps the CPUs it was given). */
struct kpin {
    cpu_set_t saved, one;
    bool ok;
};

static void kpin_init(struct kpin *p)
{
    int cpu = sched_getcpu();

    p->ok = sched_getaffinity(0, sizeof(p->saved), &p->saved) == 0;
    CPU_ZERO(&p->one);
    CPU_SET(cpu < 0 ? 0 : cpu, &p->one);
}

static void kpin_enter(const struct kpin *p)
{
    if (p->ok)
        sched_setaffinity(0, sizeof(p->one), &p->one);
}

static void kpin_leave(const struct kpin *p)
{
    if (p->ok)
        sched_setaffinity(0, sizeof(p->saved), &p->saved);
}

/* Everything one run holds. */
struct run {
    const struct run_opts *o;
    struct nicsim_obj *obj;
    const struct nicsim_obj_prog *prog;
    struct nicsim_sys *sys;
    struct nicsim_kern *k;
    int *map_fds;  /* per object map */
    int *prog_fds; /* per object program, -1 when not loaded */
    struct nicsim_kref *kref;
    struct kpin kpin;
    FILE *events;
    uint64_t events_written, events_lost;
    uint64_t cur_index;
    struct cli_printk printk; /* bpf_trace_printk lines (printk.c) */
    bool collect_errors; /* load_prog: keep the refusal in last_err instead of printing it */
    char last_err[ERR_LEN];
    struct {
        int map; /* object map index */
        unsigned off, len;
    } ignore[RUN_MAX_MAP_ARGS]; /* --ignore-bytes, resolved once */
};

static const char *cmd_name = "nicsim run"; /* message prefix */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: nicsim run OBJECT.o --pcap TRACE [options]\n"
        "\n"
        "Offloads the XDP program of OBJECT.o to the simulated NIC (emulated kernel, NIC\n"
        "driver, PCIe BAR, firmware) and replays TRACE through the NIC's MAC and cores.\n"
        "\n"
        "  --prog NAME              program by function name (default: the only XDP one)\n"
        "  --map NAME=FILE          initial entries of a map, bpftool's `map dump -j` JSON;\n"
        "                           global data by section (.rodata, .data, .bss); a map of\n"
        "                           maps' values may name inner maps (\"value\": \"NAME\");\n"
        "                           repeatable\n"
        "  --maps-dir DIR           --map NAME=DIR/NAME.json for every .json file in DIR\n"
        "  --prog-array MAP:INDEX=PROG  an entry of a prog array (tail calls); repeatable\n"
        "  --json FILE              per-packet report and summary (JSON)\n"
        "  --out-pcap FILE          packets as they leave the program (pcapng, one interface\n"
        "                           per egress, verdict in each packet's comment)\n"
        "  --dump-maps FILE         final contents of every map (bpftool JSON, by map name)\n"
        "  --events FILE            perf event / ring buffer records (JSON lines)\n"
        "  --plot FILE.png          cycles per packet along the trace and their distribution\n"
        "                           (gnuplot; with --compare-kernel the kernel's ns beside)\n"
        "  --compare-kernel         run the same object in the host kernel and compare\n"
        "  --ignore-bytes MAP:OFFSET:LEN  leave these value bytes out of the map comparison\n"
        "                           (values derived from ktime_get_ns or get_prandom_u32)\n"
        "  --kernel-repeat N        BPF_PROG_TEST_RUN repeat for the kernel's timing (64)\n"
        "  --clock-mhz MHZ          core clock (250)\n"
        "  --rate GBPS              frames arrive back to back at this line rate (default:\n"
        "                           at the trace's timestamps); shows whether the cores keep up\n"
        "  --cores N                NIC cores (4)      --ports N   NIC ports (2)\n"
        "  --mtu BYTES              port MTU (1500; at most 3502: a frame must fit the\n"
        "                           NIC's 3520-byte XDP buffer)\n"
        "  --seed N                 prandom seed (0)\n"
        "  --budget N               instructions per packet before the watchdog\n"
        "                           (1..10000000000; default 16777216)\n"
        "  --count N                stop after N packets\n"
        "  --truncated pad|captured|refuse  frames the capture cut short (snap length): zero-\n"
        "                           filled to their wire length (pad, the default), run as\n"
        "                           captured (as BPF_PROG_TEST_RUN), or refused by the MAC\n"
        "  --quiet                  no terminal summary\n"
        "  --no-progress            no progress bar\n"
        "\n"
        "Outputs are written to a temporary file beside each target and renamed when\n"
        "complete; an output that is also an input is refused; Ctrl-C leaves no partial file.\n"
        "\n"
        "Exit status: 0 done, 1 bad input or setup failure, 2 usage, 3 kernel mismatch,\n"
        "4 cycle regression against --baseline, 128 + N on signal N.\n");
}

/* Instructions per packet the watchdog allows at most: about ten seconds of simulation. */
#define RUN_MAX_BUDGET NICSIM_BPFCONF_MAX_BUDGET

static int opt_map(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *eq = strchr(arg, '=');

    if (o->n_map_args == RUN_MAX_MAP_ARGS)
        return cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!eq || eq == arg || !eq[1])
        return cli_usage_fail("%s '%s': expected NAME=FILE", opt, arg);
    if ((size_t)(eq - arg) >= RUN_MAX_NAME)
        return cli_usage_fail("%s '%.40s...': a map name has at most %d characters", opt, arg,
                              RUN_MAX_NAME - 1);
    o->map_args[o->n_map_args++] = arg;
    return 0;
}

/* MAP:INDEX=PROG, the index range-checked here, against the map at set-up. */
static int opt_prog_array(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *colon = strchr(arg, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    char idx[32], what[96];
    uint64_t v;

    if (o->n_prog_array_args == RUN_MAX_MAP_ARGS)
        return cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!colon || !eq || colon == arg || !eq[1] || (size_t)(colon - arg) >= RUN_MAX_NAME ||
        strlen(eq + 1) >= RUN_MAX_NAME || (size_t)(eq - colon - 1) >= sizeof(idx))
        return cli_usage_fail("%s '%s': expected MAP:INDEX=PROG", opt, arg);
    snprintf(idx, sizeof(idx), "%.*s", (int)(eq - colon - 1), colon + 1);
    snprintf(what, sizeof(what), "%s %.60s: INDEX", opt, arg);
    if (cli_num(what, idx, 0, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    o->prog_array_args[o->n_prog_array_args++] = arg;
    return 0;
}

static int opt_trace_packet(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (cli_num(opt, arg, 0, UINT64_MAX, NULL, &o->trace_packet))
        return CLI_USAGE;
    o->has_trace_packet = true;
    return 0;
}

/* --truncated refuse|captured|pad */
static int opt_truncated(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (nicsim_trace_truncated__parse(arg, &o->truncated))
        return cli_usage_fail("%s '%s': one of refuse, captured, pad", opt, arg);
    return 0;
}

/* MAP:OFFSET:LEN, the numbers range-checked here, against the map's value size at set-up. */
static int opt_ignore(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char off[32], len[32];
    uint64_t v;

    if (o->n_ignore_args == RUN_MAX_MAP_ARGS)
        return cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!c1 || !c2 || c1 == arg || (size_t)(c1 - arg) >= RUN_MAX_NAME ||
        (size_t)(c2 - c1 - 1) >= sizeof(off) || strlen(c2 + 1) >= sizeof(len))
        return cli_usage_fail("%s '%s': expected MAP:OFFSET:LEN", opt, arg);
    snprintf(off, sizeof(off), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    snprintf(len, sizeof(len), "%s", c2 + 1);
    char what[96];
    snprintf(what, sizeof(what), "%s %s: OFFSET", opt, arg);
    if (cli_num(what, off, 0, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    snprintf(what, sizeof(what), "%s %s: LEN", opt, arg);
    if (cli_num(what, len, 1, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    o->ignore_args[o->n_ignore_args++] = arg;
    return 0;
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
{
    bool no_progress = false;
    const struct cli_opt opts[] = {
        {.name = "--pcap", .kind = CLI_STR, .dst = &o->pcap},
        {.name = "--prog", .kind = CLI_STR, .dst = &o->prog},
        {.name = "--map", .kind = CLI_FN, .fn = opt_map},
        {.name = "--maps-dir", .kind = CLI_STR, .dst = &o->maps_dir},
        {.name = "--prog-array", .kind = CLI_FN, .fn = opt_prog_array},
        {.name = "--json", .kind = CLI_STR, .dst = &o->json},
        {.name = "--out-pcap", .kind = CLI_STR, .dst = &o->out_pcap},
        {.name = "--dump-maps", .kind = CLI_STR, .dst = &o->dump_maps},
        {.name = "--events", .kind = CLI_STR, .dst = &o->events},
        {.name = "--plot", .kind = CLI_STR, .dst = &o->plot},
        {.name = "--baseline", .kind = CLI_STR, .dst = &o->baseline},
        {.name = "--compare-kernel", .kind = CLI_FLAG, .dst = &o->compare_kernel},
        {.name = "--kernel-repeat",
         .kind = CLI_U32,
         .dst = &o->kernel_repeat,
         .lo = 1,
         .hi = 1000000},
        {.name = "--clock-mhz", .kind = CLI_U32, .dst = &o->clock_mhz, .lo = 1, .hi = 10000},
        {.name = "--cores", .kind = CLI_U32, .dst = &o->cores, .lo = 1, .hi = 64},
        {.name = "--ports", .kind = CLI_U32, .dst = &o->ports, .lo = 1, .hi = 16},
        {.name = "--mtu",
         .kind = CLI_U32,
         .dst = &o->mtu,
         .lo = 68,
         .hi = RUN_MAX_MTU,
         .why = "(a frame of MTU + 18 bytes of Ethernet and VLAN header must fit the NIC's "
                "3520-byte XDP buffer)"},
        {.name = "--seed", .kind = CLI_U64, .dst = &o->seed, .lo = 0, .hi = UINT64_MAX},
        {.name = "--budget",
         .kind = CLI_U64,
         .dst = &o->budget,
         .lo = 1,
         .hi = RUN_MAX_BUDGET,
         .why = "(instructions per packet before the watchdog)"},
        {.name = "--count", .kind = CLI_U64, .dst = &o->limit, .lo = 0, .hi = UINT64_MAX},
        {.name = "--ingress-port", .kind = CLI_U32, .dst = &o->ingress_port, .lo = 0, .hi = 15},
        {.name = "--trace-packet", .kind = CLI_FN, .fn = opt_trace_packet},
        {.name = "--ignore-bytes", .kind = CLI_FN, .fn = opt_ignore},
        {.name = "--rate",
         .kind = CLI_DOUBLE,
         .dst = &o->rate_gbps,
         .dlo = 0,
         .dhi = 10000,
         .dlo_open = true,
         .why = "Gb/s"},
        {.name = "--max-regression",
         .kind = CLI_DOUBLE,
         .dst = &o->max_regression,
         .dlo = 0,
         .dhi = 1000,
         .why = "percent"},
        {.name = "--truncated", .kind = CLI_FN, .fn = opt_truncated},
        {.name = "--quiet", .kind = CLI_FLAG, .dst = &o->quiet},
        {.name = "--no-progress", .kind = CLI_FLAG, .dst = &no_progress},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[2];
    size_t n_pos = 0;

    memset(o, 0, sizeof(*o));
    o->clock_mhz = 250;
    o->cores = 4;
    o->ports = 2;
    o->mtu = 1500;
    o->kernel_repeat = 64;
    cli_set_prog(cmd_name);
    int rc = cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), o, pos, 2, &n_pos);
    if (rc == CLI_HELP) {
        usage(stdout);
        exit(0);
    }
    if (rc)
        return rc;
    o->progress = !no_progress && isatty(STDERR_FILENO);
    if (n_pos != 1)
        return cli_usage_fail(n_pos ? "one object file, please (got '%s' and '%s')"
                                    : "no object file given%s%s; usage: nicsim run OBJECT.o "
                                      "--pcap TRACE [options], --help lists them",
                              n_pos ? pos[0] : "", n_pos ? pos[1] : "");
    o->object = pos[0];
    if (!o->pcap)
        return cli_usage_fail("--pcap TRACE is required");
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Map layouts: per-CPU maps hold one value per core on the NIC, one per possible CPU in the
 * kernel; bpf(2) exchanges per-CPU values padded to 8 bytes each.
 */
static bool is_dumpable(uint32_t type)
{
    return type != BPF_MAP_TYPE_PROG_ARRAY && type != BPF_MAP_TYPE_PERF_EVENT_ARRAY &&
           type != BPF_MAP_TYPE_RINGBUF && type != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
           type != BPF_MAP_TYPE_HASH_OF_MAPS;
}

static struct nicsim_mapjson_layout nic_layout(const struct run *r, const struct nicsim_obj_map *m)
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
static int nic_map_dump(struct run *r, size_t i, struct nicsim_mapjson_entries *out)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_mapjson_layout l = nic_layout(r, m);
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

static const char *map_type_name(uint32_t t)
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
        fail("%s '%s': expected NAME=FILE", what, arg);
        return -1;
    }
    if (n >= name_len) {
        fail("%s '%.40s...': a map name has at most %zu characters", what, arg, name_len - 1);
        return -1;
    }
    memcpy(name, arg, n);
    name[n] = 0;
    *file = eq + 1;
    idx = nicsim_obj__find_map(r->obj, name);
    if (idx < 0) {
        fprintf(stderr, "%s: %s %s: %s has no map '%s'; its maps:", cmd_name, what, name,
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
            return fail("--maps-dir %s: %s", r->o->maps_dir, strerror(errno));
        int rc = 0;
        for (int i = 0; i < n; i++) {
            const char *d = ents[i]->d_name;
            size_t len = strlen(d);
            if (!rc && len > 5 && !strcmp(d + len - 5, ".json")) {
                size_t alen = 2 * len + strlen(r->o->maps_dir) + 3;
                char *arg = malloc(alen);
                if (!arg) {
                    rc = fail("out of memory");
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
static int map_by_id(const struct run *r, uint32_t id)
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
    struct nicsim_mapjson_layout l = nic_layout(r, m);
    struct nicsim_mapjson_entries e;
    char err[ERR_LEN];
    int rc = 0;

    l.max_entries = map_max_entries(r, m);
    l.value_name = inner_name_to_id;
    l.value_name_ctx = r;
    if (read_map_json(file, &l, &e, err, sizeof(err))) {
        nicsim_mapjson_entries__free(&e);
        return fail("%s %s: %s", what, name, err);
    }
    for (size_t i = 0; i < e.count && !rc; i++) {
        uint32_t id;
        memcpy(&id, nicsim_mapjson_entries__value(&e, i), 4);
        int in = map_by_id(r, id);
        if (in < 0) {
            rc = fail("%s %s: %s: entry %zu: value %u is the id of no map of %s (name the inner "
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
    if (!is_dumpable(m->type))
        return fail("%s %s: a %s map is not filled from JSON (use --prog-array for prog arrays)",
                    what, name, map_type_name(m->type));
    struct nicsim_mapjson_layout l = nic_layout(r, m);
    l.max_entries = map_max_entries(r, m);
    struct nicsim_mapjson_entries e;
    if (read_map_json(file, &l, &e, err, sizeof(err))) {
        nicsim_mapjson_entries__free(&e);
        return fail("%s %s: %s", what, name, err);
    }
    uint8_t *val = calloc(1, nicsim_round8(m->value_size) * l.ncpus + m->value_size);
    if (!val) {
        nicsim_mapjson_entries__free(&e);
        return fail("%s %s: out of memory", what, name);
    }
    for (size_t i = 0; i < e.count; i++) {
        to_syscall_value(&l, nicsim_mapjson_entries__value(&e, i), val);
        int rc = nicsim_kern_map_update_elem(r->k, r->map_fds[idx],
                                             nicsim_mapjson_entries__key(&e, i), val, BPF_ANY);
        if (rc) {
            free(val);
            nicsim_mapjson_entries__free(&e);
            return fail("%s %s: %s: entry %zu: the NIC map refuses it: %s", what, name, file, i,
                        *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k)
                                                      : strerror(-rc));
        }
    }
    free(val);
    nicsim_mapjson_entries__free(&e);
    if (r->kref) {
        struct nicsim_kref_map_info ki;
        int ki_idx = nicsim_kref__map_index(r->kref, name);
        if (ki_idx < 0 || nicsim_kref__map_info(r->kref, (size_t)ki_idx, &ki))
            return fail("%s %s: the kernel's copy of %s has no such map", what, name, r->o->object);
        ki.layout.max_entries = l.max_entries;
        if (read_map_json(file, &ki.layout, &e, err, sizeof(err))) {
            nicsim_mapjson_entries__free(&e);
            return fail("%s %s: %s", what, name, err);
        }
        int rc = nicsim_kref__map_set(r->kref, name, &e, err, sizeof(err));
        nicsim_mapjson_entries__free(&e);
        if (rc)
            return fail("%s %s: kernel: %s", what, name, err);
    }
    return 0;
}

/* The expected attach type libbpf loads an XDP program with: its section's (xdp/devmap:
 * BPF_XDP_DEVMAP, xdp/cpumap: BPF_XDP_CPUMAP, which the kernel refuses to attach to a device),
 * else BPF_XDP (legacy sections libbpf cannot type are loaded as XDP). */
static uint32_t xdp_attach_type(const struct nicsim_obj_prog *p)
{
    uint32_t t = p->expected_attach_type;
    return p->prog_type == BPF_PROG_TYPE_XDP && (t == BPF_XDP_DEVMAP || t == BPF_XDP_CPUMAP)
               ? t
               : BPF_XDP;
}

static int load_prog(struct run *r, size_t pi)
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
            fail("%s", r->last_err);
        return -1;
    }
    a.prog_type = p->prog_type ? p->prog_type : BPF_PROG_TYPE_XDP;
    a.expected_attach_type = xdp_attach_type(p);
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
                 core ? core : cli_prog_load_reason(fd, a.err_msg, why, sizeof(why)));
        if (!r->collect_errors)
            fail("%s", r->last_err);
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
        return fail("%s: %s has no program '%s'", what, r->o->object, prog_name);
    if (load_prog(r, (size_t)pi))
        return 1;
    uint32_t fd = (uint32_t)r->prog_fds[pi];
    int rc = nicsim_kern_map_update_elem(r->k, r->map_fds[map_idx], &index, &fd, BPF_ANY);
    if (rc)
        return fail("%s: %s[%u] = %s: %s", what, nicsim_obj__map(r->obj, map_idx)->name, index,
                    prog_name,
                    *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k) : strerror(-rc));
    if (r->kref && strcmp(what, "static") &&
        nicsim_kref__set_tail_call(r->kref, nicsim_obj__map(r->obj, map_idx)->name, index,
                                   prog_name, err, sizeof(err)))
        return fail("%s: kernel: %s", what, err);
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
        return fail("%s: %s = map %s: %s", what, oname, iname,
                    *nicsim_kern_last_error(r->k) ? nicsim_kern_last_error(r->k) : strerror(-rc));
    if (r->kref && strcmp(what, "static") &&
        nicsim_kref__set_inner_map(r->kref, oname, key, iname, err, sizeof(err)))
        return fail("%s: kernel: %s", what, err);
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
                return fail("static: %s has no map '%s'", r->o->object, m->map_inits[j].map);
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
            return fail("--prog-array %s: %s has no map '%s'", arg, r->o->object, map);
        if (nicsim_obj__map(r->obj, mi)->type != BPF_MAP_TYPE_PROG_ARRAY)
            return fail("--prog-array %s: map '%s' is of type %s, not a prog array", arg, map,
                        map_type_name(nicsim_obj__map(r->obj, mi)->type));
        if (set_prog_array(r, mi, idx, prog, "--prog-array"))
            return 1;
    }
    return 0;
}

static int select_prog(struct run *r)
{
    char err[ERR_LEN];

    if (cli_prog_select(r->obj, r->o->object, r->o->prog, &r->prog, err, sizeof(err)))
        return fail("%s", err);
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
static int offload_map(struct run *r, size_t i, char *why, size_t why_len)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_kern_map_create_attr ma = {.sz = sizeof(ma)};
    struct nicsim_extack ea = {{0}};
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
                     in->name, map_type_name(in->type), ea.msg[0] ? ea.msg : strerror(-tmpl));
            return -1;
        }
        ma.inner_map_fd = (uint32_t)tmpl;
    }
    int fd = nicsim_kern_map_create(r->k, &ma, &ea);
    if (tmpl >= 0)
        nicsim_kern_close(r->k, tmpl);
    if (fd < 0) {
        snprintf(why, why_len, "map %s (%s): cannot be offloaded: %s", m->name,
                 map_type_name(m->type), ea.msg[0] ? ea.msg : strerror(-fd));
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

static int check_object(const char *path)
{
    struct stat st;

    if (stat(path, &st))
        return 0; /* the loader says why it cannot open it */
    if (S_ISDIR(st.st_mode))
        return fail("%s: is a directory, not an object file", path);
    if (!S_ISREG(st.st_mode))
        return fail("%s: not a regular file (an ELF object file is read whole)", path);
    if ((uint64_t)st.st_size > RUN_MAX_OBJECT)
        return fail("%s: %llu bytes, larger than the %llu bytes an XDP object file can take", path,
                    (unsigned long long)st.st_size, RUN_MAX_OBJECT);
    return 0;
}

static int setup(struct run *r)
{
    char err[ERR_LEN];
    struct nicsim_sys_opts so = {.sz = sizeof(so)};

    if (check_object(r->o->object))
        return 1;
    r->obj = nicsim_obj__open_file(r->o->object, NULL, err, sizeof(err));
    if (!r->obj)
        return fail("%s", err);
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
            return fail("--ignore-bytes %s: %s has no map '%s'", arg, r->o->object, name);
        uint32_t vs = nicsim_obj__map(r->obj, (size_t)r->ignore[i].map)->value_size;
        if (off >= vs || len > vs - off)
            return fail("--ignore-bytes %s: bytes %llu..%llu are outside the %u-byte value of map "
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
    r->sys = nicsim_sys__new(&so, err, sizeof(err));
    if (!r->sys)
        return fail("cannot start the NIC: %s", err);
    r->k = nicsim_sys__kern(r->sys);

    if (r->o->compare_kernel) {
        /* the kernel's runs see the NIC ports' ifindexes and rx queues (one per core) */
        uint32_t ifx[NICSIM_DP_MAX_PORTS];
        struct nicsim_kref_opts ko = {.sz = sizeof(ko), .prog_name = r->prog->name,
                                      .ifindexes = ifx, .n_rx_queues = nicsim_sys__n_cores(r->sys)};
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
            kpin_init(&r->kpin);
            r->kref = nicsim_kref__open(r->o->object, &ko, err, sizeof(err));
            if (!r->kref)
                return fail("--compare-kernel: %s", err);
        }
    }

    size_t nm = nicsim_obj__n_maps(r->obj), np = nicsim_obj__n_progs(r->obj);
    r->map_fds = calloc(nm + 1, sizeof(int));
    r->prog_fds = calloc(np + 1, sizeof(int));
    if (!r->map_fds || !r->prog_fds)
        return fail("out of memory");
    for (size_t i = 0; i < np; i++)
        r->prog_fds[i] = -1;
    for (size_t i = 0; i < nm; i++) {
        char why[ERR_LEN];
        r->map_fds[i] = offload_map(r, i, why, sizeof(why));
        if (r->map_fds[i] < 0)
            return fail("%s: %s", r->o->object, why);
    }
    if (load_map_in_map_inits(r) || load_map_args(r))
        return 1;
    if (load_prog(r, (size_t)(r->prog - nicsim_obj__prog(r->obj, 0))))
        return 1;
    if (load_prog_arrays(r))
        return 1;

    /* Every port of the NIC runs the program (`ip link set dev PORT xdpoffload` on each: a
     * program bound to one port may run on all ports of its NIC). */
    for (uint32_t port = 0; port < nicsim_sys__n_ports(r->sys); port++) {
        struct nicsim_extack ea = {{0}};
        int rc = nicsim_kern_xdp_attach(r->k, nicsim_sys__ifindex(r->sys, port),
                                        r->prog_fds[r->prog - nicsim_obj__prog(r->obj, 0)], -1,
                                        XDP_FLAGS_HW_MODE, &ea);
        if (rc)
            return fail("%s: program %s (section %s) refused: attach to port %u in HW mode: %s",
                        r->o->object, r->prog->name, r->prog->section, port,
                        ea.msg[0] ? ea.msg : strerror(-rc));
    }
    if (!r->o->quiet)
        cli_prog_report_skipped(r->obj, r->o->object, r->prog, r->prog_fds, stderr);
    if (r->o->ingress_port >= nicsim_sys__n_ports(r->sys))
        return fail("--ingress-port %u: the NIC has ports 0..%u", r->o->ingress_port,
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
            return fail("--compare-kernel: the kernel refuses %s: %s", r->o->object, err);
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

/* ---------------------------------------------------------------------------------------------
 * Events: drained from the firmware's queue over the BAR after each packet.
 */
static bool has_event_maps(const struct run *r)
{
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        uint32_t t = nicsim_obj__map(r->obj, i)->type;
        if (t == BPF_MAP_TYPE_PERF_EVENT_ARRAY || t == BPF_MAP_TYPE_RINGBUF)
            return true;
    }
    return false;
}

static int on_event(void *user, const struct nicsim_event_rec *rec, const void *data)
{
    struct run *r = user;
    const uint8_t *d = data;

    if (cli_printk_on_event(&r->printk, r->o->quiet ? NULL : stdout, r->events, r->cur_index, rec,
                            data))
        return 0;
    r->events_written++;
    if (!r->events)
        return 0;
    fprintf(r->events, "{\"packet\":%llu,\"nic_map_id\":%u,\"cpu\":%u,\"index\":%llu,\"data\":\"",
            (unsigned long long)r->cur_index, rec->map_id, rec->cpu,
            (unsigned long long)rec->index);
    for (uint32_t i = 0; i < rec->len; i++)
        fprintf(r->events, "%02x", d[i]);
    fputs("\"}\n", r->events);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Kernel comparison.
 */
static void compare_packet(const struct nicsim_dp_result *res, const struct nicsim_kref_result *kr,
                           struct report_kernel_pkt *kp)
{
    const struct nicsim_xdp_result *x = &res->xdp;

    kp->valid = true;
    kp->retval = kr->verdict;
    kp->data = kr->data;
    kp->len = kr->linear_len;
    kp->ns = kr->duration_ns;
    kp->match = true;
    if (x->r0 != kr->verdict) {
        kp->match = false;
        snprintf(kp->mismatch, sizeof(kp->mismatch), "verdict: NIC %s (%llu), kernel %s (%u)",
                 nicsim_xdp_action_name(x->r0), (unsigned long long)x->r0,
                 nicsim_xdp_action_name(kr->verdict), kr->verdict);
    } else if (x->len != kr->linear_len || memcmp(x->data, kr->data, x->len)) {
        uint32_t i = 0;
        while (i < x->len && i < kr->linear_len && x->data[i] == kr->data[i])
            i++;
        kp->match = false;
        snprintf(kp->mismatch, sizeof(kp->mismatch),
                 "bytes: NIC %u bytes, kernel %u bytes, first difference at offset %u", x->len,
                 kr->linear_len, i);
    }
}

/* Sum per-CPU values over CPUs, as little-endian words of 8, 4 or 1 bytes. */
static void sum_cpus(const struct nicsim_mapjson_layout *l, const uint8_t *v, uint8_t *out)
{
    size_t w = l->value_size % 8 == 0 ? 8 : l->value_size % 4 == 0 ? 4 : 1;

    for (size_t off = 0; off < l->value_size; off += w) {
        uint64_t s = 0;
        for (uint32_t c = 0; c < l->ncpus; c++) {
            uint64_t x = 0;
            memcpy(&x, v + (size_t)c * l->value_size + off, w);
            s += x;
        }
        memcpy(out + off, &s, w);
    }
}

/* Zero the bytes --ignore-bytes leaves out of the comparison of map i's values. */
static void mask_ignored(const struct run *r, size_t i, uint8_t *v)
{
    uint32_t vs = nicsim_obj__map(r->obj, i)->value_size;

    for (unsigned a = 0; a < r->o->n_ignore_args; a++) {
        unsigned off = r->ignore[a].off, len = r->ignore[a].len;
        if ((size_t)r->ignore[a].map == i && off < vs)
            memset(v + off, 0, len > vs - off ? vs - off : len);
    }
}

/* A map of maps: each side's elements must hold the map of the same name. 1 on a mismatch. */
static int compare_outer_map(struct run *r, size_t i, int kidx, FILE *tty)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_mapjson_entries ne, ke;
    char err[ERR_LEN];
    size_t bad = 0;

    if (nic_map_dump(r, i, &ne)) {
        fprintf(tty, "map %s: cannot read the NIC map\n", m->name);
        return 1;
    }
    if (nicsim_kref__outer_map_dump(r->kref, (size_t)kidx, &ke, err, sizeof(err))) {
        fprintf(tty, "map %s: cannot read the kernel map: %s\n", m->name, err);
        nicsim_mapjson_entries__free(&ne);
        nicsim_mapjson_entries__free(&ke);
        return 1;
    }
    nicsim_mapjson_entries__index(&ke);
    for (size_t e = 0; e < ne.count; e++) {
        struct nicsim_kref_map_info ki;
        uint32_t id, kmap;
        long ke_i = nicsim_mapjson_entries__find(&ke, nicsim_mapjson_entries__key(&ne, e));
        memcpy(&id, nicsim_mapjson_entries__value(&ne, e), 4);
        int nmap = map_by_id(r, id);
        const char *nname = nmap >= 0 ? nicsim_obj__map(r->obj, (size_t)nmap)->name : "?";
        if (ke_i < 0) {
            if (!bad++)
                fprintf(tty, "map %s: a key only the NIC has (entry %zu)\n", m->name, e);
            continue;
        }
        memcpy(&kmap, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), 4);
        const char *kname =
            kmap != UINT32_MAX && !nicsim_kref__map_info(r->kref, kmap, &ki) ? ki.layout.name : "?";
        if (strcmp(nname, kname) && !bad++)
            fprintf(tty, "map %s: entry %zu: the NIC's holds map %s, the kernel's map %s\n",
                    m->name, e, nname, kname);
    }
    if (ke.count != ne.count && !bad++)
        fprintf(tty, "map %s: the NIC holds %zu entries, the kernel %zu\n", m->name, ne.count,
                ke.count);
    nicsim_mapjson_entries__free(&ne);
    nicsim_mapjson_entries__free(&ke);
    return bad != 0;
}

static int compare_maps(struct run *r, FILE *tty)
{
    char err[ERR_LEN];
    int mismatches = 0;

    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        struct nicsim_kref_map_info ki;
        struct nicsim_mapjson_entries ne, ke;
        int kidx = nicsim_kref__map_index(r->kref, m->name);

        if (m->inner && kidx >= 0) {
            mismatches += compare_outer_map(r, i, kidx, tty);
            continue;
        }
        if (!is_dumpable(m->type) || kidx < 0 ||
            nicsim_kref__map_info(r->kref, (size_t)kidx, &ki) || !ki.dumpable)
            continue;
        if (nic_map_dump(r, i, &ne)) {
            fprintf(tty, "map %s: cannot read the NIC map\n", m->name);
            mismatches++;
            continue;
        }
        if (nicsim_kref__map_dump(r->kref, (size_t)kidx, &ke, err, sizeof(err))) {
            fprintf(tty, "map %s: cannot read the kernel map: %s\n", m->name, err);
            nicsim_mapjson_entries__free(&ne);
            mismatches++;
            continue;
        }
        struct nicsim_mapjson_layout nl = nic_layout(r, m);
        nicsim_mapjson_entries__index(&ke); /* hash maps dump in another order on each side */
        uint8_t *a = malloc(m->value_size), *b = malloc(m->value_size);
        size_t bad = 0;
        for (size_t e = 0; a && b && e < ne.count; e++) {
            const uint8_t *key = nicsim_mapjson_entries__key(&ne, e);
            /* Same position first (arrays dump in index order on both sides), else search. */
            long ke_i =
                e < ke.count && !memcmp(nicsim_mapjson_entries__key(&ke, e), key, m->key_size)
                    ? (long)e
                    : nicsim_mapjson_entries__find(&ke, key);
            if (ke_i < 0) {
                if (!bad++)
                    fprintf(tty, "map %s: a key only the NIC has (entry %zu)\n", m->name, e);
                continue;
            }
            if (nl.per_cpu) {
                sum_cpus(&nl, nicsim_mapjson_entries__value(&ne, e), a);
                sum_cpus(&ki.layout, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), b);
            } else {
                memcpy(a, nicsim_mapjson_entries__value(&ne, e), m->value_size);
                memcpy(b, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), m->value_size);
            }
            mask_ignored(r, i, a);
            mask_ignored(r, i, b);
            if (memcmp(a, b, m->value_size) && !bad++)
                fprintf(tty, "map %s: entry %zu: values differ%s\n", m->name, e,
                        nl.per_cpu ? " (summed over CPUs)" : "");
        }
        if (ke.count != ne.count) {
            if (!bad++)
                fprintf(tty, "map %s: the NIC holds %zu entries, the kernel %zu\n", m->name,
                        ne.count, ke.count);
        }
        if (bad)
            mismatches++;
        free(a);
        free(b);
        nicsim_mapjson_entries__free(&ne);
        nicsim_mapjson_entries__free(&ke);
    }
    return mismatches;
}

/* ---------------------------------------------------------------------------------------------
 * Map dump: {"MAP": [bpftool entries], ...}.
 */
static int dump_maps(struct run *r, const char *path)
{
    FILE *f = fopen(path, "w");
    bool first = true;

    if (!f)
        return fail("--dump-maps %s: %s", r->o->dump_maps, strerror(errno));
    fputs("{", f);
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        struct nicsim_mapjson_entries e;
        if (!is_dumpable(m->type))
            continue;
        if (nic_map_dump(r, i, &e)) {
            fclose(f);
            return fail("--dump-maps: cannot read map %s", m->name);
        }
        struct nicsim_mapjson_layout l = nic_layout(r, m);
        char *s = nicsim_mapjson__format(&l, &e, 0);
        nicsim_mapjson_entries__free(&e);
        if (!s) {
            fclose(f);
            return fail("--dump-maps: out of memory");
        }
        fprintf(f, "%s\n  \"%s\": %s", first ? "" : ",", m->name, s);
        first = false;
        free(s);
    }
    fputs("\n}\n", f);
    if (ferror(f) | fclose(f))
        return fail("--dump-maps %s: write failed", r->o->dump_maps);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Plot: per-packet figures streamed to a data file during the replay, drawn by gnuplot at the end.
 */
/* gnuplot in PATH: the file to run, or NULL. */
static char *find_gnuplot(void)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;

    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(d) + sizeof("/gnuplot");
        char *f = malloc(n);
        if (!f)
            break;
        snprintf(f, n, "%s/gnuplot", d);
        if (access(f, X_OK) == 0) {
            free(copy);
            return f;
        }
        free(f);
    }
    free(copy);
    return NULL;
}

/*
 * Draws the plot with gnuplot, run without a shell. Nothing the user named becomes gnuplot code:
 * the script below is constant but for numbers, and the title, the data file and the output file
 * reach it as the string arguments ARG1..ARG3 of `gnuplot -c` (values, never parsed as code).
 */
static int plot_draw(const char *gnuplot, const char *png, const char *shown, const char *data,
                     bool kernel, uint32_t clock_mhz, const char *title)
{
    char script[] = "/tmp/nicsim-plot-XXXXXX.gp";
    int fd = mkstemps(script, 3);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    double ns = 1000.0 / clock_mhz;

    if (!f) {
        if (fd >= 0) {
            close(fd);
            unlink(script);
        }
        return fail("--plot %s: cannot write a gnuplot script in /tmp: %s", shown, strerror(errno));
    }
    fprintf(f,
            "set terminal pngcairo size 1200,500 font ',10' noenhanced\n"
            "set output ARG3\n"
            "set multiplot layout 1,2 title ARG1\n"
            "set xlabel 'packet (trace order)'\nset ylabel 'ns per packet'\nset key top left\n"
            "plot ARG2 using 1:($2*%g) with points pt 7 ps 0.4 title 'NIC core (%u MHz)'%s\n"
            "set xlabel 'ns per packet'\nset ylabel 'fraction of packets'\n"
            "stats ARG2 using 2 nooutput\n"
            "plot ARG2 using ($2*%g):(1.0/STATS_records) smooth cumulative title 'NIC core'%s\n"
            "unset multiplot\n",
            ns, clock_mhz,
            kernel ? ", '' using 1:4 with points pt 7 ps 0.4 title 'host kernel (JIT)'" : "", ns,
            kernel ? ", '' using 4:(1.0/STATS_records) smooth cumulative title 'host kernel'" : "");
    if (ferror(f) | fclose(f)) {
        unlink(script);
        return fail("--plot %s: cannot write a gnuplot script in /tmp", shown);
    }
    FILE *errf = tmpfile();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        if (errf)
            dup2(fileno(errf), STDERR_FILENO);
        execl(gnuplot, "gnuplot", "-c", script, title, data, png, (char *)NULL);
        fprintf(stderr, "cannot run %s: %s\n", gnuplot, strerror(errno));
        _exit(127);
    }
    int st = 0;
    bool waited = pid > 0 && waitpid(pid, &st, 0) == pid;
    unlink(script);
    if (waited && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (errf)
            fclose(errf);
        return 0;
    }
    /* gnuplot's own last message says what failed */
    char said[512] = "", line[512];
    if (errf) {
        rewind(errf);
        while (fgets(line, sizeof(line), errf)) {
            line[strcspn(line, "\n")] = 0;
            if (line[strspn(line, " ^")])
                snprintf(said, sizeof(said), "%s", line + strspn(line, " "));
        }
        fclose(errf);
    }
    if (pid < 0)
        return fail("--plot %s: cannot start %s: %s", shown, gnuplot, strerror(errno));
    if (WIFSIGNALED(st))
        return fail("--plot %s: %s was killed by signal %d%s%s", shown, gnuplot, WTERMSIG(st),
                    said[0] ? ": " : "", said);
    return fail("--plot %s: %s failed (exit status %d)%s%s", shown, gnuplot,
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, said[0] ? ": " : "", said);
}

/* ---------------------------------------------------------------------------------------------
 * Instruction trace of one packet, on every core (the dispatcher picks one).
 */
struct itrace {
    const struct nicsim_prog *prog; /* the program of the last line printed */
};

static void itrace_line(void *user, const struct nicsim_trace_rec *rec)
{
    struct itrace *t = user;
    /* The retired tail call is reported with the program it jumped to: it belongs to the one
     * before. */
    const struct nicsim_prog *p =
        rec->prog != t->prog && t->prog && rec->pc != 0 ? t->prog : rec->prog;
    const struct nicsim_isa_insn *in = nicsim_prog__insns(p);
    size_t n = nicsim_prog__len(p);
    struct nicsim_insn raw[2];
    struct nicsim_isa_err e;
    char text[96] = "?", note[48] = "";

    if (p != t->prog) {
        printf("  program %s:\n  %5s  %-40s %5s %8s  %s\n", nicsim_prog__name(p), "pc",
               "instruction", "+cyc", "cycle", "result");
        t->prog = p;
    }
    if (rec->pc < n) {
        size_t k = in[rec->pc].op == NICSIM_OP_LDDW && rec->pc + 1 < n ? 2 : 1;
        if (nicsim_isa_encode(&in[rec->pc], k, raw, &e) == 0)
            nicsim_disasm_insn(raw, k, text, sizeof(text));
        const struct nicsim_helper *h = nicsim_xdp_helpers();
        int32_t id = in[rec->pc].imm;
        if (in[rec->pc].op == NICSIM_OP_CALL_HELPER && id > 0 && id < NICSIM_MAX_HELPERS &&
            h[id].name)
            snprintf(note, sizeof(note), "  (%s)", h[id].name);
    }
    printf("  %5u  %-40s %5u %8llu  0x%llx%s\n", rec->pc, text, rec->cycles,
           (unsigned long long)rec->cycle, (unsigned long long)rec->dst_value, note);
    if (rec->prog != p) {
        t->prog = NULL; /* the next line starts the tail-called program's header */
    }
}

static void itrace_set(struct run *r, struct itrace *t)
{
    struct nicsim_dp *dp = nicsim_sys__dp(r->sys);

    for (uint32_t c = 0; c < nicsim_sys__n_cores(r->sys); c++)
        nicsim_vm__set_trace(nicsim_xdp_core__vm(nicsim_dp__core(dp, c)), t ? itrace_line : NULL,
                             t);
}

/* ---------------------------------------------------------------------------------------------
 * Baseline: the cycles of each packet in an earlier --json report, by index (-1: none).
 */
struct baseline {
    int64_t *cycles;
    size_t n;
    uint64_t compared, regressions, improvements;
    uint64_t worst_index;
    double worst_pct;
};

/* A --json report takes at most about 16 KiB a packet (two packets' bytes in hex and the rest),
 * and every packet of the trace at least 16 bytes of its file: the baseline of a trace is read
 * up to RUN_BASELINE_PER_TRACE_BYTE bytes per byte of the trace. */
#define RUN_BASELINE_PER_TRACE_BYTE 1024ull
#define RUN_BASELINE_MIN            (1ull << 20)

static int baseline_load(struct baseline *b, const char *path, const char *trace)
{
    json_error_t e;
    struct stat st;
    uint64_t limit = RUN_BASELINE_MIN;
    if (stat(trace, &st) == 0 && S_ISREG(st.st_mode))
        limit += (uint64_t)st.st_size * RUN_BASELINE_PER_TRACE_BYTE;
    if (limit > SIZE_MAX / 2)
        limit = SIZE_MAX / 2;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail("--baseline %s: %s", path, strerror(errno));
    size_t len = 0;
    char *text = nicsim_read_limited(f, (size_t)limit, true, &len);
    int err = errno;
    fclose(f);
    if (!text) {
        if (err == EFBIG)
            return fail("--baseline %s: longer than %llu bytes, the most a --json report of %s "
                        "can take",
                        path, (unsigned long long)limit, trace);
        if (err == EISDIR)
            return fail("--baseline %s: is a directory", path);
        if (err == EILSEQ)
            return fail("--baseline %s: a NUL byte at offset %zu: not JSON text", path, len);
        return fail("--baseline %s: %s", path, strerror(err));
    }
    json_t *root = json_loadb(text, len, 0, &e);
    free(text);
    json_t *pk = root ? json_object_get(root, "packets") : NULL;

    if (!root)
        return fail("--baseline %s:%d: %s", path, e.line, e.text);
    if (!json_is_array(pk)) {
        json_decref(root);
        return fail("--baseline %s: no \"packets\" array: not a `nicsim run --json` report", path);
    }
    b->n = json_array_size(pk);
    b->cycles = malloc((b->n ? b->n : 1) * sizeof(*b->cycles));
    for (size_t i = 0; b->cycles && i < b->n; i++) {
        json_t *p = json_array_get(pk, i), *c = json_object_get(p, "cycles");
        json_t *idx = json_object_get(p, "index");
        if (!json_is_integer(idx) || (size_t)json_integer_value(idx) != i) {
            json_decref(root);
            return fail("--baseline %s: packet %zu: \"index\" is not %zu", path, i, i);
        }
        b->cycles[i] = json_is_integer(c) ? json_integer_value(c) : -1;
    }
    json_decref(root);
    return b->cycles ? 0 : fail("out of memory");
}

static void baseline_check(struct baseline *b, const struct run_opts *o, uint64_t index,
                           const struct nicsim_dp_result *res)
{
    if (!b->cycles || index >= b->n || b->cycles[index] < 0 || res->error)
        return;
    double base = (double)b->cycles[index], now = (double)res->xdp.run.cycles;
    double pct = base > 0 ? (now - base) * 100.0 / base : (now > 0 ? 100.0 : 0.0);
    b->compared++;
    if (now < base)
        b->improvements++;
    if (pct > o->max_regression) {
        if (!b->regressions++ && !o->quiet)
            fprintf(stderr, "regression: packet %llu: %.0f cycles, baseline %.0f (+%.1f%%)\n",
                    (unsigned long long)index, now, base, pct);
        if (pct > b->worst_pct) {
            b->worst_pct = pct;
            b->worst_index = index;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Replay.
 */
/* The progress bar on stderr: how much of the file has been read, and packets so far. */
static void progress(uint64_t n, double frac, bool done)
{
    static const int width = 40;

    if (done) {
        fprintf(stderr, "\r%*s\r", width + 40, "");
        return;
    }
    if (frac < 0) {
        fprintf(stderr, "\r%llu packets", (unsigned long long)n);
        return;
    }
    int fill = (int)(frac * width);
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %llu packets", fill,
            "========================================", width - fill, "", (int)(frac * 100),
            (unsigned long long)n);
}

static void teardown(struct run *r)
{
    cli_printk_free(&r->printk);
    if (r->events)
        fclose(r->events);
    nicsim_kref__close(r->kref);
    if (r->k) {
        for (size_t i = 0; r->prog_fds && i < nicsim_obj__n_progs(r->obj); i++)
            if (r->prog_fds[i] >= 0)
                nicsim_kern_close(r->k, r->prog_fds[i]);
        for (size_t i = 0; r->map_fds && i < nicsim_obj__n_maps(r->obj); i++)
            if (r->map_fds[i] > 0)
                nicsim_kern_close(r->k, r->map_fds[i]);
    }
    nicsim_sys__free(r->sys);
    nicsim_obj__free(r->obj);
    free(r->map_fds);
    free(r->prog_fds);
}

/* Refuses an output that is also an input (or another output), before anything is written. */
static int check_files(const struct run_opts *o)
{
    struct cli_file f[16 + 2 * RUN_MAX_MAP_ARGS];
    size_t n = 0;
    int rc = 0;

    f[n++] = (struct cli_file){"the object", o->object, false};
    f[n++] = (struct cli_file){"--pcap", o->pcap, false};
    f[n++] = (struct cli_file){"--baseline", o->baseline, false};
    for (unsigned i = 0; i < o->n_map_args; i++) {
        const char *eq = strchr(o->map_args[i], '=');
        f[n++] = (struct cli_file){"--map", eq ? eq + 1 : NULL, false};
    }
    f[n++] = (struct cli_file){"--json", o->json, true};
    f[n++] = (struct cli_file){"--out-pcap", o->out_pcap, true};
    f[n++] = (struct cli_file){"--dump-maps", o->dump_maps, true};
    f[n++] = (struct cli_file){"--events", o->events, true};
    f[n++] = (struct cli_file){"--plot", o->plot, true};
    /* the files of --maps-dir */
    char **names = NULL;
    size_t n_names = 0;
    if (o->maps_dir) {
        struct dirent **ents;
        int k = scandir(o->maps_dir, &ents, NULL, alphasort);
        names = calloc(k > 0 ? (size_t)k : 1, sizeof(*names));
        for (int i = 0; i < k; i++) {
            size_t len = strlen(ents[i]->d_name);
            if (names && len > 5 && !strcmp(ents[i]->d_name + len - 5, ".json")) {
                size_t plen = strlen(o->maps_dir) + len + 2;
                names[n_names] = malloc(plen);
                if (names[n_names])
                    snprintf(names[n_names++], plen, "%s/%s", o->maps_dir, ents[i]->d_name);
            }
            free(ents[i]);
        }
        if (k >= 0)
            free(ents);
    }
    struct cli_file *all = calloc(n + n_names + 1, sizeof(*all));
    if (!all) {
        rc = fail("out of memory");
    } else {
        memcpy(all, f, n * sizeof(*f));
        for (size_t i = 0; i < n_names; i++)
            all[n + i] = (struct cli_file){"--maps-dir", names[i], false};
        rc = cli_files_check(all, n + n_names);
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(all);
    return rc;
}

enum { OUT_JSON, OUT_PCAP, OUT_DUMP, OUT_EVENTS, OUT_PLOT, N_OUTS };

int run_main(const struct run_opts *o)
{
    struct run r = {.o = o};
    struct nicsim_trace_in *in = NULL;
    struct nicsim_trace_out *out = NULL;
    struct cli_out outs[N_OUTS];
    const char *const out_opt[N_OUTS] = {"--json", "--out-pcap", "--dump-maps", "--events",
                                         "--plot"};
    const char *const out_path[N_OUTS] = {o->json, o->out_pcap, o->dump_maps, o->events, o->plot};
    FILE *plot = NULL;
    char plot_data[] = "/tmp/nicsim-plot-XXXXXX.dat";
    char *gnuplot = NULL;
    struct report *repp = calloc(1, sizeof(*repp));
    char err[ERR_LEN];
    int status = 1;
    uint64_t index = 0, first_ts = 0, arrival_ns = 0;
    double wire_bits = 0;
    char arrivals[64] = "";
    struct baseline base = {0};
    bool events, json_open = false;

    memset(outs, 0, sizeof(outs));
    for (int i = 0; i < N_OUTS; i++)
        outs[i].slot = -1;
    cli_set_prog(cmd_name);
    cli_signals_install();
    if (!repp)
        return fail("out of memory");
    status = check_files(o);
    if (status) {
        free(repp);
        return status;
    }
    status = 1;
    /* Inputs first, so that a missing trace is reported before any work. */
    in = nicsim_trace_in__open(o->pcap, err, sizeof(err));
    if (!in) {
        free(repp);
        return fail("%s", err);
    }
    nicsim_trace_in__set_truncated(in, o->truncated);
    /* Then every output: its directory must take a file now, not after the replay. */
    if (o->plot && !(gnuplot = find_gnuplot())) {
        fail("--plot %s: gnuplot is not installed (not found in PATH)", o->plot);
        goto out;
    }
    for (int i = 0; i < N_OUTS; i++)
        if (out_path[i] && cli_out_begin(&outs[i], out_opt[i], out_path[i]))
            goto out;
    if (o->baseline && baseline_load(&base, o->baseline, o->pcap))
        goto out;
    if (setup(&r))
        goto out;
    events = has_event_maps(&r) || cli_printk_used(r.obj, r.prog_fds);
    if (o->events) {
        r.events = fopen(cli_out_path(&outs[OUT_EVENTS]), "w");
        if (!r.events) {
            fail("--events %s: %s", o->events, strerror(errno));
            goto out;
        }
    }
    if (o->out_pcap) {
        const char *names[NICSIM_DP_MAX_PORTS + 1];
        static char port_names[NICSIM_DP_MAX_PORTS][16];
        for (uint32_t p = 0; p < o->ports; p++) {
            snprintf(port_names[p], sizeof(port_names[p]), "port%u", p);
            names[p] = port_names[p];
        }
        names[o->ports] = "host";
        out = nicsim_trace_out__create(cli_out_path(&outs[OUT_PCAP]), names, o->ports + 1, err,
                                       sizeof(err));
        if (!out) {
            fail("--out-pcap %s: %s", o->out_pcap, err);
            goto out;
        }
    }
    if (o->plot) {
        int pfd = mkstemps(plot_data, 4);
        plot = pfd >= 0 ? fdopen(pfd, "w") : NULL;
        if (!plot) {
            fail("--plot: cannot create a data file in /tmp: %s", strerror(errno));
            goto out;
        }
    }
    if (report__open(repp, o->json ? cli_out_path(&outs[OUT_JSON]) : NULL, o->clock_mhz,
                     r.kref != NULL)) {
        fail("--json %s: %s", o->json, strerror(errno));
        goto out;
    }
    json_open = true;
    if (o->rate_gbps > 0) {
        snprintf(arrivals, sizeof(arrivals), "back to back at %g Gb/s", o->rate_gbps);
        repp->arrival = arrivals;
    }

    cli_signals_defer(true);
    for (;;) {
        struct nicsim_trace_pkt pkt;
        struct nicsim_dp_result res;
        struct report_kernel_pkt kp = {0};

        if (cli_interrupted())
            break;
        int rc = nicsim_trace_in__next(in, &pkt, err, sizeof(err));
        if (rc < 0) {
            fail("%s", err);
            goto out;
        }
        if (rc == 0 || (o->limit && index >= o->limit))
            break;
        r.cur_index = index;
        /* Arrival on the NIC's clock: from the first frame's timestamp (never backwards), or
         * back to back at --rate (each frame also occupies preamble, gap and FCS: 24 bytes). */
        if (o->rate_gbps > 0) {
            arrival_ns = (uint64_t)(wire_bits / o->rate_gbps);
            wire_bits += (pkt.wirelen + 24.0) * 8.0;
        } else {
            if (index == 0)
                first_ts = pkt.ts_ns;
            uint64_t t = pkt.ts_ns > first_ts ? pkt.ts_ns - first_ts : 0;
            arrival_ns = t > arrival_ns ? t : arrival_ns;
        }
        bool tracing = o->has_trace_packet && o->trace_packet == index;
        struct itrace it = {0};
        if (tracing) {
            printf("packet %llu (%u bytes), instruction by instruction:\n",
                   (unsigned long long)index, pkt.caplen);
            itrace_set(&r, &it);
        }
        cli_printk_begin_packet(&r.printk);
        int rx = nicsim_sys__rx(r.sys, o->ingress_port, pkt.data, pkt.caplen, pkt.wirelen,
                                arrival_ns, &res);
        if (tracing) {
            itrace_set(&r, NULL);
            if (res.error)
                printf("  not run: %s\n", nicsim_dp_error_name(res.error));
            else
                printf("  -> %s on core %u: %llu instructions, %llu cycles\n\n",
                       nicsim_xdp_action_name(res.xdp.r0), res.core,
                       (unsigned long long)res.xdp.run.insns,
                       (unsigned long long)res.xdp.run.cycles);
        }
        if (rx) {
            fail("%s: packet %llu: the NIC could not take it", o->pcap, (unsigned long long)index);
            goto out;
        }
        /* The driver's interrupt handler: drain the event queue when the NIC says it has
         * records (EVENTS is raised when the queue goes from empty to non-empty). */
        if (events && (nicsim_ctrl__irq(nicsim_sys__ctrl(r.sys)) & NICSIM_IRQ_EVENTS)) {
            uint64_t lost = 0;
            nicsim_ctrl__events_drain(nicsim_sys__ctrl(r.sys), on_event, &r, &lost);
            r.events_lost += lost;
        }
        if (r.kref && res.error == NICSIM_DP_OK) {
            struct nicsim_kref_result kr;
            struct nicsim_kref_run_opts ro = {
                .sz = sizeof(ro), .repeat = o->kernel_repeat,
                .ingress_ifindex = (uint32_t)nicsim_sys__ifindex(r.sys, o->ingress_port),
                .rx_queue_index = res.core};
            kpin_enter(&r.kpin);
            int krc = nicsim_kref__run(r.kref, pkt.data, pkt.caplen, &ro, &kr, err, sizeof(err));
            kpin_leave(&r.kpin);
            if (krc) {
                fail("--compare-kernel: packet %llu: %s", (unsigned long long)index, err);
                goto out;
            }
            compare_packet(&res, &kr, &kp);
            if (kp.match)
                cli_printk_compare(&r.printk, &kr, &kp.match, kp.mismatch, sizeof(kp.mismatch));
            if (!kp.match && !o->quiet)
                fprintf(stderr, "mismatch: packet %llu: %s\n", (unsigned long long)index,
                        kp.mismatch);
        }
        repp->wire_bytes += pkt.wirelen;
        baseline_check(&base, o, index, &res);
        report__packet(repp, index, &res, r.kref ? &kp : NULL);
        if (plot && res.error == NICSIM_DP_OK)
            fprintf(plot, "%llu %llu %llu %llu\n", (unsigned long long)index,
                    (unsigned long long)res.xdp.run.cycles, (unsigned long long)res.xdp.run.insns,
                    (unsigned long long)kp.ns);
        if (out && res.error == NICSIM_DP_OK && res.dest != NICSIM_DP_DEST_DROP) {
            char comment[160];
            uint32_t ifidx = res.dest == NICSIM_DP_DEST_PORT ? res.egress_port : o->ports;
            int n =
                snprintf(comment, sizeof(comment), "index=%llu verdict=%s egress=%s%u ifindex=%u",
                         (unsigned long long)index, nicsim_xdp_action_name(res.xdp.r0),
                         res.dest == NICSIM_DP_DEST_PORT ? "port" : "host",
                         res.dest == NICSIM_DP_DEST_PORT ? res.egress_port : 0, res.egress_ifindex);
            if (res.xdp.action == NICSIM_XDP_PASS && n > 0 && (size_t)n < sizeof(comment))
                snprintf(comment + n, sizeof(comment) - (size_t)n, " rx_queue=%u",
                         res.xdp.rx_queue);
            else if (res.xdp.redirect_cpu >= 0 && n > 0 && (size_t)n < sizeof(comment))
                snprintf(comment + n, sizeof(comment) - (size_t)n, " cpu=%d rx_queue=%d",
                         (int)res.xdp.redirect_cpu, (int)res.xdp.redirect_cpu); /* cpumap */
            nicsim_trace_out__write(out, ifidx, pkt.ts_ns, res.xdp.data, res.xdp.len, comment);
        } else if (out && res.error == NICSIM_DP_ERR_NO_PROGRAM) {
            nicsim_trace_out__write(out, o->ports, pkt.ts_ns, pkt.data, pkt.caplen,
                                    "verdict=none (no program)");
        }
        index++;
        if (o->progress && (index & 4095) == 0)
            progress(index, nicsim_trace_in__progress(in), false);
    }
    if (o->progress)
        progress(index, 1.0, true);
    if (cli_interrupted()) {
        char pending[1024];
        int sig = cli_signals_take();
        cli_out_pending(pending, sizeof(pending));
        fprintf(stderr, "%s: %s after %llu packets of %s; the replay did not finish%s%s\n",
                cmd_name, sig == SIGINT ? "interrupted (SIGINT)" : "stopped by a signal",
                (unsigned long long)index, o->pcap, pending[0] ? "; not written:" : "",
                pending[0] ? pending + 1 : "");
        status = 128 + sig;
        goto out;
    }
    /* From here a signal ends the run at once: the outputs not yet renamed are removed. */
    cli_signals_defer(false);

    FILE *tty = o->quiet ? NULL : stdout;
    int map_mismatches = 0;
    if (r.kref) {
        map_mismatches = compare_maps(&r, o->quiet ? stderr : stdout);
    }
    json_open = false;
    if (report__finish(repp, tty, nicsim_dp__stats(nicsim_sys__dp(r.sys)),
                       nicsim_sys__n_cores(r.sys), r.prog->name)) {
        fail("--json %s: write failed", o->json);
        goto out;
    }
    if (o->json && cli_out_commit(&outs[OUT_JSON]))
        goto out;
    if (tty && (events || r.events_written))
        fprintf(tty, "events: %llu records%s%s, %llu lost\n", (unsigned long long)r.events_written,
                o->events ? " written to " : "", o->events ? o->events : "",
                (unsigned long long)r.events_lost);
    if (tty && r.printk.total)
        fprintf(tty, "bpf_trace_printk: %llu lines%s%s\n", (unsigned long long)r.printk.total,
                o->events ? " written to " : "", o->events ? o->events : "");
    if (tty && nicsim_trace_in__n_cut(in))
        fprintf(tty, "truncated: %llu frames cut short by the capture: %s (--truncated %s)\n",
                (unsigned long long)nicsim_trace_in__n_cut(in),
                o->truncated == NICSIM_TRACE_TRUNC_PAD
                    ? "zero-filled to their wire length"
                : o->truncated == NICSIM_TRACE_TRUNC_CAPTURED ? "run as captured"
                                                             : "refused by the MAC",
                nicsim_trace_truncated__name(o->truncated));
    if (tty && r.kref)
        fprintf(tty, "maps: %s\n",
                map_mismatches ? "final contents differ from the kernel's (see above)"
                               : "final contents equal to the kernel's");
    if (r.events) {
        int bad = ferror(r.events) | fclose(r.events);
        r.events = NULL;
        if (bad) {
            fail("--events %s: write failed", o->events);
            goto out;
        }
        if (cli_out_commit(&outs[OUT_EVENTS]))
            goto out;
    }
    if (out) {
        int rc = nicsim_trace_out__close(out);
        out = NULL;
        if (rc) {
            fail("--out-pcap %s: %s", o->out_pcap, strerror(-rc));
            goto out;
        }
        if (cli_out_commit(&outs[OUT_PCAP]))
            goto out;
    }
    if (o->dump_maps &&
        (dump_maps(&r, cli_out_path(&outs[OUT_DUMP])) || cli_out_commit(&outs[OUT_DUMP])))
        goto out;
    if (plot) {
        char title[1024];
        int bad = ferror(plot) | fclose(plot);
        plot = NULL;
        if (bad) {
            fail("--plot: cannot write the data file %s", plot_data);
            goto out;
        }
        snprintf(title, sizeof(title), "%s: %s over %s", r.prog->name, o->object, o->pcap);
        if (plot_draw(gnuplot, cli_out_path(&outs[OUT_PLOT]), o->plot, plot_data, r.kref != NULL,
                      o->clock_mhz, title) ||
            cli_out_commit(&outs[OUT_PLOT]))
            goto out;
    }
    if (o->baseline && tty)
        fprintf(tty,
                "baseline %s: %llu packets compared, %llu over it by more than %g%%%s, %llu "
                "faster\n",
                o->baseline, (unsigned long long)base.compared,
                (unsigned long long)base.regressions, o->max_regression,
                base.regressions ? " (worst: see stderr)" : "",
                (unsigned long long)base.improvements);
    if (o->baseline && base.regressions)
        fprintf(stderr, "%s: cycle regression: %llu packets, worst packet %llu (+%.1f%%)\n",
                cmd_name, (unsigned long long)base.regressions,
                (unsigned long long)base.worst_index, base.worst_pct);
    status = (r.kref && (repp->kernel_mismatches || map_mismatches)) ? 3 : base.regressions ? 4 : 0;
    if (o->has_trace_packet && o->trace_packet >= index) {
        fail("--trace-packet %llu: the trace has %llu packet%s (0..%llu)%s",
             (unsigned long long)o->trace_packet, (unsigned long long)index, index == 1 ? "" : "s",
             (unsigned long long)(index ? index - 1 : 0), o->limit ? " within --count" : "");
        status = status ? status : 1;
    }
out:
    cli_signals_defer(false);
    if (plot)
        fclose(plot);
    if (o->plot)
        unlink(plot_data);
    if (out)
        nicsim_trace_out__close(out);
    (void)json_open;
    report__free(repp);
    for (int i = 0; i < N_OUTS; i++)
        cli_out_abort(&outs[i]);
    nicsim_trace_in__close(in);
    teardown(&r);
    free(repp);
    free(base.cycles);
    free(gnuplot);
    return status;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    int rc = run_parse_args(argc, argv, &o);

    if (rc) {
        if (rc == CLI_USAGE)
            fprintf(stderr, "usage: nicsim run OBJECT.o --pcap TRACE [options] (--help lists "
                            "them)\n");
        return rc;
    }
    return run_main(&o);
}

/* ---------------------------------------------------------------------------------------------
 * nicsim load: offload every program of an object, one by one, and say what happened to each:
 * the driver's verdict, the NIC image, the program reaching the firmware on attach, the maps on
 * the NIC answering lookups, and (where bpf() works) the host kernel verifier's verdict.
 */
static int load_one(struct run *r, size_t pi, bool kcheck)
{
    const struct nicsim_obj_prog *p = nicsim_obj__prog(r->obj, pi);
    int bad = 0;

    printf("program %s (section %s, %zu insns): ", p->name, p->section, p->n);
    fflush(stdout);
    r->collect_errors = true;
    if (load_prog(r, pi)) {
        const char *why = strstr(r->last_err, "refused");
        printf("%s\n", why ? why : r->last_err);
        bad = 1;
    } else {
        struct nicsim_bpf_prog *kp = nicsim_kern_prog_by_fd(r->k, r->prog_fds[pi]);
        size_t img_len = 0;
        nicsim_drv__image(kp, &img_len);
        struct nicsim_extack ea = {{0}};
        int ifindex = nicsim_sys__ifindex(r->sys, 0);
        int rc = nicsim_kern_xdp_attach(r->k, ifindex, r->prog_fds[pi], -1, XDP_FLAGS_HW_MODE, &ea);
        if (rc) {
            printf("verified and translated (%zu-byte NIC image), attach refused: %s\n", img_len,
                   ea.msg[0] ? ea.msg : strerror(-rc));
            bad = 1;
        } else {
            printf("offloaded: %zu-byte NIC image, NIC program %u, %u program(s) in the cores\n",
                   img_len, nicsim_drv__nic_prog_id(kp), nicsim_sys__n_loaded(r->sys));
            nicsim_kern_xdp_attach(r->k, ifindex, -1, -1, XDP_FLAGS_HW_MODE, &ea);
        }
    }
    if (!kcheck)
        return bad;
    /* The host kernel's verifier on the same instructions with the same map definitions. */
    size_t nm = nicsim_obj__n_maps(r->obj);
    struct nicsim_kern_map_create_attr *maps = calloc(nm + 1, sizeof(*maps));
    int *idx = calloc(nm + 1, sizeof(int));
    struct nicsim_kern_kcheck res;
    struct nicsim_kern_prog_load_attr a = {.sz = sizeof(a)};

    for (size_t i = 0; maps && idx && i < nm; i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        maps[i].sz = sizeof(maps[i]);
        maps[i].map_type = m->type;
        maps[i].key_size = m->key_size;
        maps[i].value_size = m->value_size;
        maps[i].max_entries = m->max_entries;
        maps[i].map_flags = m->map_flags;
        maps[i].map_name = NULL; /* names do not matter to the verifier */
        idx[i] = (int)i;
    }
    a.prog_type = p->prog_type ? p->prog_type : BPF_PROG_TYPE_XDP;
    a.expected_attach_type = xdp_attach_type(p);
    a.insns = p->insns;
    a.insn_cnt = (uint32_t)p->n;
    a.license = nicsim_obj__license(r->obj);
    a.prog_name = p->name;
    a.fd_array = idx;
    a.fd_array_cnt = (uint32_t)nm;
    memset(&res, 0, sizeof(res));
    if (maps && idx && nicsim_kern_kcheck(&a, maps, nm, &res) == 0) {
        if (!res.kernel_available)
            printf("  host kernel verifier: not consulted (%s)\n", res.kernel_msg);
        else if (res.disagree) {
            printf("  host kernel verifier: DISAGREES: %s\n", res.report);
            bad = 3;
        } else if (res.kernel && !bad &&
                   nicsim_kref_rxq_writes((const struct bpf_insn *)p->insns, p->n, NULL))
            /* the cross-check loads it as a host program */
            printf("  host kernel verifier: agrees (both refuse it unoffloaded: it writes "
                   "rx_queue_index, which only offloaded programs may)\n");
        else
            printf("  host kernel verifier: agrees (%s)\n",
                   res.kernel ? "both refuse it" : "both accept it");
    }
    free(maps);
    free(idx);
    return bad;
}

int cmd_load(int argc, char **argv)
{
    struct run_opts o = {.cores = 4, .ports = 2, .clock_mhz = 250, .mtu = 1500};
    struct run r = {.o = &o};
    struct nicsim_sys_opts so = {.sz = sizeof(so)};
    bool kcheck = true;
    char err[ERR_LEN];
    int status = 0;

    bool no_kernel = false;
    const struct cli_opt opts[] = {
        {.name = "--no-kernel", .kind = CLI_FLAG, .dst = &no_kernel},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] = "usage: nicsim load OBJECT.o [--no-kernel]\n"
                              "  offloads every program of the object to the simulated NIC, one by "
                              "one, and reports\n";

    cmd_name = "nicsim load";
    cli_set_prog(cmd_name);
    int prc = cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1, &n_pos);
    if (prc == CLI_HELP) {
        fputs(use, stdout);
        return 0;
    }
    if (prc || n_pos != 1) {
        fputs(use, stderr);
        return CLI_USAGE;
    }
    o.object = pos[0];
    kcheck = !no_kernel;
    if (check_object(o.object))
        return 1;
    r.obj = nicsim_obj__open_file(o.object, NULL, err, sizeof(err));
    if (!r.obj) {
        fprintf(stderr, "nicsim load: %s\n", err);
        return 1;
    }
    so.n_ports = o.ports;
    so.n_cores = o.cores;
    r.sys = nicsim_sys__new(&so, err, sizeof(err));
    if (!r.sys) {
        nicsim_obj__free(r.obj);
        return fail("cannot start the NIC: %s", err);
    }
    r.k = nicsim_sys__kern(r.sys);
    size_t nm = nicsim_obj__n_maps(r.obj), np = nicsim_obj__n_progs(r.obj);
    r.map_fds = calloc(nm + 1, sizeof(int));
    r.prog_fds = calloc(np + 1, sizeof(int));
    for (size_t i = 0; i < np; i++)
        r.prog_fds[i] = -1;
    printf("%s: %zu program(s), %zu map(s), licence \"%s\"\n", o.object, np, nm,
           nicsim_obj__license(r.obj));
    for (size_t i = 0; i < nm; i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r.obj, i);
        char why[ERR_LEN];
        int fd = offload_map(&r, i, why, sizeof(why));
        r.map_fds[i] = fd;
        if (fd < 0) {
            printf("%s\n", why);
            status = 1;
            continue;
        }
        printf("map %s (%s, key %u, value %u, max %u): ", m->name, map_type_name(m->type),
               m->key_size, m->value_size, m->max_entries);
        struct nicsim_bpf_map *km = nicsim_kern_map_by_fd(r.k, fd);
        if (is_dumpable(m->type)) {
            struct nicsim_mapjson_entries e;
            int rc = nic_map_dump(&r, i, &e);
            printf("NIC map %u, %zu entries read back from the NIC%s\n", nicsim_drv__nic_map_id(km),
                   rc ? 0 : e.count, rc ? " (read failed)" : "");
            if (!rc)
                nicsim_mapjson_entries__free(&e);
        } else {
            printf("NIC map %u\n", nicsim_drv__nic_map_id(km));
        }
    }
    if (status == 0) {
        for (size_t i = 0; i < np; i++) {
            int rc = load_one(&r, i, kcheck);
            if (rc > status)
                status = rc;
        }
    } else {
        printf("programs not loaded: a map could not be offloaded\n");
    }
    teardown(&r);
    return status;
}
