/* SPDX-License-Identifier: MIT */
/*
 * nicsim bench replay, the report's cost: the same replay without a report, with --json and with
 * --json-lines (files in /tmp, removed afterwards), each in a child process; the report must run
 * at no less than half the replay's own speed.
 */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "cli.h"
#include "run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* One replay of `count` packets with `opt FILE` (opt NULL: no report); seconds, or < 0. */
static double timed_replay(const char *obj, const char *trace, const char *maps, uint64_t count,
                           const char *opt, const char *file)
{
    char n[32];
    snprintf(n, sizeof(n), "%llu", (unsigned long long)count);
    char *args[] = {"run",   (char *)obj, "--pcap",      (char *)trace, "--maps-dir",
                    (char *)maps, "--quiet", "--no-progress", "--count",     n,
                    (char *)opt,  (char *)file,   NULL};
    int argc = opt ? 12 : 10;
    struct run_opts o;

    if (run_parse_args(argc, args, &o))
        return -1;
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0)
        _exit(run_main(&o));
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        return -1;
    return now() - t0;
}

int bench_report_figure(const char *obj, const char *trace, const char *maps, uint64_t total)
{
    static const char *const opts[] = {NULL, "--json", "--json-lines"};
    static const char *const what[] = {"no report", "--json", "--json-lines"};
    char path[] = "/tmp/nicsim-bench-report-XXXXXX";
    double base = 0;
    int fd = mkstemp(path);

    if (fd < 0) {
        fprintf(stderr, "nicsim bench replay: cannot create a report file in /tmp\n");
        return 1;
    }
    close(fd);
    printf("\nthe report's cost (%llu packets, the same replay):\n", (unsigned long long)total);
    for (int i = 0; i < 3; i++) {
        double s = timed_replay(obj, trace, maps, total, opts[i], opts[i] ? path : NULL);
        struct stat sb;
        if (s < 0) {
            unlink(path);
            fprintf(stderr, "nicsim bench replay: the replay with %s failed\n", what[i]);
            return 1;
        }
        if (i == 0)
            base = s;
        bool sized = opts[i] && stat(path, &sb) == 0;
        printf("  %-13s %10.0f packets/s  (%.2f s)", what[i], (double)total / s, s);
        if (sized)
            printf("  %.1f MB written, %.0f%% of the replay's speed", (double)sb.st_size / 1e6,
                   100.0 * base / s);
        printf("\n");
    }
    unlink(path);
    return 0;
}
