/* SPDX-License-Identifier: MIT */
/* Refunds that take points back, at a chain store (issue 11; labels api and pg): online, `patron
 * refund` and POST /v1/refunds claim the reversal at head office before the write. Under the
 * clamp policy head office grants at most what the member holds in the chain, so a refund at one
 * store while another spends the same points never leaves the chain balance below zero; the
 * rest is the refund's shortfall. Under the negative policy the whole reversal is claimed and
 * held, even below zero. Head office unreachable, the refund is never refused: it takes back
 * what the store knows, marked offline, and an overdraft it causes is an offline_overdraft in
 * `patron hq conflicts`. The same refund sent again claims nothing twice. A claimed debit's hold
 * (a refund's, an adjustment's) is given back once its entry reaches head office. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiutil.h"
#include "chainutil.h"
#include "clirun.h"

#define NOW "2026-01-15T11:00:00Z" /* an hour after TEST_EPOCH, the stores' clock */
#define DEAD "postgresql://nobody:x@127.0.0.1:1/chain_refund"

/* Two stores of head office `db`: a member of store 1 (card) with 600 points from sale A-1,
 * store 2 offering a reward of 500 points (*reward), both synced. */
static void setup(const char *db, const char *policy, char *owner, char *url1, char *url2,
                  struct test_store *a, struct test_store *b, char *card, int64_t *reward)
{
    struct patron_member m;
    chain_make(db, owner, url1, url2);
    chain_store_open(a, 1);
    chain_store_open(b, 2);
    assert_int_equal(patron_program_set(a->s, "refund_policy", policy, "test"), 0);
    struct patron_reward_def def = {.name = "Most of it", .cost = 500, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b->s, &def, reward), 0);
    test_enroll(a, "Rae Refund", card);
    chain_sell(a->s, card, "A-1", 60000);
    assert_int_equal(patron_member_by_card(a->s, card, &m), 0);
    assert_int_equal(m.points, 600);
    chain_sync_ok(a, url1, NOW);
    chain_sync_ok(b, url2, NOW);
}

/* `patron reward redeem CARD REWARD` at store t with head office `url`: its exit status. */
static int spend(const struct test_store *t, const char *url, const char *card, int64_t reward,
                 struct clirun *r)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)reward);
    memset(r, 0, sizeof *r);
    return clirun(r, "--db", t->path, "--home", home, "--hq", url, "--now", NOW, "reward", "redeem",
                  card, id, (char *)NULL);
}

/* `patron --json refund --ref REF --return-ref RR` at store t: its JSON answer (the test fails
 * unless it exits 0). */
static json_t *refund(const struct test_store *t, const char *url, const char *ref, const char *rr,
                      struct clirun *r)
{
    memset(r, 0, sizeof *r);
    if (clirun(r, "--json", "--db", t->path, "--home", home, "--hq", url, "--now", NOW, "refund",
               "--ref", ref, "--return-ref", rr, (char *)NULL) != 0)
        fail_msg("refund %s: %s", rr, r->err);
    json_t *o = json_loads(r->out, 0, NULL);
    assert_non_null(o);
    return o;
}

static int64_t jint(json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

/* `patron hq verify --json`: it must pass; *overdrafts and *offline receive its counts. */
static void verify_ok(const char *owner, int64_t *overdrafts, int64_t *offline)
{
    struct clirun r = {0};
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "verify", (char *)NULL) != 0)
        fail_msg("hq verify: %s %s", r.out, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    *overdrafts = jint(o, "overdrafts");
    *offline = jint(o, "offline_overdrafts");
    json_decref(o);
}

#define CHAIN_BALANCE "SELECT points FROM chain_balances WHERE member_uid = '1-1'"

/* Clamp: store 2 spends 500 of the 600 points online, then store 1 refunds the earning sale:
 * head office grants the 100 still there, the refund reverses exactly that and records 500 as
 * its shortfall; sent again, it is answered again and nothing more is claimed. */
