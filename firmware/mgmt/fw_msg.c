/* SPDX-License-Identifier: MIT */
/*
 * Control-message handlers (docs/control-messages.md). Every handler receives a body of exactly
 * `len` untrusted bytes, checks its size, reserved fields, ids and flags before acting, and
 * answers a bad request with an error status and a sentence that names what was wrong.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_internal.h"
#include "nicsim/fw_maps.h"
#include "nicsim/pcie.h"

#define FW_MAX_BATCH (NICSIM_RING_MAX_SLOT / 8u) /* elements per message, whatever their size */

static const char *tname(uint8_t type)
{
    return nicsim_cmsg_type_name(type);
}

/* Fixed-size bodies: exactly `want` bytes. */
static int body_is(struct fw_reply *r, size_t len, size_t want)
{
    if (len == want)
        return 1;
    nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: body of %zu bytes, expected %zu", tname(r->type),
                   len, want);
    return 0;
}

/* "0a000001" for the first bytes of a key, for messages. */
static const char *hexkey(const void *key, size_t n, char *buf, size_t buf_len)
{
    const uint8_t *k = key;
    size_t i, o = 0;

    buf[0] = '\0';
    for (i = 0; i < n && o + 3 < buf_len; i++)
        o += (size_t)snprintf(buf + o, buf_len - o, "%02x", k[i]);
    if (i < n && o + 4 < buf_len)
        snprintf(buf + o, buf_len - o, "...");
    return buf;
}

static struct fw_prog *prog_get(struct nicsim_fw *fw, uint32_t id)
{
    if (!id || id > fw->max_progs || fw->progs[id - 1].id != id)
        return NULL;
    return &fw->progs[id - 1];
}

/* ---------------------------------------------------------------------------------------------
 * FW_INFO
 */
static void msg_fw_info(struct nicsim_fw *fw, size_t len, struct fw_reply *r)
{
    struct nicsim_cmsg_fw_info info = {0};

    if (!body_is(r, len, 0))
        return;
    info.fw_version = FW_VERSION;
    info.cmsg_version = NICSIM_CMSG_VERSION;
    info.n_ports = fw->n_ports;
    info.n_cores = fw->n_cores;
    info.map_mem_total = fw->map_mem;
    info.map_mem_used = nicsim_fw_maps_mem_used(fw);
    info.n_maps = fw->n_maps;
    info.max_maps = fw->max_maps;
    info.n_progs = fw->n_progs;
    info.max_progs = fw->max_progs;
    info.max_msg_len = fw->buf_size ? fw->buf_size : FW_MAX_SLOT;
    info.max_prog_slots = NICSIM_IMG_MAX_SLOTS;
    info.map_types = nicsim_fw_maps_types();
    for (unsigned h = 1; h < NICSIM_HW__COUNT; h++)
        info.helpers |= 1ull << h;
    info.event_queue_bytes = fw->evq_bytes;
    snprintf(info.name, sizeof(info.name), "nicsim-fw %u.%u", FW_VERSION >> 16,
             FW_VERSION & 0xffffu);
    FW_REPLY_ENCODE(r, nicsim_cmsg_fw_info_put, &info);
}

/* ---------------------------------------------------------------------------------------------
 * MAP_ALLOC / MAP_FREE
 */
static void msg_map_alloc(struct nicsim_fw *fw, const uint8_t *body, size_t len, struct fw_reply *r)
{
    struct nicsim_cmsg_map_alloc a;
    struct nicsim_cmsg_map_alloc_reply rep = {0};
    struct nicsim_msg msg;
    uint64_t mem = 0;
    uint32_t id = 0;
    int err;

    if (!body_is(r, len, sizeof(a)))
        return;
    nicsim_cmsg_map_alloc_get(&a, body);

    if (a.inner_map_id && a.type != BPF_MAP_TYPE_ARRAY_OF_MAPS &&
        a.type != BPF_MAP_TYPE_HASH_OF_MAPS) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                       "MAP_ALLOC: inner map %u given for map type %u, which "
                       "holds no maps",
                       a.inner_map_id, a.type);
        return;
    }
    if (fw->n_maps >= fw->max_maps) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENOSPC, "MAP_ALLOC: all %u map ids are in use", fw->max_maps);
        return;
    }
    msg = (struct nicsim_msg){.index = -1};
    err = nicsim_fw_map_create(fw, &a, &id, &mem, &msg);
    if (err) {
        nicsim_fw_fail_errno(r, err, "MAP_ALLOC: %s", msg.msg[0] ? msg.msg : "refused");
        return;
    }
    rep.map_id = id;
    rep.mem_bytes = mem;
    FW_REPLY_ENCODE(r, nicsim_cmsg_map_alloc_reply_put, &rep);
    if (fw->hal.core && fw->hal.core->map_created)
        fw->hal.core->map_created(fw->hal.core_ctx, id);
}

