/* SPDX-License-Identifier: MIT */
/* Vouchers single-use per chain and offline spending (issue 11), against a throwaway PostgreSQL
 * (label pg): online, a store redeeming a voucher claims it at head office first, so a second
 * store is refused with where and when it was redeemed, and a claim whose redemption fails at the
 * store is given back; redemptions and voids anywhere reach every store's register on its next
 * sync, so a store refuses them offline too. Offline, points are spent within the program's caps
 * between syncs, marked offline; two stores overdrawing the same points offline show in
 * `patron hq conflicts` as an offline overdraft, carried as a negative balance. A debit by
 * `patron ledger adjust` is claimed and capped as a redemption is. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainutil.h"
#include "clirun.h"
#include "voucher_fixture.h"

#define NOW "2026-01-15T11:00:00Z" /* an hour after TEST_EPOCH, the stores' clock */
#define DEAD "postgresql://nobody:x@127.0.0.1:1/chain_voucher"

/* `patron voucher redeem TOKEN --ref REF` at store t with head office `url`: its exit status. */
static int redeem(const struct test_store *t, const char *url, const char *token, const char *ref,
                  struct clirun *r)
{
    memset(r, 0, sizeof *r);
    return clirun(r, "--db", t->path, "--home", home, "--hq", url, "--now", NOW, "voucher",
                  "redeem", token, "--ref", ref, (char *)NULL);
}

/* Store `to` trusts store `from`'s key. */
static void trust(struct test_store *to, struct test_store *from, int key_id)
{
    char pem[256], path[600];
    int id = 0;
    assert_int_equal(patron_keyring_export(from->s, key_id, pem, sizeof pem), 0);
    snprintf(path, sizeof path, "%s/key-%d.pub.pem", to->dir, key_id);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    assert_int_equal(patron_keyring_trust(to->s, path, "Store", NULL, 0, &id), 0);
}

static void a_voucher_is_redeemed_once_in_the_chain(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], chain[33];
    struct test_store a = {0}, b = {0}, c = {0};
    struct patron__voucher_issued v, voided, scoped;
    struct clirun r = {0};
    assert_int_equal(pg_cluster_createdb(&pg, "chain_voucher", owner, sizeof owner), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    chain_store_add(owner, 1, url1, sizeof url1);
    chain_store_add(owner, 2, url2, sizeof url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    vfix_open(&a, 1, NULL);
    vfix_chain(&a, chain);
    vfix_open(&b, 2, chain);
    vfix_open(&c, 3, chain);
    trust(&b, &a, 1);
    trust(&c, &a, 1);
    vfix_issue(&a, NULL, &v);
    struct patron__voucher_spec spec = {
        .kind = PATRON_VALUE_AMOUNT, .value = 300, .currency = "EUR", .valid_hours = 24};
    vfix_issue(&a, &spec, &voided);
    spec.store_scope = 1;
    vfix_issue(&a, &spec, &scoped);
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&b, url2, NOW);
    chain_sync_ok(&c, url3, NOW);
    /* online: store 2 claims and redeems it; store 3 is refused, told where and when */
    if (redeem(&b, url2, v.token, "B-1", &r) != 0)
        fail_msg("redeem at store 2: %s", r.err);
    assert_int_equal(redeem(&c, url3, v.token, "C-1", &r), 2);
    assert_non_null(strstr(r.err, "already redeemed at store 2 at "));
    assert_int_equal(test_scalar(c.s, "SELECT count(*) FROM voucher_redemptions"), 0);
    /* a claim whose redemption fails at the store (valid at store 1 only) is given back */
    assert_int_equal(redeem(&b, url2, scoped.token, "B-2", &r), 2);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM voucher_claims WHERE store_id = 2"), 1);
    /* pull-down: store 2 ships, store 1 voids one, stores 1 and 3 pull: both refuse offline */
    assert_int_equal(patron_voucher_void(a.s, voided.token, "manager", "lost"), 0);
    chain_sync_ok(&b, url2, NOW);
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&c, url3, NOW);
    assert_int_equal(redeem(&c, DEAD, v.token, "C-2", &r), 2);
    assert_non_null(strstr(r.err, "already redeemed at store 2 at "));
    assert_int_equal(redeem(&c, DEAD, voided.token, "C-3", &r), 2);
    assert_non_null(strstr(r.err, "voided"));
    assert_int_equal(vfix_redeem(&a, v.token, "A-1"), PATRON_EREDEEMED);
    /* online too, head office says the void */
    assert_int_equal(redeem(&b, url2, voided.token, "B-3", &r), 2);
    assert_non_null(strstr(r.err, "voided"));
    assert_int_equal(test_scalar(c.s, "SELECT count(*) FROM voucher_redemptions"), 0);
    test_store_close(&c);
    test_store_close(&b);
    test_store_close(&a);
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

