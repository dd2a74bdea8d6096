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
    patron_store *s;
    unlink(path);
    int err = patron_store_open(path, &s);
    if (err != 0 || (err = patron_store_init(s, 1, "Bench")) != 0)
        die("open", err);
    for (int i = 0; i < N_CARDS; i++) {
        struct patron_enrollment e = {.name = "Bench Member"};
        struct patron_member m;
        if ((err = patron_member_enroll(s, &e, &m)) != 0)
            die("enroll", err);
        memcpy(cards[i], m.card, 14);
    }
    return s;
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
struct floor_rows;
__attribute__((noinline)) void measured_floor(struct floor_rows *f, long n);

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

/* The floor of a checkout: the rows a 5-line checkout writes, written by SQLite alone with
 * prepared statements into the store's own schema (its keys, indexes, checks and foreign keys),
 * one durable transaction each: the sale with its 5 lines, the ledger entry, the two balances, the
 * lot, the idempotency key and the three outbox rows (sale, entry, lot) with payloads as long as
 * a real checkout's. None of the reads, rules, hashing or JSON a checkout does: what is left
 * between a checkout and this is the library's own work. */
enum floor_stmt { F_BEGIN, F_COMMIT, F_SALE, F_ENTRY, F_ACCOUNT, F_LOT, F_KEY, F_OUTBOX, F_N };

struct floor_rows {
    sqlite3 *db;
    sqlite3_stmt *st[F_N];
    int64_t member[N_CARDS], account[N_CARDS], issued, next_id;
    int outbox, key; /* rows written per checkout: outbox rows, keys */
};

static const char *const floor_sql[F_N] = {
    [F_BEGIN] = "BEGIN IMMEDIATE",
    [F_COMMIT] = "COMMIT",
    [F_SALE] = "INSERT INTO sales(store_id, ref, member_id, card, total_minor, currency,"
               " lines_minor, weight_total, points_earned, tier_multiplier_permille, balance_after,"
               " created_at, lines, categories) VALUES (1, ?1, ?2, ?3, 4148, 'EUR', 4148, 2148000,"
               " 21, 1000, ?4, ?5, ?6, '[\"coffee\",\"bakery\",\"dairy\",\"giftcard\",\"home\"]')",
    [F_ENTRY] =
        "INSERT INTO entries(id, store_id, store_seq, kind, debit_account, credit_account,"
        " points, member_id, created_at, sale_id) VALUES (?1, 1, ?1, 'earn', ?2, ?3, 21, ?4,"
        " ?5, ?6)",
    [F_ACCOUNT] = "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1",
    [F_LOT] = "INSERT INTO lots(member_id, entry_id, points, remaining, earned_at, expires_at)"
              " VALUES (?1, ?2, 21, 21, ?3, ?4)",
    [F_KEY] = "INSERT INTO idempotency(till, key, op, request_hash, result_id, created_at)"
              " VALUES (0, ?1, 'sale', ?2, ?3, ?4)",
    [F_OUTBOX] = "INSERT INTO outbox(store_id, kind, tbl, row_key, member_id, payload, recorded_at)"
                 " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
};

static void floor_step(struct floor_rows *f, enum floor_stmt which)
{
    if (sqlite3_step(f->st[which]) != SQLITE_DONE) {
        fprintf(stderr, "bench_instr: floor: %s: %s\n", floor_sql[which], sqlite3_errmsg(f->db));
        exit(1);
    }
    sqlite3_reset(f->st[which]);
}

static void floor_outbox(struct floor_rows *f, const char *kind, const char *tbl, int64_t key,
                         int64_t member, int payload_len, int64_t now)
{
    static char payload[512];
    if (!f->outbox)
        return;
    if (!payload[0])
        memset(payload, 'x', sizeof payload - 1);
    sqlite3_stmt *st = f->st[F_OUTBOX];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tbl, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, key);
    sqlite3_bind_int64(st, 4, member);
    sqlite3_bind_text(st, 5, payload, payload_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    floor_step(f, F_OUTBOX);
}

