/* SPDX-License-Identifier: MIT */
/* The NIC datapath C model: MAC checks, flow dispatch, per-core queueing, destinations. */
#include "nicsim/datapath.h"
#include "nicsim/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct nicsim_dp {
    struct nicsim_dp_opts opts;
    struct nicsim_xdp_core *cores[NICSIM_DP_MAX_CORES];
    uint64_t core_free_at[NICSIM_DP_MAX_CORES]; /* cycle at which each core is idle again */
    const struct nicsim_prog *progs[NICSIM_DP_MAX_PORTS];
    struct nicsim_dp_stats stats;
};

static const char *const error_names[] = {
    [NICSIM_DP_OK] = "ok",
    [NICSIM_DP_ERR_RUNT] = "runt frame (shorter than an Ethernet header)",
    [NICSIM_DP_ERR_OVERSIZE] = "frame longer than the port MTU",
    [NICSIM_DP_ERR_TRUNCATED] = "frame truncated in the capture",
    [NICSIM_DP_ERR_NO_PROGRAM] = "no XDP program on the port",
};

static const char *const error_codes[] = {
    [NICSIM_DP_OK] = "ok",
    [NICSIM_DP_ERR_RUNT] = "runt",
    [NICSIM_DP_ERR_OVERSIZE] = "oversize",
    [NICSIM_DP_ERR_TRUNCATED] = "truncated",
    [NICSIM_DP_ERR_NO_PROGRAM] = "no_program",
};

const char *nicsim_dp_error_code(enum nicsim_dp_error err)
{
    return (unsigned)err < sizeof(error_codes) / sizeof(error_codes[0]) ? error_codes[err]
                                                                        : "unknown";
}

const char *nicsim_dp_drop_code(enum nicsim_dp_drop drop)
{
    static const char *const codes[NICSIM_DP_N_DROP] = {
        "none",           "mac_error", "rx_buffer_full", "tx_queue_full",
        "host_ring_full", "xdp_drop",  "xdp_aborted"};
    return (unsigned)drop < NICSIM_DP_N_DROP ? codes[drop] : "unknown";
}

const char *nicsim_dp_error_name(enum nicsim_dp_error err)
{
    return (unsigned)err < sizeof(error_names) / sizeof(error_names[0]) ? error_names[err]
                                                                        : "unknown error";
}

struct nicsim_dp *nicsim_dp__new(const struct nicsim_dp_opts *opts)
{
    struct nicsim_dp_opts o = {0};

    if (!opts || nicsim_opts_copy(&o, sizeof(o), opts) < 0 || o.n_ports == 0 ||
        o.n_ports > NICSIM_DP_MAX_PORTS || o.n_cores == 0 || o.n_cores > NICSIM_DP_MAX_CORES) {
        errno = EINVAL;
        return NULL;
    }
    o.sz = sizeof(o);
    opts = &o;
    struct nicsim_dp *dp = calloc(1, sizeof(*dp));
    if (!dp)
        return NULL;
    dp->opts = *opts;
    if (!dp->opts.clock_mhz)
        dp->opts.clock_mhz = 250;
    for (uint32_t i = 0; i < opts->n_cores; i++) {
        struct nicsim_xdp_core_opts co = {.sz = sizeof(co),
                                          .core_id = i,
                                          .clock_mhz = dp->opts.clock_mhz,
                                          .seed = opts->seed,
                                          .budget = opts->budget,
                                          .maps = opts->maps,
                                          .maps_ctx = opts->maps_ctx};
        dp->cores[i] = nicsim_xdp_core__new(&co);
        if (!dp->cores[i]) {
            nicsim_dp__free(dp);
            errno = ENOMEM;
            return NULL;
        }
    }
    return dp;
}

void nicsim_dp__free(struct nicsim_dp *dp)
{
    if (!dp)
        return;
    for (uint32_t i = 0; i < NICSIM_DP_MAX_CORES; i++)
        nicsim_xdp_core__free(dp->cores[i]);
    free(dp);
}

uint32_t nicsim_dp__n_cores(const struct nicsim_dp *dp)
{
    return dp->opts.n_cores;
}

struct nicsim_xdp_core *nicsim_dp__core(struct nicsim_dp *dp, uint32_t core)
{
    return core < dp->opts.n_cores ? dp->cores[core] : NULL;
}

int nicsim_dp__set_prog(struct nicsim_dp *dp, uint32_t port, const struct nicsim_prog *prog)
{
    if (port >= dp->opts.n_ports)
        return -EINVAL;
    dp->progs[port] = prog;
    return 0;
}

const struct nicsim_prog *nicsim_dp__prog(const struct nicsim_dp *dp, uint32_t port)
{
    return port < dp->opts.n_ports ? dp->progs[port] : NULL;
}

