/* SPDX-License-Identifier: MIT */
/* The back office's chain screen (labels api and pg): GET /v1/chain at each store of a chain of
 * three, two of which sold and redeemed the same voucher (a double spend): both see every store
 * and that conflict with its sentence, the third sees the stores but not the conflict; a
 * cashier is refused (403); without a head office the reply says the store is not in a chain;
 * with head office stopped, 503 with a sentence. At head office, what a store's role reads
 * through hq_chain_stores() names no role, and the whole chain's conflicts stay the owner's. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiutil.h"
#include "chainutil.h"
#include "clirun.h"

static void sync_db(const char *db, const char *url)
{
    struct clirun run = {0};
    if (clirun(&run, "--db", db, "--home", home, "--hq", url, "sync", (char *)NULL) != 0)
        fail_msg("sync %s: %s", db, run.err);
}

/* A member's sale at store `id`, and voucher 1/77 redeemed there offline: the outbox row the
 * store's offline redemption ships (its voucher being redeemed at another store too). */
static void sell_and_redeem(struct api_server *sv, int id, const char *ref)
{
    struct test_store t = {0};
    char card[14], sql[512];
    assert_int_equal(patron_store_open(sv->db, &t.s), 0);
    t.now = TEST_EPOCH;
    patron_store_set_clock(t.s, chain_clock, &t);
    test_enroll(&t, "Chain Buyer", card);
    chain_sell(t.s, card, ref, 5000);
    snprintf(sql, sizeof sql,
             "INSERT INTO outbox (store_id, kind, tbl, row_key, member_id, payload, recorded_at)"
             " VALUES (%d, 'voucher_redeemed', 'voucher_redemptions', 77, NULL,"
             " '{\"key_id\": 1, \"voucher_id\": 77, \"value\": 500, \"offline\": 1,"
             " \"redeemed_at\": %lld}', %lld)",
             id, (long long)TEST_EPOCH + id * 60, (long long)TEST_EPOCH + id * 60);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), sql, NULL, NULL, NULL), SQLITE_OK);
    patron_store_close(t.s);
}

static void chain_get(struct api_server *sv, const char *token, struct apit_reply *r)
{
    apit_call(sv->port, "GET", "/v1/chain", token, NULL, NULL, r);
}

/* The stores of a reply: ids 1, 2 and 3 with their names, and no role or secret. */
static void assert_three_stores(json_t *reply)
{
    json_t *stores = json_object_get(reply, "stores"), *st;
    size_t i;
    assert_int_equal(json_array_size(stores), 3);
    json_array_foreach(stores, i, st)
    {
        assert_int_equal(apit_jint(st, "store_id"), (int64_t)i + 1);
        assert_string_equal(apit_jstr(st, "name"), "Chain shop");
        assert_null(json_object_get(st, "role"));
        assert_non_null(json_object_get(st, "last_sync"));
        assert_non_null(json_object_get(st, "program_version"));
    }
    char *text = json_dumps(stores, 0);
    assert_null(strstr(text, "_store_"));
    assert_null(strstr(text, "password"));
    free(text);
}

/* Store `id`'s GET /v1/chain: the three stores, its sync, and the double spend when it took part
 * in it (with the sentence `patron hq conflicts` prints). */
static void assert_chain_at(struct api_server *sv, const char *url, int id, int involved)
{
    char manager[64];
    struct apit_reply r = {0};
    apit_terminal(sv, "office", "manager", manager);
    apit_start(sv, "--hq", url, (char *)NULL);
    chain_get(sv, manager, &r);
    apit_assert_status(&r, 200, NULL);
    assert_true(json_is_true(json_object_get(r.json, "in_chain")));
    assert_int_equal(apit_jint(r.json, "store_id"), id);
    assert_three_stores(r.json);
    assert_true(json_is_object(json_object_get(r.json, "sync")));
    json_t *conflicts = json_object_get(r.json, "conflicts");
    assert_int_equal(json_array_size(conflicts), involved ? 1 : 0);
    if (involved) {
        json_t *k = json_array_get(conflicts, 0);
        assert_string_equal(apit_jstr(k, "type"), "double_spend");
        assert_string_equal(apit_jstr(k, "voucher"), "1/77");
        assert_int_equal(json_array_size(json_object_get(k, "uses")), 2);
        assert_non_null(
            strstr(apit_jstr(k, "sentence"),
                   "double spend: voucher 1/77 (value 500) redeemed 2 times: store 1 at "));
        assert_non_null(strstr(apit_jstr(k, "sentence"), "; store 2 at "));
    }
    apit_reply_free(&r);
    assert_int_equal(apit_stop(sv), 0);
}

