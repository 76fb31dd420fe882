/* SPDX-License-Identifier: MIT */
/*
 * The kernel's LRU for LRU hash maps (kernel/bpf/bpf_lru_list.c), modelled step by step so that
 * the same operations from the same CPU evict the same elements:
 *   - common LRU: one global active / inactive / free list, and per CPU a local free list and a
 *     local pending list. A CPU takes nodes from its local free list; when it is empty it flushes
 *     its pending list into the global lists, rotates them, and moves up to target_free nodes
 *     (free ones first, then shrunk from the inactive tail) to its local free list; when even
 *     that fails it steals from the CPUs' local lists, round robin from next_steal.
 *   - per-CPU LRU (BPF_F_NO_COMMON_LRU): each CPU has its own three lists and shrinks 4 at a time.
 * Rotation: when the inactive list is shorter than the active one, the active list is scanned
 * from its tail (referenced nodes go back to its head, the others to the inactive head); the
 * inactive list is then scanned from next_inactive_rotation, referenced nodes going to the active
 * head. A lookup from a program sets the node's ref bit; host lookups do not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw_maps_internal.h"

#define LOCAL_FREE_TARGET  128u
#define LOCAL_NR_SCANS     LOCAL_FREE_TARGET
#define PERCPU_FREE_TARGET 4u
#define PERCPU_NR_SCANS    PERCPU_FREE_TARGET

/* ---- list_head over indices */
static void l_init(struct fm_lru *lru, uint32_t h)
{
    lru->prev[h] = lru->next[h] = h;
}

static void l_add(struct fm_lru *lru, uint32_t e, uint32_t head)
{
    uint32_t nx = lru->next[head];

    lru->prev[nx] = e;
    lru->next[e] = nx;
    lru->prev[e] = head;
    lru->next[head] = e;
}

static void l_del(struct fm_lru *lru, uint32_t e)
{
    lru->next[lru->prev[e]] = lru->next[e];
    lru->prev[lru->next[e]] = lru->prev[e];
}

static void l_move(struct fm_lru *lru, uint32_t e, uint32_t head)
{
    l_del(lru, e);
    l_add(lru, e, head);
}

static int l_empty(const struct fm_lru *lru, uint32_t head)
{
    return lru->next[head] == head;
}

static int is_local(uint8_t t)
{
    return t >= LRU_LOCAL_FREE;
}

static void count_inc(struct fm_lru_list *l, uint8_t t)
{
    if (t < 2)
        l->counts[t]++;
}

static void count_dec(struct fm_lru_list *l, uint8_t t)
{
    if (t < 2)
        l->counts[t]--;
}

/* ---- node moves */
static void move_to_free(struct fm_lru *lru, struct fm_lru_list *l, uint32_t node,
                         uint32_t free_head, uint8_t tgt)
{
    if (is_local(lru->type[node]))
        return;
    if (node == l->next_rot)
        l->next_rot = lru->prev[l->next_rot];
    count_dec(l, lru->type[node]);
    lru->type[node] = tgt;
    l_move(lru, node, free_head);
}

static void move_in(struct fm_lru *lru, struct fm_lru_list *l, uint32_t node, uint8_t tgt)
{
    if (!is_local(lru->type[node]) || is_local(tgt))
        return;
    count_inc(l, tgt);
    lru->type[node] = tgt;
    lru->ref[node] = 0;
    l_move(lru, node, l->head[tgt]);
}

static void move(struct fm_lru *lru, struct fm_lru_list *l, uint32_t node, uint8_t tgt)
{
    if (is_local(lru->type[node]) || is_local(tgt))
        return;
    if (lru->type[node] != tgt) {
        count_dec(l, lru->type[node]);
        count_inc(l, tgt);
        lru->type[node] = tgt;
    }
    lru->ref[node] = 0;
    if (node == l->next_rot)
        l->next_rot = lru->prev[l->next_rot];
    l_move(lru, node, l->head[tgt]);
}

