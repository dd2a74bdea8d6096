/* SPDX-License-Identifier: MIT */
/* Report benchmark: every report over a large store (default 1,000,000 members and 20,000,000
 * ledger entries; --quick 100,000 and 2,000,000), generated once straight into the schema and
 * kept for later runs. Each report's time is printed with its ratio to the ceiling measured in
 * the same run, one raw SQLite pass over the entries table; the goal is 2 s each. Under each
 * report, the statements it ran with their time and SQLite's EXPLAIN QUERY PLAN.
 * The last line of output is one JSON object with the figures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "bench_store.h"
#include "patron/patron.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's CPU time: moves less than the wall clock on a shared machine. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_reports: %s: %s\n", what, why);
    exit(1);
}

/* The statements a report ran (SQLITE_TRACE_PROFILE), each once, with their time summed. */
#define MAX_STATEMENTS 16

struct traced {
    size_t n;
    char *sql[MAX_STATEMENTS];
    double s[MAX_STATEMENTS];
};

static int on_profile(unsigned type, void *ctx, void *p, void *x)
{
    struct traced *tr = ctx;
    const char *sql = sqlite3_sql(p);
    (void)type;
    if (!sql || strncmp(sql, "BEGIN", 5) == 0 || strncmp(sql, "ROLLBACK", 8) == 0 ||
        strncmp(sql, "EXPLAIN", 7) == 0)
        return 0;
    for (size_t i = 0; i < tr->n; i++)
        if (strcmp(tr->sql[i], sql) == 0) {
            tr->s[i] += (double)*(sqlite3_int64 *)x / 1e9;
            return 0;
        }
    if (tr->n < MAX_STATEMENTS) {
        tr->sql[tr->n] = strdup(sql);
        tr->s[tr->n++] = (double)*(sqlite3_int64 *)x / 1e9;
    }
    return 0;
}

/* Prints each traced statement, its time and its plan, and forgets them. */
static void print_plans(sqlite3 *db, struct traced *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        char eqp[2048];
        sqlite3_stmt *st;
        printf("    %6.2f s  %s\n", tr->s[i], tr->sql[i]);
        snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", tr->sql[i]);
        if (sqlite3_prepare_v2(db, eqp, -1, &st, NULL) == SQLITE_OK)
            while (sqlite3_step(st) == SQLITE_ROW)
                printf("              plan: %s\n", (const char *)sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        free(tr->sql[i]);
    }
    tr->n = 0;
}

/* The ceiling: one plain pass over the entries, the largest table. */
static double raw_scan(patron_store *s)
{
    sqlite3_stmt *st;
    double t0 = now_s();
    sqlite3_prepare_v2(patron_store_sqlite(s), "SELECT SUM(points) FROM entries", -1, &st, NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    const char *dir = "bench-data";
    long members = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            members = 100000;
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--members") == 0 && i + 1 < argc)
            members = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_reports [--quick] [--dir DIR] [--members N]\n");
            return 64;
        }
    }
    mkdir(dir, 0755);
    patron_store *s = bench_store_large(dir, members);
    raw_scan(s); /* warm the page cache so every report starts alike */
    double ceiling = raw_scan(s), worst = 0;
    char json[2048];
    int n = snprintf(json, sizeof json, "{\"members\": %ld, \"entries\": %ld, \"raw_scan_s\": %.3f",
                     members, members * BENCH_ENTRIES_PER_MEMBER, ceiling);
    printf("%ld members, %ld entries; raw pass over entries %.2f s\n", members,
           members * BENCH_ENTRIES_PER_MEMBER, ceiling);
    struct traced tr = {0};
    sqlite3_trace_v2(patron_store_sqlite(s), SQLITE_TRACE_PROFILE, on_profile, &tr);
    for (size_t i = 0; patron_report_names[i]; i++) {
        struct patron_report_table *t = NULL;
        double t0 = now_s(), c0 = cpu_s();
        int err = patron_report_run(s, patron_report_names[i], NULL, &t);
        double took = now_s() - t0, cpu = cpu_s() - c0;
        if (err != 0)
            die(patron_report_names[i], patron_strerror(err));
        printf("report %-12s %6.2f s (CPU %5.2f s)  %5.2fx the raw pass  %zu rows  (goal <= 2 s)\n",
               patron_report_names[i], took, cpu, took / ceiling, t->n_rows);
        print_plans(patron_store_sqlite(s), &tr);
        n += snprintf(json + n, sizeof json - (size_t)n, ", \"%s_s\": %.3f", patron_report_names[i],
                      took);
        worst = took > worst ? took : worst;
        patron_report_free(t);
    }
    sqlite3_trace_v2(patron_store_sqlite(s), 0, NULL, NULL);
    printf("%s, \"worst_s\": %.3f}\n", json, worst);
    patron_store_close(s);
    return worst <= 2.0 ? 0 : 1;
}
