/* SPDX-License-Identifier: MIT */
/* The program head office authors (issue 11), against a throwaway PostgreSQL (label pg): `patron
 * hq program|reward` edit a draft checked as a store would check it, `publish` writes the whole
 * program as one version, stores apply the newest version at `patron sync` in one transaction
 * and report it (`patron hq stores`), a publication a store cannot apply leaves it on the version
 * it had with a sentence in `sync status`, store roles may read publications only, and the
 * chain's key trust list reaches every store. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"

static int sync_run(const struct test_store *t, const char *url, struct clirun *r)
{
    memset(r, 0, sizeof *r);
    return clirun(r, "--db", t->path, "--home", home, "--hq", url, "sync", (char *)NULL);
}

static int64_t program_version(patron_store *s)
{
    int64_t v = -1;
    assert_int_equal(patron_program_version(s, &v), 0);
    return v;
}

static int64_t rewards_named(patron_store *s, const char *name)
{
    struct patron_reward list[16];
    size_t n = 0, found = 0;
    assert_int_equal(patron_reward_list(s, list, 16, &n), 0);
    for (size_t i = 0; i < n && i < 16; i++)
        found += strcmp(list[i].name, name) == 0;
    return (int64_t)found;
}

static const char *store_program_of(const char *owner, int id)
{
    static char out[16];
    struct clirun r = {0};
    assert_int_equal(
        clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "stores", (char *)NULL), 0);
    json_t *o = json_loads(r.out, 0, NULL), *st;
    size_t i;
    assert_non_null(o);
    snprintf(out, sizeof out, "?");
    json_array_foreach(json_object_get(o, "stores"), i, st)
    {
        if (json_integer_value(json_object_get(st, "store_id")) == id)
            snprintf(out, sizeof out, "%s",
                     json_string_value(json_object_get(st, "program_version")));
    }
    json_decref(o);
    return out;
}

static void head_office_publishes_and_stores_apply_it(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    struct test_store a, b;
    struct clirun r = {0};
    chain_make("prog_publish", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    /* the store's own validation, with its sentence, refuses a bad draft */
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "program", "set",
                                "earn_points", "2000000", (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "earn_points must be a whole number from 0 to 1000000"));
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "program", "set",
                                "no_such_rule", "1", (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "no rule named 'no_such_rule'"));
    HQ_OK(owner, "program", "set", "earn_points", "2");
    HQ_OK(owner, "program", "category", "coffee", "3000");
    HQ_OK(owner, "program", "tier", "Gold", "500", "1500");
    HQ_OK(owner, "reward", "add", "--name", "Free tea", "--cost", "50", "--kind", "item", "--value",
          "7");
    assert_int_equal(clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "program", "publish",
                            (char *)NULL),
                     0);
    assert_non_null(strstr(r.out, "\"version\": 1") ? strstr(r.out, "\"version\": 1")
                                                    : strstr(r.out, "\"version\":1"));
    /* nothing at a store before it syncs */
    assert_int_equal(program_version(a.s), 0);
    assert_string_equal(store_program_of(owner, 1), "none");
    if (sync_run(&a, url1, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(program_version(a.s), 1);
    struct patron_program p;
    assert_int_equal(patron_program_get(a.s, &p), 0);
    assert_int_equal(p.earn_points, 2);
    assert_int_equal(patron_category_multiplier(a.s, "coffee"), 3000);
    assert_int_equal(test_scalar(a.s, "SELECT multiplier_permille FROM tiers WHERE name = 'Gold'"),
                     1500);
    assert_int_equal(rewards_named(a.s, "Free tea"), 1);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM rule_changes WHERE key ="
                                      " 'program_version' AND changed_by = 'head office v1'"),
                     1);
    assert_string_equal(store_program_of(owner, 1), "1");
    assert_string_equal(store_program_of(owner, 2), "none");
    /* a second sync applies nothing again */
    int64_t changes = test_scalar(a.s, "SELECT count(*) FROM rule_changes");
    if (sync_run(&a, url1, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM rule_changes"), changes);
    /* ending the reward: the store retires it at the next publication */
    HQ_OK(owner, "reward", "end", "1");
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0 || sync_run(&b, url2, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(program_version(a.s), 2);
    assert_int_equal(rewards_named(a.s, "Free tea"), 0);
    assert_int_equal(program_version(b.s), 2);
    assert_int_equal(rewards_named(b.s, "Free tea"), 0);
    assert_int_equal(patron_category_multiplier(b.s, "coffee"), 3000);
    assert_string_equal(store_program_of(owner, 2), "2");
    test_store_close(&b);
    test_store_close(&a);
}

static void store_roles_read_publications_only(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    struct clirun r = {0};
    chain_make("prog_rls", owner, url1, url2);
    HQ_OK(owner, "program", "set", "earn_points", "3");
    HQ_OK(owner, "program", "publish");
    assert_int_equal(chain_exec_as(url1, "SELECT version FROM program_versions"), 0);
    assert_int_equal(chain_exec_as(url1, "INSERT INTO program_versions (version, body)"
                                         " VALUES (2, '{}')"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(chain_exec_as(url1, "UPDATE program_versions SET body = '{}'"),
                     PATRON_EFORBIDDEN);
    assert_int_equal(chain_exec_as(url1, "DELETE FROM program_versions"), PATRON_EFORBIDDEN);
    assert_int_equal(chain_exec_as(url1, "SELECT * FROM program_draft_rules"), PATRON_EFORBIDDEN);
    assert_int_equal(
        chain_exec_as(url1, "INSERT INTO program_draft_rules VALUES ('earn_points', '9')"),
        PATRON_EFORBIDDEN);
    /* a store reports its own version only */
    assert_int_equal(
        chain_exec_as(url1, "INSERT INTO store_programs (store_id, version) VALUES (2, 1)"),
        PATRON_EFORBIDDEN);
    /* and the commands say so when run with a store's URL */
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", url1, "hq", "program", "set",
                                "earn_points", "4", (char *)NULL),
                         0);
    assert_int_not_equal(
        clirun(&r, "--home", home, "--hq", url1, "hq", "program", "publish", (char *)NULL), 0);
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT count(*) FROM program_versions");
    assert_string_equal(PQgetvalue(res, 0, 0), "1");
    PQclear(res);
    PQfinish(conn);
}

static void a_publication_that_fails_leaves_the_store_on_its_version(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    struct test_store a;
    struct clirun r = {0};
    chain_make("prog_bad", owner, url1, url2);
    chain_store_open(&a, 1);
    HQ_OK(owner, "program", "set", "earn_points", "2");
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(program_version(a.s), 1);
    /* version 2 (written past the draft's check) changes a rule, then holds a bad tier: none of
     * it may stay */
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(
        conn, "INSERT INTO program_versions (version, body) VALUES (2, '{\"rules\":"
              " {\"earn_points\": \"5\"}, \"categories\": {\"tea\": 2000}, \"tiers\": [{\"name\":"
              " \"Bad\", \"threshold\": 10, \"multiplier_permille\": -1}], \"rewards\": []}')");
    assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    PQfinish(conn);
    int64_t changes = test_scalar(a.s, "SELECT count(*) FROM rule_changes");
    assert_int_not_equal(sync_run(&a, url1, &r), 0);
    assert_non_null(strstr(r.err, "program version 2 cannot be applied here"));
    assert_int_equal(program_version(a.s), 1);
    struct patron_program p;
    assert_int_equal(patron_program_get(a.s, &p), 0);
    assert_int_equal(p.earn_points, 2);
    assert_int_equal(patron_category_multiplier(a.s, "tea"), 1000);
    assert_int_equal(test_scalar(a.s, "SELECT count(*) FROM rule_changes"), changes);
    assert_string_equal(store_program_of(owner, 1), "1");
    assert_int_equal(clirun(&r, "--db", a.path, "--home", home, "sync", "status", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "stays on version 1"));
    test_store_close(&a);
}

/* The chain's key trust list: a store's public key added at head office reaches the other
 * stores at the next publication (the store itself keeps its own), and a revocation retires it. */
static int key_status(patron_store *s, int key_id, char *kind, size_t len)
{
    struct patron_key_info keys[16];
    size_t n = 0;
    assert_int_equal(patron_keyring_list(s, keys, 16, &n), 0);
    for (size_t i = 0; i < n && i < 16; i++)
        if (keys[i].key_id == key_id) {
            snprintf(kind, len, "%s %s", keys[i].kind, keys[i].status);
            return 1;
        }
    snprintf(kind, len, "none");
    return 0;
}

static void the_key_trust_list_reaches_the_stores(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], pem[256], file[600], kind[32];
    struct test_store a, b;
    struct clirun r = {0};
    chain_make("prog_keys", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    assert_int_equal(patron_keyring_export(a.s, 1, pem, sizeof pem), 0);
    snprintf(file, sizeof file, "%s/key-1.pub.pem", a.dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    /* the store's own checks: a partner is named */
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "key", "add", file,
                                "--partner", "", (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "name the partner"));
    HQ_OK(owner, "key", "add", file, "--partner", "Store one");
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0 || sync_run(&b, url2, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_true(key_status(b.s, 1, kind, sizeof kind));
    assert_string_equal(kind, "chain verify");
    assert_true(key_status(a.s, 1, kind, sizeof kind));
    assert_string_equal(kind, "own active");
    HQ_OK(owner, "key", "revoke", "1");
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0 || sync_run(&b, url2, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_true(key_status(b.s, 1, kind, sizeof kind));
    assert_string_equal(kind, "chain retired");
    assert_true(key_status(a.s, 1, kind, sizeof kind));
    assert_string_equal(kind, "own active");
    assert_int_equal(program_version(b.s), 2);
    test_store_close(&b);
    test_store_close(&a);
}

/* Offers head office authors: `patron offer add`'s flags, checked as a store checks them (a tier
 * target needs the tier), added at each store, ended there when head office ends them. */
static int64_t running_offers_named(patron_store *s, const char *name)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM offers WHERE ended_at IS NULL AND name = '%s'",
             name);
    return test_scalar(s, sql);
}

static void offers_reach_the_stores(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024];
    struct test_store a;
    struct clirun r = {0};
    chain_make("prog_offers", owner, url1, url2);
    chain_store_open(&a, 1);
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "offer", "add", "--name",
                                "Gold bonus", "--tier", "Gold", "--benefit", "bonus:25",
                                (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "Gold"));
    assert_int_not_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "offer", "add", "--name",
                                "Free thing", "--benefit", "reward:1", (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "each store's own"));
    HQ_OK(owner, "program", "tier", "Gold", "500", "1500");
    assert_int_equal(clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "offer", "add",
                            "--name", "Gold bonus", "--tier", "Gold", "--benefit", "bonus:25",
                            (char *)NULL),
                     0);
    json_t *added = json_loads(r.out, 0, NULL);
    assert_non_null(added);
    char offer_id[24]; /* refused adds used ids up too */
    snprintf(offer_id, sizeof offer_id, "%lld",
             (long long)json_integer_value(json_object_get(added, "offer_id")));
    json_decref(added);
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(running_offers_named(a.s, "Gold bonus"), 1);
    HQ_OK(owner, "offer", "end", offer_id);
    HQ_OK(owner, "program", "publish");
    if (sync_run(&a, url1, &r) != 0)
        fail_msg("sync: %s", r.err);
    assert_int_equal(running_offers_named(a.s, "Gold bonus"), 0);
    assert_int_equal(program_version(a.s), 2);
    test_store_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(head_office_publishes_and_stores_apply_it),
        cmocka_unit_test(store_roles_read_publications_only),
        cmocka_unit_test(a_publication_that_fails_leaves_the_store_on_its_version),
        cmocka_unit_test(the_key_trust_list_reaches_the_stores),
        cmocka_unit_test(offers_reach_the_stores),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
