/* SPDX-License-Identifier: MIT */
/* The counter service over real HTTP: `patron serve` runs as a child on 127.0.0.1 port 0 and
 * these tests call every route, with and without tokens and roles, replay idempotent requests,
 * send bad bodies, hold docs/openapi.yaml to the route table, and stop the service with
 * SIGTERM. */
#include "apiutil.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "patron/terminal.h"

static struct fixture {
    struct api_server sv;
    char cashier[64], manager[64], admin[64];
    char card_a[14], card_b[14];
    int64_t reward_id;
} fx;

static int port(void)
{
    return fx.sv.port;
}

/* Checks a problem document: status, content type, stable type URI and code. */
static void assert_problem(const struct apit_reply *r, long status, const char *code)
{
    char type[128];
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
    assert_string_equal(r->type, "application/problem+json");
    assert_non_null(r->json);
    assert_int_equal(apit_jint(r->json, "status"), status);
    assert_non_null(apit_jstr(r->json, "title"));
    if (code) {
        char lower[64];
        size_t i = 0;
        for (; i < sizeof lower - 1 && code[i]; i++)
            lower[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] + 32 : code[i]);
        lower[i] = '\0';
        snprintf(type, sizeof type, "https://patron.invalid/problems/%s", lower);
        assert_string_equal(apit_jstr(r->json, "type"), type);
        assert_string_equal(apit_jstr(r->json, "code"), code);
    }
}

static void sale(const char *token, const char *card, const char *ref, long total, const char *key,
                 struct apit_reply *r)
{
    char body[256];
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":%ld}", card, ref, total);
    apit_call(port(), "POST", "/v1/sales", token, key, body, r);
}