static void msg_map_free(struct nicsim_fw *fw, const uint8_t *body, size_t len, struct fw_reply *r)
{
    struct nicsim_cmsg_id req;

    if (!body_is(r, len, sizeof(req)))
        return;
    nicsim_cmsg_id_get(&req, body);
    if (req.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "MAP_FREE: reserved field must be 0");
        return;
    }
    if (!nicsim_fw_map_get(fw, req.id)) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "map %u does not exist", req.id);
        return;
    }
    for (uint32_t i = 0; i < fw->max_progs; i++) {
        const struct fw_prog *p = &fw->progs[i];

        for (uint32_t j = 0; p->id && j < p->n_maps; j++)
            if (p->map_ids[j] == req.id) {
                nicsim_fw_fail(r, NICSIM_CMSG_EBUSY, "map %u is used by program %u (%s)", req.id,
                               p->id, p->name);
                return;
            }
    }
    if (fw->hal.core && fw->hal.core->map_freed)
        fw->hal.core->map_freed(fw->hal.core_ctx, req.id);
    {
        int err = nicsim_fw_map_destroy(fw, req.id);

        if (err)
            nicsim_fw_fail_errno(r, err, "map %u cannot be freed", req.id);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Map element operations.
 */
static int prog_array_value_ok(struct nicsim_fw *fw, const struct fw_map_ent *m, uint32_t map_id,
                               const uint8_t *value, struct fw_reply *r, uint32_t elem)
{
    uint32_t prog_id;

    if (m->type != BPF_MAP_TYPE_PROG_ARRAY)
        return 1;
    memcpy(&prog_id, value, sizeof(prog_id));
    if (prog_get(fw, prog_id))
        return 1;
    nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                   "map %u: element %u: prog array value %u is not a loaded "
                   "program",
                   map_id, elem, prog_id);
    return 0;
}