static void a_clamp_refund_takes_back_only_what_the_chain_holds(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    int64_t reward = 0, overdrafts = -1, offline = -1;
    setup("chain_refund_clamp", "clamp", owner, url1, url2, &a, &b, card, &reward);
    if (spend(&b, url2, card, reward, &r) != 0)
        fail_msg("spend at store 2: %s", r.err);
    json_t *o = refund(&a, url1, "A-1", "RET-1", &r);
    assert_int_equal(jint(o, "points_reversed"), 100);
    assert_int_equal(jint(o, "shortfall"), 500);
    json_decref(o);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 1"), 1);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_claims WHERE store_id = 1"), 100);
    /* the same return, sent again: answered again, claimed once */
    o = refund(&a, url1, "A-1", "RET-1", &r);
    assert_true(json_is_true(json_object_get(o, "replayed")));
    assert_int_equal(jint(o, "points_reversed"), 100);
    json_decref(o);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 1"), 1);
    assert_int_equal(
        pg_int(owner, "SELECT held FROM chain_member_stores WHERE store_id = 1 AND member_uid = "
                      "'1-1'"),
        100);
    /* shipped: the chain balance is 0, never below, and nothing stays held */
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&b, url2, NOW);
    assert_int_equal(pg_int(owner, CHAIN_BALANCE), 0);
    assert_int_equal(pg_int(owner, "SELECT sum(held) FROM chain_member_stores"), 0);
    verify_ok(owner, &overdrafts, &offline);
    assert_int_equal(overdrafts, 0);
    assert_int_equal(offline, 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* Negative: the whole reversal is claimed and held, so store 2 cannot spend what store 1's
 * refund already took back; shipped, the chain balance is below zero as the policy allows, and
 * `patron hq verify` counts exactly that member. */
static void a_negative_refund_is_claimed_in_full(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    int64_t reward = 0, small = 0, overdrafts = -1, offline = -1;
    setup("chain_refund_negative", "negative", owner, url1, url2, &a, &b, card, &reward);
    struct patron_reward_def def = {.name = "A little", .cost = 50, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &small), 0);
    if (spend(&b, url2, card, reward, &r) != 0)
        fail_msg("spend at store 2: %s", r.err);
    json_t *o = refund(&a, url1, "A-1", "RET-1", &r);
    assert_int_equal(jint(o, "points_reversed"), 600);
    assert_int_equal(jint(o, "shortfall"), 0);
    json_decref(o);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_claims WHERE store_id = 1"), 600);
    /* the 100 points store 2 still sees are taken back already: its spend is refused */
    assert_int_not_equal(spend(&b, url2, card, small, &r), 0);
    assert_non_null(strstr(r.err, "head office refused the claim"));
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&b, url2, NOW);
    assert_int_equal(pg_int(owner, CHAIN_BALANCE), -500);
    assert_int_equal(pg_int(owner, "SELECT sum(held) FROM chain_member_stores"), 0);
    verify_ok(owner, &overdrafts, &offline);
    assert_int_equal(overdrafts, 1);
    assert_int_equal(offline, 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* Head office unreachable: the refund is not refused (not even over the offline caps), it takes
 * back what store 1 knows (600, store 2's spend not pulled yet), marked offline; shipped, the
 * overdraft is an offline_overdraft conflict naming store 1's refund. */
static void an_offline_refund_is_marked_and_its_overdraft_reported(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    int64_t reward = 0, overdrafts = -1, offline = -1;
    setup("chain_refund_offline", "clamp", owner, url1, url2, &a, &b, card, &reward);
    assert_int_equal(patron_program_set(a.s, "chain_offline_member_cap", "100", "test"), 0);
    if (spend(&b, url2, card, reward, &r) != 0)
        fail_msg("spend at store 2: %s", r.err);
    chain_sync_ok(&b, url2, NOW);
    json_t *o = refund(&a, DEAD, "A-1", "RET-1", &r);
    assert_int_equal(jint(o, "points_reversed"), 600);
    json_decref(o);
    assert_non_null(strstr(r.err, "marked offline"));
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM outbox WHERE kind = 'entry'"
                                      " AND json_extract(payload, '$.offline') = 1"),
                     1);
    chain_sync_ok(&a, url1, NOW);
    assert_int_equal(pg_int(owner, CHAIN_BALANCE), -500);
    assert_int_equal(
        clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "conflicts", (char *)NULL), 0);
    o = json_loads(r.out, 0, NULL);
    json_t *found = chain_only_conflict(o, "offline_overdraft");
    assert_string_equal(json_string_value(json_object_get(found, "member_uid")), "1-1");
    assert_int_equal(jint(found, "store_id"), 1);
    assert_int_equal(jint(found, "points"), 600);
    assert_int_equal(jint(found, "balance_after"), -500);
    json_decref(o);
    verify_ok(owner, &overdrafts, &offline);
    assert_int_equal(offline, 1);
    test_store_close(&b);
    test_store_close(&a);
}

/* Offline with store 2's spend pulled: the clamp policy takes back at most the member's last
 * known chain balance (100), not store 1's own ledger (600). */
static void an_offline_clamp_refund_keeps_to_the_last_known_chain_balance(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    int64_t reward = 0;
    setup("chain_refund_known", "clamp", owner, url1, url2, &a, &b, card, &reward);
    if (spend(&b, url2, card, reward, &r) != 0)
        fail_msg("spend at store 2: %s", r.err);
    chain_sync_ok(&b, url2, NOW);
    chain_sync_ok(&a, url1, NOW); /* store 1 learns of the spend */
    json_t *o = refund(&a, DEAD, "A-1", "RET-1", &r);
    assert_int_equal(jint(o, "points_reversed"), 100);
    assert_int_equal(jint(o, "shortfall"), 500);
    json_decref(o);
    chain_sync_ok(&a, url1, NOW);
    assert_int_equal(pg_int(owner, CHAIN_BALANCE), 0);
    test_store_close(&b);
    test_store_close(&a);
}

