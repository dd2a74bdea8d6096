/* SPDX-License-Identifier: MIT */
/* Crash safety of the counter service: while tills ring up sales, `patron serve` is killed with
 * SIGKILL (24 times, each once it has acknowledged new sales, after a random pause) and started
 * again; the tills retry every unanswered sale with the same idempotency key until it is
 * acknowledged. In the end every acknowledged sale is in the store exactly once, there is no sale
 * nobody was told about, and the ledger verifies. */
#include "apiutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLIENTS 8
#define ROUNDS 24

static struct api_server sv;
static char token[64];
static char card[14];
static atomic_int current_port;
static atomic_int stopping;
static atomic_int failures;

struct client {
    int id;
    atomic_long acknowledged; /* sales 0 .. acknowledged-1 were answered 201 */
    atomic_int done;          /* the client's thread has stopped sending */
};

static void *client_main(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    for (long n = 0; !atomic_load(&stopping); n++) {
        char key[48], body[160];
        snprintf(key, sizeof key, "crash-%d-%ld", c->id, n);
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":%ld}", card, key,
                 1000 + n);
        /* Retry the same request until it is answered, across restarts of the service. */
        for (long attempt = 0;; attempt++) {
            struct apit_reply r;
            int rc = apit_request(h, atomic_load(&current_port), "POST", "/v1/sales", token, key,
                                  body, &r);
            long status = rc == CURLE_OK ? r.status : 0;
            apit_reply_free(&r);
            if (status == 201) {
                c->acknowledged = n + 1;
                break;
            }
            if (status != 0 && status != 503) {
                fprintf(stderr, "sale %s answered %ld\n", key, status);
                atomic_fetch_add(&failures, 1);
                break;
            }
            if (attempt > 20000) { /* about two minutes without an answer */
                atomic_fetch_add(&failures, 1);
                break;
            }
            nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        }
    }
    curl_easy_cleanup(h);
    return NULL;
}

static long acknowledged_total(struct client *clients)
{
    long n = 0;
    for (int i = 0; i < CLIENTS; i++)
        n += atomic_load(&clients[i].acknowledged);
    return n;
}

static void acknowledged_sales_survive_sigkill_exactly_once(void **state)
{
    static struct client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    unsigned seed = (unsigned)time(NULL);
    (void)state;
    fprintf(stderr, "crash test seed %u\n", seed);
    apit_store_new(&sv);
    apit_terminal(&sv, "till", "cashier", token);
    apit_member(&sv, "Crash", card);
    apit_start(&sv, NULL);
    atomic_store(&current_port, sv.port);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, client_main, &clients[i]), 0);
    }
    for (int round = 0; round < ROUNDS; round++) {
        /* Kill only after this service has acknowledged new sales (waited for, not timed), then
         * after a random pause of up to 20 ms: each kill lands in acknowledged work. */
        long before = acknowledged_total(clients), ms = rand_r(&seed) % 20;
        while (acknowledged_total(clients) == before && !atomic_load(&failures))
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        nanosleep(&(struct timespec){0, ms * 1000 * 1000}, NULL);
        apit_kill(&sv);
        apit_start(&sv, NULL);
        atomic_store(&current_port, sv.port);
    }
    atomic_store(&stopping, 1);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&failures), 0);
    assert_int_equal(apit_stop(&sv), 0);

    long acknowledged = 0;
    for (int i = 0; i < CLIENTS; i++)
        acknowledged += clients[i].acknowledged;
    assert_true(acknowledged >= ROUNDS); /* every kill came after newly acknowledged work */
    patron_store *s;
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    /* Clients send sale n+1 only after sale n was acknowledged, and retry until it is: so the
     * store must hold exactly the acknowledged ones, each once. */
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM sales WHERE ref LIKE 'crash-%'"),
                     acknowledged);
    for (int i = 0; i < CLIENTS; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sales WHERE ref LIKE 'crash-%d-%%'", i);
        assert_int_equal(test_scalar(s, sql), clients[i].acknowledged);
    }
    assert_int_equal(test_scalar(s, "SELECT count(*) FROM (SELECT sale_id FROM entries WHERE "
                                    "kind = 'earn' GROUP BY sale_id HAVING count(*) > 1)"),
                     0);
    test_assert_ledger_verifies(s);
    fprintf(stderr, "%ld sales acknowledged across %d kills\n", acknowledged, ROUNDS);
    patron_store_close(s);
    apit_cleanup(&sv);
}

/* A till stops at the first request the stopping service does not take. */
static void *until_refused(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    for (long n = 0;; n++) {
        char key[48], body[160];
        struct apit_reply r;
        snprintf(key, sizeof key, "term-%d-%ld", c->id, n);
        snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":500}", card, key);
        int rc =
            apit_request(h, atomic_load(&current_port), "POST", "/v1/sales", token, key, body, &r);
        long status = rc == CURLE_OK ? r.status : 0;
        apit_reply_free(&r);
        if (status != 201)
            break;
        c->acknowledged = n + 1;
    }
    curl_easy_cleanup(h);
    atomic_store(&c->done, 1);
    return NULL;
}

static void sigterm_answers_in_flight_work_and_exits_0(void **state)
{
    static struct client clients[CLIENTS];
    pthread_t threads[CLIENTS];
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "till", "cashier", token);
    apit_member(&sv, "Term", card);
    apit_start(&sv, NULL);
    atomic_store(&current_port, sv.port);
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].id = i;
        clients[i].acknowledged = 0;
        clients[i].done = 0;
        assert_int_equal(pthread_create(&threads[i], NULL, until_refused, &clients[i]), 0);
    }
    /* Stop only once every till has been answered: SIGTERM then lands in a stream of answered
     * work however slow the machine is, and the checks below cannot pass on an idle service. */
    for (int i = 0; i < CLIENTS; i++)
        while (atomic_load(&clients[i].acknowledged) < 1 && !atomic_load(&clients[i].done))
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    assert_int_equal(apit_stop(&sv), 0);
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(threads[i], NULL);
        assert_true(clients[i].acknowledged >= 1); /* answered before the stop, not refused */
    }
    patron_store *s;
    assert_int_equal(patron_store_open(sv.db, &s), 0);
    for (int i = 0; i < CLIENTS; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sales WHERE ref LIKE 'term-%d-%%'", i);
        /* Every answered sale is there; at most the one in flight may be there unanswered. */
        int64_t stored = test_scalar(s, sql);
        long acked = clients[i].acknowledged;
        assert_true(stored >= acked && stored <= acked + 1);
    }
    patron_store_close(s);
    FILE *f = fopen(sv.log, "r");
    char line[512];
    int stopped = 0;
    while (f && fgets(line, sizeof line, f))
        stopped |= strstr(line, "event=stopped") != NULL;
    if (f)
        fclose(f);
    assert_true(stopped);
    apit_cleanup(&sv);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigterm_answers_in_flight_work_and_exits_0),
        cmocka_unit_test(acknowledged_sales_survive_sigkill_exactly_once),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