static void msg_map_op(struct nicsim_fw *fw, uint8_t type, uint16_t flags, const uint8_t *body,
                       size_t len, struct fw_reply *r)
{
    struct nicsim_msg msg;
    char kb[40];
    const struct fw_map_ent *m;
    struct nicsim_cmsg_map_op op;
    struct nicsim_cmsg_map_op ro = {0};
    uint8_t *rop;
    size_t kp, vp, hv, elem_in, elem_out, room;
    const uint8_t *in;
    int with_values;

    rop = nicsim_fw_reply_put(r, NULL, sizeof(ro)); /* count 0 until elements are done */
    if (len < sizeof(op)) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: body of %zu bytes, the map-op header needs %zu",
                       tname(type), len, sizeof(op));
        return;
    }
    nicsim_cmsg_map_op_get(&op, body);
    ro.map_id = op.map_id;
    ro.key_size = op.key_size;
    ro.value_size = op.value_size;
    ro.flags = op.flags;
    ro.max_count = op.max_count;
    nicsim_cmsg_map_op_put(rop, &ro);
    if (op.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: reserved field must be 0", tname(type));
        return;
    }
    m = nicsim_fw_map_get(fw, op.map_id);
    if (!m) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "map %u does not exist", op.map_id);
        return;
    }
    if (op.key_size != m->key_size) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "map %u: key size %u does not match the map's %u",
                       op.map_id, op.key_size, m->key_size);
        return;
    }
    if (op.value_size != m->value_size) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "map %u: value size %u does not match the map's %u",
                       op.map_id, op.value_size, m->value_size);
        return;
    }
    if (type == NICSIM_CMSG_MAP_UPDATE) {
        if ((op.flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST) {
            nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                           "map %u: update flags 0x%llx are not BPF_ANY, "
                           "BPF_NOEXIST or BPF_EXIST (| BPF_F_LOCK)",
                           op.map_id, (unsigned long long)op.flags);
            return;
        }
    } else if (op.flags) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: flags must be 0", tname(type));
        return;
    }
    if (type == NICSIM_CMSG_MAP_GETFIRST || type == NICSIM_CMSG_MAP_GETNEXT) {
        uint32_t want = type == NICSIM_CMSG_MAP_GETFIRST ? 0 : 1;

        if (op.count != want) {
            nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: count %u, must be %u", tname(type), op.count,
                           want);
            return;
        }
        if (!op.max_count || op.max_count > FW_MAX_BATCH) {
            nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: max_count %u is not in 1..%u", tname(type),
                           op.max_count, FW_MAX_BATCH);
            return;
        }
    } else if (op.max_count) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: max_count must be 0", tname(type));
        return;
    } else if (op.count > FW_MAX_BATCH) {
        nicsim_fw_fail(r, NICSIM_CMSG_E2BIG, "%s: count %u is more than %u", tname(type), op.count,
                       FW_MAX_BATCH);
        return;
    }
    if (type == NICSIM_CMSG_MAP_LOOKUP && (flags & NICSIM_CMSG_F_AND_DELETE) && op.count != 1) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                       "MAP_LOOKUP: lookup-and-delete takes one element, not %u", op.count);
        return;
    }

    kp = nicsim_round8(m->key_size);
    hv = nicsim_fw_map_host_value_size(fw, op.map_id);
    vp = nicsim_round8(hv);
    with_values = type == NICSIM_CMSG_MAP_LOOKUP ||
                  ((type == NICSIM_CMSG_MAP_GETFIRST || type == NICSIM_CMSG_MAP_GETNEXT) &&
                   !(flags & NICSIM_CMSG_F_KEYS_ONLY));
    elem_in = kp + (type == NICSIM_CMSG_MAP_UPDATE ? vp : 0);
    elem_out = type == NICSIM_CMSG_MAP_UPDATE || type == NICSIM_CMSG_MAP_DELETE
                   ? 0
                   : kp + (with_values ? vp : 0);
    /* count <= FW_MAX_BATCH and elements <= 2 * (4 GiB + 8): no overflow in size_t products */
    if (len - sizeof(op) != (size_t)op.count * elem_in) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                       "%s: map %u: %u elements of %zu bytes need %zu bytes, the "
                       "body has %zu",
                       tname(type), op.map_id, op.count, elem_in, (size_t)op.count * elem_in,
                       len - sizeof(op));
        return;
    }
    room = nicsim_fw_reply_room(r);
    {
        size_t n_out = type == NICSIM_CMSG_MAP_GETFIRST || type == NICSIM_CMSG_MAP_GETNEXT
                           ? op.max_count
                           : op.count;

        if (elem_out && n_out > room / elem_out) {
            nicsim_fw_fail(r, NICSIM_CMSG_E2BIG,
                           "%s: map %u: %zu elements of %zu bytes do not fit the "
                           "%zu bytes the reply has",
                           tname(type), op.map_id, n_out, elem_out, room);
            return;
        }
    }
    if (with_values && fw->val_buf_size < hv) {
        uint8_t *b = realloc(fw->val_buf, hv ? hv : 1);

        if (!b) {
            nicsim_fw_fail(r, NICSIM_CMSG_ENOMEM, "map %u: no firmware memory for a %zu-byte value",
                           op.map_id, hv);
            return;
        }
        fw->val_buf = b;
        fw->val_buf_size = hv;
    }

    in = body + sizeof(op);
    msg = (struct nicsim_msg){.index = -1};
    if (type == NICSIM_CMSG_MAP_GETFIRST || type == NICSIM_CMSG_MAP_GETNEXT) {
        const uint8_t *prev = type == NICSIM_CMSG_MAP_GETNEXT ? in : NULL;

        while (ro.count < op.max_count) {
            uint8_t *e = nicsim_fw_reply_put(r, NULL, elem_out);
            int err;

            if (!e) /* cannot happen: checked above */
                break;
            err = nicsim_fw_map_get_next(fw, op.map_id, prev, e, &msg);
            if (err) {
                r->len -= elem_out;
                if (err == -ENOENT && ro.count)
                    break;
                if (err == -ENOENT)
                    nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "map %u: no key after %s", op.map_id,
                                   prev ? hexkey(prev, m->key_size, kb, sizeof(kb)) : "the start");
                else
                    nicsim_fw_fail_errno(r, err, "map %u: get-next: %s", op.map_id, msg.msg);
                return;
            }
            if (with_values) {
                err = nicsim_fw_map_lookup(fw, op.map_id, e, fw->val_buf, 0, &msg);
                if (err) {
                    r->len -= elem_out;
                    nicsim_fw_fail_errno(r, err, "map %u: value of key %s: %s", op.map_id,
                                         hexkey(e, m->key_size, kb, sizeof(kb)), msg.msg);
                    return;
                }
                memcpy(e + kp, fw->val_buf, hv);
            }
            prev = e;
            ro.count++;
            nicsim_cmsg_map_op_put(rop, &ro);
        }
        return;
    }

    for (uint32_t i = 0; i < op.count; i++, in += elem_in) {
        int err = 0;

        if (type == NICSIM_CMSG_MAP_LOOKUP) {
            err = nicsim_fw_map_lookup(fw, op.map_id, in, fw->val_buf,
                                       !!(flags & NICSIM_CMSG_F_AND_DELETE), &msg);
            if (!err) {
                nicsim_fw_reply_put(r, in, kp);
                nicsim_fw_reply_put(r, fw->val_buf, hv);
            }
        } else if (type == NICSIM_CMSG_MAP_UPDATE) {
            if (!prog_array_value_ok(fw, m, op.map_id, in + kp, r, i))
                return;
            err = nicsim_fw_map_update(fw, op.map_id, in, in + kp, op.flags, &msg);
        } else {
            err = nicsim_fw_map_delete(fw, op.map_id, in, &msg);
        }
        if (err) {
            nicsim_fw_fail_errno(r, err, "map %u: element %u (key %s): %s", op.map_id, i,
                                 hexkey(in, m->key_size, kb, sizeof(kb)),
                                 msg.msg[0] ? msg.msg : strerror(-err));
            return;
        }
        ro.count++;
        nicsim_cmsg_map_op_put(rop, &ro);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Programs.
 */
static void msg_prog_load(struct nicsim_fw *fw, uint16_t flags, const uint8_t *body, size_t len,
                          struct fw_reply *r)
{
    struct nicsim_cmsg_prog_load req;
    struct nicsim_cmsg_prog_load_reply rep;
    struct fw_prog *slot = NULL, prog = {0};
    const uint8_t *img;
    uint8_t *copy = NULL;

    if (len < sizeof(req)) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "PROG_LOAD: body of %zu bytes, expected %zu", len,
                       sizeof(req));
        return;
    }
    nicsim_cmsg_prog_load_get(&req, body);
    if (req.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "PROG_LOAD: reserved field must be 0");
        return;
    }
    if (flags & NICSIM_CMSG_F_INLINE) {
        if (req.image_addr || req.image_len != len - sizeof(req)) {
            nicsim_fw_fail(r, NICSIM_CMSG_EINVAL,
                           "PROG_LOAD: inline image of %u bytes at address "
                           "0x%llx, the message carries %zu bytes at address 0",
                           req.image_len, (unsigned long long)req.image_addr, len - sizeof(req));
            return;
        }
    } else if (len != sizeof(req)) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "PROG_LOAD: body of %zu bytes, expected %zu", len,
                       sizeof(req));
        return;
    }
    if (!req.image_len || req.image_len > FW_MAX_IMAGE_LEN) {
        nicsim_fw_fail(r, NICSIM_CMSG_E2BIG, "PROG_LOAD: image of %u bytes (1..%zu accepted)",
                       req.image_len, FW_MAX_IMAGE_LEN);
        return;
    }
    for (uint32_t i = 0; i < fw->max_progs && !slot; i++)
        if (!fw->progs[i].id)
            slot = &fw->progs[i];
    if (!slot) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENOSPC, "PROG_LOAD: all %u program slots are in use",
                       fw->max_progs);
        return;
    }
    if (flags & NICSIM_CMSG_F_INLINE) {
        img = body + sizeof(req);
    } else {
        copy = malloc(req.image_len);
        if (!copy) {
            nicsim_fw_fail(r, NICSIM_CMSG_ENOMEM, "PROG_LOAD: no firmware memory for %u bytes",
                           req.image_len);
            return;
        }
        if (fw->hal.ops->dma_read(fw->hal.ctx, req.image_addr, copy, req.image_len)) {
            nicsim_fw_fail(r, NICSIM_CMSG_EFAULT,
                           "PROG_LOAD: image at bus address 0x%llx (%u bytes) "
                           "is not readable",
                           (unsigned long long)req.image_addr, req.image_len);
            free(copy);
            return;
        }
        img = copy;
    }
    prog.id = (uint32_t)(slot - fw->progs) + 1u;
    if (nicsim_fw_image_load(fw, img, req.image_len, &prog, r)) {
        free(copy);
        return;
    }
    free(copy);
    if (fw->hal.core && fw->hal.core->load) {
        struct nicsim_fw_prog_desc d = {
            .prog_id = prog.id,
            .prog_type = prog.prog_type,
            .stack_depth = prog.stack_depth,
            .flags = prog.flags,
            .insns = prog.insns,
            .n = prog.n,
            .map_ids = prog.map_ids,
            .n_maps = prog.n_maps,
        };
        char msg[NICSIM_CMSG_ERRMSG_MAX] = "";
        int err;

        memcpy(d.name, prog.name, sizeof(d.name));
        err = fw->hal.core->load(fw->hal.core_ctx, &d, msg, sizeof(msg));
        if (err) {
            nicsim_fw_fail_errno(r, err, "program '%s': the cores refused it: %s", prog.name,
                                 msg[0] ? msg : strerror(-err));
            free(prog.insns);
            free(prog.map_ids);
            return;
        }
    }
    *slot = prog;
    fw->n_progs++;
    rep.prog_id = prog.id;
    rep.n_slots = (uint32_t)prog.n;
    FW_REPLY_ENCODE(r, nicsim_cmsg_prog_load_reply_put, &rep);
}

