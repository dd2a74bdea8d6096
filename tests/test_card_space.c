/* SPDX-License-Identifier: MIT */
/* Card number spaces that grow (patron/card_space.h): a store whose spaces are 90% full takes
 * another and mints there, check-digited and decoded to that space; without a head office it
 * counts down from 65535 by itself; a chain store is granted one by its source (head office),
 * and refuses an enrolment, writing nothing, when it cannot be. The spaces are made full by
 * setting their count in the store, as the count is what minting reads. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void sql(struct test_store *t, const char *text)
{
    char *msg = NULL;
    if (sqlite3_exec(patron_store_sqlite(t->s), text, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", text, msg ? msg : "?");
}

/* Marks space `space` as `left` cards short of full. */
static void fill(struct test_store *t, int space, int64_t left)
{
    char text[160];
    snprintf(text, sizeof text, "UPDATE card_spaces SET minted = %lld WHERE space = %d",
             (long long)(PATRON_CARD_SPACE_FULL - left), space);
    sql(t, text);
}

static int64_t minted_in(struct test_store *t, int space)
{
    char text[120];
    snprintf(text, sizeof text,
             "SELECT COALESCE((SELECT minted FROM card_spaces WHERE space = %d), -1)", space);
    return test_scalar(t->s, text);
}

/* An enrolled card in `space`, valid, and found again. */
static void assert_card_in(struct test_store *t, const char *card, int space)
{
    char parsed[PATRON_CARD_DIGITS + 1];
    struct patron_member m;
    assert_int_equal(patron_card_parse(card, parsed), 0);
    assert_int_equal(patron_card_store(card, NULL), space);
    assert_int_equal(patron_card_owner(t->s, card), 1);
    assert_int_equal(patron_member_by_card(t->s, card, &m), 0);
}

