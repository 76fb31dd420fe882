/* SPDX-License-Identifier: MIT */
/*
 * nicsim bench replay: packets per second of a whole `nicsim run` replay through the SystemC NIC
 * (pcap in, MAC, buffers, dispatcher, cores with cycle counting, queues, report), beside the plain
 * C loop it replaced (--nic plain) and the host kernel replaying the same trace through
 * BPF_PROG_TEST_RUN, one run per packet, measured in the same process.
 */
#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "cli.h"
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nicsim/kref.h"
#include "nicsim/mapjson.h"
#include "opt.h"
#include "replay.h"

#ifndef NICSIM_EXAMPLES_DIR
#define NICSIM_EXAMPLES_DIR "examples"
#endif
#ifndef NICSIM_EXAMPLES_SOURCE_DIR
#define NICSIM_EXAMPLES_SOURCE_DIR "examples"
#endif

struct pkt {
    uint8_t *data;
    uint32_t len;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The example's trace, every frame the kernel can take (at least 14 bytes, untruncated). */
static struct pkt *read_trace(const char *path, size_t *n)
{
    char err[256];
    struct nicsim_trace_in *in = nicsim_trace_in__open(path, err, sizeof(err));
    struct nicsim_trace_pkt p;
    struct pkt *v = NULL;
    size_t cap = 0;

    *n = 0;
    if (!in) {
        fprintf(stderr, "nicsim bench replay: %s\n", err);
        return NULL;
    }
    while (nicsim_trace_in__next(in, &p, err, sizeof(err)) == 1) {
        if (p.caplen < 14 || p.caplen != p.wirelen)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            v = realloc(v, cap * sizeof(*v));
        }
        v[*n].data = malloc(p.caplen);
        memcpy(v[*n].data, p.data, p.caplen);
        v[*n].len = p.caplen;
        (*n)++;
    }
    nicsim_trace_in__close(in);
    return v;
}

static int write_trace(FILE *f, const struct pkt *v, size_t n, size_t total)
{
    uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};

    fwrite(hdr, sizeof(hdr), 1, f);
    for (size_t i = 0; i < total; i++) {
        const struct pkt *p = &v[i % n];
        uint32_t rec[4] = {(uint32_t)(i / 1000000), (uint32_t)(i % 1000000), p->len, p->len};
        fwrite(rec, sizeof(rec), 1, f);
        fwrite(p->data, p->len, 1, f);
    }
    return fflush(f) || ferror(f) ? -EIO : 0;
}

static void free_trace(struct pkt *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].data);
    free(v);
}

#define BENCH_MAX_PACKETS 100000000ull

