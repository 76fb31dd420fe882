/* SPDX-License-Identifier: MIT */
/*
 * Kernel reference runner: the same XDP object, run by the host kernel through BPF_PROG_TEST_RUN,
 * so that what the simulated NIC does with a packet can be compared with what Linux does.
 *
 * Life of a runner:
 *   nicsim_kref__open        opens the object with libbpf (no bpf() calls yet)
 *   nicsim_kref__map_set     initial map contents (before or after load);
 *   nicsim_kref__set_tail_call   prog array slots, by program name
 *   nicsim_kref__load        verifies and loads the chosen program and the tail-call targets
 *                            set for it (no other program of the object), creates the maps
 *   nicsim_kref__run         one packet: verdict, output bytes, metadata, ringbuf/perf records,
 *                            and the kernel's own duration when asked
 *   nicsim_kref__map_dump    final contents of any map, global data maps included
 *
 * Choices, and their effect on what is observed:
 *   - Packets run with a ctx_in (struct xdp_md) and a ctx_out, which tells where the metadata
 *     and the linear part end after the program. Given a context, the kernel wants data_end to
 *     be the packet length and data the metadata length (or the run fails), and ingress_ifindex
 *     0 or a device of the test-running thread's network namespace, whose rx queue
 *     rx_queue_index the packet then arrives on. When the opts name ifindexes (the NIC ports'),
 *     kref moves the calling thread (once per thread) into a private network namespace and
 *     creates a device with each ifindex there (dummy, else veth; nothing reaches the host's
 *     namespace), and each run gets the run opts' ingress_ifindex and rx_queue_index. Without
 *     them, or when the devices cannot be created (nicsim_kref__ifindex_unavailable says why),
 *     runs get ingress_ifindex 1, the loopback (ifindex 1 in every namespace), and rx queue 0.
 *     egress_ifindex stays 0: the kernel's test run wants it so, and only BPF_XDP_DEVMAP
 *     programs, which cannot be test-run, may read it.
 *   - Every packet runs exactly once (repeat 1) for its verdict, bytes and effect on maps. When
 *     the caller asks for timing (run opts repeat > 1), a second, separate BPF_PROG_TEST_RUN with
 *     repeat N measures the kernel's average ns per run; before it every map the program can
 *     write (array, hash, LPM, LRU and their per-CPU forms, .data and .bss) is saved, and after it
 *     restored, so timing leaves map contents as the single run left them. What cannot be
 *     restored: the recency order inside LRU maps (the timed runs touched the packet's entries),
 *     and the timed runs see the map state the first run left (e.g. a flow already created), so
 *     the figure is the steady-state cost. Ringbuf/perf records of timed runs are discarded.
 *     Saving and restoring walks those maps, so a timed packet costs time in their size.
 *   - Nothing is pinned: pin paths declared in the object (LIBBPF_PIN_BY_NAME) are cleared, so a
 *     run never reuses or leaves maps in bpffs. With opts keep_pinning the object's pinning is
 *     honoured; that needs bpffs at /sys/fs/bpf, which is mounted if missing (or an error says
 *     how to mount it).
 *   - Output bytes: data_size_out leaves room for growth by bpf_xdp_adjust_head/tail (the input
 *     length plus two 4096-byte frames, more than they can add); the result's data/len is the
 *     packet after the program, meta/meta_len what it left in front of it (bpf_xdp_adjust_meta).
 *   - Packet sizes: the kernel refuses XDP test packets shorter than 14 bytes (ETH_HLEN): they
 *     get -EINVAL and a message, not a verdict. Past 3520 bytes (a 4096-byte page less 256 of
 *     headroom and 320 of tailroom) a packet does not fit the linear buffer: older kernels refuse
 *     it for programs without frags support (-EINVAL, explained); newer ones (6.18, where this
 *     was written) run it with the first 3520 bytes linear and the rest in fragments, so the
 *     program's data_end stops at 3520 while bpf_xdp_get_buff_len() counts every byte. The
 *     result's len counts every byte, linear_len the linear part.
 *
 * Errors: 0 or a negative errno, with a message in err. When the kernel refuses bpf() itself
 * (not root, no CAP_BPF, lockdown, a kernel without BPF) load and probe return -EPERM or -ENOSYS
 * and say so. When the running kernel's verifier refuses the program only because this kernel
 * does not offer a helper to XDP programs that the NIC does offer ("program of this type cannot
 * use helper ..." or "unknown func ..."; 6.18 builds exist without bpf_xdp_adjust_meta), load
 * returns -EOPNOTSUPP and names the helper. nicsim_kref__unavailable() tells these apart from a
 * bad program, so a caller can report "kernel comparison unavailable: <message>" and go on.
 */