static int64_t points_of(const char *card)
{
    char body[64];
    struct apit_reply r;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", card);
    apit_call(port(), "POST", "/v1/scan", fx.cashier, NULL, body, &r);
    assert_int_equal(r.status, 200);
    int64_t p = apit_jint(r.json, "points");
    apit_reply_free(&r);
    return p;
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    apit_terminal(&fx.sv, "owner", "admin", fx.admin);
    apit_member(&fx.sv, "Ada", fx.card_a);
    apit_member(&fx.sv, "Bob", fx.card_b);
    json_t *j = apit_patron(&fx.sv, "reward", "add", "--name", "Coffee", "--cost", "100", "--kind",
                            "item", "--value", "1", (char *)NULL);
    fx.reward_id = apit_jint(j, "reward_id");
    json_decref(j);
    /* The writer waits for a lock held by another program as long as concurrent_sales_share_commits
     * may hold it. */
    apit_start(&fx.sv, "--busy-timeout", "120", (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void health_needs_no_token(void **state)
{
    struct apit_reply r;
    (void)state;
    apit_call(port(), "GET", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.type, "application/json");
    assert_string_equal(apit_jstr(r.json, "status"), "ok");
    assert_int_equal(apit_jint(r.json, "store_id"), 1);
    assert_non_null(strchr(apit_jstr(r.json, "time"), 'T'));
    apit_reply_free(&r);
}

static void tokens_are_required_and_checked(void **state)
{
    struct apit_reply r;
    char body[64];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card_a);
    apit_call(port(), "POST", "/v1/scan", NULL, NULL, body, &r);
    assert_problem(&r, 401, "EAUTH");
    assert_true(r.www_auth);
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/scan", "ptk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL,
              body, &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/scan", "not a token", NULL, body, &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
    /* A revoked till is refused at once, while the service runs. */
    char gone[64];
    apit_terminal(&fx.sv, "old-till", "cashier", gone);
    apit_call(port(), "POST", "/v1/scan", gone, NULL, body, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    json_decref(apit_patron(&fx.sv, "terminal", "revoke", "old-till", (char *)NULL));
    apit_call(port(), "POST", "/v1/scan", gone, NULL, body, &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

/* A scan with tok over the connection h is refused 401 EAUTH, and h made no new connection. */
static void refused_on_the_same_connection(CURL *h, const char *tok, const char *body)
{
    struct apit_reply r;
    long fresh = -1;
    assert_int_equal(apit_request(h, port(), "POST", "/v1/scan", tok, NULL, body, &r), 0);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
    assert_int_equal(fresh, 0);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

/* A till's token is checked on every request, also over a connection it keeps open: revoked by
 * `patron terminal revoke` (another process) or rotated, it is refused on the very next request
 * over the same keep-alive connection. */
static void revocation_reaches_a_kept_connection_at_once(void **state)
{
    struct apit_reply r;
    char body[64], tok[64];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card_a);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    apit_terminal(&fx.sv, "kept-till", "cashier", tok);
    for (int i = 0; i < 3; i++) { /* the service has seen the token on this connection */
        assert_int_equal(apit_request(h, port(), "POST", "/v1/scan", tok, NULL, body, &r), 0);
        assert_int_equal(r.status, 200);
        apit_reply_free(&r);
    }
    json_decref(apit_patron(&fx.sv, "terminal", "rotate", "kept-till", (char *)NULL));
    refused_on_the_same_connection(h, tok, body);
    apit_terminal(&fx.sv, "kept-till-2", "cashier", tok);
    assert_int_equal(apit_request(h, port(), "POST", "/v1/scan", tok, NULL, body, &r), 0);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    json_decref(apit_patron(&fx.sv, "terminal", "revoke", "kept-till-2", (char *)NULL));
    refused_on_the_same_connection(h, tok, body);
    curl_easy_cleanup(h);
}

/* `patron terminal rotate` gives the till a new token that works at once, against the running
 * service, and the old one stops working at once; the till keeps its id, name and role. */
static void rotate_replaces_the_token_at_once(void **state)
{
    struct apit_reply r;
    char body[64], old[64], fresh[64];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card_a);
    apit_terminal(&fx.sv, "rotating-till", "cashier", old);
    json_t *j = apit_patron(&fx.sv, "terminal", "rotate", "rotating-till", (char *)NULL);
    assert_string_equal(apit_jstr(j, "name"), "rotating-till");
    assert_string_equal(apit_jstr(j, "role"), "cashier");
    assert_non_null(apit_jstr(j, "token"));
    snprintf(fresh, sizeof fresh, "%s", apit_jstr(j, "token"));
    json_decref(j);
    assert_int_equal(strlen(fresh), strlen(old));
    assert_string_not_equal(fresh, old);
    apit_call(port(), "POST", "/v1/scan", old, NULL, body, &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/scan", fresh, NULL, body, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    /* A revoked till gets no new token. */
    json_decref(apit_patron(&fx.sv, "terminal", "revoke", "rotating-till", (char *)NULL));
    patron_store *s;
    struct patron_terminal t;
    char again[PATRON_TOKEN_LEN + 1];
    assert_int_equal(patron_store_open(fx.sv.db, &s), 0);
    assert_int_equal(patron_terminal_rotate(s, "rotating-till", &t, again), PATRON_EINACTIVE);
    assert_int_equal(patron_terminal_rotate(s, "no-such-till", &t, again), PATRON_ENOTFOUND);
    patron_store_close(s);
    apit_call(port(), "POST", "/v1/scan", fresh, NULL, body, &r);
    assert_problem(&r, 401, "EAUTH");
    apit_reply_free(&r);
}

static int64_t audit_lines(void)
{
    patron_store *s;
    int64_t n = -1;
    assert_int_equal(patron_store_open(fx.sv.db, &s), 0);
    assert_int_equal(patron_audit_count(s, &n), 0);
    patron_store_close(s);
    return n;
}

static void roles_are_enforced_and_audited(void **state)
{
    struct apit_reply r;
    char body[160];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"points\":5,\"reason\":\"goodwill\"}",
             fx.card_b);
    int64_t before = audit_lines();
    apit_call(port(), "POST", "/v1/adjustments", fx.cashier, "adj-1", body, &r);
    assert_problem(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    assert_int_equal(audit_lines(), before + 1); /* the refusal is in the audit log */
    int64_t points = points_of(fx.card_b);
    apit_call(port(), "POST", "/v1/adjustments", fx.manager, "adj-2", body, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(apit_jint(r.json, "points"), points + 5);
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/adjustments", fx.admin, "adj-3", body, &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
    assert_int_equal(audit_lines(), before + 3);
    assert_int_equal(points_of(fx.card_b), points + 10);
}

/* An adjustment sent again with its key answers its first answer (the entry and the points
 * then), though a sale moved the balance in between. */
static void adjustments_replay_their_first_answer(void **state)
{
    struct apit_reply r;
    char body[160];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"points\":7,\"reason\":\"goodwill\"}",
             fx.card_b);
    int64_t before = points_of(fx.card_b);
    apit_call(port(), "POST", "/v1/adjustments", fx.manager, "adj-replay", body, &r);
    assert_int_equal(r.status, 201);
    int64_t entry = apit_jint(r.json, "entry_id"), answered = apit_jint(r.json, "points");
    assert_int_equal(answered, before + 7);
    apit_reply_free(&r);
    sale(fx.cashier, fx.card_b, "adj-r-1", 5000, "sale-adj-r-1", &r);
    assert_int_equal(r.status, 201);
    int64_t after_sale = apit_jint(r.json, "points");
    assert_true(after_sale > answered);
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/adjustments", fx.manager, "adj-replay", body, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(apit_jint(r.json, "entry_id"), entry);
    assert_int_equal(apit_jint(r.json, "points"), answered);
    assert_true(json_is_true(json_object_get(r.json, "replayed")));
    apit_reply_free(&r);
    assert_int_equal(points_of(fx.card_b), after_sale);
}

static void scan_and_member_show_the_member(void **state)
{
    struct apit_reply r;
    char body[64], path[64];
    (void)state;
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card_a);
    apit_call(port(), "POST", "/v1/scan", fx.cashier, NULL, body, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "name"), "Ada");
    assert_true(json_is_array(json_object_get(r.json, "rewards")));
    assert_true(json_is_array(json_object_get(r.json, "offers")));
    assert_non_null(apit_jstr(r.json, "tier"));
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/members/%s", fx.card_a);
    apit_call(port(), "GET", path, fx.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "card"), fx.card_a);
    assert_int_equal(apit_jint(r.json, "member_id"), 1); /* Ada, the first enrolled */
    apit_reply_free(&r);
    apit_call(port(), "GET", "/v1/members/2900000000001", fx.cashier, NULL, NULL, &r);
    assert_true(r.status == 404 || r.status == 400);
    assert_string_equal(r.type, "application/problem+json");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/scan", fx.cashier, NULL, "{\"card\":\"2900000000012\"}", &r);
    assert_problem(&r, 400, "ECHECKDIGIT");
    apit_reply_free(&r);
}

static void sales_replay_and_refuse_key_reuse(void **state)
{
    struct apit_reply r, again;
    (void)state;
    int64_t before = points_of(fx.card_a);
    sale(fx.cashier, fx.card_a, "R-100", 12345, "sale-100", &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(apit_jint(r.json, "points"), before + apit_jint(r.json, "points_earned"));
    assert_int_equal(apit_jint(r.json, "points_earned"), 123); /* 12345 / 100, base tier */
    assert_false(r.replayed);
    sale(fx.cashier, fx.card_a, "R-100", 12345, "sale-100", &again);
    assert_int_equal(again.status, 201);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r); /* the first answer, saying it is one */
    assert_false(json_is_true(json_object_get(r.json, "replayed")));
    assert_true(json_is_true(json_object_get(again.json, "replayed"))); /* as the header says */
    apit_reply_free(&again);
    assert_int_equal(points_of(fx.card_a), apit_jint(r.json, "points")); /* earned once */
    apit_reply_free(&r);
    sale(fx.cashier, fx.card_a, "R-100", 99999, "sale-100", &r);
    assert_problem(&r, 422, "EIDEMPOTENCY");
    apit_reply_free(&r);
    /* The same receipt under a new key: refused by the rule (409), naming the first sale. */
    sale(fx.cashier, fx.card_a, "R-100", 12345, "sale-100-again", &r);
    assert_problem(&r, 409, "EDUPLICATE");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "sale ref R-100 was already recorded"));
    apit_reply_free(&r);
    sale(fx.cashier, fx.card_a, "R-101", 100, NULL, &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    /* A sale with lines, and its refund by a cashier within the limit. */
    char body[400];
    snprintf(body, sizeof body,
             "{\"card\":\"%s\",\"ref\":\"R-102\",\"total\":3000,\"currency\":\"EUR\","
             "\"lines\":[{\"sku\":\"A\",\"category\":\"food\",\"qty\":2,\"unit_price\":1000},"
             "{\"sku\":\"B\",\"category\":\"food\",\"qty\":1,\"unit_price\":1000}]}",
             fx.card_a);
    apit_call(port(), "POST", "/v1/sales", fx.cashier, "sale-102", body, &r);
    assert_int_equal(r.status, 201);
    int64_t earned = apit_jint(r.json, "points_earned");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/refunds", fx.cashier, "refund-102",
              "{\"ref\":\"R-102\",\"lines\":[{\"sku\":\"B\",\"qty\":1}]}", &r);
    assert_int_equal(r.status, 201);
    assert_true(apit_jint(r.json, "points_reversed") <= earned);
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/refunds", fx.cashier, "refund-none", "{\"ref\":\"NOPE\"}", &r);
    assert_problem(&r, 404, "ENOSALE");
    apit_reply_free(&r);
}

