/* SPDX-License-Identifier: MIT */
/* The pieces the HTTP benchmarks share (bench_http, bench_rss): the service started on a store,
 * tills checking out over keep-alive connections, the service's memory. */
#ifndef PATRON_BENCH_SERVE_H
#define PATRON_BENCH_SERVE_H

#include <sys/types.h>

#define MAX_TILLS 16

struct bench {
    const char *patron;
    char dir[256], db[300];
    char token[64];
    char cards[64][14];
    int n_cards;
    pid_t pid;
    int port;
    long sales;
    double till_pace; /* checkouts a second per till; 0: each as soon as the last is answered */
};

struct bench_result {
    double rate, p50, p99;
    long errors;
    long connections;     /* opened by the client: one per till when keep-alive holds */
    double client_cpu_us; /* the client's own CPU time per checkout */
    double server_cpu_us; /* the service's CPU time per checkout (all its threads) */
    double writer_cpu_us; /* its writer thread's CPU time per checkout */
    double writer_busy;   /* the writer thread's CPU time over the round's wall time */
};

double bench_now(void);

/* Prints what failed and exits. */
void bench_die(const char *what);

/* Starts `patron --db b->db serve` on a free loopback port; sets b->pid and b->port. */
void bench_serve_start(struct bench *b);

/* Stops the service (SIGTERM) and waits for it. */
void bench_serve_stop(struct bench *b);

/* A field of /proc/PID/status in KiB ("VmRSS:", "VmHWM:"), -1 when it cannot be read. */
long bench_proc_kib(pid_t pid, const char *field);

/* The CPU time, user and system, in seconds, of process `pid`, or of its thread named `thread`
 * when that is not NULL (the service names its threads: "writer", ...); -1 when it cannot be
 * read. */
double bench_proc_cpu_s(pid_t pid, const char *thread);

/* b->sales checkouts by `tills` keep-alive tills at once, each with a connection of its own, all
 * driven by the calling thread; on b->cards with b->token; `round` keeps idempotency keys and
 * refs apart. */
struct bench_result bench_tills_run(struct bench *b, int tills, int round);

#endif
