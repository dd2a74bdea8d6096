/* SPDX-License-Identifier: MIT */
/* `patron serve --hq URL` against a throwaway PostgreSQL (labels api and pg): a thread ships the
 * outbox to head office in the background, every row exactly once; /v1/health has a `sync`
 * object and /metrics the sync's lag, pending rows and last success. With head office stopped,
 * sales keep succeeding, the health says why the sync fails in a sentence, the lag grows, and
 * after the restart everything arrives exactly once. A sale is shipped soon after its commit
 * without a pull (the pulls counted in /metrics), and the pull runs on its own schedule: a
 * member enrolled at another store arrives with no sale here. A link head office dropped is
 * replaced within the round. A store without a head office shows none of it. Every wait is for a
 * state, with a generous deadline, never for a time. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apiutil.h"
#include "patron/chain.h"
#include "pgutil.h"
#include "testutil.h"

#define WAIT_S 120

static struct pg_cluster pg;
static char home[256];

static int group_setup(void **state)
{
    (void)state;
    return pg_suite_start(&pg, "patron-api-sync", home, sizeof home);
}

static int group_teardown(void **state)
{
    (void)state;
    pg_suite_stop(&pg, home);
    return 0;
}

/* A head office in database `name` with store 1 registered; the owner's URL into owner and the
 * store's own into url. */
static void chain(struct api_server *sv, const char *name, char *owner, size_t olen, char *url,
                  size_t ulen)
{
    assert_int_equal(pg_cluster_createdb(&pg, name, owner, olen), 0);
    json_decref(apit_patron(sv, "--home", sv->dir, "--hq", owner, "hq", "init", (char *)NULL));
    json_t *o = apit_patron(sv, "--home", sv->dir, "--hq", owner, "hq", "store", "add", "1",
                            "--name", "Shop", (char *)NULL);
    snprintf(url, ulen, "%s", apit_jstr(o, "url"));
    json_decref(o);
}

static json_t *health(int port)
{
    struct apit_reply r;
    apit_call(port, "GET", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *o = json_incref(r.json);
    apit_reply_free(&r);
    return o;
}

/* The value of a metric without labels in /metrics, -1 when it is not there. */
static long long metric(int port, const char *name)
{
    struct apit_reply r;
    char key[128];
    apit_call(port, "GET", "/metrics", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(r.body, key);
    long long v = at ? strtoll(at + strlen(key), NULL, 10) : -1;
    apit_reply_free(&r);
    return v;
}

/* Waits until the health's sync object is in `state` with `pending` rows (-1: more than 0). */
static json_t *wait_sync(int port, const char *state, int pending)
{
    for (int i = 0; i < WAIT_S * 10; i++) {
        json_t *h = health(port);
        json_t *sync = json_object_get(h, "sync");
        assert_non_null(sync);
        int64_t p = json_integer_value(json_object_get(sync, "pending"));
        if (strcmp(apit_jstr(sync, "state"), state) == 0 && (pending < 0 ? p > 0 : p == pending))
            return h;
        json_decref(h);
        usleep(100 * 1000);
    }
    fail_msg("the sync never reached state %s with pending %d", state, pending);
    return NULL;
}

/* Waits until head office has acknowledged every row the store has committed so far. The
 * health's state and pending count are those of the sync's last round, which may have ended
 * before the latest sale: waiting on them alone could pass before that sale is shipped. */
static json_t *wait_shipped(struct api_server *sv)
{
    json_t *st = apit_patron(sv, "sync", "status", (char *)NULL);
    json_int_t last = apit_jint(st, "last_seq");
    json_decref(st);
    for (int i = 0; i < WAIT_S * 10; i++) {
        json_t *h = health(sv->port);
        json_t *sync = json_object_get(h, "sync");
        assert_non_null(sync);
        if (strcmp(apit_jstr(sync, "state"), "ok") == 0 &&
            json_integer_value(json_object_get(sync, "acked_seq")) >= last)
            return h;
        json_decref(h);
        usleep(100 * 1000);
    }
    fail_msg("head office never acknowledged store_seq %lld", (long long)last);
    return NULL;
}

static void sell(int port, const char *token, const char *card, const char *ref)
{
    char body[256];
    struct apit_reply r;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":1250}", card, ref);
    apit_call(port, "POST", "/v1/sales", token, ref, body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
}

/* Head office holds rows 1..last of store 1, each once; last is the store's outbox. */
static void assert_hq_holds_store(struct api_server *sv, const char *owner)
{
    json_t *st = apit_patron(sv, "sync", "status", (char *)NULL);
    long long last = (long long)apit_jint(st, "last_seq");
    json_decref(st);
    assert_true(last > 0);
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT count(*), count(DISTINCT store_seq),"
                                 " coalesce(min(store_seq), 0), coalesce(max(store_seq), 0)"
                                 " FROM facts WHERE store_id = 1");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int col = 0; col < 4; col++)
        assert_int_equal(strtoll(PQgetvalue(res, 0, col), NULL, 10), col == 2 ? 1 : last);
    PQclear(res);
    PQfinish(conn);
}

