/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the replay loop, the events drained after each packet, the end of a run. */
#include "run_int.h"

const char *nicsim_run_cmd_name = "nicsim run"; /* message prefix */

int nicsim_run_fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", nicsim_run_cmd_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* ---------------------------------------------------------------------------------------------
 * Events: drained from the firmware's queue over the BAR after each packet.
 */
static bool has_event_maps(const struct run *r)
{
    for (size_t i = 0; i < nicsim_obj__n_maps(r->obj); i++) {
        uint32_t t = nicsim_obj__map(r->obj, i)->type;
        if (t == BPF_MAP_TYPE_PERF_EVENT_ARRAY || t == BPF_MAP_TYPE_RINGBUF)
            return true;
    }
    return false;
}

static int on_event(void *user, const struct nicsim_event_rec *rec, const void *data)
{
    struct run *r = user;
    const uint8_t *d = data;

    if (nicsim_cli_printk_on_event(&r->printk, r->o->quiet ? NULL : stdout, r->events, r->cur_index, rec,
                            data))
        return 0;
    r->events_written++;
    if (!r->events)
        return 0;
    fprintf(r->events, "{\"packet\":%llu,\"nic_map_id\":%u,\"cpu\":%u,\"index\":%llu,\"data\":\"",
            (unsigned long long)r->cur_index, rec->map_id, rec->cpu,
            (unsigned long long)rec->index);
    for (uint32_t i = 0; i < rec->len; i++)
        fprintf(r->events, "%02x", d[i]);
    fputs("\"}\n", r->events);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Replay.
 */
/* The progress bar on stderr: how much of the file has been read, and packets so far. */
void nicsim_run_progress(uint64_t n, double frac, bool done)
{
    static const int width = 40;

    if (done) {
        fprintf(stderr, "\r%*s\r", width + 40, "");
        return;
    }
    if (frac < 0) {
        fprintf(stderr, "\r%llu packets", (unsigned long long)n);
        return;
    }
    int fill = (int)(frac * width);
    fprintf(stderr, "\r[%.*s%*s] %3d%%  %llu packets", fill,
            "========================================", width - fill, "", (int)(frac * 100),
            (unsigned long long)n);
}

void nicsim_run_teardown(struct run *r)
{
    nicsim_cli_printk_free(&r->printk);
    if (r->events)
        fclose(r->events);
    nicsim_kref__close(r->kref);
    if (r->k) {
        for (size_t i = 0; r->prog_fds && i < nicsim_obj__n_progs(r->obj); i++)
            if (r->prog_fds[i] >= 0)
                nicsim_kern_close(r->k, r->prog_fds[i]);
        for (size_t i = 0; r->map_fds && i < nicsim_obj__n_maps(r->obj); i++)
            if (r->map_fds[i] > 0)
                nicsim_kern_close(r->k, r->map_fds[i]);
    }
    nicsim_sys__free(r->sys);
    nicsim_obj__free(r->obj);
    free(r->map_fds);
    free(r->prog_fds);
}

/* Refuses an output that is also an input (or another output), before anything is written. */
static int check_files(const struct run_opts *o)
{
    struct cli_file f[16 + NICSIM_DP_MAX_PORTS + 2 * RUN_MAX_MAP_ARGS];
    size_t n = 0;
    int rc = 0;

    f[n++] = (struct cli_file){"the object", o->object, false};
    f[n++] = (struct cli_file){"--pcap", o->pcap, false};
    for (unsigned i = 1; i < o->n_pcap_files; i++)
        f[n++] = (struct cli_file){"--pcap", o->pcap_files[i], false};
    f[n++] = (struct cli_file){"--wave-nic", o->wave_nic, true};
    f[n++] = (struct cli_file){"--baseline", o->baseline, false};
    for (unsigned i = 0; i < o->n_map_args; i++) {
        const char *eq = strchr(o->map_args[i], '=');
        f[n++] = (struct cli_file){"--map", eq ? eq + 1 : NULL, false};
    }
    f[n++] = (struct cli_file){"--json", o->json, true};
    f[n++] = (struct cli_file){"--json-lines", o->json_lines, true};
    f[n++] = (struct cli_file){"--out-pcap", o->out_pcap, true};
    f[n++] = (struct cli_file){"--dump-maps", o->dump_maps, true};
    f[n++] = (struct cli_file){"--events", o->events, true};
    f[n++] = (struct cli_file){"--plot", o->plot, true};
    /* the files of --maps-dir */
    char **names = NULL;
    size_t n_names = 0;
    if (o->maps_dir) {
        struct dirent **ents;
        int k = scandir(o->maps_dir, &ents, NULL, alphasort);
        names = calloc(k > 0 ? (size_t)k : 1, sizeof(*names));
        for (int i = 0; i < k; i++) {
            size_t len = strlen(ents[i]->d_name);
            if (names && len > 5 && !strcmp(ents[i]->d_name + len - 5, ".json")) {
                size_t plen = strlen(o->maps_dir) + len + 2;
                names[n_names] = malloc(plen);
                if (names[n_names])
                    snprintf(names[n_names++], plen, "%s/%s", o->maps_dir, ents[i]->d_name);
            }
            free(ents[i]);
        }
        if (k >= 0)
            free(ents);
    }
    struct cli_file *all = calloc(n + n_names + 1, sizeof(*all));
    if (!all) {
        rc = nicsim_run_fail("out of memory");
    } else {
        memcpy(all, f, n * sizeof(*f));
        for (size_t i = 0; i < n_names; i++)
            all[n + i] = (struct cli_file){"--maps-dir", names[i], false};
        rc = nicsim_cli_files_check(all, n + n_names);
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    free(all);
    return rc;
}

enum { OUT_JSON, OUT_PCAP, OUT_DUMP, OUT_EVENTS, OUT_PLOT, OUT_JSONL, OUT_RJSON, OUT_RCSV, N_OUTS };

/* The SystemC NIC's part of the terminal summary beside the report's (drops by cause, achieved
 * rate): what each port sent (frames, Mpps and Gb/s over the run, first arrival to last
 * departure), queue occupancy maxima, each core's utilisation. */
static void print_nic_summary(FILE *f, struct nicsim_sys *sys, uint64_t first_arrival_cycle)
{
    const struct nicsim_dp_stats *st = nicsim_dp__stats(nicsim_sys__dp(sys));
    uint32_t mhz = nicsim_sys__clock_mhz(sys), ports = nicsim_sys__n_ports(sys);
    uint64_t span = st->last_departure_cycle > first_arrival_cycle
                        ? st->last_departure_cycle - first_arrival_cycle
                        : 0;
    double us = span ? (double)span / mhz : 0;

    fprintf(f, "NIC out:  ");
    for (uint32_t p = 0; p < ports; p++)
        if (st->tx_frames[p])
            fprintf(f, " port%u %llu frames %.3f Mpps %.3f Gb/s;", p,
                    (unsigned long long)st->tx_frames[p], us ? st->tx_frames[p] / us : 0,
                    us ? (st->tx_bytes[p] + 24.0 * st->tx_frames[p]) * 8 / us / 1000 : 0);
    fprintf(f, " host %llu frames\nNIC queue maxima: rx buffer", (unsigned long long)st->host_frames);
    for (uint32_t p = 0; p < ports; p++)
        fprintf(f, " port%u %u frames/%llu bytes", p, st->max_rx_buffer_frames[p],
                (unsigned long long)st->max_rx_buffer_bytes[p]);
    fprintf(f, "; tx queue");
    for (uint32_t p = 0; p < ports; p++)
        fprintf(f, " port%u %u", p, st->max_tx_queue_frames[p]);
    uint32_t hmax = 0;
    for (uint32_t q = 0; q < NICSIM_DP_MAX_HOST_QUEUES; q++)
        hmax = st->max_host_ring_entries[q] > hmax ? st->max_host_ring_entries[q] : hmax;
    fprintf(f, "; host ring %u\nNIC core utilisation:", hmax);
    for (uint32_t c = 0; c < nicsim_sys__n_cores(sys) && c < NICSIM_DP_MAX_CORES; c++)
        fprintf(f, " core%u %.3g%%", c, span ? 100.0 * st->core_busy_cycles[c] / span : 0.0);
    fputc('\n', f);
}

/* The traces of a run: one on --ingress-port, or one per --pcap PORT=FILE, merged by timestamp
 * (the earliest next frame first; at equal times the file given first). */
struct trace_src {
    struct nicsim_trace_in *in;
    const char *path;
    uint32_t port;
    bool have, done;
    struct nicsim_trace_pkt pkt;
    double wire_bits; /* --rate: bits this trace's port has received before its next frame */
};

struct traces {
    struct trace_src src[NICSIM_DP_MAX_PORTS];
    unsigned n;
};

static int traces_open(struct traces *t, const struct run_opts *o, char *err, size_t err_len)
{
    memset(t, 0, sizeof(*t));
    if (!o->n_pcap_files) {
        t->src[0].path = o->pcap;
        t->src[0].port = o->ingress_port;
        t->n = 1;
    } else {
        for (unsigned i = 0; i < o->n_pcap_files; i++) {
            t->src[i].path = o->pcap_files[i];
            t->src[i].port = o->pcap_ports[i];
        }
        t->n = o->n_pcap_files;
    }
    for (unsigned i = 0; i < t->n; i++) {
        t->src[i].in = nicsim_trace_in__open(t->src[i].path, err, err_len);
        if (!t->src[i].in)
            return -1;
        nicsim_trace_in__set_truncated(t->src[i].in, o->truncated);
    }
    return 0;
}

/* 1 and the next frame by time (and its port); 0 at the end; -1 with a message in err. With
 * rate_gbps > 0 each trace arrives back to back at that rate on its own port, and the frames are
 * merged by those arrival times (*rate_arrival_ns), not by their timestamps. */
static int traces_next(struct traces *t, double rate_gbps, struct nicsim_trace_pkt *pkt,
                       uint32_t *port, uint64_t *rate_arrival_ns, char *err, size_t err_len)
{
    int best = -1;

    for (unsigned i = 0; i < t->n; i++) {
        struct trace_src *s = &t->src[i];
        if (!s->have && !s->done) {
            int rc = nicsim_trace_in__next(s->in, &s->pkt, err, err_len);
            if (rc < 0)
                return -1;
            s->have = rc == 1;
            s->done = rc == 0;
        }
        if (!s->have)
            continue;
        if (best < 0 || (rate_gbps > 0 ? s->wire_bits < t->src[best].wire_bits
                                       : s->pkt.ts_ns < t->src[best].pkt.ts_ns))
            best = (int)i;
    }
    if (best < 0)
        return 0;
    if (rate_gbps > 0) {
        *rate_arrival_ns = (uint64_t)(t->src[best].wire_bits / rate_gbps);
        t->src[best].wire_bits += (t->src[best].pkt.wirelen + 24.0) * 8.0;
    }
    *pkt = t->src[best].pkt;
    *port = t->src[best].port + pkt->iface; /* a pcapng file's interface i: its port + i */
    t->src[best].have = false; /* pkt's data stays valid until this source's next read */
    return 1;
}

static double traces_progress(const struct traces *t)
{
    return t->n == 1 ? nicsim_trace_in__progress(t->src[0].in) : -1;
}

static uint64_t traces_n_cut(const struct traces *t)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < t->n; i++)
        n += t->src[i].in ? nicsim_trace_in__n_cut(t->src[i].in) : 0;
    return n;
}

