/* SPDX-License-Identifier: MIT */
/* `patron serve` keeps its head office links open for online claims (labels api and pg): many
 * redemptions through the API log in at head office at most as many times as the service keeps
 * links (and its sync thread's), counted in PostgreSQL's own log of connections; a link
 * broken by a head office restart is dropped and the claim retried on a fresh one, online; with
 * head office stopped the spend takes the offline path with its sentence. And the pool itself:
 * threads sharing it never open more links than its bound. */
#include <jansson.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiutil.h"
#include "chainutil.h"
#include "clirun.h"
#include "link_pool.h"
#include "patron/error.h"

#define REDEMPTIONS 20

/* Runs `sql` as the cluster's superuser; fails the test when refused. */
static void superuser(const char *sql)
{
    char url[512];
    pg_cluster_url(&pg, "postgres", "postgres", NULL, url, sizeof url);
    PGconn *c = PQconnectdb(url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
    PQfinish(c);
}

/* How many logins of `role` at database `db` the server's log holds. */
static int64_t logins(const char *role, const char *db)
{
    char path[512], want[256], line[2048];
    snprintf(path, sizeof path, "%s/server.log", pg.base);
    snprintf(want, sizeof want, "connection authorized: user=%s database=%s", role, db);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int64_t n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, want) != NULL;
    fclose(f);
    return n;
}

static int64_t store_int(const char *db, const char *sql)
{
    patron_store *s = NULL;
    assert_int_equal(patron_store_open(db, &s), 0);
    int64_t v = test_scalar(s, sql);
    patron_store_close(s);
    return v;
}

/* POST /v1/rewards/{reward}/redeem of `card` with idempotency key `key`: 201 expected. */
static void redeem(const struct api_server *sv, const char *token, const char *reward,
                   const char *card, const char *key)
{
    char path[64], body[64];
    struct apit_reply r = {0};
    snprintf(path, sizeof path, "/v1/rewards/%s/redeem", reward);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    apit_call(sv->port, "POST", path, token, key, body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
}

/* The serve log holds `text`. */
static int serve_log_has(const struct api_server *sv, const char *text)
{
    char line[2048];
    int found = 0;
    FILE *f = fopen(sv->log, "r");
    assert_non_null(f);
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void the_service_keeps_head_office_links_for_its_claims(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], token[64], role[128], key[32];
    struct api_server b;
    chain_make("chain_pool", owner, url1, url2);
    snprintf(role, sizeof role, "%s", pg_text(url2, "SELECT session_user"));
    superuser("ALTER SYSTEM SET log_connections = on");
    superuser("SELECT pg_reload_conf()");
    for (int i = 0; i < 200 && strcmp(pg_text(owner, "SHOW log_connections"), "on") != 0; i++)
        usleep(50000); /* the server reloads its settings a moment later */
    assert_string_equal(pg_text(owner, "SHOW log_connections"), "on");
    apit_store_new_id(&b, 2);
    apit_member(&b, "Pat Pooled", card);
    json_decref(apit_patron(&b, "sale", card, "--ref", "P-0", "--total", "100000", (char *)NULL));
    json_t *rw = apit_patron(&b, "reward", "add", "--name", "A sip", "--cost", "1", "--kind",
                             "item", "--value", "1", (char *)NULL);
    char reward[24];
    snprintf(reward, sizeof reward, "%lld",
             (long long)json_integer_value(json_object_get(rw, "reward_id")));
    json_decref(rw);
    apit_terminal(&b, "till-p", "cashier", token);
    struct clirun run = {0};
    if (clirun(&run, "--db", b.db, "--home", home, "--hq", url2, "sync", (char *)NULL) != 0)
        fail_msg("sync: %s", run.err);
    int64_t before = logins(role, "chain_pool");
    setenv("PATRON_HQ", url2, 1);
    apit_start(&b, "--hq-links", "2", (char *)NULL);
    unsetenv("PATRON_HQ");
    for (int i = 0; i < REDEMPTIONS; i++) {
        snprintf(key, sizeof key, "pool-%d", i);
        redeem(&b, token, reward, card, key);
    }
    /* every claim reached head office, over at most the pool's 2 links; the sync thread logs in
     * too (once, and again after a failed sync: 3 are allowed it), a login per claim would be 20 */
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims"), REDEMPTIONS);
    int64_t seen = logins(role, "chain_pool") - before;
    assert_true(seen >= 1);
    assert_true(seen <= 2 + 3);
    /* head office restarted: the kept link is broken; the claim is retried on a fresh one */
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    assert_int_equal(pg_cluster_resume(&pg), 0);
    redeem(&b, token, reward, card, "after-restart");
    assert_int_equal(
        pg_int(owner, "SELECT count(*) FROM chain_claims WHERE claim_key LIKE '%/after-restart'"),
        1);
    assert_int_equal(store_int(b.db, "SELECT count(*) FROM offline_spends"), 0);
    /* head office stopped: the spend goes ahead offline, with the sentence saying so */
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    redeem(&b, token, reward, card, "while-down");
    assert_int_equal(pg_cluster_resume(&pg), 0);
    assert_int_equal(apit_stop(&b), 0);
    assert_int_equal(store_int(b.db, "SELECT count(*) FROM offline_spends"), 1);
    assert_true(serve_log_has(&b, "spending against the last synced chain balance"));
    assert_true(serve_log_has(&b, "cannot reach the head office"));
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims"), REDEMPTIONS + 1);
    superuser("ALTER SYSTEM RESET log_connections");
    superuser("SELECT pg_reload_conf()");
    apit_cleanup(&b);
}

struct claimer {
    patron_hq_pool *pool;
    int id, failed;
};

static void *claimer_main(void *arg)
{
    struct claimer *c = arg;
    char key[32], detail[512];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "t%d-%d", c->id, i);
        c->failed += patron_hq_pool_claim(c->pool, "9-9", 1, 1000, key, detail, sizeof detail) != 0;
    }
    return NULL;
}

