/* SPDX-License-Identifier: MIT */
/*
 * Output files of the command line, written whole or not at all: each output is written to a
 * temporary file beside its target (".NAME.nicsim-XXXXXX" in the same directory, so that the
 * directory's writability is known before any work) and renamed onto the target when complete.
 * SIGINT, SIGTERM and SIGHUP remove the temporary files and say which outputs were not written,
 * so an interrupted run leaves no partial file at any target, and two runs writing the same
 * target leave one run's whole file. A target that exists and is not a regular file (/dev/null,
 * a FIFO) is written directly.
 *
 * nicsim_cli_files_check refuses an output that is also an input, or two outputs that are the same
 * file, comparing device and inode (of the file, or of the directory and name for an output
 * that does not exist yet).
 */
#ifndef NICSIM_CLI_OUTFILE_H
#define NICSIM_CLI_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct cli_out {
    const char *opt;  /* "--json" */
    const char *path; /* the target as given */
    char *target;     /* where the rename goes (symlinks resolved) */
    char *tmp;        /* the temporary file, NULL when written directly */
    int slot;         /* in the signal handler's list, -1 when not registered */
};

/* Creates the temporary file beside `path` (fails with a message naming opt and path when the
 * directory is not writable or the target is a directory). 0 or 1. */
int nicsim_cli_out_begin(struct cli_out *o, const char *opt, const char *path);
/* The file to write to now: the temporary file, or the target itself. */
const char *nicsim_cli_out_path(const struct cli_out *o);
/* Renames the temporary file onto the target. 0 or 1 after a message. */
int nicsim_cli_out_commit(struct cli_out *o);
/* Removes the temporary file (nothing written at the target). Safe on a zeroed or finished one. */
void nicsim_cli_out_abort(struct cli_out *o);

/* Signal handling: nicsim_cli_signals_install once; while deferred, a signal only sets the flag that
 * nicsim_cli_interrupted returns (the replay loop stops at the next packet); otherwise the handler
 * removes every temporary file, says what was not written, and ends the process with the signal. */
void nicsim_cli_signals_install(void);
void nicsim_cli_signals_defer(bool defer);
int nicsim_cli_interrupted(void); /* the signal number, or 0 */
/* The deferred signal (0: none), now handled by the caller; deferring ends. */
int nicsim_cli_signals_take(void);
/* Removes every temporary file begun and not committed (a process ending before its outputs:
 * run --lockstep's divergence). */
void nicsim_cli_out_abort_all(void);
/* ", --json a.json, --out-pcap b.pcapng": the outputs begun and not committed. */
void nicsim_cli_out_pending(char *buf, size_t len);

struct cli_file {
    const char *opt; /* "--pcap", "the object" */
    const char *path;
    bool output;
};
/* 0, or CLI_USAGE after a message naming both options. */
int nicsim_cli_files_check(const struct cli_file *f, size_t n);

#endif