/* A store of the chain with a cashier's till and a member, its service started with --hq and
 * --sync-interval `interval`, after the first round, which runs at start. */
struct shop {
    struct api_server sv;
    char owner[512], url[1024], token[64], card[14];
};

static void shop_open(struct shop *sh, const char *name, const char *interval)
{
    apit_store_new(&sh->sv);
    chain(&sh->sv, name, sh->owner, sizeof sh->owner, sh->url, sizeof sh->url);
    apit_terminal(&sh->sv, "till-1", "cashier", sh->token);
    apit_member(&sh->sv, "Ada", sh->card);
    apit_start(&sh->sv, "--hq", sh->url, "--sync-interval", interval, (char *)NULL);
    json_decref(wait_sync(sh->sv.port, "ok", 0));
}

static void serve_ships_in_the_background(void **state)
{
    (void)state;
    struct shop sh;
    char ref[32];
    shop_open(&sh, "api_sync_bg", "3600");
    /* each sale's commit wakes the next round (the interval is an hour) */
    for (int i = 0; i < 5; i++) {
        snprintf(ref, sizeof ref, "bg-%d", i);
        sell(sh.sv.port, sh.token, sh.card, ref);
    }
    json_t *h = wait_shipped(&sh.sv);
    json_t *sync = json_object_get(h, "sync");
    assert_true(json_is_string(json_object_get(sync, "last_success")));
    assert_true(json_is_null(json_object_get(sync, "last_error")));
    assert_int_equal(json_integer_value(json_object_get(sync, "lag_seconds")), 0);
    json_decref(h);
    assert_hq_holds_store(&sh.sv, sh.owner);
    assert_int_equal(metric(sh.sv.port, "patron_sync_pending_rows"), 0);
    assert_int_equal(metric(sh.sv.port, "patron_sync_lag_seconds"), 0);
    assert_int_equal(metric(sh.sv.port, "patron_sync_failing"), 0);
    assert_true(metric(sh.sv.port, "patron_sync_last_success_timestamp_seconds") > 1700000000LL);
    assert_int_equal(apit_stop(&sh.sv), 0);
    apit_cleanup(&sh.sv);
}

/* The sync thread ships each sale soon after its commit and pulls only on its own schedule: with
 * an interval of an hour, five sales reach head office through rounds that pull nothing (the
 * first round, at start, is the only whole sync). Before shipping and pulling were apart, every
 * round after a commit also pulled. */
static void serve_ships_sales_without_pulling(void **state)
{
    (void)state;
    struct shop sh;
    char ref[32];
    shop_open(&sh, "api_sync_ship", "3600");
    assert_int_equal(metric(sh.sv.port, "patron_sync_pulls_total"), 1);
    long long rounds = metric(sh.sv.port, "patron_sync_rounds_total");
    for (int i = 0; i < 5; i++) {
        snprintf(ref, sizeof ref, "ship-%d", i);
        sell(sh.sv.port, sh.token, sh.card, ref);
    }
    json_decref(wait_shipped(&sh.sv));
    assert_hq_holds_store(&sh.sv, sh.owner); /* shipped ... */
    assert_true(metric(sh.sv.port, "patron_sync_rounds_total") > rounds);
    assert_int_equal(metric(sh.sv.port, "patron_sync_pulls_total"), 1); /* ... and nothing pulled */
    assert_int_equal(metric(sh.sv.port, "patron_sync_failures_total"), 0);
    assert_int_equal(apit_stop(&sh.sv), 0);
    apit_cleanup(&sh.sv);
}

/* Ends every head office session of the stores (what a restart or a cut link does to them). */
static void drop_store_links(const char *owner)
{
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                 " WHERE datname = current_database() AND usename <> current_user");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_true(strtoll(PQgetvalue(res, 0, 0), NULL, 10) > 0);
    PQclear(res);
    PQfinish(conn);
}

/* Head office dropped the sync's link between two rounds: the next round finds it broken, makes
 * a new one and ships on it, so no round fails and no failure is reported. */
static void a_dropped_link_is_replaced_within_the_round(void **state)
{
    (void)state;
    struct shop sh;
    shop_open(&sh, "api_sync_drop", "3600");
    drop_store_links(sh.owner);
    sell(sh.sv.port, sh.token, sh.card, "drop-1");
    json_decref(wait_shipped(&sh.sv));
    assert_hq_holds_store(&sh.sv, sh.owner);
    assert_int_equal(metric(sh.sv.port, "patron_sync_failures_total"), 0);
    assert_int_equal(apit_stop(&sh.sv), 0);
    apit_cleanup(&sh.sv);
}

