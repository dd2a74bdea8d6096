/* SPDX-License-Identifier: MIT */
/* The card in the phone's wallet over HTTP: GET /v1/members/{card}/wallet/apple answers a
 * .pkpass (application/vnd.apple.pkpass) whose signature `openssl smime -verify` accepts, and
 * .../wallet/google a link whose JWT `openssl dgst` verifies; an unknown card is 404; a service
 * without the wallet settings answers a problem whose detail names the missing setting. Apple's
 * pass web service: a phone registers with the pass's own token, learns which serials changed
 * since its tag (a balance change shows), fetches the latest pass, logs, and unregisters. */
#include "apiutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wallet_fixture.h"

static struct fixture {
    struct api_server sv;
    char cashier[64], ada[14];
} fx;

/* apns: Apple's push service's address (wallet_apns_url), or NULL for the default. */
static void start_with_apns(const char *apns)
{
    apit_start(&fx.sv, "--wallet-pass-cert", wallet_at("pass.pem"), "--wallet-pass-key",
               wallet_at("pass.key"), "--wallet-wwdr-cert", wallet_at("wwdr.pem"),
               "--wallet-pass-type-id", "pass.test.patron", "--wallet-team-id", "TEAM12345",
               "--wallet-google-issuer", "3388000000022000000", "--wallet-google-key",
               wallet_at("google.key"), "--wallet-google-email",
               "wallet@patron-test.iam.gserviceaccount.com", "--public-url", "https://shop.example",
               apns ? "--wallet-apns-url" : (char *)NULL, apns, (char *)NULL);
}

static void start_with_wallet(void)
{
    start_with_apns(NULL);
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

/* The pass's authenticationToken, from the pass the service serves. */
static void pass_token(char *auth, size_t cap)
{
    char path[600];
    assert_int_equal(wallet_sh("curl -sf -H 'Authorization: Bearer %s' -o %s "
                               "http://127.0.0.1:%d/v1/members/%s/wallet/apple",
                               fx.cashier, wallet_at("up.pkpass"), fx.sv.port, fx.ada),
                     0);
    wallet_unpack(wallet_at("up.pkpass"), wallet_at("up"));
    snprintf(path, sizeof path, "%s/pass.json", wallet_at("up"));
    json_t *p = json_load_file(path, 0, NULL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "webServiceURL")),
                        "https://shop.example");
    snprintf(auth, cap, "ApplePass %s",
             json_string_value(json_object_get(p, "authenticationToken")));
    json_decref(p);
}

static void updated_since(const char *since, size_t expect, char *tag)
{
    char path[256];
    struct apit_reply r;
    snprintf(path, sizeof path, "/v1/devices/dev1/registrations/pass.test.patron%s%s",
             since ? "?passesUpdatedSince=" : "", since ? since : "");
    apit_call(fx.sv.port, "GET", path, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *list = json_object_get(r.json, "serialNumbers");
    assert_int_equal(json_array_size(list), expect);
    if (expect)
        assert_string_equal(json_string_value(json_array_get(list, 0)), fx.ada);
    snprintf(tag, 24, "%s", apit_jstr(r.json, "lastUpdated"));
    apit_reply_free(&r);
}

static void pass_web_service(void **state)
{
    (void)state;
    char auth[64], path[256], tag[24], tag2[24];
    struct apit_reply r;
    pass_token(auth, sizeof auth);
    snprintf(path, sizeof path, "/v1/devices/dev1/registrations/pass.test.patron/%s", fx.ada);
    const char *body = "{\"pushToken\":\"push-A\"}";
    apit_call(fx.sv.port, "POST", path, "ApplePass 0123456789abcdef0123456789abcdef", NULL, body,
              &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", path, NULL, NULL, body, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", path, auth, NULL, body, &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", path, auth, NULL, body, &r);
    assert_int_equal(r.status, 200);
    assert_false(json_is_true(json_object_get(r.json, "created")));
    apit_reply_free(&r);
    updated_since(NULL, 1, tag);
    updated_since(tag, 0, tag2);
    json_decref(apit_patron(&fx.sv, "ledger", "adjust", fx.ada, "--points", "5", "--reason",
                            "goodwill", "--manager", "Mia", (char *)NULL));
    updated_since(tag, 1, tag2);
    assert_true(strtoll(tag2, NULL, 10) > strtoll(tag, NULL, 10));
    /* the latest pass */
    snprintf(path, sizeof path, "/v1/passes/pass.test.patron/%s", fx.ada);
    apit_call(fx.sv.port, "GET", path, auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "application/vnd.apple.pkpass");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", path, NULL, NULL, NULL, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/log", NULL, NULL, "{\"logs\":[\"a phone said so\"]}", &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(apit_jint(r.json, "logged"), 1);
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/devices/dev1/registrations/pass.test.patron/%s", fx.ada);
    apit_call(fx.sv.port, "DELETE", path, auth, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "DELETE", path, auth, NULL, NULL, &r);
    apit_assert_status(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
    updated_since(NULL, 0, tag2);
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

/* The push worker of `patron serve`: a phone registered for the pass, a sale changes the balance,
 * and the push reaches the stand-in for Apple's push service without `patron card push`. */
static void a_balance_change_is_pushed_by_the_service(void **state)
{
    (void)state;
    char auth[64], path[256], url[64], line[256] = "", body[160];
    struct apit_reply r;
    int port = 0, pid = 0, found = 0;
    assert_int_equal(
        wallet_sh("rm -f %s; python3 %s/tests/apns_standin.py %s %s 200 >/dev/null 2>&1 & "
                  "echo $! > %s",
                  wallet_at("standin.port"), getenv("PATRON_SOURCE_DIR"), wallet_at("standin.port"),
                  wallet_at("apns.log"), wallet_at("standin.pid")),
        0);
    FILE *f = NULL;
    for (int i = 0; i < 6000 && !(f = fopen(wallet_at("standin.port"), "r")); i++)
        usleep(10000);
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &port), 1);
    fclose(f);
    assert_non_null(f = fopen(wallet_at("standin.pid"), "r"));
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    assert_int_equal(apit_stop(&fx.sv), 0);
    start_with_apns(url);

    pass_token(auth, sizeof auth);
    snprintf(path, sizeof path, "/v1/devices/dev7/registrations/pass.test.patron/%s", fx.ada);
    apit_call(fx.sv.port, "POST", path, auth, NULL, "{\"pushToken\":\"push-W\"}", &r);
    assert_true(r.status == 201 || r.status == 200);
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"push-1\",\"total\":2000}", fx.ada);
    apit_call(fx.sv.port, "POST", "/v1/sales", fx.cashier, "push-1", body, &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
    for (int i = 0; i < 3000 && !found; i++) {
        if ((f = fopen(wallet_at("apns.log"), "r")) != NULL) {
            while (!found && fgets(line, sizeof line, f))
                found = strcmp(line, "/3/device/push-W pass.test.patron {}\n") == 0;
            fclose(f);
        }
        if (!found)
            usleep(10000);
    }
    kill((pid_t)pid, SIGTERM);
    assert_true(found);
    assert_int_equal(apit_stop(&fx.sv), 0);
    start_with_wallet();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(apple_pass_is_served_signed),
        cmocka_unit_test(google_link_is_served_signed),
        cmocka_unit_test(unknown_card_and_no_token),
        cmocka_unit_test(pass_web_service),
        cmocka_unit_test(missing_settings_say_which),
        cmocka_unit_test(a_balance_change_is_pushed_by_the_service),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
