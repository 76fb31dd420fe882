/* SPDX-License-Identifier: MIT */
/*
 * nicsim bench replay, the report's cost: the same replay without a report, with --json and with
 * --json-lines (files in /tmp, removed afterwards), each in a child process; the report must run
 * at no less than half the replay's own speed. Before each replay the previous one's file is
 * removed and the page cache written back (sync), so that no form pays for the writeback of the
 * one before it (half a gigabyte at a million packets: the kernel throttles the writer that
 * finds that much dirty memory).
 */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "cli.h"
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One replay of `count` packets with `opt FILE` (opt NULL: no report); wall seconds, or < 0;
 * *cpu: the replay's CPU seconds (user and system). */
static double timed_replay(const char *obj, const char *trace, const char *maps, uint64_t count,
                           const char *opt, const char *file, double *cpu)
{
    char n[32];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)count);
    char *args[] = {"run",        (char *)obj,
                    "--pcap",     (char *)trace,
                    "--maps-dir", (char *)maps,
                    "--quiet",    "--no-progress",
                    "--count",    n,
                    (char *)opt,  (char *)file,
                    NULL};
    int argc = opt ? 12 : 10;
    struct run_opts o;

    if (run_parse_args(argc, args, &o))
        return -1;
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0)
        _exit(nicsim_run_main(&o));
    int st = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        return -1;
    *cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    return now() - t0;
}

