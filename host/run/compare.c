/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: packet and map comparison with the kernel (--compare-kernel, --ignore-bytes). */
#include "run_int.h"

/* ---------------------------------------------------------------------------------------------
 * Kernel comparison.
 */
void nicsim_run_compare_packet(const struct nicsim_dp_result *res,
                               const struct nicsim_kref_result *kr, struct report_kernel_pkt *kp)
{
    const struct nicsim_xdp_result *x = &res->xdp;

    kp->valid = true;
    kp->retval = kr->verdict;
    kp->data = kr->data;
    kp->len = kr->linear_len;
    kp->ns = kr->duration_ns;
    kp->match = true;
    if (x->r0 != kr->verdict) {
        kp->match = false;
        snprintf(kp->mismatch, sizeof(kp->mismatch), "verdict: NIC %s (%llu), kernel %s (%u)",
                 nicsim_xdp_action_name(x->r0), (unsigned long long)x->r0,
                 nicsim_xdp_action_name(kr->verdict), kr->verdict);
    } else if (x->len != kr->linear_len || memcmp(x->data, kr->data, x->len)) {
        uint32_t i = 0;
        while (i < x->len && i < kr->linear_len && x->data[i] == kr->data[i])
            i++;
        kp->match = false;
        snprintf(kp->mismatch, sizeof(kp->mismatch),
                 "bytes: NIC %u bytes, kernel %u bytes, first difference at offset %u", x->len,
                 kr->linear_len, i);
    }
}

/* Sum per-CPU values over CPUs, as little-endian words of 8, 4 or 1 bytes. */
static void sum_cpus(const struct nicsim_mapjson_layout *l, const uint8_t *v, uint8_t *out)
{
    size_t w = l->value_size % 8 == 0 ? 8 : l->value_size % 4 == 0 ? 4 : 1;

    for (size_t off = 0; off < l->value_size; off += w) {
        uint64_t s = 0;
        for (uint32_t c = 0; c < l->ncpus; c++) {
            uint64_t x = 0;
            memcpy(&x, v + (size_t)c * l->value_size + off, w);
            s += x;
        }
        memcpy(out + off, &s, w);
    }
}

/* Zero the bytes --ignore-bytes leaves out of the comparison of map i's values. */
static void mask_ignored(const struct run *r, size_t i, uint8_t *v)
{
    uint32_t vs = nicsim_obj__map(r->obj, i)->value_size;

    for (unsigned a = 0; a < r->o->n_ignore_args; a++) {
        unsigned off = r->ignore[a].off, len = r->ignore[a].len;
        if ((size_t)r->ignore[a].map == i && off < vs)
            memset(v + off, 0, len > vs - off ? vs - off : len);
    }
}

/* A map of maps: each side's elements must hold the map of the same name. 1 on a mismatch. */
static int compare_outer_map(struct run *r, size_t i, int kidx, FILE *tty)
{
    const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
    struct nicsim_mapjson_entries ne, ke;
    char err[ERR_LEN];
    size_t bad = 0;

    if (nicsim_run_nic_map_dump(r, i, &ne)) {
        fprintf(tty, "map %s: cannot read the NIC map\n", m->name);
        return 1;
    }
    if (nicsim_kref__outer_map_dump(r->kref, (size_t)kidx, &ke, err, sizeof(err))) {
        fprintf(tty, "map %s: cannot read the kernel map: %s\n", m->name, err);
        nicsim_mapjson_entries__free(&ne);
        nicsim_mapjson_entries__free(&ke);
        return 1;
    }
    nicsim_mapjson_entries__index(&ke);
    for (size_t e = 0; e < ne.count; e++) {
        struct nicsim_kref_map_info ki;
        uint32_t id, kmap;
        long ke_i = nicsim_mapjson_entries__find(&ke, nicsim_mapjson_entries__key(&ne, e));
        memcpy(&id, nicsim_mapjson_entries__value(&ne, e), 4);
        int nmap = nicsim_run_map_by_id(r, id);
        const char *nname = nmap >= 0 ? nicsim_obj__map(r->obj, (size_t)nmap)->name : "?";
        if (ke_i < 0) {
            if (!bad++)
                fprintf(tty, "map %s: a key only the NIC has (entry %zu)\n", m->name, e);
            continue;
        }
        memcpy(&kmap, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), 4);
        const char *kname =
            kmap != UINT32_MAX && !nicsim_kref__map_info(r->kref, kmap, &ki) ? ki.layout.name : "?";
        if (strcmp(nname, kname) && !bad++)
            fprintf(tty, "map %s: entry %zu: the NIC's holds map %s, the kernel's map %s\n",
                    m->name, e, nname, kname);
    }
    if (ke.count != ne.count && !bad++)
        fprintf(tty, "map %s: the NIC holds %zu entries, the kernel %zu\n", m->name, ne.count,
                ke.count);
    nicsim_mapjson_entries__free(&ne);
    nicsim_mapjson_entries__free(&ke);
    return bad != 0;
}