/* Is program `id` a value in a prog array? Returns that map's id or 0. */
static uint32_t prog_in_prog_array(struct nicsim_fw *fw, uint32_t id)
{
    for (uint32_t map_id = 1; map_id <= fw->max_maps; map_id++) {
        const struct fw_map_ent *m = nicsim_fw_map_get(fw, map_id);
        uint32_t key, val;

        if (!m || m->type != BPF_MAP_TYPE_PROG_ARRAY)
            continue;
        /* prog array keys are indices: check every slot (without a sentence per empty one) */
        for (key = 0; key < m->max_entries; key++)
            if (!nicsim_fw_maps__prog_array_get(fw->maps, map_id, key, &val) && val == id)
                return map_id;
    }
    return 0;
}

static void msg_prog_unload(struct nicsim_fw *fw, const uint8_t *body, size_t len,
                            struct fw_reply *r)
{
    struct nicsim_cmsg_id req;
    struct fw_prog *p;
    uint32_t in_map;

    if (!body_is(r, len, sizeof(req)))
        return;
    nicsim_cmsg_id_get(&req, body);
    if (req.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "PROG_UNLOAD: reserved field must be 0");
        return;
    }
    p = prog_get(fw, req.id);
    if (!p) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "program %u is not loaded", req.id);
        return;
    }
    if (p->attached) {
        for (uint32_t port = 0; port < fw->n_ports; port++)
            if (fw->ports[port].prog_id == req.id) {
                nicsim_fw_fail(r, NICSIM_CMSG_EBUSY, "program %u (%s) is attached to port %u",
                               req.id, p->name, port);
                return;
            }
    }
    in_map = prog_in_prog_array(fw, req.id);
    if (in_map) {
        nicsim_fw_fail(r, NICSIM_CMSG_EBUSY, "program %u (%s) is in prog array map %u", req.id,
                       p->name, in_map);
        return;
    }
    if (fw->hal.core && fw->hal.core->unload)
        fw->hal.core->unload(fw->hal.core_ctx, req.id);
    free(p->insns);
    free(p->map_ids);
    memset(p, 0, sizeof(*p));
    fw->n_progs--;
}