/* Four threads make ten claims each through a pool of two links: two logins at most, every claim
 * taken; after a restart the broken link is retried once; head office stopped, the sentence of
 * a failed connection. */
static void the_pool_shares_a_bounded_number_of_links(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], detail[512];
    struct claimer cl[4];
    pthread_t th[4];
    patron_hq_pool *pool = NULL;
    struct patron_hq_pool_stats st;
    chain_make("chain_pool_lib", owner, url1, url2);
    assert_int_equal(patron_hq_pool_open(url1, 2, 300, &pool), 0);
    for (int i = 0; i < 4; i++) {
        cl[i] = (struct claimer){.pool = pool, .id = i};
        assert_int_equal(pthread_create(&th[i], NULL, claimer_main, &cl[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(cl[i].failed, 0);
    }
    patron_hq_pool_stats(pool, &st);
    assert_true(st.connects >= 1 && st.connects <= 2);
    assert_true(st.open <= 2);
    assert_int_equal(st.connects + st.reuses, 40);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims"), 40);
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    assert_int_equal(pg_cluster_resume(&pg), 0);
    assert_int_equal(patron_hq_pool_claim(pool, "9-9", 1, 1000, "after", detail, sizeof detail), 0);
    patron_hq_pool_stats(pool, &st);
    assert_int_equal(st.retries, 1);
    assert_true(st.dropped >= 1);
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    assert_int_equal(patron_hq_pool_claim(pool, "9-9", 1, 1000, "down", detail, sizeof detail),
                     PATRON_EDB);
    assert_non_null(strstr(detail, "cannot reach the head office"));
    assert_int_equal(pg_cluster_resume(&pg), 0);
    patron_hq_pool_close(pool);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_pool_shares_a_bounded_number_of_links),
        cmocka_unit_test(the_service_keeps_head_office_links_for_its_claims),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
