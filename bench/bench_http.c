/* SPDX-License-Identifier: MIT */
/* Checkouts per second over HTTP with 1, 4 and 16 keep-alive tills against `patron serve`, with
 * p50/p99 latency, compared with the ceiling of raw SQLite one-row durable commits (WAL,
 * synchronous=FULL) measured on the same disk just before and after each round (the disk's speed
 * drifts on a shared machine); and the service's resident memory with a large member base. Goals:
 * 16 tills >= 1.5x the ceiling (group commit; 2x the moonshot) at p99 <= 10 ms; resident memory <=
 * 32 MiB.
 *
 *     bench_http [--members N] [--sales N] [--patron PATH] [--tills N]
 *
 * The tills are one client thread (poll(2) over their connections), so the load costs the
 * service's two cores little.
 *
 * --tills N runs that one round alone (1 to 16), for counting what the service does meanwhile
 * (bench/http_syscalls.sh). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "patron/patron.h"
#include "patron/terminal.h"

#include "bench_serve.h"

#define MAX_SALES 200000

/* One-row durable commits per second on a file of its own beside the store. */
static double raw_sqlite_ceiling(const char *dir)
{
    char path[300];
    sqlite3 *db;
    snprintf(path, sizeof path, "%s/ceiling.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        bench_die("cannot open the ceiling database");
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v INTEGER);",
                 NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &st, NULL);
    int n = 1000;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(st, 1, i);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    double rate = n / (bench_now() - t0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rate;
}

/* The store: members in one transaction through the library, a till, one card per till. */
static void prepare_store(struct bench *b, long members)
{
    patron_store *s;
    struct patron_terminal t;
    if (patron_store_open(b->db, &s) != 0 || patron_store_init(s, 1, "Bench") != 0)
        bench_die("cannot create the store");
    if (patron_terminal_add(s, "bench", PATRON_ROLE_CASHIER, &t, b->token) != 0)
        bench_die("cannot add the till");
    double t0 = bench_now();
    for (long i = 0; i < members;) {
        if (patron_store_batch_begin(s) != 0)
            bench_die("batch");
        for (long k = 0; k < 10000 && i < members; k++, i++) {
            struct patron_enrollment in = {.name = "Bench Member"};
            struct patron_member m;
            if (patron_member_enroll(s, &in, &m) != 0)
                bench_die("enroll");
            if (b->n_cards < 64)
                memcpy(b->cards[b->n_cards++], m.card, 14);
        }
        if (patron_store_batch_commit(s) != 0)
            bench_die("commit");
    }
    fprintf(stderr, "enrolled %ld members in %.1f s\n", members, bench_now() - t0);
    patron_store_close(s);
}

int main(int argc, char **argv)
{
    struct bench b = {.patron = getenv("PATRON_BIN"), .sales = 4000};
    long members = 10000;
    int only = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--members") == 0)
            members = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--sales") == 0)
            b.sales = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--patron") == 0)
            b.patron = argv[i + 1];
        else if (strcmp(argv[i], "--tills") == 0)
            only = atoi(argv[i + 1]);
    }
    if (!b.patron)
        bench_die("give --patron PATH or set PATRON_BIN");
    if (b.sales < 16 || b.sales > MAX_SALES)
        bench_die("--sales is 16 to 200000");
    if (only < 0 || only > MAX_TILLS)
        bench_die("--tills is 1 to 16");
    const char *tmp = getenv("TMPDIR");
    snprintf(b.dir, sizeof b.dir, "%s/patron-bench-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(b.dir))
        bench_die("mkdtemp");
    snprintf(b.db, sizeof b.db, "%s/patron.db", b.dir);
    prepare_store(&b, members < 16 ? 16 : members);
    bench_serve_start(&b);
    printf(
        "the ceiling: raw SQLite durable one-row commits, measured before and after each round\n");
    printf("%-6s %12s %8s %8s %8s %7s %10s\n", "tills", "checkouts/s", "x ceil", "p50 ms", "p99 ms",
           "errors", "ceiling/s");
    int rounds[] = {1, 4, 16}, n_rounds = only ? 1 : 3;
    if (only)
        rounds[0] = only;
    struct bench_result last = {0};
    double ceiling = 0;
    for (int i = 0; i < n_rounds; i++) {
        double before = raw_sqlite_ceiling(b.dir);
        last = bench_tills_run(&b, rounds[i], i);
        ceiling = (before + raw_sqlite_ceiling(b.dir)) / 2;
        printf("%-6d %12.0f %8.2f %8.2f %8.2f %7ld %10.0f\n", rounds[i], last.rate,
               last.rate / ceiling, last.p50, last.p99, last.errors, ceiling);
    }
    printf(
        "the client in the last round: %ld connections for %d tills, %.0f µs of CPU a checkout\n",
        last.connections, rounds[n_rounds - 1], last.client_cpu_us);
    printf("the service in the last round: %.0f µs of CPU a checkout, %.0f of them its writer "
           "thread's (busy %.0f%% of the round)\n",
           last.server_cpu_us, last.writer_cpu_us, last.writer_busy * 100);
    long rss = bench_proc_kib(b.pid, "VmRSS:"), hwm = bench_proc_kib(b.pid, "VmHWM:");
    printf("service memory with %ld members: %.1f MiB resident, %.1f MiB peak\n", members,
           (double)rss / 1024, (double)hwm / 1024);
    printf("goals: 16 tills >= 1.5x ceiling: %s; p99 <= 10 ms: %s; peak <= 32 MiB: %s\n",
           last.rate >= 1.5 * ceiling ? "met" : "NOT met", last.p99 <= 10 ? "met" : "NOT met",
           hwm >= 0 && hwm <= 32 * 1024 ? "met" : "NOT met");
    bench_serve_stop(&b);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
    return system(cmd) == 0 ? 0 : 1;
}
