/* SPDX-License-Identifier: MIT */
/*
 * nicsim bench: simulated instructions per second of the C core model, with cycle counting on,
 * over loop-heavy programs; and the cycles per instruction the microarchitecture gives them.
 */
#include "cli.h"
#include "bpfconf.h"
#include "model.h"
#include "nicsim/mapjson.h"
#include "opt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

struct bench_prog {
    const char *name;
    const char *what;
    const char *text;
    size_t memlen;
};

static const struct bench_prog programs[] = {
    {"alu-loop", "ALU chain, one taken branch per iteration",
     "mov %r0, 0\n"
     "mov %r1, 0\n"
     "lddw %r2, 12000000\n"
     "loop:\n"
     "add %r0, %r1\n"
     "xor %r0, 0x5a5a\n"
     "lsh %r0, 3\n"
     "rsh %r0, 1\n"
     "add %r1, 1\n"
     "jlt %r1, %r2, loop\n"
     "exit\n",
     0},
    {"checksum", "64-bit loads over a 2 KiB block, load-use stalls",
     "mov %r0, 0\n"
     "mov %r6, 0\n"
     "outer:\n"
     "mov %r3, %r1\n"
     "mov %r4, %r1\n"
     "add %r4, %r2\n"
     "inner:\n"
     "ldxdw %r5, [%r3]\n"
     "add %r0, %r5\n"
     "add %r3, 8\n"
     "jlt %r3, %r4, inner\n"
     "add %r6, 1\n"
     "jlt %r6, 60000, outer\n"
     "exit\n",
     2048},
    {"stack-calls", "local calls, stack stores and loads",
     "mov %r6, 0\n"
     "mov %r7, 0\n"
     "loop:\n"
     "mov %r1, %r6\n"
     "call local f\n"
     "add %r7, %r0\n"
     "add %r6, 1\n"
     "jlt %r6, 4000000, loop\n"
     "mov %r0, %r7\n"
     "exit\n"
     "f:\n"
     "stxdw [%r10-8], %r1\n"
     "ldxdw %r0, [%r10-8]\n"
     "mul %r0, 3\n"
     "add %r0, 7\n"
     "exit\n",
     0},
    {"primes", "trial division (divider-bound)",
     "mov %r6, 2\n"
     "mov %r0, 0\n"
     "next:\n"
     "mov %r7, 2\n"
     "try:\n"
     "mov %r8, %r7\n"
     "mul %r8, %r7\n"
     "jgt %r8, %r6, prime\n"
     "mov %r9, %r6\n"
     "mod %r9, %r7\n"
     "jeq %r9, 0, composite\n"
     "add %r7, 1\n"
     "ja try\n"
     "prime:\n"
     "add %r0, 1\n"
     "composite:\n"
     "add %r6, 1\n"
     "jlt %r6, 400000, next\n"
     "exit\n",
     0},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* nicsim bench map: the --map reader (bpftool JSON, duplicate keys checked) on a generated dump of
 * N entries (4-byte keys, 8-byte values), in a child process so that its peak memory is its own.
 * The dump is written to a temporary file that is removed at once (read through /dev/fd). */
static int bench_map(int argc, char **argv)
{
    uint64_t entries = 1000000;
    const struct cli_opt opts[] = {
        {.name = "--entries",
         .kind = CLI_U64,
         .dst = &entries,
         .lo = 1,
         .hi = 100000000,
         .why = "(entries of the generated map dump)"},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    char path[] = "/tmp/nicsim-bench-map-XXXXXX.json";

    nicsim_cli_set_prog("nicsim bench map");
    int prc = nicsim_cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 0, &n_pos);
    if (prc == CLI_HELP) {
        printf("usage: nicsim bench map [--entries N]\n");
        return 0;
    }
    if (prc)
        return CLI_USAGE;
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return nicsim_cli_fail("cannot create %s: %s", path, strerror(errno));
    unlink(path); /* nothing is left behind, however the benchmark ends */
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return nicsim_cli_fail("cannot write the map dump: %s", strerror(errno));
    }
    fputs("[", f);
    for (uint64_t i = 0; i < entries; i++) {
        uint32_t k = (uint32_t)(i * 2654435761u); /* distinct keys (odd multiplier), scattered */
        fprintf(f,
                "%s{\"key\":[\"0x%02x\",\"0x%02x\",\"0x%02x\",\"0x%02x\"],\"value\":[\"0x%02x\","
                "\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x00\",\"0x01\"]}",
                i ? ",\n" : "", k & 255, (k >> 8) & 255, (k >> 16) & 255, k >> 24,
                (unsigned)(i & 255));
    }
    fputs("]\n", f);
    if (fflush(f)) {
        fclose(f);
        return nicsim_cli_fail("cannot write the map dump: %s", strerror(errno));
    }
    long size = ftell(f);
    char dev[32];
    snprintf(dev, sizeof(dev), "/dev/fd/%d", fileno(f));
    printf("nicsim bench map: the --map reader on a bpftool dump of %llu entries (%ld bytes)\n",
           (unsigned long long)entries, size);
    fflush(stdout);
    double t0 = now();
    pid_t pid = fork();
    if (pid == 0) {
        struct nicsim_mapjson_layout l = {
            .name = "bench", .key_size = 4, .value_size = 8, .max_entries = (uint32_t)entries};
        struct nicsim_mapjson_entries e;
        char err[512];
        int rc = nicsim_mapjson__read_file(dev, &l, &e, err, sizeof(err));
        if (rc)
            fprintf(stderr, "nicsim bench map: %s\n", err);
        else if (e.count != entries)
            fprintf(stderr, "nicsim bench map: read %zu entries, not %llu\n", e.count,
                    (unsigned long long)entries);
        bool bad = rc || e.count != entries;
        nicsim_mapjson_entries__free(&e);
        _exit(bad ? 1 : 0);
    }
    int st = 0;
    struct rusage ru;
    bool ok = pid > 0 && wait4(pid, &st, 0, &ru) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
    double dt = now() - t0;
    fclose(f);
    if (!ok)
        return nicsim_cli_fail("the map read failed");
    printf("read and checked (no duplicate key): %.2f s, peak memory %ld KiB\n", dt, ru.ru_maxrss);
    return 0;
}

