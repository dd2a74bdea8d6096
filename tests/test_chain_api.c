/* SPDX-License-Identifier: MIT */
/* POST /v1/scan of a card this store does not know, with a head office set (labels api and pg):
 * looked up at head office, kept and answered; with head office unreachable, a 404 whose detail
 * says the card is from another store and the link is down; a sale on a card not yet known is
 * held (202) until it is. Spends through the API are claimed at head office first: two stores'
 * servers spending the same last points at once, one wins. A store out of card numbers is
 * granted a space by head office at enrolment. */
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apiutil.h"
#include "chainutil.h"
#include "clirun.h"

static void scan(int port, const char *token, const char *card, struct apit_reply *r)
{
    char body[64];
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    apit_call(port, "POST", "/v1/scan", token, NULL, body, r);
}

static void the_scan_api_looks_an_unknown_card_up(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], late[14], token[64];
    struct test_store b = {0};
    struct api_server sv;
    struct apit_reply r = {0};
    struct clirun run = {0};
    chain_make("chain_api", owner, url1, url2);
    /* store 2 enrols a member and ships it */
    int n = snprintf(b.dir, sizeof b.dir, "%s/store2", home);
    assert_true(n > 0 && (size_t)n < sizeof b.dir);
    assert_int_equal(mkdir(b.dir, 0700), 0);
    snprintf(b.path, sizeof b.path, "%s/patron.db", b.dir);
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    b.now = TEST_EPOCH;
    patron_store_set_clock(b.s, chain_clock, &b);
    assert_int_equal(patron_store_init(b.s, 2, "Store two"), 0);
    test_enroll(&b, "Flo Visitor", card);
    if (clirun(&run, "--db", b.path, "--home", home, "--hq", url2, "sync", (char *)NULL) != 0)
        fail_msg("sync: %s", run.err);
    /* store 1's counter service, online */
    apit_store_new(&sv);
    apit_terminal(&sv, "till-1", "cashier", token);
    setenv("PATRON_HQ", url1, 1);
    apit_start(&sv, NULL);
    scan(sv.port, token, card, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "name"), "Flo Visitor");
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    /* offline: a card store 2 enrolled later cannot be looked up, and the detail says why */
    test_enroll(&b, "Gil Later", late);
    if (clirun(&run, "--db", b.path, "--home", home, "--hq", url2, "sync", (char *)NULL) != 0)
        fail_msg("sync: %s", run.err);
    setenv("PATRON_HQ", "postgresql://nobody:x@127.0.0.1:1/chain_api", 1);
    apit_start(&sv, NULL);
    scan(sv.port, token, late, &r);
    apit_assert_status(&r, 404, NULL);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "the link to head office is down"));
    apit_reply_free(&r);
    /* the card looked up online is kept: known with head office down */
    scan(sv.port, token, card, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    unsetenv("PATRON_HQ");
    apit_cleanup(&sv);
    patron_store_close(b.s);
}

static void sale(int port, const char *token, const char *card, const char *key,
                 struct apit_reply *r)
{
    char body[128];
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":20000}", card, key);
    apit_call(port, "POST", "/v1/sales", token, key, body, r);
}

/* POST /v1/sales on store 2's card that head office does not know yet (store 2 has not
 * synced): held, 202 with the sentence; sent again, the same reply; once store 2 has synced, the
 * next online look-up of the card (a scan) posts the held sale to the member, once. */
