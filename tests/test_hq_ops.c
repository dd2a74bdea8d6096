/* SPDX-License-Identifier: MIT */
/* Head office operations against a throwaway PostgreSQL (label pg). Bad days: head office
 * stopped while three stores sell (every sale succeeds, each sync fails with a sentence, and
 * after the restart every row arrives exactly once); PostgreSQL stopped with `-m immediate` five
 * times in the middle of a sync (head office ends with each store's rows exactly: no gap, no
 * duplicate); a wrong password or address named in a sentence that the store keeps, and a link
 * lost before head office answered said to be lost. Then
 * `patron hq verify` (clean: exit 0; a gap, an unsound entry or a chain balance that is not the
 * sum of its chain entries: exit 1 naming it) and
 * `patron hq conflicts` (a voucher redeemed at two stores, both named with both clocks; a member
 * below zero). */
#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"

#define STORES 3

/* A store of the chain: its own file, clock and id, and its head office URL. */
struct shop {
    struct test_store t;
    int id;
    char url[1024];
};

static int64_t shop_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

static void shop_open(struct shop *sh, int id, char *owner)
{
    struct clirun r = {0};
    char id_text[16], name[32];
    const char *tmp = getenv("TMPDIR");
    memset(sh, 0, sizeof *sh);
    sh->id = id;
    snprintf(sh->t.dir, sizeof sh->t.dir, "%s/patron-shop-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(sh->t.dir));
    snprintf(sh->t.path, sizeof sh->t.path, "%s/patron.db", sh->t.dir);
    assert_int_equal(patron_store_open(sh->t.path, &sh->t.s), 0);
    sh->t.now = TEST_EPOCH;
    patron_store_set_clock(sh->t.s, shop_clock, &sh->t);
    snprintf(name, sizeof name, "Shop %d", id);
    assert_int_equal(patron_store_init(sh->t.s, id, name), 0);
    snprintf(id_text, sizeof id_text, "%d", id);
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", id_text, "--name",
               name, (char *)NULL) != 0)
        fail_msg("store add %d: %s", id, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(sh->url, sizeof sh->url, "%s", json_string_value(json_object_get(o, "url")));
    json_decref(o);
}

/* A head office in database `name` with `n` stores (ids 1..n); the owner's URL into owner. */
static void chain(const char *name, char *owner, size_t olen, struct shop *shops, int n)
{
    struct clirun r = {0};
    assert_int_equal(pg_cluster_createdb(&pg, name, owner, olen), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    for (int i = 0; i < n; i++)
        shop_open(&shops[i], i + 1, owner);
}

static void shops_close(struct shop *shops, int n)
{
    for (int i = 0; i < n; i++)
        test_store_close(&shops[i].t);
}

static void sell(struct shop *sh, const char *card, const char *ref, int64_t total)
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
    if (patron_sale_record(sh->t.s, &in, &r) != 0)
        fail_msg("store %d sale %s: %s", sh->id, ref, patron_store_detail(sh->t.s));
    sh->t.now += 60;
}

/* `n` members at the store, each with a sale. */
static void trade(struct shop *sh, const char *prefix, int n)
{
    char card[14], name[48], ref[48];
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof name, "%s %d-%d", prefix, sh->id, i);
        snprintf(ref, sizeof ref, "%s-%d-%d", prefix, sh->id, i);
        test_enroll(&sh->t, name, card);
        sell(sh, card, ref, 1000 + 10 * i);
    }
}

static int sync_cli(struct clirun *r, struct shop *sh, const char *url)
{
    return clirun(r, "--db", sh->t.path, "--home", home, "--hq", url, "sync", (char *)NULL);
}

static PGconn *owner_conn(const char *owner)
{
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    return conn;
}

/* Head office holds exactly the store's outbox: rows 1..last, each once, each as written. */
static void assert_hq_equals_store(struct shop *sh, const char *owner)
{
    int64_t last = 0;
    char id[8];
    assert_int_equal(patron_outbox_last(sh->t.s, &last), 0);
    assert_true(last > 0);
    snprintf(id, sizeof id, "%d", sh->id);
    const char *params[] = {id};
    PGconn *conn = owner_conn(owner);
    PGresult *res = PQexecParams(conn,
                                 "SELECT count(*), count(DISTINCT store_seq),"
                                 " coalesce(min(store_seq), 0), coalesce(max(store_seq), 0)"
                                 " FROM facts WHERE store_id = $1::integer",
                                 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int col = 0; col < 4; col++)
        if (strtoll(PQgetvalue(res, 0, col), NULL, 10) != (col == 2 ? 1 : last))
            fail_msg("store %d: head office has count %s, distinct %s, min %s, max %s; the store "
                     "wrote 1..%lld",
                     sh->id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                     PQgetvalue(res, 0, 3), (long long)last);
    PQclear(res);
    PQfinish(conn);
}