/* ---------------------------------------------------------------------------------------------
 * Datapath configuration.
 */
static void msg_xdp(struct nicsim_fw *fw, uint8_t type, const uint8_t *body, size_t len,
                    struct fw_reply *r)
{
    struct nicsim_cmsg_xdp req;
    struct nicsim_cmsg_xdp_reply rep = {0};
    struct fw_prog *p = NULL, *old;
    uint32_t old_id;

    if (!body_is(r, len, sizeof(req)))
        return;
    nicsim_cmsg_xdp_get(&req, body);
    if (req.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "%s: reserved field must be 0", tname(type));
        return;
    }
    if (req.port >= fw->n_ports) {
        nicsim_fw_fail(r, NICSIM_CMSG_ENODEV, "port %u: the NIC has %u port%s", req.port,
                       fw->n_ports, fw->n_ports == 1 ? "" : "s");
        return;
    }
    if (type == NICSIM_CMSG_XDP_ATTACH) {
        if (req.flags & ~NICSIM_XDP_ATTACH_F_NOEXIST) {
            nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "XDP_ATTACH: flags 0x%x are not defined",
                           req.flags & ~NICSIM_XDP_ATTACH_F_NOEXIST);
            return;
        }
        p = prog_get(fw, req.prog_id);
        if (!p) {
            nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "XDP_ATTACH: program %u is not loaded",
                           req.prog_id);
            return;
        }
    } else if (req.prog_id || req.flags) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "XDP_DETACH: prog_id and flags must be 0");
        return;
    }
    old_id = fw->ports[req.port].prog_id;
    if (p && old_id && (req.flags & NICSIM_XDP_ATTACH_F_NOEXIST)) {
        nicsim_fw_fail(r, NICSIM_CMSG_EBUSY, "port %u already runs program %u", req.port, old_id);
        return;
    }
    if (fw->hal.core && fw->hal.core->set_port_prog && old_id != req.prog_id) {
        int err = fw->hal.core->set_port_prog(fw->hal.core_ctx, req.port, req.prog_id);

        if (err) {
            nicsim_fw_fail_errno(r, err, "port %u: the datapath refused program %u", req.port,
                                 req.prog_id);
            return;
        }
    }
    old = prog_get(fw, old_id);
    if (old)
        old->attached--;
    if (p)
        p->attached++;
    fw->ports[req.port].prog_id = req.prog_id;
    rep.old_prog_id = old_id;
    FW_REPLY_ENCODE(r, nicsim_cmsg_xdp_reply_put, &rep);
}

