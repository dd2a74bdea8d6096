/* SPDX-License-Identifier: MIT */
/* Checking and redeeming vouchers on a real store with a moved clock: every altered or malformed
 * token is refused with its own error, redemption happens once and says where it first did,
 * void, member binding, the offline policy for other stores' vouchers, typed codes with the
 * lock-out, and idempotent redemption. */
#include <stdio.h>
#include <string.h>

#include "voucher_fixture.h"

static int setup(void **state)
{
    static struct test_store t;
    memset(&t, 0, sizeof t);
    vfix_open(&t, 1, NULL);
    *state = &t;
    return 0;
}

static int teardown(void **state)
{
    test_store_close(*state);
    return 0;
}

static void test_round_trip_then_second_redeem_says_where_first(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v;
    struct patron_voucher_request req = {.ref = "S-100", .till = "till-2"};
    struct patron_voucher_result res;
    vfix_issue(t, NULL, &v);
    assert_int_equal(strlen(v.token), 243);
    assert_int_equal(v.expires_at, TEST_EPOCH + 30 * TEST_DAY);
    req.token_or_code = v.token;
    assert_int_equal(patron_voucher_check(t->s, &req, &res), 0);
    assert_true(res.voucher.voucher_id == v.voucher_id);
    assert_int_equal(res.voucher.value, 500);
    assert_string_equal(res.currency, "EUR");
    assert_string_equal(res.code, v.code);
    t->now += 3600;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
    assert_false(res.replayed);
    t->now += 60;
    req.ref = "S-101";
    req.till = "till-3";
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_EREDEEMED);
    assert_int_equal(res.first_redeemed_at, TEST_EPOCH + 3600);
    assert_int_equal(res.first_store_id, 1);
    assert_string_equal(res.first_till, "till-2");
    assert_string_equal(res.first_ref, "S-100");
    assert_non_null(strstr(patron_store_detail(t->s), "2026-01-15T11:00:00Z"));
    assert_non_null(strstr(patron_store_detail(t->s), "S-100"));
    assert_int_equal(patron_voucher_check(t->s, &req, &res), PATRON_EREDEEMED);
}

static void test_every_single_bit_flip_is_refused(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v;
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    vfix_issue(t, NULL, &v);
    assert_int_equal(patron_voucher_token_decode(v.token, bytes, NULL, 0), 0);
    for (int bit = 0; bit < 8 * PATRON_VOUCHER_BYTES; bit++) {
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        patron_voucher_token_encode(bytes, token);
        int err = vfix_check(t, token);
        if (patron_err_kind(err) != PATRON_KIND_INVALID)
            fail_msg("bit %d flipped: %s", bit, err ? patron_err_name(err) : "accepted");
        bytes[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    }
    assert_int_equal(vfix_check(t, v.token), 0);
}

/* A voucher with `mutate` applied to its body, properly signed by the store's key. */
static void resign(struct test_store *t, const char *token, void (*mutate)(struct patron_voucher *),
                   char out[PATRON_VOUCHER_TOKEN_DIGITS + 1])
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    struct patron__key key;
    assert_int_equal(patron_voucher_token_decode(token, bytes, NULL, 0), 0);
    assert_int_equal(patron_voucher_unpack(bytes, &v), 0);
    mutate(&v);
    assert_int_equal(patron_voucher_pack(&v, bytes), 0);
    assert_int_equal(patron__keyring_signer(t->s, &key), 0);
    assert_int_equal(patron__voucher_sign(&key, bytes), 0);
    patron_voucher_token_encode(bytes, out);
}

static void version_2(struct patron_voucher *v)
{
    v->version = 2;
}

static void key_77(struct patron_voucher *v)
{
    v->key_id = 77;
}

static void scope_9(struct patron_voucher *v)
{
    v->store_scope = 9;
}

static void scope_1(struct patron_voucher *v)
{
    v->store_scope = 1;
}

static void expect(struct test_store *t, const char *token, int err, const char *detail)
{
    int got = vfix_check(t, token);
    if (got != err || !strstr(patron_store_detail(t->s), detail))
        fail_msg("wanted %s with '%s', got %s: %s", patron_err_name(err), detail,
                 patron_err_name(got), patron_store_detail(t->s));
}

static void test_each_malformed_token_has_its_own_error(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v;
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 8];
    vfix_issue(t, NULL, &v);
    snprintf(token, sizeof token, "%.240s", v.token);
    expect(t, token, PATRON_EFORMAT, "240 characters");
    snprintf(token, sizeof token, "%s7", v.token);
    expect(t, token, PATRON_EFORMAT, "longer than 243");
    snprintf(token, sizeof token, "%s", v.token);
    token[57] = 'A';
    expect(t, token, PATRON_EFORMAT, "non-digit");
    resign(t, v.token, version_2, token);
    expect(t, token, PATRON_EVERSION, "format 2");
    resign(t, v.token, key_77, token);
    expect(t, token, PATRON_EUNKNOWNKEY, "key 77");
    resign(t, v.token, scope_9, token);
    expect(t, token, PATRON_ESCOPE, "only at store 9");
    resign(t, v.token, scope_1, token);
    assert_int_equal(vfix_check(t, token), 0);
}

