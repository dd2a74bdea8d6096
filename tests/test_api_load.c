/* SPDX-License-Identifier: MIT */
/* Many tills at once against one `patron serve`: 16 keep-alive clients race to redeem the same
 * rewards (each member's points pay for exactly one, so exactly one till wins per member), then
 * race to redeem the 100 vouchers those rewards became (each is redeemed exactly once, the other
 * tills are told who was first), and 16 clients ring up 1,000 sales each with retries of the
 * same idempotency keys; afterwards the ledger verifies, every sale is there exactly once, and
 * the WAL started again from its beginning while they sold. */
#include "apiutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TILLS 16
#define MEMBERS 100
/* Twice the WAL's length past which the service makes it start again (RESTART_PAGES, 65,536
 * pages of 4 KiB, in src/api/writer.c). */
#define WAL_BOUND_BYTES (2 * 65536LL * (4096 + 24))

static struct api_server sv;
static char token[64];
static char cards[MEMBERS][14];
static char vouchers[MEMBERS][244]; /* the token each member's reward became */
static int64_t reward_id;
static long sales_per_till = 1000;
/* cmocka's assertions may not run on other threads: the clients count what went wrong and the
 * test asserts on the count. */
static atomic_int failures;

static void thread_fail(const char *what, long status, const char *body)
{
    fprintf(stderr, "%s: %ld %s\n", what, status, body ? body : "");
    atomic_fetch_add(&failures, 1);
}

/* Retries transport errors and 503s with the same key, as a till would. */
static int call_retrying(CURL *h, const char *method, const char *path, const char *key,
                         const char *body, struct apit_reply *r)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        if (apit_request(h, sv.port, method, path, token, key, body, r) == CURLE_OK &&
            r->status != 503)
            return 0;
        apit_reply_free(r);
    }
    thread_fail("never answered", 0, path);
    return -1;
}

