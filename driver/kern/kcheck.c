/* SPDX-License-Identifier: MIT */
/*
 * Cross-check with the host kernel's verifier: the same program is loaded as a plain XDP program
 * by this emulation (no driver, no offload) and by the real kernel through libbpf, with its maps
 * created on each side, and the two verdicts are compared. Offload-specific refusals (the NIC
 * driver's) are not part of the comparison: they have no kernel counterpart.
 *
 * Map references: LDDW src NICSIM_LDDW_MAP_IDX / _MAP_IDX_VALUE (and, for convenience, MAP_FD /
 * MAP_VALUE) take imm as an index into `maps`; both sides get them as BPF_PSEUDO_MAP_IDX(_VALUE)
 * with an fd_array of their own descriptors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <bpf/bpf.h>

#include "kern_internal.h"
#include "nicsim/util.h"

#define KLOG_SIZE (1u << 20)

/* Last `n` non-empty lines of a log, joined with " / ". */
static void log_tail(const char *log, int n, char *out, size_t len)
{
    const char *end = log + strlen(log), *p = end;
    int lines = 0;

    out[0] = '\0';
    while (p > log && lines < n) {
        const char *e = p;

        while (e > log && e[-1] == '\n')
            e--;
        p = e;
        while (p > log && p[-1] != '\n')
            p--;
        if (e > p)
            lines++;
        if (e == log)
            break;
    }
    {
        size_t o = 0;

        for (const char *c = p; c < end && o + 4 < len; c++) {
            if (*c == '\n') {
                if (o && c + 1 < end && c[1] != '\n') {
                    memcpy(out + o, " / ", 3);
                    o += 3;
                }
                continue;
            }
            out[o++] = *c;
        }
        out[o] = '\0';
    }
}

/* Drop the statistics print_verification_stats() ends every log with ("processed N insns ...",
 * "verification time ...", "stack depth ..."): the lines before them say why. */
static void strip_stats(char *log)
{
    static const char *const stats[] = {"processed ", "verification time ", "stack depth "};
    size_t len = strlen(log);

    for (;;) {
        char *line;
        bool is_stat = false;

        while (len && log[len - 1] == '\n')
            log[--len] = '\0';
        line = strrchr(log, '\n');
        line = line ? line + 1 : log;
        for (size_t i = 0; i < sizeof(stats) / sizeof(stats[0]); i++)
            is_stat |= !strncmp(line, stats[i], strlen(stats[i]));
        if (!is_stat || line == log)
            return;
        *line = '\0';
        len = (size_t)(line - log);
    }
}

static struct nicsim_insn *normalise(const struct nicsim_kern_prog_load_attr *attr, size_t n_maps,
                                     int *err)
{
    struct nicsim_insn *in = malloc((size_t)attr->insn_cnt * sizeof(*in));

    *err = 0;
    if (!in) {
        *err = -ENOMEM;
        return NULL;
    }
    memcpy(in, attr->insns, (size_t)attr->insn_cnt * sizeof(*in));
    for (uint32_t i = 0; i + 1 < attr->insn_cnt; i++) {
        if (in[i].code != OP_LDDW)
            continue;
        switch (in[i].src) {
        case NICSIM_LDDW_MAP_FD:
            in[i].src = NICSIM_LDDW_MAP_IDX;
            break;
        case NICSIM_LDDW_MAP_VALUE:
            in[i].src = NICSIM_LDDW_MAP_IDX_VALUE;
            break;
        default:
            break;
        }
        if ((in[i].src == NICSIM_LDDW_MAP_IDX || in[i].src == NICSIM_LDDW_MAP_IDX_VALUE) &&
            (in[i].imm < 0 || (size_t)in[i].imm >= n_maps)) {
            *err = -EINVAL;
            free(in);
            return NULL;
        }
        i++;
    }
    return in;
}

static int run_ours(const struct nicsim_kern_prog_load_attr *attr, const struct nicsim_insn *insns,
                    const struct nicsim_kern_map_create_attr *maps, size_t n_maps,
                    struct nicsim_kern_kcheck *res)
{
    struct nicsim_kern *k = nicsim_kern__new(NULL);
    struct nicsim_kern_prog_load_attr a;
    int *fds = calloc(n_maps ? n_maps : 1, sizeof(int));
    char *log = calloc(1, KLOG_SIZE);
    int rc = 0;

    if (!k || !fds || !log) {
        nicsim_kern__free(k);
        free(fds);
        free(log);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n_maps; i++) {
        struct nicsim_kern_map_create_attr m = maps[i];
        char name[NICSIM_BPF_OBJ_NAME];

        m.sz = sizeof(m);
        m.map_ifindex = 0;
        if (m.map_name) { /* libbpf's bpf_map_create truncates names for the kernel: so do we */
            snprintf(name, sizeof(name), "%s", m.map_name);
            m.map_name = name;
        }
        fds[i] = nicsim_kern_map_create(k, &m, NULL);
        if (fds[i] < 0) {
            snprintf(res->our_msg, sizeof(res->our_msg), "map %zu: creation failed (%d)", i,
                     fds[i]);
            res->ours = fds[i];
            goto out;
        }
    }
    a = *attr; /* nicsim_kern_kcheck's copy under the options rule */
    a.insns = insns;
    a.prog_ifindex = 0;
    a.prog_flags = 0;
    a.fd_array = fds;
    a.fd_array_cnt = (uint32_t)n_maps;
    a.log_buf = log;
    a.log_size = KLOG_SIZE;
    a.log_level = 1;
    rc = nicsim_kern_prog_load(k, &a);
    log_tail(log, 2, res->our_log, sizeof(res->our_log));
    if (rc < 0) {
        res->ours = rc;
        if (a.err_insn >= 0)
            snprintf(res->our_msg, sizeof(res->our_msg), "insn %d: %s", a.err_insn, a.err_msg);
        else
            snprintf(res->our_msg, sizeof(res->our_msg), "%s", a.err_msg);
    } else {
        res->ours = 0;
    }
    rc = 0;
out:
    nicsim_kern__free(k);
    free(fds);
    free(log);
    return rc;
}

