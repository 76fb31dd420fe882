/* SPDX-License-Identifier: MIT */
/* nicsim asm / disasm / exec, and the file helpers the subcommands share. */
#include "cli.h"
#include "bpfconf.h"
#include "model.h"
#include "nicsim/util.h"
#include "opt.h"
#include "outfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cli_read_file(const char *path, size_t limit, bool text, const char *what, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s: %s\n", nicsim_cli_prog(), path, strerror(errno));
        return NULL;
    }
    size_t n = 0;
    char *buf = nicsim_read_limited(f, limit, text, &n);
    int e = errno;
    fclose(f);
    if (buf) {
        *len = n;
        return buf;
    }
    if (e == EFBIG)
        fprintf(stderr, "%s: %s: longer than %zu bytes, the most %s of %u instructions can take\n",
                nicsim_cli_prog(), path, limit, what, NICSIM_ISA_MAX_INSNS);
    else if (e == EISDIR)
        fprintf(stderr, "%s: %s: is a directory\n", nicsim_cli_prog(), path);
    else if (e == EILSEQ) {
        size_t line = 1;
        f = fopen(path, "rb");
        for (size_t i = 0; f && i < n; i++) {
            int c = fgetc(f);
            if (c == EOF)
                break;
            line += c == '\n';
        }
        if (f)
            fclose(f);
        fprintf(stderr, "%s: %s:%zu: a NUL byte (offset %zu): %s has none\n", nicsim_cli_prog(), path,
                line, n, what);
    } else
        fprintf(stderr, "%s: cannot read %s: %s\n", nicsim_cli_prog(), path, strerror(e));
    return NULL;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The `-- asm` section of a conformance .data file, or the whole text. */
static const char *asm_section(char *text)
{
    char *p = strstr(text, "-- asm");
    if (!p)
        return text;
    p = strchr(p, '\n');
    if (!p)
        return "";
    p++;
    for (char *q = p; *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : q + strlen(q)) {
        if (!strncmp(q, "-- ", 3)) {
            *q = 0;
            break;
        }
    }
    return p;
}

int cli_load_program(const char *path, struct nicsim_insn **out, size_t *n)
{
    size_t len = 0;
    bool bin = has_suffix(path, ".bin");
    if (has_suffix(path, ".o")) {
        fprintf(stderr, "%s: %s: ELF objects are loaded by 'nicsim run', not here\n", nicsim_cli_prog(),
                path);
        return -1;
    }
    char *text = bin ? cli_read_file(path, NICSIM_BPFCONF_BIN_LIMIT, false, "a program", &len)
                     : cli_read_file(path, NICSIM_BPFCONF_ASM_LIMIT, true, "assembler text", &len);
    if (!text)
        return -1;
    if (bin) {
        if (len == 0 || len % 8) {
            fprintf(stderr, "%s: %s: %zu bytes is not a whole number of 8-byte instructions\n",
                    nicsim_cli_prog(), path, len);
            free(text);
            return -1;
        }
        *out = malloc(len);
        if (!*out) {
            free(text);
            return -1;
        }
        memcpy(*out, text, len);
        *n = len / 8;
        free(text);
        return 0;
    }
    struct nicsim_isa_err err = {.index = -1};
    int rc = nicsim_asm(asm_section(text), out, n, &err);
    free(text);
    if (rc < 0) {
        if (err.index > 0)
            fprintf(stderr, "%s: %s:%ld: %s\n", nicsim_cli_prog(), path, err.index, err.msg);
        else
            fprintf(stderr, "%s: %s: %s%s\n", nicsim_cli_prog(), path, err.msg,
                    len == 0 ? " (the file is empty)" : "");
        return -1;
    }
    return 0;
}