/* Two tills that happen to use the same key string each get their own request done. */
static void keys_are_scoped_by_till(void **state)
{
    struct apit_reply a, b, again;
    (void)state;
    sale(fx.cashier, fx.card_a, "R-T1", 1000, "shared-key-1", &a);
    assert_int_equal(a.status, 201);
    sale(fx.manager, fx.card_b, "R-T2", 2000, "shared-key-1", &b);
    assert_int_equal(b.status, 201);
    assert_false(b.replayed);
    assert_int_not_equal(apit_jint(b.json, "sale_id"), apit_jint(a.json, "sale_id"));
    sale(fx.cashier, fx.card_a, "R-T1", 1000, "shared-key-1", &again); /* till-1's retry */
    apit_assert_replay_of(&again, &a);
    apit_reply_free(&again);
    sale(fx.manager, fx.card_b, "R-T2", 2000, "shared-key-1", &again); /* the office's */
    apit_assert_replay_of(&again, &b);
    apit_reply_free(&again);
    apit_reply_free(&a);
    apit_reply_free(&b);
}

/* A refund of one item of sale R-300 under return receipt `return_ref`. */
static void return_one(const char *key, const char *return_ref, const char *sku,
                       struct apit_reply *r)
{
    char body[160];
    snprintf(body, sizeof body,
             "{\"ref\":\"R-300\",\"return_ref\":\"%s\",\"lines\":[{\"sku\":\"%s\",\"qty\":1}]}",
             return_ref, sku);
    apit_call(port(), "POST", "/v1/refunds", fx.cashier, key, body, r);
}