static void test_expiry_is_exact_to_the_second(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_spec spec = {
        .kind = PATRON_VALUE_PERCENT, .value = 10, .valid_hours = 2};
    struct patron__voucher_issued v;
    vfix_issue(t, &spec, &v);
    assert_int_equal(v.expires_at, t->now + 7200);
    t->now = v.expires_at - 1;
    assert_int_equal(vfix_check(t, v.token), 0);
    t->now = v.expires_at;
    expect(t, v.token, PATRON_EEXPIRED, "expired at 2026-01-15T12:00:00Z");
    assert_int_equal(vfix_redeem(t, v.token, "S-1"), PATRON_EEXPIRED);
}

static void test_void(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v, w;
    struct patron_voucher_info info;
    vfix_issue(t, NULL, &v);
    vfix_issue(t, NULL, &w);
    assert_int_equal(patron_voucher_void(t->s, v.code, "manager", "printed twice"), 0);
    expect(t, v.token, PATRON_EVOIDED, "printed twice");
    assert_int_equal(patron_voucher_void(t->s, v.token, "manager", NULL), PATRON_EVOIDED);
    assert_int_equal(vfix_redeem(t, w.token, "S-9"), 0);
    assert_int_equal(patron_voucher_void(t->s, w.token, "manager", NULL), PATRON_EREDEEMED);
    assert_int_equal(patron_voucher_show(t->s, v.code, &info), 0);
    assert_string_equal(info.status, "voided");
    assert_string_equal(info.token, v.token);
    assert_int_equal(patron_voucher_show(t->s, w.code, &info), 0);
    assert_string_equal(info.status, "redeemed");
    assert_string_equal(info.redeemed_ref, "S-9");
}

static void test_member_bound_voucher_needs_the_members_card(void **state)
{
    struct test_store *t = *state;
    struct patron_enrollment ann = {.name = "Ann"}, bob = {.name = "Bob"};
    struct patron_member a, b;
    struct patron__voucher_issued v;
    struct patron_voucher_request req = {.ref = "S-5"};
    struct patron_voucher_result res;
    assert_int_equal(patron_member_enroll(t->s, &ann, &a), 0);
    assert_int_equal(patron_member_enroll(t->s, &bob, &b), 0);
    struct patron__voucher_spec spec = {.member_id = a.member_id,
                                        .kind = PATRON_VALUE_ITEM,
                                        .value = 4711,
                                        .valid_hours = 48,
                                        .flags = PATRON_VOUCHER_NON_TRANSFERABLE};
    vfix_issue(t, &spec, &v);
    req.token_or_code = v.token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_EMEMBER);
    req.member_card = b.card;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_EMEMBER);
    req.member_card = a.card;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
    assert_true(res.voucher.member_id == a.member_id);
    /* Without the flag, a member's voucher is a gift anyone may bring. */
    spec.flags = 0;
    vfix_issue(t, &spec, &v);
    assert_int_equal(vfix_redeem(t, v.token, "S-6"), 0);
}

static void test_typed_code_and_lockout_per_till(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v;
    struct patron_voucher_request req = {.till = "till-7", .ref = "S-7"};
    struct patron_voucher_result res;
    char wrong[32];
    vfix_issue(t, NULL, &v);
    snprintf(wrong, sizeof wrong, "%s", v.code);
    wrong[16] = wrong[16] == '0' ? '1' : '0';
    req.token_or_code = wrong;
    for (int i = 0; i < 4; i++)
        assert_int_equal(patron_voucher_check(t->s, &req, &res), PATRON_EFORMAT);
    req.token_or_code = "ZZZZ-ZZZZ"; /* malformed counts too */
    assert_int_equal(patron_voucher_check(t->s, &req, &res), PATRON_EFORMAT);
    req.token_or_code = v.code;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_ELOCKED);
    assert_non_null(strstr(patron_store_detail(t->s), "till-7"));
    /* The QR token still works at the locked till, and other tills may type codes. */
    req.till = "till-8";
    assert_int_equal(patron_voucher_check(t->s, &req, &res), 0);
    t->now += 901;
    req.till = "till-7";
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
    assert_true(res.voucher.voucher_id == v.voucher_id);
    /* An unknown but well-formed code is a wrong code as well. */
    char unknown[PATRON_VOUCHER_CODE_CHARS + 1];
    patron_voucher_code_encode(v.voucher_id ^ 1, unknown);
    req.token_or_code = unknown;
    assert_int_equal(patron_voucher_check(t->s, &req, &res), PATRON_ENOVOUCHER);
}