/* ---------------------------------------------------------------------------------------------
 * Counters and events.
 */
static void msg_stats(struct nicsim_fw *fw, const uint8_t *body, size_t len, struct fw_reply *r)
{
    struct nicsim_cmsg_stats_req req;
    struct nicsim_stats *s;

    if (!body_is(r, len, sizeof(req)))
        return;
    nicsim_cmsg_stats_req_get(&req, body);
    if (req.reserved || (req.flags & ~NICSIM_STATS_F_RESET)) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "STATS: undefined flags 0x%x or reserved field set",
                       req.flags & ~NICSIM_STATS_F_RESET);
        return;
    }
    if (req.scope == NICSIM_STATS_PORT) {
        if (req.id >= fw->n_ports) {
            nicsim_fw_fail(r, NICSIM_CMSG_ENODEV, "STATS: port %u: the NIC has %u ports", req.id,
                           fw->n_ports);
            return;
        }
        s = &fw->ports[req.id].stats;
    } else if (req.scope == NICSIM_STATS_PROG) {
        struct fw_prog *p = prog_get(fw, req.id);

        if (!p) {
            nicsim_fw_fail(r, NICSIM_CMSG_ENOENT, "STATS: program %u is not loaded", req.id);
            return;
        }
        s = &p->stats;
    } else {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "STATS: scope %u is neither port (1) nor program (2)",
                       req.scope);
        return;
    }
    s->scope = req.scope;
    s->id = req.id;
    FW_REPLY_ENCODE(r, nicsim_stats_put, s);
    if (req.flags & NICSIM_STATS_F_RESET)
        *s = (struct nicsim_stats){.scope = req.scope, .id = req.id};
}