/* Each refund names its return receipt: two returns of one line are two refunds; the same
 * return_ref again (under any key) answers the first; reused for another return, 409. */
static void refunds_have_their_own_return_ref(void **state)
{
    struct apit_reply r, second, again;
    char body[300];
    (void)state;
    snprintf(body, sizeof body,
             "{\"card\":\"%s\",\"ref\":\"R-300\",\"total\":3000,\"lines\":[{\"sku\":\"CAKE\","
             "\"category\":\"food\",\"qty\":2,\"unit_price\":1000},{\"sku\":\"TEA\","
             "\"category\":\"food\",\"qty\":1,\"unit_price\":1000}]}",
             fx.card_b);
    apit_call(port(), "POST", "/v1/sales", fx.cashier, "sale-300", body, &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
    return_one("ret-300-1", "RET-300-1", "CAKE", &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(apit_jstr(r.json, "return_ref"), "RET-300-1");
    return_one("ret-300-2", "RET-300-2", "CAKE", &second);
    assert_int_equal(second.status, 201);
    assert_false(second.replayed);
    assert_int_not_equal(apit_jint(second.json, "refund_id"), apit_jint(r.json, "refund_id"));
    return_one("ret-300-2-retry", "RET-300-2", "CAKE", &again);
    assert_int_equal(again.status, 201);
    assert_true(again.replayed);
    assert_true(json_is_true(json_object_get(again.json, "replayed")));
    assert_int_equal(apit_jint(again.json, "refund_id"), apit_jint(second.json, "refund_id"));
    apit_reply_free(&again);
    return_one("ret-300-2-tea", "RET-300-2", "TEA", &again);
    assert_problem(&again, 409, "EDUPLICATE");
    apit_reply_free(&again);
    return_one("ret-300-3", "RET-300-3", "CAKE", &again);
    assert_problem(&again, 409, "EREFUND");
    apit_reply_free(&again);
    apit_reply_free(&second);
    apit_reply_free(&r);
}

static void big_refunds_need_a_manager(void **state)
{
    struct apit_reply r;
    (void)state;
    /* 500,000 minor units earn far more than the default cashier limit of 1000 points. */
    sale(fx.cashier, fx.card_b, "R-BIG", 500000, "sale-big", &r);
    assert_int_equal(r.status, 201);
    assert_true(apit_jint(r.json, "points_earned") > 1000);
    apit_reply_free(&r);
    int64_t before = points_of(fx.card_b);
    apit_call(port(), "POST", "/v1/refunds", fx.cashier, "refund-big-1", "{\"ref\":\"R-BIG\"}", &r);
    assert_problem(&r, 403, "EFORBIDDEN");
    apit_reply_free(&r);
    assert_int_equal(points_of(fx.card_b), before); /* undone, not half-done */
    apit_call(port(), "POST", "/v1/refunds", fx.manager, "refund-big-2", "{\"ref\":\"R-BIG\"}", &r);
    assert_int_equal(r.status, 201);
    assert_true(apit_jint(r.json, "points_reversed") > 1000);
    apit_reply_free(&r);
}

static void rewards_list_and_redeem(void **state)
{
    struct apit_reply r, again;
    char path[64], body[64];
    (void)state;
    apit_call(port(), "GET", "/v1/rewards", fx.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    json_t *list = json_object_get(r.json, "rewards");
    assert_int_equal(json_array_size(list), 1); /* the one reward of the fixture */
    assert_int_equal(apit_jint(json_array_get(list, 0), "cost"), 100);
    apit_reply_free(&r);
    sale(fx.cashier, fx.card_a, "R-200", 20000, "sale-200", &r);
    apit_reply_free(&r);
    int64_t before = points_of(fx.card_a);
    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)fx.reward_id);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.card_a);
    apit_call(port(), "POST", path, fx.cashier, "redeem-1", body, &r);
    assert_int_equal(r.status, 201);
    assert_int_equal(apit_jint(r.json, "points"), before - 100);
    apit_call(port(), "POST", path, fx.cashier, "redeem-1", body, &again);
    assert_true(again.replayed);
    apit_assert_replay_of(&again, &r);
    apit_reply_free(&again);
    apit_reply_free(&r);
    assert_int_equal(points_of(fx.card_a), before - 100);
    apit_call(port(), "POST", "/v1/rewards/999/redeem", fx.cashier, "redeem-2", body, &r);
    assert_problem(&r, 404, "ENOREWARD");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/rewards/abc/redeem", fx.cashier, "redeem-3", body, &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    /* A member without the points is refused by the rule, with 409. */
    char poor[14];
    apit_member(&fx.sv, "Poor", poor);
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", poor);
    apit_call(port(), "POST", path, fx.cashier, "redeem-4", body, &r);
    assert_problem(&r, 409, "ENOFUNDS");
    apit_reply_free(&r);
}

