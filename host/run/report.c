/* SPDX-License-Identifier: MIT */
#include "report.h"
#include "run.h"

#include <errno.h>
#include <math.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void nicsim_report_hist__add(struct report_hist *h, uint64_t v)
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

uint64_t nicsim_report_hist__quantile(struct report_hist *h, unsigned pct)
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

void nicsim_report_hist__free(struct report_hist *h)
{
    free(h->big);
    h->big = NULL;
    h->n_big = h->cap_big = 0;
}

/* Two hex digits per byte, from a table of the 256 pairs. */
static char hex_pairs[512];

static void hex_pairs_init(void)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 256; i++) {
        hex_pairs[2 * i] = digits[i >> 4];
        hex_pairs[2 * i + 1] = digits[i & 15];
    }
}

void nicsim_report__free(struct report *r)
{
    if (r->json)
        fclose(r->json);
    if (r->json2)
        fclose(r->json2);
    if (r->jsonl)
        fclose(r->jsonl);
    if (r->csv)
        fclose(r->csv);
    r->json = r->json2 = r->jsonl = r->csv = NULL;
    free(r->jbuf.p);
    free(r->lbuf.p);
    free(r->cbuf.p);
    r->jbuf.p = r->lbuf.p = r->cbuf.p = NULL;
    nicsim_report_hist__free(&r->cycles);
    nicsim_report_hist__free(&r->insns);
    nicsim_report_hist__free(&r->latency_ns);
    nicsim_report_hist__free(&r->kernel_ns);
}

/* A report file: the records reach it in pieces of REPORT_FLUSH bytes, which stdio writes
 * without copying them into its own buffer. */
static FILE *open_out(const char *path)
{
    return fopen(path, "w");
}

