/* SPDX-License-Identifier: MIT */
/* Card numbers: the check digit catches every single-digit error, syntax errors are told apart
 * from check-digit errors, and separators typed by a cashier are accepted. */
#include <stdio.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(check_digit_matches_gs1),
        cmocka_unit_test(every_single_digit_error_is_caught),
        cmocka_unit_test(malformed_numbers_are_invalid_not_checkdigit),
        cmocka_unit_test(separators_are_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
