/* SPDX-License-Identifier: MIT */
/* The start of `patron serve` for the benchmarks that talk to it (bench_http, bench_rss,
 * bench_display, bench_scanner, bench_chain; bench_spawn.c). */
#ifndef PATRON_BENCH_SPAWN_H
#define PATRON_BENCH_SPAWN_H

#include <sys/types.h>

/* Runs argv (the patron program first, NULL last; a `serve --listen 127.0.0.1:0` command) in a
 * child and waits for the line that says its port; returns the child's pid and sets *port, which
 * stays 0 when the service did not start. With `quiet`, the service's log (stderr) goes to
 * /dev/null. */
pid_t bench_serve_spawn(char *const argv[], int quiet, int *port);

#endif
