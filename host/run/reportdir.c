/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* --report DIR: the plots and index.html of a run or a sweep (reportdir.h). */
#include "run_int.h"

#include "reportdir.h"

int nicsim_run_report_dir_open(struct report_dir *rd, const char *dir)
{
    struct stat st;

    memset(rd, 0, sizeof(*rd));
    rd->dir = dir;
    if (mkdir(dir, 0777) && errno != EEXIST)
        return nicsim_run_fail("--report %s: cannot create the directory: %s", dir,
                               strerror(errno));
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return nicsim_run_fail("--report %s: not a directory", dir);
    if (access(dir, W_OK | X_OK))
        return nicsim_run_fail("--report %s: the directory does not take files: %s", dir,
                               strerror(errno));
    if ((size_t)snprintf(rd->json, sizeof(rd->json), "%s/report.json", dir) >= sizeof(rd->json) ||
        (size_t)snprintf(rd->csv, sizeof(rd->csv), "%s/packets.csv", dir) >= sizeof(rd->csv))
        return nicsim_run_fail("--report %s: the name is too long", dir);
    return 0;
}

/* Text for HTML: & < > " ' escaped. */
static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* DIR/NAME written through `write` into a file renamed onto it when complete. */
static int write_file(const struct report_dir *rd, const char *name,
                      int (*write)(FILE *f, void *user), void *user)
{
    char path[PATH_MAX];
    struct cli_out out;
    int rc = 1;

    memset(&out, 0, sizeof(out));
    out.slot = -1;
    snprintf(path, sizeof(path), "%s/%s", rd->dir, name);
    if (nicsim_cli_out_begin(&out, "--report", path))
        return 1;
    FILE *f = fopen(nicsim_cli_out_path(&out), "w");
    if (!f) {
        nicsim_run_fail("--report %s: %s", path, strerror(errno));
    } else {
        int wrc = write(f, user);
        int bad = ferror(f) | fclose(f);
        if (wrc || bad)
            nicsim_run_fail("--report %s: write failed", path);
        else
            rc = nicsim_cli_out_commit(&out);
    }
    nicsim_cli_out_abort(&out);
    return rc;
}

/* DIR/NAME.png and DIR/NAME.svg drawn by `script` (its first line is the terminal, left out
 * here); ARG1 the data, ARG2 the output, ARG3 the title. */
static int plot_pair(const struct report_dir *rd, const char *gnuplot, const char *name,
                     const char *script, const char *data, const char *title)
{
    static const char *const term[2][2] = {
        {"png", "set terminal pngcairo size 900,500 font ',10' noenhanced\n"},
        {"svg", "set terminal svg size 900,500 font ',10' noenhanced\n"}};
    for (int i = 0; i < 2; i++) {
        char path[PATH_MAX], shown[PATH_MAX + 16];
        struct cli_out out;
        size_t n = strlen(term[i][1]) + strlen(script) + 1;
        char *full = malloc(n);
        int rc = 1;

        if (!full)
            return nicsim_run_fail("out of memory");
        snprintf(full, n, "%s%s", term[i][1], script);
        memset(&out, 0, sizeof(out));
        out.slot = -1;
        snprintf(path, sizeof(path), "%s/%s.%s", rd->dir, name, term[i][0]);
        snprintf(shown, sizeof(shown), "--report %s", path);
        if (!nicsim_cli_out_begin(&out, "--report", path)) {
            const char *args[] = {data, nicsim_cli_out_path(&out), title};
            if (!nicsim_run_gnuplot(gnuplot, full, shown, args, 3))
                rc = nicsim_cli_out_commit(&out);
        }
        nicsim_cli_out_abort(&out);
        free(full);
        if (rc)
            return rc;
    }
    return 0;
}

struct run_page {
    struct report *rep;
    const struct run_summary *sum;
    const char *prog, *title;
    uint32_t n_cores;
    bool kernel;
};

static void row(FILE *f, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void row(FILE *f, const char *name, const char *fmt, ...)
{
    va_list ap;
    fprintf(f, "<tr><th>%s</th><td>", name);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputs("</td></tr>\n", f);
}

static void page_head(FILE *f, const char *what, const char *title)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>nicsim ", f);
    fputs(what, f);
    fputs(": ", f);
    html_text(f, title);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}img{max-width:100%}"
          "</style></head><body>\n<h1>nicsim ",
          f);
    fputs(what, f);
    fputs("</h1>\n<p>", f);
    html_text(f, title);
    fputs("</p>\n", f);
}

