/* SPDX-License-Identifier: MIT */
/*
 * nicsim bench: simulated instructions per second of the C core model, with cycle counting on,
 * over loop-heavy programs; and the cycles per instruction the microarchitecture gives them.
 */
#include "cli.h"
#include "bpfconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int cmd_bench(int argc, char **argv)
{
    int reps = 3;
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return cmd_bench_replay(argc - 1, argv + 1);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1)
                reps = 1;
        } else {
            fprintf(stderr, "usage: nicsim bench [--reps N] | nicsim bench replay [--packets N]\n"
                            "  prints simulated instructions per second (best of N runs, cycle "
                            "counting on) and CPI\n");
            return 2;
        }
    }
    printf("nicsim bench: C core model, single-issue timing, cycle counting on (best of %d)\n\n",
           reps);
    printf("%-12s %12s %12s %6s %10s  %s\n", "program", "insns", "cycles", "CPI", "Minsn/s",
           "what");
    uint64_t total_insns = 0;
    double total_time = 0;
    for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
        const struct bench_prog *bp = &programs[i];
        struct nicsim_insn *raw;
        size_t n;
        struct nicsim_isa_err err = {.index = -1};
        if (nicsim_asm(bp->text, &raw, &n, &err) < 0) {
            fprintf(stderr, "nicsim bench: %s: line %ld: %s\n", bp->name, err.index, err.msg);
            return 1;
        }
        uint8_t *mem = calloc(1, bp->memlen ? bp->memlen : 1);
        for (size_t j = 0; j < bp->memlen; j++)
            mem[j] = (uint8_t)(j * 7 + 1);
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
        for (int r = 0; r < reps; r++) {
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