static void exec_owner(const char *owner, const char *sql)
{
    PGconn *conn = owner_conn(owner);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(conn);
}

static json_t *hq_json(const char *owner, const char *sub, int expect)
{
    struct clirun r = {0};
    int status = clirun(&r, "--json", "--home", home, "--hq", owner, "hq", sub, (char *)NULL);
    if (status != expect)
        fail_msg("hq %s exited %d, not %d: %s%s", sub, status, expect, r.out, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    return o;
}

static void assert_verifies(const char *owner, int stores)
{
    json_t *o = hq_json(owner, "verify", 0);
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_int_equal(json_integer_value(json_object_get(o, "stores_checked")), stores);
    assert_int_equal(json_integer_value(json_object_get(o, "seq_gaps")), 0);
    json_decref(o);
}

static void three_stores_sell_while_head_office_is_down(void **state)
{
    (void)state;
    char owner[512];
    struct shop shops[STORES];
    struct clirun r = {0};
    chain("ops_down", owner, sizeof owner, shops, STORES);
    for (int i = 0; i < STORES; i++) {
        trade(&shops[i], "Before", 5);
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0);
    }
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < STORES; i++) {
            trade(&shops[i], round ? "Down2" : "Down1", 4); /* every sale succeeds */
            assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 1);
            assert_non_null(strstr(r.err, "cannot reach the head office at 127.0.0.1:"));
            struct patron_outbox_sync st;
            assert_int_equal(patron_outbox_sync_get(shops[i].t.s, &st), 0);
            assert_non_null(strstr(st.last_error, "cannot reach the head office"));
        }
    }
    assert_int_equal(pg_cluster_resume(&pg), 0);
    for (int i = 0; i < STORES; i++) {
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0);
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0); /* again: nothing twice */
        assert_non_null(strstr(r.out, "(0 shipped now)"));
        assert_hq_equals_store(&shops[i], owner);
    }
    assert_verifies(owner, STORES);
    shops_close(shops, STORES);
}

/* Runs `patron sync --batch 1`, stops it (SIGSTOP) once it said `acks` batches were
 * acknowledged, stops PostgreSQL with -m immediate, lets the sync go on against the dead link,
 * and returns its exit status. The store has many more rows than `acks`, so the sync is always
 * in the middle when the server dies. */
static int sync_through_a_crash(struct shop *sh, int acks)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(getenv("PATRON_BIN"), "patron", "--db", sh->t.path, "--home", home, "--hq", sh->url,
              "sync", "--batch", "1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    assert_non_null(f);
    char line[512];
    int seen = 0;
    while (seen < acks && fgets(line, sizeof line, f))
        if (strstr(line, "acknowledged up to"))
            seen++;
    assert_int_equal(seen, acks);
    kill(pid, SIGSTOP);
    assert_int_equal(pg_cluster_halt(&pg, "immediate"), 0);
    kill(pid, SIGCONT);
    while (fgets(line, sizeof line, f))
        ;
    fclose(f);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(pg_cluster_resume(&pg), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void immediate_stops_mid_sync_lose_and_repeat_nothing(void **state)
{
    (void)state;
    char owner[512];
    struct shop sh;
    struct clirun r = {0};
    chain("ops_crash", owner, sizeof owner, &sh, 1);
    trade(&sh, "Crash", 10);
    for (int i = 0; i < 5; i++) {
        char prefix[16];
        assert_int_equal(sync_through_a_crash(&sh, 1 + i % 3), 1);
        snprintf(prefix, sizeof prefix, "After%d", i);
        trade(&sh, prefix, 3); /* the store sells between the crashes */
    }
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh, owner);
    assert_verifies(owner, 1);
    shops_close(&sh, 1);
}

static void a_wrong_password_or_address_is_named(void **state)
{
    (void)state;
    char owner[512], wrong[512], card[14];
    struct shop sh;
    struct clirun r = {0};
    chain("ops_wrong", owner, sizeof owner, &sh, 1);
    trade(&sh, "Wrong", 2);
    pg_cluster_url(&pg, "ops_wrong", "ops_wrong_store_1", "not-the-password", wrong, sizeof wrong);
    assert_int_not_equal(sync_cli(&r, &sh, wrong), 0);
    assert_non_null(
        strstr(r.err, "refused the login of role ops_wrong_store_1: wrong password or unknown"));
    struct patron_outbox_sync st;
    assert_int_equal(patron_outbox_sync_get(sh.t.s, &st), 0);
    assert_non_null(strstr(st.last_error, "wrong password"));
    snprintf(wrong, sizeof wrong, "postgresql://ops_wrong_store_1@127.0.0.1:1/ops_wrong");
    assert_int_not_equal(sync_cli(&r, &sh, wrong), 0);
    assert_non_null(strstr(r.err, "cannot reach the head office at 127.0.0.1:1: wrong address"));
    /* nothing was shipped, the store kept selling, and the right URL ships it all */
    test_enroll(&sh.t, "Still selling", card);
    sell(&sh, card, "still-1", 900);
    json_t *o = hq_json(owner, "stores", 0);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(o, "stores"), 0), "facts")),
                     0);
    json_decref(o);
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh, owner);
    shops_close(&sh, 1);
}

