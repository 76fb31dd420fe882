/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the kernel reference glue: each BPF_PROG_TEST_RUN pinned to one CPU. */
#include "run_int.h"

void nicsim_run_kpin_init(struct kpin *p)
{
    int cpu = sched_getcpu();

    p->ok = sched_getaffinity(0, sizeof(p->saved), &p->saved) == 0;
    CPU_ZERO(&p->one);
    CPU_SET(cpu < 0 ? 0 : cpu, &p->one);
}

void nicsim_run_kpin_enter(const struct kpin *p)
{
    if (p->ok)
        sched_setaffinity(0, sizeof(p->one), &p->one);
}

void nicsim_run_kpin_leave(const struct kpin *p)
{
    if (p->ok)
        sched_setaffinity(0, sizeof(p->saved), &p->saved);
}
