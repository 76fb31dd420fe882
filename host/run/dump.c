/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the map dump (--dump-maps). */
#include "run_int.h"

/* ---------------------------------------------------------------------------------------------
 * Map dump: {"MAP": [bpftool entries], ...}.
 */
int nicsim_run_dump_maps(struct run *r, const char *path)
{
    FILE *f = fopen(path, "w");
    bool first = true;

    if (!f)
        return nicsim_run_fail("--dump-maps %s: %s", r->o->dump_maps, strerror(errno));
    fputs("{", f);
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        struct nicsim_mapjson_entries e;
        if (!nicsim_run_is_dumpable(m->type))
            continue;
        if (nicsim_run_nic_map_dump(r, i, &e)) {
            fclose(f);
            return nicsim_run_fail("--dump-maps: cannot read map %s", m->name);
        }
        struct nicsim_mapjson_layout l = nicsim_run_nic_layout(r, m);
        char *s = nicsim_mapjson__format(&l, &e, 0);
        nicsim_mapjson_entries__free(&e);
        if (!s) {
            fclose(f);
            return nicsim_run_fail("--dump-maps: out of memory");
        }
        fprintf(f, "%s\n  \"%s\": %s", first ? "" : ",", m->name, s);
        first = false;
        free(s);
    }
    fputs("\n}\n", f);
    if (ferror(f) | fclose(f))
        return nicsim_run_fail("--dump-maps %s: write failed", r->o->dump_maps);
    return 0;
}
