/* SPDX-License-Identifier: MIT */
/* Vouchers over the counter service's HTTP API: a reward redeemed over HTTP becomes a voucher
 * whose token is checked and redeemed exactly once (the second redemption is 409 and names the
 * first), a forged token is 400, a typed code works and wrong codes lock out only the till that
 * typed them, and a manager shows and voids vouchers. */
#include "apiutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct fixture {
    struct api_server sv;
    char till1[64], till2[64], manager[64];
    char card[14];
    int64_t reward_id;
} fx;

static void assert_problem(const struct apit_reply *r, long status, const char *code)
{
    if (r->status != status || !r->json || strcmp(apit_jstr(r->json, "code"), code) != 0)
        fprintf(stderr, "expected %ld %s, got %ld: %s\n", status, code, r->status, r->body);
    assert_int_equal(r->status, status);
    assert_string_equal(r->type, "application/problem+json");
    assert_string_equal(apit_jstr(r->json, "code"), code);
}

/* A voucher of the member's: a reward redeemed over HTTP. Copies its token, code and id. */
struct voucher {
    char token[244], code[18], id[17];
};

static void new_voucher(struct voucher *v)
{
    static int n;
    struct apit_reply r;
    char path[64], body[64], key[32];
    memset(v, 0, sizeof *v);
    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)fx.reward_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card);
    snprintf(key, sizeof key, "reward-%d", ++n);
    apit_call(fx.sv.port, "POST", path, fx.till1, key, body, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(strlen(apit_jstr(r.json, "token")), 243);
    snprintf(v->token, sizeof v->token, "%s", apit_jstr(r.json, "token"));
    snprintf(v->code, sizeof v->code, "%s", apit_jstr(r.json, "code"));
    snprintf(v->id, sizeof v->id, "%s", apit_jstr(r.json, "voucher_id"));
    /* Printing comes after the answer: the coupon is queued, not yet printed. */
    assert_true(json_integer_value(json_object_get(r.json, "print_job")) > 0);
    assert_string_equal(apit_jstr(r.json, "print_status"), "queued");
    apit_reply_free(&r);
}

static void voucher_call(const char *path, const char *token, const char *key, const char *field,
                         const char *value, const char *ref, struct apit_reply *r)
{
    char body[512];
    if (ref)
        snprintf(body, sizeof body, "{\"%s\":\"%s\",\"ref\":\"%s\"}", field, value, ref);
    else
        snprintf(body, sizeof body, "{\"%s\":\"%s\"}", field, value);
    apit_call(fx.sv.port, "POST", path, token, key, body, r);
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.till1);
    apit_terminal(&fx.sv, "till-2", "cashier", fx.till2);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    apit_member(&fx.sv, "Ada", fx.card);
    json_decref(
        apit_patron(&fx.sv, "sale", fx.card, "--ref", "SEED", "--total", "100000", (char *)NULL));
    json_t *j = apit_patron(&fx.sv, "reward", "add", "--name", "5 off", "--cost", "100", "--kind",
                            "amount", "--value", "500", (char *)NULL);
    fx.reward_id = json_integer_value(json_object_get(j, "reward_id"));
    json_decref(j);
    apit_start(&fx.sv, "--printer", "none", (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    apit_cleanup(&fx.sv);
    return status == 0 ? 0 : -1;
}

static void a_token_is_checked_and_redeemed_once(void **state)
{
    struct voucher v;
    struct apit_reply r, again;
    (void)state;
    new_voucher(&v);
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "token", v.token, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "valid")));
    assert_string_equal(apit_jstr(r.json, "voucher_id"), v.id);
    assert_string_equal(apit_jstr(r.json, "code"), v.code);
    assert_string_equal(apit_jstr(r.json, "kind"), "amount");
    assert_int_equal(json_integer_value(json_object_get(r.json, "value")), 500);
    assert_non_null(apit_jstr(r.json, "expires_at"));
    apit_reply_free(&r);

    voucher_call("/v1/vouchers/redeem", fx.till1, "vr-1", "token", v.token, "S-1", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(apit_jstr(r.json, "voucher_id"), v.id);
    assert_true(json_integer_value(json_object_get(r.json, "redemption_id")) > 0);
    /* The till did not hear the answer and sends the same request again: the same answer. */
    voucher_call("/v1/vouchers/redeem", fx.till1, "vr-1", "token", v.token, "S-1", &again);
    assert_int_equal(again.status, 201);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);

    /* Another till, another sale: refused, and told when, where and for which sale. */
    voucher_call("/v1/vouchers/redeem", fx.till2, "vr-2", "token", v.token, "S-2", &r);
    assert_problem(&r, 409, "EREDEEMED");
    const char *detail = apit_jstr(r.json, "detail");
    assert_non_null(strstr(detail, "first redeemed at"));
    assert_non_null(strstr(detail, "store 1"));
    assert_non_null(strstr(detail, "till 'till-1'"));
    assert_non_null(strstr(detail, "sale 'S-1'"));
    assert_string_equal(apit_jstr(r.json, "first_till"), "till-1");
    assert_string_equal(apit_jstr(r.json, "first_ref"), "S-1");
    assert_int_equal(json_integer_value(json_object_get(r.json, "first_store_id")), 1);
    assert_non_null(strchr(apit_jstr(r.json, "first_redeemed_at"), 'T'));
    apit_reply_free(&r);
    voucher_call("/v1/vouchers/check", fx.till2, NULL, "token", v.token, NULL, &r);
    assert_problem(&r, 409, "EREDEEMED");
    assert_string_equal(apit_jstr(r.json, "first_ref"), "S-1");
    apit_reply_free(&r);
}

