/* SPDX-License-Identifier: MIT */
/*
 * Which program of an object `nicsim run` offloads, and what it says about the others.
 *
 * Real objects hold several programs: XDP programs in legacy sections libbpf cannot type
 * (SEC("xdp1"), "xdp_icmp", "prog"), TC programs calling kfuncs, tracing programs. Only the
 * chosen program and what it reaches (prog array slots) are loaded; the others are reported as
 * skipped, each with why, and never stop the chosen one.
 */
#include "progsel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/bpf.h>

/* "a (section xdp), b (section tc)" */
static void list_all(const struct nicsim_obj *obj, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < nicsim_obj__n_progs(obj) && used < len; i++) {
        const struct nicsim_obj_prog *p = nicsim_obj__prog(obj, i);
        int n = snprintf(buf + used, len - used, "%s%s (section %s)", used ? ", " : "", p->name,
                         p->section);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, len, "none");
}

static const char *type_str(uint32_t t)
{
    const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)t);
    return s ? s : "unknown-type";
}

/* NULL if `p` can be offloaded as an XDP program, else why not. */
static const char *unloadable(const struct nicsim_obj_prog *p, char *buf, size_t len)
{
    if (p->error)
        return p->error;
    if (p->prog_type != BPF_PROG_TYPE_XDP && p->prog_type != BPF_PROG_TYPE_UNSPEC) {
        snprintf(buf, len, "it is a %s program; the NIC runs XDP programs", type_str(p->prog_type));
        return buf;
    }
    return NULL;
}

int nicsim_cli_prog_select(const struct nicsim_obj *obj, const char *object, const char *want,
                    const struct nicsim_obj_prog **out, char *err, size_t errlen)
{
    const struct nicsim_obj_prog *chosen = NULL;
    char all[1024], why[256];
    size_t n_xdp = 0;
    const char *bad;

    *out = NULL;
    list_all(obj, all, sizeof(all));
    if (want) {
        chosen = nicsim_obj__find_prog(obj, want);
        if (!chosen) {
            snprintf(err, errlen, "--prog %s: %s has no program '%s'; its programs: %s", want,
                     object, want, all);
            return -1;
        }
    } else {
        for (size_t i = 0; i < nicsim_obj__n_progs(obj); i++) {
            if (nicsim_obj__prog(obj, i)->prog_type == BPF_PROG_TYPE_XDP) {
                n_xdp++;
                chosen = nicsim_obj__prog(obj, i);
            }
        }
        if (n_xdp == 0) {
            snprintf(err, errlen,
                     "%s: no XDP program in the object (a program in a section libbpf does not "
                     "know, such as SEC(\"xdp1\"), runs as XDP when named with --prog); its "
                     "programs: %s",
                     object, all);
            return -1;
        }
        if (n_xdp > 1) {
            size_t used = 0;
            snprintf(err, errlen, "%s has %zu XDP programs, choose one with --prog:", object,
                     n_xdp);
            for (size_t i = 0; i < nicsim_obj__n_progs(obj); i++) {
                const struct nicsim_obj_prog *p = nicsim_obj__prog(obj, i);
                used = strlen(err);
                if (p->prog_type == BPF_PROG_TYPE_XDP && used < errlen)
                    snprintf(err + used, errlen - used, " %s", p->name);
            }
            return -1;
        }
    }
    bad = unloadable(chosen, why, sizeof(why));
    if (bad) {
        snprintf(err, errlen, "%s: program %s (section %s) cannot be offloaded: %s", object,
                 chosen->name, chosen->section, bad);
        return -1;
    }
    *out = chosen;
    return 0;
}

void nicsim_cli_prog_report_skipped(const struct nicsim_obj *obj, const char *object,
                             const struct nicsim_obj_prog *chosen, const int *prog_fds, FILE *f)
{
    size_t n = nicsim_obj__n_progs(obj), skipped = 0;
    char why[256];

    for (size_t i = 0; i < n; i++)
        skipped += prog_fds[i] < 0;
    if (!skipped)
        return;
    fprintf(f, "nicsim run: %s: loaded program %s", object, chosen->name);
    for (size_t i = 0; i < n; i++) {
        const struct nicsim_obj_prog *p = nicsim_obj__prog(obj, i);
        if (p != chosen && prog_fds[i] >= 0)
            fprintf(f, ", %s (tail-call target)", p->name);
    }
    fprintf(f, "; skipped %zu other program%s:", skipped, skipped == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const struct nicsim_obj_prog *p = nicsim_obj__prog(obj, i);
        const char *bad;
        if (prog_fds[i] >= 0)
            continue;
        bad = unloadable(p, why, sizeof(why));
        fprintf(f, " %s (section %s: %s);", p->name, p->section,
                bad ? bad : "not chosen and not reached by a tail call");
    }
    fputc('\n', f);
}

const char *nicsim_cli_prog_load_reason(int fd, const char *err_msg, char *buf, size_t len)
{
    if (err_msg && err_msg[0])
        return err_msg;
    snprintf(buf, len,
             "%s, before the verifier ran (the load attributes: program type, attach type, "
             "flags, name, or the NIC's ifindex)",
             strerror(fd < 0 ? -fd : EINVAL));
    return buf;
}