#ifndef NICSIM_KREF_H
#define NICSIM_KREF_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nicsim/mapjson.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nicsim_kref;

struct nicsim_kref_opts {
    size_t sz;             /* sizeof(struct nicsim_kref_opts) */
    const char *prog_name; /* function name (else section name) of the program to run; NULL:
                            * the object's only XDP program (an object with several must name
                            * one). A program whose section libbpf cannot type (the legacy
                            * SEC("xdp1"), "xdp_icmp", "prog" ...) is loaded as XDP, as the NIC
                            * loads it; the object's other programs are not loaded at all. */
    bool keep_pinning;     /* honour the object's map pinning (default: pin nothing) */
    const uint32_t *ifindexes; /* devices for ctx->ingress_ifindex (the NIC ports' ifindexes) */
    size_t n_ifindexes;        /* 0: none, runs see the loopback */
    uint32_t n_rx_queues;      /* rx queues of each (the NIC's cores); 0: 1 */
};

/* Stores to ctx->rx_queue_index (a 4-byte store at offset 16 through a register or stack slot
 * that may hold the context pointer, on any path) in a program: their count, and mark[i] = 1 at
 * each (mark may be NULL). The kernel accepts them only from offloaded programs. */
struct bpf_insn;
size_t nicsim_kref_rxq_writes(const struct bpf_insn *insns, size_t n, uint8_t *mark);

/* How many rx_queue_index writes the kernel's copy of the chosen program ran without (replaced
 * by no-ops: the comparison loads it unoffloaded, where the kernel refuses them); 0 if none. */
size_t nicsim_kref__rx_queue_writes_removed(const struct nicsim_kref *k);

/* True for the errors that mean "this kernel cannot be the reference" (bpf() refused, or a helper
 * this kernel does not offer to XDP programs), as opposed to a bad program. */
static inline bool nicsim_kref__unavailable(int rc)
{
    return rc == -EPERM || rc == -ENOSYS || rc == -EOPNOTSUPP;
}

/* Checks that this process may load and test-run an XDP program. 0, or -EPERM/-ENOSYS (or
 * another -errno) with a message. */
int nicsim_kref__probe(char *err, size_t errlen);

/* Opens an object file; nothing reaches the kernel yet. NULL with errno and a message. */
struct nicsim_kref *nicsim_kref__open(const char *path, const struct nicsim_kref_opts *opts,
                                      char *err, size_t errlen);
void nicsim_kref__close(struct nicsim_kref *k);

/* Name of the program nicsim_kref__run runs. */
const char *nicsim_kref__prog_name(const struct nicsim_kref *k);
/* Number of possible CPUs: the values per entry of per-CPU maps. */
uint32_t nicsim_kref__ncpus(const struct nicsim_kref *k);

struct nicsim_kref_map_info {
    /* name: as the object declares it ("flows"), or the section for global data (".rodata",
     * ".data", ".bss", ".rodata.str1.1"); key/value sizes; per_cpu; ncpus. */
    struct nicsim_mapjson_layout layout;
    uint32_t type; /* enum bpf_map_type */
    uint32_t max_entries;
    uint32_t map_flags;
    bool global_data; /* one entry, key 0 (4 bytes), value the whole section */
    bool frozen;      /* read-only to the program (.rodata): settable only before load */
    bool dumpable;    /* entries are data; false for prog, perf event arrays, ringbufs ... */
};

size_t nicsim_kref__map_count(const struct nicsim_kref *k);
int nicsim_kref__map_info(const struct nicsim_kref *k, size_t i, struct nicsim_kref_map_info *info);
/* Index of a map by name (".rodata" etc. for global data), or -ENOENT. */
int nicsim_kref__map_index(const struct nicsim_kref *k, const char *name);

/*
 * Sets entries of a map (update with BPF_ANY; other entries keep their contents). Before load
 * the entries are kept and written right after the maps are created (global data maps become
 * the section's initial value: one entry with key 0); after load they are written at once.
 * Prog arrays are refused (their values are program fds; see nicsim_kref__set_tail_call);
 * .rodata after load gets -EROFS.
 */
int nicsim_kref__map_set(struct nicsim_kref *k, const char *map_name,
                         const struct nicsim_mapjson_entries *e, char *err, size_t errlen);
/* For every `<map name>.json` file in dir: reads it as bpftool JSON and nicsim_kref__map_set()s
 * it. A file naming no map of the object is an error. */