static void the_chain_screen_shows_each_store_its_conflicts(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024];
    struct api_server sv[3];
    const char *urls[3] = {url1, url2, url3};
    chain_make("chain_screen", owner, url1, url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    for (int i = 0; i < 3; i++)
        apit_store_new_id(&sv[i], i + 1);
    sell_and_redeem(&sv[0], 1, "S1-1");
    sell_and_redeem(&sv[1], 2, "S2-1");
    for (int i = 0; i < 3; i++)
        sync_db(sv[i].db, urls[i]);
    /* the two stores of the double spend see it; the third does not */
    assert_chain_at(&sv[0], url1, 1, 1);
    assert_chain_at(&sv[1], url2, 2, 1);
    assert_chain_at(&sv[2], url3, 3, 0);
    /* head office: a store's role reads every store without a role name, its own conflicts
     * only, and not the chain's conflicts as a whole; the owner has no store's conflicts */
    assert_int_equal(pg_int(url3, "SELECT count(*) FROM hq_chain_stores()"), 3);
    assert_int_equal(pg_int(url3, "SELECT count(*) FROM hq_chain_stores() t"
                                  " WHERE row_to_json(t)::text LIKE '%\\_store\\_%'"),
                     0);
    assert_int_equal(pg_int(url1, "SELECT count(DISTINCT ref) FROM hq_chain_conflicts()"), 1);
    assert_int_equal(pg_int(url3, "SELECT count(*) FROM hq_chain_conflicts()"), 0);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM hq_chain_conflicts()"), 0);
    assert_int_equal(chain_exec_as(url1, "SELECT * FROM hq_conflict_rows()"), PATRON_EFORBIDDEN);
    /* row-level security still keeps each store to its own facts */
    assert_int_equal(pg_int(url1, "SELECT count(*) FROM facts WHERE store_id <> 1"), 0);
    assert_true(pg_int(url1, "SELECT count(*) FROM facts") > 0);
    for (int i = 0; i < 3; i++)
        apit_cleanup(&sv[i]);
}

/* A cashier is refused; without a head office, "not in a chain"; with head office stopped, 503
 * with the sentence (and the store still sells). */
static void the_chain_screen_refuses_cashiers_and_says_when_it_cannot_read(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], manager[64], cashier[64];
    struct api_server sv;
    struct apit_reply r = {0};
    chain_make("chain_screen_down", owner, url1, url2);
    apit_store_new_id(&sv, 1);
    apit_terminal(&sv, "office", "manager", manager);
    apit_terminal(&sv, "till", "cashier", cashier);
    apit_start(&sv, NULL);
    chain_get(&sv, cashier, &r);
    apit_assert_status(&r, 403, NULL);
    apit_reply_free(&r);
    chain_get(&sv, manager, &r);
    apit_assert_status(&r, 200, NULL);
    assert_false(json_is_true(json_object_get(r.json, "in_chain")));
    assert_null(json_object_get(r.json, "stores"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    apit_start(&sv, "--hq", url1, (char *)NULL);
    chain_get(&sv, cashier, &r);
    apit_assert_status(&r, 403, NULL);
    apit_reply_free(&r);
    chain_get(&sv, manager, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    chain_get(&sv, manager, &r);
    apit_assert_status(&r, 503, NULL);
    const char *detail = apit_jstr(r.json, "detail");
    assert_int_equal(strncmp(detail, "Head office cannot be reached: ", 31), 0);
    assert_non_null(strstr(detail, "; the store keeps selling."));
    apit_reply_free(&r);
    assert_int_equal(pg_cluster_resume(&pg), 0);
    chain_get(&sv, manager, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    apit_cleanup(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_chain_screen_shows_each_store_its_conflicts),
        cmocka_unit_test(the_chain_screen_refuses_cashiers_and_says_when_it_cannot_read),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
