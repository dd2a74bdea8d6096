/* SPDX-License-Identifier: MIT */
/* A disk that is slow or refuses, for the store's log only: preloaded into `patron serve`, it
 * stands between the service and the C library's fdatasync and fsync, and acts on a file whose
 * name ends in "-wal" (SQLite's WAL, the store's log) as PATRON_TEST_LOG_SYNC says:
 *   delay:MS    each sync of the log waits MS milliseconds first (a slow disk);
 *   fail-if:P   each sync of the log fails with EIO while the file P exists (a failing disk).
 * Any other file, and the log with the variable unset, is synced as usual. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*sync_fn)(int);

/* 1 when fd is the store's log. */
static int is_log(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 4)
        return 0;
    path[n] = '\0';
    return strcmp(path + n - 4, "-wal") == 0;
}

/* Acts on a sync of fd as the variable says; returns 0 to go on to the real sync, or -1 with
 * errno set to fail it. */
static int disk_says(int fd)
{
    const char *how = getenv("PATRON_TEST_LOG_SYNC");
    if (!how || !is_log(fd))
        return 0;
    if (strncmp(how, "delay:", 6) == 0) {
        long ms = atol(how + 6);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        return 0;
    }
    if (strncmp(how, "fail-if:", 8) == 0 && access(how + 8, F_OK) == 0) {
        errno = EIO;
        return -1;
    }
    return 0;
}

int fdatasync(int fd)
{
    static sync_fn real;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fdatasync");
    return disk_says(fd) != 0 ? -1 : real(fd);
}

int fsync(int fd)
{
    static sync_fn real;
    if (!real)
        real = (sync_fn)dlsym(RTLD_NEXT, "fsync");
    return disk_says(fd) != 0 ? -1 : real(fd);
}
