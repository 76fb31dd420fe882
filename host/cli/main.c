/* SPDX-License-Identifier: MIT */
/* nicsim: command-line entry point. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"run", cmd_run, "offload an XDP object to the NIC and replay a pcap trace through it"},
    {"profile", cmd_profile,
     "a program's instructions and source lines annotated with their cost over a trace"},
    {"sweep", cmd_sweep,
     "a trace per core count and line rate: throughput, drops, latency, cores needed"},
    {"load", cmd_load, "offload every program of an XDP object and report what the NIC made of it"},
    {"demo", cmd_demo, "run the bundled examples and show what the core did, cycle by cycle"},
    {"exec", cmd_exec, "run one program (assembler text or raw bytes) on the core model"},
    {"asm", cmd_asm, "assemble conformance-syntax text to raw instruction bytes"},
    {"disasm", cmd_disasm, "disassemble raw instruction bytes"},
    {"bench", cmd_bench, "measure simulated instructions per second and cycles per instruction"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: nicsim COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'nicsim COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "nicsim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
