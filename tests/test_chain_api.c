/* SPDX-License-Identifier: MIT */
/* POST /v1/scan of a card this store does not know, with a head office set (labels api and pg):
 * looked up at head office, kept and answered; with head office unreachable, a 404 whose detail
 * says the card is from another store and the link is down. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apiutil.h"
#include "clirun.h"
#include "pgutil.h"

static struct pg_cluster pg;
static char home[256];

static int group_setup(void **state)
{
    (void)state;
    return pg_suite_start(&pg, "patron-chain-api", home, sizeof home);
}

static int group_teardown(void **state)
{
    (void)state;
    pg_suite_stop(&pg, home);
    return 0;
}

static int64_t fixed_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

static void store_add(const char *owner, const char *id, char *url, size_t len)
{
    struct clirun r = {0};
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", id, "--name",
               "Chain shop", (char *)NULL) != 0)
        fail_msg("store add %s: %s", id, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(url, len, "%s", json_string_value(json_object_get(o, "url")));
    json_decref(o);
}

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
    assert_int_equal(pg_cluster_createdb(&pg, "chain_api", owner, sizeof owner), 0);
    assert_int_equal(clirun(&run, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    store_add(owner, "1", url1, sizeof url1);
    store_add(owner, "2", url2, sizeof url2);
    /* store 2 enrols a member and ships it */
    int n = snprintf(b.dir, sizeof b.dir, "%s/store2", home);
    assert_true(n > 0 && (size_t)n < sizeof b.dir);
    assert_int_equal(mkdir(b.dir, 0700), 0);
    snprintf(b.path, sizeof b.path, "%s/patron.db", b.dir);
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    b.now = TEST_EPOCH;
    patron_store_set_clock(b.s, fixed_clock, &b);
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
    assert_int_equal(pg_cluster_createdb(&pg, "chain_api_held", owner, sizeof owner), 0);
    assert_int_equal(clirun(&run, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    store_add(owner, "1", url1, sizeof url1);
    store_add(owner, "2", url2, sizeof url2);
    int n = snprintf(b.dir, sizeof b.dir, "%s/store2-held", home);
    assert_true(n > 0 && (size_t)n < sizeof b.dir);
    assert_int_equal(mkdir(b.dir, 0700), 0);
    snprintf(b.path, sizeof b.path, "%s/patron.db", b.dir);
    assert_int_equal(patron_store_open(b.path, &b.s), 0);
    b.now = TEST_EPOCH;
    patron_store_set_clock(b.s, fixed_clock, &b);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_scan_api_looks_an_unknown_card_up),
        cmocka_unit_test(the_sale_api_holds_a_sale_on_a_card_not_yet_known),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
