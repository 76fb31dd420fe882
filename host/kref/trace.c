/* SPDX-License-Identifier: MIT */
/*
 * bpf_trace_printk output of the kernel reference: the kernel writes it to the trace buffer as
 * the bpf_trace/bpf_trace_printk event. To read only this process's lines, and to take none
 * from other readers of the global trace_pipe, kref makes a tracefs instance of its own
 * (instances/nicsim-kref-<pid>-<n>), enables the event there for this process only
 * (set_event_pid) and reads the instance's trace_pipe, non-blocking, after each run.
 */
#define _GNU_SOURCE
#include "kref_trace.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRACEFS "/sys/kernel/tracing"
#define MARK    "bpf_trace_printk: "

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? errno : 0;
    close(fd);
    return n < 0 ? -e : 0;
}

/* Instances left by runners that were killed before closing (their process is gone). */
static void remove_stale_instances(void)
{
    DIR *d = opendir(TRACEFS "/instances");
    struct dirent *e;

    while (d && (e = readdir(d))) {
        int pid;
        unsigned n;
        char path[512];

        if (sscanf(e->d_name, "nicsim-kref-%d-%u", &pid, &n) != 2 || pid <= 0 ||
            kill(pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof(path), TRACEFS "/instances/%s", e->d_name);
        rmdir(path);
    }
    if (d)
        closedir(d);
}

int nicsim_kref_trace_open(struct kref_trace *t, char *why, size_t whylen)
{
    static atomic_uint seq;
    char pid[32];
    struct stat st;
    int rc;

    memset(t, 0, sizeof(*t));
    t->fd = -1;
    if (stat(TRACEFS "/instances", &st) != 0 && mount("nodev", TRACEFS, "tracefs", 0, NULL) != 0) {
        snprintf(why, whylen, "tracefs is not mounted at " TRACEFS " and mounting it failed (%s)",
                 strerror(errno));
        return -ENOENT;
    }
    remove_stale_instances();
    snprintf(t->dir, sizeof(t->dir), TRACEFS "/instances/nicsim-kref-%d-%u", (int)getpid(),
             atomic_fetch_add(&seq, 1));
    if (mkdir(t->dir, 0700) != 0) {
        rc = -errno;
        snprintf(why, whylen, "cannot create the trace instance %s (%s)", t->dir, strerror(-rc));
        t->dir[0] = '\0';
        return rc;
    }
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    if ((rc = write_file(t->dir, "set_event_pid", pid)) ||
        (rc = write_file(t->dir, "events/bpf_trace/bpf_trace_printk/enable", "1"))) {
        snprintf(why, whylen, "cannot enable bpf_trace_printk events in %s (%s)", t->dir,
                 strerror(-rc));
        nicsim_kref_trace_close(t);
        return rc;
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/trace_pipe", t->dir);
    t->fd = open(path, O_RDONLY | O_NONBLOCK);
    if (t->fd < 0) {
        rc = -errno;
        snprintf(why, whylen, "cannot open %s (%s)", path, strerror(-rc));
        nicsim_kref_trace_close(t);
        return rc;
    }
    return 0;
}

static void add_line(struct kref_trace *t, const char *line, size_t n)
{
    const char *m = memmem(line, n, MARK, strlen(MARK));
    if (!m)
        return;
    m += strlen(MARK);
    size_t len = n - (size_t)(m - line);
    while (len && (m[len - 1] == '\n' || m[len - 1] == '\r'))
        len--;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        char **l = realloc(t->lines, cap * sizeof(*l));
        if (!l)
            return;
        t->lines = l;
        t->cap = cap;
    }
    t->lines[t->n] = strndup(m, len);
    if (t->lines[t->n])
        t->n++;
}

void nicsim_kref_trace_clear(struct kref_trace *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->lines[i]);
    t->n = 0;
}

void nicsim_kref_trace_read(struct kref_trace *t, bool keep)
{
    char buf[8192];
    ssize_t n;

    nicsim_kref_trace_clear(t);
    if (t->fd < 0)
        return;
    while ((n = read(t->fd, buf + t->partial, sizeof(buf) - 1 - t->partial)) > 0 ||
           (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        size_t have = t->partial + (size_t)n, start = 0;
        for (size_t i = 0; i < have; i++) {
            if (buf[i] != '\n')
                continue;
            if (keep)
                add_line(t, buf + start, i - start);
            start = i + 1;
        }
        t->partial = have - start;
        if (t->partial == sizeof(buf) - 1) /* a line longer than the buffer: dropped */
            t->partial = 0;
        memmove(buf, buf + start, t->partial);
    }
    t->partial = 0; /* the pipe hands out whole events: nothing is left over between reads */
}

void nicsim_kref_trace_close(struct kref_trace *t)
{
    nicsim_kref_trace_clear(t);
    free(t->lines);
    t->lines = NULL;
    t->cap = 0;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->dir[0]) {
        write_file(t->dir, "events/bpf_trace/bpf_trace_printk/enable", "0");
        rmdir(t->dir);
    }
    t->dir[0] = '\0';
}