int nicsim_dp__port_of_ifindex(const struct nicsim_dp *dp, uint32_t ifindex)
{
    for (uint32_t i = 0; i < dp->opts.n_ports; i++)
        if (dp->opts.ports[i].ifindex == ifindex)
            return (int)i;
    return -1;
}

const struct nicsim_dp_stats *nicsim_dp__stats(const struct nicsim_dp *dp)
{
    return &dp->stats;
}

/* ---- dispatch ----------------------------------------------------------------------------------
 */

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV prime */
    h ^= h >> 15;
    return h;
}

static uint32_t mix_bytes(uint32_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        h = mix(h, p[i]);
    return h;
}

uint32_t nicsim_dp_flow_hash(const uint8_t *f, uint32_t len)
{
    uint32_t h = 0x811c9dc5u;
    if (len < 14)
        return mix_bytes(h, f, len);
    uint32_t off = 12;
    uint16_t proto = (uint16_t)(f[off] << 8 | f[off + 1]);
    off += 2;
    while ((proto == 0x8100 || proto == 0x88a8) && off + 4 <= len) {
        proto = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
        off += 4;
    }
    uint8_t l4 = 0;
    uint32_t l4off = 0;
    if (proto == 0x0800 && off + 20 <= len) {
        uint32_t ihl = (f[off] & 0xfu) * 4u;
        l4 = f[off + 9];
        h = mix_bytes(h, f + off + 12, 8);
        h = mix(h, l4);
        /* only the first fragment carries ports */
        if ((((uint32_t)f[off + 6] << 8 | f[off + 7]) & 0x1fffu) == 0)
            l4off = off + ihl;
    } else if (proto == 0x86dd && off + 40 <= len) {
        l4 = f[off + 6];
        h = mix_bytes(h, f + off + 8, 32);
        h = mix(h, l4);
        l4off = off + 40;
    } else {
        return mix_bytes(h, f, 12); /* non-IP: by MAC addresses */
    }
    if ((l4 == 6 || l4 == 17) && l4off && l4off + 4 <= len)
        h = mix_bytes(h, f + l4off, 4);
    return h;
}

/* ---- receive -----------------------------------------------------------------------------------
 */

uint32_t nicsim_dp__clock_mhz(const struct nicsim_dp *dp)
{
    return dp->opts.clock_mhz;
}

uint32_t nicsim_dp__n_ports(const struct nicsim_dp *dp)
{
    return dp->opts.n_ports;
}

struct nicsim_dp_stats *nicsim_dp__stats_mut(struct nicsim_dp *dp)
{
    return &dp->stats;
}

uint64_t nicsim_dp__cycles_of_ns(const struct nicsim_dp *dp, uint64_t ns)
{
    return ns / 1000 * dp->opts.clock_mhz + ns % 1000 * dp->opts.clock_mhz / 1000;
}

int nicsim_dp__mac_check(struct nicsim_dp *dp, uint32_t port, const uint8_t *frame,
                         uint32_t caplen, uint32_t wirelen, struct nicsim_dp_result *res)
{
    if (!dp || !res || port >= dp->opts.n_ports || (!frame && caplen))
        return -EINVAL;
    memset(res, 0, sizeof(*res));
    res->port = port;
    dp->stats.rx_packets++;

    /* MAC receive checks */
    uint32_t max = dp->opts.ports[port].mtu + NICSIM_ETH_HLEN;
    if (caplen >= 16 && frame[12] == 0x81 && frame[13] == 0x00)
        max += 4; /* one VLAN tag */
    if (caplen < wirelen)
        res->error = NICSIM_DP_ERR_TRUNCATED;
    else if (wirelen < NICSIM_ETH_HLEN)
        res->error = NICSIM_DP_ERR_RUNT;
    else if (wirelen > max || wirelen > NICSIM_XDP_MAX_DATA)
        res->error = NICSIM_DP_ERR_OVERSIZE;
    else if (!dp->progs[port])
        res->error = NICSIM_DP_ERR_NO_PROGRAM;
    if (!res->error)
        return 0;
    dp->stats.rx_errors[res->error]++;
    res->dest = res->error == NICSIM_DP_ERR_NO_PROGRAM ? NICSIM_DP_DEST_HOST : NICSIM_DP_DEST_DROP;
    res->drop =
        res->error == NICSIM_DP_ERR_NO_PROGRAM ? NICSIM_DP_DROP_NONE : NICSIM_DP_DROP_MAC_ERROR;
    return 1;
}

