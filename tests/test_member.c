/* SPDX-License-Identifier: MIT */
/* Members and cards: enrolment validates and records consent with its date, look-up by card
 * and phone, and a lost card is blocked and replaced with the history kept. */
#include <string.h>

#include "testutil.h"

static void enroll_records_consent_and_card(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m, found;
    struct patron_enrollment in = {.name = "Ada Lovelace",
                                   .email = "ada@example.org",
                                   .phone = "+44 (20) 7946-0018",
                                   .birthday = "1990-12-10",
                                   .consent_marketing = 1};
    char card[14];
    test_store_open(&t);
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    assert_int_equal(patron_card_parse(m.card, card), 0);
    assert_memory_equal(m.card, PATRON_CARD_PREFIX, 2);
    assert_int_equal(m.consent_marketing, 1);
    assert_int_equal(m.consent_at, TEST_EPOCH);
    assert_string_equal(m.phone, "+442079460018");
    assert_string_equal(m.tier, "Member");
    assert_int_equal(patron_member_by_phone(t.s, "+44 20 7946 0018", &found), 0);
    assert_int_equal(found.member_id, m.member_id);
    assert_string_equal(found.card, m.card);
    test_store_close(&t);
}

static void enroll_refuses_bad_fields(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    test_store_open(&t);
    struct patron_enrollment bad[] = {
        {.name = ""},
        {.name = "A", .email = "not-an-address"},
        {.name = "A", .phone = "12"},
        {.name = "A", .birthday = "1990-02-30"},
        {.name = "A", .birthday = "yesterday"},
        {.name = "Tab\there"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(patron_member_enroll(t.s, &bad[i], &m), PATRON_EINVAL);
    test_store_close(&t);
}

static void lookups_tell_typos_from_unknown_cards(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    test_store_open(&t);
    assert_int_equal(patron_member_by_card(t.s, "2900000000019", &m), PATRON_ECHECKDIGIT);
    assert_int_equal(patron_member_by_card(t.s, "2900000000018", &m), PATRON_ENOCARD);
    assert_int_equal(patron_member_by_card(t.s, "12345", &m), PATRON_EINVAL);
    assert_int_equal(patron_member_by_phone(t.s, "+1 555 0100 999", &m), PATRON_ENOTFOUND);
    test_store_close(&t);
}

static void lost_card_is_blocked_and_history_kept(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    struct patron_sale_result r;
    char card[14], fresh[14];
    test_store_open(&t);
    test_enroll(&t, "Alan Turing", card);
    struct patron_sale in = {
        .card = card, .ref = "L1", .total_minor = 4200, .idempotency_key = "L1"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    assert_int_equal(patron_card_replace(t.s, card, fresh), 0);
    assert_string_not_equal(fresh, card);
    in.ref = "L2";
    in.idempotency_key = "L2";
    assert_int_equal(patron_sale_record(t.s, &in, &r), PATRON_EBLOCKED);
    assert_int_equal(patron_card_replace(t.s, card, fresh), PATRON_EBLOCKED);
    in.card = fresh;
    assert_int_equal(patron_sale_record(t.s, &in, &r), 0);
    assert_int_equal(r.points, 84); /* the old card's points moved with the member */
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_true(m.card_blocked);
    assert_int_equal(m.points, 84);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enroll_records_consent_and_card),
        cmocka_unit_test(enroll_refuses_bad_fields),
        cmocka_unit_test(lookups_tell_typos_from_unknown_cards),
        cmocka_unit_test(lost_card_is_blocked_and_history_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