static void members_enroll_with_replay(void **state)
{
    struct apit_reply r, again;
    char path[64];
    const char *body = "{\"name\":\"Cleo\",\"email\":\"cleo@example.org\","
                       "\"consent_marketing\":true}";
    (void)state;
    apit_call(port(), "POST", "/v1/members", fx.cashier, "enroll-cleo", body, &r);
    assert_int_equal(r.status, 201);
    assert_non_null(apit_jstr(r.json, "card"));
    apit_call(port(), "POST", "/v1/members", fx.cashier, "enroll-cleo", body, &again);
    assert_true(again.replayed);
    assert_string_equal(apit_jstr(again.json, "card"),
                        apit_jstr(r.json, "card")); /* not a second member */
    apit_reply_free(&again);
    snprintf(path, sizeof path, "/v1/members/%s", apit_jstr(r.json, "card"));
    apit_call(port(), "GET", path, fx.cashier, NULL, NULL, &again);
    assert_int_equal(again.status, 200);
    assert_string_equal(apit_jstr(again.json, "name"), "Cleo");
    assert_true(json_is_true(json_object_get(again.json, "consent_marketing")));
    apit_reply_free(&again);
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/members", fx.cashier, NULL, "{\"name\":\"\"}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
}

static void bad_bodies_are_problems(void **state)
{
    static const char *const bodies[] = {
        "{",
        "[]",
        "\"card\"",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1,\"tip\":5}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":\"12\"}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1.5}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":-1}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1000000000000}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":99999999999999999999999}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1e400}",
        "{\"card\":\"2900000000017\",\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1,\"lines\":[5]}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1,\"lines\":[{\"sku\":\"A\"}]}",
        "{\"card\":\"2900000000017\",\"ref\":\"X\",\"total\":1,\"lines\":{}}",
        "{\"card\":\"2900000000017\",\"ref\":\"\",\"total\":1}",
        "{\"card\":null,\"ref\":\"X\",\"total\":1}",
        "{\"ref\":\"X\",\"total\":1}",
        "{\"card\":\"29\\u0000\",\"ref\":\"X\",\"total\":1}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct apit_reply r;
        char key[32];
        snprintf(key, sizeof key, "bad-%zu", i);
        apit_call(port(), "POST", "/v1/sales", fx.cashier, key, bodies[i], &r);
        if (r.status != 400)
            fprintf(stderr, "body %zu: %s\n", i, bodies[i]);
        assert_problem(&r, 400, "EINVAL");
        assert_non_null(apit_jstr(r.json, "detail"));
        apit_reply_free(&r);
    }
    /* Too large: refused before it is parsed. */
    size_t big = 70 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, ' ', big);
    huge[big] = '\0';
    huge[0] = '{';
    huge[big - 1] = '}';
    struct apit_reply r;
    apit_call(port(), "POST", "/v1/sales", fx.cashier, "bad-huge", huge, &r);
    assert_problem(&r, 413, "ETOOBIG");
    apit_reply_free(&r);
    free(huge);
    apit_call(port(), "GET", "/v1/health", NULL, NULL, "{\"x\":1}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    apit_call(port(), "POST", "/v1/sales", fx.cashier, "has space", "{}", &r);
    assert_problem(&r, 400, "EINVAL");
    apit_reply_free(&r);
    /* The service is still there. */
    apit_call(port(), "GET", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
}

static void unknown_routes_and_methods(void **state)
{
    struct apit_reply r;
    (void)state;
    apit_call(port(), "GET", "/v1/nothing", fx.cashier, NULL, NULL, &r);
    assert_problem(&r, 404, "ENOTFOUND");
    apit_reply_free(&r);
    apit_call(port(), "DELETE", "/v1/sales", fx.cashier, NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.type, "application/problem+json");
    apit_reply_free(&r);
}

static void metrics_in_prometheus_format(void **state)
{
    struct apit_reply r;
    (void)state;
    apit_call(port(), "GET", "/metrics", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.type, "text/plain"));
    static const char *const names[] = {
        "# TYPE patron_http_requests_total counter",
        "patron_http_requests_total{method=\"POST\",route=\"/v1/sales\",code=\"201\"}",
        "# TYPE patron_http_request_duration_seconds histogram",
        "patron_commits_total ",
        "patron_db_commits_total ",
        "patron_batch_size_bucket{le=\"+Inf\"}",
        "patron_write_queue_depth ",
        "patron_write_requests_pending ",
        "patron_http_connections ",
        "patron_printer_state{state=",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strstr(r.body, names[i]))
            fprintf(stderr, "missing: %s\n", names[i]);
        assert_non_null(strstr(r.body, names[i]));
    }
    apit_reply_free(&r);
}

