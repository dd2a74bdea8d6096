/* SPDX-License-Identifier: MIT */
/* Checkout benchmark: card look-up and full scan latency on a large store (default 1,000,000
 * members and 20,000,000 entries, generated once and kept), then durable 5-line sales through
 * libpatron against raw SQLite one-row durable commits with the same settings (WAL,
 * synchronous=FULL) and against the checkout's floor (its rows by SQLite alone, bench_floor.h),
 * measured in the same run, in alternating rounds.
 * The last line of output is one JSON object with the figures. */
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

struct options {
    const char *dir;
    long members, entries_per_member, rounds, per_round, lookups;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench_checkout: %s: %s\n", what, err < 0 ? patron_strerror(err) : "failed");
    exit(1);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_checkout: %s: %s\n", sql, msg);
        exit(1);
    }
}

/* The ceiling: one-row transactions, each committed durably. */
static double raw_commits(sqlite3 *db, long n)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (?1)", -1, &st, NULL);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        exec_or_die(db, "BEGIN IMMEDIATE");
        sqlite3_bind_int64(st, 1, i);
        sqlite3_step(st);
        sqlite3_reset(st);
        exec_or_die(db, "COMMIT");
    }
    double rate = (double)n / (now_s() - t0);
    sqlite3_finalize(st);
    return rate;
}

static double checkouts(patron_store *s, char cards[][14], long ncards, long n, long *serial)
{
    static const struct patron_sale_line lines[5] = {{"COFFEE", "coffee", 2, 350},
                                                     {"CAKE", "bakery", 1, 420},
                                                     {"MILK", "dairy", 1, 129},
                                                     {"GIFT", "giftcard", 1, 2000},
                                                     {"MUG", "home", 1, 899}};
    double t0 = now_s();
    for (long i = 0; i < n; i++, (*serial)++) {
        char ref[32];
        struct patron_sale_result r;
        snprintf(ref, sizeof ref, "B%ld", *serial);
        struct patron_sale in = {.card = cards[*serial % ncards],
                                 .ref = ref,
                                 .total_minor = 4148,
                                 .lines = lines,
                                 .n_lines = 5,
                                 .idempotency_key = ref};
        int err = patron_sale_record(s, &in, &r);
        if (err != 0)
            die("sale", err);
    }
    return (double)n / (now_s() - t0);
}

/* The floor's rate (bench_floor.h): the same checkouts' rows, by SQLite alone. */
static double floor_sales(struct bench_floor *f, long n, long *serial)
{
    double t0 = now_s();
    for (long i = 0; i < n; i++, (*serial)++) {
        char ref[32];
        snprintf(ref, sizeof ref, "B%ld", *serial);
        bench_floor_sale(f, ref, *serial);
    }
    return (double)n / (now_s() - t0);
}

struct checkout_rates {
    double lib, raw, floor; /* durable checkouts, raw one-row commits, the floor's; per second */
};

static void measure_checkout(const struct options *o, struct checkout_rates *out)
{
    char path[512], rawpath[512], floorpath[512];
    sqlite3 *db;
    static char cards[200][14], floor_cards[200][14];
    long serial = 0, floor_serial = 0;
    snprintf(path, sizeof path, "%s/checkout.db", o->dir);
    snprintf(rawpath, sizeof rawpath, "%s/raw.db", o->dir);
    snprintf(floorpath, sizeof floorpath, "%s/floor.db", o->dir);
    unlink(rawpath);
    patron_store *s = bench_store_fresh(path, cards, 200);
    patron_store_close(bench_store_fresh(floorpath, floor_cards, 200));
    struct bench_floor *f = bench_floor_open(floorpath, (const char(*)[14])floor_cards, 200);
    sqlite3_open(rawpath, &db);
    exec_or_die(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                    "CREATE TABLE t(id INTEGER PRIMARY KEY, v INTEGER)");
    double sum[3] = {0};
    /* Short rounds, the three in turn and each round in another order, so that disk noise falls
     * on all alike. */
    for (long r = 0; r < o->rounds; r++)
        for (int k = 0; k < 3; k++) {
            int which = (int)((r + k) % 3);
            if (which == 0)
                sum[0] += raw_commits(db, o->per_round);
            else if (which == 1)
                sum[1] += checkouts(s, cards, 200, o->per_round, &serial);
            else
                sum[2] += floor_sales(f, o->per_round, &floor_serial);
        }
    out->raw = sum[0] / (double)o->rounds;
    out->lib = sum[1] / (double)o->rounds;
    out->floor = sum[2] / (double)o->rounds;
    sqlite3_close(db);
    bench_floor_close(f);
    patron_store_close(s);
}