/* ---- rotation and shrinking */
static void rotate_active(struct fm_lru *lru, struct fm_lru_list *l)
{
    uint32_t active = l->head[LRU_ACTIVE];
    uint32_t first = lru->next[active];
    uint32_t i = 0;

    for (uint32_t node = lru->prev[active], tmp; node != active; node = tmp) {
        tmp = lru->prev[node];
        move(lru, l, node, lru->ref[node] ? LRU_ACTIVE : LRU_INACTIVE);
        if (++i == lru->nr_scans || node == first)
            break;
    }
}

static void rotate_inactive(struct fm_lru *lru, struct fm_lru_list *l)
{
    uint32_t inactive = l->head[LRU_INACTIVE];
    uint32_t cur, last, next = inactive;
    uint32_t i = 0;

    if (l_empty(lru, inactive))
        return;
    last = lru->next[l->next_rot];
    if (last == inactive)
        last = lru->next[last];
    cur = l->next_rot;
    while (i < lru->nr_scans) {
        if (cur == inactive) {
            cur = lru->prev[cur];
            continue;
        }
        next = lru->prev[cur];
        if (lru->ref[cur])
            move(lru, l, cur, LRU_ACTIVE);
        if (cur == last)
            break;
        cur = next;
        i++;
    }
    l->next_rot = next;
}

static uint32_t shrink_inactive(struct fm_lru *lru, struct fm_lru_list *l, uint32_t tgt_nshrink,
                                uint32_t free_head, uint8_t tgt_type)
{
    uint32_t inactive = l->head[LRU_INACTIVE];
    uint32_t nshrinked = 0, i = 0;

    for (uint32_t node = lru->prev[inactive], tmp; node != inactive; node = tmp) {
        tmp = lru->prev[node];
        if (lru->ref[node]) {
            move(lru, l, node, LRU_ACTIVE);
        } else if (lru->del_from_htab(lru->arg, node)) {
            move_to_free(lru, l, node, free_head, tgt_type);
            if (++nshrinked == tgt_nshrink)
                break;
        }
        if (++i == lru->nr_scans)
            break;
    }
    return nshrinked;
}

static void rotate(struct fm_lru *lru, struct fm_lru_list *l)
{
    if (l->counts[LRU_INACTIVE] < l->counts[LRU_ACTIVE])
        rotate_active(lru, l);
    rotate_inactive(lru, l);
}

static uint32_t shrink(struct fm_lru *lru, struct fm_lru_list *l, uint32_t tgt_nshrink,
                       uint32_t free_head, uint8_t tgt_type)
{
    uint32_t force;
    uint32_t n = shrink_inactive(lru, l, tgt_nshrink, free_head, tgt_type);

    if (n)
        return n;
    /* force shrink, ignoring the ref bit, the inactive list first */
    force = l_empty(lru, l->head[LRU_INACTIVE]) ? l->head[LRU_ACTIVE] : l->head[LRU_INACTIVE];
    for (uint32_t node = lru->prev[force], tmp; node != force; node = tmp) {
        tmp = lru->prev[node];
        if (lru->del_from_htab(lru->arg, node)) {
            move_to_free(lru, l, node, free_head, tgt_type);
            return 1;
        }
    }
    return 0;
}

/* ---- common LRU */
static void local_flush(struct fm_lru *lru, struct fm_lru_list *l, struct fm_lru_loc *loc)
{
    uint32_t pend = loc->pending_head;

    for (uint32_t node = lru->prev[pend], tmp; node != pend; node = tmp) {
        tmp = lru->prev[node];
        move_in(lru, l, node, lru->ref[node] ? LRU_ACTIVE : LRU_INACTIVE);
    }
}

static void pop_free_to_local(struct fm_lru *lru, struct fm_lru_loc *loc)
{
    struct fm_lru_list *l = &lru->lists[0];
    uint32_t fh = l->head[LRU_FREE], nfree = 0;

    local_flush(lru, l, loc);
    rotate(lru, l);
    for (uint32_t node = lru->next[fh], tmp; node != fh; node = tmp) {
        tmp = lru->next[node];
        move_to_free(lru, l, node, loc->free_head, LRU_LOCAL_FREE);
        if (++nfree == lru->target_free)
            break;
    }
    if (nfree < lru->target_free)
        shrink(lru, l, lru->target_free - nfree, loc->free_head, LRU_LOCAL_FREE);
}

