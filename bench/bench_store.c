/* SPDX-License-Identifier: MIT */
/* The large store of the benchmarks that read (bench_reports, bench_rss): members enrolled over
 * three years with sales, earn, redeem and expiry entries, lots, feedback, offer uses, a segment
 * and partners' vouchers, written straight into the schema once and kept in DIR for later runs;
 * and the stores that grow in members only, for the checkout's flatness with size (bench_instr
 * checkout-at). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_store.h"
#include "patron/patron.h"

#define NOW BENCH_STORE_NOW
#define DAY INT64_C(86400)
#define ENTRIES_PER_MEMBER BENCH_ENTRIES_PER_MEMBER

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench store: %s: %s\n", what, why);
    exit(1);
}

static void exec_or_die(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die(sql, msg);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    return x ^ (x >> 33);
}

static void step(sqlite3 *db, sqlite3_stmt *st)
{
    if (sqlite3_step(st) != SQLITE_DONE)
        die("insert", sqlite3_errmsg(db));
    sqlite3_reset(st);
}

enum { M, A, C, S, E, L, F, U, G, R, N_STMT };

static const char *const sql[N_STMT] = {
    [M] = "INSERT INTO members(id, name, email, consent_marketing, consent_at, consent_source,"
          " created_at, tier_id) VALUES (?1, 'Member ' || ?1, 'm' || ?1 || '@example.org', ?2,"
          " CASE WHEN ?2 THEN ?3 END, CASE WHEN ?2 THEN 'counter' END, ?3, 1)",
    [A] = "INSERT INTO accounts(member_id, balance) VALUES (?1, ?2)",
    [C] = "INSERT INTO cards(number, member_id, status, issued_at) VALUES (?1, ?2, 'active', ?3)",
    [S] = "INSERT INTO sales(store_id, ref, member_id, card, total_minor, currency, lines_minor,"
          " weight_total, points_earned, tier_multiplier_permille, balance_after, created_at)"
          " VALUES (1, 'B' || ?1, ?2, ?3, ?4, 'EUR', ?4, ?4, ?5, 1000, ?6, ?7)",
    [E] = "INSERT INTO entries(store_id, store_seq, kind, debit_account, credit_account, points,"
          " member_id, created_at, sale_id) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [L] = "INSERT INTO lots(member_id, entry_id, points, remaining, earned_at, expires_at)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [F] = "INSERT INTO feedback(member_id, sale_id, day, score, created_at)"
          " VALUES (?1, ?2, ?3 / 86400, ?4, ?3)",
    [U] = "INSERT INTO offer_uses(offer_id, member_id, sale_id, day, points, why, created_at)"
          " VALUES (?1, ?2, ?3, ?4 / 86400, 5, 'bench', ?4)",
    [G] = "INSERT INTO segment_members(segment_id, member_id, added_at) VALUES (1, ?1, ?2)",
    [R] = "INSERT INTO voucher_redemptions(key_id, voucher_id, kind, value, currency, member_id,"
          " store_id, till, ref, offline, redeemed_at, record)"
          " VALUES (?1, ?2, 0, 500, 978, ?2, 1, 't', 'p' || ?2, 0, ?3, zeroblob(100))",
};

struct gen {
    sqlite3 *db;
    sqlite3_stmt *st[N_STMT];
    long seq, sale;
    int64_t issued, redeemed, expired; /* program account totals */
};