static void the_sale_api_holds_a_sale_on_a_card_not_yet_known(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], token[64];
    struct test_store b = {0};
    struct api_server sv;
    struct apit_reply r = {0}, again = {0};
    struct clirun run = {0};
    chain_make("chain_api_held", owner, url1, url2);
    int n = snprintf(b.dir, sizeof b.dir, "%s/store2-held", home);
    assert_true(n > 0 && (size_t)n < sizeof b.dir);
    assert_int_equal(mkdir(b.dir, 0700), 0);
    snprintf(b.path, sizeof b.path, "%s/patron.db", b.dir);
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    b.now = TEST_EPOCH;
    patron_store_set_clock(b.s, chain_clock, &b);
    assert_int_equal(patron_store_init(b.s, 2, "Store two"), 0);
    test_enroll(&b, "Jo Unsynced", card);
    apit_store_new(&sv);
    apit_terminal(&sv, "till-1", "cashier", token);
    setenv("PATRON_HQ", url1, 1);
    apit_start(&sv, NULL);
    sale(sv.port, token, card, "H-1", &r);
    apit_assert_status(&r, 202, NULL);
    assert_true(json_is_true(json_object_get(r.json, "held")));
    assert_string_equal(apit_jstr(r.json, "card"), card);
    assert_int_equal(apit_jint(r.json, "card_store"), 2);
    int64_t held = apit_jint(r.json, "points_held");
    assert_true(held > 0);
    assert_non_null(strstr(apit_jstr(r.json, "message"), "no store of the chain issued card"));
    assert_non_null(strstr(apit_jstr(r.json, "message"), "held until the card is known"));
    sale(sv.port, token, card, "H-1", &again);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    /* store 2 ships the card; the next scan looks it up and posts the held sale */
    if (clirun(&run, "--db", b.path, "--home", home, "--hq", url2, "sync", (char *)NULL) != 0)
        fail_msg("sync: %s", run.err);
    scan(sv.port, token, card, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "name"), "Jo Unsynced");
    apit_reply_free(&r);
    scan(sv.port, token, card, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    json_t *st = apit_patron(&sv, "--home", home, "sync", "status", (char *)NULL);
    assert_int_equal(json_array_size(json_object_get(st, "held")), 0);
    json_decref(st);
    patron_store *a = NULL;
    assert_int_equal(patron_store_open(sv.db, &a), 0);
    assert_int_equal(test_scalar(a, "SELECT count(*) FROM sales WHERE ref = 'H-1'"), 1);
    assert_int_equal(test_scalar(a, "SELECT sum(points) FROM entries WHERE kind = 'earn'"), held);
    assert_int_equal(test_scalar(a, "SELECT count(*) FROM held_sales WHERE sale_id IS NULL"), 0);
    patron_store_close(a);
    unsetenv("PATRON_HQ");
    apit_cleanup(&sv);
    patron_store_close(b.s);
}

static void sync_db(const char *db, const char *url)
{
    struct clirun run = {0};
    if (clirun(&run, "--db", db, "--home", home, "--hq", url, "sync", (char *)NULL) != 0)
        fail_msg("sync %s: %s", db, run.err);
}

/* POST /v1/rewards/{id}/redeem in a child process; its exit: the HTTP status less 200. */
static pid_t redeem_async(int port, const char *token, const char *reward, const char *card)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char path[64], body[64];
        struct apit_reply r = {0};
        snprintf(path, sizeof path, "/v1/rewards/%s/redeem", reward);
        snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
        if (apit_request(NULL, port, "POST", path, token, "last-points", body, &r) != 0)
            _exit(255);
        if (r.status != 201)
            fprintf(stderr, "redeem: %ld %s\n", r.status, r.body ? r.body : "");
        _exit((int)(r.status - 200));
    }
    return pid;
}

