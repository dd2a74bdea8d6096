/* SPDX-License-Identifier: MIT */
/* The program bench/run --instructions runs under valgrind's callgrind to count the instructions
 * of one piece of work: a durable 5-line checkout through libpatron (card look-up, rules, offers,
 * entries, balance, lot, idempotency key), a scan, or a raw one-row SQLite insert+commit with the
 * checkout's settings (WAL, synchronous=FULL). Each mode sets up the same way whatever the count,
 * then does the work COUNT times in one function (measured_*), so a run with COUNT 0 is the
 * start-up alone and the difference divided by COUNT is the work of one.
 *
 *     bench_instr checkout|scan|raw|floor COUNT DIR
 *                                   (floor: the rows a checkout writes, by SQLite alone; below)
 *     bench_instr checkout-at MEMBERS COUNT DIR
 *                                   (the checkout in a store of MEMBERS members with a sale
 *                                    each, generated once into DIR and kept: flatness with size)
 *     bench_instr http-store DB     (a store for `patron serve`: prints the till's token, then
 *                                    one card per line)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_floor.h"
#include "bench_store.h"
#include "patron/patron.h"
#include "patron/terminal.h"

#define N_CARDS 200

static char cards[N_CARDS][14];

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_instr: %s: %s\n", what, err < 0 ? patron_strerror(err) : "failed");
    exit(1);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_instr: %s: %s\n", sql, msg);
        exit(1);
    }
}

/* A fresh store with N_CARDS members, as bench_checkout makes it. */
static patron_store *store_with_members(const char *path)
{
    return bench_store_fresh(path, cards, N_CARDS);
}

/* Checkouts' references: unique per run, since the stores of checkout-at are kept. */
static char ref_prefix[24] = "B";

static void sale(patron_store *s, long serial)
{
    static const struct patron_sale_line lines[5] = {{"COFFEE", "coffee", 2, 350},
                                                     {"CAKE", "bakery", 1, 420},
                                                     {"MILK", "dairy", 1, 129},
                                                     {"GIFT", "giftcard", 1, 2000},
                                                     {"MUG", "home", 1, 899}};
    char ref[48];
    struct patron_sale_result r;
    snprintf(ref, sizeof ref, "%s%ld", ref_prefix, serial);
    struct patron_sale in = {.card = cards[serial % N_CARDS],
                             .ref = ref,
                             .total_minor = 4148,
                             .lines = lines,
                             .n_lines = 5,
                             .idempotency_key = ref};
    int err = patron_sale_record(s, &in, &r);
    if (err != 0)
        die("sale", err);
}

/* Not static and never inlined, so callgrind's reports name them. */
__attribute__((noinline)) void measured_checkouts(patron_store *s, long n);
__attribute__((noinline)) void measured_scans(patron_store *s, long n);
__attribute__((noinline)) void measured_raw_commits(sqlite3 *db, sqlite3_stmt *st, long n);
__attribute__((noinline)) void measured_floor(struct bench_floor *f, long n);

void measured_checkouts(patron_store *s, long n)
{
    for (long i = 0; i < n; i++)
        sale(s, i);
}

void measured_scans(patron_store *s, long n)
{
    for (long i = 0; i < n; i++) {
        struct patron_scan_result r;
        int err = patron_scan(s, cards[i % N_CARDS], &r);
        if (err != 0)
            die("scan", err);
    }
}

void measured_raw_commits(sqlite3 *db, sqlite3_stmt *st, long n)
{
    for (long i = 0; i < n; i++) {
        exec_or_die(db, "BEGIN IMMEDIATE");
        sqlite3_bind_int64(st, 1, i);
        if (sqlite3_step(st) != SQLITE_DONE)
            die("raw insert", 1);
        sqlite3_reset(st);
        exec_or_die(db, "COMMIT");
    }
}

static void run_raw(const char *dir, long n)
{
    char path[512];
    sqlite3 *db;
    sqlite3_stmt *st;
    snprintf(path, sizeof path, "%s/instr-raw.db", dir);
    unlink(path);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("raw open", 1);
    exec_or_die(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                    "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER)");
    if (sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &st, NULL) != SQLITE_OK)
        die("raw prepare", 1);
    measured_raw_commits(db, st, n);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

void measured_floor(struct bench_floor *f, long n)
{
    for (long i = 0; i < n; i++) {
        char ref[48];
        snprintf(ref, sizeof ref, "%s%ld", ref_prefix, i);
        bench_floor_sale(f, ref, i);
    }
}

/* The floor (bench_floor.h) on the store bench_instr checkout starts from, closed, then opened
 * by SQLite alone with the store's settings. */
static void run_floor(const char *path, long n)
{
    patron_store_close(store_with_members(path));
    struct bench_floor *f = bench_floor_open(path, (const char(*)[14])cards, N_CARDS);
    measured_floor(f, n);
    bench_floor_close(f);
}

/* The store `patron serve` runs on in the HTTP count: a till and N_CARDS members. */
static void http_store(const char *path)
{
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    patron_store *s = store_with_members(path);
    int err = patron_terminal_add(s, "bench", PATRON_ROLE_CASHIER, &t, token);
    if (err != 0)
        die("till", err);
    printf("%s\n", token);
    for (int i = 0; i < N_CARDS; i++)
        printf("%s\n", cards[i]);
    patron_store_close(s);
}

/* COUNT checkouts on N_CARDS members spread over a kept store of `members` members. */
static void checkout_at(long members, long n, const char *dir)
{
    patron_store *s = bench_store_members(dir, members);
    for (int i = 0; i < N_CARDS; i++)
        bench_store_card(1 + (long)(((uint64_t)i * UINT64_C(2654435761)) % (uint64_t)members),
                         cards[i]);
    snprintf(ref_prefix, sizeof ref_prefix, "F%ld-", (long)time(NULL));
    measured_checkouts(s, n);
    patron_store_close(s);
}

int main(int argc, char **argv)
{
    char path[512];
    patron_sqlite_configure(); /* the raw ceiling runs under the library's settings */
    if (argc == 3 && strcmp(argv[1], "http-store") == 0) {
        http_store(argv[2]);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "checkout-at") == 0 && atol(argv[2]) > 0 &&
        atol(argv[3]) >= 0) {
        mkdir(argv[4], 0755);
        checkout_at(atol(argv[2]), atol(argv[3]), argv[4]);
        return 0;
    }
    if (argc != 4 || atol(argv[2]) < 0) {
        fprintf(stderr, "usage: bench_instr checkout|scan|raw|floor COUNT DIR\n"
                        "       bench_instr checkout-at MEMBERS COUNT DIR\n"
                        "       bench_instr http-store DB\n");
        return 64;
    }
    long n = atol(argv[2]);
    mkdir(argv[3], 0755);
    if (strcmp(argv[1], "raw") == 0) {
        run_raw(argv[3], n);
        return 0;
    }
    snprintf(path, sizeof path, "%s/instr-%s.db", argv[3], argv[1]);
    if (strcmp(argv[1], "floor") == 0) {
        run_floor(path, n);
        return 0;
    }
    patron_store *s = store_with_members(path);
    if (strcmp(argv[1], "checkout") == 0) {
        measured_checkouts(s, n);
    } else if (strcmp(argv[1], "scan") == 0) {
        /* Points, lots and history to look at: two sales per member, outside the count. */
        for (long i = 0; i < 2 * N_CARDS; i++)
            sale(s, 1000000 + i);
        measured_scans(s, n);
    } else {
        fprintf(stderr, "bench_instr: unknown mode %s\n", argv[1]);
        return 64;
    }
    patron_store_close(s);
    return 0;
}
