/* SPDX-License-Identifier: MIT */
/* Many tills redeem one voucher at the same instant, each thread on its own store handle (its own
 * SQLite connection) to one database file: exactly one must win and every other must be told it
 * was already redeemed, round after round. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "voucher_fixture.h"

#define THREADS 8
#define ROUNDS 300

struct race {
    pthread_barrier_t start, done;
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    const char *path;
    int64_t now;
    int stop;
    int results[THREADS];
    char detail[THREADS][256];
};

struct worker {
    struct race *race;
    int index;
};

static void *redeem_loop(void *arg)
{
    struct worker *w = arg;
    struct race *r = w->race;
    char till[16], ref[32];
    patron_store *s = NULL;
    int open_err = patron_store_open(r->path, &s);
    snprintf(till, sizeof till, "till-%d", w->index);
    for (int round = 0;; round++) {
        pthread_barrier_wait(&r->start);
        if (r->stop)
            break;
        snprintf(ref, sizeof ref, "S-%d-%d", round, w->index);
        struct patron_voucher_request req = {.token_or_code = r->token, .ref = ref, .till = till};
        struct patron_voucher_result res;
        if (open_err != 0) {
            r->results[w->index] = open_err;
        } else {
            patron_store_set_fixed_time(s, r->now);
            r->results[w->index] = patron_voucher_redeem(s, &req, &res);
            snprintf(r->detail[w->index], sizeof r->detail[0], "%s", patron_store_detail(s));
        }
        pthread_barrier_wait(&r->done);
    }
    patron_store_close(s);
    return NULL;
}

static void test_exactly_one_of_many_concurrent_redemptions_wins(void **state)
{
    (void)state;
    static struct race r;
    struct test_store t = {0};
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    struct patron__voucher_issued v;
    vfix_open(&t, 1, NULL);
    memset(&r, 0, sizeof r);
    r.path = t.path;
    pthread_barrier_init(&r.start, NULL, THREADS + 1);
    pthread_barrier_init(&r.done, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){&r, i};
        assert_int_equal(pthread_create(&threads[i], NULL, redeem_loop, &workers[i]), 0);
    }
    int failures = 0;
    for (int round = 0; round < ROUNDS && failures == 0; round++) {
        vfix_issue(&t, NULL, &v);
        memcpy(r.token, v.token, sizeof r.token);
        r.now = t.now;
        pthread_barrier_wait(&r.start);
        pthread_barrier_wait(&r.done);
        int wins = 0, refused = 0;
        for (int i = 0; i < THREADS; i++) {
            wins += r.results[i] == 0;
            refused += r.results[i] == PATRON_EREDEEMED;
        }
        if (wins != 1 || refused != THREADS - 1) {
            failures++;
            for (int i = 0; i < THREADS; i++)
                print_error("round %d thread %d: %s %s\n", round, i,
                            r.results[i] ? patron_err_name(r.results[i]) : "won", r.detail[i]);
        }
    }
    r.stop = 1;
    pthread_barrier_wait(&r.start);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&r.start);
    pthread_barrier_destroy(&r.done);
    assert_int_equal(failures, 0);
    /* The register holds one redemption per voucher. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t.s),
                                        "SELECT count(*), count(DISTINCT voucher_id)"
                                        " FROM voucher_redemptions",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), ROUNDS);
    assert_int_equal(sqlite3_column_int(st, 1), ROUNDS);
    sqlite3_finalize(st);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exactly_one_of_many_concurrent_redemptions_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