static int64_t points_at(int port, const char *token, const char *card)
{
    char path[64];
    struct apit_reply r = {0};
    snprintf(path, sizeof path, "/v1/members/%s", card);
    apit_call(port, "GET", path, token, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    int64_t points = (int64_t)json_integer_value(json_object_get(r.json, "points"));
    apit_reply_free(&r);
    return points;
}

/* Two stores' counter services redeem the same member's last points at the same moment: both
 * claims wait on the member's balance row at head office (held by the test), then exactly one
 * is answered 201 and the other 409 with head office's sentence; no balance goes below zero. */
static void two_servers_spending_the_last_points_at_once_one_wins(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], card[14], t2[64], t3[64];
    struct test_store a = {0};
    struct api_server b, c;
    struct patron_member m;
    chain_make("chain_spend", owner, url1, url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    /* store 1 enrols a member who earns there */
    int n = snprintf(a.dir, sizeof a.dir, "%s/spend1", home);
    assert_true(n > 0 && (size_t)n < sizeof a.dir);
    assert_int_equal(mkdir(a.dir, 0700), 0);
    snprintf(a.path, sizeof a.path, "%s/patron.db", a.dir);
    assert_int_equal(patron_store_open(a.path, &a.s), 0);
    a.now = TEST_EPOCH;
    patron_store_set_clock(a.s, chain_clock, &a);
    assert_int_equal(patron_store_init(a.s, 1, "Store one"), 0);
    test_enroll(&a, "Ed Lastpoints", card);
    chain_sell(a.s, card, "A-1", 20000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_true(m.points > 0);
    sync_db(a.path, url1);
    /* stores 2 and 3 each offer a reward costing all of it */
    char cost[24];
    snprintf(cost, sizeof cost, "%lld", (long long)m.points);
    apit_store_new_id(&b, 2);
    apit_store_new_id(&c, 3);
    json_t *rb = apit_patron(&b, "reward", "add", "--name", "All of it", "--cost", cost, "--kind",
                             "item", "--value", "1", (char *)NULL);
    json_t *rc = apit_patron(&c, "reward", "add", "--name", "All of it", "--cost", cost, "--kind",
                             "item", "--value", "1", (char *)NULL);
    char idb[24], idc[24];
    snprintf(idb, sizeof idb, "%lld",
             (long long)json_integer_value(json_object_get(rb, "reward_id")));
    snprintf(idc, sizeof idc, "%lld",
             (long long)json_integer_value(json_object_get(rc, "reward_id")));
    json_decref(rb);
    json_decref(rc);
    apit_terminal(&b, "till-b", "cashier", t2);
    apit_terminal(&c, "till-c", "cashier", t3);
    sync_db(b.db, url2);
    sync_db(c.db, url3);
    setenv("PATRON_HQ", url2, 1);
    apit_start(&b, NULL);
    setenv("PATRON_HQ", url3, 1);
    apit_start(&c, NULL);
    unsetenv("PATRON_HQ");
    assert_int_equal(points_at(b.port, t2, card), m.points);
    assert_int_equal(points_at(c.port, t3, card), m.points);
    /* hold the member's balance row so that both claims arrive before either is taken */
    PGconn *lock = PQconnectdb(owner);
    assert_int_equal(PQstatus(lock), CONNECTION_OK);
    PQclear(PQexec(lock, "BEGIN"));
    PGresult *res = PQexec(lock, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"
                                 " FOR UPDATE");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    pid_t pb = redeem_async(b.port, t2, idb, card);
    pid_t pc = redeem_async(c.port, t3, idc, card);
    assert_int_equal(chain_lock_waiters(owner, "chain_spend", 2), 2);
    PQclear(PQexec(lock, "COMMIT"));
    PQfinish(lock);
    int eb = chain_exit_of(pb), ec = chain_exit_of(pc);
    assert_true((eb == 1 && ec == 209) || (eb == 209 && ec == 1));
    struct api_server *winner = eb == 1 ? &b : &c, *loser = eb == 1 ? &c : &b;
    const char *winner_url = eb == 1 ? url2 : url3, *loser_url = eb == 1 ? url3 : url2;
    /* the loser's refusal names head office's reason; nothing is held for it */
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE NOT released"), 1);
    /* after the syncs: zero everywhere, nothing held, nothing below zero */
    sync_db(winner->db, winner_url);
    sync_db(loser->db, loser_url);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     0);
    assert_int_equal(pg_int(owner, "SELECT sum(held) FROM chain_member_stores"), 0);
    assert_int_equal(points_at(b.port, t2, card), 0);
    assert_int_equal(points_at(c.port, t3, card), 0);
    /* a second try at the loser is refused outright by head office: 409 with its sentence */
    struct apit_reply r = {0};
    char path[64], body[64];
    snprintf(path, sizeof path, "/v1/rewards/%s/redeem", loser == &b ? idb : idc);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    apit_call(loser->port, "POST", path, loser == &b ? t2 : t3, "again", body, &r);
    apit_assert_status(&r, 409, NULL);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "head office refused the claim"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&b), 0);
    assert_int_equal(apit_stop(&c), 0);
    apit_cleanup(&b);
    apit_cleanup(&c);
    patron_store_close(a.s);
}

/* The first column of the one row `sql` yields in the store at `db`. */
static int64_t store_int(const char *db, const char *sql)
{
    patron_store *s = NULL;
    assert_int_equal(patron_store_open(db, &s), 0);
    int64_t v = test_scalar(s, sql);
    patron_store_close(s);
    return v;
}

/* With a head office set, POST /v1/vouchers/redeem claims the voucher there first: one another
 * store redeemed is refused with where; head office unreachable, a points spend over the offline
 * member cap is refused with a sentence naming the cap. */