int cmd_bench_replay(int argc, char **argv)
{
    const char *name = "firewall";
    uint64_t total = 100000;
    char obj[512], trace[512], maps[512], path[] = "/tmp/nicsim-bench-XXXXXX.pcap";
    bool no_kernel = false;
    const struct cli_opt opts[] = {
        {.name = "--packets",
         .kind = CLI_U64,
         .dst = &total,
         .lo = 1,
         .hi = BENCH_MAX_PACKETS,
         .why = "(packets of the generated trace)"},
        {.name = "--example", .kind = CLI_STR, .dst = &name},
        {.name = "--no-kernel", .kind = CLI_FLAG, .dst = &no_kernel},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] =
        "usage: nicsim bench replay [--example NAME] [--packets N] [--no-kernel]\n";

    nicsim_cli_set_prog("nicsim bench replay");
    int prc = nicsim_cli_parse_cmd(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 0,
                            &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    if (strchr(name, '/') || !*name)
        return nicsim_cli_usage_fail("--example '%s': the name of a bundled example", name);
    snprintf(obj, sizeof(obj), "%s/%s.bpf.o", NICSIM_EXAMPLES_DIR, name);
    snprintf(trace, sizeof(trace), "%s/traces/%s.pcap", NICSIM_EXAMPLES_SOURCE_DIR, name);
    snprintf(maps, sizeof(maps), "%s/%s.maps", NICSIM_EXAMPLES_SOURCE_DIR, name);

    size_t n;
    struct pkt *v = read_trace(trace, &n);
    if (!v || !n) {
        free_trace(v, n);
        return 1;
    }
    /* The trace's file is removed as soon as it is created and read through /dev/fd: nothing is
     * left behind, however the benchmark ends (Ctrl-C, kill). It must fit the disk. */
    uint64_t bytes = 24;
    for (size_t i = 0; i < n; i++)
        bytes += (16 + (uint64_t)v[i].len) * (total / n + (i < total % n));
    int fd = mkstemps(path, 5);
    if (fd >= 0)
        unlink(path);
    struct statvfs vfs;
    if (fd >= 0 && fstatvfs(fd, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < bytes) {
        close(fd);
        free_trace(v, n);
        return nicsim_cli_fail("--packets %llu: the trace takes %llu bytes, /tmp has %llu free",
                        (unsigned long long)total, (unsigned long long)bytes,
                        (unsigned long long)vfs.f_bavail * vfs.f_frsize);
    }
    FILE *tf = fd >= 0 ? fdopen(fd, "w+") : NULL;
    if (!tf || write_trace(tf, v, n, (size_t)total)) {
        if (tf)
            fclose(tf);
        else if (fd >= 0)
            close(fd);
        free_trace(v, n);
        return nicsim_cli_fail("cannot write a %llu-byte trace in /tmp: %s", (unsigned long long)bytes,
                        strerror(errno));
    }
    char dev[32];
    snprintf(dev, sizeof(dev), "/dev/fd/%d", fileno(tf));
    printf("nicsim bench replay: example %s, its %zu-packet trace repeated to %llu packets\n\n",
           name, n, (unsigned long long)total);

    /* The whole `nicsim run` path, reports on, no JSON file, each in a child process so that
     * its peak memory is its own: the SystemC NIC (the default) on a tenth of the trace first
     * (memory must not grow with the trace's length) and on all of it, then the plain C loop it
     * replaced (--nic plain) on all of it. */
    double nic_s = 0, plain_s = 0;
    long rss_kb[2] = {0, 0};
    uint64_t counts[3] = {total / 10 ? total / 10 : 1, total, total};
    for (int pass = 0; pass < 3; pass++) {
        char count[32];
        snprintf(count, sizeof(count), "%llu", (unsigned long long)counts[pass]);
        char *args[] = {"run",   obj,   "--pcap",  dev,   "--maps-dir", maps,
                        "--quiet", "--no-progress", "--count", count, "--nic",
                        pass == 2 ? "plain" : "systemc", NULL};
        struct run_opts o;
        if (run_parse_args(12, args, &o)) {
            fclose(tf);
            free_trace(v, n);
            return 1;
        }
        fflush(stdout);
        double t0 = now();
        pid_t pid = fork();
        if (pid == 0)
            _exit(nicsim_run_main(&o));
        int st = 0;
        struct rusage ru;
        if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "nicsim bench replay: the replay failed\n");
            fclose(tf);
            free_trace(v, n);
            return 1;
        }
        if (pass == 2)
            plain_s = now() - t0;
        else
            nic_s = now() - t0;
        if (pass < 2)
            rss_kb[pass] = ru.ru_maxrss;
    }
    double nic_pps = (double)total / nic_s, plain_pps = (double)total / plain_s;
    printf("SystemC NIC (nicsim run, cycle counting on): %10.0f packets/s  (%.2f s)\n", nic_pps,
           nic_s);
    printf("plain C loop (nicsim run --nic plain):       %10.0f packets/s  (%.2f s)\n",
           plain_pps, plain_s);
    printf("SystemC NIC / plain loop: %.2fx\n", nic_pps / plain_pps);
    printf("peak memory of the replay: %ld KiB for %llu packets, %ld KiB for %llu packets\n",
           rss_kb[0], (unsigned long long)counts[0], rss_kb[1], (unsigned long long)counts[1]);
    int frc = bench_report_figure(obj, dev, maps, total);
    fclose(tf);
    if (frc) {
        free_trace(v, n);
        return 1;
    }
    if (no_kernel) {
        free_trace(v, n);
        return 0;
    }

    /* The kernel: BPF_PROG_TEST_RUN, one run per packet. */
    char err[512];
    int rc = nicsim_kref__probe(err, sizeof(err));
    if (nicsim_kref__unavailable(rc)) {
        printf("kernel (BPF_PROG_TEST_RUN):  not measured: bpf() refused (%s)\n", err);
        free_trace(v, n);
        return 0;
    }
    struct nicsim_kref_opts ko = {.sz = sizeof(ko)};
    struct nicsim_kref *k = nicsim_kref__open(obj, &ko, err, sizeof(err));
    if (!k || nicsim_kref__map_set_dir(k, maps, err, sizeof(err)) ||
        nicsim_kref__load(k, err, sizeof(err))) {
        fprintf(stderr, "nicsim bench replay: kernel: %s\n", err);
        nicsim_kref__close(k);
        free_trace(v, n);
        return 1;
    }
    struct nicsim_kref_run_opts ro = {.sz = sizeof(ro), .repeat = 1};
    struct nicsim_kref_result kr;
    double t0 = now();
    for (size_t i = 0; i < total; i++) {
        if (nicsim_kref__run(k, v[i % n].data, v[i % n].len, &ro, &kr, err, sizeof(err))) {
            fprintf(stderr, "nicsim bench replay: kernel: packet %zu: %s\n", i, err);
            nicsim_kref__close(k);
            free_trace(v, n);
            return 1;
        }
    }
    double k_s = now() - t0;
    nicsim_kref__close(k);
    double k_pps = (double)total / k_s;
    printf("kernel (BPF_PROG_TEST_RUN, 1 run/pkt): %8.0f packets/s  (%.2f s)\n", k_pps, k_s);
    printf("\nSystemC NIC / kernel: %.2fx\n", nic_pps / k_pps);
    free_trace(v, n);
    return 0;
}
