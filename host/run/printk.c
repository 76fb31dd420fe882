/* SPDX-License-Identifier: MIT */
/*
 * bpf_trace_printk on the NIC, host side: the core's records (include/nicsim/printk.h) arrive
 * through the firmware's event queue with the perf event records, in packet order. Each is
 * formatted as the kernel's bstr_printf would, printed as a trace_pipe line, written to
 * --events, and compared with the lines the kernel wrote for the same packet.
 */
#include "printk.h"

#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "nicsim/printk.h"

bool nicsim_cli_printk_used(const struct nicsim_obj *obj, const int *prog_fds)
{
    for (size_t i = 0; i < nicsim_obj__n_progs(obj); i++) {
        const struct nicsim_obj_prog *p = nicsim_obj__prog(obj, i);
        if (prog_fds[i] < 0)
            continue;
        for (size_t k = 0; k < p->n; k++)
            if (p->insns[k].code == (BPF_JMP | BPF_CALL) && p->insns[k].src == 0 &&
                p->insns[k].imm == BPF_FUNC_trace_printk)
                return true;
    }
    return false;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

bool nicsim_cli_printk_on_event(struct cli_printk *p, FILE *tty, FILE *events, uint64_t packet,
                         const struct nicsim_event_rec *rec, const void *data)
{
    char text[NICSIM_PRINTK_OUT_MAX];

    if (rec->map_id != NICSIM_EVENT_TRACE_PRINTK)
        return false;
    if (nicsim_printk_format(data, rec->len, text, sizeof(text)) < 0)
        snprintf(text, sizeof(text), "(malformed trace_printk record of %u bytes)", rec->len);
    /* trace_pipe shows one event per line: a trailing newline of the format is not doubled */
    size_t n = strlen(text);
    while (n && text[n - 1] == '\n')
        text[--n] = '\0';
    p->total++;
    if (tty)
        fprintf(tty, "%16s-%-7llu [%03u] bpf_trace_printk: %s\n", "nicsim-packet",
                (unsigned long long)packet, rec->cpu, text);
    if (events) {
        fprintf(events, "{\"packet\":%llu,\"cpu\":%u,\"trace_printk\":", (unsigned long long)packet,
                rec->cpu);
        json_str(events, text);
        fputs("}\n", events);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        char **l = realloc(p->lines, cap * sizeof(*l));
        if (!l)
            return true;
        p->lines = l;
        p->cap = cap;
    }
    if ((p->lines[p->n] = strdup(text)))
        p->n++;
    return true;
}

void nicsim_cli_printk_begin_packet(struct cli_printk *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->lines[i]);
    p->n = 0;
}

void nicsim_cli_printk_compare(const struct cli_printk *p, const struct nicsim_kref_result *kr,
                        bool *match, char *mismatch, size_t len)
{
    if (!kr->trace_read)
        return;
    size_t n = p->n < kr->n_trace ? p->n : kr->n_trace;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p->lines[i], kr->trace[i])) {
            *match = false;
            snprintf(mismatch, len, "bpf_trace_printk line %zu: NIC \"%s\", kernel \"%s\"", i + 1,
                     p->lines[i], kr->trace[i]);
            return;
        }
    }
    if (p->n != kr->n_trace) {
        *match = false;
        snprintf(mismatch, len, "bpf_trace_printk: NIC printed %zu lines, kernel %zu", p->n,
                 kr->n_trace);
    }
}

void nicsim_cli_printk_free(struct cli_printk *p)
{
    nicsim_cli_printk_begin_packet(p);
    free(p->lines);
    p->lines = NULL;
    p->cap = 0;
}