int nicsim_report__open(struct report *r, const struct report_paths *paths, uint32_t clock_mhz,
                 bool kernel, const char **failed)
{
    memset(r, 0, sizeof(*r));
    r->clock_mhz = clock_mhz;
    r->kernel = kernel;
    r->json_first = true;
    if (!hex_pairs[0])
        hex_pairs_init();
    if (!paths)
        return 0;
    /* one document: the second copy is the first when only it is asked for */
    const char *json = paths->json ? paths->json : paths->json2;
    const char *json2 = paths->json ? paths->json2 : NULL;
    const char *const path[4] = {json, json2, paths->jsonl, paths->csv};
    FILE **const f[4] = {&r->json, &r->json2, &r->jsonl, &r->csv};
    for (int i = 0; i < 4; i++) {
        if (!path[i])
            continue;
        *f[i] = open_out(path[i]);
        if (!*f[i]) {
            int e = errno;
            *failed = path[i];
            nicsim_report__free(r);
            return -e;
        }
    }
    if (r->json)
        fputs("{\"packets\": [\n", r->json);
    if (r->json2)
        fputs("{\"packets\": [\n", r->json2);
    if (r->csv)
        fputs("index,error,verdict,verdict_code,drop,dest,egress_port,core,port,bytes_in,bytes_out,"
              "cycles,instructions,stall_load_use,stall_memory,stall_branch,stall_jump,stall_call,"
              "stall_muldiv,stall_helper,arrival_ns,start_ns,end_ns,departure_ns,queue_wait_ns,"
              "latency_ns,kernel_verdict,kernel_ns,kernel_match\n",
              r->csv);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Formatting into the record buffer: what jansson's JSON_COMPACT writes, byte for byte. A record
 * reserves its largest possible size once (buf_room); the put_ functions then write unchecked.
 */
static bool buf_room(struct report_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->len + n <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : REPORT_FLUSH + 65536;
    while (cap < b->len + n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

/* Writes the buffer out when it holds REPORT_FLUSH bytes (all: at the end). */
static void buf_flush2(struct report_buf *b, FILE *f, FILE *f2, bool all)
{
    if (f && b->len && (all || b->len >= REPORT_FLUSH) && !b->oom) {
        fwrite(b->p, 1, b->len, f);
        if (f2)
            fwrite(b->p, 1, b->len, f2);
        b->len = 0;
    }
}

static void buf_flush(struct report_buf *b, FILE *f, bool all)
{
    buf_flush2(b, f, NULL, all);
}

static inline __attribute__((always_inline)) void put_n(struct report_buf *b, const char *s,
                                                        size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, s) put_n((b), (s), sizeof(s) - 1)

static inline void put_u64(struct report_buf *b, uint64_t v)
{
    char t[24];
    int i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_n(b, t + i, sizeof(t) - (size_t)i);
}

static inline void put_i64(struct report_buf *b, int64_t v)
{
    if (v < 0) {
        PUT_LIT(b, "-");
        put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(b, (uint64_t)v);
    }
}

/* The most a string of n bytes takes in JSON. */
#define STR_MAX(n) (6 * (size_t)(n) + 2)

/* A JSON string, escaped as jansson escapes it (\" \\ \b \f \n \r \t, other controls \u00XX;
 * "/" and non-ASCII bytes as they are). */
static void put_str(struct report_buf *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    char *o = b->p + b->len;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char e = 0;
        switch (*p) {
        case '"':
            e = '"';
            break;
        case '\\':
            e = '\\';
            break;
        case '\b':
            e = 'b';
            break;
        case '\f':
            e = 'f';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\t':
            e = 't';
            break;
        default:
            break;
        }
        if (e) {
            *o++ = '\\';
            *o++ = e;
        } else if (*p < 0x20) {
            memcpy(o, "\\u00", 4);
            o[4] = hexd[*p >> 4];
            o[5] = hexd[*p & 15];
            o += 6;
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    b->len = (size_t)(o - b->p);
}

static inline void put_hex(struct report_buf *b, const uint8_t *p, uint32_t n)
{
    char *o = b->p + b->len;
    for (uint32_t i = 0; i < n; i++)
        memcpy(o + 2 * i, hex_pairs + 2 * p[i], 2);
    b->len += 2 * (size_t)n;
}

/* ,"key": (k a string literal) */
#define put_key(b, k)       PUT_LIT((b), ",\"" k "\":")
#define put_kv_u64(b, k, v) (put_key(b, k), put_u64((b), (v)))
#define put_kv_i64(b, k, v) (put_key(b, k), put_i64((b), (v)))
#define put_kv_str(b, k, v) (put_key(b, k), put_str((b), (v)))

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

/* Starts a packet record: its opening in the form it is formatted in (the JSON document when
 * written, else JSON Lines), room for `bound` bytes. The body follows from its first key on,
 * without a comma; rec_end copies it to JSON Lines when both forms are written. Returns the
 * buffer, or NULL when out of memory (the record is lost; nicsim_report__finish says so). */
static struct report_buf *rec_begin(struct report *r, size_t bound, size_t *body)
{
    struct report_buf *b = r->json ? &r->jbuf : &r->lbuf;
    if (!buf_room(b, bound + 32))
        return NULL;
    if (r->json) {
        if (!r->json_first)
            PUT_LIT(b, ",\n");
        PUT_LIT(b, "{");
    } else {
        PUT_LIT(b, "{\"type\":\"packet\",");
    }
    *body = b->len;
    r->json_first = false;
    return b;
}

static void rec_end(struct report *r, struct report_buf *b, size_t body)
{
    PUT_LIT(b, "}");
    if (r->json && r->jsonl) {
        size_t n = b->len - body;
        if (buf_room(&r->lbuf, n + 32)) {
            PUT_LIT(&r->lbuf, "{\"type\":\"packet\",");
            put_n(&r->lbuf, b->p + body, n);
            PUT_LIT(&r->lbuf, "\n");
        }
    } else if (r->jsonl) {
        PUT_LIT(b, "\n");
    }
    buf_flush2(&r->jbuf, r->json, r->json2, false);
    buf_flush(&r->lbuf, r->jsonl, false);
}

static uint64_t cyc_ns(const struct report *r, uint64_t cycles)
{
    return cycles / r->clock_mhz * 1000 + cycles % r->clock_mhz * 1000 / r->clock_mhz;
}

static void csv_row(struct report *r, uint64_t index, const struct nicsim_dp_result *res,
                    uint32_t wirelen, const struct report_kernel_pkt *k)
{
    struct report_buf *b = &r->cbuf;
    const struct nicsim_xdp_result *x = &res->xdp;
    bool ran = !res->error || res->error == NICSIM_DP_ERR_NO_PROGRAM;
    bool timed = !res->error;

    if (!buf_room(b, 1024)) /* 29 fields of at most 20 digits or a short code */
        return;
    put_u64(b, index);
    PUT_LIT(b, ",");
    if (res->error)
        put_n(b, nicsim_dp_error_code(res->error), strlen(nicsim_dp_error_code(res->error)));
    PUT_LIT(b, ",");
    if (ran) {
        const char *v = nicsim_xdp_action_name(x->r0);
        put_n(b, v, strlen(v));
    }
    PUT_LIT(b, ",");
    if (ran)
        put_i64(b, (int64_t)x->r0);
    PUT_LIT(b, ",");
    put_n(b, nicsim_dp_drop_code(res->drop), strlen(nicsim_dp_drop_code(res->drop)));
    PUT_LIT(b, ",");
    put_n(b, dest_name(res->dest), strlen(dest_name(res->dest)));
    PUT_LIT(b, ",");
    if (res->dest == NICSIM_DP_DEST_PORT)
        put_u64(b, res->egress_port);
    const uint64_t v[] = {res->core,
                          res->port,
                          wirelen,
                          ran ? x->len : 0,
                          x->run.cycles,
                          x->run.insns,
                          x->run.stalls.load_use,
                          x->run.stalls.memory,
                          x->run.stalls.branch,
                          x->run.stalls.jump,
                          x->run.stalls.call,
                          x->run.stalls.muldiv,
                          x->run.stalls.helper};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        PUT_LIT(b, ",");
        put_u64(b, v[i]);
    }
    const uint64_t t[] = {res->arrival_cycle,
                          res->start_cycle,
                          res->end_cycle,
                          res->departure_cycle,
                          res->start_cycle - res->arrival_cycle,
                          res->departure_cycle - res->arrival_cycle};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        PUT_LIT(b, ",");
        if (timed)
            put_u64(b, cyc_ns(r, t[i]));
    }
    PUT_LIT(b, ",");
    if (k && k->valid) {
        const char *kv = nicsim_xdp_action_name(k->retval);
        put_n(b, kv, strlen(kv));
        PUT_LIT(b, ",");
        put_u64(b, k->ns);
        PUT_LIT(b, ",");
        put_n(b, k->match ? "1" : "0", 1);
    } else {
        PUT_LIT(b, ",,");
    }
    PUT_LIT(b, "\n");
    buf_flush(b, r->csv, false);
}

void nicsim_report__packet(struct report *r, uint64_t index, const struct nicsim_dp_result *res,
                    uint32_t wirelen, const struct report_kernel_pkt *k)
{
    struct report_buf *b;
    size_t body = 0;
    bool out = r->json || r->jsonl;

    r->packets++;
    r->drops[res->drop < NICSIM_DP_N_DROP ? res->drop : NICSIM_DP_DROP_XDP_ABORTED]++;
    if (res->drop == NICSIM_DP_DROP_NONE)
        r->left_wire_bits += ((uint64_t)wirelen + 24) * 8;
    if (r->csv)
        csv_row(r, index, res, wirelen, k);
    if (res->error && res->error != NICSIM_DP_ERR_NO_PROGRAM) {
        r->mac_errors[res->error]++;
        if (out && (b = rec_begin(r, 1024, &body))) {
            PUT_LIT(b, "\"index\":");
            put_u64(b, index);
            put_kv_str(b, "error", nicsim_dp_error_code(res->error));
            put_kv_str(b, "error_message", nicsim_dp_error_name(res->error));
            put_kv_str(b, "drop", nicsim_dp_drop_code(res->drop));
            rec_end(r, b, body);
        }
        return;
    }
    if (res->drop == NICSIM_DP_DROP_RX_BUFFER_FULL) {
        /* Refused by the receive buffer: it never reached a core, so it has no verdict, cycles
         * or latency to count (its xdp part is empty). */
        if (out && (b = rec_begin(r, 1024, &body))) {
            PUT_LIT(b, "\"index\":");
            put_u64(b, index);
            put_kv_u64(b, "port", res->port);
            put_kv_str(b, "drop", nicsim_dp_drop_code(res->drop));
            put_kv_u64(b, "arrival_ns", cyc_ns(r, res->arrival_cycle));
            put_kv_u64(b, "departure_ns", cyc_ns(r, res->departure_cycle));
            rec_end(r, b, body);
        }
        return;
    }
    const struct nicsim_xdp_result *x = &res->xdp;
    r->verdicts[x->r0 <= NICSIM_XDP_REDIRECT ? x->r0 : 5]++;
    if (x->run.status == NICSIM_RUN_TRAP)
        r->traps++;
    if (x->run.status == NICSIM_RUN_WATCHDOG)
        r->watchdogs++;
    nicsim_report_hist__add(&r->cycles, x->run.cycles);
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
    /* latency: arrival to departure (the frame left the NIC, or was dropped) */
    uint64_t latency_ns = cyc_ns(r, res->departure_cycle - res->arrival_cycle);
    if (!res->error) {
        if (!r->any_timed || res->arrival_cycle < r->first_arrival)
            r->first_arrival = res->arrival_cycle;
        if (!r->any_timed || res->departure_cycle > r->last_departure)
            r->last_departure = res->departure_cycle;
        r->any_timed = true;
    }
    nicsim_report_hist__add(&r->latency_ns, latency_ns);
    nicsim_report_hist__add(&r->insns, x->run.insns);
    if (k && k->valid) {
        nicsim_report_hist__add(&r->kernel_ns, k->ns);
        if (!k->match)
            r->kernel_mismatches++;
    }
    if (!out)
        return;
    /* fixed keys and numbers, short names, the bytes in hex, the messages escaped */
    size_t bound = 4096 + 2 * ((size_t)x->len + x->meta_len + (k && k->valid ? k->len : 0)) +
                   STR_MAX(sizeof(x->run.trap.msg)) + (k ? STR_MAX(sizeof(k->mismatch)) : 0);
    if (!(b = rec_begin(r, bound, &body)))
        return;
    PUT_LIT(b, "\"index\":");
    put_u64(b, index);
    put_kv_str(b, "verdict", nicsim_xdp_action_name(x->r0));
    put_kv_i64(b, "verdict_code", (int64_t)x->r0);
    put_key(b, "data_out");
    PUT_LIT(b, "\"");
    put_hex(b, x->data, x->len);
    PUT_LIT(b, "\"");
    put_kv_i64(b, "cycles", (int64_t)x->run.cycles);
    put_kv_i64(b, "instructions", (int64_t)x->run.insns);
    put_kv_u64(b, "core", res->core);
    put_kv_u64(b, "port", res->port);
    put_key(b, "stalls");
    PUT_LIT(b, "{\"load_use\":");
    put_i64(b, (int64_t)x->run.stalls.load_use);
    put_kv_i64(b, "memory", (int64_t)x->run.stalls.memory);
    put_kv_i64(b, "branch", (int64_t)x->run.stalls.branch);
    put_kv_i64(b, "jump", (int64_t)x->run.stalls.jump);
    put_kv_i64(b, "call", (int64_t)x->run.stalls.call);
    put_kv_i64(b, "muldiv", (int64_t)x->run.stalls.muldiv);
    put_kv_i64(b, "helper", (int64_t)x->run.stalls.helper);
    PUT_LIT(b, "}");
    put_kv_i64(b, "latency_ns", (int64_t)latency_ns);
    put_key(b, "egress");
    PUT_LIT(b, "{\"dest\":");
    put_str(b, dest_name(res->dest));
    if (res->dest == NICSIM_DP_DEST_PORT)
        put_kv_u64(b, "port", res->egress_port);
    if (res->egress_ifindex)
        put_kv_u64(b, "ifindex", res->egress_ifindex);
    if (x->action == NICSIM_XDP_PASS) /* the host receive queue (ctx->rx_queue_index) */
        put_kv_u64(b, "rx_queue", x->rx_queue);
    if (x->action == NICSIM_XDP_REDIRECT && x->redirect_cpu >= 0) { /* cpumap: host CPU's queue */
        put_kv_i64(b, "cpu", x->redirect_cpu);
        put_kv_i64(b, "rx_queue", x->redirect_cpu);
    }
    PUT_LIT(b, "}");
    if (x->meta_len) {
        put_key(b, "meta_out");
        PUT_LIT(b, "\"");
        put_hex(b, x->meta, x->meta_len);
        PUT_LIT(b, "\"");
    }
    if (x->r0 == NICSIM_XDP_REDIRECT && x->action == NICSIM_XDP_REDIRECT) {
        put_key(b, "redirect");
        PUT_LIT(b, "{\"ifindex\":");
        put_u64(b, x->redirect_ifindex);
        if (x->redirect_map_id >= 0) {
            put_kv_i64(b, "nic_map_id", x->redirect_map_id);
            put_kv_u64(b, "key", x->redirect_key);
            if (x->redirect_cpu >= 0)
                put_kv_i64(b, "cpu", x->redirect_cpu);
        }
        PUT_LIT(b, "}");
    }
    if (x->run.status != NICSIM_RUN_OK) {
        put_key(b, "trap");
        PUT_LIT(b, "{\"kind\":");
        put_str(b, nicsim_trap_kind_name(x->run.trap.kind));
        put_kv_u64(b, "pc", x->run.trap.pc);
        put_kv_str(b, "message", x->run.trap.msg);
        PUT_LIT(b, "}");
    }
    if (x->run.tail_calls)
        put_kv_u64(b, "tail_calls", x->run.tail_calls);
    if (k && k->valid) {
        put_key(b, "kernel");
        PUT_LIT(b, "{\"verdict\":");
        put_str(b, nicsim_xdp_action_name(k->retval));
        put_kv_u64(b, "verdict_code", k->retval);
        put_kv_i64(b, "ns", (int64_t)k->ns);
        put_key(b, "match");
        if (k->match)
            PUT_LIT(b, "true");
        else
            PUT_LIT(b, "false");
        if (!k->match) {
            put_key(b, "data_out");
            PUT_LIT(b, "\"");
            put_hex(b, k->data, k->len);
            PUT_LIT(b, "\"");
            put_kv_str(b, "mismatch", k->mismatch);
        }
        PUT_LIT(b, "}");
    }
    /* the times of issue 11 (after the keys earlier reports had, in their order) */
    if (!res->error) {
        put_kv_u64(b, "arrival_ns", cyc_ns(r, res->arrival_cycle));
        put_kv_u64(b, "start_ns", cyc_ns(r, res->start_cycle));
        put_kv_u64(b, "end_ns", cyc_ns(r, res->end_cycle));
        put_kv_u64(b, "departure_ns", cyc_ns(r, res->departure_cycle));
        put_kv_u64(b, "queue_wait_ns", cyc_ns(r, res->start_cycle - res->arrival_cycle));
    }
    put_kv_str(b, "drop", nicsim_dp_drop_code(res->drop));
    rec_end(r, b, body);
}

static double mpps(uint64_t cycles, uint32_t mhz)
{
    return cycles ? (double)mhz / (double)cycles : 0.0;
}

/* Closes a report file; the first failure of its writes as -errno. */
static int close_out(FILE **f, int rc)
{
    if (!*f)
        return rc;
    if (ferror(*f) && !rc)
        rc = -EIO;
    if (fclose(*f) != 0 && !rc)
        rc = -errno;
    *f = NULL;
    return rc;
}

/* What the run achieved at the NIC's boundary (also the summary's "achieved" object). */
static void achieved(const struct report *r, const struct nicsim_dp_stats *stats, uint32_t n_cores,
                     struct run_summary *sum)
{
    memset(sum, 0, sizeof(*sum));
    sum->packets = r->packets;
    for (int i = 0; i < NICSIM_DP_N_DROP; i++)
        sum->drops[i] = r->drops[i];
    uint64_t cycles = r->any_timed ? r->last_departure - r->first_arrival : 0;
    sum->duration_ns = cyc_ns(r, cycles);
    if (cycles) {
        double s = (double)cycles / (r->clock_mhz * 1e6);
        sum->achieved_mpps = (double)r->drops[NICSIM_DP_DROP_NONE] / s / 1e6;
        sum->achieved_gbps = (double)r->left_wire_bits / s / 1e9;
    }
    struct report_hist *lat = (struct report_hist *)&r->latency_ns;
    sum->latency_p50_ns = nicsim_report_hist__quantile(lat, 50);
    sum->latency_p99_ns = nicsim_report_hist__quantile(lat, 99);
    sum->latency_max_ns = lat->max;
    if (stats && cycles && n_cores) {
        double busy = 0;
        for (uint32_t c = 0; c < n_cores && c < NICSIM_DP_MAX_CORES; c++)
            busy += (double)stats->core_busy_cycles[c];
        sum->core_utilisation = busy / (double)n_cores / (double)cycles;
    }
}

int nicsim_report__finish(struct report *r, FILE *tty, const struct nicsim_dp_stats *stats,
                   uint32_t n_cores, const char *prog_name, struct run_summary *sum)
{
    struct run_summary got;
    static const char *const vnames[] = {"XDP_ABORTED", "XDP_DROP",     "XDP_PASS",
                                         "XDP_TX",      "XDP_REDIRECT", "other"};
    uint64_t ran = r->cycles.count, errors = 0;
    for (int i = 1; i < 5; i++)
        errors += r->mac_errors[i];
    double mean_cycles = ran ? (double)r->cycles.sum / (double)ran : 0;
    double cpi = r->insns.sum ? (double)r->cycles.sum / (double)r->insns.sum : 0;
    double ns_per_cycle = 1000.0 / r->clock_mhz;
    int rc = 0;

    achieved(r, stats, n_cores, &got);
    if (sum)
        *sum = got;
    buf_flush2(&r->jbuf, r->json, r->json2, true);
    buf_flush(&r->lbuf, r->jsonl, true);
    buf_flush(&r->cbuf, r->csv, true);
    if (r->json || r->jsonl) {
        json_t *v = json_object();
        for (int i = 0; i < 6; i++)
            json_object_set_new(v, vnames[i], json_integer((json_int_t)r->verdicts[i]));
        json_t *s = json_pack(
            "{s:s,s:I,s:I,s:I,s:o,s:I,s:I,s:{s:I,s:I,s:I,s:I,s:f},s:{s:I,s:I,s:I,s:I,s:f},s:f,"
            "s:I,s:I,s:f,s:f}",
            "program", prog_name, "packets", (json_int_t)r->packets, "ran", (json_int_t)ran,
            "mac_errors", (json_int_t)errors, "verdicts", v, "traps", (json_int_t)r->traps,
            "watchdogs", (json_int_t)r->watchdogs, "cycles", "min", (json_int_t)r->cycles.min,
            "median", (json_int_t)nicsim_report_hist__quantile(&r->cycles, 50), "p99",
            (json_int_t)nicsim_report_hist__quantile(&r->cycles, 99), "max", (json_int_t)r->cycles.max,
            "mean", mean_cycles, "instructions", "min", (json_int_t)r->insns.min, "median",
            (json_int_t)nicsim_report_hist__quantile(&r->insns, 50), "p99",
            (json_int_t)nicsim_report_hist__quantile(&r->insns, 99), "max", (json_int_t)r->insns.max,
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
                          "median", (json_int_t)nicsim_report_hist__quantile(&r->latency_ns, 50), "p99",
                          (json_int_t)nicsim_report_hist__quantile(&r->latency_ns, 99), "max",
                          (json_int_t)r->latency_ns.max));
        if (r->kernel)
            json_object_set_new(s, "kernel",
                                json_pack("{s:I,s:I,s:I}", "mismatches",
                                          (json_int_t)r->kernel_mismatches, "median_ns",
                                          (json_int_t)nicsim_report_hist__quantile(&r->kernel_ns, 50),
                                          "packets", (json_int_t)r->kernel_ns.count));
        json_t *drops = json_object();
        for (int i = 1; i < NICSIM_DP_N_DROP; i++)
            json_object_set_new(drops, nicsim_dp_drop_code(i),
                                json_integer((json_int_t)r->drops[i]));
        json_object_set_new(s, "drops", drops);
        json_object_set_new(s, "achieved",
                            json_pack("{s:I,s:I,s:f,s:f,s:f}", "departed",
                                      (json_int_t)r->drops[NICSIM_DP_DROP_NONE], "duration_ns",
                                      (json_int_t)got.duration_ns, "mpps", got.achieved_mpps,
                                      "gbps", got.achieved_gbps, "core_utilisation",
                                      got.core_utilisation));
        FILE *const docs[2] = {r->json, r->json2};
        for (int i = 0; i < 2; i++) {
            if (!docs[i])
                continue;
            fputs("\n],\n\"summary\": ", docs[i]);
            json_dumpf(s, docs[i], JSON_INDENT(2));
            fputs("}\n", docs[i]);
        }
        if (r->jsonl) {
            json_t *t = json_pack("{s:s}", "type", "summary");
            json_object_update(t, s);
            json_dumpf(t, r->jsonl, JSON_COMPACT);
            fputc('\n', r->jsonl);
            json_decref(t);
        }
        json_decref(s);
    }
    rc = close_out(&r->json, rc);
    rc = close_out(&r->json2, rc);
    rc = close_out(&r->jsonl, rc);
    rc = close_out(&r->csv, rc);
    if ((r->jbuf.oom || r->lbuf.oom || r->cbuf.oom) && !rc)
        rc = -ENOMEM;

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
                (unsigned long long)nicsim_report_hist__quantile(&r->cycles, 50),
                (unsigned long long)nicsim_report_hist__quantile(&r->cycles, 99),
                (unsigned long long)r->cycles.max, mean_cycles);
        fprintf(tty, "instructions/packet: min %llu  median %llu  p99 %llu  max %llu\n",
                (unsigned long long)r->insns.min,
                (unsigned long long)nicsim_report_hist__quantile(&r->insns, 50),
                (unsigned long long)nicsim_report_hist__quantile(&r->insns, 99),
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
                    "latency (arrival to departure, %s): median %llu ns  p99 %llu ns  max %llu "
                    "ns\n",
                    r->arrival ? r->arrival : "the trace's timing",
                    (unsigned long long)nicsim_report_hist__quantile(&r->latency_ns, 50),
                    (unsigned long long)nicsim_report_hist__quantile(&r->latency_ns, 99),
                    (unsigned long long)r->latency_ns.max);
        if (got.duration_ns) {
            fprintf(tty,
                    "achieved: %.4g Mpps, %.4g Gb/s on the wire over %llu ns; core "
                    "utilisation %.3g%%\n",
                    got.achieved_mpps, got.achieved_gbps, (unsigned long long)got.duration_ns,
                    100.0 * got.core_utilisation);
        }
        fprintf(tty, "left the NIC: %llu; dropped:", (unsigned long long)r->drops[0]);
        bool any = false;
        for (int i = 1; i < NICSIM_DP_N_DROP; i++)
            if (r->drops[i]) {
                fprintf(tty, "%s %s %llu", any ? "," : "", nicsim_dp_drop_code(i),
                        (unsigned long long)r->drops[i]);
                any = true;
            }
        fprintf(tty, "%s\n", any ? "" : " none");
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
                (unsigned long long)nicsim_report_hist__quantile(&r->kernel_ns, 50),
                (double)nicsim_report_hist__quantile(&r->cycles, 50) * ns_per_cycle,
                (unsigned long long)r->kernel_mismatches);
    return rc;
}
