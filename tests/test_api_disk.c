/* SPDX-License-Identifier: MIT */
/* The service and the disk under its log: the writer commits without waiting for the disk and
 * answers only after the WAL is synced (src/api/writer.c). With the disk made slow or failing by
 * a preloaded library (tests/slow_disk.c), a till is answered only once its sale is on disk, and
 * a sync the disk refuses is told to the tills it concerns, no write runs after it, and a sale
 * sent again with its key once the service is back is kept exactly once. */
#include "apiutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOW_SYNC_MS 2000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts the service with the disk as `how` says (PATRON_TEST_LOG_SYNC, see slow_disk.c). */
static void start_on_disk(struct api_server *sv, const char *how)
{
    const char *preload = getenv("PATRON_TEST_DISK_PRELOAD");
    assert_non_null(preload);
    setenv("LD_PRELOAD", preload, 1);
    setenv("PATRON_TEST_LOG_SYNC", how, 1);
    apit_start(sv, NULL);
    unsetenv("LD_PRELOAD");
    unsetenv("PATRON_TEST_LOG_SYNC");
}

static void sell(struct api_server *sv, const char *token, const char *card, const char *ref,
                 struct apit_reply *r)
{
    char body[160];
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":1999}", card, ref);
    apit_call(sv->port, "POST", "/v1/sales", token, ref, body, r);
}

static long sales_with_ref(struct api_server *sv, const char *ref)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(sv->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM sales WHERE ref = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, ref, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A new store with a cashier's till and a member. */
static void store_with_a_member(struct api_server *sv, char *token, char *card)
{
    apit_store_new(sv);
    apit_terminal(sv, "till-1", "cashier", token);
    apit_member(sv, "Ada", card);
}

static void a_sale_is_answered_once_it_is_on_disk(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char token[64], card[14], how[32];
    (void)state;
    store_with_a_member(&sv, token, card);
    snprintf(how, sizeof how, "delay:%d", SLOW_SYNC_MS);
    start_on_disk(&sv, how);

    /* The first commit into an empty log syncs its header itself: the sale timed comes after. */
    sell(&sv, token, card, "slow-1", &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    double t0 = now_s();
    sell(&sv, token, card, "slow-2", &r);
    double took = now_s() - t0;
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    /* Answered before the sync, the sale would have come back in the time of its work. */
    if (took < SLOW_SYNC_MS / 1000.0)
        fprintf(stderr, "answered after %.3f s, before the log's sync of %d ms\n", took,
                SLOW_SYNC_MS);
    assert_true(took >= SLOW_SYNC_MS / 1000.0);
    apit_kill(&sv);
    apit_cleanup(&sv);
}

static void a_refused_sync_is_told_and_nothing_is_lost(void **state)
{
    struct api_server sv;
    struct apit_reply r, member;
    char token[64], card[14], how[340], failing[320], path[64];
    (void)state;
    store_with_a_member(&sv, token, card);
    snprintf(failing, sizeof failing, "%s.disk-fails", sv.db);
    snprintf(how, sizeof how, "fail-if:%s", failing);
    start_on_disk(&sv, how);

    sell(&sv, token, card, "before", &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);

    FILE *f = fopen(failing, "w");
    assert_non_null(f);
    fclose(f);
    sell(&sv, token, card, "refused", &r);
    apit_assert_status(&r, 500, "EDB");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "failed to keep the store's log"));
    apit_reply_free(&r);

    /* The disk is back, the service is not: no write is taken, reads still are. */
    assert_int_equal(unlink(failing), 0);
    sell(&sv, token, card, "after", &r);
    apit_assert_status(&r, 500, "EDB");
    assert_non_null(strstr(apit_jstr(r.json, "detail"), "until the service is started again"));
    apit_reply_free(&r);
    snprintf(path, sizeof path, "/v1/members/%s", card);
    apit_call(sv.port, "GET", path, token, NULL, NULL, &member);
    apit_assert_status(&member, 200, NULL);
    apit_reply_free(&member);
    apit_kill(&sv);

    /* Started again, the till sends what it was refused with the same keys. */
    apit_start(&sv, NULL);
    sell(&sv, token, card, "refused", &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    sell(&sv, token, card, "after", &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
    assert_int_equal(sales_with_ref(&sv, "before"), 1);
    assert_int_equal(sales_with_ref(&sv, "refused"), 1);
    assert_int_equal(sales_with_ref(&sv, "after"), 1);
    apit_kill(&sv);
    apit_cleanup(&sv);
}

int main(void)
{
    apit_set_timeout(30);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_sale_is_answered_once_it_is_on_disk),
        cmocka_unit_test(a_refused_sync_is_told_and_nothing_is_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
