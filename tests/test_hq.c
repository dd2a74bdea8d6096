/* SPDX-License-Identifier: MIT */
/* The head office on a throwaway PostgreSQL (label pg): `patron hq init` creates and upgrades the
 * schema and refuses a newer one; `patron hq store add` registers a store with a login role of its
 * own, a password file of mode 0600 and a URL that logs in; a taken id is refused; row-level
 * security keeps a store's role to its own rows; every fact names a registered store (checked
 * once per statement); one statement of facts of every kind is projected by one trigger, each
 * kind where it belongs; a wrong address, password or database is named
 * in the sentence, and so is a head office that is down; the `hq` setting comes from the flag, the
 * environment or patron.conf. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clirun.h"
#include "hq.h"
#include "pgutil.h"
#include "testutil.h"

static struct pg_cluster pg;
static char home[256];

static int group_setup(void **state)
{
    (void)state;
    return pg_suite_start(&pg, "patron-hq", home, sizeof home);
}

static int group_teardown(void **state)
{
    (void)state;
    pg_suite_stop(&pg, home);
    return 0;
}

/* A fresh database for one test; its owner's URL into url. */
static void fresh_db(const char *name, char *url, size_t len)
{
    assert_int_equal(pg_cluster_createdb(&pg, name, url, len), 0);
}

/* `patron --home HOME --hq URL args...` */
static int hq(struct clirun *r, const char *url, const char *a1, const char *a2, const char *a3,
              const char *a4, const char *a5)
{
    return clirun(r, "--home", home, "--hq", url, "hq", a1, a2, a3, a4, a5, (char *)NULL);
}

/* One statement as the owner (or any role): 0 or the PATRON_E* code. */
static int sql_as(const char *url, const char *sql)
{
    patron_hq *h = NULL;
    char detail[512];
    int rc = patron_hq_connect(url, &h, detail, sizeof detail);
    if (rc != 0)
        fail_msg("cannot connect to %s: %s", url, detail);
    rc = patron_hq_exec(h, sql, 0, NULL, detail, sizeof detail);
    patron_hq_close(h);
    return rc;
}

static void init_creates_the_schema_once(void **state)
{
    (void)state;
    char url[512];
    struct clirun r = {0};
    fresh_db("hq_init", url, sizeof url);
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    char said[96];
    snprintf(said, sizeof said, "from version 0 to %d", patron_hq_schema_latest());
    assert_non_null(strstr(r.out, said));
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    snprintf(said, sizeof said, "already at version %d", patron_hq_schema_latest());
    assert_non_null(strstr(r.out, said));
    patron_hq *h = NULL;
    char detail[256];
    int version = -1;
    assert_int_equal(patron_hq_connect(url, &h, detail, sizeof detail), 0);
    assert_int_equal(patron_hq_schema_version(h, &version, detail, sizeof detail), 0);
    assert_int_equal(version, patron_hq_schema_latest());
    patron_hq_close(h);
    assert_int_equal(hq(&r, url, "stores", NULL, NULL, NULL, NULL), 0);
}

static void a_newer_schema_is_refused(void **state)
{
    (void)state;
    char url[512];
    struct clirun r = {0};
    fresh_db("hq_newer", url, sizeof url);
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(sql_as(url, "UPDATE hq_schema_version SET version = 99"), 0);
    assert_int_not_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    char said[96];
    snprintf(said, sizeof said, "schema version 99, newer than this program knows (%d)",
             patron_hq_schema_latest());
    assert_non_null(strstr(r.err, said));
    assert_int_not_equal(hq(&r, url, "stores", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.err, "newer than this program knows"));
    /* untouched */
    assert_int_equal(sql_as(url, "SELECT 1/(version - 98) FROM hq_schema_version"), 0);
}

