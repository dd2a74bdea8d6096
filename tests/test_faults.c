/* SPDX-License-Identifier: MIT */
/* A bad day for the store: the disk fills up, another program holds the database, the clock
 * jumps back. Each time the till gets a clear error, nothing is half-written, and service
 * resumes when the cause goes away. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"

static struct test_store t;
static char card[14];

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    test_enroll(&t, "Margaret Hamilton", card);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static int sale(const char *ref, struct patron_sale_result *r)
{
    struct patron_sale_line lines[] = {{"BOOK", "books", 1, 1999}, {"PEN", "office", 3, 250}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = 2749,
                             .lines = lines,
                             .n_lines = 2,
                             .idempotency_key = ref};
    return patron_sale_record(t.s, &in, r);
}

static void full_disk_fails_cleanly_and_recovers(void **state)
{
    (void)state;
    struct patron_sale_result r;
    char ref[32];
    int64_t pages = test_scalar(t.s, "PRAGMA page_count"), before = 0;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %lld", (long long)pages);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), pragma, NULL, NULL, NULL), SQLITE_OK);
    int err = 0, i;
    for (i = 0; i < 10000 && err == 0; i++) {
        snprintf(ref, sizeof ref, "F%d", i);
        before = test_scalar(t.s, "SELECT balance FROM accounts WHERE member_id = 1");
        err = sale(ref, &r);
    }
    assert_int_equal(err, PATRON_EFULL);
    assert_non_null(strstr(patron_strerror(err), "full"));
    /* nothing of the failed sale was written */
    assert_int_equal(test_scalar(t.s, "SELECT balance FROM accounts WHERE member_id = 1"), before);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), i - 1);
    test_assert_ledger_verifies(t.s);
    /* space returns: the same request (same key) goes through, once */
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), "PRAGMA max_page_count = 1073741823",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sale(ref, &r), 0);
    assert_false(r.replayed);
    assert_int_equal(sale(ref, &r), 0);
    assert_true(r.replayed);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), i);
    test_assert_ledger_verifies(t.s);
}

static void database_held_by_another_program(void **state)
{
    (void)state;
    struct patron_sale_result r;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* another program takes the write lock and sits on it */
        sqlite3 *db;
        sqlite3_open(t.path, &db);
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        if (write(ready[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    int err = sale("L1", &r); /* waits out the busy timeout, then reports */
    assert_int_equal(err, -EBUSY);
    assert_non_null(strstr(patron_store_detail(t.s), "locked"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(sale("L1", &r), 0); /* the lock is gone: the retry is recorded once */
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"), 1);
    test_assert_ledger_verifies(t.s);
    close(ready[0]);
    close(ready[1]);
}

static void clock_jumping_back_keeps_the_ledger_sound(void **state)
{
    (void)state;
    struct patron_sale_result r;
    struct patron_expiry_result e;
    struct patron_scan_result scan;
    assert_int_equal(sale("C1", &r), 0);
    t.now -= 30 * TEST_DAY; /* the till's clock is set back a month */
    assert_int_equal(sale("C2", &r), 0);
    assert_int_equal(r.points, 2 * r.points_earned);
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 0);
    assert_int_equal(patron_scan(t.s, card, &scan), 0);
    t.now += 30 * TEST_DAY + 366 * TEST_DAY; /* and then past both lots' expiry */
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 2 * r.points_earned);
    assert_int_equal(patron_ledger_expire(t.s, &e), 0);
    assert_int_equal(e.points_expired, 0);
    test_assert_ledger_verifies(t.s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(full_disk_fails_cleanly_and_recovers),
        T(database_held_by_another_program),
        T(clock_jumping_back_keeps_the_ledger_sound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