static void card_number(long i, char out[14])
{
    char digits[32];
    snprintf(digits, sizeof digits, "29%010ld", i % 10000000000L);
    memcpy(out, digits, 12);
    out[12] = patron_card_check_digit(out);
    out[13] = '\0';
}

/* Writes members, accounts, cards, entries and one lot per member straight into the schema,
 * keeping every invariant `patron ledger verify` checks. */
static void generate(sqlite3 *db, const struct options *o)
{
    sqlite3_stmt *m, *a, *c, *e, *l;
    long seq = 0;
    exec_or_die(db, "PRAGMA synchronous=OFF; BEGIN");
    sqlite3_prepare_v2(db,
                       "INSERT INTO members(id, name, created_at, tier_id) VALUES (?1, 'M', 0, 1)",
                       -1, &m, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO accounts(member_id, balance) VALUES (?1, ?2)", -1, &a,
                       NULL);
    sqlite3_prepare_v2(
        db, "INSERT INTO cards(number, member_id, status, issued_at) VALUES (?1, ?2, 'active', 0)",
        -1, &c, NULL);
    sqlite3_prepare_v2(
        db,
        "INSERT INTO entries(store_id, store_seq, kind, debit_account, credit_account, points, "
        "member_id, created_at) VALUES (1, ?1, 'earn', 1, ?2, 10, ?3, ?4)",
        -1, &e, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO lots(member_id, entry_id, points, remaining, earned_at, "
                       "expires_at) VALUES (?1, ?2, ?3, ?3, 0, NULL)",
                       -1, &l, NULL);
    for (long i = 1; i <= o->members; i++) {
        char card[14];
        long balance = 10 * o->entries_per_member;
        sqlite3_bind_int64(m, 1, i);
        sqlite3_step(m);
        sqlite3_reset(m);
        sqlite3_bind_int64(a, 1, i);
        sqlite3_bind_int64(a, 2, balance);
        sqlite3_step(a);
        sqlite3_reset(a);
        sqlite3_int64 account = sqlite3_last_insert_rowid(db);
        card_number(i, card);
        sqlite3_bind_text(c, 1, card, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(c, 2, i);
        sqlite3_step(c);
        sqlite3_reset(c);
        for (long k = 0; k < o->entries_per_member; k++) {
            sqlite3_bind_int64(e, 1, ++seq);
            sqlite3_bind_int64(e, 2, account);
            sqlite3_bind_int64(e, 3, i);
            sqlite3_bind_int64(e, 4, 1700000000 + seq);
            sqlite3_step(e);
            sqlite3_reset(e);
        }
        sqlite3_bind_int64(l, 1, i);
        sqlite3_bind_int64(l, 2, sqlite3_last_insert_rowid(db));
        sqlite3_bind_int64(l, 3, balance);
        sqlite3_step(l);
        sqlite3_reset(l);
    }
    char fix[160];
    snprintf(fix, sizeof fix, "UPDATE accounts SET balance = -%ld WHERE name = 'program:issued'",
             10 * o->entries_per_member * o->members);
    exec_or_die(db, fix);
    exec_or_die(db, "COMMIT; PRAGMA synchronous=FULL");
    sqlite3_finalize(m);
    sqlite3_finalize(a);
    sqlite3_finalize(c);
    sqlite3_finalize(e);
    sqlite3_finalize(l);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void percentiles(double *us, long n, double *p50, double *p99)
{
    qsort(us, (size_t)n, sizeof us[0], cmp_double);
    *p50 = us[n / 2];
    *p99 = us[(long)((double)n * 0.99)];
}

/* Reads the store's file once through, so that the look-ups meet it in the kernel's page cache,
 * as a counter's store is after its first hours, whatever the runs before read (the full run's
 * other stores push it out): read cold, the p99 measured the disk. */
static void warm(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    while (fread(buf, 1, sizeof buf, f) == sizeof buf)
        ;
    fclose(f);
}

static void measure_lookups(const struct options *o, double *lookup_p99, double *scan_p50,
                            double *scan_p99, double *lookup_p50)
{
    char path[512], marker[560], card[14];
    patron_store *s;
    struct stat sb;
    snprintf(path, sizeof path, "%s/large-%ld-%ld.db", o->dir, o->members, o->entries_per_member);
    snprintf(marker, sizeof marker, "%s.done", path);
    if (stat(marker, &sb) != 0) {
        unlink(path);
        int err = patron_store_open(path, &s);
        if (err != 0 || (err = patron_store_init(s, 1, "Large")) != 0)
            die("open large", err);
        fprintf(stderr, "generating %ld members x %ld entries (kept for later runs)...\n",
                o->members, o->entries_per_member);
        generate(patron_store_sqlite(s), o);
        patron_store_close(s);
        fclose(fopen(marker, "w"));
    }
    warm(path);
    int err = patron_store_open(path, &s);
    if (err != 0)
        die("open large", err);
    double *a = malloc(sizeof(double) * (size_t)o->lookups);
    double *b = malloc(sizeof(double) * (size_t)o->lookups);
    srand(42);
    for (long i = 0; i < o->lookups; i++) {
        struct patron_member m;
        struct patron_scan_result r;
        card_number(1 + (long)((unsigned long)rand() * 7919UL % (unsigned long)o->members), card);
        double t0 = now_s();
        if ((err = patron_member_by_card(s, card, &m)) != 0)
            die("lookup", err);
        double t1 = now_s();
        if ((err = patron_scan(s, card, &r)) != 0)
            die("scan", err);
        double t2 = now_s();
        a[i] = (t1 - t0) * 1e6;
        b[i] = (t2 - t1) * 1e6;
    }
    percentiles(a, o->lookups, lookup_p50, lookup_p99);
    percentiles(b, o->lookups, scan_p50, scan_p99);
    free(a);
    free(b);
    patron_store_close(s);
}

int main(int argc, char **argv)
{
    struct options o = {"bench-data", 1000000, 20, 20, 200, 100000};
    patron_sqlite_configure(); /* the raw ceiling runs under the library's settings */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o.members = 100000;
            o.rounds = 10;
            o.per_round = 100;
            o.lookups = 20000;
        } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            o.dir = argv[++i];
        } else if (strcmp(argv[i], "--members") == 0 && i + 1 < argc) {
            o.members = atol(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_checkout [--quick] [--dir DIR] [--members N]\n");
            return 64;
        }
    }
    mkdir(o.dir, 0755);
    struct checkout_rates c;
    double lp50, lp99, sp50, sp99;
    /* The look-ups first: the checkouts' writes, flushed by the kernel meanwhile, moved their
     * tail by more than the goal. */
    measure_lookups(&o, &lp99, &sp50, &sp99, &lp50);
    measure_checkout(&o, &c);
    printf("durable checkouts (5-line sale)  %8.0f /s\n", c.lib);
    printf("raw SQLite one-row commits       %8.0f /s\n", c.raw);
    printf("ratio                            %8.2f   (goal >= 0.80)\n", c.lib / c.raw);
    printf(
        "the checkout's rows by SQLite alone (its floor) %8.0f /s, %.2f x raw commits: the most a\n"
        "checkout writing these rows reaches on this disk; the checkout is %.2f x its floor\n",
        c.floor, c.floor / c.raw, c.lib / c.floor);
    printf("card look-up, %ld members, %ld entries: p50 %.1f us, p99 %.1f us (goal p99 <= 50)\n",
           o.members, o.members * o.entries_per_member, lp50, lp99);
    printf("full scan (member, expiring points, next tier, rewards): p50 %.1f us, p99 %.1f us\n",
           sp50, sp99);
    printf("{\"checkout_per_s\": %.0f, \"sqlite_commit_per_s\": %.0f, "
           "\"checkout_vs_sqlite_commit\": %.3f, \"checkout_floor_per_s\": %.0f, "
           "\"checkout_floor_vs_sqlite_commit\": %.3f, \"checkout_vs_floor\": %.3f, "
           "\"lookup_p99_us\": %.1f, \"scan_p99_us\": %.1f, \"members\": %ld, \"entries\": %ld}\n",
           c.lib, c.raw, c.lib / c.raw, c.floor, c.floor / c.raw, c.lib / c.floor, lp99, sp99,
           o.members, o.members * o.entries_per_member);
    return 0;
}
