/* SPDX-License-Identifier: MIT */
/*
 * Program image loader (include/nicsim/nic_image.h): validates an untrusted image and relocates
 * it for the cores.
 *
 * Checks, in order: header (magic, version, header length, sizes, program type, stack depth,
 * flags, reserved fields, name), total length, the map table (ids exist, no duplicates), then
 * every slot: LDDW forms (only IMM64, MAP_IDX and MAP_IDX_VALUE; the map listed in the table;
 * the value offset inside the map's value), helper calls (a NIC helper unit id), no kfunc calls,
 * no callx; then the ISA library's decoder (encodings, jump targets, last instruction), and no
 * legacy packet loads.
 *
 * Relocation: LDDW MAP_IDX m becomes the 64-bit immediate nicsim_addr(NICSIM_MAP_REGION_BASE + m,
 * 0), LDDW MAP_IDX_VALUE m, off becomes nicsim_addr(NICSIM_MAP_REGION_BASE + m, off).
 *
 * The map table (out->map_ids) is the program's whole view of map memory: the cores make only
 * those maps' regions visible while it runs (docs/nic-image.md, "Map table"). A raw 64-bit
 * immediate that happens to be another map's address is a legal constant and is not refused
 * here; using it traps on the cores.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"
#include "nicsim/core.h"

#define BPF_PROG_TYPE_XDP 6u
#define OP_LDDW           0x18u /* BPF_LD | BPF_IMM | BPF_DW */
#define OP_CALL           0x85u /* BPF_JMP | BPF_CALL */
#define OP_CALLX          0x8du /* BPF_JMP | BPF_CALL | BPF_X */
#define PSEUDO_CALL       1u
#define PSEUDO_KFUNC_CALL 2u

static const char *lddw_src_name(unsigned src)
{
    switch (src) {
    case NICSIM_LDDW_MAP_FD:
        return "map fd";
    case NICSIM_LDDW_MAP_VALUE:
        return "map fd value";
    case NICSIM_LDDW_BTF_ID:
        return "BTF id";
    case NICSIM_LDDW_FUNC:
        return "function pointer";
    default:
        return "unknown";
    }
}

static int in_table(const uint32_t *ids, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

static int check_header(struct nicsim_fw *fw, const struct nicsim_img_hdr *h, size_t len,
                        struct fw_reply *r)
{
    uint64_t want;

    if (h->magic != NICSIM_IMG_MAGIC)
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                              "image magic 0x%08x, expected 0x%08x (\"NXIM\")", h->magic,
                              NICSIM_IMG_MAGIC);
    if (h->version != NICSIM_IMG_VERSION)
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                              "image version %u, the firmware loads version %u", h->version,
                              NICSIM_IMG_VERSION);
    if (h->hdr_len != sizeof(*h))
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "image header length %u, expected %zu",
                              h->hdr_len, sizeof(*h));
    if (!h->n_slots || h->n_slots > NICSIM_IMG_MAX_SLOTS)
        return nicsim_fw_fail(r, NICSIM_CMSG_E2BIG, "image has %u slots, a core holds 1..%u",
                              h->n_slots, NICSIM_IMG_MAX_SLOTS);
    if (h->n_maps > NICSIM_IMG_MAX_MAPS)
        return nicsim_fw_fail(r, NICSIM_CMSG_E2BIG, "image references %u maps, at most %u",
                              h->n_maps, NICSIM_IMG_MAX_MAPS);
    want = (uint64_t)sizeof(*h) + 4ull * h->n_maps + 8ull * h->n_slots;
    if (want != len)
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                              "image is %zu bytes, its header (%u maps, %u slots) describes %llu",
                              len, h->n_maps, h->n_slots, (unsigned long long)want);
    if (h->prog_type != BPF_PROG_TYPE_XDP)
        return nicsim_fw_fail(r, NICSIM_CMSG_EOPNOTSUPP,
                              "program type %u: the NIC runs XDP programs (type 6) only",
                              h->prog_type);
    if (h->stack_depth > NICSIM_STACK_SIZE * NICSIM_MAX_CALL_DEPTH)
        return nicsim_fw_fail(r, NICSIM_CMSG_EPERM, "stack depth %u exceeds the core's %u bytes",
                              h->stack_depth, NICSIM_STACK_SIZE * NICSIM_MAX_CALL_DEPTH);
    if (h->flags & ~(NICSIM_IMG_F_USES_TAIL_CALL | NICSIM_IMG_F_USES_PKT_WRITE))
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "image flags 0x%x are not defined",
                              h->flags &
                                  ~(NICSIM_IMG_F_USES_TAIL_CALL | NICSIM_IMG_F_USES_PKT_WRITE));
    if (h->reserved0 || h->reserved[0] || h->reserved[1] || h->reserved[2] || h->reserved[3])
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "image header reserved fields must be 0");
    for (size_t i = 0, nul = 0; i < sizeof(h->name); i++) {
        unsigned char c = (unsigned char)h->name[i];

        if (!c) {
            nul = 1;
        } else if (nul || c < 0x20 || c > 0x7e) {
            return nicsim_fw_fail(
                r, NICSIM_CMSG_EINVAL,
                "image name: byte %zu (0x%02x) is not a printable character before "
                "the NUL padding",
                i, c);
        }
    }
    (void)fw;
    return 0;
}