static void the_api_claims_vouchers_and_caps_offline_spends(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], token[64], sql[256];
    struct api_server b;
    struct apit_reply r = {0};
    chain_make("chain_vapi", owner, url1, url2);
    apit_store_new_id(&b, 2);
    apit_member(&b, "Jo Voucher", card);
    json_decref(apit_patron(&b, "sale", card, "--ref", "B-0", "--total", "100000", (char *)NULL));
    json_t *small = apit_patron(&b, "reward", "add", "--name", "Five off", "--cost", "100",
                                "--kind", "amount", "--value", "500", (char *)NULL);
    json_t *big = apit_patron(&b, "reward", "add", "--name", "Big", "--cost", "600", "--kind",
                              "item", "--value", "1", (char *)NULL);
    char small_id[24], big_id[24];
    snprintf(small_id, sizeof small_id, "%lld",
             (long long)json_integer_value(json_object_get(small, "reward_id")));
    snprintf(big_id, sizeof big_id, "%lld",
             (long long)json_integer_value(json_object_get(big, "reward_id")));
    json_decref(small);
    json_decref(big);
    json_t *red = apit_patron(&b, "reward", "redeem", card, small_id, (char *)NULL);
    char vtoken[300];
    snprintf(vtoken, sizeof vtoken, "%s", json_string_value(json_object_get(red, "token")));
    json_decref(red);
    apit_terminal(&b, "till-v", "cashier", token);
    sync_db(b.db, url2);
    /* as if store 1 had redeemed store 2's voucher a moment ago */
    snprintf(sql, sizeof sql,
             "INSERT INTO voucher_claims (key_id, voucher_id, store_id, claim_key)"
             " VALUES (%lld, %lld, 1, 'elsewhere') RETURNING 1",
             (long long)store_int(b.db, "SELECT key_id FROM vouchers"),
             (long long)store_int(b.db, "SELECT voucher_id FROM vouchers"));
    assert_int_equal(pg_int(owner, sql), 1);
    setenv("PATRON_HQ", url2, 1);
    apit_start(&b, NULL);
    char body[512];
    snprintf(body, sizeof body, "{\"token\":\"%s\",\"ref\":\"B-1\"}", vtoken);
    apit_call(b.port, "POST", "/v1/vouchers/redeem", token, "v-1", body, &r);
    apit_assert_status(&r, 409, NULL);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "already redeemed at store 1 at "));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&b), 0);
    /* head office unreachable: 600 points is over the offline member cap (500) */
    setenv("PATRON_HQ", "postgresql://nobody:x@127.0.0.1:1/chain_vapi", 1);
    apit_start(&b, NULL);
    unsetenv("PATRON_HQ");
    char path[64];
    snprintf(path, sizeof path, "/v1/rewards/%s/redeem", big_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    apit_call(b.port, "POST", path, token, "big-1", body, &r);
    apit_assert_status(&r, 409, NULL);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "chain_offline_member_cap"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&b), 0);
    assert_int_equal(store_int(b.db, "SELECT count(*) FROM voucher_redemptions"), 0);
    assert_int_equal(store_int(b.db, "SELECT count(*) FROM redemptions"), 1);
    apit_cleanup(&b);
}

/* A counter service whose store is out of card numbers: head office down, the enrolment is
 * refused (409) and nothing is written; head office up, it grants a space there and then. */
static void the_enrol_api_is_granted_a_space_when_out(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], token[64];
    struct api_server sv;
    struct apit_reply r = {0};
    patron_store *s = NULL;
    chain_make("chain_api_space", owner, url1, url2);
    apit_store_new(&sv);
    apit_terminal(&sv, "till-1", "cashier", token);
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(s), "UPDATE card_spaces SET minted = 137331",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    int64_t members = test_scalar(s, "SELECT count(*) FROM members");
    setenv("PATRON_HQ", "postgresql://nobody:x@127.0.0.1:1/chain_api_space", 1);
    apit_start(&sv, NULL);
    apit_call(sv.port, "POST", "/v1/members", token, NULL, "{\"name\":\"Out Of Luck\"}", &r);
    apit_assert_status(&r, 409, NULL);
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "card numbers"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM members"), members);
    setenv("PATRON_HQ", url1, 1);
    apit_start(&sv, NULL);
    apit_call(sv.port, "POST", "/v1/members", token, NULL, "{\"name\":\"Lucky Now\"}", &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(patron_card_store(apit_jstr(r.json, "card"), NULL), 65535);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    unsetenv("PATRON_HQ");
    assert_int_equal(pg_int(owner, "SELECT store_id FROM card_spaces WHERE space = 65535"), 1);
    patron_store_close(s);
    apit_cleanup(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_scan_api_looks_an_unknown_card_up),
        cmocka_unit_test(the_sale_api_holds_a_sale_on_a_card_not_yet_known),
        cmocka_unit_test(two_servers_spending_the_last_points_at_once_one_wins),
        cmocka_unit_test(the_api_claims_vouchers_and_caps_offline_spends),
        cmocka_unit_test(the_enrol_api_is_granted_a_space_when_out),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
