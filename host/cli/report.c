/* SPDX-License-Identifier: MIT */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void report_hist__add(struct report_hist *h, uint64_t v)
{
    if (v < REPORT_HIST_EXACT) {
        h->exact[v]++;
    } else {
        if (h->n_big == h->cap_big) {
            size_t cap = h->cap_big ? 2 * h->cap_big : 1024;
            uint64_t *b = realloc(h->big, cap * sizeof(*b));
            if (!b)
                h->oom = true;
            else {
                h->big = b;
                h->cap_big = cap;
            }
        }
        if (h->n_big < h->cap_big) {
            h->big[h->n_big++] = v;
            h->sorted = false;
        }
    }
    if (!h->count || v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->count++;
    h->sum += v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

uint64_t report_hist__quantile(struct report_hist *h, unsigned pct)
{
    if (!h->count)
        return 0;
    /* nearest rank, in integers: ceil(pct * count / 100) */
    uint64_t rank = (h->count / 100) * pct + ((h->count % 100) * pct + 99) / 100;
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint64_t v = 0; v < REPORT_HIST_EXACT; v++) {
        seen += h->exact[v];
        if (seen >= rank)
            return v;
    }
    if (!h->sorted) {
        qsort(h->big, h->n_big, sizeof(*h->big), cmp_u64);
        h->sorted = true;
    }
    if (rank - seen - 1 < h->n_big && !h->oom)
        return h->big[rank - seen - 1];
    return h->max;
}

void report_hist__free(struct report_hist *h)
{
    free(h->big);
    h->big = NULL;
    h->n_big = h->cap_big = 0;
}

void report__free(struct report *r)
{
    if (r->json)
        fclose(r->json);
    r->json = NULL;
    report_hist__free(&r->cycles);
    report_hist__free(&r->insns);
    report_hist__free(&r->latency_ns);
    report_hist__free(&r->kernel_ns);
}

int report__open(struct report *r, const char *json_path, uint32_t clock_mhz, bool kernel)
{
    memset(r, 0, sizeof(*r));
    r->clock_mhz = clock_mhz;
    r->kernel = kernel;
    r->json_first = true;
    if (json_path) {
        r->json = fopen(json_path, "w");
        if (!r->json)
            return -errno;
        fputs("{\"packets\": [\n", r->json);
    }
    return 0;
}

static char *hex(const uint8_t *p, uint32_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(2 * (size_t)n + 1);
    if (!s)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

static const char *dest_name(uint8_t dest)
{
    switch (dest) {
    case NICSIM_DP_DEST_PORT:
        return "port";
    case NICSIM_DP_DEST_HOST:
        return "host";
    default:
        return "drop";
    }
}

static json_t *stalls_json(const struct nicsim_stalls *s)
{
    return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "load_use", (json_int_t)s->load_use, "memory",
                     (json_int_t)s->memory, "branch", (json_int_t)s->branch, "jump",
                     (json_int_t)s->jump, "call", (json_int_t)s->call, "muldiv",
                     (json_int_t)s->muldiv, "helper", (json_int_t)s->helper);
}

static void emit(struct report *r, json_t *obj)
{
    if (!r->json_first)
        fputs(",\n", r->json);
    r->json_first = false;
    json_dumpf(obj, r->json, JSON_COMPACT);
    json_decref(obj);
}

void report__packet(struct report *r, uint64_t index, const struct nicsim_dp_result *res,
                    const struct report_kernel_pkt *k)
{
    r->packets++;
    if (res->error && res->error != NICSIM_DP_ERR_NO_PROGRAM) {
        r->mac_errors[res->error]++;
        if (r->json)
            emit(r, json_pack("{s:I,s:s,s:s}", "index", (json_int_t)index, "error",
                              nicsim_dp_error_code(res->error), "error_message",
                              nicsim_dp_error_name(res->error)));
        return;
    }
    const struct nicsim_xdp_result *x = &res->xdp;
    r->verdicts[x->r0 <= NICSIM_XDP_REDIRECT ? x->r0 : 5]++;
    if (x->run.status == NICSIM_RUN_TRAP)
        r->traps++;
    if (x->run.status == NICSIM_RUN_WATCHDOG)
        r->watchdogs++;
    report_hist__add(&r->cycles, x->run.cycles);
    r->issue += x->run.issue;
    r->stalls.load_use += x->run.stalls.load_use;
    r->stalls.memory += x->run.stalls.memory;
    r->stalls.branch += x->run.stalls.branch;
    r->stalls.jump += x->run.stalls.jump;
    r->stalls.call += x->run.stalls.call;
    r->stalls.muldiv += x->run.stalls.muldiv;
    r->stalls.helper += x->run.stalls.helper;
    r->fill += x->run.cycles - x->run.issue - x->run.stalls.load_use - x->run.stalls.memory -
               x->run.stalls.branch - x->run.stalls.jump - x->run.stalls.call -
               x->run.stalls.muldiv - x->run.stalls.helper;
    uint64_t latency_ns = (res->end_cycle - res->arrival_cycle) * 1000 / r->clock_mhz;
    report_hist__add(&r->latency_ns, latency_ns);
    report_hist__add(&r->insns, x->run.insns);
    if (k && k->valid) {
        report_hist__add(&r->kernel_ns, k->ns);
        if (!k->match)
            r->kernel_mismatches++;
    }
    if (!r->json)
        return;
    char *data = hex(x->data, x->len);
    json_t *o =
        json_pack("{s:I,s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:o}", "index", (json_int_t)index, "verdict",
                  nicsim_xdp_action_name(x->r0), "verdict_code", (json_int_t)x->r0, "data_out",
                  data ? data : "", "cycles", (json_int_t)x->run.cycles, "instructions",
                  (json_int_t)x->run.insns, "core", (json_int_t)res->core, "port",
                  (json_int_t)res->port, "stalls", stalls_json(&x->run.stalls));
    json_object_set_new(o, "latency_ns", json_integer((json_int_t)latency_ns));
    free(data);
    json_t *eg = json_pack("{s:s}", "dest", dest_name(res->dest));
    if (res->dest == NICSIM_DP_DEST_PORT)
        json_object_set_new(eg, "port", json_integer(res->egress_port));
    if (res->egress_ifindex)
        json_object_set_new(eg, "ifindex", json_integer(res->egress_ifindex));
    if (x->action == NICSIM_XDP_PASS) /* the host receive queue (ctx->rx_queue_index) */
        json_object_set_new(eg, "rx_queue", json_integer(x->rx_queue));
    if (x->action == NICSIM_XDP_REDIRECT && x->redirect_cpu >= 0) { /* cpumap: host CPU's queue */
        json_object_set_new(eg, "cpu", json_integer(x->redirect_cpu));
        json_object_set_new(eg, "rx_queue", json_integer(x->redirect_cpu));
    }
    json_object_set_new(o, "egress", eg);
    if (x->meta_len) {
        char *meta = hex(x->meta, x->meta_len);
        json_object_set_new(o, "meta_out", json_string(meta ? meta : ""));
        free(meta);
    }
    if (x->r0 == NICSIM_XDP_REDIRECT && x->action == NICSIM_XDP_REDIRECT) {
        json_t *rd = json_pack("{s:I}", "ifindex", (json_int_t)x->redirect_ifindex);
        if (x->redirect_map_id >= 0) {
            json_object_set_new(rd, "nic_map_id", json_integer(x->redirect_map_id));
            json_object_set_new(rd, "key", json_integer(x->redirect_key));
            if (x->redirect_cpu >= 0)
                json_object_set_new(rd, "cpu", json_integer(x->redirect_cpu));
        }
        json_object_set_new(o, "redirect", rd);
    }
    if (x->run.status != NICSIM_RUN_OK) {
        json_object_set_new(o, "trap",
                            json_pack("{s:s,s:I,s:s}", "kind",
                                      nicsim_trap_kind_name(x->run.trap.kind), "pc",
                                      (json_int_t)x->run.trap.pc, "message", x->run.trap.msg));
    }
    if (x->run.tail_calls)
        json_object_set_new(o, "tail_calls", json_integer(x->run.tail_calls));
    if (k && k->valid) {
        json_t *kj = json_pack("{s:s,s:I,s:I,s:b}", "verdict", nicsim_xdp_action_name(k->retval),
                               "verdict_code", (json_int_t)k->retval, "ns", (json_int_t)k->ns,
                               "match", k->match);
        if (!k->match) {
            char *kd = hex(k->data, k->len);
            json_object_set_new(kj, "data_out", json_string(kd ? kd : ""));
            json_object_set_new(kj, "mismatch", json_string(k->mismatch));
            free(kd);
        }
        json_object_set_new(o, "kernel", kj);
    }
    emit(r, o);
}

static double mpps(uint64_t cycles, uint32_t mhz)
{
    return cycles ? (double)mhz / (double)cycles : 0.0;
}

int report__finish(struct report *r, FILE *tty, const struct nicsim_dp_stats *stats,
                   uint32_t n_cores, const char *prog_name)
{
    static const char *const vnames[] = {"XDP_ABORTED", "XDP_DROP",     "XDP_PASS",
                                         "XDP_TX",      "XDP_REDIRECT", "other"};
    uint64_t ran = r->cycles.count, errors = 0;
    for (int i = 1; i < 5; i++)
        errors += r->mac_errors[i];
    double mean_cycles = ran ? (double)r->cycles.sum / (double)ran : 0;
    double cpi = r->insns.sum ? (double)r->cycles.sum / (double)r->insns.sum : 0;
    double ns_per_cycle = 1000.0 / r->clock_mhz;
    int rc = 0;

    if (r->json) {
        json_t *v = json_object();
        for (int i = 0; i < 6; i++)
            json_object_set_new(v, vnames[i], json_integer((json_int_t)r->verdicts[i]));
        json_t *s = json_pack(
            "{s:s,s:I,s:I,s:I,s:o,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:f},s:{s:I,s:I,s:I,s:I,s:f},s:f,"
            "s:I,s:I,s:f,s:f}",
            "program", prog_name, "packets", (json_int_t)r->packets, "ran", (json_int_t)ran,
            "mac_errors", (json_int_t)errors, "verdicts", v, "traps", (json_int_t)r->traps,
            "watchdogs", (json_int_t)r->watchdogs, "cycles", "min", (json_int_t)r->cycles.min,
            "median", (json_int_t)report_hist__quantile(&r->cycles, 50), "p99",
            (json_int_t)report_hist__quantile(&r->cycles, 99), "max", (json_int_t)r->cycles.max,
            "mean", mean_cycles, "instructions", "min", (json_int_t)r->insns.min, "median",
            (json_int_t)report_hist__quantile(&r->insns, 50), "p99",
            (json_int_t)report_hist__quantile(&r->insns, 99), "max", (json_int_t)r->insns.max,
            "mean", ran ? (double)r->insns.sum / (double)ran : 0.0, "cpi", cpi, "clock_mhz",
            (json_int_t)r->clock_mhz, "cores", (json_int_t)n_cores, "mpps_per_core",
            mean_cycles ? r->clock_mhz / mean_cycles : 0.0, "mpps_all_cores",
            mean_cycles ? n_cores * r->clock_mhz / mean_cycles : 0.0);
        if (r->packets && r->wire_bytes && mean_cycles) {
            double frame = (double)r->wire_bytes / (double)r->packets;
            double per_core = r->clock_mhz * 1e6 / mean_cycles;
            json_object_set_new(s, "mean_frame_bytes", json_real(frame));
            json_object_set_new(
                s, "cores_for_line_rate",
                json_pack("{s:I,s:I,s:I}", "10GbE",
                          (json_int_t)ceil(10e9 / ((frame + 24.0) * 8.0) / per_core), "25GbE",
                          (json_int_t)ceil(25e9 / ((frame + 24.0) * 8.0) / per_core), "100GbE",
                          (json_int_t)ceil(100e9 / ((frame + 24.0) * 8.0) / per_core)));
        }
        json_t *bd = stalls_json(&r->stalls);
        json_object_set_new(bd, "issue", json_integer((json_int_t)r->issue));
        json_object_set_new(bd, "pipeline_fill", json_integer((json_int_t)r->fill));
        json_object_set_new(s, "cycle_breakdown", bd);
        if (r->latency_ns.count)
            json_object_set_new(
                s, "latency_ns",
                json_pack("{s:s,s:I,s:I,s:I}", "arrivals", r->arrival ? r->arrival : "trace",
                          "median", (json_int_t)report_hist__quantile(&r->latency_ns, 50), "p99",
                          (json_int_t)report_hist__quantile(&r->latency_ns, 99), "max",
                          (json_int_t)r->latency_ns.max));
        if (r->kernel)
            json_object_set_new(s, "kernel",
                                json_pack("{s:I,s:I,s:I}", "mismatches",
                                          (json_int_t)r->kernel_mismatches, "median_ns",
                                          (json_int_t)report_hist__quantile(&r->kernel_ns, 50),
                                          "packets", (json_int_t)r->kernel_ns.count));
        fputs("\n],\n\"summary\": ", r->json);
        json_dumpf(s, r->json, JSON_INDENT(2));
        json_decref(s);
        fputs("}\n", r->json);
        if (ferror(r->json))
            rc = -EIO;
        if (fclose(r->json) != 0 && !rc)
            rc = -errno;
        r->json = NULL;
    }

    if (!tty)
        return rc;
    fprintf(tty, "%s: %llu packets, %llu refused by the MAC", prog_name,
            (unsigned long long)r->packets, (unsigned long long)errors);
    const char *sep = " (";
    for (int i = 1; i < 5; i++) {
        if (r->mac_errors[i]) {
            fprintf(tty, "%s%llu %s", sep, (unsigned long long)r->mac_errors[i],
                    nicsim_dp_error_name(i));
            sep = ", ";
        }
    }
    fprintf(tty, "%s\n", errors ? ")" : "");
    fprintf(tty, "verdicts:");
    for (int i = 0; i < 6; i++)
        if (r->verdicts[i])
            fprintf(tty, " %s %llu", vnames[i], (unsigned long long)r->verdicts[i]);
    if (r->traps || r->watchdogs)
        fprintf(tty, " (traps %llu, watchdog %llu)", (unsigned long long)r->traps,
                (unsigned long long)r->watchdogs);
    fprintf(tty, "\n");
    if (ran) {
        fprintf(tty,
                "cycles/packet:       min %llu  median %llu  p99 %llu  max %llu  (mean %.1f)\n",
                (unsigned long long)r->cycles.min,
                (unsigned long long)report_hist__quantile(&r->cycles, 50),
                (unsigned long long)report_hist__quantile(&r->cycles, 99),
                (unsigned long long)r->cycles.max, mean_cycles);
        fprintf(tty, "instructions/packet: min %llu  median %llu  p99 %llu  max %llu\n",
                (unsigned long long)r->insns.min,
                (unsigned long long)report_hist__quantile(&r->insns, 50),
                (unsigned long long)report_hist__quantile(&r->insns, 99),
                (unsigned long long)r->insns.max);
        fprintf(tty, "cycles/instruction:  %.3f\n", cpi);
        if (r->cycles.sum) {
            const struct {
                const char *name;
                uint64_t v;
            } parts[] = {{"issue", r->issue},
                         {"fill", r->fill},
                         {"load-use", r->stalls.load_use},
                         {"memory", r->stalls.memory},
                         {"branch", r->stalls.branch},
                         {"jump", r->stalls.jump},
                         {"call", r->stalls.call},
                         {"mul/div", r->stalls.muldiv},
                         {"helpers", r->stalls.helper}};
            fprintf(tty, "where cycles went:  ");
            for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
                if (parts[i].v)
                    fprintf(tty, " %s %.1f%%", parts[i].name,
                            100.0 * (double)parts[i].v / (double)r->cycles.sum);
            fprintf(tty, "\n");
        }
        fprintf(tty,
                "throughput at %u MHz: %.2f Mpps per core, %.2f Mpps on %u cores (NIC %.1f "
                "ns/packet)\n",
                r->clock_mhz, mpps((uint64_t)(mean_cycles + 0.5), r->clock_mhz),
                n_cores * mpps((uint64_t)(mean_cycles + 0.5), r->clock_mhz), n_cores,
                mean_cycles * ns_per_cycle);
        if (r->packets && r->wire_bytes) {
            /* Ethernet line rate: each frame also costs preamble, SFD and inter-frame gap (20
             * bytes) and the FCS (4) the capture does not hold. */
            double frame = (double)r->wire_bytes / (double)r->packets;
            double per_core = mean_cycles ? r->clock_mhz * 1e6 / mean_cycles : 0;
            static const unsigned gbps[] = {10, 25, 100};
            fprintf(tty, "cores for line rate (mean frame %.0f bytes):", frame);
            for (int i = 0; i < 3 && per_core > 0; i++) {
                double pps = gbps[i] * 1e9 / ((frame + 24.0) * 8.0);
                fprintf(tty, "%s %uGbE %.0f", i ? "," : "", gbps[i], ceil(pps / per_core));
            }
            fprintf(tty, "\n");
        }
        if (r->latency_ns.count)
            fprintf(tty,
                    "latency (arrival to verdict, %s): median %llu ns  p99 %llu ns  max %llu ns\n",
                    r->arrival ? r->arrival : "the trace's timing",
                    (unsigned long long)report_hist__quantile(&r->latency_ns, 50),
                    (unsigned long long)report_hist__quantile(&r->latency_ns, 99),
                    (unsigned long long)r->latency_ns.max);
        if (stats) {
            fprintf(tty, "core load:");
            for (uint32_t c = 0; c < n_cores; c++)
                fprintf(tty, " core%u %llu", c, (unsigned long long)stats->core_packets[c]);
            fprintf(tty, " packets\n");
        }
    }
    if (r->kernel && r->kernel_ns.count)
        fprintf(tty,
                "host kernel (JIT):   median %llu ns/packet vs NIC median %.1f ns/packet; "
                "%llu mismatches\n",
                (unsigned long long)report_hist__quantile(&r->kernel_ns, 50),
                (double)report_hist__quantile(&r->cycles, 50) * ns_per_cycle,
                (unsigned long long)r->kernel_mismatches);
    return rc;
}
