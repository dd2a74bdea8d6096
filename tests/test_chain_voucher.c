/* SPDX-License-Identifier: MIT */
/* Vouchers single-use per chain (issue 11), against a throwaway PostgreSQL (label pg): online, a
 * store redeeming a voucher claims it at head office first, so a second store is refused with
 * where and when it was redeemed, and a claim whose redemption fails at the store is given back;
 * redemptions and voids anywhere reach every store's register on its next sync, so a store
 * refuses them offline too. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clirun.h"
#include "pgutil.h"
#include "voucher_fixture.h"

#define NOW "2026-01-15T11:00:00Z" /* an hour after TEST_EPOCH, the stores' clock */
#define DEAD "postgresql://nobody:x@127.0.0.1:1/chain_voucher"

static struct pg_cluster pg;
static char home[256];

static int group_setup(void **state)
{
    (void)state;
    return pg_suite_start(&pg, "patron-chain-voucher", home, sizeof home);
}

static int group_teardown(void **state)
{
    (void)state;
    pg_suite_stop(&pg, home);
    return 0;
}

/* Registers store `id` and writes its URL into url. */
static void store_add(const char *owner, int id, char *url, size_t len)
{
    struct clirun r = {0};
    char ids[16];
    snprintf(ids, sizeof ids, "%d", id);
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", ids, "--name",
               "Chain shop", (char *)NULL) != 0)
        fail_msg("store add %d: %s", id, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(url, len, "%s", json_string_value(json_object_get(o, "url")));
    json_decref(o);
}

static void sync_ok(const struct test_store *t, const char *url)
{
    struct clirun r = {0};
    if (clirun(&r, "--db", t->path, "--home", home, "--hq", url, "--now", NOW, "sync",
               (char *)NULL) != 0)
        fail_msg("sync: %s", r.err);
}

static int64_t pg_int(const char *url, const char *sql)
{
    PGconn *conn = PQconnectdb(url);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    int64_t v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return v;
}

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
    store_add(owner, 1, url1, sizeof url1);
    store_add(owner, 2, url2, sizeof url2);
    store_add(owner, 3, url3, sizeof url3);
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
    sync_ok(&a, url1);
    sync_ok(&b, url2);
    sync_ok(&c, url3);
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
    sync_ok(&b, url2);
    sync_ok(&a, url1);
    sync_ok(&c, url3);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_voucher_is_redeemed_once_in_the_chain),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
