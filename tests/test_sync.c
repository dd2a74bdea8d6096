/* SPDX-License-Identifier: MIT */
/* `patron sync` against a throwaway PostgreSQL (label pg): the outbox arrives at head office
 * exactly once (counted and compared payload by payload), a second sync ships nothing, a sale
 * made between two syncs arrives, a head office that is down is named in a sentence kept in the
 * store and nothing is lost, so are a login that is not this store's and a schema newer than
 * the program, a store that lost its acknowledgement asks head office where it stands, and
 * `patron sync` killed with SIGKILL mid-run again and again leaves head office with
 * the store's rows exactly: no gap, no duplicate. A store busy with another writer is waited for
 * (busy_timeout), and one busy past it is named as busy, never as a store_seq it never wrote;
 * the sync leaves no transaction open on its store handle. A backlog ships in batches of
 * PATRON_HQ_SYNC_BATCH_ROWS, each bounded in bytes. A few rows ship in one round trip, never
 * after a gap at head office. */
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"

/* One chain: database `name` with the schema, store 1 registered; the owner's URL into owner and
 * the store's own URL into store_url. */
static void chain(const char *name, char *owner, size_t olen, char *store_url, size_t slen)
{
    struct clirun r = {0};
    assert_int_equal(pg_cluster_createdb(&pg, name, owner, olen), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", "1", "--name",
               "Test shop", (char *)NULL) != 0)
        fail_msg("store add: %s", r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(store_url, slen, "%s", json_string_value(json_object_get(o, "url")));
    json_decref(o);
}

static void sell(patron_store *s, const char *card, const char *ref, int64_t total)
{
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 2, .unit_minor = total / 2}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result r;
    if (patron_sale_record(s, &in, &r) != 0)
        fail_msg("sale %s: %s", ref, patron_store_detail(s));
}

/* `n` members, each with a sale: a few hundred outbox rows. */
static void trade(struct test_store *t, const char *prefix, int n)
{
    char card[14], name[32], ref[32];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s %d", prefix, i);
        snprintf(ref, sizeof ref, "%s-%d", prefix, i);
        test_enroll(t, name, card);
        sell(t->s, card, ref, 1000 + 10 * i);
    }
}

/* `patron --db STORE --home HOME --hq URL sync [a1 a2]` */
static int sync_cli(struct clirun *r, const struct test_store *t, const char *url, const char *a1,
                    const char *a2)
{
    return clirun(r, "--db", t->path, "--home", home, "--hq", url, "sync", a1, a2, (char *)NULL);
}

static json_t *status_json(const struct test_store *t)
{
    struct clirun r = {0};
    assert_int_equal(
        clirun(&r, "--json", "--db", t->path, "--home", home, "sync", "status", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    return o;
}

struct compare {
    PGconn *conn;
    int64_t rows;
};

/* Head office holds this row with the same kind and the same payload (as JSON). */
static int compare_row(const struct patron_outbox_row *row, void *ctx)
{
    struct compare *c = ctx;
    char id[16], seq[24];
    snprintf(id, sizeof id, "%d", row->store_id);
    snprintf(seq, sizeof seq, "%lld", (long long)row->store_seq);
    const char *params[] = {id, seq, row->kind, row->payload};
    PGresult *res = PQexecParams(c->conn,
                                 "SELECT kind = $3 AND payload = $4::jsonb FROM facts"
                                 " WHERE store_id = $1::integer AND store_seq = $2::bigint",
                                 4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
        strcmp(PQgetvalue(res, 0, 0), "t") != 0)
        fail_msg("store_seq %s (%s) is not at head office as the store wrote it", seq, row->kind);
    PQclear(res);
    c->rows++;
    return 0;
}

/* Head office's rows for store 1 are the store's outbox exactly: as many, 1..last without a gap
 * or a duplicate, each payload the same. */
static void assert_hq_equals_store(const struct test_store *t, const char *owner)
{
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(t->s, &last), 0);
    assert_true(last > 0);
    struct compare c = {PQconnectdb(owner), 0};
    assert_int_equal(PQstatus(c.conn), CONNECTION_OK);
    PGresult *res = PQexec(c.conn, "SELECT count(*), count(DISTINCT store_seq),"
                                   " coalesce(min(store_seq), 0), coalesce(max(store_seq), 0)"
                                   " FROM facts WHERE store_id = 1");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int col = 0; col < 4; col++)
        assert_int_equal(strtoll(PQgetvalue(res, 0, col), NULL, 10), col == 2 ? 1 : last);
    PQclear(res);
    assert_int_equal(patron_outbox_list(t->s, 0, (size_t)last, compare_row, &c, NULL), 0);
    assert_int_equal(c.rows, last);
    PQfinish(c.conn);
}