static void run_kernel(const struct nicsim_kern_prog_load_attr *attr,
                       const struct nicsim_insn *insns,
                       const struct nicsim_kern_map_create_attr *maps, size_t n_maps,
                       struct nicsim_kern_kcheck *res)
{
    int *fds = calloc(n_maps ? n_maps : 1, sizeof(int));
    char *log = calloc(1, KLOG_SIZE);
    LIBBPF_OPTS(bpf_prog_load_opts, popts);
    int fd;

    res->kernel_available = true;
    if (!fds || !log) {
        res->kernel_available = false;
        snprintf(res->kernel_msg, sizeof(res->kernel_msg), "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n_maps; i++)
        fds[i] = -1;
    for (size_t i = 0; i < n_maps; i++) {
        LIBBPF_OPTS(bpf_map_create_opts, mopts, .map_flags = maps[i].map_flags);

        fds[i] = bpf_map_create((enum bpf_map_type)maps[i].map_type, maps[i].map_name,
                                maps[i].key_size, maps[i].value_size, maps[i].max_entries, &mopts);
        if (fds[i] < 0) {
            int e = fds[i];

            if (e == -EPERM || e == -ENOSYS) {
                res->kernel_available = false;
                snprintf(res->kernel_msg, sizeof(res->kernel_msg),
                         "kernel comparison unavailable: bpf(BPF_MAP_CREATE) refused (%s)",
                         strerror(-e));
            } else {
                res->kernel = e;
                snprintf(res->kernel_msg, sizeof(res->kernel_msg),
                         "map %zu: the kernel refused to create it (%s)", i, strerror(-e));
            }
            goto out;
        }
    }
    popts.fd_array = fds;
    popts.log_buf = log;
    popts.log_size = KLOG_SIZE;
    popts.log_level = 1;
    popts.expected_attach_type = attr->expected_attach_type ? attr->expected_attach_type : BPF_XDP;
    fd = bpf_prog_load(BPF_PROG_TYPE_XDP, attr->prog_name, attr->license ? attr->license : "GPL",
                       (const struct bpf_insn *)insns, attr->insn_cnt, &popts);
    if (fd >= 0) {
        res->kernel = 0;
        close(fd);
        goto out;
    }
    if ((fd == -EPERM || fd == -ENOSYS) && !log[0]) {
        res->kernel_available = false;
        snprintf(res->kernel_msg, sizeof(res->kernel_msg),
                 "kernel comparison unavailable: bpf(BPF_PROG_LOAD) refused (%s)", strerror(-fd));
        goto out;
    }
    res->kernel = fd;
    strip_stats(log);
    log_tail(log, 2, res->kernel_msg, sizeof(res->kernel_msg));
out:
    for (size_t i = 0; fds && i < n_maps; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
    free(log);
}

int nicsim_kern_kcheck(const struct nicsim_kern_prog_load_attr *attr,
                       const struct nicsim_kern_map_create_attr *maps, size_t n_maps,
                       struct nicsim_kern_kcheck *res)
{
    struct nicsim_kern_prog_load_attr ka = {0};
    struct nicsim_insn *insns;
    int err;

    if (!attr || !res || nicsim_opts_copy(&ka, sizeof(ka), attr) < 0)
        return -EINVAL;
    ka.sz = sizeof(ka);
    attr = &ka;
    if (!attr->insns || !attr->insn_cnt || (n_maps && !maps))
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    insns = normalise(attr, n_maps, &err);
    if (!insns)
        return err;
    err = run_ours(attr, insns, maps, n_maps, res);
    if (err) {
        free(insns);
        return err;
    }
    run_kernel(attr, insns, maps, n_maps, res);
    free(insns);
    if (!res->kernel_available) {
        snprintf(res->report, sizeof(res->report), "%s", res->kernel_msg);
        return 0;
    }
    res->disagree = (res->ours == 0) != (res->kernel == 0);
    if (res->disagree)
        snprintf(res->report, sizeof(res->report), "disagreement: nicsim %s%s%s%s, kernel %s%s%s%s",
                 res->ours ? "refuses (" : "accepts", res->ours ? strerror(-res->ours) : "",
                 res->ours ? "): " : "", res->ours ? res->our_msg : "",
                 res->kernel ? "refuses (" : "accepts", res->kernel ? strerror(-res->kernel) : "",
                 res->kernel ? "): " : "", res->kernel ? res->kernel_msg : "");
    else
        snprintf(res->report, sizeof(res->report), "agreement: both %s",
                 res->ours ? "refuse" : "accept");
    return 0;
}