static int check_slots(struct nicsim_fw *fw, struct nicsim_insn *raw, uint32_t n,
                       const uint32_t *ids, uint32_t n_ids, struct fw_reply *r)
{
    for (uint32_t pc = 0; pc < n; pc++) {
        struct nicsim_insn *in = &raw[pc];

        if (in->code == OP_LDDW) {
            uint32_t id = (uint32_t)in->imm, off = 0;
            const struct fw_map_ent *m;
            uint64_t addr;

            if (pc + 1 >= n)
                return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "insn %u: LDDW in the last slot", pc);
            if (in->src == NICSIM_LDDW_IMM64) {
                pc++;
                continue;
            }
            if (in->src != NICSIM_LDDW_MAP_IDX && in->src != NICSIM_LDDW_MAP_IDX_VALUE)
                return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                      "insn %u: LDDW source %u (%s) is not allowed in a NIC image",
                                      pc, in->src, lddw_src_name(in->src));
            if (!in_table(ids, n_ids, id))
                return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                                      "insn %u: LDDW references map %u, which "
                                      "the image's map table does not list",
                                      pc, id);
            m = nicsim_fw_map_get(fw, id);
            if (in->src == NICSIM_LDDW_MAP_IDX) {
                if (raw[pc + 1].imm)
                    return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                                          "insn %u: LDDW map handle with a "
                                          "non-zero second immediate %d",
                                          pc, raw[pc + 1].imm);
            } else {
                off = (uint32_t)raw[pc + 1].imm;
                if (m->type != BPF_MAP_TYPE_ARRAY || m->max_entries != 1)
                    return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                          "insn %u: map %u (type %u, %u entries) "
                                          "has no direct value access: only single-entry arrays do",
                                          pc, id, m->type, m->max_entries);
                if (off >= m->value_size)
                    return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                          "insn %u: offset %u is outside map "
                                          "%u's %u-byte value",
                                          pc, off, id, m->value_size);
            }
            addr = nicsim_addr(NICSIM_MAP_REGION_BASE + id, off);
            in->src = NICSIM_LDDW_IMM64;
            in->imm = (int32_t)(uint32_t)addr;
            raw[pc + 1].imm = (int32_t)(uint32_t)(addr >> 32);
            pc++;
        } else if (in->code == OP_CALL) {
            if (in->src == PSEUDO_CALL)
                continue;
            if (in->src == PSEUDO_KFUNC_CALL)
                return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                      "insn %u: kfunc calls do not run on the NIC", pc);
            if (in->src == 0 && (in->imm < 1 || in->imm >= NICSIM_HW__COUNT))
                return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                      "insn %u: helper %d is not a NIC helper unit (1..%d)", pc,
                                      in->imm, NICSIM_HW__COUNT - 1);
        } else if (in->code == OP_CALLX) {
            return nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                  "insn %u: callx: indirect helper calls cannot "
                                  "be checked and do not run on the NIC",
                                  pc);
        }
    }
    return 0;
}

int nicsim_fw_image_load(struct nicsim_fw *fw, const uint8_t *img, size_t len, struct fw_prog *out,
                         struct fw_reply *r)
{
    struct nicsim_img_hdr h;
    struct nicsim_insn *raw = NULL;
    struct nicsim_isa_insn *dec = NULL;
    struct nicsim_msg ierr;
    uint32_t *ids = NULL;
    int err;

    if (len < sizeof(h))
        return nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                              "image of %zu bytes is shorter than its %zu-byte "
                              "header",
                              len, sizeof(h));
    nicsim_img_hdr_get(&h, img);
    if (check_header(fw, &h, len, r))
        return -1;

    ids = malloc(h.n_maps ? 4u * h.n_maps : 1u);
    raw = malloc((size_t)h.n_slots * sizeof(*raw));
    dec = malloc((size_t)h.n_slots * sizeof(*dec));
    if (!ids || !raw || !dec) {
        err = nicsim_fw_fail(r, NICSIM_CMSG_ENOMEM, "no firmware memory for a %u-slot program",
                             h.n_slots);
        goto out;
    }
    for (uint32_t i = 0; i < h.n_maps; i++)
        ids[i] = nicsim_get_le32(img, sizeof(h) + 4u * i);
    for (uint32_t i = 0; i < h.n_slots; i++)
        nicsim_img_slot_get(&raw[i], img + sizeof(h) + 4u * h.n_maps + NICSIM_IMG_SLOT_SIZE * i);

    for (uint32_t i = 0; i < h.n_maps; i++) {
        if (!nicsim_fw_map_get(fw, ids[i])) {
            err = nicsim_fw_fail(r, NICSIM_CMSG_ENOENT,
                                 "map table entry %u: map %u does not exist on the NIC", i, ids[i]);
            goto out;
        }
        if (in_table(ids, i, ids[i])) {
            err = nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                                 "map table entry %u: map %u is listed twice", i, ids[i]);
            goto out;
        }
    }
    err = check_slots(fw, raw, h.n_slots, ids, h.n_maps, r);
    if (err)
        goto out;
    memset(&ierr, 0, sizeof(ierr));
    if (nicsim_isa_decode(raw, h.n_slots, dec, &ierr)) {
        err = nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "insn %ld: %s", ierr.index, ierr.msg);
        goto out;
    }
    for (uint32_t pc = 0; pc < h.n_slots; pc++) {
        if (nicsim_isa_op_class(dec[pc].op) == NICSIM_CLASS_LEGACY) {
            err = nicsim_fw_fail(r, NICSIM_CMSG_EPERM,
                                 "insn %u: legacy packet load (%s) does not run "
                                 "in XDP",
                                 pc, nicsim_isa_op_name(dec[pc].op));
            goto out;
        }
    }

    out->prog_type = h.prog_type;
    out->stack_depth = h.stack_depth;
    out->flags = h.flags;
    memcpy(out->name, h.name, sizeof(h.name));
    out->name[sizeof(h.name)] = '\0';
    out->insns = dec;
    out->n = h.n_slots;
    out->map_ids = ids;
    out->n_maps = h.n_maps;
    free(raw);
    return 0;
out:
    free(ids);
    free(raw);
    free(dec);
    return err;
}
