/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/*
 * nicsim sweep: the run library in-process for each core count and line rate, frames arriving
 * back to back at the rate (run_opts.rate_gbps) on ports of that rate (run_opts.line_rate_gbps);
 * a table of what each achieved (Mpps, Gb/s, drops, p99 latency), the fewest cores that carry the
 * trace at each rate, and a gnuplot plot (PNG and SVG) of throughput, drops and p99 against cores.
 */
#include "run_int.h"

#include "cli.h"
#include "reportdir.h"

#define SWEEP_MAX_CORES 64
#define SWEEP_MAX_RATES 16

struct sweep_point {
    uint32_t cores;
    double rate;
    struct run_summary s;
    uint64_t capacity_drops; /* rx buffer, tx queue, host ring full: the NIC could not keep up */
    uint64_t program_drops;  /* XDP_DROP, XDP_ABORTED, MAC errors: the trace's own */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nicsim sweep OBJECT.o --pcap TRACE [--cores LIST] [--line-rate LIST]\n"
               "                    [--plot FILE.png] [--report DIR] [run options]\n"
               "\n"
               "Replays TRACE once per core count and line rate (frames back to back at the rate,\n"
               "on ports of that rate), through the same path as `nicsim run` (every run option\n"
               "applies: --prog, --maps-dir, --count ...), and prints what each achieved.\n"
               "\n"
               "  --cores LIST       core counts: N, A-B, or a comma list of both (1-16)\n"
               "  --line-rate LIST   line rates in Gb/s, comma separated (10,25,100)\n"
               "  --plot FILE.png    throughput, drops and p99 latency against cores, one line\n"
               "                     per rate (gnuplot), and FILE.svg beside it\n"
               "  --report DIR       sweep.csv, the plots (PNG, SVG) and index.html in DIR\n"
               "\n"
               "A rate is carried by the fewest cores with no drops for lack of room (receive\n"
               "buffer, transmit queue, host ring) whose replay also ends within 5%% of the time\n"
               "the arrivals take plus one packet's time through the NIC (the cores keep up).\n");
}

/* "1-16", "1,2,4,8", "2-4,8": ascending, each once. */
static int parse_cores(const char *s, uint32_t *v, size_t *n)
{
    bool seen[SWEEP_MAX_CORES + 1] = {false};
    char *copy = strdup(s), *save = NULL;

    if (!copy)
        return nicsim_cli_fail("out of memory");
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(t, '-');
        uint64_t a, b;
        if (dash)
            *dash = 0;
        if (nicsim_cli_num("--cores", t, 1, SWEEP_MAX_CORES, NULL, &a) ||
            nicsim_cli_num("--cores", dash ? dash + 1 : t, 1, SWEEP_MAX_CORES, NULL, &b)) {
            free(copy);
            return CLI_USAGE;
        }
        if (b < a) {
            free(copy);
            return nicsim_cli_usage_fail("--cores '%s': the range %llu-%llu is backwards", s,
                                  (unsigned long long)a, (unsigned long long)b);
        }
        for (uint64_t c = a; c <= b; c++)
            seen[c] = true;
    }
    free(copy);
    *n = 0;
    for (uint32_t c = 1; c <= SWEEP_MAX_CORES; c++)
        if (seen[c])
            v[(*n)++] = c;
    return *n ? 0 : nicsim_cli_usage_fail("--cores '%s': no core count", s);
}

static int parse_rates(const char *s, double *v, size_t *n)
{
    char *copy = strdup(s), *save = NULL;

    if (!copy)
        return nicsim_cli_fail("out of memory");
    *n = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        double r = strtod(t, &end);
        if (end == t || *end || !(r > 0) || r > 10000) {
            int rc = nicsim_cli_usage_fail("--line-rate '%s': '%s' is not a rate in Gb/s (0 < rate <= "
                                    "10000)",
                                    s, t);
            free(copy);
            return rc;
        }
        if (*n == SWEEP_MAX_RATES) {
            free(copy);
            return nicsim_cli_usage_fail("--line-rate '%s': at most %d rates", s, SWEEP_MAX_RATES);
        }
        v[(*n)++] = r;
    }
    free(copy);
    return *n ? 0 : nicsim_cli_usage_fail("--line-rate '%s': no rate", s);
}

