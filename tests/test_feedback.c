/* SPDX-License-Identifier: MIT */
/* Feedback and goodwill: one score per visit (by sale, or by day), the checks on score, comment
 * and sale, and the goodwill voucher with its per-manager daily limit over a moved clock. */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

static struct test_store t;
static char card[16], other[16];
static int64_t coffee;

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    test_enroll(&t, "Fay", card);
    test_enroll(&t, "Olly", other);
    struct patron_reward_def def = {
        .name = "Coffee on us", .cost = 200, .kind = PATRON_VALUE_ITEM, .value = 1};
    assert_int_equal(patron_reward_add(t.s, &def, &coffee), 0);
    struct patron_sale_result r;
    struct patron_sale in = {
        .card = card, .ref = "S1", .total_minor = 450, .idempotency_key = "S1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static void test_feedback_once_per_sale(void **state)
{
    int64_t a = 0, b = 0;
    (void)state;
    struct patron_feedback f = {.card = card, .score = 4, .comment = "quick", .sale_ref = "S1"};
    assert_int_equal(patron_feedback_record(t.s, &f, &a), 0);
    assert_int_equal(a, test_scalar(t.s, "SELECT id FROM feedback"));
    assert_int_equal(patron_feedback_record(t.s, &f, &b), 0); /* the same again: same answer */
    assert_int_equal(b, a);
    f.score = 1;
    assert_int_equal(patron_feedback_record(t.s, &f, &b), PATRON_ERULE);
    assert_non_null(strstr(patron_store_detail(t.s), "given already"));
}

static void test_feedback_without_a_sale_is_one_per_day(void **state)
{
    int64_t a = 0, b = 0;
    (void)state;
    struct patron_feedback f = {.card = card, .score = 5};
    assert_int_equal(patron_feedback_record(t.s, &f, &a), 0);
    f.score = 2;
    assert_int_equal(patron_feedback_record(t.s, &f, &b), PATRON_ERULE);
    t.now += TEST_DAY;
    assert_int_equal(patron_feedback_record(t.s, &f, &b), 0);
    assert_true(b > a);
}

static void test_feedback_input_is_checked(void **state)
{
    int64_t id = 0;
    char longer[600];
    (void)state;
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    struct patron_feedback f = {.card = card, .score = 0};
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_EINVAL);
    f.score = 6;
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_EINVAL);
    f.score = 3;
    f.comment = longer;
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_EINVAL);
    f.comment = "bad\x01byte";
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_EINVAL);
    f.comment = NULL;
    f.card = other;
    f.sale_ref = "S1"; /* another member's sale */
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_ENOSALE);
    f.sale_ref = "NOPE";
    assert_int_equal(patron_feedback_record(t.s, &f, &id), PATRON_ENOSALE);
    assert_int_equal(id, 0);
}

static int goodwill(const char *manager, const char *key, struct patron_goodwill_result *r)
{
    struct patron_goodwill_request in = {.card = card,
                                         .reward_id = coffee,
                                         .complaint = "cold coffee",
                                         .manager = manager,
                                         .idempotency_key = key};
    return patron_goodwill_issue(t.s, &in, r);
}

static void test_goodwill_gives_the_reward_free(void **state)
{
    struct patron_goodwill_result r;
    struct patron_member m;
    (void)state;
    assert_int_equal(goodwill("Maya", "g1", &r), 0);
    assert_int_equal(r.redemption_id, test_scalar(t.s, "SELECT MAX(id) FROM redemptions"));
    assert_int_equal(r.reward_id, coffee);
    assert_int_equal(r.issued_today, 1);
    assert_int_equal(r.daily_limit, 5);
    assert_true(r.voucher_id != 0);
    assert_int_equal(strlen(r.code), 17);
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_int_equal(m.points, 4); /* the sale's points, untouched */
    struct patron_goodwill_result again;
    assert_int_equal(goodwill("Maya", "g1", &again), 0);
    assert_true(again.replayed);
    assert_int_equal(again.goodwill_id, r.goodwill_id);
    test_assert_ledger_verifies(t.s);
}

static void test_goodwill_daily_limit_per_manager(void **state)
{
    struct patron_goodwill_result r;
    char key[16];
    (void)state;
    assert_int_equal(patron_program_set(t.s, "goodwill_per_manager_per_day", "2", "owner"), 0);
    assert_int_equal(goodwill("Maya", "a1", &r), 0);
    assert_int_equal(goodwill("Maya", "a2", &r), 0);
    assert_int_equal(goodwill("Maya", "a3", &r), PATRON_ELIMIT);
    assert_non_null(strstr(patron_store_detail(t.s), "Maya has given 2"));
    assert_int_equal(goodwill("Ned", "b1", &r), 0); /* another manager has their own */
    t.now += TEST_DAY;
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "c%d", i);
        assert_int_equal(goodwill("Maya", key, &r), 0);
    }
    assert_int_equal(r.issued_today, 2);
    assert_int_equal(goodwill("Maya", "c9", &r), PATRON_ELIMIT);
}

static void test_goodwill_refuses_bad_requests(void **state)
{
    struct patron_goodwill_result r;
    (void)state;
    struct patron_goodwill_request in = {.card = card,
                                         .reward_id = coffee,
                                         .complaint = "",
                                         .manager = "Maya",
                                         .idempotency_key = "x"};
    assert_int_equal(patron_goodwill_issue(t.s, &in, &r), PATRON_EINVAL);
    in.complaint = "late";
    in.manager = NULL;
    assert_int_equal(patron_goodwill_issue(t.s, &in, &r), PATRON_EINVAL);
    in.manager = "Maya";
    in.reward_id = 42;
    assert_int_equal(patron_goodwill_issue(t.s, &in, &r), PATRON_ENOREWARD);
    assert_int_equal(patron_reward_retire(t.s, coffee), 0);
    in.reward_id = coffee;
    in.idempotency_key = "y";
    assert_int_equal(patron_goodwill_issue(t.s, &in, &r), PATRON_EINACTIVE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feedback_once_per_sale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feedback_without_a_sale_is_one_per_day, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_feedback_input_is_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goodwill_gives_the_reward_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goodwill_daily_limit_per_manager, setup, teardown),
        cmocka_unit_test_setup_teardown(test_goodwill_refuses_bad_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