/* "METHOD PATH" lines of docs/openapi.yaml: paths at two spaces under `paths:`, methods at
 * four. The file keeps that plain layout on purpose. */
static size_t openapi_routes(char routes[][96], size_t cap)
{
    char path[512], line[512], current[80] = "";
    int in_paths = 0;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/docs/openapi.yaml", getenv("PATRON_SOURCE_DIR"));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != ' ' && line[0] != '\0' && line[0] != '#')
            in_paths = strcmp(line, "paths:") == 0;
        else if (in_paths && strncmp(line, "  /", 3) == 0 && line[strlen(line) - 1] == ':')
            snprintf(current, sizeof current, "%.*s", (int)strlen(line) - 3, line + 2);
        else if (in_paths && current[0] && strncmp(line, "    ", 4) == 0 && line[4] != ' ') {
            static const char *const methods[] = {"get:", "post:", "put:", "delete:", "patch:"};
            for (size_t m = 0; m < 5; m++) {
                if (strcmp(line + 4, methods[m]) == 0 && n < cap) {
                    char upper[8];
                    size_t k = 0;
                    for (; methods[m][k] != ':'; k++)
                        upper[k] = (char)(methods[m][k] - 32);
                    upper[k] = '\0';
                    snprintf(routes[n++], 96, "%s %s", upper, current);
                }
            }
        }
    }
    fclose(f);
    return n;
}

static int contains(char list[][96], size_t n, const char *route)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], route) == 0)
            return 1;
    return 0;
}