static int setup(void **state)
{
    (void)state;
    const char *n = getenv("PATRON_API_LOAD_SALES");
    if (n && atol(n) > 0)
        sales_per_till = atol(n);
    apit_store_new(&sv);
    apit_terminal(&sv, "till", "manager", token);
    json_t *j = apit_patron(&sv, "reward", "add", "--name", "Coffee", "--cost", "100", "--kind",
                            "item", "--value", "1", (char *)NULL);
    reward_id = json_integer_value(json_object_get(j, "reward_id"));
    json_decref(j);
    /* Coupons are queued, not printed: this is about the register, not the printer. */
    apit_start(&sv, "--printer", "none", (char *)NULL);
    /* Every member gets exactly the points of one reward: 10,000 minor units earn 100. */
    for (int i = 0; i < MEMBERS; i++) {
        struct apit_reply r;
        char body[200], key[32];
        snprintf(body, sizeof body, "{\"name\":\"Member %d\"}", i);
        apit_call(sv.port, "POST", "/v1/members", token, NULL, body, &r);
        assert_int_equal(r.status, 201);
        snprintf(cards[i], sizeof cards[i], "%s",
                 json_string_value(json_object_get(r.json, "card")));
        apit_reply_free(&r);
        snprintf(body, sizeof body, "{\"card\":\"%.13s\",\"ref\":\"seed-%d\",\"total\":10000}",
                 cards[i], i);
        snprintf(key, sizeof key, "seed-%d", i);
        apit_call(sv.port, "POST", "/v1/sales", token, key, body, &r);
        assert_int_equal(r.status, 201);
        assert_int_equal(json_integer_value(json_object_get(r.json, "points")), 100);
        apit_reply_free(&r);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apit_cleanup(&sv);
    return 0;
}

struct race {
    int till;
    int won[MEMBERS];
    int refused;
};

static void *redeem_all(void *arg)
{
    struct race *rc = arg;
    CURL *h = curl_easy_init();
    char path[64];
    snprintf(path, sizeof path, "/v1/rewards/%lld/redeem", (long long)reward_id);
    for (int k = 0; k < MEMBERS; k++) {
        int i = (k * 37 + rc->till * 11) % MEMBERS; /* each till in its own order */
        struct apit_reply r;
        char body[64], key[48];
        snprintf(body, sizeof body, "{\"card\":\"%s\"}", cards[i]);
        snprintf(key, sizeof key, "race-%d-%d", rc->till, i);
        if (call_retrying(h, "POST", path, key, body, &r) != 0)
            continue;
        if (r.status == 201) {
            rc->won[i]++;
            const char *issued = json_string_value(json_object_get(r.json, "token"));
            if (issued && strlen(issued) == 243)
                memcpy(vouchers[i], issued, 244); /* the one winner per member writes it */
        } else if (r.status == 409)
            rc->refused++;
        else
            thread_fail("redeem", r.status, r.body);
        apit_reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void each_reward_is_redeemed_exactly_once(void **state)
{
    static struct race races[TILLS];
    pthread_t threads[TILLS];
    (void)state;
    for (int t = 0; t < TILLS; t++) {
        races[t].till = t;
        assert_int_equal(pthread_create(&threads[t], NULL, redeem_all, &races[t]), 0);
    }
    for (int t = 0; t < TILLS; t++)
        pthread_join(threads[t], NULL);
    assert_int_equal(atomic_load(&failures), 0);
    int refused = 0;
    for (int i = 0; i < MEMBERS; i++) {
        int wins = 0;
        for (int t = 0; t < TILLS; t++)
            wins += races[t].won[i];
        assert_int_equal(wins, 1);
    }
    for (int t = 0; t < TILLS; t++)
        refused += races[t].refused;
    assert_int_equal(refused, MEMBERS * (TILLS - 1));
}

static void *redeem_vouchers(void *arg)
{
    struct race *rc = arg;
    CURL *h = curl_easy_init();
    for (int k = 0; k < MEMBERS; k++) {
        int i = (k * 37 + rc->till * 11) % MEMBERS;
        struct apit_reply r;
        char body[400], key[48];
        snprintf(body, sizeof body, "{\"token\":\"%s\",\"ref\":\"V-%d-%d\"}", vouchers[i], rc->till,
                 i);
        snprintf(key, sizeof key, "voucher-%d-%d", rc->till, i);
        if (call_retrying(h, "POST", "/v1/vouchers/redeem", key, body, &r) != 0)
            continue;
        const char *code = r.json ? json_string_value(json_object_get(r.json, "code")) : NULL;
        if (r.status == 201)
            rc->won[i]++;
        else if (r.status == 409 && code && strcmp(code, "EREDEEMED") == 0 &&
                 json_object_get(r.json, "first_ref"))
            rc->refused++;
        else
            thread_fail("voucher redeem", r.status, r.body);
        apit_reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void each_voucher_is_redeemed_exactly_once(void **state)
{
    static struct race races[TILLS];
    pthread_t threads[TILLS];
    (void)state;
    for (int i = 0; i < MEMBERS; i++)
        assert_int_equal(strlen(vouchers[i]), 243);
    for (int t = 0; t < TILLS; t++) {
        races[t].till = t;
        assert_int_equal(pthread_create(&threads[t], NULL, redeem_vouchers, &races[t]), 0);
    }
    for (int t = 0; t < TILLS; t++)
        pthread_join(threads[t], NULL);
    assert_int_equal(atomic_load(&failures), 0);
    int refused = 0;
    for (int i = 0; i < MEMBERS; i++) {
        int wins = 0;
        for (int t = 0; t < TILLS; t++)
            wins += races[t].won[i];
        assert_int_equal(wins, 1);
    }
    for (int t = 0; t < TILLS; t++)
        refused += races[t].refused;
    assert_int_equal(refused, MEMBERS * (TILLS - 1));
}

struct seller {
    int till;
    long acknowledged;
    long replays;
};

static void *sell(void *arg)
{
    struct seller *s = arg;
    CURL *h = curl_easy_init();
    for (long n = 0; n < sales_per_till; n++) {
        struct apit_reply r, again;
        char body[160], key[48];
        const char *card = cards[(s->till * 7 + n) % MEMBERS];
        snprintf(key, sizeof key, "load-%d-%ld", s->till, n);
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":%ld}", card, key,
                 100 + n % 5000);
        if (call_retrying(h, "POST", "/v1/sales", key, body, &r) != 0)
            continue;
        if (r.status != 201)
            thread_fail("sale", r.status, r.body);
        s->acknowledged++;
        /* A till that did not hear the answer sends the same request again. */
        if (n % 10 == 3 && call_retrying(h, "POST", "/v1/sales", key, body, &again) == 0) {
            if (!apit_is_replay_of(&again, &r))
                thread_fail("replay differs", again.status, again.body);
            s->replays++;
            apit_reply_free(&again);
        }
        apit_reply_free(&r);
    }
    curl_easy_cleanup(h);
    return NULL;
}

static void sixteen_tills_sell_and_the_ledger_verifies(void **state)
{
    static struct seller sellers[TILLS];
    pthread_t threads[TILLS];
    (void)state;
    for (int t = 0; t < TILLS; t++) {
        sellers[t].till = t;
        assert_int_equal(pthread_create(&threads[t], NULL, sell, &sellers[t]), 0);
    }
    for (int t = 0; t < TILLS; t++)
        pthread_join(threads[t], NULL);
    assert_int_equal(atomic_load(&failures), 0);
    /* The WAL started again while the tills kept selling: its file, as long as it ever was (it
     * goes when the service stops), was 271 MB, and 798 MB when it never started again. */
    char wal[sizeof sv.db + 8];
    struct stat st;
    snprintf(wal, sizeof wal, "%s-wal", sv.db);
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size <= WAL_BOUND_BYTES);
    struct apit_reply r;
    apit_call(sv.port, "GET", "/metrics", NULL, NULL, NULL, &r);
    assert_non_null(strstr(r.body, "patron_batch_size_count"));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);

    patron_store *s;
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    test_assert_ledger_verifies(s);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM sales WHERE ref LIKE 'load-%'"),
                     TILLS * sales_per_till);
    /* Each sale earned once: one earn entry at most per sale. */
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM (SELECT sale_id FROM entries WHERE "
                                    "kind = 'earn' GROUP BY sale_id HAVING count(*) > 1)"),
                     0);
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM voucher_redemptions"), MEMBERS);
    patron_store_close(s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_reward_is_redeemed_exactly_once),
        cmocka_unit_test(each_voucher_is_redeemed_exactly_once),
        cmocka_unit_test(sixteen_tills_sell_and_the_ledger_verifies),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