static void a_new_store_holds_its_own_space(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_card_space sp[4];
    size_t n = 0;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    assert_int_equal(patron_card_spaces(t.s, sp, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(sp[0].space, 1);
    assert_string_equal(sp[0].source, "own");
    assert_int_equal(sp[0].minted, 0);
    for (int i = 0; i < 5; i++)
        test_enroll(&t, "Own Space", card);
    assert_int_equal(minted_in(&t, 1), 5); /* counted with each card */
    test_store_close(&t);
}

/* Standalone: the own space at 90% takes 65535, that one at 90% takes 65534. */
static void a_full_space_takes_the_next_counting_down(void **state)
{
    (void)state;
    struct test_store t;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    fill(&t, 1, 2);
    test_enroll(&t, "Last In One", card);
    assert_card_in(&t, card, 1);
    test_enroll(&t, "Last In One Too", card);
    assert_card_in(&t, card, 1);
    assert_int_equal(minted_in(&t, 65535), -1);
    test_enroll(&t, "First In 65535", card);
    assert_card_in(&t, card, 65535);
    assert_int_equal(minted_in(&t, 65535), 1);
    assert_int_equal(minted_in(&t, 1), PATRON_CARD_SPACE_FULL);
    fill(&t, 65535, 0);
    test_enroll(&t, "First In 65534", card);
    assert_card_in(&t, card, 65534);
    struct patron_card_space sp[4];
    size_t n = 0;
    assert_int_equal(patron_card_spaces(t.s, sp, 4, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(sp[1].space, 65535);
    assert_string_equal(sp[1].source, "self");
    assert_int_equal(sp[2].space, 65534);
    test_store_close(&t);
}

/* The own space is never taken as a self space: store 65535 counts down from 65534. */
static void the_count_down_skips_a_space_held(void **state)
{
    (void)state;
    struct test_store t;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    sql(&t, "UPDATE card_spaces SET space = 65535 WHERE space = 1");
    sql(&t, "UPDATE settings SET value = '65535' WHERE key = 'store_id'");
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    fill(&t, 65535, 0);
    test_enroll(&t, "Skips Its Own", card);
    assert_int_equal(patron_card_store(card, NULL), 65534);
    test_store_close(&t);
}

static int64_t rows(struct test_store *t)
{
    return test_scalar(t->s,
                       "SELECT (SELECT count(*) FROM members) * 1000000 +"
                       " (SELECT count(*) FROM cards) * 1000 + (SELECT count(*) FROM outbox)");
}

/* A chain store (it has pulled from head office) never takes a space by itself: without a
 * source of grants, the enrolment is refused with a sentence and nothing is written. */
static void an_offline_chain_store_that_is_out_refuses(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    test_enroll(&t, "Before", card);
    sql(&t, "UPDATE chain_pull SET last_pull = 1768471200");
    fill(&t, 1, 0);
    int64_t before = rows(&t), minted = minted_in(&t, 1);
    struct patron_enrollment in = {.name = "Too Late"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), PATRON_ELIMIT);
    assert_non_null(strstr(patron_store_detail(t.s), "head office cannot be reached"));
    assert_int_equal(rows(&t), before);
    assert_int_equal(minted_in(&t, 1), minted);
    assert_int_equal(test_scalar(t.s, "SELECT count(*) FROM card_spaces"), 1);
    test_store_close(&t);
}

struct source {
    int space; /* granted, or 0: head office cannot be reached */
    int calls;
};

static int grant(void *arg, patron_store *s, int *space, char *detail, size_t len)
{
    struct source *src = arg;
    (void)s;
    src->calls++;
    if (!src->space) {
        snprintf(detail, len, "head office did not answer");
        return PATRON_EDB;
    }
    *space = src->space;
    return 0;
}

/* A chain store out of numbers asks its source once, mints in the granted space, and keeps the
 * grant; when the source fails, nothing is written. */
static void a_chain_store_mints_in_a_granted_space(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    struct source src = {0, 0};
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    patron_store_set_card_space_source(t.s, grant, &src);
    fill(&t, 1, 0);
    int64_t before = rows(&t);
    struct patron_enrollment in = {.name = "Waits"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), PATRON_ELIMIT);
    assert_non_null(strstr(patron_store_detail(t.s), "head office did not answer"));
    assert_int_equal(rows(&t), before);
    src.space = 40000;
    test_enroll(&t, "Granted", card);
    assert_card_in(&t, card, 40000);
    test_enroll(&t, "Granted Too", card);
    assert_card_in(&t, card, 40000);
    assert_int_equal(src.calls, 2);
    assert_int_equal(minted_in(&t, 40000), 2);
    assert_int_equal(
        test_scalar(t.s, "SELECT count(*) FROM card_spaces WHERE space = 40000 AND source = "
                         "'granted'"),
        1);
    /* and, head office's grant known, the store is a chain store even without the source */
    patron_store_set_card_space_source(t.s, NULL, NULL);
    fill(&t, 40000, 0);
    assert_int_equal(patron_member_enroll(t.s, &in, &m), PATRON_ELIMIT);
    test_store_close(&t);
}

/* A number in a space granted to another store is that store's, not store <space>'s. */
static void a_granted_space_number_is_its_store_s(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    assert_int_equal(patron_card_mint(50000, 7, card), 0);
    assert_int_equal(patron_card_owner(t.s, card), 50000);
    assert_int_equal(patron_card_space_grant_keep(t.s, 50000, 7), 0);
    assert_int_equal(patron_card_space_grant_keep(t.s, 50000, 7), 0);
    assert_int_equal(patron_card_owner(t.s, card), 7);
    assert_int_equal(patron_member_by_card(t.s, card, &m), PATRON_ENOCARD);
    assert_non_null(strstr(patron_store_detail(t.s), "store 7's range"));
    assert_int_equal(test_scalar(t.s, "SELECT count(*) FROM card_spaces"), 1);
    assert_int_equal(patron_card_space_grant_keep(t.s, 0, 7), PATRON_EINVAL);
    test_store_close(&t);
}

/* At 80% a chain store's spaces are low (the sync asks head office), not before. */
static void spaces_are_low_at_eighty_percent(void **state)
{
    (void)state;
    struct test_store t;
    int low = -1;
    test_store_open(&t);
    assert_int_equal(patron_card_spaces_low(t.s, &low), 0);
    assert_int_equal(low, 0);
    sql(&t, "UPDATE card_spaces SET minted = 122071");
    assert_int_equal(patron_card_spaces_low(t.s, &low), 0);
    assert_int_equal(low, 0);
    sql(&t, "UPDATE card_spaces SET minted = 122072");
    assert_int_equal(patron_card_spaces_low(t.s, &low), 0);
    assert_int_equal(low, 1);
    assert_int_equal(patron_card_space_grant_keep(t.s, 40000, 1), 0);
    assert_int_equal(patron_card_spaces_low(t.s, &low), 0);
    assert_int_equal(low, 0);
    test_store_close(&t);
}

/* An import of more rows than the own space has left carries on in the next space. */
static void an_import_crosses_into_the_next_space(void **state)
{
    (void)state;
    enum { ROWS = 300, LEFT = 100 };
    struct test_store t;
    struct patron_import_report r;
    char path[512];
    test_store_open(&t);
    fill(&t, 1, LEFT);
    snprintf(path, sizeof path, "%s/m.csv", t.dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "name,email\n");
    for (int i = 0; i < ROWS; i++)
        fprintf(f, "Member %d,m%d@example.org\n", i, i);
    assert_int_equal(fclose(f), 0);
    struct patron_import_options o = {.batch = "big"};
    if (patron_import_members(t.s, path, &o, &r) != 0)
        fail_msg("import failed: %s", patron_store_detail(t.s));
    assert_int_equal(r.created, ROWS);
    assert_int_equal(minted_in(&t, 1), PATRON_CARD_SPACE_FULL);
    assert_int_equal(minted_in(&t, 65535), ROWS - LEFT);
    assert_int_equal(test_scalar(t.s, "SELECT count(DISTINCT number) FROM cards"), ROWS);
    test_store_close(&t);
}

/* A store made before the spaces: the migration counts the cards already in its own space. */
static void the_migration_counts_the_cards_already_minted(void **state)
{
    (void)state;
    struct test_store t;
    char card[PATRON_CARD_DIGITS + 1], pragma[48];
    test_store_open(&t);
    for (int i = 0; i < 3; i++)
        test_enroll(&t, "Old Timer", card);
    sql(&t, "DROP TABLE card_spaces; DROP TABLE card_space_grants; DROP INDEX "
            "entries_flows;" TEST_SQL_AS_SCHEMA_25);
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", PATRON_SCHEMA_VERSION - 4);
    sql(&t, pragma);
    patron_store_close(t.s);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    assert_int_equal(minted_in(&t, 1), 3);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_store_holds_its_own_space),
        cmocka_unit_test(a_full_space_takes_the_next_counting_down),
        cmocka_unit_test(the_count_down_skips_a_space_held),
        cmocka_unit_test(an_offline_chain_store_that_is_out_refuses),
        cmocka_unit_test(a_chain_store_mints_in_a_granted_space),
        cmocka_unit_test(a_granted_space_number_is_its_store_s),
        cmocka_unit_test(spaces_are_low_at_eighty_percent),
        cmocka_unit_test(an_import_crosses_into_the_next_space),
        cmocka_unit_test(the_migration_counts_the_cards_already_minted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