/* A second store (id 2) in a directory of its own, registered at head office; its URL in url. */
static void second_store(struct api_server *sv, const char *owner, char *url, size_t ulen)
{
    const char *tmp = getenv("TMPDIR");
    memset(sv, 0, sizeof *sv);
    snprintf(sv->dir, sizeof sv->dir, "%s/patron-api-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(sv->dir));
    snprintf(sv->db, sizeof sv->db, "%s/patron.db", sv->dir);
    snprintf(sv->log, sizeof sv->log, "%s/serve.log", sv->dir);
    json_decref(apit_patron(sv, "init", "--store-id", "2", (char *)NULL));
    json_t *o = apit_patron(sv, "--home", sv->dir, "--hq", owner, "hq", "store", "add", "2",
                            "--name", "Other shop", (char *)NULL);
    snprintf(url, ulen, "%s", apit_jstr(o, "url"));
    json_decref(o);
}

/* Waits until the store at `db` knows `card` (pulled from head office, not looked up). */
static void wait_card_known(const char *db, const char *card)
{
    patron_store *s = NULL;
    char uid[64];
    int64_t points = 0;
    assert_int_equal(patron_store_open(db, &s), 0);
    for (int i = 0; i < WAIT_S * 10; i++) {
        if (patron_chain_member_of_card(s, card, uid, sizeof uid, &points) == 0) {
            patron_store_close(s);
            return;
        }
        usleep(100 * 1000);
    }
    patron_store_close(s);
    fail_msg("card %s never arrived at the store", card);
}

/* With no sale at this store, what changed at head office still arrives on the pull's schedule
 * (--sync-interval): a member another store enrolled and synced. */
static void serve_pulls_on_its_schedule(void **state)
{
    (void)state;
    struct api_server sv, other;
    char owner[512], url[1024], url2[1024], card[14];
    apit_store_new(&sv);
    chain(&sv, "api_sync_pull", owner, sizeof owner, url, sizeof url);
    second_store(&other, owner, url2, sizeof url2);
    apit_start(&sv, "--hq", url, "--sync-interval", "1", (char *)NULL);
    json_decref(wait_sync(sv.port, "ok", 0));
    long long pulls = metric(sv.port, "patron_sync_pulls_total");
    apit_member(&other, "Eve", card);
    json_decref(apit_patron(&other, "--hq", url2, "sync", (char *)NULL));
    wait_card_known(sv.db, card);
    /* the round that pulled it counts its pull when the round ends, a moment after */
    for (int i = 0; i < WAIT_S * 10 && metric(sv.port, "patron_sync_pulls_total") <= pulls; i++)
        usleep(100 * 1000);
    assert_true(metric(sv.port, "patron_sync_pulls_total") > pulls);
    assert_int_equal(apit_stop(&sv), 0);
    apit_cleanup(&other);
    apit_cleanup(&sv);
}

static void head_office_down_sales_go_on(void **state)
{
    (void)state;
    struct shop sh;
    char ref[32];
    shop_open(&sh, "api_sync_down", "1");
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(ref, sizeof ref, "down-%d", i);
        sell(sh.sv.port, sh.token, sh.card, ref); /* the store keeps selling */
    }
    json_t *h = wait_sync(sh.sv.port, "failing", -1);
    assert_non_null(strstr(apit_jstr(json_object_get(h, "sync"), "last_error"),
                           "cannot reach the head office at 127.0.0.1:"));
    json_decref(h);
    assert_true(metric(sh.sv.port, "patron_sync_pending_rows") > 0);
    assert_int_equal(metric(sh.sv.port, "patron_sync_failing"), 1);
    /* the oldest row waits: two seconds later it is at least two seconds old */
    sleep(2);
    assert_true(metric(sh.sv.port, "patron_sync_lag_seconds") >= 2);
    /* `patron sync status` says it too, from the store */
    json_t *st = apit_patron(&sh.sv, "sync", "status", (char *)NULL);
    assert_non_null(strstr(apit_jstr(st, "last_error"), "cannot reach the head office"));
    json_decref(st);
    assert_int_equal(pg_cluster_resume(&pg), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(ref, sizeof ref, "after-%d", i);
        sell(sh.sv.port, sh.token, sh.card, ref);
    }
    json_decref(wait_shipped(&sh.sv));
    assert_int_equal(metric(sh.sv.port, "patron_sync_lag_seconds"), 0);
    assert_hq_holds_store(&sh.sv, sh.owner);
    assert_int_equal(apit_stop(&sh.sv), 0);
    apit_cleanup(&sh.sv);
}

static void no_head_office_no_sync(void **state)
{
    (void)state;
    struct api_server sv;
    apit_store_new(&sv);
    apit_start(&sv, (char *)NULL);
    json_t *h = health(sv.port);
    assert_null(json_object_get(h, "sync"));
    json_decref(h);
    assert_int_equal(metric(sv.port, "patron_sync_pending_rows"), -1);
    assert_int_equal(apit_stop(&sv), 0);
    apit_cleanup(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serve_ships_in_the_background),
        cmocka_unit_test(serve_ships_sales_without_pulling),
        cmocka_unit_test(serve_pulls_on_its_schedule),
        cmocka_unit_test(head_office_down_sales_go_on),
        cmocka_unit_test(a_dropped_link_is_replaced_within_the_round),
        cmocka_unit_test(no_head_office_no_sync),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
