/* SPDX-License-Identifier: MIT */
/* The floor of a checkout (bench_floor.h): the sale with its 5 lines, the ledger entry, the two
 * balances, the lot, the idempotency key and the three outbox rows (sale, entry, lot) with
 * payloads as long as a real checkout's. None of the reads, rules, hashing or JSON a checkout
 * does: what is left between a checkout and this is the library's own work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_floor.h"
#include "core/store_internal.h" /* PATRON__WAL_VFS */

enum floor_stmt { F_BEGIN, F_COMMIT, F_SALE, F_ENTRY, F_ACCOUNT, F_LOT, F_KEY, F_OUTBOX, F_N };

struct bench_floor {
    sqlite3 *db;
    sqlite3_stmt *st[F_N];
    int ncards;
    char (*cards)[14];
    int64_t *member, *account, issued, next_id;
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

static void fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    exit(1);
}

static void exec_or_fail(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail(db, sql);
}

static void floor_step(struct bench_floor *f, enum floor_stmt which)
{
    if (sqlite3_step(f->st[which]) != SQLITE_DONE)
        fail(f->db, floor_sql[which]);
    sqlite3_reset(f->st[which]);
}

static void floor_outbox(struct bench_floor *f, const char *kind, const char *tbl, int64_t key,
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

void bench_floor_sale(struct bench_floor *f, const char *ref, long serial)
{
    static const char lines[] =
        "[[1,\"COFFEE\",\"coffee\",2,350,350000],"
        "[2,\"CAKE\",\"bakery\",1,420,420000],"
        "[3,\"MILK\",\"dairy\",1,129,129000],"
        "[4,\"GIFT\",\"giftcard\",1,2000,0],[5,\"MUG\",\"home\",1,899,899000]]";
    static const unsigned char hash[32] = {1, 2, 3};
    int c = (int)(serial % f->ncards);
    int64_t now = 1796583310 + serial, id = f->next_id++;
    sqlite3_stmt **st = f->st;
    floor_step(f, F_BEGIN);
    sqlite3_bind_text(st[F_SALE], 1, ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_SALE], 2, f->member[c]);
    sqlite3_bind_text(st[F_SALE], 3, f->cards[c], 13, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_SALE], 4, 21 * (serial / f->ncards + 1));
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

static int floor_without(const char *part)
{
    const char *list = getenv("PATRON_FLOOR_WITHOUT");
    size_t n = strlen(part);
    for (const char *p = list ? strstr(list, part) : NULL; p; p = strstr(p + 1, part))
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Each card's member and points account, and the program's account the points come from. */
static void find_accounts(struct bench_floor *f)
{
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(f->db,
                           "SELECT m.id, a.id FROM cards c JOIN members m ON m.id = c.member_id"
                           " JOIN accounts a ON a.member_id = m.id WHERE c.number = ?1",
                           -1, &q, NULL) != SQLITE_OK)
        fail(f->db, "the members");
    for (int i = 0; i < f->ncards; i++) {
        sqlite3_bind_text(q, 1, f->cards[i], 13, SQLITE_STATIC);
        if (sqlite3_step(q) != SQLITE_ROW)
            fail(f->db, "a card");
        f->member[i] = sqlite3_column_int64(q, 0);
        f->account[i] = sqlite3_column_int64(q, 1);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    if (sqlite3_prepare_v2(f->db,
                           "SELECT (SELECT id FROM accounts WHERE name = 'program:issued'),"
                           " (SELECT COALESCE(MAX(id), 0) + 1 FROM entries)",
                           -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        fail(f->db, "the program's account");
    f->issued = sqlite3_column_int64(q, 0);
    f->next_id = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
}

struct bench_floor *bench_floor_open(const char *path, const char (*cards)[14], int ncards)
{
    struct bench_floor *f = calloc(1, sizeof *f);
    if (!f || !(f->cards = calloc((size_t)ncards, sizeof *f->cards)) ||
        !(f->member = calloc((size_t)ncards, sizeof *f->member)) ||
        !(f->account = calloc((size_t)ncards, sizeof *f->account)))
        fail(NULL, "open");
    memcpy(f->cards, cards, (size_t)ncards * sizeof *f->cards);
    f->ncards = ncards;
    f->outbox = !floor_without("outbox");
    f->key = !floor_without("key");
    /* The store's own way to the disk: its VFS, registered when the library opened the store. */
    const char *vfs = sqlite3_vfs_find(PATRON__WAL_VFS) ? PATRON__WAL_VFS : NULL;
    if (sqlite3_open_v2(path, &f->db, SQLITE_OPEN_READWRITE, vfs) != SQLITE_OK)
        fail(f->db, path);
    exec_or_fail(f->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                        "PRAGMA secure_delete=ON");
    if (floor_without("fk"))
        exec_or_fail(f->db, "PRAGMA foreign_keys=OFF");
    if (floor_without("flows"))
        exec_or_fail(f->db, "DROP INDEX entries_flows");
    for (int i = 0; i < F_N; i++)
        if (sqlite3_prepare_v3(f->db, floor_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &f->st[i],
                               NULL) != SQLITE_OK)
            fail(f->db, floor_sql[i]);
    find_accounts(f);
    return f;
}

void bench_floor_close(struct bench_floor *f)
{
    for (int i = 0; i < F_N; i++)
        sqlite3_finalize(f->st[i]);
    sqlite3_close(f->db);
    free(f->cards);
    free(f->member);
    free(f->account);
    free(f);
}