static void msg_events(struct nicsim_fw *fw, const uint8_t *body, size_t len, struct fw_reply *r)
{
    struct nicsim_cmsg_events_req req;
    struct nicsim_cmsg_events_reply er = {0};
    uint8_t *rep;
    size_t budget, max_rec, used = 0;

    if (!body_is(r, len, sizeof(req)))
        return;
    nicsim_cmsg_events_req_get(&req, body);
    if (req.reserved) {
        nicsim_fw_fail(r, NICSIM_CMSG_EINVAL, "EVENTS: reserved field must be 0");
        return;
    }
    rep = nicsim_fw_reply_put(r, NULL, sizeof(er));
    budget = max_rec = nicsim_fw_reply_room(r);
    if (req.max_bytes && req.max_bytes < budget)
        budget = req.max_bytes;
    while (fw->evq_head) {
        struct fw_event *e = fw->evq_head;
        size_t need = sizeof(e->rec) + nicsim_round8(e->rec.len);

        if (need > max_rec) {
            fw->evq_lost++; /* can never be delivered over this ring: drop it */
        } else if (need > budget - used) {
            break;
        } else {
            FW_REPLY_ENCODE(r, nicsim_event_rec_put, &e->rec);
            nicsim_fw_reply_put(r, e->data, e->rec.len);
            used += need;
            er.count++;
        }
        fw_ring_release(fw, &e->rec);
        fw->evq_head = e->next;
        if (!fw->evq_head)
            fw->evq_tail = NULL;
        fw->evq_used -= (uint32_t)need;
        fw->evq_count--;
        free(e);
    }
    er.pending = fw->evq_count;
    er.lost = fw->evq_lost;
    nicsim_cmsg_events_reply_put(rep, &er);
    fw->evq_lost = 0;
}

/* ---------------------------------------------------------------------------------------------
 */
void nicsim_fw_msg_dispatch(struct nicsim_fw *fw, uint8_t type, uint16_t flags, const uint8_t *body,
                            size_t len, struct fw_reply *r)
{
    switch (type) {
    case NICSIM_CMSG_FW_INFO:
        msg_fw_info(fw, len, r);
        break;
    case NICSIM_CMSG_MAP_ALLOC:
        msg_map_alloc(fw, body, len, r);
        break;
    case NICSIM_CMSG_MAP_FREE:
        msg_map_free(fw, body, len, r);
        break;
    case NICSIM_CMSG_MAP_LOOKUP:
    case NICSIM_CMSG_MAP_UPDATE:
    case NICSIM_CMSG_MAP_DELETE:
    case NICSIM_CMSG_MAP_GETFIRST:
    case NICSIM_CMSG_MAP_GETNEXT:
        msg_map_op(fw, type, flags, body, len, r);
        break;
    case NICSIM_CMSG_PROG_LOAD:
        msg_prog_load(fw, flags, body, len, r);
        break;
    case NICSIM_CMSG_PROG_UNLOAD:
        msg_prog_unload(fw, body, len, r);
        break;
    case NICSIM_CMSG_XDP_ATTACH:
    case NICSIM_CMSG_XDP_DETACH:
        msg_xdp(fw, type, body, len, r);
        break;
    case NICSIM_CMSG_STATS:
        msg_stats(fw, body, len, r);
        break;
    case NICSIM_CMSG_EVENTS:
        msg_events(fw, body, len, r);
        break;
    default:
        nicsim_fw_fail(r, NICSIM_CMSG_EBADMSG, "unknown message type 0x%02x", type);
        break;
    }
}