/* Head office ended the store's session (a restart, a cut link): the sync says the link was lost,
 * with head office's address, not that head office refused the batch; the next sync ships it. */
static void a_link_lost_before_the_answer_is_named(void **state)
{
    (void)state;
    char owner[512], detail[512];
    struct shop sh;
    struct clirun r = {0};
    struct patron_hq_sync_result res;
    patron_hq *h = NULL;
    chain("ops_lost", owner, sizeof owner, &sh, 1);
    trade(&sh, "Lost", 2);
    assert_int_equal(patron_hq_connect(sh.url, &h, detail, sizeof detail), 0);
    PGconn *conn = owner_conn(owner);
    PGresult *ended = PQexec(conn, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                   " WHERE usename = 'ops_lost_store_1'");
    assert_int_equal(PQresultStatus(ended), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(ended, 0, 0), "1");
    PQclear(ended);
    PQfinish(conn);
    assert_int_equal(patron_hq_ship(h, sh.t.s, 0, NULL, NULL, &res, detail, sizeof detail),
                     PATRON_EDB);
    patron_hq_close(h);
    assert_non_null(strstr(detail, "the link to the head office at 127.0.0.1:"));
    assert_non_null(strstr(detail, "was lost before it answered"));
    assert_null(strstr(detail, "refused"));
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh, owner);
    shops_close(&sh, 1);
}

/* A fact as if store `store` had shipped it after its last one (no gap). */
static void ship_as(const char *owner, int store, const char *kind, const char *payload,
                    const char *store_time)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO facts (store_id, store_seq, kind, payload, store_time)"
             " SELECT %d, coalesce(max(store_seq), 0) + 1, '%s', '%s', '%s'"
             " FROM facts WHERE store_id = %d",
             store, kind, payload, store_time, store);
    exec_owner(owner, sql);
}

static void verify_names_gaps_and_unsound_entries(void **state)
{
    (void)state;
    char owner[512];
    struct shop shops[2];
    struct clirun r = {0};
    chain("ops_verify", owner, sizeof owner, shops, 2);
    for (int i = 0; i < 2; i++) {
        trade(&shops[i], "Verify", 4);
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0);
    }
    json_t *o = hq_json(owner, "verify", 0);
    assert_true(json_integer_value(json_object_get(o, "entries_checked")) >= 8);
    assert_int_equal(json_integer_value(json_object_get(o, "program_sum")) +
                         json_integer_value(json_object_get(o, "member_sum")),
                     0);
    assert_true(json_integer_value(json_object_get(o, "member_sum")) > 0);
    assert_int_equal(json_integer_value(json_object_get(o, "entries_projected")),
                     json_integer_value(json_object_get(o, "entries_checked")));
    assert_int_equal(json_integer_value(json_object_get(o, "balances_off")), 0);
    json_decref(o);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "Head office OK: 2 stores gap-free"));
    /* a chain balance that is not the sum of its chain entries */
    exec_owner(owner, "UPDATE chain_balances SET points = points + 1"
                      " WHERE member_uid = (SELECT min(member_uid) FROM chain_balances)");
    o = hq_json(owner, "verify", 1);
    assert_int_equal(json_integer_value(json_object_get(o, "balances_off")), 1);
    assert_non_null(strstr(json_string_value(json_object_get(o, "problem")),
                           "1 members' chain balances are not the sum of their chain entries"));
    json_decref(o);
    exec_owner(owner, "UPDATE chain_balances SET points = points - 1"
                      " WHERE member_uid = (SELECT min(member_uid) FROM chain_balances)");
    /* an entry that moves no points */
    exec_owner(owner, "UPDATE facts SET payload = jsonb_set(payload, '{points}', '0')"
                      " WHERE (store_id, store_seq) = (SELECT store_id, min(store_seq) FROM facts"
                      " WHERE kind = 'entry' AND store_id = 1 GROUP BY store_id)");
    o = hq_json(owner, "verify", 1);
    assert_false(json_is_true(json_object_get(o, "ok")));
    assert_int_equal(json_integer_value(json_object_get(o, "entries_bad")), 1);
    json_decref(o);
    /* a gap in store 2's sequence */
    exec_owner(owner, "DELETE FROM facts WHERE store_id = 2 AND store_seq = 3");
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 1);
    assert_non_null(strstr(r.out, "HEAD OFFICE MISMATCH: store 2 has"));
    assert_non_null(strstr(r.out, "1 are missing"));
    shops_close(shops, 2);
}