/*
 * Whether point p carries the trace: nothing dropped for lack of room, and the replay ends within
 * 5% of the time the arrivals take at that rate (offered_ns: the last frame's arrival) plus one
 * packet's time through the NIC (the median latency with the most cores, where queueing is least).
 * The plain loop's queues never fill, so until the SystemC NIC the second condition is what tells
 * cores that keep up from cores whose queues grow.
 */
static bool carries(const struct sweep_point *p, const struct sweep_point *best, double offered_ns)
{
    return !p->capacity_drops &&
           (double)p->s.duration_ns <= 1.05 * offered_ns + (double)best->s.latency_p50_ns;
}

/* The fewest cores carrying rate index ri, 0 if none does. */
static uint32_t fewest(const struct sweep_point *pts, size_t n_cores, size_t n_rates, size_t ri,
                       double offered_ns)
{
    const struct sweep_point *best = &pts[(n_cores - 1) * n_rates + ri];
    for (size_t ci = 0; ci < n_cores; ci++)
        if (carries(&pts[ci * n_rates + ri], best, offered_ns))
            return pts[ci * n_rates + ri].cores;
    return 0;
}

/* Wire bits of the trace (frame + 24 bytes of preamble, gap and FCS) before its last frame, within
 * --count: the last arrival is at bits / rate. */
static int trace_bits(const struct run_opts *o, double *bits)
{
    char err[512];
    struct nicsim_trace_in *in = nicsim_trace_in__open(o->pcap, err, sizeof(err));
    struct nicsim_trace_pkt pkt;
    uint64_t n = 0;
    double last = 0;

    *bits = 0;
    if (!in)
        return nicsim_run_fail("%s", err);
    nicsim_trace_in__set_truncated(in, o->truncated);
    int rc;
    while ((!o->limit || n < o->limit) &&
           (rc = nicsim_trace_in__next(in, &pkt, err, sizeof(err))) == 1) {
        last = (pkt.wirelen + 24.0) * 8.0;
        *bits += last;
        n++;
    }
    nicsim_trace_in__close(in);
    *bits -= last;
    return 0;
}

/* The table as CSV, rate by rate (the plot's data, and sweep.csv of --report). */
static int write_csv(const char *path, const struct sweep_point *pts, size_t n_cores,
                     size_t n_rates)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    fprintf(f, "cores,line_rate_gbps,mpps,gbps,capacity_drops,program_drops,p50_ns,p99_ns,max_ns,"
               "core_utilisation\n");
    for (size_t ri = 0; ri < n_rates; ri++)
        for (size_t ci = 0; ci < n_cores; ci++) {
            const struct sweep_point *p = &pts[ci * n_rates + ri];
            fprintf(f, "%u,%g,%.6f,%.6f,%llu,%llu,%llu,%llu,%llu,%.4f\n", p->cores, p->rate,
                    p->s.achieved_mpps, p->s.achieved_gbps, (unsigned long long)p->capacity_drops,
                    (unsigned long long)p->program_drops, (unsigned long long)p->s.latency_p50_ns,
                    (unsigned long long)p->s.latency_p99_ns,
                    (unsigned long long)p->s.latency_max_ns, p->s.core_utilisation);
        }
    int bad = ferror(f) | fclose(f);
    return bad ? -EIO : 0;
}