int nicsim_dp__run(struct nicsim_dp *dp, uint32_t core, const uint8_t *frame, uint32_t len,
                   uint64_t arrival_cycle, struct nicsim_dp_result *res)
{
    uint32_t port = res->port;

    if (core >= dp->opts.n_cores || port >= dp->opts.n_ports || !dp->progs[port])
        return -EINVAL;
    uint64_t start =
        dp->core_free_at[core] > arrival_cycle ? dp->core_free_at[core] : arrival_cycle;
    struct nicsim_xdp_core *xc = dp->cores[core];
    nicsim_xdp_core__set_time(xc, start + dp->opts.rx_overhead_cycles);
    struct nicsim_xdp_pkt_in in = {.data = frame,
                                   .len = len,
                                   .ingress_ifindex = dp->opts.ports[port].ifindex,
                                   .rx_queue_index = core,
                                   .port = port};
    int rc = nicsim_xdp_core__run(xc, dp->progs[port], &in, &res->xdp);
    if (rc < 0)
        return rc;
    uint64_t busy = dp->opts.rx_overhead_cycles + res->xdp.run.cycles;
    res->core = core;
    res->arrival_cycle = arrival_cycle;
    res->start_cycle = start;
    res->end_cycle = start + busy;
    res->departure_cycle = res->end_cycle;
    dp->core_free_at[core] = res->end_cycle;
    dp->stats.core_busy_cycles[core] += busy;
    dp->stats.core_packets[core]++;
    dp->stats.verdicts[res->xdp.r0 <= NICSIM_XDP_REDIRECT ? res->xdp.r0 : 5]++;
    if (res->xdp.run.status == NICSIM_RUN_TRAP)
        dp->stats.traps++;
    else if (res->xdp.run.status == NICSIM_RUN_WATCHDOG)
        dp->stats.watchdogs++;

    switch (res->xdp.action) {
    case NICSIM_XDP_TX:
        res->dest = NICSIM_DP_DEST_PORT;
        res->egress_port = port;
        res->egress_ifindex = dp->opts.ports[port].ifindex;
        break;
    case NICSIM_XDP_PASS:
        res->dest = NICSIM_DP_DEST_HOST;
        break;
    case NICSIM_XDP_REDIRECT: {
        if (res->xdp.redirect_cpu >= 0) { /* cpumap: the host, on that CPU's receive queue */
            res->dest = NICSIM_DP_DEST_HOST;
            res->egress_ifindex = 0;
            res->egress_port = 0;
            break;
        }
        int eg = nicsim_dp__port_of_ifindex(dp, res->xdp.redirect_ifindex);
        res->egress_ifindex = res->xdp.redirect_ifindex;
        res->dest = eg >= 0 ? NICSIM_DP_DEST_PORT : NICSIM_DP_DEST_HOST;
        res->egress_port = eg >= 0 ? (uint32_t)eg : 0;
        break;
    }
    default:
        res->dest = NICSIM_DP_DEST_DROP;
        break;
    }
    if (res->dest == NICSIM_DP_DEST_DROP)
        res->drop = res->xdp.action == NICSIM_XDP_DROP ? NICSIM_DP_DROP_XDP_DROP
                                                       : NICSIM_DP_DROP_XDP_ABORTED;
    return 0;
}

void nicsim_dp__account(struct nicsim_dp *dp, const struct nicsim_dp_result *res, uint32_t bytes)
{
    struct nicsim_dp_stats *st = &dp->stats;

    st->drops[res->drop < NICSIM_DP_N_DROP ? res->drop : NICSIM_DP_DROP_XDP_ABORTED]++;
    if (res->drop == NICSIM_DP_DROP_NONE && res->dest == NICSIM_DP_DEST_PORT &&
        res->egress_port < NICSIM_DP_MAX_PORTS) {
        st->tx_frames[res->egress_port]++;
        st->tx_bytes[res->egress_port] += bytes;
    } else if (res->drop == NICSIM_DP_DROP_NONE && res->dest == NICSIM_DP_DEST_HOST) {
        st->host_frames++;
        st->host_bytes += bytes;
    }
    if (res->departure_cycle > st->last_departure_cycle)
        st->last_departure_cycle = res->departure_cycle;
}

/* The plain loop: no finite queues, departure = end. */
int nicsim_dp__rx(struct nicsim_dp *dp, uint32_t port, const uint8_t *frame, uint32_t caplen,
                  uint32_t wirelen, uint64_t arrival_ns, struct nicsim_dp_result *res)
{
    int rc = nicsim_dp__mac_check(dp, port, frame, caplen, wirelen, res);

    if (rc < 0)
        return rc;
    if (rc == 0) {
        /* The frame is what was on the wire: capture bytes past wirelen are not part of it (a
         * capture record cannot legally hold more than the frame had). */
        uint32_t core = nicsim_dp_flow_hash(frame, wirelen) % dp->opts.n_cores;
        rc = nicsim_dp__run(dp, core, frame, wirelen, nicsim_dp__cycles_of_ns(dp, arrival_ns),
                            res);
        if (rc < 0)
            return rc;
    }
    nicsim_dp__account(dp, res, res->error ? wirelen : res->xdp.len);
    return 0;
}