int cmd_asm(int argc, char **argv)
{
    const char *outp = NULL;
    const struct cli_opt opts[] = {
        {.name = "-o", .kind = CLI_STR, .dst = &outp},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] = "usage: nicsim asm SOURCE -o OUT.bin\n";

    nicsim_cli_set_prog("nicsim asm");
    int prc = nicsim_cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1, &n_pos);
    if (prc == CLI_HELP) {
        fputs(use, stdout);
        return 0;
    }
    if (prc || n_pos != 1 || !outp) {
        fputs(use, stderr);
        return CLI_USAGE;
    }
    const struct cli_file files[] = {{"SOURCE", pos[0], false}, {"-o", outp, true}};
    if (nicsim_cli_files_check(files, 2))
        return CLI_USAGE;
    struct nicsim_insn *prog;
    size_t n;
    if (cli_load_program(pos[0], &prog, &n) < 0)
        return 1;
    struct cli_out o;
    nicsim_cli_signals_install();
    if (nicsim_cli_out_begin(&o, "-o", outp)) {
        free(prog);
        return 1;
    }
    FILE *f = fopen(nicsim_cli_out_path(&o), "wb");
    bool ok = f && fwrite(prog, sizeof(*prog), n, f) == n;
    ok = f && fclose(f) == 0 && ok;
    free(prog);
    if (!ok) {
        fprintf(stderr, "nicsim asm: cannot write %s: %s\n", outp, strerror(errno));
        nicsim_cli_out_abort(&o);
        return 1;
    }
    return nicsim_cli_out_commit(&o);
}

int cmd_disasm(int argc, char **argv)
{
    const struct cli_opt opts[] = {{.name = "--help", .kind = CLI_HELPOPT}};
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] = "usage: nicsim disasm PROGRAM(.bin|.s)\n";

    nicsim_cli_set_prog("nicsim disasm");
    int prc = nicsim_cli_parse_cmd(argc, argv, opts, 1, NULL, pos, 1, &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    struct nicsim_insn *prog;
    size_t n;
    if (cli_load_program(pos[0], &prog, &n) < 0)
        return 1;
    char *text = nicsim_disasm(prog, n);
    if (!text) {
        /* the instruction that cannot be disassembled, and why */
        char line[192];
        size_t i = 0;
        int rc = 0;
        while (i < n && (rc = nicsim_disasm_insn(&prog[i], n - i, line, sizeof(line))) > 0)
            i += (size_t)rc;
        const char *why = strncmp(line, "<invalid: ", 10) ? line : line + 10;
        size_t wl = strlen(why);
        if (i < n)
            fprintf(stderr, "nicsim disasm: %s: instruction %zu (byte offset %zu): %.*s\n", pos[0],
                    i, i * 8, (int)(why != line && wl ? wl - 1 : wl), why);
        else
            fprintf(stderr, "nicsim disasm: %s: cannot disassemble: %s\n", pos[0], strerror(errno));
        free(prog);
        return 1;
    }
    free(prog);
    fputs(text, stdout);
    free(text);
    return 0;
}

struct trace_ctx {
    const struct nicsim_insn *raw;
    size_t n;
};

static void print_trace(void *user, const struct nicsim_trace_rec *rec)
{
    const struct trace_ctx *t = user;
    char text[128] = "";
    if (rec->pc < t->n)
        nicsim_disasm_insn(&t->raw[rec->pc], t->n - rec->pc, text, sizeof(text));
    printf("  %5u  %-36s  +%-3u  %8" PRIu64 "\n", rec->pc, text, rec->cycles, rec->cycle);
}

void cli_print_run(const struct nicsim_run *run)
{
    const struct nicsim_stalls *s = &run->stalls;
    printf("r0 = 0x%" PRIx64 " (%" PRId64 ")\n", run->r0, (int64_t)run->r0);
    printf("instructions %" PRIu64 ", cycles %" PRIu64 ", CPI %.3f\n", run->insns, run->cycles,
           run->insns ? (double)run->cycles / (double)run->insns : 0.0);
    printf("stalls: load-use %" PRIu64 ", memory %" PRIu64 ", branch %" PRIu64 ", jump %" PRIu64
           ", call %" PRIu64 ", mul/div %" PRIu64 ", helper %" PRIu64 "\n",
           s->load_use, s->memory, s->branch, s->jump, s->call, s->muldiv, s->helper);
}

