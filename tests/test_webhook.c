/* SPDX-License-Identifier: MIT */
/* The webhook module without a network, on a movable clock: endpoint rules, events derived from
 * committed outbox rows (and tier changes) with stable ids through the webhooks' own cursor,
 * personal data only where allowed, signatures recomputed here with OpenSSL, key rotation, the
 * retry schedule with its jitter and Retry-After, giving up after the last attempt, 410 Gone, and
 * retry on request. */
#include "testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct names {
    char list[1024];
    size_t n;
};

static int collect(const struct patron_webhook_delivery *d, void *ctx)
{
    struct names *n = ctx;
    size_t used = strlen(n->list);
    snprintf(n->list + used, sizeof n->list - used, "%s ", d->event);
    n->n++;
    return 0;
}

static int64_t add(struct test_store *t, const char *url, const char *events, int personal,
                   char *secret)
{
    struct patron_webhook_def def = {.url = url, .events = events, .personal = personal};
    int64_t id = 0;
    assert_int_equal(patron_webhook_add(t->s, &def, &id, secret), 0);
    return id;
}

static void sell(struct test_store *t, const char *card, const char *ref, int64_t total)
{
    struct patron_sale in = {
        .card = card, .ref = ref, .total_minor = total, .idempotency_key = ref};
    struct patron_sale_result r;
    if (patron_sale_record(t->s, &in, &r) != 0)
        fail_msg("sale %s: %s", ref, patron_store_detail(t->s));
}

static void urls_and_events_are_checked(void **state)
{
    struct test_store t;
    char secret[PATRON_WEBHOOK_SECRET_MAX];
    int64_t id;
    (void)state;
    test_store_open(&t);
    struct patron_webhook_def bad[] = {
        {.url = "http://example.com/hook", .events = "*"},
        {.url = "ftp://127.0.0.1/hook", .events = "*"},
        {.url = "https://example.com/hook", .events = "points.earned,points.bogus"},
        {.url = "https://example.com/hook", .events = ","},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(patron_webhook_add(t.s, &bad[i], &id, secret), PATRON_EINVAL);
    add(&t, "https://example.com/hook", "points.earned, tier.changed", 0, secret);
    assert_memory_equal(secret, "whsec_", 6);
    add(&t, "http://localhost:8080/hook", "*", 0, secret);
    add(&t, "http://[::1]:9/x", "*", 0, secret);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM webhook_endpoints"
                                      " WHERE events = ',points.earned,tier.changed,'"),
                     1);
    test_store_close(&t);
}

/* Each kind of committed fact becomes its event, once per subscribed endpoint, with an id built
 * from the store, the outbox row and the endpoint; the cursor never queues a row twice, and an
 * endpoint added later hears only of what comes after it. */
static void events_come_from_committed_rows(void **state)
{
    struct test_store t;
    char secret[PATRON_WEBHOOK_SECRET_MAX], card[14];
    struct names got = {0};
    size_t n = 0;
    (void)state;
    test_store_open(&t);
    assert_int_equal(patron_tier_set(t.s, "Gold", 100, 1500, "test"), 0);
    int64_t all = add(&t, "https://example.com/all", "*", 0, secret);
    test_enroll(&t, "Ada", card);
    sell(&t, card, "S-1", 50000); /* earns past Gold's threshold */
    struct patron_refund rf = {.ref = "S-1", .idempotency_key = "R-1"};
    struct patron_refund_result rr;
    assert_int_equal(patron_refund_record(t.s, &rf, &rr), 0);
    struct patron_sale nope = {
        .card = "2900000000001", .ref = "S-X", .total_minor = 100, .idempotency_key = "S-X"};
    struct patron_sale_result r;
    assert_true(patron_sale_record(t.s, &nope, &r) != 0); /* did not commit: no event */
    assert_int_equal(patron_webhook_enqueue(t.s, &n), 0);
    assert_int_equal(patron_webhook_deliveries(t.s, all, NULL, 100, collect, &got), 0);
    assert_non_null(strstr(got.list, "member.enrolled"));
    assert_non_null(strstr(got.list, "points.earned"));
    assert_non_null(strstr(got.list, "points.refunded"));
    assert_non_null(strstr(got.list, "tier.changed"));
    assert_int_equal(got.n, n);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM webhook_deliveries WHERE msg_id ="
                                      " CASE WHEN store_seq IS NOT NULL"
                                      " THEN printf('msg_1_%d_%d', store_seq, endpoint_id)"
                                      " ELSE printf('msg_1_t%d_%d', tier_change, endpoint_id) END"),
                     (int64_t)n);
    assert_int_equal(patron_webhook_enqueue(t.s, &n), 0);
    assert_int_equal(n, 0);
    int64_t later = add(&t, "https://example.com/later", "points.earned", 0, secret);
    sell(&t, card, "S-2", 1000);
    assert_int_equal(patron_webhook_enqueue(t.s, &n), 0);
    assert_int_equal(n, 2); /* S-2's earn, to both */
    memset(&got, 0, sizeof got);
    assert_int_equal(patron_webhook_deliveries(t.s, later, NULL, 100, collect, &got), 0);
    assert_string_equal(got.list, "points.earned ");
    test_store_close(&t);
}

