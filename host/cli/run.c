/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/*
 * nicsim run: offload an XDP object to the simulated NIC the way a user would on Linux (maps
 * created with map_ifindex, the program loaded with prog_ifindex and attached in HW mode, all
 * through the emulated kernel, the NIC driver, the BAR and the firmware), replay a trace through
 * the NIC's MAC and cores, and report per packet; optionally the same object in the host kernel
 * through libbpf and BPF_PROG_TEST_RUN, compared packet by packet and map by map.
 */
#include "run_int.h"
#include "model.h"

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: nicsim run OBJECT.o --pcap TRACE [options]\n"
        "\n"
        "Offloads the XDP program of OBJECT.o to the simulated NIC (emulated kernel, NIC\n"
        "driver, PCIe BAR, firmware) and replays TRACE through the NIC's MAC and cores.\n"
        "\n"
        "  --prog NAME              program by function name, else by section name\n"
        "                           (default: the only XDP one)\n"
        "  --map NAME=FILE          initial entries of a map, bpftool's `map dump -j` JSON;\n"
        "                           global data by section (.rodata, .data, .bss); a map of\n"
        "                           maps' values may name inner maps (\"value\": \"NAME\");\n"
        "                           repeatable\n"
        "  --maps-dir DIR           --map NAME=DIR/NAME.json for every .json file in DIR\n"
        "  --prog-array MAP:INDEX=PROG  an entry of a prog array (tail calls); repeatable\n"
        "  --json FILE              per-packet report and summary (JSON; FILE.jsonl: JSON Lines)\n"
        "  --json-lines FILE        the same as JSON Lines: one packet object per line, the\n"
        "                           summary last, each with a \"type\" key\n"
        "  --report DIR             report.json, packets.csv (a row per packet), plots (PNG and\n"
        "                           SVG) and index.html showing them with the summary\n"
        "  --out-pcap FILE          packets as they leave the program (pcapng, one interface\n"
        "                           per egress, verdict in each packet's comment)\n"
        "  --dump-maps FILE         final contents of every map (bpftool JSON, by map name)\n"
        "  --events FILE            perf event / ring buffer records (JSON lines)\n"
        "  --plot FILE.png          cycles per packet along the trace and their distribution\n"
        "                           (gnuplot; with --compare-kernel the kernel's ns beside)\n"
        "  --compare-kernel         run the same object in the host kernel and compare\n"
        "  --ignore-bytes MAP:OFFSET:LEN  leave these value bytes out of the map comparison\n"
        "                           (values derived from ktime_get_ns or get_prandom_u32)\n"
        "  --kernel-repeat N        BPF_PROG_TEST_RUN repeat for the kernel's timing (64)\n"
        "  --clock-mhz MHZ          core clock (250)\n"
        "  --rate GBPS              frames arrive back to back at this line rate (default:\n"
        "                           at the trace's timestamps); shows whether the cores keep up;\n"
        "                           each --pcap PORT=FILE back to back on its port\n"
        "  --cores N                NIC cores (4)      --ports N   NIC ports (2)\n"
        "  --mtu BYTES              port MTU (1500; at most 3502: a frame must fit the\n"
        "                           NIC's 3520-byte XDP buffer)\n"
        "  --seed N                 prandom seed (0)\n"
        "  --budget N               instructions per packet before the watchdog\n"
        "                           (1..10000000000; default 16777216)\n"
        "  --count N                stop after N packets\n"
        "  --model c|rtl            the cores: the C model (c) or the Verilated RTL core (rtl,\n"
        "                           same report; builds with Verilator only)\n"
        "  --wave FILE.fst          with --model rtl: the RTL's waveform (FST; fst2vcd makes a\n"
        "                           VCD of it)\n"
        "  --wave-packets N-M       only packets N to M (from 0, those reaching a core)\n"
        "  --lockstep               the RTL core and the C model side by side on every packet,\n"
        "                           every retired instruction compared; the first divergence\n"
        "                           ends the run (exit status 3) with both states\n"
        "  --ingress-port N         the port the trace arrives on (0)\n"
        "The SystemC NIC (docs/nic-model.md):\n"
        "  --pcap PORT=FILE         a trace arriving on PORT; repeatable, the files merged by\n"
        "                           timestamp (a pcapng interface i enters on PORT + i)\n"
        "  --line-rate [PORT=]GBPS  a port's line rate, every port without PORT= (100)\n"
        "  --rx-buffer BYTES        receive buffer per port (4194304)\n"
        "  --rx-descriptors N       receive descriptors per port (4096)\n"
        "  --tx-queue N             transmit queue per port, frames (4096)\n"
        "  --host-queues N          host receive queues (one per core)\n"
        "  --host-ring N            entries of each host receive ring (4096)\n"
        "  --host-drain MPPS        frames per us the host takes from each ring (at once)\n"
        "  --dispatch hash|rr       core choice: flow hash (default) or round robin\n"
        "  --wave-nic FILE.vcd      queue depths, core busy, port activity (SystemC VCD)\n"
        "  --nic systemc|plain      the SystemC NIC (default) or the plain C loop without\n"
        "                           queues (for comparison)\n"
        "  --trace-packet N         packet N's run instruction by instruction\n"
        "  --baseline REPORT.json   compare each packet's cycles with an earlier --json report\n"
        "  --max-regression PCT     cycles allowed above the baseline's (0); more: exit 4\n"
        "  --truncated pad|captured|refuse  frames the capture cut short (snap length): zero-\n"
        "                           filled to their wire length (pad, the default), run as\n"
        "                           captured (as BPF_PROG_TEST_RUN), or refused by the MAC\n"
        "  --quiet                  no terminal summary\n"
        "  --no-progress            no progress bar\n"
        "\n"
        "Outputs are written to a temporary file beside each target and renamed when\n"
        "complete; an output that is also an input is refused; Ctrl-C leaves no partial file.\n"
        "\n"
        "Exit status: 0 done, 1 bad input or setup failure, 2 usage, 3 kernel mismatch,\n"
        "4 cycle regression against --baseline, 128 + N on signal N.\n");
}