static int64_t hq_count(const char *owner)
{
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT count(*) FROM facts");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    int64_t n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return n;
}

static void everything_arrives_exactly_once(void **state)
{
    (void)state;
    char owner[512], url[1024];
    struct test_store t;
    struct clirun r = {0};
    chain("sync_once", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "First", 30);
    assert_int_equal(sync_cli(&r, &t, url, "--batch", "7"), 0);
    assert_non_null(strstr(r.out, "acknowledged up to store_seq 7 (7 rows in 1 batches)"));
    assert_hq_equals_store(&t, owner);
    int64_t last = 0, before = hq_count(owner);
    assert_int_equal(patron_outbox_last(t.s, &last), 0);
    json_t *st = status_json(&t);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 0);
    assert_int_equal(json_integer_value(json_object_get(st, "acked_seq")), last);
    assert_true(json_is_string(json_object_get(st, "last_success")));
    assert_true(json_is_null(json_object_get(st, "last_error")));
    json_decref(st);
    /* again: nothing to ship, nothing changes */
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "(0 shipped now)"));
    assert_int_equal(hq_count(owner), before);
    /* a sale between two syncs arrives, and only it */
    char card[14];
    test_enroll(&t, "Later", card);
    sell(t.s, card, "later-1", 4650);
    int64_t now = 0;
    assert_int_equal(patron_outbox_last(t.s, &now), 0);
    st = status_json(&t);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), now - last);
    json_decref(st);
    assert_int_equal(
        clirun(&r, "--json", "--db", t.path, "--home", home, "--hq", url, "sync", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "shipped")), now - last);
    assert_int_equal(json_integer_value(json_object_get(o, "acked_seq")), now);
    json_decref(o);
    assert_hq_equals_store(&t, owner);
    test_store_close(&t);
}

static void a_lost_acknowledgement_ships_nothing_twice(void **state)
{
    (void)state;
    char owner[512], url[1024];
    struct test_store t;
    struct clirun r = {0};
    chain("sync_lost_ack", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Ack", 10);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    /* as if the store crashed after head office committed and before it recorded that */
    assert_int_equal(patron_outbox_sync_ack(t.s, 3, 0), 0);
    char card[14];
    test_enroll(&t, "After", card);
    int64_t before = hq_count(owner), last = 0;
    assert_int_equal(patron_outbox_last(t.s, &last), 0);
    assert_int_equal(
        clirun(&r, "--json", "--db", t.path, "--home", home, "--hq", url, "sync", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "from_seq")), before);
    assert_int_equal(json_integer_value(json_object_get(o, "shipped")), last - before);
    json_decref(o);
    assert_hq_equals_store(&t, owner);
    test_store_close(&t);
}

static void head_office_down_loses_nothing(void **state)
{
    (void)state;
    char owner[512], url[1024], card[14];
    struct test_store t;
    struct clirun r = {0};
    chain("sync_down", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Before", 5);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    /* the store keeps selling */
    test_enroll(&t, "Offline", card);
    sell(t.s, card, "offline-1", 2000);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 1);
    assert_non_null(strstr(r.err, "cannot reach the head office at 127.0.0.1:"));
    json_t *st = status_json(&t);
    assert_true(json_integer_value(json_object_get(st, "pending")) > 0);
    assert_non_null(
        strstr(json_string_value(json_object_get(st, "last_error")), "cannot reach the head"));
    json_decref(st);
    assert_int_equal(clirun(&r, "--db", t.path, "--home", home, "sync", "status", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "last error: cannot reach the head office"));
    assert_int_equal(pg_cluster_resume(&pg), 0);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_hq_equals_store(&t, owner);
    st = status_json(&t);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 0);
    assert_true(json_is_null(json_object_get(st, "last_error")));
    json_decref(st);
    test_store_close(&t);
}

