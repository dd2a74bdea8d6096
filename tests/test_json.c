/* SPDX-License-Identifier: MIT */
/* The one JSON shape (patron/json.h): times as ISO 8601 UTC or null, the parser that reads
 * them back, the contract's field names on each result, null for what is not set, and voucher
 * ids as 16 hex digits. */
#include <jansson.h>
#include <string.h>

#include "patron/json.h"
#include "testutil.h"

static const char *jstr(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

static void times_are_iso_8601_utc_or_null(void **state)
{
    int64_t t;
    (void)state;
    json_t *j = patron_json_time(1773144000);
    assert_string_equal(json_string_value(j), "2026-03-10T12:00:00Z");
    json_decref(j);
    assert_true(json_is_null(patron_json_time(0)));
    assert_int_equal(patron_json_time_parse("2026-03-10T12:00:00Z", &t), 0);
    assert_int_equal(t, 1773144000);
    assert_int_equal(patron_json_time_parse("2026-03-10T12:00:00", &t), 0);
    assert_int_equal(t, 1773144000);
    assert_int_equal(patron_json_time_parse("2026-03-10", &t), 0);
    assert_int_equal(t, 1773100800);
    assert_int_equal(patron_json_time_parse("10/03/2026", &t), PATRON_EINVAL);
    assert_int_equal(patron_json_time_parse("2026-03-10T12:00:00+01:00", &t), PATRON_EINVAL);
    assert_int_equal(patron_json_time_parse(NULL, &t), PATRON_EINVAL);
}

static void a_member_has_both_sides_fields(void **state)
{
    struct patron_member m = {.member_id = 7, .created_at = 1773144000, .points = 120};
    json_t *j;
    (void)state;
    snprintf(m.name, sizeof m.name, "%s", "Ada");
    snprintf(m.card, sizeof m.card, "%s", "2900000000017");
    snprintf(m.tier, sizeof m.tier, "%s", "Member");
    snprintf(m.email, sizeof m.email, "%s", "ada@example.org");
    assert_int_equal(patron_json_member(&m, &j), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "member_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(j, "points")), 120);
    assert_string_equal(jstr(j, "tier"), "Member");
    assert_string_equal(jstr(j, "created_at"), "2026-03-10T12:00:00Z");
    assert_string_equal(jstr(j, "member_since"), "2026-03-10T12:00:00Z");
    assert_string_equal(jstr(j, "email"), "ada@example.org");
    assert_true(json_is_null(json_object_get(j, "phone")));
    assert_true(json_is_null(json_object_get(j, "tier_until")));
    assert_true(json_is_null(json_object_get(j, "consent_at")));
    assert_true(json_is_false(json_object_get(j, "erased")));
    json_decref(j);
}

static void a_scan_says_when_points_expire_both_ways(void **state)
{
    struct patron_scan_result r = {.expiring_points = 50, .expiring_at = 1798761600};
    json_t *j;
    (void)state;
    snprintf(r.member.name, sizeof r.member.name, "%s", "Ada");
    r.n_offers = 1;
    r.offers[0] = (struct patron_offer_match){.offer_id = 3, .points = 50};
    snprintf(r.offers[0].benefit, sizeof r.offers[0].benefit, "%s", "bonus:50");
    assert_int_equal(patron_json_scan(&r, &j), 0);
    assert_string_equal(jstr(j, "expiring_at"), "2027-01-01T00:00:00Z");
    assert_string_equal(jstr(j, "expiring_on"), "2027-01-01");
    json_t *offer = json_array_get(json_object_get(j, "offers"), 0);
    assert_int_equal(json_integer_value(json_object_get(offer, "offer_id")), 3);
    assert_true(json_is_null(json_object_get(offer, "reward_id")));
    assert_int_equal(json_array_size(json_object_get(j, "rewards")), 0);
    assert_true(json_is_null(json_object_get(j, "next_tier")));
    json_decref(j);
}

static void vouchers_and_coupons_carry_hex_ids(void **state)
{
    struct patron_sale_result s = {.sale_id = 1, .n_coupons = 2};
    struct patron_redeem_result rd = {.redemption_id = 4, .voucher_id = 0xabcULL};
    json_t *j;
    (void)state;
    s.coupons[0] = (struct patron_sale_coupon){.offer_id = 2, .reward_id = 5, .voucher_id = 255};
    snprintf(s.coupons[0].code, sizeof s.coupons[0].code, "%s", "ABCD-EFGH-JKMN-PQ");
    assert_int_equal(patron_json_sale(&s, &j), 0);
    json_t *coupons = json_object_get(j, "coupons");
    assert_int_equal(json_array_size(coupons), 2);
    assert_string_equal(jstr(json_array_get(coupons, 0), "voucher_id"), "00000000000000ff");
    assert_string_equal(jstr(json_array_get(coupons, 0), "code"), "ABCD-EFGH-JKMN-PQ");
    assert_true(json_is_null(json_object_get(json_array_get(coupons, 1), "voucher_id")));
    assert_true(json_is_null(json_object_get(json_array_get(coupons, 1), "code")));
    json_decref(j);

    assert_int_equal(patron_json_redemption(&rd, &j), 0);
    assert_string_equal(jstr(j, "voucher_id"), "0000000000000abc");
    assert_true(json_is_null(json_object_get(j, "print_job")));
    assert_true(json_is_null(json_object_get(j, "token")));
    assert_true(json_is_null(json_object_get(j, "expires_at")));
    json_decref(j);
}

static void voucher_results_name_what_they_are(void **state)
{
    struct patron_voucher_result r = {.expires_at = 1773144000, .redemption_id = 9};
    json_t *j;
    (void)state;
    r.voucher.voucher_id = 1;
    r.voucher.value = 500;
    snprintf(r.currency, sizeof r.currency, "%s", "EUR");
    assert_int_equal(patron_json_voucher_check(&r, &j), 0);
    assert_true(json_is_true(json_object_get(j, "valid")));
    assert_null(json_object_get(j, "redemption_id"));
    assert_int_equal(json_integer_value(json_object_get(j, "value")), 500);
    assert_string_equal(jstr(j, "expires_at"), "2026-03-10T12:00:00Z");
    json_decref(j);
    assert_int_equal(patron_json_voucher_redeem(&r, &j), 0);
    assert_null(json_object_get(j, "valid"));
    assert_int_equal(json_integer_value(json_object_get(j, "redemption_id")), 9);
    assert_true(json_is_false(json_object_get(j, "replayed")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(times_are_iso_8601_utc_or_null),
        cmocka_unit_test(a_member_has_both_sides_fields),
        cmocka_unit_test(a_scan_says_when_points_expire_both_ways),
        cmocka_unit_test(vouchers_and_coupons_carry_hex_ids),
        cmocka_unit_test(voucher_results_name_what_they_are),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