static void conflicts_name_double_spends_and_overdrafts(void **state)
{
    (void)state;
    char owner[512];
    struct shop shops[2];
    struct clirun r = {0};
    chain("ops_conflicts", owner, sizeof owner, shops, 2);
    for (int i = 0; i < 2; i++) {
        trade(&shops[i], "Conflict", 2);
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0);
    }
    json_t *o = hq_json(owner, "conflicts", 0);
    assert_int_equal(json_array_size(json_object_get(o, "conflicts")), 0);
    json_decref(o);
    /* the same voucher redeemed offline at both stores; store 2's clock runs behind */
    ship_as(owner, 1, "voucher_redeemed",
            "{\"key_id\": 1, \"voucher_id\": 77, \"value\": 500, \"offline\": 1}",
            "2026-01-15T12:00:00Z");
    ship_as(owner, 2, "voucher_redeemed",
            "{\"key_id\": 1, \"voucher_id\": 77, \"value\": 500, \"offline\": 1}",
            "2026-01-15T11:00:00Z");
    /* member 1 of store 2 spends more than the chain holds for them */
    ship_as(owner, 2, "entry",
            "{\"kind\": \"redeem\", \"debit\": \"member\", \"credit\": \"redeemed\","
            " \"points\": 100000, \"member_id\": 1}",
            "2026-01-15T11:05:00Z");
    o = hq_json(owner, "conflicts", 0);
    json_t *list = json_object_get(o, "conflicts");
    assert_int_equal(json_array_size(list), 2);
    json_t *ds = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(ds, "type")), "double_spend");
    assert_string_equal(json_string_value(json_object_get(ds, "voucher")), "1/77");
    assert_int_equal(json_integer_value(json_object_get(ds, "times")), 2);
    json_t *uses = json_object_get(ds, "uses");
    assert_int_equal(json_array_size(uses), 2);
    /* oldest by store clock first: store 2, then store 1; each with head office's receive time */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(uses, 0), "store_id")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(uses, 1), "store_id")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(uses, 0), "store_time")),
                        "2026-01-15T11:00:00Z");
    assert_non_null(json_string_value(json_object_get(json_array_get(uses, 1), "received_at")));
    json_t *od = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(od, "type")), "overdraft");
    assert_string_equal(json_string_value(json_object_get(od, "member_uid")), "2-1");
    assert_true(json_integer_value(json_object_get(od, "balance")) < 0);
    json_decref(o);
    /* conflicts are listed, not failures: the books still verify, and count them */
    o = hq_json(owner, "verify", 0);
    assert_int_equal(json_integer_value(json_object_get(o, "double_spends")), 1);
    assert_int_equal(json_integer_value(json_object_get(o, "overdrafts")), 1);
    json_decref(o);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "conflicts", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "double spend: voucher 1/77 (value 500) redeemed 2 times"));
    assert_non_null(strstr(r.out, "store 2 at 2026-01-15T11:00:00Z (store clock), received "));
    assert_non_null(strstr(r.out, "overdraft: member 2-1 has a chain balance of"));
    shops_close(shops, 2);
}

/* `patron --json --db STORE report liability`'s outstanding points. */
static int64_t store_liability(struct shop *sh)
{
    struct clirun r = {0};
    assert_int_equal(clirun(&r, "--json", "--db", sh->t.path, "report", "liability", (char *)NULL),
                     0);
    json_t *o = json_loads(r.out, 0, NULL);
    int64_t points = json_integer_value(json_object_get(o, "points"));
    json_decref(o);
    return points;
}