/* A claimed debit's hold is given back when its entry reaches head office: a negative
 * adjustment's as a redemption's and a refund's, so store 2 may then spend what is left. */
static void a_claimed_debit_is_released_when_it_arrives(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    int64_t reward = 0;
    setup("chain_refund_adjust", "clamp", owner, url1, url2, &a, &b, card, &reward);
    if (clirun(&r, "--db", a.path, "--home", home, "--hq", url1, "--now", NOW, "ledger", "adjust",
               card, "--points", "-100", "--reason", "goodwill reversed", "--manager", "Mo",
               (char *)NULL) != 0)
        fail_msg("debit at store 1: %s", r.err);
    assert_int_equal(pg_int(owner, "SELECT held FROM chain_member_stores WHERE store_id = 1"), 100);
    chain_sync_ok(&a, url1, NOW);
    assert_int_equal(pg_int(owner, "SELECT held FROM chain_member_stores WHERE store_id = 1"), 0);
    chain_sync_ok(&b, url2, NOW);
    if (spend(&b, url2, card, reward, &r) != 0) /* the 500 left */
        fail_msg("spend at store 2: %s", r.err);
    test_store_close(&b);
    test_store_close(&a);
}

/* POST /v1/refunds at store 1's counter service, online: claimed as `patron refund` is; the same
 * return sent again under another key is answered again and claims nothing more; head office
 * unreachable, a refund is answered 201, marked offline. */
static void the_refund_api_claims_once(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14], token[64];
    struct test_store b = {0};
    struct api_server sv;
    struct apit_reply r = {0}, again = {0};
    struct clirun run = {0};
    int64_t reward = 0;
    chain_make("chain_refund_api", owner, url1, url2);
    apit_store_new(&sv); /* store 1 */
    chain_store_open(&b, 2);
    struct patron_reward_def def = {.name = "Most of it", .cost = 500, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &reward), 0);
    apit_member(&sv, "Al Api", card);
    json_decref(apit_patron(&sv, "sale", card, "--ref", "S-1", "--total", "60000", (char *)NULL));
    json_decref(apit_patron(&sv, "sale", card, "--ref", "S-2", "--total", "10000", (char *)NULL));
    apit_terminal(&sv, "till-1", "cashier", token);
    if (clirun(&run, "--db", sv.db, "--home", home, "--hq", url1, "sync", (char *)NULL) != 0)
        fail_msg("sync: %s", run.err);
    chain_sync_ok(&b, url2, NOW);
    if (spend(&b, url2, card, reward, &run) != 0) /* 500 of the 700 */
        fail_msg("spend at store 2: %s", run.err);
    setenv("PATRON_HQ", url1, 1);
    apit_start(&sv, NULL);
    unsetenv("PATRON_HQ");
    apit_call(sv.port, "POST", "/v1/refunds", token, "r-1",
              "{\"ref\":\"S-1\",\"return_ref\":\"RET-1\"}", &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "points_reversed"), 200);
    assert_int_equal(apit_jint(r.json, "shortfall"), 400);
    apit_call(sv.port, "POST", "/v1/refunds", token, "r-2",
              "{\"ref\":\"S-1\",\"return_ref\":\"RET-1\"}", &again);
    apit_assert_status(&again, 201, NULL);
    assert_true(json_is_true(json_object_get(again.json, "replayed")));
    assert_int_equal(apit_jint(again.json, "points_reversed"), 200);
    apit_reply_free(&again);
    apit_reply_free(&r);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 1"), 1);
    assert_int_equal(pg_int(owner, "SELECT sum(points) FROM chain_claims WHERE store_id = 1"), 200);
    assert_int_equal(apit_stop(&sv), 0);
    /* head office unreachable: answered, marked offline */
    setenv("PATRON_HQ", DEAD, 1);
    apit_start(&sv, NULL);
    unsetenv("PATRON_HQ");
    apit_call(sv.port, "POST", "/v1/refunds", token, "r-3",
              "{\"ref\":\"S-2\",\"return_ref\":\"RET-2\"}", &r);
    apit_assert_status(&r, 201, NULL);
    assert_int_equal(apit_jint(r.json, "points_reversed"), 100);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    patron_store *s = NULL;
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM outbox WHERE kind = 'entry'"
                                    " AND json_extract(payload, '$.offline') = 1"),
                     1);
    patron_store_close(s);
    apit_cleanup(&sv);
    test_store_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_clamp_refund_takes_back_only_what_the_chain_holds),
        cmocka_unit_test(a_negative_refund_is_claimed_in_full),
        cmocka_unit_test(an_offline_refund_is_marked_and_its_overdraft_reported),
        cmocka_unit_test(an_offline_clamp_refund_keeps_to_the_last_known_chain_balance),
        cmocka_unit_test(a_claimed_debit_is_released_when_it_arrives),
        cmocka_unit_test(the_refund_api_claims_once),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
