/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes as control messages into the firmware's parser, through a
 * fake HAL.
 *
 * Input: a sequence of chunks [u8 mode][u8 type][u16 flags][u16 n][n bytes], each one control
 * message given to nicsim_fw__handle, in order, on a fresh firmware that already holds a few maps
 * of different types (ids 1..6), so that messages naming existing ids reach the deep paths.
 * Mode bit 0 set: the n bytes are the whole message (header parsing is fuzzed); clear: the harness
 * writes a valid header (version, type, flags, len) in front of the n body bytes, so the fuzzer
 * spends its time in the bodies. Mode bit 1: datapath traffic (counters, events) after it.
 * Mode bit 2: an inline PROG_LOAD of a valid template image with the n bytes written over it at
 * offset `flags`, so that mutations land deep in the image checks. The fake DMA window
 * (bus addresses FUZZ_BUS..) is the input itself, so a PROG_LOAD can DMA-read an image from it.
 * The firmware must answer every message with a well-formed reply and never crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nicsim/ctrl.h"
#include "nicsim/fw_hal.h"
#include "nicsim/pcie.h"

#include "fuzz_fake_hal.h"

#define FUZZ_CAP 4096u

static void send(struct nicsim_fw *fw, uint8_t type, const void *body, size_t len, uint8_t *resp)
{
    uint8_t msg[256] = {0};
    struct nicsim_cmsg_hdr h = {.version = NICSIM_CMSG_VERSION, .type = type};

    h.len = (uint32_t)(sizeof(h) + len);
    nicsim_cmsg_hdr_put(msg, &h);
    memcpy(msg + sizeof(h), body, len);
    nicsim_fw__handle(fw, msg, h.len, resp, FUZZ_CAP);
}

static void preamble(struct nicsim_fw *fw, uint8_t *resp)
{
    /* type, key, value, max_entries */
    static const uint32_t maps[][4] = {
        {2, 4, 8, 1},     /* array, single entry: direct value access */
        {1, 8, 16, 64},   /* hash */
        {6, 4, 4, 8},     /* per-CPU array */
        {3, 4, 4, 4},     /* prog array */
        {27, 0, 0, 4096}, /* ringbuf */
        {4, 4, 4, 4},     /* perf event array */
    };
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
        struct nicsim_cmsg_map_alloc a = {.type = maps[i][0],
                                          .key_size = maps[i][1],
                                          .value_size = maps[i][2],
                                          .max_entries = maps[i][3]};
        send(fw, NICSIM_CMSG_MAP_ALLOC, &a, sizeof(a), resp);
    }
}

/* An inline PROG_LOAD of a valid image (8 slots): lddw map handle, lddw map value, a helper call,
 * two moves, exit. */
struct prog_msg {
    struct nicsim_cmsg_hdr h;
    struct nicsim_cmsg_prog_load pl;
    uint8_t img[64 + 8 + 8 * 8];
};

/* clang-format off */
static const struct prog_msg tmpl = {
    .h = {.version = NICSIM_CMSG_VERSION, .type = NICSIM_CMSG_PROG_LOAD,
          .flags = NICSIM_CMSG_F_INLINE, .len = sizeof(struct prog_msg)},
    .pl = {.image_len = 64 + 8 + 8 * 8},
    .img = {
        /* header: magic, version 1, hdr_len 64, 8 slots, 2 maps, XDP, stack 8, name "fuzz" */
        0x4e, 0x58, 0x49, 0x4d, 1, 0, 64, 0, 8, 0, 0, 0, 2, 0, 0, 0, 6, 0, 0, 0, 8, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 'f', 'u', 'z', 'z', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* map table: 1, 2 */
        1, 0, 0, 0, 2, 0, 0, 0,
        /* lddw r1, map 2 handle */
        0x18, 0x51, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* lddw r2, map 1 value + 4 */
        0x18, 0x62, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
        /* call helper 1 (map lookup); mov r3, 1; mov r0, 2; exit */
        0x85, 0, 0, 0, 1, 0, 0, 0, 0xb7, 3, 0, 0, 1, 0, 0, 0, 0xb7, 0, 0, 0, 2, 0, 0, 0,
        0x95, 0, 0, 0, 0, 0, 0, 0,
    },
};
/* clang-format on */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t resp[FUZZ_CAP];
    static uint8_t msg[16 + 65536];
    static int template_checked;
    struct fuzz_bar f = {.dma = data, .dma_len = size};
    struct nicsim_fw_hal hal = {.ops = &fuzz_hal_ops, .ctx = &f};
    struct nicsim_fw_opts o = {.sz = sizeof(o),
                               .n_ports = 2,
                               .n_cores = 2,
                               .map_mem_bytes = 1u << 20,
                               .max_maps = 16,
                               .max_progs = 4,
                               .event_queue_bytes = 4096};
    struct nicsim_fw *fw = nicsim_fw__new(&hal, &o);
    size_t off = 0;

    if (!fw)
        abort();
    preamble(fw, resp);
    if (!template_checked) {
        /* the harness is only useful if the untouched template loads: check it once */
        struct nicsim_cmsg_hdr rh;

        nicsim_fw__handle(fw, &tmpl, sizeof(tmpl), resp, sizeof(resp));
        nicsim_cmsg_hdr_get(&rh, resp);
        if (rh.status != NICSIM_CMSG_OK) {
            fprintf(stderr, "template image refused: %s\n", (const char *)resp + sizeof(rh));
            abort();
        }
        template_checked = 1;
    }
    while (off + 6 <= size) {
        uint8_t mode = data[off], type = data[off + 1];
        uint16_t flags = (uint16_t)(data[off + 2] | data[off + 3] << 8);
        size_t n = data[off + 4] | (size_t)data[off + 5] << 8;
        struct nicsim_cmsg_hdr rh;
        size_t rlen;

        off += 6;
        if (n > size - off)
            n = size - off;
        if (mode & 4) {
            size_t at = flags % sizeof(tmpl.img),
                   k = n < sizeof(tmpl.img) - at ? n : sizeof(tmpl.img) - at;
            struct prog_msg pm = tmpl;

            memcpy(pm.img + at, data + off, k);
            rlen = nicsim_fw__handle(fw, &pm, sizeof(pm), resp, sizeof(resp));
        } else if (mode & 1) {
            rlen = nicsim_fw__handle(fw, data + off, n, resp, sizeof(resp));
        } else {
            struct nicsim_cmsg_hdr h = {.version = NICSIM_CMSG_VERSION,
                                        .type = type,
                                        .flags = flags,
                                        .seq = (uint32_t)off,
                                        .len = (uint32_t)(sizeof(h) + n)};

            nicsim_cmsg_hdr_put(msg, &h);
            memcpy(msg + sizeof(h), data + off, n);
            rlen = nicsim_fw__handle(fw, msg, sizeof(h) + n, resp, sizeof(resp));
        }
        /* the reply is always well-formed */
        nicsim_cmsg_hdr_get(&rh, resp);
        if (rlen < sizeof(rh) || rlen > sizeof(resp) || rh.len != rlen || (rlen & 7) ||
            rh.version != NICSIM_CMSG_VERSION || !(rh.type & NICSIM_CMSG_REPLY) ||
            rh.status > NICSIM_CMSG__MAX_STATUS)
            abort();
        if (mode & 2) {
            nicsim_fw__count(fw, type & 3, flags & 7, flags >> 8, 64, 10, 0);
            nicsim_fw__event_output(fw, type & 7, 0, flags & 3, data + off, (uint32_t)(n & 255));
        }
        off += n;
    }
    nicsim_fw__free(fw);
    return 0;
}
