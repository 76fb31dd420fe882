/* SPDX-License-Identifier: MIT */
/* nicsim run (the library nicsim_run, host/run): options and the pieces the offload setup provides
 * to the replay loop. */
#ifndef NICSIM_RUN_H
#define NICSIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "nicsim/datapath.h"
#include "replay.h"

#define RUN_MAX_MAP_ARGS 64
#define RUN_MAX_NAME 128 /* bytes of a map name on the command line, with its NUL */
/* The largest --mtu: a frame of MTU + 14 bytes of Ethernet header + 4 of VLAN tag must fit the
 * 3520 bytes of packet data an XDP buffer holds (NICSIM_XDP_MAX_DATA). */
#define RUN_MAX_MTU (3520 - 18)

/* What a run achieved, for callers that run several (nicsim sweep); filled by nicsim_run_main when
 * run_opts.summary is not NULL. Times on the NIC's clock, from the first arrival. */
struct run_summary {
    uint64_t packets;                  /* frames offered by the trace (within --count) */
    uint64_t drops[NICSIM_DP_N_DROP];  /* by enum nicsim_dp_drop ([0]: frames that left) */
    uint64_t duration_ns;              /* first arrival to the last departure */
    double achieved_mpps, achieved_gbps; /* frames (and their wire bits) that left the NIC */
    uint64_t latency_p50_ns, latency_p99_ns, latency_max_ns; /* arrival to departure */
    double core_utilisation;           /* busy cycles over duration, mean of the cores */
};

struct run;

struct run_opts {
    const char *object;
    const char *pcap;
    const char *prog;                       /* --prog NAME */
    const char *json;                       /* --json FILE (FILE.jsonl: JSON Lines) */
    const char *json_lines;                 /* --json-lines FILE */
    const char *report_dir;                 /* --report DIR */
    const char *out_pcap;                   /* --out-pcap FILE */
    const char *dump_maps;                  /* --dump-maps FILE */
    const char *events;                     /* --events FILE */
    const char *plot;                       /* --plot FILE.png */
    const char *maps_dir;                   /* --maps-dir DIR: DIR/NAME.json for map NAME */
    const char *map_args[RUN_MAX_MAP_ARGS]; /* --map NAME=FILE */
    unsigned n_map_args;
    const char *prog_array_args[RUN_MAX_MAP_ARGS]; /* --prog-array MAP:INDEX=PROG */
    unsigned n_prog_array_args;
    const char *ignore_args[RUN_MAX_MAP_ARGS]; /* --ignore-bytes MAP:OFFSET:LEN */
    unsigned n_ignore_args;
    double rate_gbps;      /* --rate: arrivals at this line rate instead of the trace timestamps */
    double line_rate_gbps; /* --line-rate: every port's line rate (0: the NIC default) */
    struct run_summary *summary; /* not NULL: filled at the end of the run (not an option) */
    /* not an option: called once the program is offloaded, before the first packet, with the
     * run (struct run, run_int.h), e.g. to trace every instruction (nicsim profile); a non-zero
     * return ends the run with status 1 */
    int (*on_ready)(void *user, struct run *r);
    /* not an option: called after the last packet and the report, before the run is torn down;
     * a non-zero return makes the run's status 1 */
    int (*on_done)(void *user, struct run *r);
    void *on_ready_user; /* the user of both */
    const char *baseline;  /* --baseline REPORT.json: a previous --json report */
    double max_regression; /* --max-regression PCT: cycles allowed above the baseline's */
    uint64_t trace_packet; /* --trace-packet N: instruction trace of packet N */
    bool has_trace_packet;
    bool compare_kernel;
    uint32_t clock_mhz;
    uint32_t cores;
    uint32_t ports;
    uint32_t ingress_port; /* --ingress-port */
    uint32_t mtu;
    uint64_t seed;
    uint64_t budget;
    uint64_t limit;         /* --count N: stop after N packets (0: all) */
    uint32_t kernel_repeat; /* BPF_PROG_TEST_RUN repeat for the timing run */
    bool quiet;
    bool progress;
    enum nicsim_trace_truncated truncated; /* --truncated (pad) */
    /* The SystemC NIC (sim/nic, docs/nic-model.md); zeros are its defaults. */
    double line_rate_port_gbps[NICSIM_DP_MAX_PORTS]; /* --line-rate PORT=GBPS (0: --line-rate) */
    uint32_t rx_buffer_bytes;  /* --rx-buffer BYTES */
    uint32_t rx_buffer_descs;  /* --rx-descriptors N */
    uint32_t tx_queue_frames;  /* --tx-queue N */
    uint32_t host_queues;      /* --host-queues N */
    uint32_t host_ring;        /* --host-ring N */
    double host_drain_mpps;    /* --host-drain MPPS */
    uint32_t dispatch;         /* --dispatch hash|rr (enum nicsim_nic_dispatch) */
    const char *wave_nic;      /* --wave-nic FILE.vcd */
    bool plain_loop;           /* --nic plain: the C loop without queues (bench comparison) */
    const char *pcap_files[NICSIM_DP_MAX_PORTS]; /* --pcap PORT=FILE, merged by timestamp */
    uint32_t pcap_ports[NICSIM_DP_MAX_PORTS];
    unsigned n_pcap_files;
    /* --model rtl: the core backend every core runs its programs on (NULL: the C model) */
    nicsim_vm_backend_fn backend;
    void *backend_ctx;
    bool *kernel_skipped; /* set to true when --compare-kernel found this kernel unable to run
                           * the program (see nicsim_kref__unavailable); may be NULL */
};

int run_parse_args(int argc, char **argv, struct run_opts *o);
int nicsim_run_main(const struct run_opts *o);

#endif