static json_t *report_json(const char *owner, const char *name)
{
    struct clirun r = {0};
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "report", name, (char *)NULL) !=
        0)
        fail_msg("hq report %s: %s", name, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    return o;
}

static int64_t cell(json_t *report, size_t row, const char *col)
{
    return json_integer_value(
        json_object_get(json_array_get(json_object_get(report, "rows"), row), col));
}

/* The liability figures recomputed from the shipped facts alone (every entry's payload, as the
 * report read them before it read the projections), row for row against the report. */
static void assert_liability_matches_facts(const char *owner, json_t *report)
{
    static const char sql[] =
        "WITH moves AS (SELECT store_id,"
        " coalesce(payload->>'member_uid', store_id || '-' || (payload->>'member_id')) AS member,"
        " CASE WHEN payload->>'credit' = 'member' THEN (payload->>'points')::bigint"
        " ELSE -(payload->>'points')::bigint END AS points FROM facts WHERE kind = 'entry'"
        " AND 'member' IN (payload->>'debit', payload->>'credit')),"
        " balances AS (SELECT member, sum(points) AS balance FROM moves GROUP BY member),"
        " home AS (SELECT split_part(member, '-', 1) AS store, count(*) AS members,"
        " coalesce(sum(balance) FILTER (WHERE balance > 0), 0) AS points,"
        " coalesce(-sum(balance) FILTER (WHERE balance < 0), 0) AS owed FROM balances GROUP BY 1),"
        " issued AS (SELECT store_id::text AS store, sum(points) AS net FROM moves GROUP BY 1),"
        " per_store AS (SELECT s.store_id, s.store_id || ' ' || s.name AS label,"
        " coalesce(h.members, 0) AS members, coalesce(h.points, 0) AS points,"
        " coalesce(h.owed, 0) AS owed, coalesce(i.net, 0) AS net FROM stores s"
        " LEFT JOIN home h ON h.store = s.store_id::text LEFT JOIN issued i"
        " ON i.store = s.store_id::text)"
        " SELECT label, members, points, owed, net FROM (SELECT 0 AS o, store_id AS id, label,"
        " members, points, owed, net FROM per_store UNION ALL SELECT 1, 0, 'total',"
        " coalesce(sum(members), 0), coalesce(sum(points), 0), coalesce(sum(owed), 0),"
        " coalesce(sum(net), 0) FROM per_store) x ORDER BY o, id";
    static const char *const cols[] = {"members", "outstanding_points", "owed_points",
                                       "net_issued"};
    PGconn *conn = owner_conn(owner);
    PGresult *res = PQexec(conn, sql);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    json_t *rows = json_object_get(report, "rows");
    assert_int_equal(json_array_size(rows), (size_t)PQntuples(res));
    for (int i = 0; i < PQntuples(res); i++) {
        assert_string_equal(
            json_string_value(json_object_get(json_array_get(rows, (size_t)i), "store")),
            PQgetvalue(res, i, 0));
        for (int c = 0; c < 4; c++)
            if (cell(report, (size_t)i, cols[c]) != strtoll(PQgetvalue(res, i, c + 1), NULL, 10))
                fail_msg("liability row %d, %s: the report says %lld, the facts %s", i, cols[c],
                         (long long)cell(report, (size_t)i, cols[c]), PQgetvalue(res, i, c + 1));
    }
    PQclear(res);
    PQfinish(conn);
}