/* A counter of /metrics, read from its "name value" line. */
static long long metric(const char *name)
{
    struct apit_reply r;
    char needle[128];
    apit_call(port(), "GET", "/metrics", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    snprintf(needle, sizeof needle, "\n%s ", name);
    const char *p = strstr(r.body, needle);
    if (!p)
        fprintf(stderr, "no %s in /metrics\n", name);
    assert_non_null(p);
    long long v = strtoll(p + strlen(needle), NULL, 10);
    apit_reply_free(&r);
    return v;
}

/* A store without webhook endpoints: its writes do not wake the webhook worker, which runs no
 * round (patron_webhook_rounds_total stays at 0 however many sales are made). */
static void no_webhook_rounds_without_endpoints(void **state)
{
    struct apit_reply r;
    char ref[32];
    (void)state;
    assert_int_equal(metric("patron_webhook_rounds_total"), 0);
    for (int i = 0; i < 20; i++) {
        snprintf(ref, sizeof ref, "nohook-%d", i);
        sale(fx.cashier, fx.card_a, ref, 500, ref, &r);
        assert_int_equal(r.status, 201);
        apit_reply_free(&r);
    }
    assert_int_equal(metric("patron_webhook_rounds_total"), 0);
}

#define SHARERS 8
/* The bound on waiting for the sales to queue; the service's writer waits for the lock longer
 * (--busy-timeout 120 in setup). A bound, not a measure: the test goes on as soon as they queue. */
#define SHARE_WAIT_S 60

static int64_t monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

struct sharer {
    int id;
    long status;
};

static void *share_sale(void *arg)
{
    struct sharer *c = arg;
    struct apit_reply r;
    char key[32], body[160];
    snprintf(key, sizeof key, "share-%d", c->id);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":700}", fx.card_b, key);
    int rc = apit_request(NULL, port(), "POST", "/v1/sales", fx.cashier, key, body, &r);
    c->status = rc == CURLE_OK ? r.status : 0;
    apit_reply_free(&r);
    return NULL;
}

/* Concurrent sales share commits: SQLite's own count of commits on the writer's connection
 * (patron_db_commits_total) grows by fewer than the number of sales. Another connection holds
 * the write lock, so the writer's first batch waits for it (the service runs with
 * --busy-timeout 120, longer than the test waits however busy the machine) and the other
 * sales queue behind it; the test waits until three are taken in and unanswered (a state, not a
 * time: patron_write_requests_pending), then lets go. None of the three can commit before the
 * lock goes, so either two of them are in the waiting batch, or two wait in the queue and the
 * next batch takes both: at least two sales share a commit however the writer took them. With
 * group commit disabled (--batch-max 1) there would be one commit per sale. */
