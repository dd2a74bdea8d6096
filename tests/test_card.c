/* SPDX-License-Identifier: MIT */
/* Card numbers: the check digit catches every single-digit error, syntax errors are told apart
 * from check-digit errors, and separators typed by a cashier are accepted. Each store mints from
 * a number space of its own: two stores can never mint the same number. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static const char valid[] = "2900000000018";

static void check_digit_matches_gs1(void **state)
{
    (void)state;
    /* GS1 example: 400638133393 -> check digit 1 (EAN-13 4006381333931). */
    assert_int_equal(patron_card_check_digit("400638133393"), '1');
    char out[14];
    assert_int_equal(patron_card_parse(valid, out), 0);
    assert_string_equal(out, valid);
}

static void every_single_digit_error_is_caught(void **state)
{
    (void)state;
    char typo[14], out[14];
    for (int pos = 2; pos < 13; pos++) {
        for (char d = '0'; d <= '9'; d++) {
            memcpy(typo, valid, sizeof typo);
            if (typo[pos] == d)
                continue;
            typo[pos] = d;
            assert_int_equal(patron_card_parse(typo, out), PATRON_ECHECKDIGIT);
        }
    }
}

static void malformed_numbers_are_invalid_not_checkdigit(void **state)
{
    (void)state;
    char out[14] = "unchanged";
    assert_int_equal(patron_card_parse("290000000001", out), PATRON_EINVAL);   /* 12 digits */
    assert_int_equal(patron_card_parse("29000000000180", out), PATRON_EINVAL); /* 14 digits */
    assert_int_equal(patron_card_parse("1900000000018", out), PATRON_EINVAL);  /* not our range */
    assert_int_equal(patron_card_parse("29000000000x8", out), PATRON_EINVAL);
    assert_int_equal(patron_card_parse("", out), PATRON_EINVAL);
    assert_int_equal(patron_card_parse(NULL, out), PATRON_EINVAL);
    assert_string_equal(out, "unchanged");
}

static void separators_are_accepted(void **state)
{
    (void)state;
    char out[14];
    assert_int_equal(patron_card_parse("2900 0000 0001-8", out), 0);
    assert_string_equal(out, valid);
}

/* Every number a store mints decodes to that store and serial, so no other store's mint can
 * yield it: checked for whole runs of serials at both ends of the store range. */
static void each_store_mints_from_its_own_space(void **state)
{
    (void)state;
    static const int stores[] = {1, 2, 3, 1000, 65534, 65535};
    static const uint64_t starts[] = {0, PATRON_CARD_SERIALS - 2000};
    char card[PATRON_CARD_DIGITS + 1], parsed[PATRON_CARD_DIGITS + 1];
    for (size_t i = 0; i < sizeof stores / sizeof stores[0]; i++)
        for (size_t j = 0; j < 2; j++)
            for (uint64_t serial = starts[j]; serial < starts[j] + 2000; serial++) {
                uint64_t back = UINT64_MAX;
                assert_int_equal(patron_card_mint(stores[i], serial, card), 0);
                assert_int_equal(patron_card_parse(card, parsed), 0);
                assert_int_equal(patron_card_store(card, &back), stores[i]);
                assert_int_equal(back, serial);
            }
    assert_int_equal(patron_card_mint(0, 0, card), PATRON_EINVAL);
    assert_int_equal(patron_card_mint(65536, 0, card), PATRON_EINVAL);
    assert_int_equal(patron_card_mint(1, PATRON_CARD_SERIALS, card), PATRON_EINVAL);
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 1,000,000 numbers minted across spaces a store may come to hold (its own ones at the bottom,
 * the ones taken or granted counting down from 65535), at serials spread over each space: every
 * one decodes back to its space and serial, none is minted twice, and neighbouring serials do
 * not give neighbouring numbers. */
static void spaces_never_mint_the_same_number(void **state)
{
    (void)state;
    enum { N = 1000000, PER_SPACE = 62500 };
    static const int spaces[] = {1,     2,     3,     4,     5,     6,     7,     8,
                                 65528, 65529, 65530, 65531, 65532, 65533, 65534, 65535};
    uint64_t *numbers = calloc(N, sizeof *numbers);
    char card[PATRON_CARD_DIGITS + 1], first[PATRON_CARD_DIGITS + 1] = "";
    assert_non_null(numbers);
    for (int i = 0; i < N; i++) {
        int space = spaces[i / PER_SPACE];
        uint64_t serial = ((uint64_t)(i % PER_SPACE) * 7919) % PATRON_CARD_SERIALS, back = 0;
        assert_int_equal(patron_card_mint(space, serial, card), 0);
        assert_int_equal(card[PATRON_CARD_DIGITS - 1], patron_card_check_digit(card));
        assert_int_equal(patron_card_store(card, &back), space);
        assert_int_equal(back, serial);
        if (i == 0)
            memcpy(first, card, sizeof first);
        numbers[i] = strtoull(card + 2, NULL, 10) / 10;
    }
    assert_int_equal(patron_card_mint(1, 7919, card), 0); /* the next serial minted above */
    assert_true(strncmp(first, card, 7) != 0);
    assert_int_equal(patron_card_mint(2, 0, card), 0);
    assert_true(strncmp(first, card, 7) != 0);
    qsort(numbers, N, sizeof *numbers, by_value);
    for (int i = 1; i < N; i++)
        assert_true(numbers[i - 1] != numbers[i]);
    free(numbers);
}

/* An enrolment mints in the store's own space. */
static void an_enrolment_mints_in_the_store_space(void **state)
{
    (void)state;
    struct test_store t;
    char card[PATRON_CARD_DIGITS + 1];
    test_store_open(&t);
    for (int i = 0; i < 20; i++) {
        test_enroll(&t, "Space Cadet", card);
        assert_int_equal(patron_card_store(card, NULL), 1);
    }
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_digit_matches_gs1),
        cmocka_unit_test(every_single_digit_error_is_caught),
        cmocka_unit_test(malformed_numbers_are_invalid_not_checkdigit),
        cmocka_unit_test(separators_are_accepted),
        cmocka_unit_test(each_store_mints_from_its_own_space),
        cmocka_unit_test(spaces_never_mint_the_same_number),
        cmocka_unit_test(an_enrolment_mints_in_the_store_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
