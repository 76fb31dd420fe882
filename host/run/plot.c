/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* sched_getcpu, CPU_SET */
/* nicsim run: the plot (--plot), drawn by gnuplot. */
#include "run_int.h"

/* ---------------------------------------------------------------------------------------------
 * Plot: per-packet figures streamed to a data file during the replay, drawn by gnuplot at the end.
 */
/* gnuplot in PATH: the file to run, or NULL. */
char *nicsim_run_find_gnuplot(void)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;

    for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(d) + sizeof("/gnuplot");
        char *f = malloc(n);
        if (!f)
            break;
        snprintf(f, n, "%s/gnuplot", d);
        if (access(f, X_OK) == 0) {
            free(copy);
            return f;
        }
        free(f);
    }
    free(copy);
    return NULL;
}

/*
 * Runs gnuplot without a shell on `script` (constant text but for numbers: nothing the user named
 * becomes gnuplot code); the file names and titles reach it as the string arguments ARG1..ARGn of
 * `gnuplot -c` (values, never parsed as code). `shown` names the output in messages. 0 or 1 after
 * a message with gnuplot's own last line.
 */
int nicsim_run_gnuplot(const char *gnuplot, const char *script_text, const char *shown,
                       const char *const *args, int n_args)
{
    char script[] = "/tmp/nicsim-plot-XXXXXX.gp";
    int fd = mkstemps(script, 3);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!f) {
        if (fd >= 0) {
            close(fd);
            unlink(script);
        }
        return nicsim_run_fail("%s: cannot write a gnuplot script in /tmp: %s", shown,
                               strerror(errno));
    }
    fputs(script_text, f);
    if (ferror(f) | fclose(f)) {
        unlink(script);
        return nicsim_run_fail("%s: cannot write a gnuplot script in /tmp", shown);
    }
    const char *argv[16];
    int na = 0;
    argv[na++] = "gnuplot";
    argv[na++] = "-c";
    argv[na++] = script;
    for (int i = 0; i < n_args && na < 15; i++)
        argv[na++] = args[i];
    argv[na] = NULL;
    FILE *errf = tmpfile();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
            dup2(devnull, STDOUT_FILENO);
        }
        if (errf)
            dup2(fileno(errf), STDERR_FILENO);
        execv(gnuplot, (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", gnuplot, strerror(errno));
        _exit(127);
    }
    int st = 0;
    bool waited = pid > 0 && waitpid(pid, &st, 0) == pid;
    unlink(script);
    if (waited && WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (errf)
            fclose(errf);
        return 0;
    }
    /* gnuplot's own last message says what failed */
    char said[512] = "", line[512];
    if (errf) {
        rewind(errf);
        while (fgets(line, sizeof(line), errf)) {
            line[strcspn(line, "\n")] = 0;
            if (line[strspn(line, " ^")])
                snprintf(said, sizeof(said), "%s", line + strspn(line, " "));
        }
        fclose(errf);
    }
    if (pid < 0)
        return nicsim_run_fail("%s: cannot start %s: %s", shown, gnuplot, strerror(errno));
    if (WIFSIGNALED(st))
        return nicsim_run_fail("%s: %s was killed by signal %d%s%s", shown, gnuplot, WTERMSIG(st),
                               said[0] ? ": " : "", said);
    return nicsim_run_fail("%s: %s failed (exit status %d)%s%s", shown, gnuplot,
                           WIFEXITED(st) ? WEXITSTATUS(st) : -1, said[0] ? ": " : "", said);
}

/* --plot: cycles per packet along the trace and their distribution (with the kernel's ns). */
int nicsim_run_plot_draw(const char *gnuplot, const char *png, const char *shown, const char *data,
                         bool kernel, uint32_t clock_mhz, const char *title)
{
    char script[2048], what[1024];
    double ns = 1000.0 / clock_mhz;

    snprintf(script, sizeof(script),
             "set terminal pngcairo size 1200,500 font ',10' noenhanced\n"
             "set output ARG3\n"
             "set multiplot layout 1,2 title ARG1\n"
             "set xlabel 'packet (trace order)'\nset ylabel 'ns per packet'\nset key top left\n"
             "plot ARG2 using 1:($2*%g) with points pt 7 ps 0.4 title 'NIC core (%u MHz)'%s\n"
             "set xlabel 'ns per packet'\nset ylabel 'fraction of packets'\n"
             "stats ARG2 using 2 nooutput\n"
             "plot ARG2 using ($2*%g):(1.0/STATS_records) smooth cumulative title 'NIC core'%s\n"
             "unset multiplot\n",
             ns, clock_mhz,
             kernel ? ", '' using 1:4 with points pt 7 ps 0.4 title 'host kernel (JIT)'" : "", ns,
             kernel ? ", '' using 4:(1.0/STATS_records) smooth cumulative title 'host kernel'"
                    : "");
    snprintf(what, sizeof(what), "--plot %s", shown);
    const char *args[] = {title, data, png};
    return nicsim_run_gnuplot(gnuplot, script, what, args, 3);
}
