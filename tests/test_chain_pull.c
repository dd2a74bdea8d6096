/* SPDX-License-Identifier: MIT */
/* The pull that reads only what moved (src/hq/pull.c), against a throwaway PostgreSQL (label pg):
 * its first question says which parts moved since the store's cursors and only those are read,
 * so each step below moves exactly ONE part (a member, a balance, a program publication, a key,
 * a card number space grant, an erasure) between pulls that find nothing: a part skipped when it
 * moved, or read with another part's cursor, leaves its change behind and the step fails. A pull
 * that finds nothing writes nothing at head office either (the store's program row untouched). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"
#include "patron/card_space.h"
#include "patron/keyring.h"
#include "patron/program.h"

/* One pull of store t over the library, as `patron sync` runs it after shipping. */
static struct patron_hq_pull_result pull(const struct test_store *t, const char *url)
{
    struct patron_hq_pull_result r;
    char detail[512] = "";
    patron_hq *h = NULL;
    if (patron_hq_connect(url, &h, detail, sizeof detail) != 0)
        fail_msg("connect: %s", detail);
    if (patron_hq_pull(h, t->s, &r, detail, sizeof detail) != 0)
        fail_msg("pull: %s", detail);
    patron_hq_close(h);
    return r;
}

/* A pull that finds nothing moved: no rows of any part, and no write at head office (a write of
 * the store's program row, even one that changes nothing, locks it: its xmax moves). */
static void pull_finds_nothing(const struct test_store *t, int id, const char *url,
                               const char *owner)
{
    char sql[200], before[64];
    snprintf(sql, sizeof sql,
             "SELECT coalesce((SELECT xmin::text || ' ' || xmax::text FROM store_programs"
             " WHERE store_id = %d), 'none')",
             id);
    snprintf(before, sizeof before, "%s", pg_text(owner, sql));
    struct patron_hq_pull_result r = pull(t, url);
    assert_int_equal(r.members + r.cards + r.balances + r.erased + r.held_posted, 0);
    assert_string_equal(pg_text(owner, sql), before);
}

static int64_t chain_points(patron_store *s, const char *uid)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT chain_points FROM members WHERE member_uid = '%s'", uid);
    return test_scalar(s, sql);
}

static int has_key(patron_store *s, int key_id, const char *status)
{
    struct patron_key_info keys[16];
    size_t n = 0;
    assert_int_equal(patron_keyring_list(s, keys, 16, &n), 0);
    for (size_t i = 0; i < n && i < 16; i++)
        if (keys[i].key_id == key_id && strcmp(keys[i].status, status) == 0)
            return 1;
    return 0;
}

static void publish_key(const char *owner, const struct test_store *a)
{
    char pem[256], file[600];
    assert_int_equal(patron_keyring_export(a->s, 1, pem, sizeof pem), 0);
    snprintf(file, sizeof file, "%s/key-1.pub.pem", a->dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    HQ_OK(owner, "key", "add", file, "--partner", "Store one");
    HQ_OK(owner, "program", "publish");
}

static void each_part_that_moved_is_pulled_and_only_that(void **state)
{
    (void)state;
    char owner[512], url1[1024], url2[1024], card[PATRON_CARD_DIGITS + 1];
    struct test_store a, b;
    int64_t version = 0;
    chain_make("pull_moved", owner, url1, url2);
    chain_store_open(&a, 1);
    chain_store_open(&b, 2);
    HQ_OK(owner, "program", "set", "earn_points", "2");
    HQ_OK(owner, "program", "publish");
    pull(&b, url2); /* the program at first, then nothing moves */
    pull_finds_nothing(&b, 2, url2, owner);
    /* a member (and card, and balance) enrolled at store 1 */
    test_enroll(&a, "Pia Puller", card);
    chain_sell(a.s, card, "A-1", 1000);
    chain_sync_ok(&a, url1, NULL);
    struct patron_hq_pull_result r = pull(&b, url2);
    assert_int_equal(r.members, 1);
    assert_int_equal(r.cards, 1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM members WHERE member_uid = '1-1'"), 1);
    int64_t points = chain_points(b.s, "1-1");
    assert_true(points > 0);
    pull_finds_nothing(&b, 2, url2, owner);
    /* a balance alone */
    chain_sell(a.s, card, "A-2", 1000);
    chain_sync_ok(&a, url1, NULL);
    r = pull(&b, url2);
    assert_int_equal(r.members + r.cards, 0);
    assert_int_equal(r.balances, 1);
    assert_true(chain_points(b.s, "1-1") > points);
    assert_int_equal(chain_points(b.s, "1-1"),
                     pg_int(owner, "SELECT points FROM chain_balances WHERE member_uid = '1-1'"));
    pull_finds_nothing(&b, 2, url2, owner);
    /* a program publication alone */
    HQ_OK(owner, "program", "set", "earn_points", "3");
    HQ_OK(owner, "program", "publish");
    assert_int_equal(pull(&b, url2).program_version, 2);
    struct patron_program p;
    assert_int_equal(patron_program_get(b.s, &p), 0);
    assert_int_equal(p.earn_points, 3);
    assert_string_equal(pg_text(owner, "SELECT version FROM store_programs WHERE store_id = 2"),
                        "2");
    pull_finds_nothing(&b, 2, url2, owner);
    /* a key of the chain's trust list (a publication of its own) */
    publish_key(owner, &a);
    pull(&b, url2);
    assert_true(has_key(b.s, 1, "verify"));
    assert_int_equal(patron_program_version(b.s, &version), 0);
    assert_int_equal(version, 3);
    pull_finds_nothing(&b, 2, url2, owner);
    /* a card number space granted to store 1 */
    int space = 0;
    char detail[512];
    if (patron_hq_card_space_grant_url(url1, a.s, &space, detail, sizeof detail) != 0)
        fail_msg("grant: %s", detail);
    pull(&b, url2);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT store_id FROM card_space_grants WHERE space = %d", space);
    assert_int_equal(test_scalar(b.s, sql), 1);
    pull_finds_nothing(&b, 2, url2, owner);
    /* an erasure */
    assert_int_equal(patron_member_erase(a.s, card, "admin"), 0);
    chain_sync_ok(&a, url1, NULL);
    r = pull(&b, url2);
    assert_int_equal(r.erased, 1);
    assert_int_equal(test_scalar(b.s, "SELECT count(*) FROM members WHERE member_uid = '1-1'"
                                      " AND erased_at IS NOT NULL"),
                     1);
    pull_finds_nothing(&b, 2, url2, owner);
    test_store_close(&b);
    test_store_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_part_that_moved_is_pulled_and_only_that),
    };
    return cmocka_run_group_tests(tests, chain_group_setup, chain_group_teardown);
}
