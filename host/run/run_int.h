/* SPDX-License-Identifier: MIT */
/* nicsim run, inside: what the files of host/run and the CLI's run.c share. */
#ifndef NICSIM_RUN_INT_H
#define NICSIM_RUN_INT_H

#define PCAP_DONT_INCLUDE_PCAP_BPF_H
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/bpf.h>
#include <linux/if_link.h>

#include <jansson.h>

#include "nicsim/ctrl.h"
#include "nicsim/drv.h"
#include "nicsim/kern.h"
#include "nicsim/kref.h"
#include "nicsim/mapjson.h"
#include "nicsim/maptypes.h"
#include "nicsim/obj.h"
#include "nicsim/pcie.h"
#include "nicsim/system.h"
#include "nicsim/util.h"
#include "nicsim/xdp.h"
#include "printk.h"
#include "progsel.h"
#include "bpfconf.h"
#include "opt.h"
#include "outfile.h"
#include "replay.h"
#include "report.h"
#include "reportdir.h"

#define ERR_LEN 512

/* The kernel runs BPF_PROG_TEST_RUN on the calling thread's CPU: each kernel run is pinned to the
 * CPU chosen at set-up, so that every packet sees the same per-CPU map slices and the comparison
 * does not depend on the scheduler; the thread's own affinity is restored after each run (the
 * rest of the process, and what it starts, keeps the CPUs it was given). */
struct kpin {
    cpu_set_t saved, one;
    bool ok;
};

/* Everything one run holds. */
struct run {
    const struct run_opts *o;
    struct nicsim_obj *obj;
    const struct nicsim_obj_prog *prog;
    struct nicsim_sys *sys;
    struct nicsim_kern *k;
    int *map_fds;  /* per object map */
    int *prog_fds; /* per object program, -1 when not loaded */
    struct nicsim_kref *kref;
    struct kpin kpin;
    FILE *events;
    uint64_t events_written, events_lost;
    uint64_t cur_index;
    struct cli_printk printk; /* bpf_trace_printk lines (printk.c) */
    bool collect_errors;      /* load_prog (setup.c): keep the refusal in last_err, not printed */
    char last_err[ERR_LEN];
    struct {
        int map; /* object map index */
        unsigned off, len;
    } ignore[RUN_MAX_MAP_ARGS]; /* --ignore-bytes, resolved once */
};

/* ---------------------------------------------------------------------------------------------
 * Instruction trace of one packet, on every core (the dispatcher picks one).
 */
struct itrace {
    const struct nicsim_prog *prog; /* the program of the last line printed */
};

/* ---------------------------------------------------------------------------------------------
 * Baseline: the cycles of each packet in an earlier --json report, by index (-1: none).
 */
struct baseline {
    int64_t *cycles;
    size_t n;
    uint64_t compared, regressions, improvements;
    uint64_t worst_index;
    double worst_pct;
};

/* kernel.c */
void nicsim_run_kpin_enter(const struct kpin *p);
void nicsim_run_kpin_init(struct kpin *p);
void nicsim_run_kpin_leave(const struct kpin *p);

/* replay.c */
extern const char *nicsim_run_cmd_name; /* message prefix */
int nicsim_run_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nicsim_run_progress(uint64_t n, double frac, bool done);
void nicsim_run_teardown(struct run *r);

/* setup.c */
int nicsim_run_check_object(const char *path);
bool nicsim_run_is_dumpable(uint32_t type);
int nicsim_run_load_prog(struct run *r, size_t pi);
int nicsim_run_map_by_id(const struct run *r, uint32_t id);
const char *nicsim_run_map_type_name(uint32_t t);
struct nicsim_mapjson_layout nicsim_run_nic_layout(const struct run *r,
                                                   const struct nicsim_obj_map *m);
int nicsim_run_nic_map_dump(struct run *r, size_t i, struct nicsim_mapjson_entries *out);
int nicsim_run_offload_map(struct run *r, size_t i, char *why, size_t why_len);
int nicsim_run_setup(struct run *r);
uint32_t nicsim_run_xdp_attach_type(const struct nicsim_obj_prog *p);

/* compare.c */
int nicsim_run_compare_maps(struct run *r, FILE *tty);
void nicsim_run_compare_packet(const struct nicsim_dp_result *res,
                               const struct nicsim_kref_result *kr, struct report_kernel_pkt *kp);

/* dump.c */
int nicsim_run_dump_maps(struct run *r, const char *path);

/* plot.c */
char *nicsim_run_find_gnuplot(void);
int nicsim_run_gnuplot(const char *gnuplot, const char *script_text, const char *shown,
                       const char *const *args, int n_args);
int nicsim_run_plot_draw(const char *gnuplot, const char *png, const char *shown, const char *data,
                         bool kernel, uint32_t clock_mhz, const char *title);

/* itrace.c */
void nicsim_run_itrace_set(struct run *r, struct itrace *t);

/* baseline.c */
void nicsim_run_baseline_check(struct baseline *b, const struct run_opts *o, uint64_t index,
                               const struct nicsim_dp_result *res);
int nicsim_run_baseline_load(struct baseline *b, const char *path, const char *trace);

#endif