/* Throughput, drops and p99 against cores, one line per rate: PNG or SVG into `out`. */
static int draw(const char *gnuplot, const char *csv, const char *out, bool svg,
                const double *rates, size_t n_rates, const char *title, const char *shown)
{
    char script[8192];
    size_t len = 0;

    len += (size_t)snprintf(
        script + len, sizeof(script) - len,
        "%s\nset output ARG2\nset datafile separator ','\nset key outside right top\n"
        "set xlabel 'cores'\nset grid\nset multiplot layout 1,3 title ARG3\n",
        svg ? "set terminal svg size 1500,450 font ',10' noenhanced"
            : "set terminal pngcairo size 1500,450 font ',10' noenhanced");
    static const char *const what[3][2] = {
        {"4", "achieved Gb/s"}, {"5", "drops (no room)"}, {"8", "p99 latency (ns)"}};
    for (int g = 0; g < 3; g++) {
        len += (size_t)snprintf(script + len, sizeof(script) - len,
                                "set ylabel '%s'\nset yrange [0:*]\nplot ", what[g][1]);
        for (size_t r = 0; r < n_rates && len < sizeof(script) - 256; r++)
            len += (size_t)snprintf(script + len, sizeof(script) - len,
                                    "%sARG1 using 1:($2 == %.17g ? $%s : 1/0) skip 1 with "
                                    "linespoints title '%g Gb/s'",
                                    r ? ", " : "", rates[r], what[g][0], rates[r]);
        len += (size_t)snprintf(script + len, sizeof(script) - len, "\n");
    }
    snprintf(script + len, sizeof(script) - len, "unset multiplot\n");
    const char *args[] = {csv, out, title};
    return nicsim_run_gnuplot(gnuplot, script, shown, args, 3);
}

/* FILE.png -> FILE.svg (any other name: FILE.svg appended) */
static char *svg_of(const char *png)
{
    size_t n = strlen(png);
    char *s = malloc(n + 5);
    if (!s)
        return NULL;
    if (n > 4 && !strcmp(png + n - 4, ".png"))
        snprintf(s, n + 5, "%.*s.svg", (int)(n - 4), png);
    else
        snprintf(s, n + 5, "%s.svg", png);
    return s;
}

