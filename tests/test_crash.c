/* SPDX-License-Identifier: MIT */
/* Power-cut safety: a child process records a stream of sales and reports each one only after
 * the library returned (the moment a cashier would be told "done"); the parent kills it with
 * SIGKILL at random moments, many times, and each new child retries from the last reported sale
 * with the same idempotency keys. Every reported sale must be there exactly once and the ledger
 * must verify. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"

#define ROUNDS 30
#define MAX_SALES 100000

static char card[14];

static void child_run(const char *path, int start, int fd)
{
    patron_store *s;
    if (patron_store_open(path, &s) != 0)
        _exit(2);
    for (int i = start; i < MAX_SALES; i++) {
        char ref[32], key[32], line[32];
        struct patron_sale_result r;
        snprintf(ref, sizeof ref, "S%d", i);
        snprintf(key, sizeof key, "K%d", i);
        struct patron_sale in = {
            .card = card, .ref = ref, .total_minor = 100 + i % 900, .idempotency_key = key};
        if (patron_sale_record(s, &in, &r) != 0)
            _exit(3);
        int n = snprintf(line, sizeof line, "%d\n", i);
        if (write(fd, line, (size_t)n) != n)
            _exit(4);
    }
    _exit(0);
}

/* Reads the child's acknowledgements; returns the highest index reported, or start - 1. */
static int read_acks(int fd, int start, unsigned char *acked)
{
    static char buf[1 << 20];
    size_t n = 0;
    ssize_t r;
    int last = start - 1;
    while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    for (char *p = buf; *p;) {
        char *nl = strchr(p, '\n');
        if (!nl)
            break; /* a torn last line was never fully reported */
        int i = atoi(p);
        acked[i] = 1;
        last = i > last ? i : last;
        p = nl + 1;
    }
    return last;
}

static void acknowledged_sales_survive_sigkill(void **state)
{
    (void)state;
    static unsigned char acked[MAX_SALES];
    struct test_store t;
    int next = 0, total_acked = 0;
    test_store_open(&t);
    test_enroll(&t, "Crash Test", card);
    patron_store_close(t.s);
    srand((unsigned)time(NULL));
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_run(t.path, next, fds[1]);
        }
        close(fds[1]);
        usleep((useconds_t)(5000 + rand() % 60000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status)); /* killed mid-stream, not finished or failed */
        next = read_acks(fds[0], next, acked) + 1;
        close(fds[0]);
    }
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(t.s),
                                        "SELECT COUNT(*), (SELECT COUNT(*) FROM entries e WHERE"
                                        " e.sale_id = MIN(sales.id) AND e.kind = 'earn')"
                                        " FROM sales WHERE ref = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < MAX_SALES; i++) {
        if (!acked[i])
            continue;
        char ref[32];
        snprintf(ref, sizeof ref, "S%d", i);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, ref, -1, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int(st, 0), 1); /* there, exactly once */
        assert_int_equal(sqlite3_column_int(st, 1), 1); /* earned exactly once */
        total_acked++;
    }
    sqlite3_finalize(st);
    assert_true(total_acked > ROUNDS); /* the kills really landed mid-stream of many sales */
    test_assert_ledger_verifies(t.s);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales"),
                     test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'earn'"));
    assert_int_equal(test_scalar(t.s, "SELECT balance FROM accounts WHERE member_id = 1"),
                     test_scalar(t.s, "SELECT SUM(points_earned) FROM sales"));
    print_message("%d acknowledged sales over %d kills, all present once\n", total_acked, ROUNDS);
    test_store_close(&t);
}

/* The same for reward redemptions: points spent, voucher issued and coupon queued together. */
static void redeem_child(const char *path, int64_t reward_id, int start, int fd)
{
    patron_store *s;
    if (patron_store_open(path, &s) != 0)
        _exit(2);
    for (int i = start; i < MAX_SALES; i++) {
        char key[32], line[32];
        struct patron_redeem_result r;
        snprintf(key, sizeof key, "R%d", i);
        struct patron_redeem_request in = {card, reward_id, key};
        if (patron_reward_redeem(s, &in, &r) != 0)
            _exit(3);
        int n = snprintf(line, sizeof line, "%d\n", i);
        if (write(fd, line, (size_t)n) != n)
            _exit(4);
    }
    _exit(0);
}

static void acknowledged_redemptions_survive_sigkill(void **state)
{
    (void)state;
    static unsigned char acked[MAX_SALES];
    struct test_store t;
    struct patron_reward_def d = {"Sticker", 1, PATRON_VALUE_ITEM, 1, 30};
    struct patron_adjust_result a;
    int64_t reward_id;
    int next = 0, total = 0;
    test_store_open(&t);
    test_enroll(&t, "Crash Test", card);
    assert_int_equal(patron_reward_add(t.s, &d, &reward_id), 0);
    struct patron_adjustment adj = {card, 90000000, "test stock of points", "Mia", "A"};
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), 0);
    patron_store_close(t.s);
    for (int round = 0; round < ROUNDS; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            redeem_child(t.path, reward_id, next, fds[1]);
        }
        close(fds[1]);
        usleep((useconds_t)(5000 + rand() % 60000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        assert_true(WIFSIGNALED(status));
        next = read_acks(fds[0], next, acked) + 1;
        close(fds[0]);
    }
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    for (int i = 0; i < MAX_SALES; i++)
        total += acked[i];
    assert_true(total > ROUNDS);
    /* every acknowledged key has its one redemption, with its voucher and its coupon */
    assert_true(test_scalar(t.s, "SELECT COUNT(*) FROM idempotency WHERE op = 'reward-redeem'") >=
                total);
    assert_int_equal(
        test_scalar(t.s, "SELECT COUNT(*) FROM redemptions"),
        test_scalar(t.s, "SELECT COUNT(*) FROM idempotency WHERE op = 'reward-redeem'"));
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM redemptions WHERE voucher_id IS NULL"
                                      " OR print_job IS NULL"),
                     0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM vouchers"),
                     test_scalar(t.s, "SELECT COUNT(*) FROM redemptions"));
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM print_jobs"),
                     test_scalar(t.s, "SELECT COUNT(*) FROM redemptions"));
    assert_int_equal(test_scalar(t.s, "SELECT balance FROM accounts WHERE member_id = 1"),
                     90000000 - test_scalar(t.s, "SELECT COUNT(*) FROM redemptions"));
    test_assert_ledger_verifies(t.s);
    print_message("%d acknowledged redemptions over %d kills, each with its voucher and coupon\n",
                  total, ROUNDS);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acknowledged_sales_survive_sigkill),
        cmocka_unit_test(acknowledged_redemptions_survive_sigkill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
