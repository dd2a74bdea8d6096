/* SPDX-License-Identifier: MIT */
/* Power-cut safety: a child process records a stream of sales and reports each one only after
 * the library returned (the moment a cashier would be told "done"); the parent kills it with
 * SIGKILL many times, each time only after the child has reported a random number of sales (so
 * every kill lands in a stream of acknowledged work, however slow the machine) and after a random
 * short pause (so it lands anywhere in the next write). Each new child retries from the last
 * reported sale with the same idempotency keys. Every reported sale must be there exactly once
 * and the ledger must verify. */
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

/* Acknowledgement lines read so far but not yet complete. */
struct ack_reader {
    char buf[4096];
    size_t n;
};

/* Reads acknowledgement lines until `want` more were read (want > 0) or the child closed the
 * pipe; marks each in acked[] and raises *last. A line cut by the kill was never reported.
 * Returns how many were read. */
static int read_acks(int fd, struct ack_reader *a, unsigned char *acked, int *last, int want)
{
    int got = 0;
    for (;;) {
        char *nl;
        while ((nl = memchr(a->buf, '\n', a->n)) != NULL) {
            *nl = '\0';
            int i = atoi(a->buf);
            assert_true(i >= 0 && i < MAX_SALES);
            acked[i] = 1;
            *last = i > *last ? i : *last;
            got++;
            size_t used = (size_t)(nl + 1 - a->buf);
            memmove(a->buf, nl + 1, a->n - used);
            a->n -= used;
        }
        if (want > 0 && got >= want)
            return got;
        ssize_t r = read(fd, a->buf + a->n, sizeof a->buf - a->n);
        if (r <= 0)
            return got;
        a->n += (size_t)r;
    }
}

typedef void (*child_fn)(const char *path, int64_t arg, int start, int fd);

/* One round: a child works from `next`; once it has acknowledged 1-8 writes (waited for, not
 * timed) and a random pause of up to 3 ms has passed, it is killed. Returns the next index to
 * start from, and adds the round's acknowledgements to *total. */
static int crash_round(const char *path, child_fn fn, int64_t arg, int next, unsigned char *acked,
                       int *total)
{
    struct ack_reader a = {.n = 0};
    int fds[2], status, last = next - 1, want = 1 + rand() % 8;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fn(path, arg, next, fds[1]);
    }
    close(fds[1]);
    int got = read_acks(fds[0], &a, acked, &last, want);
    if (got >= want)
        usleep((useconds_t)(rand() % 3000));
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    /* the child worked; it did not stop or fail on its own (one read may bring more lines) */
    assert_true(got >= want);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    got += read_acks(fds[0], &a, acked, &last, 0); /* what it reported before it died */
    close(fds[0]);
    *total += got;
    return last + 1;
}

static void sale_child(const char *path, int64_t arg, int start, int fd)
{
    (void)arg;
    child_run(path, start, fd);
}

static void acknowledged_sales_survive_sigkill(void **state)
{
    (void)state;
    static unsigned char acked[MAX_SALES];
    struct test_store t;
    int next = 0, total_acked = 0, reported = 0;
    test_store_open(&t);
    test_enroll(&t, "Crash Test", card);
    patron_store_close(t.s);
    srand((unsigned)time(NULL));
    for (int round = 0; round < ROUNDS; round++)
        next = crash_round(t.path, sale_child, 0, next, acked, &reported);
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
    /* Every acknowledgement read is a distinct sale: a retried index is reported only once. */
    assert_int_equal(total_acked, reported);
    assert_true(total_acked >= ROUNDS); /* every kill came after acknowledged work */
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
    int next = 0, total = 0, reported = 0;
    test_store_open(&t);
    test_enroll(&t, "Crash Test", card);
    assert_int_equal(patron_reward_add(t.s, &d, &reward_id), 0);
    struct patron_adjustment adj = {card, 90000000, "test stock of points", "Mia", "A"};
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &a), 0);
    patron_store_close(t.s);
    for (int round = 0; round < ROUNDS; round++)
        next = crash_round(t.path, redeem_child, reward_id, next, acked, &reported);
    assert_int_equal(patron_store_open(t.path, &t.s), 0);
    for (int i = 0; i < MAX_SALES; i++)
        total += acked[i];
    assert_int_equal(total, reported); /* each acknowledged once */
    assert_true(total >= ROUNDS);      /* every kill came after acknowledged work */
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