/* Both plots, each written beside its target and renamed when complete. */
static int plot_both(const char *gnuplot, const char *csv, const char *png, const double *rates,
                     size_t n_rates, const char *title)
{
    char *svg = svg_of(png);
    struct cli_out outs[2];
    int rc = 1;

    memset(outs, 0, sizeof(outs));
    outs[0].slot = outs[1].slot = -1;
    if (!svg)
        return nicsim_run_fail("out of memory");
    if (!nicsim_cli_out_begin(&outs[0], "--plot", png) && !nicsim_cli_out_begin(&outs[1], "--plot", svg) &&
        !draw(gnuplot, csv, nicsim_cli_out_path(&outs[0]), false, rates, n_rates, title, png) &&
        !draw(gnuplot, csv, nicsim_cli_out_path(&outs[1]), true, rates, n_rates, title, svg) &&
        !nicsim_cli_out_commit(&outs[0]) && !nicsim_cli_out_commit(&outs[1]))
        rc = 0;
    nicsim_cli_out_abort(&outs[0]);
    nicsim_cli_out_abort(&outs[1]);
    free(svg);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    const char *cores_arg = "1-16", *rates_arg = "10,25,100", *plot = NULL, *report = NULL;
    uint32_t cores[SWEEP_MAX_CORES];
    double rates[SWEEP_MAX_RATES];
    size_t n_cores = 0, n_rates = 0;
    char **args = calloc((size_t)argc + 1, sizeof(*args));
    int n = 0, rc = 0;
    struct run_opts o;

    nicsim_cli_set_prog("nicsim sweep");
    if (!args)
        return nicsim_cli_fail("out of memory");
    /* sweep's own options; everything else is run's */
    for (int i = 0; i < argc; i++) {
        /* --name=value: as --name value */
        const char *eq = !strncmp(argv[i], "--", 2) ? strchr(argv[i], '=') : NULL;
        char name[32] = "";
        if (eq && (size_t)(eq - argv[i]) < sizeof(name)) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - argv[i]), argv[i]);
            if (!strcmp(name, "--cores") || !strcmp(name, "--line-rate") ||
                !strcmp(name, "--plot") || !strcmp(name, "--report")) {
                *(!strcmp(name, "--cores")       ? &cores_arg
                  : !strcmp(name, "--line-rate") ? &rates_arg
                  : !strcmp(name, "--plot")      ? &plot
                                                 : &report) = eq + 1;
                continue;
            }
        }
        const char **dst = !strcmp(argv[i], "--cores")       ? &cores_arg
                           : !strcmp(argv[i], "--line-rate") ? &rates_arg
                           : !strcmp(argv[i], "--plot")      ? &plot
                           : !strcmp(argv[i], "--report")    ? &report
                                                             : NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            free(args);
            return 0;
        }
        const char *opt = name[0] ? name : argv[i];
        if (!strcmp(opt, "--rate")) {
            free(args);
            return nicsim_cli_usage_fail("--rate: the sweep sets it from --line-rate");
        }
        if (!strcmp(opt, "--json") || !strcmp(opt, "--json-lines") ||
            !strcmp(opt, "--trace-packet") || !strcmp(opt, "--out-pcap") ||
            !strcmp(opt, "--dump-maps") || !strcmp(opt, "--events") || !strcmp(opt, "--baseline")) {
            free(args);
            return nicsim_cli_usage_fail("%s: an option of one run (nicsim run), not of a sweep", opt);
        }
        if (dst) {
            if (i + 1 >= argc) {
                free(args);
                return nicsim_cli_usage_fail("%s needs a value", argv[i]);
            }
            *dst = argv[++i];
            continue;
        }
        args[n++] = argv[i];
    }
    if ((rc = parse_cores(cores_arg, cores, &n_cores)) ||
        (rc = parse_rates(rates_arg, rates, &n_rates))) {
        free(args);
        return rc;
    }
    nicsim_run_cmd_name = "nicsim sweep";
    rc = run_parse_args(n, args, &o);
    nicsim_run_cmd_name = "nicsim sweep";
    free(args);
    if (rc) {
        if (rc == CLI_USAGE)
            fprintf(stderr, "usage: nicsim sweep OBJECT.o --pcap TRACE [--cores LIST] "
                            "[--line-rate LIST] [run options] (--help)\n");
        return rc;
    }
    char *gnuplot = NULL;
    if ((plot || report) && !(gnuplot = nicsim_run_find_gnuplot()))
        return nicsim_run_fail("%s: gnuplot is not installed (not found in PATH)",
                               plot ? "--plot" : "--report");
    struct report_dir rd;
    if (report && nicsim_run_report_dir_open(&rd, report)) {
        free(gnuplot);
        return 1;
    }

    size_t n_pts = n_cores * n_rates;
    struct sweep_point *pts = calloc(n_pts, sizeof(*pts));
    if (!pts) {
        free(gnuplot);
        return nicsim_run_fail("out of memory");
    }
    double bits = 0;
    if (trace_bits(&o, &bits)) {
        free(pts);
        free(gnuplot);
        return 1;
    }
    bool progress = o.progress;
    for (size_t ci = 0; ci < n_cores && !rc; ci++)
        for (size_t ri = 0; ri < n_rates && !rc; ri++) {
            struct sweep_point *p = &pts[ci * n_rates + ri];
            struct run_opts ro = o;
            p->cores = cores[ci];
            p->rate = rates[ri];
            ro.cores = p->cores;
            ro.rate_gbps = p->rate;
            ro.line_rate_gbps = p->rate;
            ro.quiet = true;
            ro.progress = false;
            ro.plot = NULL;
            ro.summary = &p->s;
            if (progress)
                fprintf(stderr, "\r%u cores at %g Gb/s (%zu of %zu)   ", p->cores, p->rate,
                        ci * n_rates + ri + 1, n_pts);
            rc = nicsim_run_main(&ro);
            nicsim_run_cmd_name = "nicsim sweep";
            p->capacity_drops = p->s.drops[NICSIM_DP_DROP_RX_BUFFER_FULL] +
                                p->s.drops[NICSIM_DP_DROP_TX_QUEUE_FULL] +
                                p->s.drops[NICSIM_DP_DROP_HOST_RING_FULL];
            p->program_drops = p->s.drops[NICSIM_DP_DROP_MAC_ERROR] +
                               p->s.drops[NICSIM_DP_DROP_XDP_DROP] +
                               p->s.drops[NICSIM_DP_DROP_XDP_ABORTED];
        }
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    if (rc) {
        free(pts);
        free(gnuplot);
        return rc;
    }

    printf("nicsim sweep: %s over %s, %llu packets, frames back to back at each line rate\n\n",
           o.object, o.pcap, (unsigned long long)pts[0].s.packets);
    printf("%5s %10s %10s %10s %10s %10s %10s %8s\n", "cores", "rate Gb/s", "Mpps", "Gb/s",
           "no room", "dropped", "p99 ns", "busy");
    for (size_t i = 0; i < n_pts; i++)
        printf("%5u %10g %10.3f %10.3f %10llu %10llu %10llu %7.1f%%\n", pts[i].cores, pts[i].rate,
               pts[i].s.achieved_mpps, pts[i].s.achieved_gbps,
               (unsigned long long)pts[i].capacity_drops, (unsigned long long)pts[i].program_drops,
               (unsigned long long)pts[i].s.latency_p99_ns, 100.0 * pts[i].s.core_utilisation);
    printf("\n(no room: dropped for lack of room in a receive buffer, transmit queue or host "
           "ring; dropped: by the program or the MAC)\n");
    for (size_t ri = 0; ri < n_rates; ri++) {
        uint32_t c = fewest(pts, n_cores, n_rates, ri, bits / rates[ri]);
        if (c)
            printf("fewest cores carrying the trace at %g Gb/s: %u\n", rates[ri], c);
        else
            printf("fewest cores carrying the trace at %g Gb/s: none of %u..%u (the queues grow "
                   "or overflow)\n",
                   rates[ri], cores[0], cores[n_cores - 1]);
    }

    /* the plot's data: the table as CSV, in /tmp unless --report keeps it */
    char tmpcsv[] = "/tmp/nicsim-sweep-XXXXXX.csv";
    char title[1024];
    snprintf(title, sizeof(title), "%s over %s", o.object, o.pcap);
    if (plot || report) {
        int fd = mkstemps(tmpcsv, 4);
        if (fd < 0 || (close(fd), write_csv(tmpcsv, pts, n_cores, n_rates))) {
            rc = nicsim_run_fail("cannot write the sweep's table in /tmp: %s", strerror(errno));
            if (fd >= 0)
                unlink(tmpcsv);
            free(pts);
            free(gnuplot);
            return rc;
        }
    }
    if (plot && plot_both(gnuplot, tmpcsv, plot, rates, n_rates, title))
        rc = 1;
    if (report && !rc) {
        char png[4096];
        snprintf(png, sizeof(png), "%s/sweep.png", report);
        char fewest_html[2048];
        size_t fl = 0;
        fewest_html[0] = 0;
        for (size_t ri = 0; ri < n_rates && fl < sizeof(fewest_html) - 128; ri++) {
            uint32_t c = fewest(pts, n_cores, n_rates, ri, bits / rates[ri]);
            fl += (size_t)snprintf(fewest_html + fl, sizeof(fewest_html) - fl,
                                   "<tr><td>%g Gb/s</td><td>%s%u</td></tr>\n", rates[ri],
                                   c ? "" : "none up to ", c ? c : cores[n_cores - 1]);
        }
        if (plot_both(gnuplot, tmpcsv, png, rates, n_rates, title) ||
            nicsim_run_report_dir_sweep(&rd, tmpcsv, title, fewest_html))
            rc = 1;
    }
    if (plot || report)
        unlink(tmpcsv);
    free(pts);
    free(gnuplot);
    return rc;
}