/* A bench program assembled, and its memory block filled with its pattern: 0, or 1 after a
 * message. */
static int bench_prog_load(const struct bench_prog *bp, struct nicsim_insn **raw, size_t *n,
                           uint8_t **mem)
{
    struct nicsim_isa_err err = {.index = -1};

    if (nicsim_asm(bp->text, raw, n, &err) < 0) {
        fprintf(stderr, "nicsim bench: %s: line %ld: %s\n", bp->name, err.index, err.msg);
        return 1;
    }
    *mem = calloc(1, bp->memlen ? bp->memlen : 1);
    if (!*mem) {
        free(*raw);
        return nicsim_cli_fail("out of memory");
    }
    for (size_t j = 0; j < bp->memlen; j++)
        (*mem)[j] = (uint8_t)(j * 7 + 1);
    return 0;
}

/* --model rtl: each program's first `insns` instructions (the watchdog ends the longer ones) on
 * the Verilated RTL and on the C model, same work, simulated core cycles per second of each. */
static int bench_rtl(uint64_t insns)
{
    printf("nicsim bench --model rtl: Verilated RTL core beside the C model, first %" PRIu64
           " instructions of each program, per second of CPU time\n\n",
           insns);
    printf("%-12s %12s %12s %14s %14s\n", "program", "insns", "cycles", "RTL Mcycle/s",
           "C Mcycle/s");
    double rtl_time = 0, c_time = 0;
    uint64_t total_cycles = 0;
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        const struct bench_prog *bp = &programs[i];
        struct nicsim_insn *raw;
        size_t n;
        uint8_t *mem;
        if (bench_prog_load(bp, &raw, &n, &mem))
            return 1;
        double rcps = 0, ccps = 0;
        struct nicsim_run run;
        int rc = cli_bench_rtl(bp->name, raw, n, mem, bp->memlen, insns, &rcps, &ccps, &run);
        free(raw);
        free(mem);
        if (rc < 0)
            return 1;
        printf("%-12s %12" PRIu64 " %12" PRIu64 " %14.2f %14.2f\n", bp->name, run.insns,
               run.cycles, rcps / 1e6, ccps / 1e6);
        total_cycles += run.cycles;
        rtl_time += rcps > 0 ? (double)run.cycles / rcps : 0;
        c_time += ccps > 0 ? (double)run.cycles / ccps : 0;
    }
    printf("\nsimulated core cycles per second: RTL %.2f million, C model %.2f million (all "
           "programs)\n",
           rtl_time > 0 ? (double)total_cycles / rtl_time / 1e6 : 0,
           c_time > 0 ? (double)total_cycles / c_time / 1e6 : 0);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    uint64_t reps = 3;
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return cmd_bench_replay(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "map"))
        return bench_map(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "examples"))
        return bench_examples_table(argc - 1, argv + 1);
    const char *model_name = "c";
    uint64_t rtl_insns = 2000000;
    const struct cli_opt opts[] = {
        {.name = "--reps", .kind = CLI_U64, .dst = &reps, .lo = 1, .hi = 1000},
        {.name = "--model", .kind = CLI_STR, .dst = &model_name},
        {.name = "--rtl-insns",
         .kind = CLI_U64,
         .dst = &rtl_insns,
         .lo = 1000,
         .hi = 1000000000,
         .why = "(instructions of each program run on the RTL)"},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] =
        "usage: nicsim bench [--reps N] [--model c|rtl [--rtl-insns N]] | nicsim bench replay "
        "[--example NAME] [--packets N] | nicsim bench map [--entries N] | nicsim bench examples\n"
        "  prints simulated instructions per second (best of N runs, cycle counting on) and CPI;\n"
        "  --model rtl: simulated core cycles per second (of thread CPU time) of the Verilated\n"
        "  RTL beside the C model's, over the first N instructions of each program (default\n"
        "  2,000,000)\n";

    nicsim_cli_set_prog("nicsim bench");
    int prc = nicsim_cli_parse_cmd(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 0,
                            &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    enum cli_model model;
    if (cli_model_parse(model_name, &model))
        return CLI_USAGE;
    if (model == CLI_MODEL_RTL)
        return bench_rtl(rtl_insns);
    printf("nicsim bench: C core model, single-issue timing, cycle counting on (best of %d)\n\n",
           (int)reps);
    printf("%-12s %12s %12s %6s %10s  %s\n", "program", "insns", "cycles", "CPI", "Minsn/s",
           "what");
    uint64_t total_insns = 0;
    double total_time = 0;
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        const struct bench_prog *bp = &programs[i];
        struct nicsim_insn *raw;
        size_t n;
        uint8_t *mem;
        struct nicsim_isa_err err = {.index = -1};
        if (bench_prog_load(bp, &raw, &n, &mem))
            return 1;
        struct nicsim_bpfconf_opts opts = {.sz = sizeof(opts), .budget = 1ull << 40};
        struct nicsim_bpfconf *env = nicsim_bpfconf__new(raw, n, mem, bp->memlen, &opts, &err);
        free(raw);
        free(mem);
        if (!env) {
            fprintf(stderr, "nicsim bench: %s: %s\n", bp->name, err.msg);
            return 1;
        }
        double best = 1e30;
        struct nicsim_run run;
        for (uint64_t r = 0; r < reps; r++) {
            double t0 = now();
            int rc = nicsim_bpfconf__exec(env, &run);
            double dt = now() - t0;
            if (rc < 0) {
                fprintf(stderr, "nicsim bench: %s: %s\n", bp->name, run.trap.msg);
                nicsim_bpfconf__free(env);
                return 1;
            }
            if (dt < best)
                best = dt;
        }
        nicsim_bpfconf__free(env);
        printf("%-12s %12" PRIu64 " %12" PRIu64 " %6.3f %10.1f  %s\n", bp->name, run.insns,
               run.cycles, (double)run.cycles / (double)run.insns, (double)run.insns / best / 1e6,
               bp->what);
        total_insns += run.insns;
        total_time += best;
    }
    printf("\nsimulated instructions per second: %.1f million (all programs, cycle counting on)\n",
           (double)total_insns / total_time / 1e6);
    return 0;
}