static void a_forged_token_is_invalid_input(void **state)
{
    struct voucher v;
    struct apit_reply r;
    (void)state;
    new_voucher(&v);
    /* One digit of the signature changed (the last digit of a 17-digit group stays in range). */
    size_t at = 13 * 17 + 16;
    v.token[at] = v.token[at] == '9' ? '8' : (char)(v.token[at] + 1);
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "token", v.token, NULL, &r);
    assert_problem(&r, 400, "EBADSIG");
    apit_reply_free(&r);
    voucher_call("/v1/vouchers/redeem", fx.till1, "forged-1", "token", v.token, "S-3", &r);
    assert_problem(&r, 400, "EBADSIG");
    apit_reply_free(&r);
    /* Malformed: too short for a token. */
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "token",
                 "12345678901234567890123456789012345", NULL, &r);
    assert_problem(&r, 400, "EFORMAT");
    apit_reply_free(&r);
}

static void a_typed_code_redeems_and_wrong_codes_lock_out_one_till(void **state)
{
    struct voucher v;
    struct apit_reply r;
    char key[32], lower[18];
    (void)state;
    new_voucher(&v);
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "code", v.code, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "voucher_id"), v.id);
    apit_reply_free(&r);
    /* Typed as people type: lower case. */
    for (size_t i = 0; i < sizeof lower; i++)
        lower[i] = (char)(v.code[i] >= 'A' && v.code[i] <= 'Z' ? v.code[i] + 32 : v.code[i]);
    voucher_call("/v1/vouchers/redeem", fx.till1, "code-1", "code", lower, "S-4", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(apit_jstr(r.json, "voucher_id"), v.id);
    apit_reply_free(&r);

    /* till-2 types five wrong codes on the write path: each refused, each counted. */
    new_voucher(&v);
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "wrong-%d", i);
        voucher_call("/v1/vouchers/redeem", fx.till2, key, "code", "0000-0000-0000-01", "S-5", &r);
        assert_int_equal(r.status, 400);
        apit_reply_free(&r);
    }
    voucher_call("/v1/vouchers/redeem", fx.till2, "wrong-5", "code", v.code, "S-5", &r);
    assert_problem(&r, 409, "ELOCKED");
    apit_reply_free(&r);
    voucher_call("/v1/vouchers/check", fx.till2, NULL, "code", v.code, NULL, &r);
    assert_problem(&r, 409, "ELOCKED");
    apit_reply_free(&r);
    /* The lock-out is till-2's alone; scanning still works there. */
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "code", v.code, NULL, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    voucher_call("/v1/vouchers/redeem", fx.till2, "scan-5", "token", v.token, "S-5", &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
}