static void traces_close(struct traces *t)
{
    for (unsigned i = 0; i < t->n; i++)
        nicsim_trace_in__close(t->src[i].in);
    t->n = 0;
}

int nicsim_run_main(const struct run_opts *o)
{
    struct run r = {.o = o};
    struct traces in_traces = {0}, *in = &in_traces;
    struct nicsim_trace_out *out = NULL;
    struct cli_out outs[N_OUTS];
    struct report_dir rd = {0};
    if (o->report_dir && nicsim_run_report_dir_open(&rd, o->report_dir))
        return 1;
    const char *const out_opt[N_OUTS] = {"--json", "--out-pcap",   "--dump-maps", "--events",
                                         "--plot", "--json-lines", "--report",    "--report"};
    const char *const out_path[N_OUTS] = {o->json,
                                          o->out_pcap,
                                          o->dump_maps,
                                          o->events,
                                          o->plot,
                                          o->json_lines,
                                          o->report_dir ? rd.json : NULL,
                                          o->report_dir ? rd.csv : NULL};
    FILE *plot = NULL;
    char plot_data[] = "/tmp/nicsim-plot-XXXXXX.dat";
    char *gnuplot = NULL;
    struct report *repp = calloc(1, sizeof(*repp));
    char err[ERR_LEN];
    int status = 1;
    uint64_t index = 0, first_ts = 0, arrival_ns = 0, first_arrival_cycle = 0;
    char arrivals[64] = "";
    struct baseline base = {0};
    bool events, json_open = false;

    memset(outs, 0, sizeof(outs));
    for (int i = 0; i < N_OUTS; i++)
        outs[i].slot = -1;
    nicsim_cli_set_prog(nicsim_run_cmd_name);
    nicsim_cli_signals_install();
    if (!repp)
        return nicsim_run_fail("out of memory");
    status = check_files(o);
    if (status) {
        free(repp);
        return status;
    }
    status = 1;
    /* Inputs first, so that a missing trace is reported before any work. */
    if (traces_open(in, o, err, sizeof(err))) {
        traces_close(in);
        free(repp);
        return nicsim_run_fail("%s", err);
    }
    /* Then every output: its directory must take a file now, not after the replay. */
    if (o->plot && !(gnuplot = nicsim_run_find_gnuplot())) {
        nicsim_run_fail("--plot %s: gnuplot is not installed (not found in PATH)", o->plot);
        goto out;
    }
    for (int i = 0; i < N_OUTS; i++)
        if (out_path[i] && nicsim_cli_out_begin(&outs[i], out_opt[i], out_path[i]))
            goto out;
    if (o->baseline && nicsim_run_baseline_load(&base, o->baseline, o->pcap))
        goto out;
    if (nicsim_run_setup(&r) || (o->on_ready && o->on_ready(o->on_ready_user, &r)))
        goto out;
    events = has_event_maps(&r) || nicsim_cli_printk_used(r.obj, r.prog_fds);
    if (o->events) {
        r.events = fopen(nicsim_cli_out_path(&outs[OUT_EVENTS]), "w");
        if (!r.events) {
            nicsim_run_fail("--events %s: %s", o->events, strerror(errno));
            goto out;
        }
    }
    if (o->out_pcap) {
        const char *names[NICSIM_DP_MAX_PORTS + 1];
        static char port_names[NICSIM_DP_MAX_PORTS][16];
        for (uint32_t p = 0; p < o->ports; p++) {
            snprintf(port_names[p], sizeof(port_names[p]), "port%u", p);
            names[p] = port_names[p];
        }
        names[o->ports] = "host";
        out = nicsim_trace_out__create(nicsim_cli_out_path(&outs[OUT_PCAP]), names, o->ports + 1, err,
                                       sizeof(err));
        if (!out) {
            nicsim_run_fail("--out-pcap %s: %s", o->out_pcap, err);
            goto out;
        }
    }
    if (o->plot) {
        int pfd = mkstemps(plot_data, 4);
        plot = pfd >= 0 ? fdopen(pfd, "w") : NULL;
        if (!plot) {
            nicsim_run_fail("--plot: cannot create a data file in /tmp: %s", strerror(errno));
            goto out;
        }
    }
    struct report_paths rp = {0};
    const char *rp_failed = NULL;
    if (o->json)
        *(report_is_jsonl(o->json) ? &rp.jsonl : &rp.json) = nicsim_cli_out_path(&outs[OUT_JSON]);
    if (o->json_lines)
        rp.jsonl = nicsim_cli_out_path(&outs[OUT_JSONL]);
    if (o->report_dir) {
        rp.json2 = nicsim_cli_out_path(&outs[OUT_RJSON]);
        rp.csv = nicsim_cli_out_path(&outs[OUT_RCSV]);
    }
    int orc = nicsim_report__open(repp, &rp, o->clock_mhz, r.kref != NULL, &rp_failed);
    if (orc) {
        bool in_dir = rp_failed == rp.json2 || rp_failed == rp.csv;
        bool lines = rp_failed == rp.jsonl && o->json_lines;
        nicsim_run_fail("%s %s: %s",
                        in_dir  ? "--report"
                        : lines ? "--json-lines"
                                : "--json",
                        in_dir  ? o->report_dir
                        : lines ? o->json_lines
                                : o->json,
                        strerror(-orc));
        goto out;
    }
    json_open = true;
    if (o->rate_gbps > 0) {
        snprintf(arrivals, sizeof(arrivals), "back to back at %g Gb/s", o->rate_gbps);
        repp->arrival = arrivals;
    }

    nicsim_cli_signals_defer(true);
    for (;;) {
        struct nicsim_trace_pkt pkt;
        struct nicsim_dp_result res;
        struct report_kernel_pkt kp = {0};

        if (nicsim_cli_interrupted())
            break;
        uint32_t port = o->ingress_port;
        uint64_t rate_arrival_ns = 0;
        int rc = traces_next(in, o->rate_gbps, &pkt, &port, &rate_arrival_ns, err, sizeof(err));
        if (rc < 0) {
            nicsim_run_fail("%s", err);
            goto out;
        }
        if (rc == 0 || (o->limit && index >= o->limit))
            break;
        if (port >= o->ports) {
            nicsim_run_fail("packet %llu: pcapng interface %u of its trace enters port %u; the "
                            "NIC has ports 0..%u (--ports; a pcapng interface i enters on the "
                            "trace's port + i)",
                            (unsigned long long)index, pkt.iface, port, o->ports - 1);
            goto out;
        }
        r.cur_index = index;
        /* Arrival on the NIC's clock: from the first frame's timestamp (never backwards), or
         * back to back at --rate (each frame also occupies preamble, gap and FCS: 24 bytes). */
        if (o->rate_gbps > 0) {
            arrival_ns = rate_arrival_ns; /* back to back on its port */
        } else {
            if (index == 0)
                first_ts = pkt.ts_ns;
            uint64_t t = pkt.ts_ns > first_ts ? pkt.ts_ns - first_ts : 0;
            arrival_ns = t > arrival_ns ? t : arrival_ns;
        }
        bool tracing = o->has_trace_packet && o->trace_packet == index;
        struct itrace it = {0};
        if (tracing) {
            printf("packet %llu (%u bytes), instruction by instruction:\n",
                   (unsigned long long)index, pkt.caplen);
            nicsim_run_itrace_set(&r, &it);
        }
        nicsim_cli_printk_begin_packet(&r.printk);
        int rx = nicsim_sys__rx(r.sys, port, pkt.data, pkt.caplen, pkt.wirelen,
                                arrival_ns, &res);
        if (tracing) {
            nicsim_run_itrace_set(&r, NULL);
            if (res.error)
                printf("  not run: %s\n", nicsim_dp_error_name(res.error));
            else if (res.drop == NICSIM_DP_DROP_RX_BUFFER_FULL)
                printf("  not run: the receive buffer of port %u was full\n", res.port);
            else
                printf("  -> %s on core %u: %llu instructions, %llu cycles\n\n",
                       nicsim_xdp_action_name(res.xdp.r0), res.core,
                       (unsigned long long)res.xdp.run.insns,
                       (unsigned long long)res.xdp.run.cycles);
        }
        if (rx) {
            nicsim_run_fail("%s: packet %llu: the NIC could not take it", o->pcap,
                            (unsigned long long)index);
            goto out;
        }
        /* The driver's interrupt handler: drain the event queue when the NIC says it has
         * records (EVENTS is raised when the queue goes from empty to non-empty). */
        if (events && (nicsim_ctrl__irq(nicsim_sys__ctrl(r.sys)) & NICSIM_IRQ_EVENTS)) {
            uint64_t lost = 0;
            nicsim_ctrl__events_drain(nicsim_sys__ctrl(r.sys), on_event, &r, &lost);
            r.events_lost += lost;
        }
        /* a frame the receive buffer had no room for never ran: the kernel does not run it */
        if (r.kref && res.error == NICSIM_DP_OK && res.drop != NICSIM_DP_DROP_RX_BUFFER_FULL) {
            struct nicsim_kref_result kr;
            struct nicsim_kref_run_opts ro = {
                .sz = sizeof(ro),
                .repeat = o->kernel_repeat,
                .ingress_ifindex = (uint32_t)nicsim_sys__ifindex(r.sys, port),
                .rx_queue_index = res.core};
            nicsim_run_kpin_enter(&r.kpin);
            int krc = nicsim_kref__run(r.kref, pkt.data, pkt.caplen, &ro, &kr, err, sizeof(err));
            nicsim_run_kpin_leave(&r.kpin);
            if (krc) {
                nicsim_run_fail("--compare-kernel: packet %llu: %s", (unsigned long long)index,
                                err);
                goto out;
            }
            nicsim_run_compare_packet(&res, &kr, &kp);
            if (kp.match)
                nicsim_cli_printk_compare(&r.printk, &kr, &kp.match, kp.mismatch, sizeof(kp.mismatch));
            if (!kp.match && !o->quiet)
                fprintf(stderr, "mismatch: packet %llu: %s\n", (unsigned long long)index,
                        kp.mismatch);
        }
        repp->wire_bytes += pkt.wirelen;
        nicsim_run_baseline_check(&base, o, index, &res);
        if (index == 0)
            first_arrival_cycle = res.arrival_cycle;
        nicsim_report__packet(repp, index, &res, pkt.wirelen, r.kref ? &kp : NULL);
        if (plot && res.error == NICSIM_DP_OK)
            fprintf(plot, "%llu %llu %llu %llu\n", (unsigned long long)index,
                    (unsigned long long)res.xdp.run.cycles, (unsigned long long)res.xdp.run.insns,
                    (unsigned long long)kp.ns);
        if (out && res.error == NICSIM_DP_OK && res.dest != NICSIM_DP_DEST_DROP) {
            char comment[160];
            uint32_t ifidx = res.dest == NICSIM_DP_DEST_PORT ? res.egress_port : o->ports;
            int n =
                snprintf(comment, sizeof(comment), "index=%llu verdict=%s egress=%s%u ifindex=%u",
                         (unsigned long long)index, nicsim_xdp_action_name(res.xdp.r0),
                         res.dest == NICSIM_DP_DEST_PORT ? "port" : "host",
                         res.dest == NICSIM_DP_DEST_PORT ? res.egress_port : 0, res.egress_ifindex);
            if (res.xdp.action == NICSIM_XDP_PASS && n > 0 && (size_t)n < sizeof(comment))
                snprintf(comment + n, sizeof(comment) - (size_t)n, " rx_queue=%u",
                         res.xdp.rx_queue);
            else if (res.xdp.redirect_cpu >= 0 && n > 0 && (size_t)n < sizeof(comment))
                snprintf(comment + n, sizeof(comment) - (size_t)n, " cpu=%d rx_queue=%d",
                         (int)res.xdp.redirect_cpu, (int)res.xdp.redirect_cpu); /* cpumap */
            nicsim_trace_out__write(out, ifidx, pkt.ts_ns, res.xdp.data, res.xdp.len, comment);
        } else if (out && res.error == NICSIM_DP_ERR_NO_PROGRAM) {
            nicsim_trace_out__write(out, o->ports, pkt.ts_ns, pkt.data, pkt.caplen,
                                    "verdict=none (no program)");
        }
        index++;
        if (o->progress && (index & 4095) == 0)
            nicsim_run_progress(index, traces_progress(in), false);
    }
    if (o->progress)
        nicsim_run_progress(index, 1.0, true);
    if (nicsim_cli_interrupted()) {
        char pending[1024];
        int sig = nicsim_cli_signals_take();
        nicsim_cli_out_pending(pending, sizeof(pending));
        fprintf(stderr, "%s: %s after %llu packets of %s; the replay did not finish%s%s\n",
                nicsim_run_cmd_name, sig == SIGINT ? "interrupted (SIGINT)" : "stopped by a signal",
                (unsigned long long)index, o->pcap, pending[0] ? "; not written:" : "",
                pending[0] ? pending + 1 : "");
        status = 128 + sig;
        goto out;
    }
    /* From here a signal ends the run at once: the outputs not yet renamed are removed. */
    nicsim_cli_signals_defer(false);

    FILE *tty = o->quiet ? NULL : stdout;
    int map_mismatches = 0;
    if (r.kref) {
        map_mismatches = nicsim_run_compare_maps(&r, o->quiet ? stderr : stdout);
    }
    json_open = false;
    nicsim_sys__finish(r.sys); /* the NIC model's simulation runs to the last departure */
    struct run_summary sum;
    int frc = nicsim_report__finish(repp, tty, nicsim_dp__stats(nicsim_sys__dp(r.sys)),
                             nicsim_sys__n_cores(r.sys), r.prog->name, &sum);
    if (o->summary)
        *o->summary = sum;
    if (frc) {
        nicsim_run_fail("the report (%s): write failed: %s",
                        o->report_dir   ? "--report"
                        : o->json_lines ? "--json-lines"
                                        : "--json",
                        strerror(-frc));
        goto out;
    }
    if ((o->json && nicsim_cli_out_commit(&outs[OUT_JSON])) ||
        (o->json_lines && nicsim_cli_out_commit(&outs[OUT_JSONL])) ||
        (o->report_dir && (nicsim_cli_out_commit(&outs[OUT_RJSON]) || nicsim_cli_out_commit(&outs[OUT_RCSV]))))
        goto out;
    if (o->report_dir) {
        char rtitle[1024];
        snprintf(rtitle, sizeof(rtitle), "%s: %s over %s", r.prog->name, o->object, o->pcap);
        if (nicsim_run_report_dir_run(&rd, repp, &sum, r.prog->name, rtitle,
                                      nicsim_sys__n_cores(r.sys)))
            goto out;
    }
    if (o->on_done && o->on_done(o->on_ready_user, &r))
        goto out;
    if (tty && nicsim_sys__nic_model(r.sys))
        print_nic_summary(tty, r.sys, first_arrival_cycle);
    if (tty && (events || r.events_written))
        fprintf(tty, "events: %llu records%s%s, %llu lost\n", (unsigned long long)r.events_written,
                o->events ? " written to " : "", o->events ? o->events : "",
                (unsigned long long)r.events_lost);
    if (tty && r.printk.total)
        fprintf(tty, "bpf_trace_printk: %llu lines%s%s\n", (unsigned long long)r.printk.total,
                o->events ? " written to " : "", o->events ? o->events : "");
    if (tty && traces_n_cut(in))
        fprintf(tty, "truncated: %llu frames cut short by the capture: %s (--truncated %s)\n",
                (unsigned long long)traces_n_cut(in),
                o->truncated == NICSIM_TRACE_TRUNC_PAD        ? "zero-filled to their wire length"
                : o->truncated == NICSIM_TRACE_TRUNC_CAPTURED ? "run as captured"
                                                              : "refused by the MAC",
                nicsim_trace_truncated__name(o->truncated));
    if (tty && r.kref)
        fprintf(tty, "maps: %s\n",
                map_mismatches ? "final contents differ from the kernel's (see above)"
                               : "final contents equal to the kernel's");
    if (r.events) {
        int bad = ferror(r.events) | fclose(r.events);
        r.events = NULL;
        if (bad) {
            nicsim_run_fail("--events %s: write failed", o->events);
            goto out;
        }
        if (nicsim_cli_out_commit(&outs[OUT_EVENTS]))
            goto out;
    }
    if (out) {
        int rc = nicsim_trace_out__close(out);
        out = NULL;
        if (rc) {
            nicsim_run_fail("--out-pcap %s: %s", o->out_pcap, strerror(-rc));
            goto out;
        }
        if (nicsim_cli_out_commit(&outs[OUT_PCAP]))
            goto out;
    }
    if (o->dump_maps && (nicsim_run_dump_maps(&r, nicsim_cli_out_path(&outs[OUT_DUMP])) ||
                         nicsim_cli_out_commit(&outs[OUT_DUMP])))
        goto out;
    if (plot) {
        char title[1024];
        int bad = ferror(plot) | fclose(plot);
        plot = NULL;
        if (bad) {
            nicsim_run_fail("--plot: cannot write the data file %s", plot_data);
            goto out;
        }
        snprintf(title, sizeof(title), "%s: %s over %s", r.prog->name, o->object, o->pcap);
        if (nicsim_run_plot_draw(gnuplot, nicsim_cli_out_path(&outs[OUT_PLOT]), o->plot, plot_data,
                                 r.kref != NULL, o->clock_mhz, title) ||
            nicsim_cli_out_commit(&outs[OUT_PLOT]))
            goto out;
    }
    if (o->baseline && tty)
        fprintf(tty,
                "baseline %s: %llu packets compared, %llu over it by more than %g%%%s, %llu "
                "faster\n",
                o->baseline, (unsigned long long)base.compared,
                (unsigned long long)base.regressions, o->max_regression,
                base.regressions ? " (worst: see stderr)" : "",
                (unsigned long long)base.improvements);
    if (o->baseline && base.regressions)
        fprintf(stderr, "%s: cycle regression: %llu packets, worst packet %llu (+%.1f%%)\n",
                nicsim_run_cmd_name, (unsigned long long)base.regressions,
                (unsigned long long)base.worst_index, base.worst_pct);
    status = (r.kref && (repp->kernel_mismatches || map_mismatches)) ? 3 : base.regressions ? 4 : 0;
    if (o->has_trace_packet && o->trace_packet >= index) {
        nicsim_run_fail("--trace-packet %llu: the trace has %llu packet%s (0..%llu)%s",
                        (unsigned long long)o->trace_packet, (unsigned long long)index,
                        index == 1 ? "" : "s", (unsigned long long)(index ? index - 1 : 0),
                        o->limit ? " within --count" : "");
        status = status ? status : 1;
    }
out:
    nicsim_cli_signals_defer(false);
    if (plot)
        fclose(plot);
    if (o->plot)
        unlink(plot_data);
    if (out)
        nicsim_trace_out__close(out);
    (void)json_open;
    nicsim_report__free(repp);
    for (int i = 0; i < N_OUTS; i++)
        nicsim_cli_out_abort(&outs[i]);
    traces_close(in);
    nicsim_run_teardown(&r);
    free(repp);
    free(base.cycles);
    free(gnuplot);
    return status;
}