static void a_wrong_login_or_schema_is_named(void **state)
{
    (void)state;
    char owner[512], url[1024];
    struct test_store t;
    struct clirun r = {0};
    chain("sync_wrong", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Wrong", 2);
    /* the owner is no store's login */
    assert_int_equal(sync_cli(&r, &t, owner, NULL, NULL), 2);
    assert_non_null(strstr(r.err, "the head office login is not a store's"));
    /* another store's login: named, and nothing written under it */
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", "2", "--name",
               "Other shop", (char *)NULL) != 0)
        fail_msg("store add 2: %s", r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    assert_int_equal(sync_cli(&r, &t, json_string_value(json_object_get(o, "url")), NULL, NULL), 2);
    json_decref(o);
    assert_non_null(strstr(r.err, "this is store 1 but the head office login belongs to store 2"));
    assert_int_equal(hq_count(owner), 0);
    /* a head office schema newer than the program: refused, untouched */
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PQclear(PQexec(conn, "UPDATE hq_schema_version SET version = 99"));
    assert_int_not_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_non_null(strstr(r.err, "schema version 99, newer than this program knows"));
    assert_int_equal(hq_count(owner), 0);
    char latest[64];
    snprintf(latest, sizeof latest, "UPDATE hq_schema_version SET version = %d",
             patron_hq_schema_latest());
    PQclear(PQexec(conn, latest));
    PQfinish(conn);
    /* each failure is kept for `patron sync status`; then the right login ships everything */
    json_t *st = status_json(&t);
    assert_non_null(strstr(json_string_value(json_object_get(st, "last_error")), "newer"));
    json_decref(st);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_hq_equals_store(&t, owner);
    test_store_close(&t);
}

/* Runs `patron sync --batch 5` and kills it with SIGKILL once it has said that `batches`
 * batches were acknowledged. Returns 1 when it was killed, 0 when it finished first. */
static int sync_and_kill(const struct test_store *t, const char *url, int batches)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(getenv("PATRON_BIN"), "patron", "--db", t->path, "--home", home, "--hq", url, "sync",
              "--batch", "5", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int seen = 0, killed = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "acknowledged up to") && ++seen == batches) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
    }
    fclose(f);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!killed)
        assert_int_equal(WEXITSTATUS(status), 0);
    return killed;
}

