/* SPDX-License-Identifier: MIT */
/*
 * nicsim demo: the bundled default. Every example XDP program (examples/) is offloaded to the
 * simulated NIC with its initial maps and replayed over its trace, next to the host kernel
 * (BPF_PROG_TEST_RUN) when bpf() is available: the whole story in one command.
 */
#include "cli.h"
#include "opt.h"
#include "run.h"

#include "nicsim/kref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef NICSIM_EXAMPLES_DIR
#define NICSIM_EXAMPLES_DIR "examples"
#endif
#ifndef NICSIM_EXAMPLES_SOURCE_DIR
#define NICSIM_EXAMPLES_SOURCE_DIR "examples"
#endif

static const struct {
    const char *name, *what;
    const char *prog;   /* --prog, where the object has several XDP programs */
    const char *ignore; /* --ignore-bytes: map bytes derived from the clock */
} examples[] = {
    {"firewall", "stateful firewall: LRU flow table, rule hash, per-CPU counters", NULL,
     "flows:0:8"},
    {"l4lb", "L4 load balancer: checksum rewrites (csum_diff), XDP_TX", NULL, NULL},
    {"ipip", "IP-in-IP tunnel: adjust_head encapsulation and decapsulation", NULL, NULL},
    {"router", "LPM router: longest-prefix match, redirect_map over a devmap", NULL, NULL},
    {"parser", "parser: tail calls through a prog array, metadata (adjust_meta)", "xdp_parser",
     NULL},
};

int cmd_demo(int argc, char **argv)
{
    const char *objdir = NICSIM_EXAMPLES_DIR, *srcdir = NICSIM_EXAMPLES_SOURCE_DIR;
    bool kernel = true;
    int worst = 0;
    char skipped[512] = ""; /* examples this kernel could not run */

    bool no_kernel = false, examples_given = false;
    const struct cli_opt opts[] = {
        {.name = "--no-kernel", .kind = CLI_FLAG, .dst = &no_kernel},
        {.name = "--examples", .kind = CLI_STR, .dst = &objdir, .seen = &examples_given},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] = "usage: nicsim demo [--no-kernel] [--examples OBJDIR SRCDIR]\n";

    nicsim_cli_set_prog("nicsim demo");
    int prc = nicsim_cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1, &n_pos);
    if (prc == CLI_HELP) {
        fputs(use, stdout);
        return 0;
    }
    /* --examples OBJDIR SRCDIR: SRCDIR is the one positional argument */
    if (prc || n_pos != (examples_given ? 1u : 0u)) {
        fputs(use, stderr);
        return CLI_USAGE;
    }
    if (examples_given)
        srcdir = pos[0];
    kernel = !no_kernel;
    char why[256] = "";
    if (kernel && nicsim_kref__unavailable(nicsim_kref__probe(why, sizeof(why)))) {
        printf("nicsim demo: the kernel refuses bpf() (%s): the NIC runs alone, without the "
               "comparison.\n",
               why);
        kernel = false;
    }
    printf("nicsim demo: each example XDP object is offloaded to a simulated 2-port, 4-core NIC\n"
           "(emulated kernel -> NIC driver -> PCIe BAR -> firmware -> cores), its trace replayed\n"
           "through the MAC, and every packet compared with the host kernel's own run of the\n"
           "same object (BPF_PROG_TEST_RUN). Per-packet reports: `nicsim run ... --json FILE`.\n");
    for (size_t e = 0; e < sizeof(examples) / sizeof(examples[0]); e++) {
        char obj[1024], pcap[1024], maps[1024];
        struct run_opts o;
        char *args[8] = {"run", obj, "--pcap", pcap};
        int nargs = 4;

        snprintf(obj, sizeof(obj), "%s/%s.bpf.o", objdir, examples[e].name);
        snprintf(pcap, sizeof(pcap), "%s/traces/%s.pcap", srcdir, examples[e].name);
        snprintf(maps, sizeof(maps), "%s/%s.maps", srcdir, examples[e].name);
        printf("\n== %s — %s\n   nicsim run %s --pcap %s --maps-dir %s%s%s%s%s%s\n",
               examples[e].name, examples[e].what, obj, pcap, maps,
               examples[e].prog ? " --prog " : "", examples[e].prog ? examples[e].prog : "",
               examples[e].ignore ? " --ignore-bytes " : "",
               examples[e].ignore ? examples[e].ignore : "", kernel ? " --compare-kernel" : "");
        fflush(stdout);
        if (examples[e].prog) {
            args[nargs++] = "--prog";
            args[nargs++] = (char *)examples[e].prog;
        }
        if (examples[e].ignore) {
            args[nargs++] = "--ignore-bytes";
            args[nargs++] = (char *)examples[e].ignore;
        }
        if (run_parse_args(nargs, args, &o))
            return 1;
        o.maps_dir = access(maps, F_OK) == 0 ? maps : NULL;
        o.compare_kernel = kernel;
        o.progress = false;
        bool kernel_skipped = false;
        o.kernel_skipped = &kernel_skipped;
        int rc = nicsim_run_main(&o);
        if (kernel_skipped)
            snprintf(skipped + strlen(skipped), sizeof(skipped) - strlen(skipped), "%s%s",
                     skipped[0] ? ", " : "", examples[e].name);
        fflush(stdout);
        if (rc > worst)
            worst = rc;
    }
    if (worst == 0 && kernel && skipped[0])
        printf("\ndemo: every example ran; NIC and kernel agree where this kernel runs the "
               "program (not compared: %s, see above).\n",
               skipped);
    else
        printf("\n%s\n", worst == 0 && !kernel ? "demo: every example ran on the NIC."
                         : worst == 0          ? "demo: every example ran; NIC and kernel agree."
                         : worst == 3 ? "demo: the NIC and the kernel disagree (see above)."
                                      : "demo: an example failed (see above).");
    return worst;
}
