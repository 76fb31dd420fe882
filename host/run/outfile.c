/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include "outfile.h"
#include "opt.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OUTS 16

/* What the signal handler reads: set up before it can run, changed with signals blocked. */
static struct {
    char *tmp;
    const char *opt, *path;
} slots[MAX_OUTS];
static volatile sig_atomic_t interrupted, deferred;

static void block(sigset_t *old)
{
    sigset_t s;

    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    sigprocmask(SIG_BLOCK, &s, old);
}

static void unblock(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

static void say(const char *s)
{
    ssize_t rc = write(STDERR_FILENO, s, strlen(s));
    (void)rc;
}

static void on_signal(int sig)
{
    if (deferred && !interrupted) {
        interrupted = sig;
        return;
    }
    bool any = false;
    say(nicsim_cli_prog());
    say(sig == SIGINT    ? ": interrupted (SIGINT)"
        : sig == SIGTERM ? ": terminated (SIGTERM)"
                         : ": hung up (SIGHUP)");
    for (int i = 0; i < MAX_OUTS; i++) {
        if (!slots[i].tmp)
            continue;
        unlink(slots[i].tmp);
        say(any ? ", " : "; not written: ");
        say(slots[i].opt);
        say(" ");
        say(slots[i].path);
        any = true;
    }
    say("\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

void nicsim_cli_signals_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGHUP);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

void nicsim_cli_signals_defer(bool defer)
{
    sigset_t old;

    block(&old);
    deferred = defer;
    int sig = interrupted;
    unblock(&old);
    if (!defer && sig) {
        interrupted = 0;
        raise(sig); /* handled now, outside the deferred section */
    }
}

int nicsim_cli_interrupted(void)
{
    return interrupted;
}

int nicsim_cli_signals_take(void)
{
    sigset_t old;

    block(&old);
    int sig = interrupted;
    interrupted = 0;
    deferred = 0;
    unblock(&old);
    return sig;
}

void nicsim_cli_out_abort_all(void)
{
    for (int i = 0; i < MAX_OUTS; i++)
        if (slots[i].tmp)
            unlink(slots[i].tmp);
}

void nicsim_cli_out_pending(char *buf, size_t len)
{
    size_t used = 0;

    if (len)
        buf[0] = 0;
    for (int i = 0; i < MAX_OUTS && used < len; i++) {
        if (!slots[i].tmp)
            continue;
        int w = snprintf(buf + used, len - used, ", %s %s", slots[i].opt, slots[i].path);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static int reg(struct cli_out *o)
{
    sigset_t old;
    int slot = -1;

    block(&old);
    for (int i = 0; i < MAX_OUTS && slot < 0; i++) {
        if (!slots[i].tmp) {
            slots[i].opt = o->opt;
            slots[i].path = o->path;
            slots[i].tmp = o->tmp;
            slot = i;
        }
    }
    unblock(&old);
    return slot;
}

static void unreg(struct cli_out *o)
{
    sigset_t old;

    if (o->slot < 0)
        return;
    block(&old);
    slots[o->slot].tmp = NULL;
    unblock(&old);
    o->slot = -1;
}

int nicsim_cli_out_begin(struct cli_out *o, const char *opt, const char *path)
{
    struct stat st;
    mode_t mode;

    memset(o, 0, sizeof(*o));
    o->opt = opt;
    o->path = path;
    o->slot = -1;
    if (!*path)
        return nicsim_cli_usage_fail("%s: an empty file name", opt);
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return nicsim_cli_fail("%s %s: is a directory", opt, path);
        if (!S_ISREG(st.st_mode)) { /* /dev/null, a FIFO, a terminal: written directly */
            if (access(path, W_OK))
                return nicsim_cli_fail("%s %s: %s", opt, path, strerror(errno));
            o->target = strdup(path);
            return o->target ? 0 : nicsim_cli_fail("out of memory");
        }
        o->target = realpath(path, NULL); /* a symlink's file is replaced, not the link */
        mode = st.st_mode & 07777;
    } else {
        if (errno != ENOENT)
            return nicsim_cli_fail("%s %s: %s", opt, path, strerror(errno));
        o->target = strdup(path);
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um;
    }
    if (!o->target)
        return nicsim_cli_fail("%s %s: %s", opt, path, strerror(errno));
    char *d = strdup(o->target), *b = strdup(o->target);
    if (!d || !b) {
        free(d);
        free(b);
        nicsim_cli_out_abort(o);
        return nicsim_cli_fail("out of memory");
    }
    const char *dir = dirname(d), *base = basename(b);
    size_t n = strlen(dir) + strlen(base) + 32;
    o->tmp = malloc(n);
    if (o->tmp)
        snprintf(o->tmp, n, "%s/.%s.nicsim-XXXXXX", dir, base);
    int fd = o->tmp ? mkstemp(o->tmp) : -1;
    int e = errno;
    if (fd < 0) {
        free(o->tmp);
        o->tmp = NULL;
        nicsim_cli_out_abort(o);
        int rc = nicsim_cli_fail("%s %s: cannot write in %s: %s", opt, path, dir, strerror(e));
        free(d);
        free(b);
        return rc;
    }
    free(d);
    free(b);
    if (fchmod(fd, mode)) {
        /* keep mkstemp's 0600 */
    }
    close(fd);
    o->slot = reg(o);
    if (o->slot < 0) {
        nicsim_cli_out_abort(o);
        return nicsim_cli_fail("%s: too many outputs", opt);
    }
    return 0;
}

const char *nicsim_cli_out_path(const struct cli_out *o)
{
    return o->tmp ? o->tmp : o->target;
}

int nicsim_cli_out_commit(struct cli_out *o)
{
    int rc = 0;

    if (o->tmp && rename(o->tmp, o->target)) {
        rc = nicsim_cli_fail("%s %s: cannot rename %s onto it: %s", o->opt, o->path, o->tmp,
                      strerror(errno));
        unlink(o->tmp);
    }
    unreg(o);
    free(o->tmp);
    free(o->target);
    o->tmp = o->target = NULL;
    return rc;
}

void nicsim_cli_out_abort(struct cli_out *o)
{
    unreg(o);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->target);
    o->tmp = o->target = NULL;
}

/* ---- an output must not be an input ---- */

struct ident {
    bool exists;
    dev_t dev;
    ino_t ino;
    const char *name; /* for a file that does not exist: its name in the directory dev/ino */
};

static bool ident_of(const char *path, struct ident *id)
{
    struct stat st;

    memset(id, 0, sizeof(*id));
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
            return false; /* /dev/null and the like may be named twice */
        id->exists = true;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return true;
    }
    char *d = strdup(path);
    if (!d)
        return false;
    const char *slash = strrchr(path, '/');
    id->name = slash ? slash + 1 : path;
    bool ok = stat(dirname(d), &st) == 0;
    free(d);
    if (!ok)
        return false;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    return true;
}

static bool same(const struct ident *a, const struct ident *b)
{
    if (a->exists != b->exists || a->dev != b->dev || a->ino != b->ino)
        return false;
    return a->exists || !strcmp(a->name, b->name);
}

int nicsim_cli_files_check(const struct cli_file *f, size_t n)
{
    struct ident *ids = calloc(n ? n : 1, sizeof(*ids));
    bool *ok = calloc(n ? n : 1, sizeof(*ok));
    int rc = 0;

    if (!ids || !ok) {
        free(ids);
        free(ok);
        return nicsim_cli_fail("out of memory");
    }
    for (size_t i = 0; i < n; i++)
        ok[i] = f[i].path && ident_of(f[i].path, &ids[i]);
    for (size_t i = 0; i < n && !rc; i++) {
        for (size_t j = 0; j < n && !rc; j++) {
            if (j == i || !ok[i] || !ok[j] || !f[i].output || (f[j].output && j < i))
                continue;
            if (!same(&ids[i], &ids[j]))
                continue;
            if (f[j].output)
                rc = nicsim_cli_usage_fail("%s %s and %s %s are the same file: two outputs cannot share "
                                    "it",
                                    f[j].opt, f[j].path, f[i].opt, f[i].path);
            else
                rc = nicsim_cli_usage_fail("%s %s is also %s %s: an output must not overwrite an input",
                                    f[i].opt, f[i].path, f[j].opt, f[j].path);
        }
    }
    free(ids);
    free(ok);
    return rc;
}
