/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the baseline (--baseline, --max-regression). */
#include "run_int.h"

/* A --json report takes at most about 16 KiB a packet (two packets' bytes in hex and the rest),
 * and every packet of the trace at least 16 bytes of its file: the baseline of a trace is read
 * up to RUN_BASELINE_PER_TRACE_BYTE bytes per byte of the trace. */
#define RUN_BASELINE_PER_TRACE_BYTE 1024ull
#define RUN_BASELINE_MIN            (1ull << 20)

int nicsim_run_baseline_load(struct baseline *b, const char *path, const char *trace)
{
    json_error_t e;
    struct stat st;
    uint64_t limit = RUN_BASELINE_MIN;
    if (stat(trace, &st) == 0 && S_ISREG(st.st_mode))
        limit += (uint64_t)st.st_size * RUN_BASELINE_PER_TRACE_BYTE;
    if (limit > SIZE_MAX / 2)
        limit = SIZE_MAX / 2;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nicsim_run_fail("--baseline %s: %s", path, strerror(errno));
    size_t len = 0;
    char *text = nicsim_read_limited(f, (size_t)limit, true, &len);
    int err = errno;
    fclose(f);
    if (!text) {
        if (err == EFBIG)
            return nicsim_run_fail(
                "--baseline %s: longer than %llu bytes, the most a --json report of %s "
                "can take",
                path, (unsigned long long)limit, trace);
        if (err == EISDIR)
            return nicsim_run_fail("--baseline %s: is a directory", path);
        if (err == EILSEQ)
            return nicsim_run_fail("--baseline %s: a NUL byte at offset %zu: not JSON text", path,
                                   len);
        return nicsim_run_fail("--baseline %s: %s", path, strerror(err));
    }
    json_t *root = json_loadb(text, len, 0, &e);
    free(text);
    json_t *pk = root ? json_object_get(root, "packets") : NULL;

    if (!root)
        return nicsim_run_fail("--baseline %s:%d: %s", path, e.line, e.text);
    if (!json_is_array(pk)) {
        json_decref(root);
        return nicsim_run_fail(
            "--baseline %s: no \"packets\" array: not a `nicsim run --json` report", path);
    }
    b->n = json_array_size(pk);
    b->cycles = malloc((b->n ? b->n : 1) * sizeof(*b->cycles));
    for (size_t i = 0; b->cycles && i < b->n; i++) {
        json_t *p = json_array_get(pk, i), *c = json_object_get(p, "cycles");
        json_t *idx = json_object_get(p, "index");
        if (!json_is_integer(idx) || (size_t)json_integer_value(idx) != i) {
            json_decref(root);
            return nicsim_run_fail("--baseline %s: packet %zu: \"index\" is not %zu", path, i, i);
        }
        b->cycles[i] = json_is_integer(c) ? json_integer_value(c) : -1;
    }
    json_decref(root);
    return b->cycles ? 0 : nicsim_run_fail("out of memory");
}

void nicsim_run_baseline_check(struct baseline *b, const struct run_opts *o, uint64_t index,
                               const struct nicsim_dp_result *res)
{
    if (!b->cycles || index >= b->n || b->cycles[index] < 0 || res->error)
        return;
    double base = (double)b->cycles[index], now = (double)res->xdp.run.cycles;
    double pct = base > 0 ? (now - base) * 100.0 / base : (now > 0 ? 100.0 : 0.0);
    b->compared++;
    if (now < base)
        b->improvements++;
    if (pct > o->max_regression) {
        if (!b->regressions++ && !o->quiet)
            fprintf(stderr, "regression: packet %llu: %.0f cycles, baseline %.0f (+%.1f%%)\n",
                    (unsigned long long)index, now, base, pct);
        if (pct > b->worst_pct) {
            b->worst_pct = pct;
            b->worst_index = index;
        }
    }
}
