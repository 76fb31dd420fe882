/* SPDX-License-Identifier: MIT */
/* nicsim asm / disasm / exec, and the file helpers the subcommands share. */
#include "cli.h"
#include "bpfconf.h"
#include "nicsim/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "nicsim: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = nicsim_read_all(f, len);
    fclose(f);
    if (!buf)
        fprintf(stderr, "nicsim: cannot read %s: %s\n", path, strerror(errno));
    return buf;
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
    size_t len;
    char *text = cli_read_file(path, &len);
    if (!text)
        return -1;
    if (has_suffix(path, ".bin")) {
        if (len == 0 || len % 8) {
            fprintf(stderr, "nicsim: %s: %zu bytes is not a whole number of 8-byte instructions\n",
                    path, len);
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
    if (has_suffix(path, ".o")) {
        fprintf(stderr, "nicsim: %s: ELF objects are loaded by 'nicsim run', not here\n", path);
        free(text);
        return -1;
    }
    struct nicsim_isa_err err = {.index = -1};
    int rc = nicsim_asm(asm_section(text), out, n, &err);
    free(text);
    if (rc < 0) {
        fprintf(stderr, "nicsim: %s:%ld: %s\n", path, err.index, err.msg);
        return -1;
    }
    return 0;
}

int cmd_asm(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[2], "-o")) {
        fprintf(stderr, "usage: nicsim asm SOURCE -o OUT.bin\n");
        return 2;
    }
    struct nicsim_insn *prog;
    size_t n;
    if (cli_load_program(argv[1], &prog, &n) < 0)
        return 1;
    FILE *f = fopen(argv[3], "wb");
    if (!f || fwrite(prog, sizeof(*prog), n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "nicsim: cannot write %s: %s\n", argv[3], strerror(errno));
        free(prog);
        return 1;
    }
    free(prog);
    return 0;
}

int cmd_disasm(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: nicsim disasm PROGRAM(.bin|.s)\n");
        return 2;
    }
    struct nicsim_insn *prog;
    size_t n;
    if (cli_load_program(argv[1], &prog, &n) < 0)
        return 1;
    char *text = nicsim_disasm(prog, n);
    free(prog);
    if (!text) {
        fprintf(stderr, "nicsim: %s: cannot disassemble: %s\n", argv[1], strerror(errno));
        return 1;
    }
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
    const char *path = NULL, *memhex = NULL;
    int trace = 0;
    uint64_t budget = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--trace"))
            trace = 1;
        else if (!strcmp(argv[i], "--mem") && i + 1 < argc)
            memhex = argv[++i];
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
            budget = strtoull(argv[++i], NULL, 0);
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else {
            fprintf(stderr, "usage: nicsim exec PROGRAM [--mem HEX] [--trace] [--budget N]\n"
                            "  runs PROGRAM with r1 = the memory block, r2 = its length\n");
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: nicsim exec PROGRAM [--mem HEX] [--trace] [--budget N]\n");
        return 2;
    }
    struct nicsim_insn *prog;
    size_t n;
    if (cli_load_program(path, &prog, &n) < 0)
        return 1;
    uint8_t *mem = NULL;
    long memlen = 0;
    if (memhex && (memlen = nicsim_bpfconf_parse_hex(memhex, &mem)) < 0) {
        fprintf(stderr, "nicsim: --mem: not hex bytes\n");
        free(prog);
        return 1;
    }
    struct trace_ctx tc = {prog, n};
    struct nicsim_bpfconf_opts opts = {.sz = sizeof(opts),
                                       .budget = budget,
                                       .trace = trace ? print_trace : NULL,
                                       .trace_user = &tc};
    struct nicsim_run run;
    struct nicsim_isa_err err = {.index = -1};
    if (trace)
        printf("     pc  instruction                           cost     cycle\n");
    int rc = nicsim_bpfconf_run(prog, n, mem, (size_t)memlen, &opts, &run, &err);
    free(prog);
    free(mem);
    if (rc == -EINVAL) {
        fprintf(stderr, "nicsim: %s: refused: %s\n", path, err.msg);
        return 1;
    }
    cli_print_run(&run);
    if (rc < 0) {
        fprintf(stderr, "nicsim: %s: %s\n", path, run.trap.msg);
        return 1;
    }
    return 0;
}