static void floor_sale(struct floor_rows *f, long serial)
{
    static const char lines[] =
        "[[1,\"COFFEE\",\"coffee\",2,350,350000],"
        "[2,\"CAKE\",\"bakery\",1,420,420000],"
        "[3,\"MILK\",\"dairy\",1,129,129000],"
        "[4,\"GIFT\",\"giftcard\",1,2000,0],[5,\"MUG\",\"home\",1,899,899000]]";
    static const unsigned char hash[32] = {1, 2, 3};
    char ref[48];
    int c = (int)(serial % N_CARDS);
    int64_t now = 1796583310 + serial, id = f->next_id++;
    snprintf(ref, sizeof ref, "%s%ld", ref_prefix, serial);
    sqlite3_stmt **st = f->st;
    floor_step(f, F_BEGIN);
    sqlite3_bind_text(st[F_SALE], 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_SALE], 2, f->member[c]);
    sqlite3_bind_text(st[F_SALE], 3, cards[c], 13, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_SALE], 4, 21 * (serial / N_CARDS + 1));
    sqlite3_bind_int64(st[F_SALE], 5, now);
    sqlite3_bind_text(st[F_SALE], 6, lines, sizeof lines - 1, SQLITE_STATIC);
    floor_step(f, F_SALE);
    int64_t sale_id = sqlite3_last_insert_rowid(f->db);
    floor_outbox(f, "sale", "sales", sale_id, f->member[c], 417, now);
    sqlite3_bind_int64(st[F_ENTRY], 1, id);
    sqlite3_bind_int64(st[F_ENTRY], 2, f->issued);
    sqlite3_bind_int64(st[F_ENTRY], 3, f->account[c]);
    sqlite3_bind_int64(st[F_ENTRY], 4, f->member[c]);
    sqlite3_bind_int64(st[F_ENTRY], 5, now);
    sqlite3_bind_int64(st[F_ENTRY], 6, sale_id);
    floor_step(f, F_ENTRY);
    floor_outbox(f, "entry", "entries", id, f->member[c], 272, now);
    for (int side = 0; side < 2; side++) {
        sqlite3_bind_int64(st[F_ACCOUNT], 1, side ? f->issued : f->account[c]);
        sqlite3_bind_int64(st[F_ACCOUNT], 2, side ? -21 : 21);
        floor_step(f, F_ACCOUNT);
    }
    sqlite3_bind_int64(st[F_LOT], 1, f->member[c]);
    sqlite3_bind_int64(st[F_LOT], 2, id);
    sqlite3_bind_int64(st[F_LOT], 3, now);
    sqlite3_bind_int64(st[F_LOT], 4, now + 31536000);
    floor_step(f, F_LOT);
    floor_outbox(f, "lot", "lots", sqlite3_last_insert_rowid(f->db), f->member[c], 134, now);
    if (f->key) {
        sqlite3_bind_text(st[F_KEY], 1, ref, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st[F_KEY], 2, hash, sizeof hash, SQLITE_STATIC);
        sqlite3_bind_int64(st[F_KEY], 3, sale_id);
        sqlite3_bind_int64(st[F_KEY], 4, now);
        floor_step(f, F_KEY);
    }
    floor_step(f, F_COMMIT);
}

void measured_floor(struct floor_rows *f, long n)
{
    for (long i = 0; i < n; i++)
        floor_sale(f, i);
}

/* What each part of the floor costs: PATRON_FLOOR_WITHOUT lists parts left out, of "outbox" (the
 * three outbox rows), "key" (the idempotency key), "flows" (the entries_flows index), "fk"
 * (foreign keys not enforced). */
static int floor_without(const char *part)
{
    const char *list = getenv("PATRON_FLOOR_WITHOUT");
    size_t n = strlen(part);
    for (const char *p = list ? strstr(list, part) : NULL; p; p = strstr(p + 1, part))
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The store bench_instr checkout starts from, closed, then opened by SQLite alone with the
 * store's settings (WAL, synchronous=FULL, foreign keys). */
static void run_floor(const char *path, long n)
{
    struct floor_rows f = {.outbox = !floor_without("outbox"), .key = !floor_without("key")};
    sqlite3_stmt *q;
    patron_store_close(store_with_members(path));
    if (sqlite3_open(path, &f.db) != SQLITE_OK)
        die("floor open", 1);
    exec_or_die(f.db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
    if (floor_without("fk"))
        exec_or_die(f.db, "PRAGMA foreign_keys=OFF");
    if (floor_without("flows"))
        exec_or_die(f.db, "DROP INDEX entries_flows");
    for (int i = 0; i < F_N; i++)
        if (sqlite3_prepare_v3(f.db, floor_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &f.st[i], NULL) !=
            SQLITE_OK) {
            fprintf(stderr, "bench_instr: floor: %s\n", sqlite3_errmsg(f.db));
            exit(1);
        }
    if (sqlite3_prepare_v2(f.db,
                           "SELECT m.id, a.id FROM cards c JOIN members m ON m.id = c.member_id"
                           " JOIN accounts a ON a.member_id = m.id WHERE c.number = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        die("floor members", 1);
    for (int i = 0; i < N_CARDS; i++) {
        sqlite3_bind_text(q, 1, cards[i], 13, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
            die("floor card", 1);
        f.member[i] = sqlite3_column_int64(q, 0);
        f.account[i] = sqlite3_column_int64(q, 1);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(f.db,
                           "SELECT (SELECT id FROM accounts WHERE name = 'program:issued'),"
                           " (SELECT COALESCE(MAX(id), 0) + 1 FROM entries)",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        die("floor accounts", 1);
    f.issued = sqlite3_column_int64(q, 0);
    f.next_id = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    measured_floor(&f, n);
    for (int i = 0; i < F_N; i++)
        sqlite3_finalize(f.st[i]);
    sqlite3_close(f.db);
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