static void figure(FILE *f, const char *name, const char *caption)
{
    fprintf(f, "<h2>%s</h2>\n<p><img src=\"%s.png\" alt=\"%s\"> (<a href=\"%s.svg\">SVG</a>)</p>\n",
            caption, name, caption, name);
}

static int write_run_page(FILE *f, void *user)
{
    struct run_page *p = user;
    struct report *r = p->rep;
    const struct run_summary *s = p->sum;

    page_head(f, "run", p->title);
    fputs("<h2>Summary</h2>\n<table>\n", f);
    fputs("<tr><th>program</th><td>", f);
    html_text(f, p->prog);
    fputs("</td></tr>\n", f);
    row(f, "packets", "%llu (%llu ran on the cores)", (unsigned long long)r->packets,
        (unsigned long long)r->cycles.count);
    static const char *const vnames[] = {"XDP_ABORTED", "XDP_DROP",     "XDP_PASS",
                                         "XDP_TX",      "XDP_REDIRECT", "other"};
    fputs("<tr><th>verdicts</th><td>", f);
    for (int i = 0; i < 6; i++)
        if (r->verdicts[i])
            fprintf(f, "%s %llu ", vnames[i], (unsigned long long)r->verdicts[i]);
    fputs("</td></tr>\n", f);
    if (r->cycles.count) {
        row(f, "cycles per packet", "min %llu, median %llu, p99 %llu, max %llu, mean %.1f",
            (unsigned long long)r->cycles.min,
            (unsigned long long)nicsim_report_hist__quantile(&r->cycles, 50),
            (unsigned long long)nicsim_report_hist__quantile(&r->cycles, 99),
            (unsigned long long)r->cycles.max, (double)r->cycles.sum / (double)r->cycles.count);
        row(f, "instructions per packet", "median %llu, mean %.1f",
            (unsigned long long)nicsim_report_hist__quantile(&r->insns, 50),
            (double)r->insns.sum / (double)r->cycles.count);
    }
    row(f, "cores, clock", "%u at %u MHz", p->n_cores, r->clock_mhz);
    row(f, "achieved", "%.3f Mpps, %.3f Gb/s over %llu ns; core utilisation %.1f%%",
        s->achieved_mpps, s->achieved_gbps, (unsigned long long)s->duration_ns,
        100.0 * s->core_utilisation);
    fputs("<tr><th>left the NIC / dropped</th><td>", f);
    fprintf(f, "left %llu", (unsigned long long)s->drops[0]);
    for (int i = 1; i < NICSIM_DP_N_DROP; i++)
        fprintf(f, ", %s %llu", nicsim_dp_drop_code(i), (unsigned long long)s->drops[i]);
    fputs("</td></tr>\n", f);
    row(f, "latency (arrival to departure)", "median %llu ns, p99 %llu ns, max %llu ns (%s)",
        (unsigned long long)s->latency_p50_ns, (unsigned long long)s->latency_p99_ns,
        (unsigned long long)s->latency_max_ns, r->arrival ? r->arrival : "trace timestamps");
    if (p->kernel && r->kernel_ns.count)
        row(f, "host kernel (JIT)", "median %llu ns per packet; %llu mismatches",
            (unsigned long long)nicsim_report_hist__quantile(&r->kernel_ns, 50),
            (unsigned long long)r->kernel_mismatches);
    fputs("</table>\n<p>Files: <a href=\"report.json\">report.json</a>, "
          "<a href=\"packets.csv\">packets.csv</a> (one row per packet)</p>\n",
          f);
    figure(f, "cycles", "Cycles per packet");
    figure(f, "latency", "Latency, arrival to departure (CDF)");
    if (p->kernel && r->kernel_ns.count)
        figure(f, "kernel", "NIC vs host JIT, ns per packet");
    fputs("</body></html>\n", f);
    return 0;
}