int bench_report_figure(const char *obj, const char *trace, const char *maps, uint64_t total)
{
    static const char *const opts[] = {NULL, "--json", "--json-lines"};
    static const char *const what[] = {"no report", "--json", "--json-lines"};
    char path[] = "/tmp/nicsim-bench-report-XXXXXX";
    double base = 0, base_cpu = 0;
    int fd = mkstemp(path);

    if (fd < 0) {
        fprintf(stderr, "nicsim bench replay: cannot create a report file in /tmp\n");
        return 1;
    }
    close(fd);
    printf("\nthe report's cost (%llu packets, the same replay; wall clock, and CPU time of the "
           "replay's process):\n",
           (unsigned long long)total);
    for (int i = 0; i < 3; i++) {
        double cpu = 0;
        unlink(path);
        sync();
        double s = timed_replay(obj, trace, maps, total, opts[i], opts[i] ? path : NULL, &cpu);
        struct stat sb;
        if (s < 0) {
            unlink(path);
            fprintf(stderr, "nicsim bench replay: the replay with %s failed\n", what[i]);
            return 1;
        }
        if (i == 0) {
            base = s;
            base_cpu = cpu;
        }
        bool sized = opts[i] && stat(path, &sb) == 0;
        printf("  %-13s %10.0f packets/s  (%.2f s, CPU %.2f s)", what[i], (double)total / s, s,
               cpu);
        if (sized)
            printf("  %.1f MB written, %.0f%% of the replay's speed (CPU: %.0f%%)",
                   (double)sb.st_size / 1e6, 100.0 * base / s,
                   cpu > 0 ? 100.0 * base_cpu / cpu : 0.0);
        printf("\n");
    }
    unlink(path);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * nicsim bench examples: the README's table, one row per bundled example: cycles per packet on the
 * NIC core, the cores 100 Gb/s needs at 64-byte frames and at the trace's own mix, and the host
 * kernel's JIT ns per packet (BPF_PROG_TEST_RUN, where this kernel runs the program).
 */
#include <jansson.h>
#include <math.h>

#include "nicsim/kref.h"
#include "opt.h"

#ifndef NICSIM_EXAMPLES_DIR
#define NICSIM_EXAMPLES_DIR "examples"
#endif
#ifndef NICSIM_EXAMPLES_SOURCE_DIR
#define NICSIM_EXAMPLES_SOURCE_DIR "examples"
#endif

static const struct {
    const char *name, *prog, *ignore;
} bench_examples[] = {
    {"firewall", NULL, "flows:0:8"}, {"ipip", NULL, NULL},   {"l4lb", NULL, NULL},
    {"parser", "xdp_parser", NULL},  {"router", NULL, NULL},
};

/* Runs one example (--json into `json`); 0 with *kernel set when the kernel's figure is in it. */
static int bench_example(size_t e, const char *json, bool want_kernel, bool *kernel)
{
    char obj[512], trace[512], maps[512];
    char *args[20];
    int n = 0;
    bool skipped = false;
    struct run_opts o;

    snprintf(obj, sizeof(obj), "%s/%s.bpf.o", NICSIM_EXAMPLES_DIR, bench_examples[e].name);
    snprintf(trace, sizeof(trace), "%s/traces/%s.pcap", NICSIM_EXAMPLES_SOURCE_DIR,
             bench_examples[e].name);
    snprintf(maps, sizeof(maps), "%s/%s.maps", NICSIM_EXAMPLES_SOURCE_DIR, bench_examples[e].name);
    args[n++] = "run";
    args[n++] = obj;
    args[n++] = "--pcap";
    args[n++] = trace;
    args[n++] = "--maps-dir";
    args[n++] = maps;
    args[n++] = "--json";
    args[n++] = (char *)json;
    args[n++] = "--quiet";
    args[n++] = "--no-progress";
    if (bench_examples[e].prog) {
        args[n++] = "--prog";
        args[n++] = (char *)bench_examples[e].prog;
    }
    if (want_kernel) {
        args[n++] = "--compare-kernel";
        if (bench_examples[e].ignore) {
            args[n++] = "--ignore-bytes";
            args[n++] = (char *)bench_examples[e].ignore;
        }
    }
    args[n] = NULL;
    if (run_parse_args(n, args, &o))
        return 1;
    o.kernel_skipped = &skipped;
    int rc = nicsim_run_main(&o);
    *kernel = want_kernel && !skipped && rc == 0;
    return rc;
}

int bench_examples_table(int argc, char **argv)
{
    bool no_kernel = false;
    const struct cli_opt opts[] = {
        {.name = "--no-kernel", .kind = CLI_FLAG, .dst = &no_kernel},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] =
        "usage: nicsim bench examples [--no-kernel]\n"
        "  for each bundled example: cycles per packet on the NIC core (250 MHz), the cores\n"
        "  that 100 Gb/s needs at 64-byte frames (148.8 Mpps) and at the trace's mean frame,\n"
        "  and the host kernel's JIT ns per packet (BPF_PROG_TEST_RUN); a Markdown table\n";
    char path[] = "/tmp/nicsim-bench-examples-XXXXXX.json";
    char err[256];

    nicsim_cli_set_prog("nicsim bench examples");
    int prc =
        nicsim_cli_parse_cmd(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 0, &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    bool want_kernel =
        !no_kernel && !nicsim_kref__unavailable(nicsim_kref__probe(err, sizeof(err)));
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return nicsim_cli_fail("cannot create a report file in /tmp");
    close(fd);
    printf("| example | cycles/packet (mean) | cores for 100 Gb/s, 64-byte frames | cores for 100 "
           "Gb/s, trace mix (mean frame) | host JIT ns/packet (median) |\n"
           "|---|---:|---:|---:|---:|\n");
    int status = 0;
    for (size_t e = 0; e < sizeof(bench_examples) / sizeof(bench_examples[0]); e++) {
        bool kernel = false;
        if (bench_example(e, path, want_kernel, &kernel)) {
            fprintf(stderr, "nicsim bench examples: %s: the run failed\n", bench_examples[e].name);
            status = 1;
            continue;
        }
        json_error_t je;
        json_t *j = json_load_file(path, 0, &je);
        json_t *s = json_object_get(j, "summary");
        double mean = json_real_value(json_object_get(json_object_get(s, "cycles"), "mean"));
        double frame = json_number_value(json_object_get(s, "mean_frame_bytes"));
        json_int_t mhz = json_integer_value(json_object_get(s, "clock_mhz"));
        json_int_t kns =
            json_integer_value(json_object_get(json_object_get(s, "kernel"), "median_ns"));
        if (!s || mean <= 0 || mhz <= 0) {
            fprintf(stderr, "nicsim bench examples: %s: no summary in the report\n",
                    bench_examples[e].name);
            json_decref(j);
            status = 1;
            continue;
        }
        /* a core does mhz / mean Mpps; 100 Gb/s is 100e3 / ((frame + 24) * 8) Mpps, a 64-byte
         * frame (FCS included) taking 84 bytes of the wire */
        double per_core = (double)mhz / mean;
        double c64 = ceil(100e3 / (84.0 * 8.0) / per_core);
        double cmix = frame > 0 ? ceil(100e3 / ((frame + 24.0) * 8.0) / per_core) : 0;
        char kbuf[64];
        if (kernel)
            snprintf(kbuf, sizeof(kbuf), "%lld", (long long)kns);
        else
            snprintf(kbuf, sizeof(kbuf), "not measured");
        printf("| %s | %.1f | %.0f | %.0f (%.0f bytes) | %s |\n", bench_examples[e].name, mean, c64,
               cmix, frame, kbuf);
        json_decref(j);
    }
    unlink(path);
    if (!want_kernel)
        printf("\n(host kernel not measured: %s)\n", no_kernel ? "--no-kernel" : err);
    return status;
}
