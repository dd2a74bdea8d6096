/* SPDX-License-Identifier: MIT */
/* The browser app over HTTP: its files served from the program with the security headers (CSP
 * without inline script and no framing, nosniff, no referrer) and an ETag to revalidate; browser
 * sessions signed in with the till token (HttpOnly, SameSite=Strict cookie and a CSRF token),
 * standing for the token on every route with the till's role enforced as for the token, a change
 * without the CSRF token refused, signing out and expiry answered 401; and the coupon's picture
 * from the virtual printer. */
#include "apiutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW "2026-03-10T12:00:00Z"

static struct fixture {
    struct api_server sv;
    char cashier[64], manager[64];
    char ada[14];
    int64_t reward_id;
} fx;

#define CLI(...) apit_patron(&fx.sv, "--now", NOW, "--printer", "none", __VA_ARGS__, (char *)NULL)

static int setup(void **state)
{
    char spec[400];
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    json_t *j = CLI("member", "enroll", "--name", "Ada");
    snprintf(fx.ada, sizeof fx.ada, "%s", apit_jstr(j, "card"));
    json_decref(j);
    json_decref(CLI("sale", fx.ada, "--ref", "SEED-A", "--total", "100000"));
    j = CLI("reward", "add", "--name", "Coffee", "--cost", "100", "--kind", "item", "--value", "1");
    fx.reward_id = apit_jint(j, "reward_id");
    json_decref(j);
    snprintf(spec, sizeof spec, "virtual:%s/prints", fx.sv.dir);
    apit_start(&fx.sv, "--now", NOW, "--printer", spec, (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void assert_header(const struct apit_reply *r, const char *name, const char *want)
{
    char got[512];
    apit_header(r, name, got, sizeof got);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "%s: expected \"%s\", got \"%s\"\n", name, want, got);
    assert_string_equal(got, want);
}

static void assert_security_headers(const struct apit_reply *r)
{
    char csp[512];
    apit_header(r, "Content-Security-Policy", csp, sizeof csp);
    assert_non_null(strstr(csp, "default-src 'self'"));
    assert_non_null(strstr(csp, "script-src 'self';"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "unsafe-eval"));
    assert_header(r, "X-Content-Type-Options", "nosniff");
    assert_header(r, "Referrer-Policy", "no-referrer");
}

static void get(int port, const char *path, const char *const *headers, struct apit_reply *r)
{
    assert_int_equal(apit_request_with(NULL, port, "GET", path, headers, NULL, r), CURLE_OK);
}

static void the_app_is_served_with_its_headers(void **state)
{
    struct apit_reply r;
    char etag[128], inm[160];
    (void)state;
    get(fx.sv.port, "/", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "<script type=\"module\" src=\"/app.js\"></script>"));
    assert_null(strstr(r.body, "<script>")); /* no inline script: the CSP would block it */
    assert_security_headers(&r);
    assert_header(&r, "Cache-Control", "no-cache");
    apit_header(&r, "ETag", etag, sizeof etag);
    assert_true(strlen(etag) > 2);
    apit_reply_free(&r);

    /* Unchanged: 304 without a body. */
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *h[] = {inm, NULL};
    get(fx.sv.port, "/index.html", h, &r);
    apit_assert_status(&r, 304, NULL);
    assert_int_equal(r.len, 0);
    apit_reply_free(&r);

    get(fx.sv.port, "/app.js", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "text/javascript; charset=utf-8");
    assert_security_headers(&r);
    apit_reply_free(&r);

    /* The API's replies carry the same headers. */
    apit_call(fx.sv.port, "GET", "/v1/health", NULL, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_security_headers(&r);
    apit_reply_free(&r);

    /* Nothing else: no file outside the app, nor its tests. */
    const char *missing[] = {"/nope.js", "/../README.md", "/test/package.json", "/.hidden.js",
                             "/%2e%2e/x.js"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        get(fx.sv.port, missing[i], NULL, &r);
        apit_assert_status(&r, 404, "ENOTFOUND");
        apit_reply_free(&r);
    }
}

/* Signs in with a till token; copies "Cookie: patron_session=..." and "X-CSRF-Token: ...". */
static void sign_in(int port, const char *token, const char *max_age, char cookie[160],
                    char csrf[120])
{
    struct apit_reply r;
    char body[160], set[400];
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    assert_int_equal(apit_request_with(NULL, port, "POST", "/v1/session", NULL, body, &r),
                     CURLE_OK);
    apit_assert_status(&r, 201, NULL);
    apit_header(&r, "Set-Cookie", set, sizeof set);
    assert_true(strncmp(set, "patron_session=", 15) == 0);
    assert_non_null(strstr(set, "; HttpOnly"));
    assert_non_null(strstr(set, "; SameSite=Strict"));
    assert_non_null(strstr(set, max_age));
    assert_null(strstr(set, "Secure")); /* plain HTTP on loopback */
    snprintf(cookie, 160, "Cookie: %.*s", (int)strcspn(set, ";"), set);
    assert_int_equal(strlen(apit_jstr(r.json, "csrf_token")), 64);
    snprintf(csrf, 120, "X-CSRF-Token: %s", apit_jstr(r.json, "csrf_token"));
    assert_non_null(apit_jstr(json_object_get(r.json, "shop"), "name")); /* on every screen */
    apit_reply_free(&r);
}

static void a_session_stands_for_the_till_token(void **state)
{
    struct apit_reply r;
    char cookie[160], csrf[120], body[128];
    (void)state;
    sign_in(fx.sv.port, fx.cashier, "; Max-Age=43200;", cookie, csrf);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);

    /* A read with the cookie alone. */
    const char *read_h[] = {cookie, NULL};
    get(fx.sv.port, "/v1/session", read_h, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "role"), "cashier");
    assert_string_equal(apit_jstr(r.json, "till"), "till-1");
    assert_string_equal(apit_jstr(r.json, "csrf_token"), csrf + 14);
    apit_reply_free(&r);

    /* A change without the CSRF token, or with another one: refused, nothing done. */
    assert_int_equal(apit_request_with(NULL, fx.sv.port, "POST", "/v1/scan", read_h, body, &r),
                     CURLE_OK);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "X-CSRF-Token"));
    apit_reply_free(&r);
    const char *wrong_h[] = {cookie, "X-CSRF-Token: 00", NULL};
    assert_int_equal(apit_request_with(NULL, fx.sv.port, "POST", "/v1/scan", wrong_h, body, &r),
                     CURLE_OK);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);

    /* With it, as with the bearer token. */
    const char *write_h[] = {cookie, csrf, NULL};
    assert_int_equal(apit_request_with(NULL, fx.sv.port, "POST", "/v1/scan", write_h, body, &r),
                     CURLE_OK);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(apit_jstr(r.json, "name"), "Ada");
    apit_reply_free(&r);

    /* The till's role is enforced as for its token: a cashier's session on a manager's route. */
    get(fx.sv.port, "/v1/print-jobs", read_h, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    get(fx.sv.port, "/v1/offers", read_h, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);

    /* Signing out needs the CSRF token too; then the cookie is worth nothing. */
    assert_int_equal(apit_request_with(NULL, fx.sv.port, "DELETE", "/v1/session", read_h, NULL, &r),
                     CURLE_OK);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    assert_int_equal(
        apit_request_with(NULL, fx.sv.port, "DELETE", "/v1/session", write_h, NULL, &r), CURLE_OK);
    apit_assert_status(&r, 200, NULL);
    assert_non_null(strstr(r.headers, "patron_session=; Path=/; Max-Age=0"));
    apit_reply_free(&r);
    get(fx.sv.port, "/v1/session", read_h, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

static void a_manager_session_reaches_the_back_office(void **state)
{
    struct apit_reply r;
    char cookie[160], csrf[120];
    (void)state;
    sign_in(fx.sv.port, fx.manager, "; Max-Age=43200;", cookie, csrf);
    const char *h[] = {cookie, NULL};
    get(fx.sv.port, "/v1/print-jobs", h, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    /* An admin's route stays closed to a manager. */
    get(fx.sv.port, "/v1/reports/liability", h, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
}

static void the_shop_is_named_before_signing_in(void **state)
{
    struct apit_reply r;
    (void)state;
    apit_call(fx.sv.port, "GET", "/v1/shop", NULL, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_non_null(apit_jstr(r.json, "name"));
    assert_string_equal(apit_jstr(r.json, "locale"), "en-GB");
    apit_reply_free(&r);
}

static void a_bad_token_or_cookie_is_refused(void **state)
{
    struct apit_reply r;
    (void)state;
    assert_int_equal(apit_request_with(NULL, fx.sv.port, "POST", "/v1/session", NULL,
                                       "{\"token\":\"ptk_nothing\"}", &r),
                     CURLE_OK);
    apit_assert_status(&r, 401, "EAUTH");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "till token"));
    assert_null(strstr(r.headers, "Set-Cookie"));
    apit_reply_free(&r);
    const char *h[] = {"Cookie: patron_session=0123456789abcdef0123456789abcdef0123456789abcdef"
                       "0123456789abcdef",
                       NULL};
    get(fx.sv.port, "/v1/rewards", h, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
    get(fx.sv.port, "/v1/rewards", NULL, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

static void an_expired_session_is_sent_back_to_sign_in(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char token[64], cookie[160], csrf[120];
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "till-2", "cashier", token);
    apit_start(&sv, "--printer", "none", "--session-ttl", "1", (char *)NULL);
    sign_in(sv.port, token, "; Max-Age=1;", cookie, csrf);
    sleep(2); /* past the session's one second, however fast the machine */
    const char *h[] = {cookie, NULL};
    get(sv.port, "/v1/session", h, &r);
    apit_assert_status(&r, 401, "EAUTH");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "sign in again"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

static void the_coupon_picture_comes_from_the_virtual_printer(void **state)
{
    struct apit_reply r;
    char path[128], body[64];
    int64_t job = 0;
    (void)state;
    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)fx.reward_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    apit_call(fx.sv.port, "POST", path, fx.cashier, "web-coupon-1", body, &r);
    apit_assert_status(&r, 201, NULL);
    job = apit_jint(r.json, "print_job");
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/print-jobs/%lld", (long long)job);
    for (int i = 0; i < 1500; i++) { /* the printer thread prints it; 30 s at most */
        apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
        int printed = strcmp(apit_jstr(r.json, "status"), "printed") == 0;
        apit_reply_free(&r);
        if (printed)
            break;
        usleep(20000);
    }
    snprintf(path, sizeof path, "/v1/print-jobs/%lld/image", (long long)job);
    apit_call(fx.sv.port, "GET", path, fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "image/png");
    assert_true(r.len > 100);
    assert_memory_equal(r.body, "\x89PNG\r\n\x1a\n", 8);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/print-jobs/999999/image", fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
}

static void web_root_serves_the_app_from_disk(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char root[400], file[500];
    (void)state;
    apit_store_new(&sv);
    snprintf(root, sizeof root, "%s/web", sv.dir);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(file, sizeof file, "%s/index.html", root);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("<!doctype html><title>from disk</title>", f);
    fclose(f);
    snprintf(file, sizeof file, "%s/secret.txt", sv.dir); /* beside the folder, not in it */
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("secret", f);
    fclose(f);
    apit_start(&sv, "--printer", "none", "--web-root", root, (char *)NULL);
    get(sv.port, "/", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.body, "<!doctype html><title>from disk</title>");
    assert_security_headers(&r);
    assert_header(&r, "Cache-Control", "no-store"); /* edited while developing */
    apit_reply_free(&r);
    get(sv.port, "/../secret.txt", NULL, &r);
    apit_assert_status(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
    get(sv.port, "/app.js", NULL, &r); /* not in that folder: nothing from the built-in copy */
    apit_assert_status(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

static void tills_are_added_rotated_and_revoked_by_an_admin(void **state)
{
    struct apit_reply r;
    char admin[64], token[64], cookie[160], csrf[120], body[64];
    (void)state;
    apit_terminal(&fx.sv, "owner", "admin", admin);
    /* A cashier or a manager never sees the tills. */
    apit_call(fx.sv.port, "GET", "/v1/tills", fx.manager, NULL, NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    /* No kept reply may hold a token: an Idempotency-Key is refused. */
    apit_call(fx.sv.port, "POST", "/v1/tills", admin, "till-key-1",
              "{\"name\":\"till-9\",\"role\":\"cashier\"}", &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/tills", admin, NULL,
              "{\"name\":\"till-9\",\"role\":\"cashier\"}", &r);
    apit_assert_status(&r, 201, NULL);
    snprintf(token, sizeof token, "%s", apit_jstr(r.json, "token"));
    assert_string_equal(apit_jstr(r.json, "role"), "cashier");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    apit_call(fx.sv.port, "POST", "/v1/scan", token, NULL, body, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/tills", admin, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_non_null(strstr(r.body, "\"name\":\"till-9\""));
    assert_null(strstr(r.body, "ptk_")); /* tokens are never listed */
    apit_reply_free(&r);

    /* Rotating: the old token stops working, the new one works. */
    apit_call(fx.sv.port, "POST", "/v1/tills/till-9/rotate", admin, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    char fresh[64];
    snprintf(fresh, sizeof fresh, "%s", apit_jstr(r.json, "token"));
    apit_reply_free(&r);
    apit_call(fx.sv.port, "POST", "/v1/scan", token, NULL, body, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);

    /* Revoking ends the till's browser sessions too. */
    sign_in(fx.sv.port, fresh, "; Max-Age=43200;", cookie, csrf);
    const char *h[] = {cookie, NULL};
    apit_call(fx.sv.port, "POST", "/v1/tills/till-9/revoke", admin, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    get(fx.sv.port, "/v1/session", h, &r);
    apit_assert_status(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

static void the_back_office_finds_members(void **state)
{
    struct apit_reply r;
    char path[128];
    (void)state;
    json_decref(CLI("member", "enroll", "--name", "Grace Hopper", "--email", "Grace@Example.org",
                    "--phone", "+44 20 7946 0002"));
    const char *finds[][2] = {
        {"/v1/members?q=hopp", "Grace Hopper"},                     /* part of the name, any case */
        {"/v1/members?q=grace%40example.org", "Grace Hopper"},      /* the email, any case */
        {"/v1/members?q=%2B44%2020%207946%200002", "Grace Hopper"}, /* the phone as typed */
        {"/v1/members?q=Ada", "Ada"},
    };
    for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
        apit_call(fx.sv.port, "GET", finds[i][0], fx.manager, NULL, NULL, &r);
        apit_assert_status(&r, 200, NULL);
        assert_int_equal(apit_jint(r.json, "count"), 1);
        assert_string_equal(
            apit_jstr(json_array_get(json_object_get(r.json, "members"), 0), "name"), finds[i][1]);
        apit_reply_free(&r);
    }
    snprintf(path, sizeof path, "/v1/members?q=%s", fx.ada); /* the card */
    apit_call(fx.sv.port, "GET", path, fx.manager, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(r.json, "count"), 1);
    apit_reply_free(&r);
    /* '%' is a character to find, not a wildcard. */
    apit_call(fx.sv.port, "GET", "/v1/members?q=%25%25", fx.manager, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_int_equal(apit_jint(r.json, "count"), 0);
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/members?q=a", fx.manager, NULL, NULL, &r);
    apit_assert_status(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/members?q=Ada", fx.cashier, NULL, NULL, &r);
    apit_assert_status(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
}

static size_t keep_headers(char *data, size_t size, size_t n, void *ctx)
{
    char *buf = ctx;
    size_t used = strlen(buf), len = size * n;
    if (used + len < 4096) {
        memcpy(buf + used, data, len);
        buf[used + len] = '\0';
    }
    return len;
}

static size_t drop_body(char *data, size_t size, size_t n, void *ctx)
{
    (void)data, (void)ctx;
    return size * n;
}

static void under_tls_the_session_cookie_is_secure(void **state)
{
    struct api_server sv;
    char cert[300], key[300], token[64], url[128], body[128], headers[4096] = "";
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "till-3", "cashier", token);
    assert_int_equal(apit_tls_files(&sv, cert, key), 0);
    apit_start(&sv, "--printer", "none", "--tls-cert", cert, "--tls-key", key, (char *)NULL);
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    assert_non_null(h);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/session", sv.port);
    snprintf(body, sizeof body, "{\"token\":\"%s\"}", token);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L); /* a certificate made for this test */
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, keep_headers);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, drop_body);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 201);
    assert_non_null(strstr(headers, "; HttpOnly; SameSite=Strict; Secure"));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    assert_int_equal(apit_stop(&sv), 0);
    test_rmtree(sv.dir);
}

static void reports_draw_their_chart_as_svg(void **state)
{
    struct apit_reply r;
    char admin[64];
    (void)state;
    apit_terminal(&fx.sv, "owner-2", "admin", admin);
    apit_call(fx.sv.port, "GET", "/v1/reports/retention?format=svg", admin, NULL, NULL, &r);
    apit_assert_status(&r, 200, NULL);
    assert_string_equal(r.type, "image/svg+xml");
    assert_non_null(strstr(r.body, "<svg"));
    assert_null(strstr(r.body, "<script"));
    apit_reply_free(&r);
    apit_call(fx.sv.port, "GET", "/v1/reports/liability?format=svg", admin, NULL, NULL, &r);
    apit_assert_status(&r, 400, "EINVAL");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "has no chart"));
    apit_reply_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_app_is_served_with_its_headers),
        cmocka_unit_test(a_session_stands_for_the_till_token),
        cmocka_unit_test(a_manager_session_reaches_the_back_office),
        cmocka_unit_test(the_shop_is_named_before_signing_in),
        cmocka_unit_test(a_bad_token_or_cookie_is_refused),
        cmocka_unit_test(an_expired_session_is_sent_back_to_sign_in),
        cmocka_unit_test(the_coupon_picture_comes_from_the_virtual_printer),
        cmocka_unit_test(web_root_serves_the_app_from_disk),
        cmocka_unit_test(tills_are_added_rotated_and_revoked_by_an_admin),
        cmocka_unit_test(the_back_office_finds_members),
        cmocka_unit_test(under_tls_the_session_cookie_is_secure),
        cmocka_unit_test(reports_draw_their_chart_as_svg),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