int nicsim_run_report_dir_run(const struct report_dir *rd, struct report *rep,
                              const struct run_summary *sum, const char *prog_name,
                              const char *title, uint32_t n_cores)
{
    char *gnuplot = nicsim_run_find_gnuplot();
    char script[2048];
    int rc = 1;

    if (!gnuplot)
        return nicsim_run_fail("--report %s: gnuplot is not installed (not found in PATH)",
                               rd->dir);
    /* packets.csv columns: 2 error, 12 cycles, 26 latency_ns, 28 kernel_ns (reportdir.h) */
    uint64_t lo = rep->cycles.min, hi = rep->cycles.max;
    uint64_t bw = (hi - lo) / 60 + 1;
    double ns = 1000.0 / rep->clock_mhz;
    snprintf(script, sizeof(script),
             "set output ARG2\nset datafile separator ','\nset title ARG3\n"
             "set xlabel 'cycles per packet'\nset ylabel 'packets'\nset style fill solid 0.5\n"
             "set boxwidth %llu\nbin(x) = %llu * floor(x / %llu)\n"
             "plot ARG1 using (strcol(2) eq '' ? bin($12) : 1/0):(1.0) skip 1 smooth freq "
             "with boxes title 'packets'\n",
             (unsigned long long)bw, (unsigned long long)bw, (unsigned long long)bw);
    if (rep->cycles.count && plot_pair(rd, gnuplot, "cycles", script, rd->csv, title))
        goto out;
    snprintf(script, sizeof(script),
             "set output ARG2\nset datafile separator ','\nset title ARG3\n"
             "set xlabel 'latency, arrival to departure (ns)'\nset ylabel 'fraction of "
             "packets'\nset key bottom right\nset grid\n"
             "stats ARG1 using (strcol(2) eq '' ? $26 : 1/0) skip 1 nooutput\n"
             "plot ARG1 using (strcol(2) eq '' ? $26 : 1/0):(1.0/STATS_records) skip 1 smooth "
             "cumulative title 'packets'\n");
    if (rep->cycles.count && plot_pair(rd, gnuplot, "latency", script, rd->csv, title))
        goto out;
    bool kernel = rep->kernel && rep->kernel_ns.count;
    snprintf(script, sizeof(script),
             "set output ARG2\nset datafile separator ','\nset title ARG3\n"
             "set xlabel 'packet (trace order)'\nset ylabel 'ns per packet'\nset key top left\n"
             "plot ARG1 using 1:(strcol(2) eq '' ? $12 * %g : 1/0) skip 1 with points pt 7 ps "
             "0.5 title 'NIC core (%u MHz)', '' using 1:(strcol(28) eq '' ? 1/0 : $28) skip 1 "
             "with points pt 7 ps 0.5 title 'host kernel (JIT)'\n",
             ns, rep->clock_mhz);
    if (kernel && plot_pair(rd, gnuplot, "kernel", script, rd->csv, title))
        goto out;
    struct run_page page = {.rep = rep,
                            .sum = sum,
                            .prog = prog_name,
                            .title = title,
                            .n_cores = n_cores,
                            .kernel = kernel};
    rc = write_file(rd, "index.html", write_run_page, &page);
out:
    free(gnuplot);
    return rc;
}

struct sweep_page {
    const char *csv, *title, *fewest;
};

static int write_sweep_page(FILE *f, void *user)
{
    struct sweep_page *p = user;
    FILE *in = fopen(p->csv, "r");
    char line[1024];

    if (!in)
        return -1;
    page_head(f, "sweep", p->title);
    fputs("<h2>Fewest cores carrying the trace</h2>\n<table>\n<tr><th>line rate</th><th>cores"
          "</th></tr>\n",
          f);
    fputs(p->fewest, f);
    fputs("</table>\n", f);
    figure(f, "sweep", "Throughput, drops and p99 latency against cores");
    fputs("<h2>Every point</h2>\n<table>\n", f);
    for (bool first = true; fgets(line, sizeof(line), in); first = false) {
        line[strcspn(line, "\n")] = 0;
        fputs("<tr>", f);
        char *save = NULL;
        for (char *t = strtok_r(line, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            fputs(first ? "<th>" : "<td>", f);
            html_text(f, t);
            fputs(first ? "</th>" : "</td>", f);
        }
        fputs("</tr>\n", f);
    }
    fclose(in);
    fputs("</table>\n<p><a href=\"sweep.csv\">sweep.csv</a></p>\n</body></html>\n", f);
    return 0;
}

static int copy_csv(FILE *f, void *user)
{
    FILE *in = fopen(user, "r");
    char buf[8192];
    size_t n;

    if (!in)
        return -1;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        fwrite(buf, 1, n, f);
    int bad = ferror(in);
    fclose(in);
    return bad ? -1 : 0;
}

int nicsim_run_report_dir_sweep(const struct report_dir *rd, const char *table_csv,
                                const char *title, const char *fewest_rows)
{
    struct sweep_page page = {.csv = table_csv, .title = title, .fewest = fewest_rows};
    if (write_file(rd, "sweep.csv", copy_csv, (void *)table_csv))
        return 1;
    return write_file(rd, "index.html", write_sweep_page, &page);
}
