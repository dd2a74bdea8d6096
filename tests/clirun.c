/* SPDX-License-Identifier: MIT */
/* clirun: the program in a folder and environment of the test's choosing; stdout and stderr go
 * to files, read after it exits, so neither can fill a pipe and block it. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clirun.h"
#include "testutil.h"

static void slurp(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd);
}

static int temp_file(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/clirun-XXXXXX", tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

static void child(const struct clirun *r, const char *const *argv, int out, int err)
{
    for (size_t i = 0; r->env && r->env[i]; i++) {
        const char *eq = strchr(r->env[i], '=');
        if (eq) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(eq - r->env[i]), r->env[i]);
            setenv(name, eq + 1, 1);
        } else {
            unsetenv(r->env[i]);
        }
    }
    if ((r->cwd && chdir(r->cwd) != 0) || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        _exit(126);
    if (r->as_uid && geteuid() == 0 && (setgid(r->as_uid) != 0 || setuid(r->as_uid) != 0))
        _exit(126);
    execv(argv[0], (char *const *)argv);
    _exit(127);
}

int clirun(struct clirun *r, const char *arg, ...)
{
    const char *argv[64];
    int argc = 0, status;
    va_list ap;
    argv[argc++] = getenv("PATRON_BIN");
    assert_non_null(argv[0]);
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    int out = temp_file(), err = temp_file();
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(r, argv, out, err);
    waitpid(pid, &status, 0);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
