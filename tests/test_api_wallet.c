/* SPDX-License-Identifier: MIT */
/* The card in the phone's wallet over HTTP: GET /v1/members/{card}/wallet/apple answers a
 * .pkpass (application/vnd.apple.pkpass) whose signature `openssl smime -verify` accepts, and
 * .../wallet/google a link whose JWT `openssl dgst` verifies; an unknown card is 404; a service
 * without the wallet settings answers a problem whose detail names the missing setting. */
#include "apiutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet_fixture.h"

static struct fixture {
    struct api_server sv;
    char cashier[64], ada[14];
} fx;

static void start_with_wallet(void)
{
    apit_start(&fx.sv, "--wallet-pass-cert", wallet_at("pass.pem"), "--wallet-pass-key",
               wallet_at("pass.key"), "--wallet-wwdr-cert", wallet_at("wwdr.pem"),
               "--wallet-pass-type-id", "pass.test.patron", "--wallet-team-id", "TEAM12345",
               "--wallet-google-issuer", "3388000000022000000", "--wallet-google-key",
               wallet_at("google.key"), "--wallet-google-email",
               "wallet@patron-test.iam.gserviceaccount.com", (char *)NULL);
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    wallet_make_pki(fx.sv.dir);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_member(&fx.sv, "Ada", fx.ada);
    start_with_wallet();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apit_stop(&fx.sv);
    apit_cleanup(&fx.sv);
    return 0;
}

static void apple_pass_is_served_signed(void **state)
{
    (void)state;
    char path[128], type[128] = "";
    struct apit_reply r;
    snprintf(path, sizeof path, "/v1/members/%s/wallet/apple", fx.ada);
    apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "application/vnd.apple.pkpass");
    apit_reply_free(&r);
    /* the bytes, whole, through curl */
    assert_int_equal(wallet_sh("curl -sf -H 'Authorization: Bearer %s' -o %s -w "
                               "'%%{content_type}' http://127.0.0.1:%d%s > %s",
                               fx.cashier, wallet_at("api.pkpass"), fx.sv.port, path,
                               wallet_at("type.txt")),
                     0);
    FILE *f = fopen(wallet_at("type.txt"), "r");
    assert_non_null(f);
    assert_non_null(fgets(type, sizeof type, f));
    fclose(f);
    assert_string_equal(type, "application/vnd.apple.pkpass");
    wallet_unpack(wallet_at("api.pkpass"), wallet_at("api"));
    assert_int_equal(wallet_smime_verify(wallet_at("api")), 0);
    assert_int_equal(
        wallet_sh("grep -q '\"serialNumber\": \"%s\"' %s/pass.json", fx.ada, wallet_at("api")), 0);
}

static void google_link_is_served_signed(void **state)
{
    (void)state;
    char path[128];
    struct apit_reply r;
    snprintf(path, sizeof path, "/v1/members/%s/wallet/google", fx.ada);
    apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "card"), fx.ada);
    assert_false(json_is_true(json_object_get(r.json, "object_only")));
    json_t *c = wallet_jwt_claims(apit_jstr(r.json, "link"));
    json_t *o = json_array_get(json_object_get(json_object_get(c, "payload"), "loyaltyObjects"), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "barcode"), "value")),
                        fx.ada);
    json_decref(c);
    apit_reply_free(&r);
}

static void unknown_card_and_no_token(void **state)
{
    (void)state;
    struct apit_reply r;
    apit_call(fx.sv.port, "GET", "/v1/members/2999999999991/wallet/apple", fx.cashier, NULL, NULL,
              &r);
    apit_assert_status(&r, 404, "ENOCARD");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/members/2999999999991/wallet/google", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    apit_reply_free(&r);
}

/* Without the settings: a problem whose detail names the first one missing. */
static void missing_settings_say_which(void **state)
{
    (void)state;
    char path[128];
    struct apit_reply r;
    assert_int_equal(apit_stop(&fx.sv), 0);
    apit_start(&fx.sv, (char *)NULL);
    snprintf(path, sizeof path, "/v1/members/%s/wallet/apple", fx.ada);
    apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 500, "ECRYPTO");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "wallet_pass_cert is not set"));
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/members/%s/wallet/google", fx.ada);
    apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 500, "ECRYPTO");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "wallet_google_issuer is not set"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&fx.sv), 0);
    start_with_wallet();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apple_pass_is_served_signed),
        cmocka_unit_test(google_link_is_served_signed),
        cmocka_unit_test(unknown_card_and_no_token),
        cmocka_unit_test(missing_settings_say_which),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
