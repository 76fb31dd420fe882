/* SPDX-License-Identifier: MIT */
/*
 * nicsim-plugin: drives the nicsim core from upstream bpf_conformance's runner.
 *
 *   nicsim-plugin [MEMORY_HEX] [--model c|rtl] [--budget N] [--stats] [--wave F.fst]
 *
 * Reads the program as hex bytes on standard input, prints r0 in hex on standard output and exits
 * 0; on a refused program or a trap, exits 1 with the reason on standard error.
 */
#include "nicsim/util.h"
#include "bpfconf.h"
#include "opt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nicsim-plugin [MEMORY_HEX] [--model c|rtl] [--budget N] [--stats] [--wave F.fst]\n"
            "  program: hex bytes on standard input; prints r0 in hex\n"
            "  --model M     c: the C cycle model; rtl: the Verilated RTL core (if built)\n"
            "  --budget N    instruction budget before the watchdog ends the run (1..10000000000)\n"
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
    int rc = nicsim_rtl__run_conf(rtl, (const struct nicsim_insn *)prog, n, mem, memlen, NULL,
                                  budget, nicsim_bpfconf_helpers(), NULL, NULL, run, err);
    nicsim_rtl__free(rtl);
    return rc;
}
#define HAVE_RTL 1
#define MODELS   "c, rtl"
#else
#define HAVE_RTL 0
#define MODELS   "c"
#endif

int main(int argc, char **argv)
{
    const char *memhex = NULL, *model = "c", *wave = NULL;
    uint64_t budget = 0;
    bool stats = false;
    const struct cli_opt opts[] = {
        {.name = "--model", .kind = CLI_STR, .dst = &model},
        {.name = "--budget",
         .kind = CLI_U64,
         .dst = &budget,
         .lo = 1,
         .hi = NICSIM_BPFCONF_MAX_BUDGET,
         .why = "(instructions before the watchdog)"},
        {.name = "--stats", .kind = CLI_FLAG, .dst = &stats},
        {.name = "--wave", .kind = CLI_STR, .dst = &wave},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;

    nicsim_cli_set_prog("nicsim-plugin");
    int prc = nicsim_cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1, &n_pos);
    if (prc == CLI_HELP) {
        usage(stdout);
        return 0;
    }
    if (prc) {
        usage(stderr);
        return CLI_USAGE;
    }
    bool rtl = HAVE_RTL && !strcmp(model, "rtl");
    if (strcmp(model, "c") != 0 && !rtl) {
        fprintf(stderr,
                "nicsim-plugin: --model: model '%s' is not available (this build has: " MODELS ")\n",
                model);
        return CLI_USAGE;
    }
    if (wave && !rtl) {
        fprintf(stderr, "nicsim-plugin: --wave needs --model rtl (the C model has no waveform)\n");
        return CLI_USAGE;
    }
    memhex = n_pos ? pos[0] : NULL;

    uint8_t *mem = NULL, *prog = NULL;
    long memlen = 0;
    char why[128];
    if (memhex) {
        memlen = nicsim_bpfconf_parse_hex_err(memhex, &mem, why, sizeof(why));
        if (memlen < 0) {
            fprintf(stderr, "nicsim-plugin: the memory argument is not hex bytes: %s\n", why);
            return 1;
        }
    }
    size_t len = 0;
    char *text = nicsim_read_limited(stdin, NICSIM_BPFCONF_HEX_LIMIT, true, &len);
    if (!text) {
        if (errno == EFBIG)
            fprintf(stderr,
                    "nicsim-plugin: the program on standard input is longer than %zu bytes, the "
                    "most %u instructions take as hex\n",
                    (size_t)NICSIM_BPFCONF_HEX_LIMIT, NICSIM_ISA_MAX_INSNS);
        else if (errno == EILSEQ)
            fprintf(stderr,
                    "nicsim-plugin: the program on standard input has a NUL byte at offset %zu: "
                    "not hex text\n",
                    len);
        else
            fprintf(stderr, "nicsim-plugin: cannot read the program: %s\n", strerror(errno));
        free(mem);
        return 1;
    }
    long plen = nicsim_bpfconf_parse_hex_err(text, &prog, why, sizeof(why));
    free(text);
    if (plen < 0 || plen % 8 != 0) {
        if (plen >= 0)
            snprintf(why, sizeof(why), "%ld bytes is not a whole number of 8-byte instructions",
                     plen);
        fprintf(stderr, "nicsim-plugin: the program must be hex bytes, a multiple of 8: %s\n", why);
        free(mem);
        if (plen >= 0)
            free(prog);
        return 1;
    }
    struct nicsim_run run;
    struct nicsim_isa_err err = {.index = -1};
    struct nicsim_bpfconf_opts bopts = {.sz = sizeof(bopts), .budget = budget};
    int rc;
#ifdef NICSIM_HAVE_RTL
    if (rtl)
        rc = run_rtl(prog, (size_t)plen / 8, mem, (size_t)memlen, budget, wave, &run, &err);
    else
#endif
        rc = nicsim_bpfconf_run((const struct nicsim_insn *)prog, (size_t)plen / 8, mem,
                                (size_t)memlen, &bopts, &run, &err);
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