/* Registers store `id` and returns its URL (static buffer) from the JSON reply. */
static const char *add_store(const char *url, const char *id, const char *name)
{
    static char store_url[1024];
    struct clirun r = {0};
    if (clirun(&r, "--json", "--home", home, "--hq", url, "hq", "store", "add", id, "--name", name,
               (char *)NULL) != 0)
        fail_msg("store add %s failed: %s", id, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(store_url, sizeof store_url, "%s", json_string_value(json_object_get(o, "url")));
    struct stat st;
    assert_int_equal(stat(json_string_value(json_object_get(o, "password_file")), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_decref(o);
    return store_url;
}

static void a_store_gets_a_login_of_its_own(void **state)
{
    (void)state;
    char url[512], s1[1024];
    struct clirun r = {0};
    fresh_db("hq_add", url, sizeof url);
    assert_int_equal(hq(&r, url, "store", "add", "1", "--name", "North"), 1); /* before init */
    char said[96];
    snprintf(said, sizeof said, "schema version 0, not %d: run `patron hq init` first",
             patron_hq_schema_latest());
    assert_non_null(strstr(r.err, said));
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    assert_int_equal(hq(&r, url, "store", "add", "1", "--name", "North"), 0);
    assert_non_null(strstr(r.out, "role: hq_add_store_1"));
    snprintf(s1, sizeof s1, "%s", add_store(url, "2", "South"));
    assert_non_null(strstr(s1, "hq_add_store_2@127.0.0.1:"));
    assert_non_null(strstr(s1, "passfile="));
    /* the URL logs in with the password from the file, and nothing else does */
    assert_int_equal(sql_as(s1, "SELECT 1"), 0);
    char wrong[512];
    pg_cluster_url(&pg, "hq_add", "hq_add_store_2", "not-the-password", wrong, sizeof wrong);
    assert_int_not_equal(hq(&r, wrong, "stores", NULL, NULL, NULL, NULL), 0);
    /* a taken id is refused in a sentence, and the first registration's file still works */
    assert_int_equal(hq(&r, url, "store", "add", "2", "--name", "Again"), 2);
    assert_non_null(strstr(r.err, "store 2 is already registered at head office"));
    assert_int_equal(sql_as(s1, "SELECT 1"), 0);
    assert_int_equal(hq(&r, url, "stores", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "North"));
    assert_non_null(strstr(r.out, "South"));
    assert_null(strstr(r.out, "Again"));
}

static void row_level_security_keeps_a_store_to_its_rows(void **state)
{
    (void)state;
    char url[512], s1[1024], s2[1024];
    struct clirun r = {0};
    fresh_db("hq_rls", url, sizeof url);
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    snprintf(s1, sizeof s1, "%s", add_store(url, "1", "North"));
    snprintf(s2, sizeof s2, "%s", add_store(url, "2", "South"));
    /* store 2 writes its own rows */
    assert_int_equal(sql_as(s2, "INSERT INTO facts (store_id, store_seq, kind, payload) "
                                "VALUES (2, 1, 'sale', '{}')"),
                     0);
    assert_int_equal(sql_as(s2, "INSERT INTO members (member_uid, home_store_id) VALUES ('m2', 2)"),
                     0);
    /* and none of store 1's: refused by the policy */
    assert_int_equal(sql_as(s2, "INSERT INTO facts (store_id, store_seq, kind, payload) "
                                "VALUES (1, 1, 'sale', '{}')"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(sql_as(s2, "INSERT INTO members (member_uid, home_store_id) VALUES ('m1', 1)"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(sql_as(s2, "INSERT INTO redemptions (store_id, store_seq, points) "
                                "VALUES (1, 1, 10)"),
                     PATRON_EFORBIDDEN);
    /* no store may register stores or change the schema */
    assert_int_equal(sql_as(s2, "INSERT INTO stores (store_id, name, role_name) "
                                "VALUES (3, 'x', 'y')"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(sql_as(s2, "UPDATE hq_schema_version SET version = 2"), PATRON_EFORBIDDEN);
    assert_int_equal(sql_as(s2, "DELETE FROM facts"), PATRON_EFORBIDDEN);
    /* store 1 writes its own; store 2 does not read store 1's facts, but reads its members */
    assert_int_equal(sql_as(s1, "INSERT INTO facts (store_id, store_seq, kind, payload) "
                                "VALUES (1, 1, 'sale', '{}')"),
                     0);
    assert_int_equal(sql_as(s1, "INSERT INTO members (member_uid, home_store_id) VALUES ('m1', 1)"),
                     0);
    assert_int_equal(sql_as(s2, "SELECT 1/(count(*) - 1)::int FROM facts"), PATRON_EDB);
    assert_int_equal(sql_as(s2, "SELECT 1/(count(*) - 1)::int FROM facts WHERE store_id = 2"),
                     PATRON_EDB); /* exactly one row seen: its own; 1/0 fails */
    assert_int_equal(sql_as(s2, "SELECT 1/(count(*) - 1)::int FROM members"), 0);
    /* a fact ships once: the same (store_id, store_seq) again is refused */
    assert_int_equal(sql_as(s2, "INSERT INTO facts (store_id, store_seq, kind, payload) "
                                "VALUES (2, 1, 'sale', '{}')"),
                     PATRON_EDUPLICATE);
    /* the facts policies ask which store this is once per statement (an initplan), not once per
     * row: a batch of thousands of rows would pay a function call for each */
    assert_int_equal(sql_as(url, "SELECT 1/(count(*) = 2)::int FROM pg_policies"
                                 " WHERE tablename = 'facts' AND coalesce(qual, with_check)"
                                 " LIKE '%SELECT hq_my_store()%'"),
                     0);
}

/* Every fact and chain entry names a registered store, and a store they name cannot be removed
 * or renumbered, as with a foreign key; but checked once per statement (a batch of a sync is one
 * statement), not by a query per row: no per-row foreign key on facts or chain_entries. */
static void every_fact_names_a_registered_store(void **state)
{
    (void)state;
    char url[512], s1[1024];
    struct clirun r = {0};
    fresh_db("hq_fk", url, sizeof url);
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    snprintf(s1, sizeof s1, "%s", add_store(url, "1", "North"));
    (void)add_store(url, "2", "South");
    assert_int_equal(sql_as(url, "SELECT 1/(count(*) = 0)::int FROM pg_constraint WHERE contype"
                                 " = 'f' AND conrelid IN ('facts'::regclass,"
                                 " 'chain_entries'::regclass)"),
                     0);
    assert_int_equal(sql_as(s1, "INSERT INTO facts (store_id, store_seq, kind, payload) VALUES"
                                " (1, 1, 'sale', '{}'), (1, 2, 'sale', '{}')"),
                     0);
    /* even head office's owner (no row-level security) cannot name a store that is not there */
    assert_int_equal(sql_as(url, "INSERT INTO facts (store_id, store_seq, kind, payload) VALUES"
                                 " (1, 3, 'sale', '{}'), (9, 1, 'sale', '{}')"),
                     PATRON_EDB);
    assert_int_equal(sql_as(url, "UPDATE facts SET store_id = 9 WHERE store_seq = 2"), PATRON_EDB);
    assert_int_equal(sql_as(url, "INSERT INTO chain_entries (store_id, store_seq, member_uid,"
                                 " kind, points, earned) VALUES (9, 1, '9-1', 'earn', 1, 1)"),
                     PATRON_EDB);
    assert_int_equal(sql_as(url, "SELECT 1/(count(*) = 2)::int FROM facts"), 0);
    /* a store its facts name stays; one without facts may go */
    assert_int_equal(sql_as(url, "DELETE FROM stores WHERE store_id = 1"), PATRON_EDB);
    assert_int_equal(sql_as(url, "UPDATE stores SET store_id = 7 WHERE store_id = 1"), PATRON_EDB);
    assert_int_equal(sql_as(url, "UPDATE stores SET name = 'North 2' WHERE store_id = 1"), 0);
    assert_int_equal(sql_as(url, "DELETE FROM stores WHERE store_id = 2"), 0);
}

/* 0 when `cond` (an SQL boolean) holds as `url`'s role: 1/false divides by zero. */
static int sql_true(const char *url, const char *cond)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT 1/(%s)::int", cond);
    return sql_as(url, sql);
}

/* One statement of facts of every kind a store ships is projected by one trigger that reads the
 * batch's kinds once and runs only the statements of those kinds: each kind lands where it did
 * when four triggers each read the whole batch, a hold is given back only to the store whose
 * entry arrived, and a batch of kinds that project nothing changes nothing. */
static void a_batch_of_every_kind_is_projected_by_one_trigger(void **state)
{
    (void)state;
    char url[512], s1[1024];
    fresh_db("hq_kinds", url, sizeof url);
    struct clirun r = {0};
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    snprintf(s1, sizeof s1, "%s", add_store(url, "1", "North"));
    (void)add_store(url, "2", "South");
    assert_int_equal(sql_true(url, "(SELECT count(*) FROM pg_trigger WHERE tgrelid = 'facts'"
                                   "::regclass AND NOT tgisinternal AND tgtype & 4 = 4) = 2"),
                     0); /* on insert: facts_check_store and facts_project, nothing else */
    assert_int_equal(sql_true(url, "(SELECT reloptions @> '{fillfactor=70}' FROM pg_class"
                                   " WHERE relname = 'chain_member_stores')"),
                     0);
    /* points claimed by both stores, not shipped yet */
    assert_int_equal(
        sql_as(url, "INSERT INTO members (member_uid, home_store_id) VALUES ('1-1', 1)"), 0);
    assert_int_equal(sql_as(url, "INSERT INTO chain_member_stores (member_uid, store_id, held)"
                                 " VALUES ('1-1', 1, 7), ('1-1', 2, 5)"),
                     0);
    assert_int_equal(
        sql_as(s1, "INSERT INTO facts (store_id, store_seq, kind, payload) VALUES"
                   " (1, 1, 'member', '{\"id\": 1, \"name\": \"Ada\", \"created_at\": 1}'),"
                   " (1, 2, 'card', '{\"number\": \"2990000000011\", \"member_id\": 1,"
                   " \"status\": \"active\"}'),"
                   " (1, 3, 'entry', '{\"member_id\": 1, \"kind\": \"earn\", \"debit\":"
                   " \"program\", \"credit\": \"member\", \"points\": 30}'),"
                   " (1, 4, 'entry', '{\"member_id\": 1, \"kind\": \"redeem\", \"debit\":"
                   " \"member\", \"credit\": \"program\", \"points\": 4}'),"
                   " (1, 5, 'redemption', '{\"member_id\": 1, \"voucher_id\": \"v\", \"points\":"
                   " 4}'),"
                   " (1, 6, 'voucher_redeemed', '{\"key_id\": 1, \"voucher_id\": 77,"
                   " \"redeemed_at\": 2}'),"
                   " (1, 7, 'voucher_voided', '{\"key_id\": 1, \"voucher_id\": 78}'),"
                   " (1, 8, 'consent', '{\"member_id\": 1, \"marketing\": 1}'),"
                   " (1, 9, 'member', '{\"id\": 2, \"name\": \"Bo\", \"email\": \"b@x\"}'),"
                   " (1, 10, 'erasure', '{\"member_id\": 2, \"erased_at\": 3}'),"
                   " (1, 11, 'sale', '{}')"),
        0);
    const char *const projected[] = {
        "(SELECT name = 'Ada' AND consent_marketing FROM members WHERE member_uid = '1-1')",
        "(SELECT member_uid = '1-1' FROM cards WHERE card_number = '2990000000011')",
        "(SELECT count(*) = 2 AND sum(points) = 26 FROM chain_entries)",
        "(SELECT points = 26 AND earned = 30 FROM chain_balances WHERE member_uid = '1-1')",
        "(SELECT points = 26 AND held = 3 FROM chain_member_stores WHERE store_id = 1)",
        "(SELECT points = 0 AND held = 5 FROM chain_member_stores WHERE store_id = 2)",
        "(SELECT count(*) = 1 FROM redemptions WHERE member_uid = '1-1' AND points = 4)",
        "(SELECT store_id = 1 AND redeemed_at IS NOT NULL FROM voucher_claims"
        " WHERE key_id = 1 AND voucher_id = 77)",
        "(SELECT store_id = 1 FROM voucher_voids WHERE key_id = 1 AND voucher_id = 78)",
        "(SELECT store_id = 1 FROM erasures WHERE member_uid = '1-2')",
        "(SELECT name IS NULL AND email IS NULL AND erased_at IS NOT NULL FROM members"
        " WHERE member_uid = '1-2')",
        "(SELECT payload->>'name' = 'erased' AND payload->'email' = 'null' FROM facts"
        " WHERE store_seq = 9)",
    };
    for (size_t i = 0; i < sizeof projected / sizeof projected[0]; i++)
        if (sql_true(url, projected[i]) != 0)
            fail_msg("not projected: %s", projected[i]);
    /* kinds that project nothing: nothing moves, the holds stay */
    assert_int_equal(sql_as(s1, "INSERT INTO facts (store_id, store_seq, kind, payload) VALUES"
                                " (1, 12, 'sale', '{\"member_id\": 1}'), (1, 13, 'lot', '{}')"),
                     0);
    for (size_t i = 2; i < 6; i++)
        if (sql_true(url, projected[i]) != 0)
            fail_msg("changed by a sale: %s", projected[i]);
}

static void a_wrong_address_password_or_database_is_named(void **state)
{
    (void)state;
    char url[512], bad[512];
    struct clirun r = {0};
    fresh_db("hq_bad", url, sizeof url);
    assert_int_equal(hq(&r, url, "init", NULL, NULL, NULL, NULL), 0);
    add_store(url, "7", "West");
    /* nothing listens on port 1 */
    snprintf(bad, sizeof bad, "postgresql://postgres@127.0.0.1:1/hq_bad");
    assert_int_equal(hq(&r, bad, "stores", NULL, NULL, NULL, NULL), 1);
    assert_non_null(strstr(r.err, "cannot reach the head office at 127.0.0.1:1: wrong address"));
    pg_cluster_url(&pg, "hq_bad", "hq_bad_store_7", "wrong", bad, sizeof bad);
    assert_int_not_equal(hq(&r, bad, "stores", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.err, "refused the login of role hq_bad_store_7: wrong password"));
    pg_cluster_url(&pg, "no_such_db", "postgres", NULL, bad, sizeof bad);
    assert_int_equal(hq(&r, bad, "stores", NULL, NULL, NULL, NULL), 3);
    assert_non_null(strstr(r.err, "has no database no_such_db"));
    assert_int_equal(hq(&r, "postgresql://[", "stores", NULL, NULL, NULL, NULL), 4);
    assert_non_null(strstr(r.err, "not one libpq understands"));
    /* head office stopped: the right address, but nothing answers; back again: it works */
    assert_int_equal(pg_cluster_halt(&pg, "fast"), 0);
    assert_int_equal(hq(&r, url, "stores", NULL, NULL, NULL, NULL), 1);
    assert_non_null(strstr(r.err, "cannot reach the head office at 127.0.0.1:"));
    assert_int_equal(pg_cluster_resume(&pg), 0);
    assert_int_equal(hq(&r, url, "stores", NULL, NULL, NULL, NULL), 0);
    assert_non_null(strstr(r.out, "West"));
}

static void the_hq_setting_comes_from_env_or_conf(void **state)
{
    (void)state;
    char url[512], env[600], conf[400];
    struct clirun r = {0};
    fresh_db("hq_conf", url, sizeof url);
    assert_int_equal(clirun(&r, "--home", home, "hq", "init", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "no head office address: pass --hq URL, set PATRON_HQ"));
    snprintf(env, sizeof env, "PATRON_HQ=%s", url);
    const char *const with_env[] = {env, NULL};
    r.env = with_env;
    assert_int_equal(clirun(&r, "--home", home, "hq", "init", (char *)NULL), 0);
    r.env = NULL;
    snprintf(conf, sizeof conf, "%s/patron.conf", home);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "# the chain\nhq = %s\n", url);
    fclose(f);
    assert_int_equal(clirun(&r, "--home", home, "hq", "stores", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "registered"));
    remove(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_creates_the_schema_once),
        cmocka_unit_test(a_newer_schema_is_refused),
        cmocka_unit_test(a_store_gets_a_login_of_its_own),
        cmocka_unit_test(row_level_security_keeps_a_store_to_its_rows),
        cmocka_unit_test(every_fact_names_a_registered_store),
        cmocka_unit_test(a_batch_of_every_kind_is_projected_by_one_trigger),
        cmocka_unit_test(a_wrong_address_password_or_database_is_named),
        cmocka_unit_test(the_hq_setting_comes_from_env_or_conf),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
