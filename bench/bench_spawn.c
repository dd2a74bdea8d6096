/* SPDX-License-Identifier: MIT */
/* The start of `patron serve` for the benchmarks that talk to it: the command run in a child, its
 * port read from the line it prints when it listens. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_spawn.h"

pid_t bench_serve_spawn(char *const argv[], int quiet, int *port)
{
    static const char at[] = "listening on http://127.0.0.1:";
    int fds[2];
    char line[256];
    pid_t pid;
    *port = 0;
    if (pipe(fds) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        dup2(fds[1], 1);
        if (quiet) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 2);
        }
        close(fds[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    while (f && *port <= 0 && fgets(line, sizeof line, f))
        if (strstr(line, at))
            *port = atoi(strstr(line, at) + strlen(at));
    if (f)
        fclose(f);
    return pid;
}
