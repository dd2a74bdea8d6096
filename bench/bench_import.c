/* SPDX-License-Identifier: MIT */
/* bench_import: `patron import members` of N members with balances (and an expiry date each),
 * in rows per second against raw SQLite inserts of the same rows into one table in one
 * transaction, measured in the same run; and the import's peak memory (getrusage maxrss of the
 * child that ran it), which must stay under 64 MiB whatever the file's size.
 *   bench_import [--rows N | --quick] [--dir DIR]   (1,000,000 rows; --quick: 100,000; the
 *   files go into a new folder under DIR, default $TMPDIR or /tmp, removed at the end)
 * Each side runs in its own child process on its own new database, so neither's memory or
 * cache counts for the other. The last line is one JSON object with the figures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "patron/patron.h"

struct side {
    double seconds;
    double cpu_seconds; /* user + system time of the child: what the machine's other work
                           does not inflate */
    double peak_mib;
    int ok;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Row i of the file: an e-mail, an E.164 phone, a name, points and an expiry date. */
static void row_values(long i, char email[48], char phone[24], char name[32], long *points)
{
    snprintf(email, 48, "m%07ld@example.org", i);
    snprintf(phone, 24, "+447%09ld", i);
    snprintf(name, 32, "Member %ld", i);
    *points = 1 + i % 500;
}

static int write_csv(const char *path, long rows)
{
    char email[48], phone[24], name[32];
    long points;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs("email,phone,name,points,expires\n", f);
    for (long i = 0; i < rows; i++) {
        row_values(i, email, phone, name, &points);
        fprintf(f, "%s,%s,%s,%ld,2030-06-30\n", email, phone, name, points);
    }
    return fclose(f);
}

static int raw_insert(const char *dir, long rows)
{
    char path[4200], email[48], phone[24], name[32];
    sqlite3 *db;
    sqlite3_stmt *st;
    long points;
    snprintf(path, sizeof path, "%s/raw.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE members(id INTEGER PRIMARY KEY, email TEXT UNIQUE, phone TEXT,"
                     " name TEXT, points INTEGER, expires TEXT); BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO members(email, phone, name, points, expires)"
                           " VALUES (?1, ?2, ?3, ?4, '2030-06-30')",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    for (long i = 0; i < rows; i++) {
        row_values(i, email, phone, name, &points);
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, points);
        if (sqlite3_step(st) != SQLITE_DONE)
            return 1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK || sqlite3_close(db) != 0;
}

static int import(const char *dir, const char *csv, long rows)
{
    char path[4200];
    patron_store *s;
    struct patron_import_options o = {.batch = "bench"};
    struct patron_import_report r;
    snprintf(path, sizeof path, "%s/store.db", dir);
    if (patron_store_open(path, &s) != 0 || patron_store_init(s, 1, "Bench") != 0)
        return 1;
    int err = patron_import_members(s, csv, &o, &r);
    if (err != 0 || r.created != rows || r.migration_balance != -r.file_points) {
        fprintf(stderr, "import: %s\n", patron_store_detail(s));
        return 1;
    }
    patron_store_close(s);
    return 0;
}

/* Runs one side in a child: its wall time and its peak resident memory. */
static struct side run_child(int which, const char *dir, const char *csv, long rows)
{
    struct side out = {0};
    struct rusage ru;
    int status;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0)
        _exit(which ? import(dir, csv, rows) : raw_insert(dir, rows));
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
        return out;
    out.seconds = now_s() - t0;
    out.peak_mib = (double)ru.ru_maxrss / 1024.0;
    out.cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    out.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return out;
}

int main(int argc, char **argv)
{
    long rows = 1000000;
    char dir[4096] = "", csv[4200];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            rows = 100000;
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = atol(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
    }
    /* Everything goes into a folder of its own, made here and removed at the end. */
    if (!dir[0])
        snprintf(dir, sizeof dir, "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return perror(dir), 1;
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/patron-bench-import-XXXXXX");
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    snprintf(csv, sizeof csv, "%s/members.csv", dir);
    if (rows <= 0 || write_csv(csv, rows) != 0)
        return perror(csv), 1;
    struct side raw = run_child(0, dir, csv, rows);
    struct side imp = run_child(1, dir, csv, rows);
    if (!raw.ok || !imp.ok)
        return fprintf(stderr, "bench_import: a side failed\n"), 1;
    double raw_rate = (double)rows / raw.seconds, imp_rate = (double)rows / imp.seconds;
    printf("rows %ld\n", rows);
    printf("raw SQLite inserts, one transaction   %10.0f rows/s  (%.1f s, %.1f s CPU, %.1f MiB "
           "peak)\n",
           raw_rate, raw.seconds, raw.cpu_seconds, raw.peak_mib);
    printf("patron import members                 %10.0f rows/s  (%.1f s, %.1f s CPU, %.1f MiB "
           "peak)\n",
           imp_rate, imp.seconds, imp.cpu_seconds, imp.peak_mib);
    printf("{\"import_vs_sqlite_insert\": %.3f, \"import_rows_per_s\": %.0f, "
           "\"sqlite_insert_rows_per_s\": %.0f, \"import_vs_sqlite_insert_cpu\": %.3f, "
           "\"import_peak_rss_mib\": %.1f, \"rows\": %ld}\n",
           imp_rate / raw_rate, imp_rate, raw_rate, raw.cpu_seconds / imp.cpu_seconds, imp.peak_mib,
           rows);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir); /* the folder mkdtemp made above */
    if (system(cmd) != 0)
        return 1;
    return 0;
}