static void managers_show_and_void_vouchers(void **state)
{
    struct voucher open, spent;
    struct apit_reply r;
    char path[96];
    (void)state;
    new_voucher(&open);
    new_voucher(&spent);
    voucher_call("/v1/vouchers/redeem", fx.till1, "spend-1", "token", spent.token, "S-6", &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/vouchers/%s", spent.id);
    apit_call(fx.sv.port, "GET", path, fx.till1, NULL, NULL, &r);
    assert_problem(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", path, fx.manager, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "status"), "redeemed");
    assert_string_equal(apit_jstr(r.json, "redeemed_ref"), "S-6");
    assert_string_equal(apit_jstr(r.json, "token"), spent.token);
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/vouchers/%s", open.code); /* by code too */
    apit_call(fx.sv.port, "GET", path, fx.manager, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "status"), "open");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/vouchers/0000000000000001", fx.manager, NULL, NULL, &r);
    assert_problem(&r, 404, "ENOVOUCHER");
    apit_reply_free(&r);

    snprintf(path, sizeof path, "/v1/vouchers/%s/void", open.id);
    apit_call(fx.sv.port, "POST", path, fx.till1, "void-0", "{\"reason\":\"damaged\"}", &r);
    assert_problem(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", path, fx.manager, "void-1", "{\"reason\":\"damaged\"}", &r);
    assert_int_equal(r.status, 200);
    assert_true(json_is_true(json_object_get(r.json, "voided")));
    assert_string_equal(apit_jstr(r.json, "status"), "voided");
    assert_string_equal(apit_jstr(r.json, "void_reason"), "damaged");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", path, fx.manager, "void-2", "{\"reason\":\"again\"}", &r);
    assert_problem(&r, 409, "EVOIDED");
    apit_reply_free(&r);
    voucher_call("/v1/vouchers/check", fx.till1, NULL, "token", open.token, NULL, &r);
    assert_problem(&r, 409, "EVOIDED");
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/vouchers/%s/void", spent.id);
    apit_call(fx.sv.port, "POST", path, fx.manager, "void-3", "{\"reason\":\"late\"}", &r);
    assert_problem(&r, 409, "EREDEEMED");
    apit_reply_free(&r);
}

static void voucher_bodies_are_checked(void **state)
{
    struct apit_reply r;
    (void)state;
    apit_call(fx.sv.port, "POST", "/v1/vouchers/check", fx.till1, NULL,
              "{\"token\":\"123456789012345678901234567890123456\",\"code\":\"AAAA\"}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/vouchers/check", fx.till1, NULL, "{}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/vouchers/check", fx.till1, NULL, "{\"token\":\"1234\"}", &r);
    assert_problem(&r, 400, "EINVAL"); /* a "token" that short would be read as a code */
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/vouchers/redeem", fx.till1, NULL,
              "{\"code\":\"AAAA-AAAA-AAAA-AA\",\"ref\":\"X\"}", &r);
    assert_problem(&r, 400, "EINVAL"); /* no Idempotency-Key */
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/vouchers/redeem", fx.till1, "no-ref",
              "{\"code\":\"AAAA-AAAA-AAAA-AA\"}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/vouchers/check", NULL, NULL, "{\"code\":\"AAAA\"}", &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_token_is_checked_and_redeemed_once),
        cmocka_unit_test(a_forged_token_is_invalid_input),
        cmocka_unit_test(a_typed_code_redeems_and_wrong_codes_lock_out_one_till),
        cmocka_unit_test(managers_show_and_void_vouchers),
        cmocka_unit_test(voucher_bodies_are_checked),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