/* Instructions per packet the watchdog allows at most: about ten seconds of simulation. */
#define RUN_MAX_BUDGET NICSIM_BPFCONF_MAX_BUDGET

static int opt_map(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *eq = strchr(arg, '=');

    if (o->n_map_args == RUN_MAX_MAP_ARGS)
        return nicsim_cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!eq || eq == arg || !eq[1])
        return nicsim_cli_usage_fail("%s '%s': expected NAME=FILE", opt, arg);
    if ((size_t)(eq - arg) >= RUN_MAX_NAME)
        return nicsim_cli_usage_fail("%s '%.40s...': a map name has at most %d characters", opt, arg,
                              RUN_MAX_NAME - 1);
    o->map_args[o->n_map_args++] = arg;
    return 0;
}

/* MAP:INDEX=PROG, the index range-checked here, against the map at set-up. */
static int opt_prog_array(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *colon = strchr(arg, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    char idx[32], what[96];
    uint64_t v;

    if (o->n_prog_array_args == RUN_MAX_MAP_ARGS)
        return nicsim_cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!colon || !eq || colon == arg || !eq[1] || (size_t)(colon - arg) >= RUN_MAX_NAME ||
        strlen(eq + 1) >= RUN_MAX_NAME || (size_t)(eq - colon - 1) >= sizeof(idx))
        return nicsim_cli_usage_fail("%s '%s': expected MAP:INDEX=PROG", opt, arg);
    snprintf(idx, sizeof(idx), "%.*s", (int)(eq - colon - 1), colon + 1);
    snprintf(what, sizeof(what), "%s %.60s: INDEX", opt, arg);
    if (nicsim_cli_num(what, idx, 0, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    o->prog_array_args[o->n_prog_array_args++] = arg;
    return 0;
}

static int opt_trace_packet(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (nicsim_cli_num(opt, arg, 0, UINT64_MAX, NULL, &o->trace_packet))
        return CLI_USAGE;
    o->has_trace_packet = true;
    return 0;
}

/* --truncated refuse|captured|pad */
static int opt_truncated(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (nicsim_trace_truncated__parse(arg, &o->truncated))
        return nicsim_cli_usage_fail("%s '%s': one of refuse, captured, pad", opt, arg);
    return 0;
}

/* MAP:OFFSET:LEN, the numbers range-checked here, against the map's value size at set-up. */
static int opt_ignore(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    const char *c1 = strchr(arg, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char off[32], len[32];
    uint64_t v;

    if (o->n_ignore_args == RUN_MAX_MAP_ARGS)
        return nicsim_cli_usage_fail("%s: at most %d", opt, RUN_MAX_MAP_ARGS);
    if (!c1 || !c2 || c1 == arg || (size_t)(c1 - arg) >= RUN_MAX_NAME ||
        (size_t)(c2 - c1 - 1) >= sizeof(off) || strlen(c2 + 1) >= sizeof(len))
        return nicsim_cli_usage_fail("%s '%s': expected MAP:OFFSET:LEN", opt, arg);
    snprintf(off, sizeof(off), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
    snprintf(len, sizeof(len), "%s", c2 + 1);
    char what[96];
    snprintf(what, sizeof(what), "%s %s: OFFSET", opt, arg);
    if (nicsim_cli_num(what, off, 0, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    snprintf(what, sizeof(what), "%s %s: LEN", opt, arg);
    if (nicsim_cli_num(what, len, 1, UINT32_MAX, NULL, &v))
        return CLI_USAGE;
    o->ignore_args[o->n_ignore_args++] = arg;
    return 0;
}

/* PORT=REST: the port (0..15) and REST; 1 when arg has no PORT= prefix, CLI_USAGE on a bad one */
static int port_prefix(const char *opt, const char *arg, uint32_t *port, const char **rest)
{
    const char *eq = strchr(arg, '=');
    size_t digits = strspn(arg, "0123456789");

    if (!eq || digits != (size_t)(eq - arg) || digits == 0)
        return 1;
    char num[16], what[64];
    uint64_t v;
    if (digits >= sizeof(num))
        return nicsim_cli_usage_fail("%s '%s': PORT is 0..%d", opt, arg, NICSIM_DP_MAX_PORTS - 1);
    snprintf(num, sizeof(num), "%.*s", (int)digits, arg);
    snprintf(what, sizeof(what), "%s %.30s: PORT", opt, arg);
    if (nicsim_cli_num(what, num, 0, NICSIM_DP_MAX_PORTS - 1, NULL, &v))
        return CLI_USAGE;
    *port = (uint32_t)v;
    *rest = eq + 1;
    return 0;
}

/* --pcap FILE, or --pcap PORT=FILE (repeatable) */
static int opt_pcap(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    uint32_t port = 0;
    const char *file = arg;
    int rc = port_prefix(opt, arg, &port, &file);

    if (rc == CLI_USAGE)
        return rc;
    if (!*file)
        return nicsim_cli_usage_fail("%s '%s': expected FILE or PORT=FILE", opt, arg);
    if (rc == 1) { /* a plain file: on --ingress-port */
        if (o->pcap && !o->n_pcap_files)
            return nicsim_cli_usage_fail("%s %s: one trace without PORT= (already %s); several "
                                  "traces: --pcap PORT=FILE each",
                                  opt, arg, o->pcap);
        if (o->n_pcap_files)
            return nicsim_cli_usage_fail("%s %s: give every trace as PORT=FILE when there are several",
                                  opt, arg);
        o->pcap = file;
        return 0;
    }
    if (o->pcap && !o->n_pcap_files)
        return nicsim_cli_usage_fail("%s %s: give every trace as PORT=FILE when there are several", opt,
                              arg);
    if (o->n_pcap_files == NICSIM_DP_MAX_PORTS)
        return nicsim_cli_usage_fail("%s: at most %d traces", opt, NICSIM_DP_MAX_PORTS);
    o->pcap_files[o->n_pcap_files] = file;
    o->pcap_ports[o->n_pcap_files++] = port;
    if (!o->pcap)
        o->pcap = file;
    return 0;
}

/* --line-rate GBPS (every port) or PORT=GBPS */
static int opt_line_rate(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;
    uint32_t port = 0;
    const char *num = arg;
    int rc = port_prefix(opt, arg, &port, &num);
    char *end;

    if (rc == CLI_USAGE)
        return rc;
    errno = 0;
    double v = strtod(num, &end);
    if (!*num || *end || errno || !(v > 0 && v <= 10000))
        return nicsim_cli_usage_fail("%s '%s': a rate in Gb/s above 0 and at most 10000%s", opt, arg,
                              rc ? ", or PORT=GBPS" : "");
    if (rc == 1)
        o->line_rate_gbps = v;
    else
        o->line_rate_port_gbps[port] = v;
    return 0;
}

static int opt_dispatch(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (!strcmp(arg, "hash"))
        o->dispatch = NICSIM_NIC_DISPATCH_HASH;
    else if (!strcmp(arg, "rr"))
        o->dispatch = NICSIM_NIC_DISPATCH_RR;
    else
        return nicsim_cli_usage_fail("%s '%s': one of hash, rr", opt, arg);
    return 0;
}

static int opt_nic(void *user, const char *opt, const char *arg)
{
    struct run_opts *o = user;

    if (!strcmp(arg, "systemc"))
        o->plain_loop = false;
    else if (!strcmp(arg, "plain"))
        o->plain_loop = true;
    else
        return nicsim_cli_usage_fail("%s '%s': one of systemc, plain", opt, arg);
    return 0;
}

/* --model c|rtl, --wave FILE (the RTL's waveform), --wave-packets N-M: cmd_run's, not the run
 * library's */
static const char *run_model = "c", *run_wave, *run_wave_packets;
static bool run_lockstep;

/* N-M or N: the packets (counted from 0) whose runs go into the waveform */
static int parse_wave_packets(const char *arg, uint64_t *first, uint64_t *last)
{
    char lo[32], *dash = strchr(arg, '-');
    size_t n = dash ? (size_t)(dash - arg) : strlen(arg);
    if (n == 0 || n >= sizeof(lo))
        return nicsim_cli_usage_fail("--wave-packets '%s': expected N-M or N", arg);
    snprintf(lo, sizeof(lo), "%.*s", (int)n, arg);
    if (nicsim_cli_num("--wave-packets: N", lo, 0, UINT64_MAX, NULL, first))
        return CLI_USAGE;
    *last = *first;
    if (dash && nicsim_cli_num("--wave-packets: M", dash + 1, 0, UINT64_MAX, NULL, last))
        return CLI_USAGE;
    if (*last < *first)
        return nicsim_cli_usage_fail("--wave-packets %s: M is below N", arg);
    return 0;
}

int run_parse_args(int argc, char **argv, struct run_opts *o)
{
    bool no_progress = false, ingress_seen = false;
    const struct cli_opt opts[] = {
        {.name = "--pcap", .kind = CLI_FN, .fn = opt_pcap},
        {.name = "--line-rate", .kind = CLI_FN, .fn = opt_line_rate},
        {.name = "--rx-buffer",
         .kind = CLI_U32,
         .dst = &o->rx_buffer_bytes,
         .lo = 64,
         .hi = NICSIM_NIC_MAX_RX_BUFFER_BYTES,
         .why = "bytes per port"},
        {.name = "--rx-descriptors",
         .kind = CLI_U32,
         .dst = &o->rx_buffer_descs,
         .lo = 1,
         .hi = NICSIM_NIC_MAX_QUEUE},
        {.name = "--tx-queue",
         .kind = CLI_U32,
         .dst = &o->tx_queue_frames,
         .lo = 1,
         .hi = NICSIM_NIC_MAX_QUEUE,
         .why = "frames per port"},
        {.name = "--host-queues",
         .kind = CLI_U32,
         .dst = &o->host_queues,
         .lo = 1,
         .hi = NICSIM_DP_MAX_HOST_QUEUES},
        {.name = "--host-ring", .kind = CLI_U32, .dst = &o->host_ring, .lo = 1, .hi = NICSIM_NIC_MAX_QUEUE},
        {.name = "--host-drain",
         .kind = CLI_DOUBLE,
         .dst = &o->host_drain_mpps,
         .dlo = 0,
         .dhi = 1000000,
         .dlo_open = true,
         .why = "Mpps"},
        {.name = "--dispatch", .kind = CLI_FN, .fn = opt_dispatch},
        {.name = "--wave-nic", .kind = CLI_STR, .dst = &o->wave_nic},
        {.name = "--nic", .kind = CLI_FN, .fn = opt_nic},
        {.name = "--model", .kind = CLI_STR, .dst = &run_model},
        {.name = "--wave", .kind = CLI_STR, .dst = &run_wave},
        {.name = "--wave-packets", .kind = CLI_STR, .dst = &run_wave_packets},
        {.name = "--lockstep", .kind = CLI_FLAG, .dst = &run_lockstep},
        {.name = "--prog", .kind = CLI_STR, .dst = &o->prog},
        {.name = "--map", .kind = CLI_FN, .fn = opt_map},
        {.name = "--maps-dir", .kind = CLI_STR, .dst = &o->maps_dir},
        {.name = "--prog-array", .kind = CLI_FN, .fn = opt_prog_array},
        {.name = "--json", .kind = CLI_STR, .dst = &o->json},
        {.name = "--json-lines", .kind = CLI_STR, .dst = &o->json_lines},
        {.name = "--report", .kind = CLI_STR, .dst = &o->report_dir},
        {.name = "--out-pcap", .kind = CLI_STR, .dst = &o->out_pcap},
        {.name = "--dump-maps", .kind = CLI_STR, .dst = &o->dump_maps},
        {.name = "--events", .kind = CLI_STR, .dst = &o->events},
        {.name = "--plot", .kind = CLI_STR, .dst = &o->plot},
        {.name = "--baseline", .kind = CLI_STR, .dst = &o->baseline},
        {.name = "--compare-kernel", .kind = CLI_FLAG, .dst = &o->compare_kernel},
        {.name = "--kernel-repeat",
         .kind = CLI_U32,
         .dst = &o->kernel_repeat,
         .lo = 1,
         .hi = 1000000},
        {.name = "--clock-mhz", .kind = CLI_U32, .dst = &o->clock_mhz, .lo = 1, .hi = 10000},
        {.name = "--cores", .kind = CLI_U32, .dst = &o->cores, .lo = 1, .hi = 64},
        {.name = "--ports", .kind = CLI_U32, .dst = &o->ports, .lo = 1, .hi = 16},
        {.name = "--mtu",
         .kind = CLI_U32,
         .dst = &o->mtu,
         .lo = 68,
         .hi = RUN_MAX_MTU,
         .why = "(a frame of MTU + 18 bytes of Ethernet and VLAN header must fit the NIC's "
                "3520-byte XDP buffer)"},
        {.name = "--seed", .kind = CLI_U64, .dst = &o->seed, .lo = 0, .hi = UINT64_MAX},
        {.name = "--budget",
         .kind = CLI_U64,
         .dst = &o->budget,
         .lo = 1,
         .hi = RUN_MAX_BUDGET,
         .why = "(instructions per packet before the watchdog)"},
        {.name = "--count", .kind = CLI_U64, .dst = &o->limit, .lo = 0, .hi = UINT64_MAX},
        {.name = "--ingress-port",
         .kind = CLI_U32,
         .dst = &o->ingress_port,
         .lo = 0,
         .hi = 15,
         .seen = &ingress_seen},
        {.name = "--trace-packet", .kind = CLI_FN, .fn = opt_trace_packet},
        {.name = "--ignore-bytes", .kind = CLI_FN, .fn = opt_ignore},
        {.name = "--rate",
         .kind = CLI_DOUBLE,
         .dst = &o->rate_gbps,
         .dlo = 0,
         .dhi = 10000,
         .dlo_open = true,
         .why = "Gb/s"},
        {.name = "--max-regression",
         .kind = CLI_DOUBLE,
         .dst = &o->max_regression,
         .dlo = 0,
         .dhi = 1000,
         .why = "percent"},
        {.name = "--truncated", .kind = CLI_FN, .fn = opt_truncated},
        {.name = "--quiet", .kind = CLI_FLAG, .dst = &o->quiet},
        {.name = "--no-progress", .kind = CLI_FLAG, .dst = &no_progress},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[2];
    size_t n_pos = 0;

    memset(o, 0, sizeof(*o));
    o->clock_mhz = 250;
    o->cores = 4;
    o->ports = 2;
    o->mtu = 1500;
    o->kernel_repeat = 64;
    nicsim_cli_set_prog(nicsim_run_cmd_name);
    int rc = nicsim_cli_parse(argc, argv, 1, opts, sizeof(opts) / sizeof(opts[0]), o, pos, 2, &n_pos);
    if (rc == CLI_HELP) {
        usage(stdout);
        exit(0);
    }
    if (rc)
        return rc;
    o->progress = !no_progress && isatty(STDERR_FILENO);
    if (n_pos != 1)
        return nicsim_cli_usage_fail(n_pos ? "one object file, please (got '%s' and '%s')"
                                    : "no object file given%s%s; usage: nicsim run OBJECT.o "
                                      "--pcap TRACE [options], --help lists them",
                              n_pos ? pos[0] : "", n_pos ? pos[1] : "");
    o->object = pos[0];
    if (!o->pcap)
        return nicsim_cli_usage_fail("--pcap TRACE is required");
    if (ingress_seen && o->n_pcap_files)
        return nicsim_cli_usage_fail("--ingress-port %u: the traces name their ports (--pcap PORT=FILE)",
                              o->ingress_port);
    for (unsigned i = 0; i < o->n_pcap_files; i++)
        if (o->pcap_ports[i] >= o->ports)
            return nicsim_cli_usage_fail("--pcap %u=%s: port %u, the NIC has ports 0..%u (--ports)",
                                  o->pcap_ports[i], o->pcap_files[i], o->pcap_ports[i],
                                  o->ports - 1);
    for (uint32_t p = o->ports; p < NICSIM_DP_MAX_PORTS; p++)
        if (o->line_rate_port_gbps[p] > 0)
            return nicsim_cli_usage_fail("--line-rate %u=%g: port %u, the NIC has ports 0..%u (--ports)",
                                  p, o->line_rate_port_gbps[p], p, o->ports - 1);
    if (o->plain_loop && (o->wave_nic || o->n_pcap_files > 1))
        return nicsim_cli_usage_fail("--nic plain: %s needs the SystemC NIC",
                              o->wave_nic ? "--wave-nic" : "more than one --pcap");
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_opts o;
    int rc = run_parse_args(argc, argv, &o);

    if (rc) {
        if (rc == CLI_USAGE)
            fprintf(stderr, "usage: nicsim run OBJECT.o --pcap TRACE [options] (--help lists "
                            "them)\n");
        return rc;
    }
    enum cli_model model;
    if (cli_model_parse(run_model, &model))
        return CLI_USAGE;
    if (run_lockstep)
        model = CLI_MODEL_RTL;
    if (run_wave && model != CLI_MODEL_RTL)
        return nicsim_cli_usage_fail("--wave %s: waveforms come from the RTL core (--model rtl)", run_wave);
    uint64_t first = 0, last = UINT64_MAX;
    if (run_wave_packets && !run_wave)
        return nicsim_cli_usage_fail("--wave-packets needs --wave FILE.fst");
    if (run_wave_packets && parse_wave_packets(run_wave_packets, &first, &last))
        return CLI_USAGE;
    if (model == CLI_MODEL_RTL &&
        cli_run_rtl_open(run_wave, first, last, run_lockstep, &o.backend, &o.backend_ctx) < 0)
        return 1;
    rc = nicsim_run_main(&o);
    if (o.backend)
        cli_run_rtl_close(o.backend_ctx, run_lockstep);
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * nicsim load: offload every program of an object, one by one, and say what happened to each:
 * the driver's verdict, the NIC image, the program reaching the firmware on attach, the maps on
 * the NIC answering lookups, and (where bpf() works) the host kernel verifier's verdict.
 */
static int load_one(struct run *r, size_t pi, bool kcheck)
{
    const struct nicsim_obj_prog *p = nicsim_obj__prog(r->obj, pi);
    int bad = 0;

    printf("program %s (section %s, %zu insns): ", p->name, p->section, p->n);
    fflush(stdout);
    r->collect_errors = true;
    if (nicsim_run_load_prog(r, pi)) {
        const char *why = strstr(r->last_err, "refused");
        printf("%s\n", why ? why : r->last_err);
        bad = 1;
    } else {
        struct nicsim_bpf_prog *kp = nicsim_kern_prog_by_fd(r->k, r->prog_fds[pi]);
        size_t img_len = 0;
        nicsim_drv__image(kp, &img_len);
        struct nicsim_msg ea = {.index = -1};
        int ifindex = nicsim_sys__ifindex(r->sys, 0);
        int rc = nicsim_kern_xdp_attach(r->k, ifindex, r->prog_fds[pi], -1, XDP_FLAGS_HW_MODE, &ea);
        if (rc) {
            printf("verified and translated (%zu-byte NIC image), attach refused: %s\n", img_len,
                   ea.msg[0] ? ea.msg : strerror(-rc));
            bad = 1;
        } else {
            printf("offloaded: %zu-byte NIC image, NIC program %u, %u program(s) in the cores\n",
                   img_len, nicsim_drv__nic_prog_id(kp), nicsim_sys__n_loaded(r->sys));
            nicsim_kern_xdp_attach(r->k, ifindex, -1, -1, XDP_FLAGS_HW_MODE, &ea);
        }
    }
    if (!kcheck)
        return bad;
    /* The host kernel's verifier on the same instructions with the same map definitions. */
    size_t nm = nicsim_obj__n_maps(r->obj);
    struct nicsim_kern_map_create_attr *maps = calloc(nm + 1, sizeof(*maps));
    int *idx = calloc(nm + 1, sizeof(int));
    struct nicsim_kern_kcheck res;
    struct nicsim_kern_prog_load_attr a = {.sz = sizeof(a)};

    for (size_t i = 0; maps && idx && i < nm; i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        maps[i].sz = sizeof(maps[i]);
        maps[i].map_type = m->type;
        maps[i].key_size = m->key_size;
        maps[i].value_size = m->value_size;
        maps[i].max_entries = m->max_entries;
        maps[i].map_flags = m->map_flags;
        maps[i].map_name = NULL; /* names do not matter to the verifier */
        idx[i] = (int)i;
    }
    a.prog_type = p->prog_type ? p->prog_type : BPF_PROG_TYPE_XDP;
    a.expected_attach_type = nicsim_run_xdp_attach_type(p);
    a.insns = p->insns;
    a.insn_cnt = (uint32_t)p->n;
    a.license = nicsim_obj__license(r->obj);
    a.prog_name = p->name;
    a.fd_array = idx;
    a.fd_array_cnt = (uint32_t)nm;
    memset(&res, 0, sizeof(res));
    if (maps && idx && nicsim_kern_kcheck(&a, maps, nm, &res) == 0) {
        if (!res.kernel_available)
            printf("  host kernel verifier: not consulted (%s)\n", res.kernel_msg);
        else if (res.disagree) {
            printf("  host kernel verifier: DISAGREES: %s\n", res.report);
            bad = 3;
        } else if (res.kernel && !bad &&
                   nicsim_kref_rxq_writes((const struct bpf_insn *)p->insns, p->n, NULL))
            /* the cross-check loads it as a host program */
            printf("  host kernel verifier: agrees (both refuse it unoffloaded: it writes "
                   "rx_queue_index, which only offloaded programs may)\n");
        else
            printf("  host kernel verifier: agrees (%s)\n",
                   res.kernel ? "both refuse it" : "both accept it");
    }
    free(maps);
    free(idx);
    return bad;
}

int cmd_load(int argc, char **argv)
{
    struct run_opts o = {.cores = 4, .ports = 2, .clock_mhz = 250, .mtu = 1500};
    struct run r = {.o = &o};
    struct nicsim_sys_opts so = {.sz = sizeof(so)};
    bool kcheck = true;
    char err[ERR_LEN];
    int status = 0;

    bool no_kernel = false;
    const struct cli_opt opts[] = {
        {.name = "--no-kernel", .kind = CLI_FLAG, .dst = &no_kernel},
        {.name = "--help", .kind = CLI_HELPOPT},
    };
    const char *pos[1];
    size_t n_pos = 0;
    static const char use[] = "usage: nicsim load OBJECT.o [--no-kernel]\n"
                              "  offloads every program of the object to the simulated NIC, one by "
                              "one, and reports\n";

    nicsim_run_cmd_name = "nicsim load";
    nicsim_cli_set_prog(nicsim_run_cmd_name);
    int prc = nicsim_cli_parse_cmd(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, pos, 1,
                            &n_pos, use);
    if (prc)
        return prc == CLI_HELP ? 0 : prc;
    o.object = pos[0];
    kcheck = !no_kernel;
    if (nicsim_run_check_object(o.object))
        return 1;
    r.obj = nicsim_obj__open_file(o.object, NULL, err, sizeof(err));
    if (!r.obj) {
        fprintf(stderr, "nicsim load: %s\n", err);
        return 1;
    }
    so.n_ports = o.ports;
    so.n_cores = o.cores;
    r.sys = nicsim_sys__new(&so, err, sizeof(err));
    if (!r.sys) {
        nicsim_obj__free(r.obj);
        return nicsim_run_fail("cannot start the NIC: %s", err);
    }
    r.k = nicsim_sys__kern(r.sys);
    size_t nm = nicsim_obj__n_maps(r.obj), np = nicsim_obj__n_progs(r.obj);
    r.map_fds = calloc(nm + 1, sizeof(int));
    r.prog_fds = calloc(np + 1, sizeof(int));
    for (size_t i = 0; i < np; i++)
        r.prog_fds[i] = -1;
    printf("%s: %zu program(s), %zu map(s), licence \"%s\"\n", o.object, np, nm,
           nicsim_obj__license(r.obj));
    for (size_t i = 0; i < nm; i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r.obj, i);
        char why[ERR_LEN];
        int fd = nicsim_run_offload_map(&r, i, why, sizeof(why));
        r.map_fds[i] = fd;
        if (fd < 0) {
            printf("%s\n", why);
            status = 1;
            continue;
        }
        printf("map %s (%s, key %u, value %u, max %u): ", m->name,
               nicsim_run_map_type_name(m->type), m->key_size, m->value_size, m->max_entries);
        struct nicsim_bpf_map *km = nicsim_kern_map_by_fd(r.k, fd);
        if (nicsim_run_is_dumpable(m->type)) {
            struct nicsim_mapjson_entries e;
            int rc = nicsim_run_nic_map_dump(&r, i, &e);
            printf("NIC map %u, %zu entries read back from the NIC%s\n", nicsim_drv__nic_map_id(km),
                   rc ? 0 : e.count, rc ? " (read failed)" : "");
            if (!rc)
                nicsim_mapjson_entries__free(&e);
        } else {
            printf("NIC map %u\n", nicsim_drv__nic_map_id(km));
        }
    }
    if (status == 0) {
        for (size_t i = 0; i < np; i++) {
            int rc = load_one(&r, i, kcheck);
            if (rc > status)
                status = rc;
        }
    } else {
        printf("programs not loaded: a map could not be offloaded\n");
    }
    nicsim_run_teardown(&r);
    return status;
}