static void add_pending(struct fm_lru *lru, struct fm_lru_loc *loc, uint32_t cpu, uint32_t node)
{
    lru->cpu[node] = (uint16_t)cpu;
    lru->type[node] = LRU_LOCAL_PENDING;
    lru->ref[node] = 0;
    l_add(lru, node, loc->pending_head);
}

static uint32_t local_pop_free(struct fm_lru *lru, struct fm_lru_loc *loc)
{
    uint32_t node = lru->next[loc->free_head];

    if (node == loc->free_head)
        return FM_NIL;
    l_del(lru, node);
    return node;
}

static uint32_t local_pop_pending(struct fm_lru *lru, struct fm_lru_loc *loc)
{
    uint32_t pend = loc->pending_head;

    for (int force = 0; force < 2; force++)
        for (uint32_t node = lru->prev[pend]; node != pend; node = lru->prev[node])
            if ((!lru->ref[node] || force) && lru->del_from_htab(lru->arg, node)) {
                l_del(lru, node);
                return node;
            }
    return FM_NIL;
}

static uint32_t common_pop_free(struct fm_lru *lru, uint32_t cpu)
{
    struct fm_lru_loc *loc = &lru->loc[cpu];
    uint32_t node, steal, first_steal;

    node = local_pop_free(lru, loc);
    if (node == FM_NIL) {
        pop_free_to_local(lru, loc);
        node = local_pop_free(lru, loc);
    }
    if (node != FM_NIL) {
        add_pending(lru, loc, cpu, node);
        return node;
    }
    /* steal from the CPUs' local free, then pending, lists round robin */
    first_steal = loc->next_steal;
    steal = first_steal;
    do {
        struct fm_lru_loc *s = &lru->loc[steal];

        node = local_pop_free(lru, s);
        if (node == FM_NIL)
            node = local_pop_pending(lru, s);
        steal = (steal + 1) % lru->n_cpus;
    } while (node == FM_NIL && steal != first_steal);
    loc->next_steal = steal;
    if (node != FM_NIL)
        add_pending(lru, loc, cpu, node);
    return node;
}

static void common_push_free(struct fm_lru *lru, uint32_t node)
{
    uint8_t t = lru->type[node];

    if (t == LRU_FREE || t == LRU_LOCAL_FREE)
        return;
    if (t == LRU_LOCAL_PENDING) {
        lru->type[node] = LRU_LOCAL_FREE;
        lru->ref[node] = 0;
        l_move(lru, node, lru->loc[lru->cpu[node]].free_head);
        return;
    }
    move(lru, &lru->lists[0], node, LRU_FREE);
}

/* ---- per-CPU LRU */
static uint32_t percpu_pop_free(struct fm_lru *lru, uint32_t cpu)
{
    struct fm_lru_list *l = &lru->lists[cpu];
    uint32_t fh = l->head[LRU_FREE], node;

    rotate(lru, l);
    if (l_empty(lru, fh))
        shrink(lru, l, PERCPU_FREE_TARGET, fh, LRU_FREE);
    if (l_empty(lru, fh))
        return FM_NIL;
    node = lru->next[fh];
    lru->ref[node] = 0;
    move(lru, l, node, LRU_INACTIVE);
    return node;
}

uint32_t nicsim_fm_lru_pop_free(struct fm_lru *lru, uint32_t cpu)
{
    if (cpu >= lru->n_cpus)
        cpu = 0;
    return lru->percpu ? percpu_pop_free(lru, cpu) : common_pop_free(lru, cpu);
}

void nicsim_fm_lru_push_free(struct fm_lru *lru, uint32_t node)
{
    if (lru->percpu)
        move(lru, &lru->lists[lru->cpu[node]], node, LRU_FREE);
    else
        common_push_free(lru, node);
}