static void rule(struct test_store *t, const char *name, const char *value)
{
    assert_int_equal(patron_program_set(t->s, name, value, "test"), 0);
}

static void offline_spends_are_capped_and_an_overdraft_is_reported(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], url3[1024], card[14];
    struct test_store a = {0}, b = {0}, c = {0};
    struct patron_member m;
    struct clirun r = {0};
    int64_t reward_b = 0, reward_c = 0;
    assert_int_equal(pg_cluster_createdb(&pg, "chain_offline", owner, sizeof owner), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    chain_store_add(owner, 1, url1, sizeof url1);
    chain_store_add(owner, 2, url2, sizeof url2);
    chain_store_add(owner, 3, url3, sizeof url3);
    vfix_open(&a, 1, NULL);
    vfix_open(&b, 2, NULL);
    vfix_open(&c, 3, NULL);
    test_enroll(&a, "Ivy Offline", card);
    chain_sell(a.s, card, "A-1", 60000);
    assert_int_equal(patron_member_by_card(a.s, card, &m), 0);
    assert_int_equal(m.points, 600);
    struct patron_reward_def def = {.name = "All of it", .cost = 600, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &reward_b), 0);
    assert_int_equal(patron_reward_add(c.s, &def, &reward_c), 0);
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&b, url2, NOW);
    chain_sync_ok(&c, url3, NOW);
    /* head office down: 600 points is over the member's offline cap (500 by default) */
    assert_int_equal(spend(&b, DEAD, card, reward_b, &r), 2);
    assert_non_null(strstr(r.err, "chain_offline_member_cap"));
    rule(&b, "chain_offline_member_cap", "1000");
    if (spend(&b, DEAD, card, reward_b, &r) != 0)
        fail_msg("offline spend at store 2: %s", r.err);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM outbox WHERE kind = 'entry'"
                                      " AND json_extract(payload, '$.offline') = 1"),
                     1);
    /* store 3 spends the same points offline: over its store cap first, then within it */
    rule(&c, "chain_offline_member_cap", "1000");
    rule(&c, "chain_offline_store_cap", "300");
    assert_int_equal(spend(&c, DEAD, card, reward_c, &r), 2);
    assert_non_null(strstr(r.err, "chain_offline_store_cap"));
    rule(&c, "chain_offline_store_cap", "5000");
    if (spend(&c, DEAD, card, reward_c, &r) != 0)
        fail_msg("offline spend at store 3: %s", r.err);
    /* back online: store 3's spend, received second, overdrew the chain balance */
    chain_sync_ok(&b, url2, NOW);
    chain_sync_ok(&c, url3, NOW);
    assert_int_equal(
        clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "conflicts", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL), *found = chain_only_conflict(o, "offline_overdraft");
    assert_string_equal(json_string_value(json_object_get(found, "member_uid")), "1-1");
    assert_int_equal(json_integer_value(json_object_get(found, "store_id")), 3);
    assert_int_equal(json_integer_value(json_object_get(found, "points")), 600);
    assert_int_equal(json_integer_value(json_object_get(found, "balance_after")), -600);
    assert_non_null(json_string_value(json_object_get(found, "store_time")));
    assert_non_null(json_string_value(json_object_get(found, "received_at")));
    json_decref(o);
    /* verify counts it and passes */
    assert_int_equal(
        clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "verify", (char *)NULL), 0);
    o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "offline_overdrafts")), 1);
    json_decref(o);
    /* carried as a negative balance that later earnings cover first */
    chain_sell(a.s, card, "A-2", 40000);
    chain_sync_ok(&a, url1, NOW);
    assert_int_equal(pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"),
                     -200);
    chain_sync_ok(&b, url2, NOW);
    assert_int_equal(patron_member_by_card(b.s, card, &m), 0);
    assert_int_equal(m.points, -200);
    test_store_close(&c);
    test_store_close(&b);
    test_store_close(&a);
}