/* The signature header recomputed from the secret: v1 = base64(HMAC-SHA256(key, id.ts.body)). */
static void assert_v1(const struct patron_webhook_request *r, const char *secret, int index)
{
    unsigned char key[64], mac[32];
    char b64[64], want[80], content[4096];
    unsigned int len = 0;
    int n = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)strlen(secret) - 6);
    assert_true(n >= 32);
    snprintf(content, sizeof content, "%s.%lld.%s", r->msg_id, (long long)r->timestamp, r->body);
    HMAC(EVP_sha256(), key, 32, (unsigned char *)content, strlen(content), mac, &len);
    EVP_EncodeBlock((unsigned char *)b64, mac, 32);
    snprintf(want, sizeof want, "v1,%s", b64);
    const char *p = r->signature;
    for (int i = 0; i < index; i++)
        p = strchr(p, ' ') + 1;
    assert_memory_equal(p, want, strlen(want));
}

static void signed_with_every_active_key_and_personal_data_kept_apart(void **state)
{
    struct test_store t;
    char plain[PATRON_WEBHOOK_SECRET_MAX], personal[PATRON_WEBHOOK_SECRET_MAX], card[14];
    char second[PATRON_WEBHOOK_SECRET_MAX];
    struct patron_webhook_request due[8];
    size_t n = 0;
    (void)state;
    test_store_open(&t);
    add(&t, "https://example.com/plain", "member.enrolled", 0, plain);
    add(&t, "https://example.com/personal", "member.enrolled", 1, personal);
    test_enroll(&t, "Ada Lovelace", card);
    assert_int_equal(patron_webhook_enqueue(t.s, NULL), 0);
    assert_int_equal(patron_webhook_due(t.s, due, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_null(strstr(due[0].body, "Ada"));
    assert_non_null(strstr(due[1].body, "\"name\":\"Ada Lovelace\""));
    assert_non_null(strstr(due[0].body, "\"type\":\"member.enrolled\""));
    assert_v1(&due[0], plain, 0);
    assert_v1(&due[1], personal, 0);
    assert_null(strchr(due[0].signature, ' '));
    for (size_t i = 0; i < n; i++)
        patron_webhook_request_free(&due[i]);
    assert_int_equal(patron_webhook_rotate(t.s, 1, PATRON_WEBHOOK_HMAC, 60, second), 0);
    assert_int_equal(patron_webhook_due(t.s, due, 8, &n), 0);
    assert_v1(&due[0], second, 0); /* newest first */
    assert_v1(&due[0], plain, 1);
    patron_webhook_request_free(&due[0]);
    patron_webhook_request_free(&due[1]);
    t.now += 61; /* the overlap is over: the old key no longer signs */
    assert_int_equal(patron_webhook_due(t.s, due, 8, &n), 0);
    assert_null(strchr(due[0].signature, ' '));
    assert_v1(&due[0], second, 0);
    patron_webhook_request_free(&due[0]);
    patron_webhook_request_free(&due[1]);
    test_store_close(&t);
}

static int64_t next_attempt(struct test_store *t, int64_t id)
{
    char sql[120];
    snprintf(sql, sizeof sql, "SELECT next_attempt FROM webhook_deliveries WHERE id = %lld",
             (long long)id);
    return test_scalar(t->s, sql);
}

/* 5 s, 5 min, 30 min, ... with 10% jitter, Retry-After when later, failed after ten attempts
 * (about three days); 410 disables the endpoint until `retry` enables it again. */
static void retried_with_backoff_then_given_up(void **state)
{
    static const int64_t backoff[] = {5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400};
    struct test_store t;
    char secret[PATRON_WEBHOOK_SECRET_MAX], card[14];
    struct patron_webhook_request due[4];
    size_t n = 0, count = 0;
    int64_t start;
    (void)state;
    test_store_open(&t);
    int64_t hook = add(&t, "https://example.com/h", "member.enrolled", 0, secret);
    test_enroll(&t, "Ada", card);
    assert_int_equal(patron_webhook_enqueue(t.s, NULL), 0);
    start = t.now;
    for (int attempt = 1; attempt <= PATRON_WEBHOOK_ATTEMPTS; attempt++) {
        assert_int_equal(patron_webhook_due(t.s, due, 4, &n), 0);
        assert_int_equal(n, 1);
        patron_webhook_request_free(&due[0]);
        int64_t after = attempt == 3 ? 20000 : 0; /* Retry-After beyond the back-off */
        assert_int_equal(patron_webhook_record(t.s, 1, attempt % 2 ? 500 : 0, after, "refused"), 0);
        if (attempt == PATRON_WEBHOOK_ATTEMPTS)
            break;
        int64_t wait = next_attempt(&t, 1) - t.now, base = backoff[attempt - 1];
        if (after)
            assert_int_equal(wait, after);
        else
            assert_true(wait >= base - base / 10 && wait <= base + base / 10);
        t.now += wait - 1;
        assert_int_equal(patron_webhook_due(t.s, due, 4, &n), 0);
        assert_int_equal(n, 0); /* not before its time */
        t.now += 1;
    }
    assert_true(t.now - start > 3 * TEST_DAY && t.now - start < 4 * TEST_DAY);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM webhook_deliveries"
                                      " WHERE status = 'failed' AND attempts = 10"),
                     1);
    /* Retried on request: due now, then 410 Gone disables the endpoint. */
    assert_int_equal(patron_webhook_retry(t.s, 1, 0, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(patron_webhook_due(t.s, due, 4, &n), 0);
    assert_int_equal(n, 1);
    patron_webhook_request_free(&due[0]);
    assert_int_equal(patron_webhook_record(t.s, 1, 410, 0, NULL), 0);
    assert_int_equal(test_scalar(t.s, "SELECT enabled FROM webhook_endpoints WHERE id = 1"), 0);
    assert_int_equal(patron_webhook_retry(t.s, 1, 0, &count), 0);
    assert_int_equal(patron_webhook_due(t.s, due, 4, &n), 0);
    assert_int_equal(n, 0); /* a disabled endpoint gets nothing */
    assert_int_equal(patron_webhook_retry(t.s, 0, hook, &count), 0);
    assert_int_equal(patron_webhook_due(t.s, due, 4, &n), 0);
    assert_int_equal(n, 1);
    patron_webhook_request_free(&due[0]);
    assert_int_equal(patron_webhook_record(t.s, 1, 204, 0, NULL), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM webhook_deliveries"
                                      " WHERE status = 'delivered'"),
                     1);
    assert_int_equal(patron_webhook_remove(t.s, hook), 0);
    assert_int_equal(patron_webhook_remove(t.s, hook), PATRON_ENOTFOUND);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(urls_and_events_are_checked),
        cmocka_unit_test(events_come_from_committed_rows),
        cmocka_unit_test(signed_with_every_active_key_and_personal_data_kept_apart),
        cmocka_unit_test(retried_with_backoff_then_given_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