int cmd_exec(int argc, char **argv)
{
    const char *memhex = NULL, *model_name = "c", *wave = NULL;
    bool trace = false, lockstep = false;
    uint64_t budget = 0;
    const struct cli_opt opts[] = {
        {.name = "--trace", .kind = CLI_FLAG, .dst = &trace},
        {.name = "--model", .kind = CLI_STR, .dst = &model_name},
        {.name = "--lockstep", .kind = CLI_FLAG, .dst = &lockstep},
        {.name = "--wave", .kind = CLI_STR, .dst = &wave},
        {.name = "--mem", .kind = CLI_STR, .dst = &memhex},
        {.name = "--budget",
         .kind = CLI_U64,
         .dst = &budget,
         .lo = 1,
         .hi = NICSIM_BPFCONF_MAX_BUDGET,
         .why = "(instructions before the watchdog)"},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] =
        "usage: nicsim exec PROGRAM [--mem HEX] [--trace] [--budget N] [--model c|rtl]\n"
        "                   [--lockstep] [--wave FILE.fst]\n"
        "  runs PROGRAM with r1 = the memory block, r2 = its length\n"
        "  --model rtl   on the Verilated RTL core; --lockstep: on both models, every retired\n"
        "                instruction compared (exit 3 at the first divergence)\n"
        "  --wave F.fst  the RTL run's waveform (with --model rtl or --lockstep)\n";

    nicsim_cli_set_prog("nicsim exec");
    int prc = nicsim_cli_parse_cmd(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1,
                            &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    enum cli_model model;
    if (cli_model_parse(model_name, &model))
        return CLI_USAGE;
    if (wave && model != CLI_MODEL_RTL && !lockstep) {
        fprintf(stderr, "nicsim exec: --wave: only an RTL run has a waveform (--model rtl or "
                        "--lockstep)\n");
        return CLI_USAGE;
    }
    if (lockstep && trace) {
        fprintf(stderr, "nicsim exec: --lockstep and --trace: give one of them\n");
        return CLI_USAGE;
    }
    const char *path = pos[0];
    struct nicsim_insn *prog;
    size_t n;
    uint8_t *mem = NULL;
    long memlen = 0;
    char why[128];
    if (memhex && (memlen = nicsim_bpfconf_parse_hex_err(memhex, &mem, why, sizeof(why))) < 0) {
        fprintf(stderr, "nicsim exec: --mem: not hex bytes: %s\n", why);
        return CLI_USAGE;
    }
    if (cli_load_program(path, &prog, &n) < 0) {
        free(mem);
        return 1;
    }
    if (lockstep) {
        int ls = cli_exec_lockstep(path, prog, n, mem, (size_t)memlen, budget, wave);
        free(prog);
        free(mem);
        return ls;
    }
    struct trace_ctx tc = {prog, n};
    struct nicsim_bpfconf_opts opts2 = {.sz = sizeof(opts2),
                                        .budget = budget,
                                        .trace = trace ? print_trace : NULL,
                                        .trace_user = &tc};
    struct nicsim_run run;
    struct nicsim_isa_err err = {.index = -1};
    if (trace)
        printf("     pc  instruction                           cost     cycle\n");
    int rc = model == CLI_MODEL_RTL
                 ? cli_exec_rtl(prog, n, mem, (size_t)memlen, budget, opts2.trace, &tc, wave,
                                &run, &err)
                 : nicsim_bpfconf_run(prog, n, mem, (size_t)memlen, &opts2, &run, &err);
    free(prog);
    free(mem);
    if (rc == -ENODEV)
        return 1;
    if (rc == -EINVAL) {
        fprintf(stderr, "nicsim exec: %s: refused: %s\n", path, err.msg);
        return 1;
    }
    cli_print_run(&run);
    if (rc < 0) {
        fprintf(stderr, "nicsim exec: %s: %s\n", path, run.trap.msg);
        return 1;
    }
    return 0;
}