static void concurrent_sales_share_commits(void **state)
{
    static struct sharer c[SHARERS];
    pthread_t threads[SHARERS];
    sqlite3 *holder;
    (void)state;
    long long before = metric("patron_db_commits_total");
    assert_int_equal(sqlite3_open(fx.sv.db, &holder), SQLITE_OK);
    assert_int_equal(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    apit_set_timeout(SHARE_WAIT_S * 3); /* a sale may wait for the lock as long as the writer */
    for (int i = 0; i < SHARERS; i++) {
        c[i] = (struct sharer){.id = i};
        assert_int_equal(pthread_create(&threads[i], NULL, share_sale, &c[i]), 0);
    }
    int64_t deadline = monotonic_s() + SHARE_WAIT_S;
    while (metric("patron_write_requests_pending") < 3) {
        if (monotonic_s() > deadline)
            fail_msg("fewer than 3 sales waiting for the lock after %d s", SHARE_WAIT_S);
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    }
    assert_int_equal(sqlite3_exec(holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(holder);
    for (int i = 0; i < SHARERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(c[i].status, 201);
    }
    apit_set_timeout(30);
    long long commits = metric("patron_db_commits_total") - before;
    print_message("%d concurrent sales, %lld commits\n", SHARERS, commits);
    assert_true(commits >= 1);
    assert_true(commits < SHARERS);
}

static void openapi_documents_every_route(void **state)
{
    static char documented[64][96], served[64][96];
    char out[8192];
    (void)state;
    size_t n_doc = openapi_routes(documented, 64), n_served = 0;
    assert_true(n_doc > 5);
    assert_int_equal(test_run_patron(out, sizeof out, "serve", "--routes", (char *)NULL), 0);
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line && n_served < 64;
         line = strtok_r(NULL, "\n", &save))
        snprintf(served[n_served++], 96, "%s", line);
    for (size_t i = 0; i < n_served; i++) {
        if (!contains(documented, n_doc, served[i]))
            fprintf(stderr, "served but not documented: %s\n", served[i]);
        assert_true(contains(documented, n_doc, served[i]));
    }
    for (size_t i = 0; i < n_doc; i++) {
        if (!contains(served, n_served, documented[i]))
            fprintf(stderr, "documented but not served: %s\n", documented[i]);
        assert_true(contains(served, n_served, documented[i]));
    }
    /* Every documented route answers: not the router's 404 or 405. */
    for (size_t i = 0; i < n_doc; i++) {
        char method[8], path[96], real[128];
        struct apit_reply r;
        sscanf(documented[i], "%7s %95s", method, path);
        if (strcmp(path, "/v1/events") == 0)
            continue; /* a stream that stays open: test_api_events reads it */
        char *brace = strchr(path, '{');
        if (brace)
            snprintf(real, sizeof real, "%.*s%s%s", (int)(brace - path), path,
                     strstr(path, "{card}") ? fx.card_a : "1", strchr(brace, '}') + 1);
        else
            snprintf(real, sizeof real, "%s", path);
        apit_call(port(), method, real, fx.admin, NULL, strcmp(method, "POST") ? NULL : "{}", &r);
        const char *detail = r.json ? apit_jstr(r.json, "detail") : NULL;
        if (r.status == 405 || (detail && strcmp(detail, "no such route") == 0))
            fprintf(stderr, "%s does not answer\n", documented[i]);
        assert_int_not_equal(r.status, 405);
        assert_false(detail && strcmp(detail, "no such route") == 0);
        apit_reply_free(&r);
    }
}

static void beyond_loopback_needs_tls(void **state)
{
    struct api_server other = fx.sv;
    char why[256];
    const char *const args[] = {"--listen", "0.0.0.0:0", NULL};
    (void)state;
    snprintf(other.log, sizeof other.log, "%s/refused.log", fx.sv.dir);
    int status = apit_try_start(&other, why, args);
    assert_int_equal(status, 64);
    assert_non_null(strstr(why, "needs TLS"));
}

static void tls_serves_https(void **state)
{
    struct api_server tls = fx.sv;
    char cert[300], key[300], url[128];
    (void)state;
    if (apit_tls_files(&fx.sv, cert, key) != 0)
        skip();
    snprintf(tls.log, sizeof tls.log, "%s/tls.log", fx.sv.dir);
    apit_start(&tls, "--tls-cert", cert, "--tls-key", key, (char *)NULL);
    assert_non_null(strstr(tls.banner, "https://"));
    CURL *h = curl_easy_init();
    snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/health", tls.port);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fwrite);
    FILE *devnull = fopen("/dev/null", "w");
    curl_easy_setopt(h, CURLOPT_WRITEDATA, devnull);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    curl_easy_cleanup(h);
    fclose(devnull);
    assert_int_equal(apit_stop(&tls), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_needs_no_token),
        cmocka_unit_test(tokens_are_required_and_checked),
        cmocka_unit_test(revocation_reaches_a_kept_connection_at_once),
        cmocka_unit_test(roles_are_enforced_and_audited),
        cmocka_unit_test(adjustments_replay_their_first_answer),
        cmocka_unit_test(scan_and_member_show_the_member),
        cmocka_unit_test(sales_replay_and_refuse_key_reuse),
        cmocka_unit_test(keys_are_scoped_by_till),
        cmocka_unit_test(refunds_have_their_own_return_ref),
        cmocka_unit_test(big_refunds_need_a_manager),
        cmocka_unit_test(rewards_list_and_redeem),
        cmocka_unit_test(members_enroll_with_replay),
        cmocka_unit_test(bad_bodies_are_problems),
        cmocka_unit_test(unknown_routes_and_methods),
        cmocka_unit_test(metrics_in_prometheus_format),
        cmocka_unit_test(rotate_replaces_the_token_at_once),
        cmocka_unit_test(concurrent_sales_share_commits),
        cmocka_unit_test(no_webhook_rounds_without_endpoints),
        cmocka_unit_test(openapi_documents_every_route),
        cmocka_unit_test(beyond_loopback_needs_tls),
        cmocka_unit_test(tls_serves_https),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
