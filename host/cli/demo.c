/* SPDX-License-Identifier: MIT */
/*
 * nicsim demo: the bundled default. Runs the worked example of docs/microarchitecture.md with a
 * per-instruction cycle trace, then the benchmark programs.
 */
#include "cli.h"
#include "bpfconf.h"

#include <stdio.h>
#include <stdlib.h>

static const char worked_example[] = "ldxw %r2, [%r1+0]\n"
                                     "add %r2, 1\n"
                                     "jeq %r2, 5, +1\n"
                                     "mov %r0, 1\n"
                                     "exit\n";

int cmd_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("== nicsim demo: docs/microarchitecture.md's worked example, memory word = 4 ==\n");
    char path[] = "/tmp/nicsim-demo-XXXXXX.s";
    int fd = mkstemps(path, 2);
    if (fd < 0) {
        perror("nicsim demo: mkstemps");
        return 1;
    }
    FILE *f = fdopen(fd, "w");
    fputs(worked_example, f);
    fclose(f);
    char *exec_argv[] = {"exec", path, "--mem", "04000000", "--trace", NULL};
    int rc = cmd_exec(5, exec_argv);
    remove(path);
    if (rc)
        return rc;
    printf("\n");
    char *bench_argv[] = {"bench", "--reps", "1", NULL};
    return cmd_bench(3, bench_argv);
}
