/* SPDX-License-Identifier: MIT */
/* Subcommands of the nicsim command line. Each returns the process exit status. */
#ifndef NICSIM_CLI_H
#define NICSIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicsim/isa.h"

int cmd_bench(int argc, char **argv);
int cmd_asm(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_bench_replay(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
/* bench_report.c: the replay's speed without a report, with --json and with --json-lines. */
int bench_report_figure(const char *obj, const char *trace, const char *maps, uint64_t total);
/* bench_report.c: nicsim bench examples, the README's table of the examples. */
int bench_examples_table(int argc, char **argv);

struct nicsim_run;
void cli_print_run(const struct nicsim_run *run);

/* Reads a whole file (NUL-terminated) of at most `limit` bytes (`what` says what that limit
 * holds, for the message); NULL with a message on stderr naming the file. */
char *cli_read_file(const char *path, size_t limit, bool text, const char *what, size_t *len);
/* Loads a program: assembler text (.s/.asm/.data with an `-- asm` section) or raw bytes (.bin,
 * .o is not accepted here). Prints a message naming the file and line on failure. */
int cli_load_program(const char *path, struct nicsim_insn **out, size_t *n);

#endif
