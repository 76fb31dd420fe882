/* SPDX-License-Identifier: MIT */
/*
 * --report DIR (nicsim run and nicsim sweep): the reports of a run or a sweep in one directory,
 * with plots drawn by gnuplot (PNG and SVG) and an index.html that shows them beside the summary.
 * Every file is written beside its target and renamed when complete (outfile.h).
 *
 * A run: report.json (the --json document), packets.csv (one row per packet), cycles.png/.svg
 * (cycles per packet histogram), latency.png/.svg (latency CDF, arrival to departure),
 * kernel.png/.svg (NIC vs host JIT ns per packet, with --compare-kernel), index.html.
 * A sweep: sweep.csv (the table), sweep.png/.svg (throughput, drops and p99 against cores per
 * line rate), index.html.
 */
#ifndef NICSIM_RUN_REPORTDIR_H
#define NICSIM_RUN_REPORTDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct report;
struct run_summary;

struct report_dir {
    const char *dir; /* as given */
    char json[PATH_MAX], csv[PATH_MAX];
};

/* Creates DIR if it does not exist (its parent must) and checks that it takes files. 0, or 1
 * after a message naming the directory. */
int nicsim_run_report_dir_open(struct report_dir *rd, const char *dir);
/* After the run's report.json and packets.csv are complete: the plots and index.html. */
int nicsim_run_report_dir_run(const struct report_dir *rd, struct report *rep,
                              const struct run_summary *sum, const char *prog_name,
                              const char *title, uint32_t n_cores);
/* A sweep: sweep.csv (a copy of `table_csv`), index.html showing sweep.png/.svg (drawn by the
 * caller) and the table; `fewest_rows` is HTML table rows (rate, fewest cores). */
int nicsim_run_report_dir_sweep(const struct report_dir *rd, const char *table_csv,
                                const char *title, const char *fewest_rows);

#endif