static int64_t entry(struct gen *g, const char *kind, int64_t debit, int64_t credit, int64_t pts,
                     long member, int64_t at, long sale_id)
{
    sqlite3_stmt *e = g->st[E];
    sqlite3_bind_int64(e, 1, ++g->seq);
    sqlite3_bind_text(e, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(e, 3, debit);
    sqlite3_bind_int64(e, 4, credit);
    sqlite3_bind_int64(e, 5, pts);
    sqlite3_bind_int64(e, 6, member);
    sqlite3_bind_int64(e, 7, at);
    if (sale_id)
        sqlite3_bind_int64(e, 8, sale_id);
    else
        sqlite3_bind_null(e, 8);
    step(g->db, e);
    return sqlite3_last_insert_rowid(g->db);
}

static void bind_step(struct gen *g, int k, int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t v[4] = {a, b, c, d};
    for (int p = 0; p < 4 && p < sqlite3_bind_parameter_count(g->st[k]); p++)
        sqlite3_bind_int64(g->st[k], p + 1, v[p]);
    step(g->db, g->st[k]);
}

/* Feedback on one sale in six; one sale in eight used one of the ten offers. */
static void extras(struct gen *g, long member, int64_t at, int score)
{
    if (g->sale % 6 == 0)
        bind_step(g, F, member, g->sale, at, score);
    if (g->sale % 8 == 0)
        bind_step(g, U, 1 + g->sale % 10, member, g->sale, at);
}

/* One member: enrolled within the last three years; 4-20 sales of 10 points each spread from
 * enrolment to now, or, for three in ten, stopping half-way (the lapsed); the remaining entries
 * are redemptions (2 points) and expiries (1 point), so each member has 20 entries. Open lots
 * hold the balance, newest first. */
static void member(struct gen *g, long i)
{
    uint64_t h = mix((uint64_t)i);
    int64_t created = NOW - (int64_t)(h % (3 * 365)) * DAY - 3600;
    int sales = 4 + (int)((h >> 16) % 17), redeems = (ENTRIES_PER_MEMBER - sales) / 2;
    int expires = ENTRIES_PER_MEMBER - sales - redeems, consent = (h >> 24) % 10 < 6;
    int64_t end = (h >> 32) % 10 < 3 ? created + (NOW - created) / 2 : NOW - 3600;
    int64_t balance = 10 * sales - 2 * redeems - expires, account, earn_ids[20], times[20];
    char card[14];
    sqlite3_bind_int64(g->st[M], 1, i);
    sqlite3_bind_int(g->st[M], 2, consent);
    sqlite3_bind_int64(g->st[M], 3, created);
    step(g->db, g->st[M]);
    sqlite3_bind_int64(g->st[A], 1, i);
    sqlite3_bind_int64(g->st[A], 2, balance);
    step(g->db, g->st[A]);
    account = sqlite3_last_insert_rowid(g->db);
    bench_store_card(i, card);
    sqlite3_bind_text(g->st[C], 1, card, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(g->st[C], 2, i);
    sqlite3_bind_int64(g->st[C], 3, created);
    step(g->db, g->st[C]);
    for (int k = 0; k < sales; k++) {
        sqlite3_stmt *s = g->st[S];
        times[k] = created + (end - created) * (2 * k + 1) / (2 * sales);
        sqlite3_bind_int64(s, 1, ++g->sale);
        sqlite3_bind_int64(s, 2, i);
        sqlite3_bind_text(s, 3, card, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, 1000 + (int64_t)(h % 9000));
        sqlite3_bind_int64(s, 5, 10);
        sqlite3_bind_int64(s, 6, 10 * (k + 1));
        sqlite3_bind_int64(s, 7, times[k]);
        step(g->db, s);
        earn_ids[k] = entry(g, "earn", 1, account, 10, i, times[k], g->sale);
        extras(g, i, times[k], (int)((h >> 40) % 5) + 1);
    }
    if (i % 10 == 0)
        bind_step(g, G, i, created, 0, 0);
    if (i % 20 == 0)
        bind_step(g, R, 901 + i % 3, i, times[sales - 1], 0);
    for (int k = 0; k < redeems + expires; k++) {
        int redeem = k < redeems;
        entry(g, redeem ? "redeem" : "expire", account, redeem ? 2 : 3, redeem ? 2 : 1, i,
              times[k % sales] + 600, 0);
    }
    g->issued += 10 * sales;
    g->redeemed += 2 * redeems;
    g->expired += expires;
    for (int k = sales - 1; k >= 0; k--) {
        int64_t take = balance > 10 ? 10 : balance;
        sqlite3_stmt *l = g->st[L];
        balance -= take;
        sqlite3_bind_int64(l, 1, i);
        sqlite3_bind_int64(l, 2, earn_ids[k]);
        sqlite3_bind_int64(l, 3, 10);
        sqlite3_bind_int64(l, 4, take);
        sqlite3_bind_int64(l, 5, times[k]);
        sqlite3_bind_int64(l, 6, times[k] + 365 * DAY);
        step(g->db, l);
    }
}

/* One member of the stores that only grow in members (bench_store_members): enrolled within the
 * last three years, a card, one sale with its earn entry, and its lot still open. */
static void member_light(struct gen *g, long i)
{
    uint64_t h = mix((uint64_t)i);
    int64_t created = NOW - (int64_t)(h % (3 * 365)) * DAY - 3600;
    char card[14];
    bind_step(g, M, i, (h >> 24) % 10 < 6, created, 0);
    bind_step(g, A, i, 10, 0, 0);
    int64_t account = sqlite3_last_insert_rowid(g->db);
    bench_store_card(i, card);
    sqlite3_bind_text(g->st[C], 1, card, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(g->st[C], 2, i);
    sqlite3_bind_int64(g->st[C], 3, created);
    step(g->db, g->st[C]);
    sqlite3_stmt *s = g->st[S];
    sqlite3_bind_int64(s, 1, ++g->sale);
    sqlite3_bind_int64(s, 2, i);
    sqlite3_bind_text(s, 3, card, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, 1000 + (int64_t)(h % 9000));
    sqlite3_bind_int64(s, 5, 10);
    sqlite3_bind_int64(s, 6, 10);
    sqlite3_bind_int64(s, 7, created);
    step(g->db, s);
    int64_t earned = entry(g, "earn", 1, account, 10, i, created, g->sale);
    sqlite3_stmt *l = g->st[L];
    int64_t lot[6] = {i, earned, 10, 10, created, created + 365 * DAY};
    for (int p = 0; p < 6; p++)
        sqlite3_bind_int64(l, p + 1, lot[p]);
    step(g->db, l);
    g->issued += 10;
}

static void generate(sqlite3 *db, long members, void (*one)(struct gen *, long))
{
    struct gen g = {.db = db};
    char fix[256];
    exec_or_die(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576; BEGIN");
    for (int k = 0; k < N_STMT; k++)
        if (sqlite3_prepare_v2(db, sql[k], -1, &g.st[k], NULL) != SQLITE_OK)
            die(sql[k], sqlite3_errmsg(db));
    /* Ten offers of 45 days over the last 20 months, every other one for a segment holding one
     * member in ten, and three partners whose vouchers one member in twenty brought. */
    exec_or_die(db, "INSERT INTO segments(id, name, created_at) VALUES (1, 'vip', 0);"
                    "INSERT INTO keys(key_id, kind, status, partner, chain_id, public_key,"
                    " created_at) VALUES (901, 'partner', 'verify', 'Bakery', printf('%032d', 1),"
                    " zeroblob(32), 0), (902, 'partner', 'verify', 'Florist', printf('%032d', 2),"
                    " zeroblob(32), 0), (903, 'partner', 'verify', 'Cinema', printf('%032d', 3),"
                    " zeroblob(32), 0)");
    for (int k = 0; k < 10; k++) {
        char offer[320];
        int64_t from = NOW - (k + 1) * 60 * DAY;
        snprintf(offer, sizeof offer,
                 "INSERT INTO offers(id, name, segment_id, benefit, benefit_value, valid_from,"
                 " valid_to, created_at, created_by) VALUES (%d, 'Offer %d', %s, 'bonus', 5,"
                 " %lld, %lld, %lld, 'bench')",
                 k + 1, k + 1, k % 2 ? "NULL" : "1", (long long)from, (long long)(from + 45 * DAY),
                 (long long)from);
        exec_or_die(db, offer);
    }
    for (long i = 1; i <= members; i++)
        one(&g, i);
    snprintf(fix, sizeof fix,
             "UPDATE accounts SET balance = CASE name WHEN 'program:issued' THEN -%lld"
             " WHEN 'program:redeemed' THEN %lld WHEN 'program:expired' THEN %lld END"
             " WHERE name IN ('program:issued', 'program:redeemed', 'program:expired')",
             (long long)g.issued, (long long)g.redeemed, (long long)g.expired);
    exec_or_die(db, fix);
    exec_or_die(db, "COMMIT; PRAGMA synchronous=FULL");
    for (int k = 0; k < N_STMT; k++)
        sqlite3_finalize(g.st[k]);
}

/* The store `path` of `members` members made by `one`, generated first when it is not there
 * yet (a .done marker beside it says it is whole), opened at NOW. */
static patron_store *kept(const char *path, long members, void (*one)(struct gen *, long),
                          const char *what)
{
    char marker[560];
    patron_store *s;
    struct stat sb;
    snprintf(marker, sizeof marker, "%s.done", path);
    if (stat(marker, &sb) != 0) {
        unlink(path);
        if (patron_store_open(path, &s) != 0 || patron_store_init(s, 1, "Reports") != 0)
            die("open", path);
        fprintf(stderr, "generating %ld members, %s (kept for later runs)...\n", members, what);
        double t0 = now_s();
        generate(patron_store_sqlite(s), members, one);
        fprintf(stderr, "generated in %.0f s\n", now_s() - t0);
        patron_store_close(s);
        FILE *done = fopen(marker, "w");
        if (!done || fclose(done) != 0)
            die("mark whole", marker);
    }
    if (patron_store_open(path, &s) != 0)
        die("open", path);
    patron_store_set_fixed_time(s, NOW);
    return s;
}

patron_store *bench_store_large(const char *dir, long members)
{
    char path[512];
    bench_store_path(dir, members, path, sizeof path);
    return kept(path, members, member, "20 entries each");
}

patron_store *bench_store_members(const char *dir, long members)
{
    char path[512];
    snprintf(path, sizeof path, "%s/members-%ld.db", dir, members);
    return kept(path, members, member_light, "one sale each");
}

void bench_store_path(const char *dir, long members, char *path, size_t cap)
{
    snprintf(path, cap, "%s/reports-%ld.db", dir, members);
}

void bench_store_card(long member, char card[14])
{
    char digits[32];
    snprintf(digits, sizeof digits, "29%010ld", member % 10000000000L);
    memcpy(card, digits, 12);
    card[12] = patron_card_check_digit(card);
    card[13] = '\0';
}

patron_store *bench_store_fresh(const char *path, char (*cards)[14], int n)
{
    patron_store *s;
    unlink(path);
    int err = patron_store_open(path, &s);
    if (err != 0 || (err = patron_store_init(s, 1, "Bench")) != 0)
        die("open", patron_strerror(err));
    for (int i = 0; i < n; i++) {
        struct patron_enrollment e = {.name = "Bench Member"};
        struct patron_member m;
        if ((err = patron_member_enroll(s, &e, &m)) != 0)
            die("enroll", patron_strerror(err));
        memcpy(cards[i], m.card, 14);
    }
    return s;
}