int nicsim_kref__map_set_dir(struct nicsim_kref *k, const char *dir, char *err, size_t errlen);
/* Prog array slot `index` of map_name = the object's program prog_name (a function name). Before
 * or after load; before load it also makes prog_name one of the programs loaded (as XDP, like
 * the chosen one); after load only a program already loaded can be set. */
int nicsim_kref__set_tail_call(struct nicsim_kref *k, const char *map_name, uint32_t index,
                               const char *prog_name, char *err, size_t errlen);
/* An element of an array / hash of maps: map_name[key] = the object's map inner_name (by its
 * descriptor, as the kernel takes it). Before load it is recorded and written once the maps
 * exist (libbpf itself writes the `.values = {&inner}` initialisers at load). */
int nicsim_kref__set_inner_map(struct nicsim_kref *k, const char *map_name, const void *key,
                               const char *inner_name, char *err, size_t errlen);

/* Loads the object into the kernel. A verifier rejection returns its -errno with the last lines
 * of the verifier's log in err; the whole log is nicsim_kref__log(). */
int nicsim_kref__load(struct nicsim_kref *k, char *err, size_t errlen);
/* The kernel's verifier log of a failed load ("" when none). */
const char *nicsim_kref__log(const struct nicsim_kref *k);

struct nicsim_kref_run_opts {
    size_t sz;           /* sizeof(struct nicsim_kref_run_opts) */
    uint32_t repeat;     /* > 1: also time the program over this many runs (see above) */
    const void *meta_in; /* metadata in front of the packet (multiple of 4, at most 32 bytes) */
    uint32_t meta_in_len;
    uint32_t ingress_ifindex; /* ctx->ingress_ifindex: one of the opts' ifindexes; 0: lo */
    uint32_t rx_queue_index;  /* ctx->rx_queue_index on that device */
};

/* A record the program sent to user space with bpf_ringbuf_output / bpf_perf_event_output. */
struct nicsim_kref_event {
    uint32_t map; /* map index */
    int32_t cpu;  /* perf event array: the CPU's buffer; ringbuf: -1 */
    uint32_t size;
    const uint8_t *data;
};

/* One packet's result. Pointers stay valid until the next run or close. */
struct nicsim_kref_result {
    uint32_t verdict; /* the program's return value (XDP_PASS ...) */
    const uint8_t *data;
    uint32_t len;        /* packet after the program, fragments included */
    uint32_t linear_len; /* of which in the linear part (data_end - data) */
    const uint8_t *meta;
    uint32_t meta_len;    /* metadata left in front of the packet */
    uint64_t duration_ns; /* the kernel's average ns per run over `runs` runs */
    uint32_t runs;        /* 1, or the repeat count of the timing run */
    const struct nicsim_kref_event *events;
    size_t n_events;
    uint64_t lost_events; /* perf buffer records the kernel could not deliver */
    /* bpf_trace_printk: the text of each line the single run wrote (what trace_pipe shows after
     * "bpf_trace_printk: "), read from a tracefs instance of this process; trace_read is false
     * when they could not be read (nicsim_kref__trace_unavailable says why). */
    const char *const *trace;
    size_t n_trace;
    bool trace_read;
};

/* NULL when the opts named no ifindexes or their devices exist; otherwise why they could not be
 * created (runs then see ingress_ifindex 1 and rx_queue_index 0). */
const char *nicsim_kref__ifindex_unavailable(const struct nicsim_kref *k);

/* NULL when the loaded programs print nothing or their bpf_trace_printk lines can be read;
 * otherwise why they cannot (tracefs missing, no permission). */
const char *nicsim_kref__trace_unavailable(const struct nicsim_kref *k);

/* Runs one packet. When the single run succeeds but the timing run fails, the error is returned
 * and the result still holds the single run's outcome (runs = 1). */
int nicsim_kref__run(struct nicsim_kref *k, const void *pkt, uint32_t len,
                     const struct nicsim_kref_run_opts *opts, struct nicsim_kref_result *res,
                     char *err, size_t errlen);

/* Elements of map of maps i (initialised here; free with nicsim_mapjson_entries__free): each
 * value is a u32, the index (for nicsim_kref__map_info) of the object's map the element holds,
 * UINT32_MAX for a map that is not one of the object's. 0, or -errno with a sentence. */
int nicsim_kref__outer_map_dump(const struct nicsim_kref *k, size_t i,
                                struct nicsim_mapjson_entries *out, char *err, size_t errlen);

/* Current contents of map i (initialised here; free with nicsim_mapjson_entries__free). Maps
 * that are not dumpable give no entries. Per-CPU values are packed value_size bytes per CPU. */
int nicsim_kref__map_dump(const struct nicsim_kref *k, size_t i, struct nicsim_mapjson_entries *out,
                          char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
