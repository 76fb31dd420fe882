/* SPDX-License-Identifier: MIT */
/*
 * The one option parser of every nicsim command (and nicsim-plugin): options are matched by their
 * whole name (no abbreviations), `--name VALUE` or `--name=VALUE`, numbers are range-checked, and
 * every message names the option as typed:
 *     nicsim run: --ingress-port: 'abc' is not a number
 *     nicsim run: --cores: 99 is out of range 1..64
 * A usage error (unknown option, missing or malformed value, wrong number of arguments) makes
 * nicsim_cli_parse return CLI_USAGE (2), the exit status the README promises for usage errors.
 */
#ifndef NICSIM_HOST_OPT_H
#define NICSIM_HOST_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_USAGE 2  /* exit status of a usage error */
#define CLI_HELP  -1 /* nicsim_cli_parse: --help or -h was given */

enum cli_kind {
    CLI_FLAG,   /* bool *: set to true */
    CLI_UNFLAG, /* bool *: set to false */
    CLI_STR,    /* const char **: the argument */
    CLI_U32,    /* uint32_t *: an integer in lo..hi */
    CLI_U64,    /* uint64_t *: an integer in lo..hi */
    CLI_DOUBLE, /* double *: a number in dlo..dhi (dlo excluded when dlo_open) */
    CLI_FN,     /* fn(user, typed name, argument): 0 or CLI_USAGE after its own message */
    CLI_HELPOPT,
};

struct cli_opt {
    const char *name; /* "--pcap" */
    enum cli_kind kind;
    void *dst;
    uint64_t lo, hi;
    double dlo, dhi;
    bool dlo_open;
    const char *why; /* appended to an out-of-range message: "(the XDP buffer holds ...)" */
    int (*fn)(void *user, const char *opt, const char *arg);
    bool *seen; /* set when the option was given (may be NULL) */
};

/* Prefix of every message, e.g. "nicsim run". */
void nicsim_cli_set_prog(const char *prog);
const char *nicsim_cli_prog(void);
/* "PROG: message\n" on stderr; returns 1 (the exit status of bad input). */
int nicsim_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As nicsim_cli_fail, returning CLI_USAGE. */
int nicsim_cli_usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An unsigned integer (decimal, or 0x hex) in lo..hi; 0, or CLI_USAGE after a message naming
 * `opt` ("'abc' is not a number", "N is out of range LO..HI", with `why` when not NULL). */
int nicsim_cli_num(const char *opt, const char *s, uint64_t lo, uint64_t hi, const char *why,
            uint64_t *out);

/*
 * Parses argv[first..argc). Positional arguments go to pos[] (at most max_pos, else a usage
 * error). "--" ends the options. Returns 0, CLI_USAGE after a message, or CLI_HELP.
 */
int nicsim_cli_parse(int argc, char **argv, int first, const struct cli_opt *opts, size_t n_opts,
              void *user, const char **pos, size_t max_pos, size_t *n_pos);

/*
 * nicsim_cli_parse for a command with the usage text `use` and exactly want_pos positional arguments
 * (pos[] has room for want_pos, at least one): --help prints `use` on stdout and returns
 * CLI_HELP; a usage error or another number of positional arguments prints it on stderr and
 * returns CLI_USAGE. A caller ends with `return prc == CLI_HELP ? 0 : prc` when prc is not 0.
 */
int nicsim_cli_parse_cmd(int argc, char **argv, const struct cli_opt *opts, size_t n_opts, void *user,
                  const char **pos, size_t want_pos, size_t *n_pos, const char *use);

#endif
