/* SPDX-License-Identifier: MIT */
/* Referrals: codes, enrolment with a code, both paid once on the referee's first qualifying sale
 * (and never again), the minimum basket, and refusal of self-referral and loops. */
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static struct test_store t;
static int serial;

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    serial = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static struct patron_sale_result sell(const char *card, int64_t total)
{
    char ref[32];
    struct patron_sale_result r;
    snprintf(ref, sizeof ref, "R%d", ++serial);
    struct patron_sale in = {
        .card = card, .ref = ref, .total_minor = total, .idempotency_key = ref};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    return r;
}

static int64_t points(const char *card)
{
    struct patron_member m;
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    return m.points;
}

static void enroll_referred(const char *name, const char *email, const char *code, char *card)
{
    struct patron_enrollment in = {.name = name, .email = email};
    struct patron_member m;
    assert_int_equal(patron_member_enroll_referred(t.s, &in, code, &m), 0);
    memcpy(card, m.card, PATRON_CARD_DIGITS + 1);
}

static void test_both_are_paid_once_on_the_first_qualifying_sale(void **state)
{
    char referrer[16], referee[16], code[PATRON_REFERRAL_CODE_CHARS + 1], again[9];
    struct patron_referral_info info;
    (void)state;
    test_enroll(&t, "Rita", referrer);
    assert_int_equal(patron_referral_code(t.s, referrer, code), 0);
    assert_int_equal(strlen(code), 8);
    assert_int_equal(patron_referral_code(t.s, referrer, again), 0);
    assert_string_equal(code, again); /* stable */
    enroll_referred("Rob", NULL, code, referee);
    struct patron_sale_result r = sell(referee, 1000);
    assert_int_equal(r.points_earned, 10);
    assert_int_equal(r.bonus_points, 100);
    assert_int_equal(r.points, 110);
    assert_int_equal(points(referrer), 100);
    r = sell(referee, 1000); /* once */
    assert_int_equal(r.bonus_points, 0);
    assert_int_equal(points(referrer), 100);
    assert_int_equal(patron_referral_info(t.s, referrer, &info), 0);
    assert_int_equal(info.referred, 1);
    assert_int_equal(info.referred_rewarded, 1);
    assert_int_equal(patron_referral_info(t.s, referee, &info), 0);
    struct patron_member rita;
    assert_int_equal(patron_member_by_card(t.s, referrer, &rita), 0);
    assert_int_equal(info.referred_by, rita.member_id);
    assert_true(info.rewarded);
    test_assert_ledger_verifies(t.s);
}

static void test_a_small_first_sale_does_not_qualify(void **state)
{
    char referrer[16], referee[16], code[9];
    (void)state;
    assert_int_equal(patron_program_set(t.s, "referral_min_basket_minor", "2000", "owner"), 0);
    assert_int_equal(patron_program_set(t.s, "referral_bonus_points", "250", "owner"), 0);
    test_enroll(&t, "Rita", referrer);
    assert_int_equal(patron_referral_code(t.s, referrer, code), 0);
    for (char *p = code; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p); /* typed in lower case */
    enroll_referred("Rob", NULL, code, referee);
    assert_int_equal(sell(referee, 1999).bonus_points, 0);
    assert_int_equal(points(referrer), 0);
    assert_int_equal(sell(referee, 2000).bonus_points, 250);
    assert_int_equal(points(referrer), 250);
}

static void test_self_referral_is_refused(void **state)
{
    char referrer[16], code[9];
    struct patron_member m;
    (void)state;
    struct patron_enrollment me = {.name = "Sam", .email = "sam@example.com"};
    assert_int_equal(patron_member_enroll(t.s, &me, &m), 0);
    snprintf(referrer, sizeof referrer, "%s", m.card);
    assert_int_equal(patron_referral_code(t.s, referrer, code), 0);
    /* the same person again, by email in another case */
    struct patron_enrollment twin = {.name = "Samuel", .email = "SAM@example.com"};
    assert_int_equal(patron_member_enroll_referred(t.s, &twin, code, &m), PATRON_ERULE);
    assert_non_null(strstr(patron_store_detail(t.s), "self-referral"));
    /* nothing of the refused enrolment was kept */
    struct patron_member who;
    assert_int_equal(patron_member_by_id(t.s, 2, &who), PATRON_ENOTFOUND);
    assert_int_equal(patron_referral_link(t.s, referrer, code), PATRON_ERULE); /* own code */
    assert_int_equal(patron_member_enroll_referred(t.s, &twin, "ZZZZZZZZ", &m), PATRON_ENOTFOUND);
    assert_int_equal(patron_member_enroll_referred(t.s, &twin, "short", &m), PATRON_EINVAL);
}

static void test_loops_are_refused(void **state)
{
    char a[16], b[16], c[16], code_a[9], code_b[9], code_c[9];
    (void)state;
    test_enroll(&t, "A", a);
    assert_int_equal(patron_referral_code(t.s, a, code_a), 0);
    enroll_referred("B", NULL, code_a, b);
    assert_int_equal(patron_referral_code(t.s, b, code_b), 0);
    enroll_referred("C", NULL, code_b, c);
    assert_int_equal(patron_referral_code(t.s, c, code_c), 0);
    /* A was enrolled without a code; linking A to C would make A -> B -> C -> A */
    assert_int_equal(patron_referral_link(t.s, a, code_c), PATRON_ERULE);
    assert_non_null(strstr(patron_store_detail(t.s), "loop"));
    assert_int_equal(patron_referral_link(t.s, a, code_b), PATRON_ERULE);
    /* B is referred already */
    assert_int_equal(patron_referral_link(t.s, b, code_c), PATRON_ERULE);
    assert_non_null(strstr(patron_store_detail(t.s), "already referred"));
}

static void test_only_a_member_who_has_not_bought_can_be_linked(void **state)
{
    char a[16], d[16], e[16], code[9];
    (void)state;
    test_enroll(&t, "A", a);
    test_enroll(&t, "D", d);
    test_enroll(&t, "E", e);
    assert_int_equal(patron_referral_code(t.s, a, code), 0);
    sell(d, 500);
    assert_int_equal(patron_referral_link(t.s, d, code), PATRON_ERULE);
    assert_int_equal(patron_referral_link(t.s, e, code), 0);
    assert_int_equal(sell(e, 500).bonus_points, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_are_paid_once_on_the_first_qualifying_sale, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_small_first_sale_does_not_qualify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_self_referral_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loops_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_a_member_who_has_not_bought_can_be_linked, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