static void reports_and_stores_of_the_chain(void **state)
{
    (void)state;
    char owner[512], svg[600];
    struct shop shops[STORES];
    struct clirun r = {0};
    chain("ops_report", owner, sizeof owner, shops, STORES);
    for (int i = 0; i < STORES; i++) {
        trade(&shops[i], "Report", 2 + i);
        assert_int_equal(sync_cli(&r, &shops[i], shops[i].url), 0);
    }
    /* member 1 of store 1 spends 5 points at store 2 (as the chain identity will ship it) */
    ship_as(owner, 2, "entry",
            "{\"kind\": \"redeem\", \"debit\": \"member\", \"credit\": \"redeemed\","
            " \"points\": 5, \"member_uid\": \"1-1\"}",
            "2026-01-15T12:00:00Z");
    json_t *o = report_json(owner, "liability");
    json_t *rows = json_object_get(o, "rows");
    assert_int_equal(json_array_size(rows), STORES + 1);
    int64_t total = 0;
    for (int i = 0; i < STORES; i++) {
        int64_t mine = store_liability(&shops[i]) - (i == 0 ? 5 : 0);
        assert_int_equal(cell(o, (size_t)i, "outstanding_points"), mine);
        assert_int_equal(cell(o, (size_t)i, "members"), 2 + i);
        total += mine;
    }
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, STORES), "store")),
                        "total");
    assert_int_equal(cell(o, STORES, "outstanding_points"), total);
    assert_int_equal(cell(o, STORES, "net_issued"), total);
    assert_int_equal(cell(o, 1, "net_issued"), store_liability(&shops[1]) - 5);
    assert_liability_matches_facts(owner, o);
    json_decref(o);
    /* a member overdrawn, and one whose earning was reversed to nothing: the
     * projections give the same figures as every entry read again */
    ship_as(owner, 3, "entry",
            "{\"kind\": \"redeem\", \"debit\": \"member\", \"credit\": \"redeemed\","
            " \"points\": 1000, \"member_uid\": \"3-1\"}",
            "2026-01-15T12:05:00Z");
    ship_as(owner, 2, "entry",
            "{\"kind\": \"earn\", \"debit\": \"earned\", \"credit\": \"member\","
            " \"points\": 7, \"member_uid\": \"1-50\"}",
            "2026-01-15T12:06:00Z");
    ship_as(owner, 2, "entry",
            "{\"kind\": \"reverse\", \"debit\": \"member\", \"credit\": \"earned\","
            " \"points\": 7, \"member_uid\": \"1-50\"}",
            "2026-01-15T12:07:00Z");
    o = report_json(owner, "liability");
    assert_true(cell(o, 2, "owed_points") > 0);
    assert_liability_matches_facts(owner, o);
    json_decref(o);
    o = report_json(owner, "redemptions");
    assert_int_equal(cell(o, 1, "points_redeemed"), 5);
    assert_int_equal(cell(o, 0, "points_redeemed"), 0);
    json_decref(o);
    o = report_json(owner, "stores");
    for (int i = 0; i < STORES; i++) {
        assert_int_equal(cell(o, (size_t)i, "sales"), 2 + i);
        assert_int_equal(cell(o, (size_t)i, "members"), 2 + i);
    }
    json_decref(o);
    o = report_json(owner, "multistore");
    rows = json_object_get(o, "rows");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "member")),
                        "1-1");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "store_ids")),
                        "1 2");
    json_decref(o);
    /* the store reports' CSV and SVG writers */
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "report", "liability", "--csv",
                            (char *)NULL),
                     0);
    assert_int_equal(
        strncmp(r.out, "store,members,outstanding_points,owed_points,net_issued\r\n", 56), 0);
    snprintf(svg, sizeof svg, "%s/liability.svg", shops[0].t.dir);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "report", "liability", "--svg",
                            svg, (char *)NULL),
                     0);
    FILE *f = fopen(svg, "r");
    assert_non_null(f);
    char head[256] = "";
    assert_true(fread(head, 1, sizeof head - 1, f) > 0);
    fclose(f);
    assert_non_null(strstr(head, "<svg"));
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "report", "multistore",
                            "--svg", svg, (char *)NULL),
                     64);
    assert_int_equal(
        clirun(&r, "--home", home, "--hq", owner, "hq", "report", "nonsense", (char *)NULL), 3);
    assert_non_null(strstr(r.err, "no head office report is called nonsense"));
    /* the stores list: last sync, lag, program version */
    o = hq_json(owner, "stores", 0);
    json_t *st = json_array_get(json_object_get(o, "stores"), 0);
    assert_true(json_is_string(json_object_get(st, "last_sync")));
    assert_true(json_integer_value(json_object_get(st, "lag_seconds")) >= 0);
    assert_string_equal(json_string_value(json_object_get(st, "program_version")), "none");
    json_decref(o);
    shops_close(shops, STORES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_stores_sell_while_head_office_is_down),
        cmocka_unit_test(immediate_stops_mid_sync_lose_and_repeat_nothing),
        cmocka_unit_test(a_wrong_password_or_address_is_named),
        cmocka_unit_test(a_link_lost_before_the_answer_is_named),
        cmocka_unit_test(verify_names_gaps_and_unsound_entries),
        cmocka_unit_test(conflicts_name_double_spends_and_overdrafts),
        cmocka_unit_test(reports_and_stores_of_the_chain),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