/* ---- setup: bpf_lru_init + bpf_lru_populate */
void nicsim_fm_lru_fini(struct fm_lru *lru)
{
    free(lru->prev);
    free(lru->next);
    free(lru->type);
    free(lru->ref);
    free(lru->cpu);
    free(lru->lists);
    free(lru->loc);
    memset(lru, 0, sizeof(*lru));
}

static void list_setup(struct fm_lru *lru, struct fm_lru_list *l, uint32_t base)
{
    for (uint32_t i = 0; i < 3; i++) {
        l->head[i] = base + i;
        l_init(lru, base + i);
    }
    l->counts[0] = l->counts[1] = 0;
    l->next_rot = l->head[LRU_INACTIVE];
}

int nicsim_fm_lru_init(struct fm_lru *lru, int percpu, uint32_t n_nodes, uint32_t n_cpus,
                       int (*del)(void *, uint32_t), void *arg)
{
    size_t n_sent = percpu ? 3u * n_cpus : 3u + 2u * n_cpus;
    size_t total = (size_t)n_nodes + n_sent;
    uint32_t n = n_nodes;

    memset(lru, 0, sizeof(*lru));
    lru->percpu = percpu;
    lru->n_nodes = n_nodes;
    lru->n_cpus = n_cpus;
    lru->del_from_htab = del;
    lru->arg = arg;
    lru->prev = calloc(total, sizeof(uint32_t));
    lru->next = calloc(total, sizeof(uint32_t));
    lru->type = calloc(n_nodes ? n_nodes : 1, 1);
    lru->ref = calloc(n_nodes ? n_nodes : 1, 1);
    lru->cpu = calloc(n_nodes ? n_nodes : 1, sizeof(uint16_t));
    lru->lists = calloc(percpu ? n_cpus : 1, sizeof(*lru->lists));
    lru->loc = percpu ? NULL : calloc(n_cpus, sizeof(*lru->loc));
    if (!lru->prev || !lru->next || !lru->type || !lru->ref || !lru->cpu || !lru->lists ||
        (!percpu && !lru->loc)) {
        nicsim_fm_lru_fini(lru);
        return -ENOMEM;
    }
    if (percpu) {
        uint32_t per = n_nodes / n_cpus, i = 0;

        lru->nr_scans = PERCPU_NR_SCANS;
        for (uint32_t c = 0; c < n_cpus; c++)
            list_setup(lru, &lru->lists[c], n + 3u * c);
        /* bpf_percpu_lru_populate: pcpu_entries nodes to each CPU in turn */
        for (uint32_t c = 0; c < n_cpus && i < n_nodes; c++) {
            do {
                lru->cpu[i] = (uint16_t)c;
                lru->type[i] = LRU_FREE;
                l_add(lru, i, lru->lists[c].head[LRU_FREE]);
                i++;
            } while (i < n_nodes && per && i % per);
        }
        return 0;
    }
    lru->nr_scans = LOCAL_NR_SCANS;
    list_setup(lru, &lru->lists[0], n);
    for (uint32_t c = 0; c < n_cpus; c++) {
        lru->loc[c].free_head = n + 3u + 2u * c;
        lru->loc[c].pending_head = n + 4u + 2u * c;
        l_init(lru, lru->loc[c].free_head);
        l_init(lru, lru->loc[c].pending_head);
        lru->loc[c].next_steal = c;
    }
    for (uint32_t i = 0; i < n_nodes; i++) {
        lru->type[i] = LRU_FREE;
        l_add(lru, i, lru->lists[0].head[LRU_FREE]);
    }
    /* target_free = clamp((nr_elems / num_possible_cpus()) / 2, 1, LOCAL_FREE_TARGET) */
    lru->target_free = n_nodes / n_cpus / 2;
    if (lru->target_free < 1)
        lru->target_free = 1;
    if (lru->target_free > LOCAL_FREE_TARGET)
        lru->target_free = LOCAL_FREE_TARGET;
    return 0;
}