static void sigkill_mid_sync_loses_and_repeats_nothing(void **state)
{
    (void)state;
    char owner[512], url[1024], card[14], ref[32];
    struct test_store t;
    struct clirun r = {0};
    chain("sync_kill", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Kill", 60);
    int kills = 0;
    for (int i = 0; i < 12; i++) {
        kills += sync_and_kill(&t, url, 1 + i % 3);
        /* the store keeps selling between the runs: enough rows for three batches of 5 in the
         * next run whatever the last one managed to ship before its kill landed */
        snprintf(ref, sizeof ref, "between-%d", i);
        test_enroll(&t, ref, card);
        for (int k = 0; k < 3; k++) {
            snprintf(ref, sizeof ref, "between-%d-%d", i, k);
            sell(t.s, card, ref, 500);
        }
    }
    assert_true(kills >= 10);
    assert_int_equal(sync_cli(&r, &t, url, NULL, NULL), 0);
    assert_hq_equals_store(&t, owner);
    json_t *st = status_json(&t);
    assert_int_equal(json_integer_value(json_object_get(st, "pending")), 0);
    json_decref(st);
    test_store_close(&t);
}

/* Another connection holding the store's write lock (BEGIN IMMEDIATE), as a sale does. */
struct holder {
    sqlite3 *db;
    pthread_t thread;
};

static void hold_lock(struct holder *k, const char *path)
{
    assert_int_equal(sqlite3_open(path, &k->db), SQLITE_OK);
    sqlite3_busy_timeout(k->db, 60000);
    assert_int_equal(sqlite3_exec(k->db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
}

static void *release_soon(void *arg)
{
    struct holder *k = arg;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    sqlite3_exec(k->db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

static void release_lock(struct holder *k)
{
    sqlite3_exec(k->db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(k->db);
}

/* The store handle is left with no transaction open (a read snapshot left open would make its
 * next write fail at once with "database is locked", without waiting for busy_timeout). */
static void assert_no_open_transaction(patron_store *s)
{
    sqlite3 *db = patron_store_sqlite(s);
    assert_int_equal(sqlite3_txn_state(db, NULL), SQLITE_TXN_NONE);
    for (sqlite3_stmt *st = sqlite3_next_stmt(db, NULL); st; st = sqlite3_next_stmt(db, st))
        if (sqlite3_stmt_busy(st))
            fail_msg("a statement is left running: %s", sqlite3_sql(st));
}

static void a_busy_store_is_waited_for_or_named(void **state)
{
    (void)state;
    char owner[512], url[1024], detail[512], card[14];
    struct test_store t;
    struct holder k;
    struct patron_hq_sync_result r;
    patron_hq *h = NULL;
    chain("sync_busy", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Busy", 5);
    assert_int_equal(patron_hq_connect(url, &h, detail, sizeof detail), 0);
    assert_int_equal(patron_hq_sync(h, t.s, 3, NULL, NULL, &r, detail, sizeof detail), 0);
    assert_no_open_transaction(t.s);
    /* a writer holds the lock for less than busy_timeout: the sync waits and succeeds */
    patron_store_set_busy_timeout(t.s, 600);
    test_enroll(&t, "Short", card);
    sell(t.s, card, "short-1", 1500);
    hold_lock(&k, t.path);
    assert_int_equal(pthread_create(&k.thread, NULL, release_soon, &k), 0);
    if (patron_hq_sync(h, t.s, 3, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("sync behind a short lock: %s", detail);
    pthread_join(k.thread, NULL);
    release_lock(&k);
    assert_no_open_transaction(t.s);
    assert_hq_equals_store(&t, owner);
    /* held past busy_timeout: the sync fails with the true sentence */
    patron_store_set_busy_timeout(t.s, 0);
    test_enroll(&t, "Long", card);
    sell(t.s, card, "long-1", 2500);
    hold_lock(&k, t.path);
    assert_int_not_equal(patron_hq_sync(h, t.s, 3, NULL, NULL, &r, detail, sizeof detail), 0);
    release_lock(&k);
    assert_null(strstr(detail, "never wrote"));
    assert_non_null(strstr(detail, "the store was busy"));
    /* the next sync recovers, nothing shipped twice */
    patron_store_set_busy_timeout(t.s, 600);
    if (patron_hq_sync(h, t.s, 3, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("sync after the lock: %s", detail);
    assert_no_open_transaction(t.s);
    assert_hq_equals_store(&t, owner);
    /* the real case: head office ahead of this store's outbox (a new file under store 1's id) */
    struct test_store fresh;
    test_store_open(&fresh);
    assert_int_equal(patron_hq_sync(h, fresh.s, 3, NULL, NULL, &r, detail, sizeof detail),
                     PATRON_EINVAL);
    assert_non_null(strstr(detail, "which this store never wrote"));
    test_store_close(&fresh);
    patron_hq_close(h);
    test_store_close(&t);
}

/* A ship with nothing pending and a pull that brings nothing new write nothing at the store, so
 * they neither wait for nor take the store's write lock (a sale's): with another writer holding
 * the lock and no wait allowed, they still succeed. Before, every ship recorded head office's
 * high mark again and every pull wrote its cursors, each in a transaction, and said "the store
 * was busy". (A pull may read again what a transaction still running at head office
 * could hide, e.g. an autovacuum's: a few tries, each a whole pull.) */
static void nothing_new_writes_nothing_at_the_store(void **state)
{
    (void)state;
    char owner[512], url[1024], detail[512];
    struct test_store t;
    struct holder k;
    struct patron_hq_sync_result r;
    struct patron_hq_pull_result p;
    patron_hq *h = NULL;
    chain("sync_quiet_pull", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Quiet", 3);
    assert_int_equal(patron_hq_connect(url, &h, detail, sizeof detail), 0);
    if (patron_hq_sync(h, t.s, 100, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("sync: %s", detail);
    patron_store_set_busy_timeout(t.s, 0);
    hold_lock(&k, t.path);
    /* a ship with nothing pending: head office's high mark is what the store holds */
    if (patron_hq_ship(h, t.s, 100, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("a ship with nothing pending wrote at the store: %s", detail);
    assert_int_equal(r.shipped, 0);
    int rc = -1;
    for (int i = 0; i < 5 && rc != 0; i++)
        rc = patron_hq_pull(h, t.s, &p, detail, sizeof detail);
    release_lock(&k);
    if (rc != 0)
        fail_msg("a pull with nothing new wrote at the store: %s", detail);
    assert_int_equal(p.members + p.cards + p.balances + p.erased + p.held_posted, 0);
    assert_no_open_transaction(t.s);
    patron_hq_close(h);
    test_store_close(&t);
}

/* `rows` outbox rows written straight into the store's file after what it holds (a backlog,
 * as when head office was away), each a sale line whose payload carries `chars` characters. */
static void pile_up(const struct test_store *t, int rows, size_t chars)
{
    sqlite3 *db = NULL;
    char sql[1024], *msg = NULL;
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO outbox(store_seq, store_id, kind, tbl, row_key, member_id, payload,"
             " recorded_at) SELECT (SELECT coalesce(max(store_seq), 0) FROM outbox) + i, 1,"
             " 'sale_line', 'sale_lines', i, NULL, json_object('id', i, 'note',"
             " replace(hex(zeroblob(%zu)), '0', 'x')), 1768471200 + i FROM n",
             rows, chars / 2);
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("piling up the outbox: %s", msg);
    sqlite3_close(db);
}

/* A backlog ships in batches of PATRON_HQ_SYNC_BATCH_ROWS (`patron sync` without --batch, and
 * serve's thread, which asks for batch_rows 0), and a batch also ends once its rows reach
 * PATRON_HQ_SYNC_BATCH_BYTES, so that big rows never make a big batch. */
static void a_backlog_ships_in_big_batches_bounded_in_bytes(void **state)
{
    (void)state;
    char owner[512], url[1024], detail[512];
    struct test_store t;
    struct clirun r = {0};
    struct patron_hq_sync_result res;
    patron_hq *h = NULL;
    chain("sync_backlog", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    int rows = PATRON_HQ_SYNC_BATCH_ROWS / 2 + 1500; /* more than the old batches of 1,000 */
    pile_up(&t, rows, 40);
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(t.s, &last), 0);
    assert_int_equal(
        clirun(&r, "--json", "--db", t.path, "--home", home, "--hq", url, "sync", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(o, "shipped")), last);
    assert_int_equal(json_integer_value(json_object_get(o, "batches")), 1);
    json_decref(o);
    /* rows of a quarter of the bound each: four fill a batch, twelve make three */
    pile_up(&t, 12, PATRON_HQ_SYNC_BATCH_BYTES / 4);
    assert_int_equal(patron_hq_connect(url, &h, detail, sizeof detail), 0);
    if (patron_hq_ship(h, t.s, 0, NULL, NULL, &res, detail, sizeof detail) != 0)
        fail_msg("ship: %s", detail);
    assert_int_equal(res.shipped, 12);
    assert_int_equal(res.batches, 3);
    patron_hq_close(h);
    assert_hq_equals_store(&t, owner);
    test_store_close(&t);
}

/* A round that finds a few rows past what the store recorded ships them in one round trip (one
 * statement, its own transaction), and only when head office holds exactly what the store
 * recorded: a store that recorded more than head office holds (a gap) ships from head office's
 * highest instead, so head office never holds a row after a gap. */
static void a_few_rows_ship_in_one_round_trip_never_after_a_gap(void **state)
{
    (void)state;
    char owner[512], url[1024], detail[512], card[14];
    struct test_store t;
    struct patron_hq_sync_result r;
    patron_hq *h = NULL;
    chain("sync_short", owner, sizeof owner, url, sizeof url);
    test_store_open(&t);
    trade(&t, "Short", 3);
    assert_int_equal(patron_hq_connect(url, &h, detail, sizeof detail), 0);
    /* head office takes the first batch of two rows and loses the second */
    setenv("PATRON_SYNC_FAULT", "before:2", 1);
    assert_int_not_equal(patron_hq_ship(h, t.s, 2, NULL, NULL, &r, detail, sizeof detail), 0);
    unsetenv("PATRON_SYNC_FAULT");
    assert_int_equal(hq_count(owner), 2);
    /* the store records more than head office holds */
    assert_int_equal(patron_outbox_sync_ack(t.s, 5, 0), 0);
    if (patron_hq_ship(h, t.s, 100, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("ship after a gap: %s", detail);
    assert_int_equal(r.from_seq, 2);
    assert_hq_equals_store(&t, owner);
    /* a sale, then the round that ships it: one round trip */
    test_enroll(&t, "Short later", card);
    sell(t.s, card, "short-later", 1500);
    int64_t last = 0;
    assert_int_equal(patron_outbox_last(t.s, &last), 0);
    chain_trips_start(h);
    if (patron_hq_ship(h, t.s, 100, NULL, NULL, &r, detail, sizeof detail) != 0)
        fail_msg("ship: %s", detail);
    assert_int_equal(chain_trips_end(h), 1);
    assert_int_equal(r.acked_seq, last);
    assert_hq_equals_store(&t, owner);
    patron_hq_close(h);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_arrives_exactly_once),
        cmocka_unit_test(a_lost_acknowledgement_ships_nothing_twice),
        cmocka_unit_test(head_office_down_loses_nothing),
        cmocka_unit_test(a_wrong_login_or_schema_is_named),
        cmocka_unit_test(sigkill_mid_sync_loses_and_repeats_nothing),
        cmocka_unit_test(a_busy_store_is_waited_for_or_named),
        cmocka_unit_test(nothing_new_writes_nothing_at_the_store),
        cmocka_unit_test(a_backlog_ships_in_big_batches_bounded_in_bytes),
        cmocka_unit_test(a_few_rows_ship_in_one_round_trip_never_after_a_gap),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