static void test_idempotent_redeem(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued v;
    struct patron_voucher_request req = {.ref = "S-8", .till = "t", .idempotency_key = "k-1"};
    struct patron_voucher_result first, again;
    vfix_issue(t, NULL, &v);
    req.token_or_code = v.token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &first), 0);
    assert_int_equal(patron_voucher_redeem(t->s, &req, &again), 0);
    assert_true(again.replayed);
    assert_int_equal(again.redemption_id, first.redemption_id);
    assert_true(again.voucher.voucher_id == v.voucher_id);
    req.ref = "S-9";
    assert_int_equal(patron_voucher_redeem(t->s, &req, &again), PATRON_EIDEMPOTENCY);
}

static void test_offline_policy_for_other_stores_vouchers(void **state)
{
    struct test_store *t = *state, other = {.now = t->now};
    struct patron__voucher_issued v[4], big, online, own;
    struct patron_voucher_request req = {.ref = "S-OFF", .till = "till-1", .offline = 1};
    struct patron_voucher_result res;
    char chain[33], pem[256], path[600];
    int id = 0;
    vfix_chain(t, chain);
    vfix_open(&other, 2, chain);
    assert_int_equal(patron_keyring_export(other.s, 2, pem, sizeof pem), 0);
    snprintf(path, sizeof path, "%s/key-2.pub.pem", t->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(pem, f);
    fclose(f);
    assert_int_equal(patron_keyring_trust(t->s, path, "Store 2", NULL, 0, &id), 0);
    assert_int_equal(patron__setting_set(t->s, "offline_daily_cap_count", "2", "test"), 0);
    struct patron__voucher_spec spec = {
        .kind = PATRON_VALUE_AMOUNT, .value = 6000, .currency = "EUR", .valid_hours = 24};
    vfix_issue(&other, &spec, &big);
    spec.value = 1000;
    spec.flags = PATRON_VOUCHER_ONLINE_ONLY;
    vfix_issue(&other, &spec, &online);
    spec.flags = 0;
    for (int i = 0; i < 3; i++)
        vfix_issue(&other, &spec, &v[i]);
    vfix_issue(t, &spec, &own);
    req.token_or_code = big.token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_ELIMIT);
    req.token_or_code = online.token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_EONLINE);
    for (int i = 0; i < 2; i++) {
        req.token_or_code = v[i].token;
        assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
        assert_true(res.foreign);
    }
    req.token_or_code = v[2].token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), PATRON_ELIMIT);
    assert_non_null(strstr(patron_store_detail(t->s), "2 accepted"));
    /* Own vouchers are in the local register: no cap. Online, the cap does not apply. */
    req.token_or_code = own.token;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
    req.token_or_code = v[2].token;
    req.offline = 0;
    assert_int_equal(patron_voucher_redeem(t->s, &req, &res), 0);
    /* Every offline acceptance is logged for head office. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t->s),
                                        "SELECT count(*), sum(value) FROM offline_acceptances"
                                        " WHERE reported_at IS NULL",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 2);
    assert_int_equal(sqlite3_column_int(st, 1), 2000);
    sqlite3_finalize(st);
    test_store_close(&other);
}

static void test_list_and_show(void **state)
{
    struct test_store *t = *state;
    struct patron__voucher_issued a, b;
    struct patron_voucher_info list[4];
    size_t n = 0;
    vfix_issue(t, NULL, &a);
    t->now += 10;
    vfix_issue(t, NULL, &b);
    assert_int_equal(patron_voucher_list(t->s, 0, list, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_true(list[0].voucher.voucher_id == b.voucher_id); /* newest first */
    assert_string_equal(list[1].code, a.code);
    assert_string_equal(list[1].status, "open");
    assert_int_equal(patron_voucher_list(t->s, 0, NULL, 0, &n), 0);
    assert_int_equal(n, 2);
    t->now += 31 * TEST_DAY;
    assert_int_equal(patron_voucher_show(t->s, b.token, list), 0);
    assert_string_equal(list[0].status, "expired");
    assert_int_equal(patron_voucher_show(t->s, "0000-0000-0000-00", list), PATRON_ENOVOUCHER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_then_second_redeem_says_where_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_every_single_bit_flip_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_each_malformed_token_has_its_own_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expiry_is_exact_to_the_second, setup, teardown),
        cmocka_unit_test_setup_teardown(test_void, setup, teardown),
        cmocka_unit_test_setup_teardown(test_member_bound_voucher_needs_the_members_card, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_typed_code_and_lockout_per_till, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_redeem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_policy_for_other_stores_vouchers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_and_show, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