int nicsim_run_compare_maps(struct run *r, FILE *tty)
{
    char err[ERR_LEN];
    int mismatches = 0;

    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        const struct nicsim_obj_map *m = nicsim_obj__map(r->obj, i);
        struct nicsim_kref_map_info ki;
        struct nicsim_mapjson_entries ne, ke;
        int kidx = nicsim_kref__map_index(r->kref, m->name);

        if (m->inner && kidx >= 0) {
            mismatches += compare_outer_map(r, i, kidx, tty);
            continue;
        }
        if (!nicsim_run_is_dumpable(m->type) || kidx < 0 ||
            nicsim_kref__map_info(r->kref, (size_t)kidx, &ki) || !ki.dumpable)
            continue;
        if (nicsim_run_nic_map_dump(r, i, &ne)) {
            fprintf(tty, "map %s: cannot read the NIC map\n", m->name);
            mismatches++;
            continue;
        }
        if (nicsim_kref__map_dump(r->kref, (size_t)kidx, &ke, err, sizeof(err))) {
            fprintf(tty, "map %s: cannot read the kernel map: %s\n", m->name, err);
            nicsim_mapjson_entries__free(&ne);
            mismatches++;
            continue;
        }
        struct nicsim_mapjson_layout nl = nicsim_run_nic_layout(r, m);
        nicsim_mapjson_entries__index(&ke); /* hash maps dump in another order on each side */
        uint8_t *a = malloc(m->value_size), *b = malloc(m->value_size);
        size_t bad = 0;
        for (size_t e = 0; a && b && e < ne.count; e++) {
            const uint8_t *key = nicsim_mapjson_entries__key(&ne, e);
            /* Same position first (arrays dump in index order on both sides), else search. */
            long ke_i =
                e < ke.count && !memcmp(nicsim_mapjson_entries__key(&ke, e), key, m->key_size)
                    ? (long)e
                    : nicsim_mapjson_entries__find(&ke, key);
            if (ke_i < 0) {
                if (!bad++)
                    fprintf(tty, "map %s: a key only the NIC has (entry %zu)\n", m->name, e);
                continue;
            }
            if (nl.per_cpu) {
                sum_cpus(&nl, nicsim_mapjson_entries__value(&ne, e), a);
                sum_cpus(&ki.layout, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), b);
            } else {
                memcpy(a, nicsim_mapjson_entries__value(&ne, e), m->value_size);
                memcpy(b, nicsim_mapjson_entries__value(&ke, (size_t)ke_i), m->value_size);
            }
            mask_ignored(r, i, a);
            mask_ignored(r, i, b);
            if (memcmp(a, b, m->value_size) && !bad++)
                fprintf(tty, "map %s: entry %zu: values differ%s\n", m->name, e,
                        nl.per_cpu ? " (summed over CPUs)" : "");
        }
        if (ke.count != ne.count) {
            if (!bad++)
                fprintf(tty, "map %s: the NIC holds %zu entries, the kernel %zu\n", m->name,
                        ne.count, ke.count);
        }
        if (bad)
            mismatches++;
        free(a);
        free(b);
        nicsim_mapjson_entries__free(&ne);
        nicsim_mapjson_entries__free(&ke);
    }
    return mismatches;
}
