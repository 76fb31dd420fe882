/* SPDX-License-Identifier: MIT */
/* Program selection for `nicsim run` (progsel.c). */
#ifndef NICSIM_RUN_PROGSEL_H
#define NICSIM_RUN_PROGSEL_H

#include <stdio.h>

#include "nicsim/obj.h"

/* The program to offload: `want` by function name, else section name; NULL: the object's only
 * XDP program. A program of a section libbpf does not type (SEC("xdp1")) is taken as XDP.
 * Returns 0 with *out set, or -1 with a message naming the object, the program, its section and
 * the reason (and listing the object's programs when none matches). */
int nicsim_cli_prog_select(const struct nicsim_obj *obj, const char *object, const char *want,
                    const struct nicsim_obj_prog **out, char *err, size_t errlen);

/* One line on f naming the programs loaded (prog_fds[i] >= 0) and every other program with why
 * it was skipped; nothing when every program was loaded. */
void nicsim_cli_prog_report_skipped(const struct nicsim_obj *obj, const char *object,
                             const struct nicsim_obj_prog *chosen, const int *prog_fds, FILE *f);

/* Why BPF_PROG_LOAD refused (fd < 0): the kernel's last verifier message, or, when it gave
 * none (a refusal before the verifier ran), the errno with what it is about. */
const char *nicsim_cli_prog_load_reason(int fd, const char *err_msg, char *buf, size_t len);

#endif