/* `patron ledger adjust CARD --points N` at store t with head office `url`: its exit status. */
static int debit(const struct test_store *t, const char *url, const char *card, const char *points,
                 struct clirun *r)
{
    memset(r, 0, sizeof *r);
    return clirun(r, "--db", t->path, "--home", home, "--hq", url, "--now", NOW, "ledger", "adjust",
                  card, "--points", points, "--reason", "goodwill reversed", "--manager", "Mo",
                  (char *)NULL);
}

static void a_cli_debit_is_claimed_online_and_capped_offline(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[14];
    struct test_store a = {0}, b = {0};
    struct clirun r = {0};
    assert_int_equal(pg_cluster_createdb(&pg, "chain_debit", owner, sizeof owner), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    chain_store_add(owner, 1, url1, sizeof url1);
    chain_store_add(owner, 2, url2, sizeof url2);
    vfix_open(&a, 1, NULL);
    vfix_open(&b, 2, NULL);
    int64_t reward_b = 0;
    struct patron_reward_def def = {.name = "Most of it", .cost = 400, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(b.s, &def, &reward_b), 0);
    test_enroll(&a, "Dee Debit", card);
    chain_sell(a.s, card, "D-1", 60000); /* 600 points */
    chain_sync_ok(&a, url1, NOW);
    chain_sync_ok(&b, url2, NOW);
    /* online: store 1's debit is claimed at head office, so store 2 cannot spend the same */
    if (debit(&a, url1, card, "-400", &r) != 0)
        fail_msg("debit at store 1: %s", r.err);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 1"), 1);
    assert_int_not_equal(spend(&b, url2, card, reward_b, &r), 0);
    assert_non_null(strstr(r.err, "head office refused the claim"));
    /* a credit is not a spend: nothing more claimed */
    if (debit(&a, url1, card, "25", &r) != 0)
        fail_msg("credit at store 1: %s", r.err);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 1"), 1);
    /* a debit at another store takes points earned at store 1, claimed there the same way */
    int64_t claims_b = pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 2");
    if (debit(&b, url2, card, "-100", &r) != 0)
        fail_msg("debit at store 2: %s", r.err);
    assert_int_equal(pg_int(owner, "SELECT count(*) FROM chain_claims WHERE store_id = 2"),
                     claims_b + 1);
    /* head office unreachable: the offline caps apply, and the spend is marked offline */
    rule(&a, "chain_offline_member_cap", "100");
    assert_int_equal(debit(&a, DEAD, card, "-150", &r), 2);
    assert_non_null(strstr(r.err, "chain_offline_member_cap"));
    if (debit(&a, DEAD, card, "-50", &r) != 0)
        fail_msg("offline debit at store 1: %s", r.err);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM outbox WHERE kind = 'entry'"
                                      " AND json_extract(payload, '$.offline') = 1"),
                     1);
    test_store_close(&b);
    test_store_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_voucher_is_redeemed_once_in_the_chain),
        cmocka_unit_test(offline_spends_are_capped_and_an_overdraft_is_reported),
        cmocka_unit_test(a_cli_debit_is_claimed_online_and_capped_offline),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
