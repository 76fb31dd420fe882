/* SPDX-License-Identifier: MIT */
/*
 * nicsim-plugin: drives the nicsim core from upstream bpf_conformance's runner.
 *
 *   nicsim-plugin [MEMORY_HEX] [--model c|rtl] [--budget N] [--stats]
 *
 * Reads the program as hex bytes on standard input, prints r0 in hex on standard output and exits
 * 0; on a refused program or a trap, exits 1 with the reason on standard error.
 */
#include "nicsim/util.h"
#include "bpfconf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: nicsim-plugin [MEMORY_HEX] [--model c|rtl] [--budget N] [--stats]\n"
               "  program: hex bytes on standard input; prints r0 in hex\n"
               "  --model M     c: the C cycle model; rtl: the Verilated RTL core (if built)\n"
               "  --budget N    instruction budget before the watchdog ends the run\n"
               "  --stats       print instructions and cycles on standard error\n"
               "  --wave F.fst  with --model rtl: write the run's waveform (gtkwave)\n");
}

#ifdef NICSIM_HAVE_RTL
#include "rtl.h"
/* --model rtl: the same environment on the Verilated RTL core (sim/rtl). */
static int run_rtl(const uint8_t *prog, size_t n, const uint8_t *mem, size_t memlen,
                   uint64_t budget, const char *wave, struct nicsim_run *run,
                   struct nicsim_isa_err *err)
{
    struct nicsim_rtl *rtl = nicsim_rtl__new();
    if (!rtl)
        return -ENOMEM;
    if (wave && nicsim_rtl__set_wave(rtl, wave) < 0) {
        snprintf(err->msg, sizeof(err->msg), "cannot write the waveform %s (an .fst file)", wave);
        nicsim_rtl__free(rtl);
        return -EINVAL;
    }
    int rc = nicsim_rtl__run_conf(rtl, (const struct nicsim_insn *)prog, n, mem, memlen, NULL, budget,
                                  nicsim_bpfconf_helpers(), NULL, NULL, run, err);
    nicsim_rtl__free(rtl);
    return rc;
}
#define MODELS "c, rtl"
#else
#define MODELS "c"
#endif

int main(int argc, char **argv)
{
    int rtl = 0;
    const char *wave = NULL; /* --wave FILE.fst (--model rtl) */
    const char *memhex = NULL;
    uint64_t budget = 0;
    int stats = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            ++i;
#ifdef NICSIM_HAVE_RTL
            rtl = !strcmp(argv[i], "rtl");
#endif
            if (strcmp(argv[i], "c") != 0 && !rtl) {
                fprintf(stderr,
                        "nicsim-plugin: model '%s' is not available (this build has: " MODELS ")\n",
                        argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--budget") && i + 1 < argc) {
            budget = strtoull(argv[++i], NULL, 0);
        } else if (!strcmp(argv[i], "--wave") && i + 1 < argc) {
            wave = argv[++i];
        } else if (!strcmp(argv[i], "--stats")) {
            stats = 1;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "nicsim-plugin: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!memhex) {
            memhex = argv[i];
        } else {
            fprintf(stderr, "nicsim-plugin: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }

    if (wave && !rtl) {
        fprintf(stderr, "nicsim-plugin: --wave needs --model rtl (the C model has no waveform)\n");
        return 2;
    }
    uint8_t *mem = NULL, *prog = NULL;
    long memlen = 0;
    if (memhex) {
        memlen = nicsim_bpfconf_parse_hex(memhex, &mem);
        if (memlen < 0) {
            fprintf(stderr, "nicsim-plugin: memory argument is not hex bytes\n");
            return 1;
        }
    }
    char *text = nicsim_read_all(stdin, NULL);
    if (!text) {
        fprintf(stderr, "nicsim-plugin: cannot read the program: %s\n", strerror(errno));
        return 1;
    }
    long plen = nicsim_bpfconf_parse_hex(text, &prog);
    free(text);
    if (plen < 0 || plen % 8 != 0) {
        fprintf(stderr, "nicsim-plugin: program must be hex bytes, a multiple of 8 (got %s)\n",
                plen < 0 ? "non-hex text" : "a partial instruction");
        free(mem);
        if (plen >= 0)
            free(prog);
        return 1;
    }
    struct nicsim_run run;
    struct nicsim_isa_err err = {.index = -1};
    struct nicsim_bpfconf_opts opts = {.sz = sizeof(opts), .budget = budget};
    int rc;
#ifdef NICSIM_HAVE_RTL
    if (rtl)
        rc = run_rtl(prog, (size_t)plen / 8, mem, (size_t)memlen, budget, wave, &run, &err);
    else
#endif
        rc = nicsim_bpfconf_run((const struct nicsim_insn *)prog, (size_t)plen / 8, mem,
                                (size_t)memlen, &opts, &run, &err);
    free(prog);
    free(mem);
    if (rc == -EINVAL) {
        fprintf(stderr, "nicsim-plugin: program refused: %s\n", err.msg);
        return 1;
    }
    if (stats)
        fprintf(stderr, "insns %" PRIu64 " cycles %" PRIu64 "\n", run.insns, run.cycles);
    if (rc < 0) {
        fprintf(stderr, "nicsim-plugin: %s\n", run.trap.msg);
        return 1;
    }
    printf("%" PRIx64 "\n", run.r0);
    return 0;
}
