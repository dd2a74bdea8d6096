/* SPDX-License-Identifier: MIT */
/* The store: durability settings, init safe to run twice, an older database upgraded at open,
 * a newer one refused with a clear message, and the program's rules validated and audited. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "testutil.h"

static void durability_settings_are_on(void **state)
{
    (void)state;
    struct test_store t;
    test_store_open(&t);
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(patron_store_sqlite(t.s), "PRAGMA journal_mode", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(test_scalar(t.s, "PRAGMA synchronous"), 2); /* FULL */
    assert_int_equal(test_scalar(t.s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(test_scalar(t.s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    test_store_close(&t);
}

/* A handle whose log is synced elsewhere commits without waiting for the disk (NORMAL) and
 * syncs on demand; every other handle on the store keeps FULL. */
static void a_handle_can_leave_the_log_sync_to_its_caller(void **state)
{
    (void)state;
    struct test_store t;
    patron_store *other;
    int os_err = -1;
    test_store_open(&t);
    assert_int_equal(patron_store_defer_sync(t.s), 0);
    assert_int_equal(test_scalar(t.s, "PRAGMA synchronous"), 1); /* NORMAL */
    assert_int_equal(patron_store_sync_log(t.s, &os_err), 0);
    assert_int_equal(os_err, 0);
    assert_int_equal(patron_store_open(t.path, &other), 0);
    assert_int_equal(test_scalar(other, "PRAGMA synchronous"), 2); /* FULL */
    patron_store_close(other);
    test_store_close(&t);
}

/* A handle's page cache is bounded where asked (SQLite counts a bound in KiB as negative). */
static void page_cache_is_bounded_per_handle(void **state)
{
    (void)state;
    struct test_store t;
    test_store_open(&t);
    int64_t before = test_scalar(t.s, "PRAGMA cache_size");
    assert_int_equal(patron_store_set_cache_kib(t.s, 512), 0);
    assert_int_equal(test_scalar(t.s, "PRAGMA cache_size"), -512);
    assert_int_equal(patron_store_set_cache_kib(t.s, 1), 0);
    assert_int_equal(test_scalar(t.s, "PRAGMA cache_size"), -64);
    assert_true(before != -512);
    test_store_close(&t);
}

/* Open temporary files of this process (SQLite's are unlinked at once: "etilqs_... (deleted)"). */
static int temp_files_open(void)
{
    char path[64], link[512];
    int n = 0;
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k <= 0)
            continue;
        link[k] = '\0';
        n += strstr(link, "etilqs_") != NULL;
    }
    return n;
}

/* A savepoint in a batch changes `pages` pages of a table made for it, each row on a page of
 * its own; returns how many temporary files were open while the savepoint held their old
 * contents. */
static int temp_files_for_a_savepoint_of(int pages)
{
    struct test_store t;
    char sql[256];
    test_store_open(&t);
    sqlite3 *db = patron_store_sqlite(t.s);
    snprintf(sql, sizeof sql,
             "CREATE TABLE wide(id INTEGER PRIMARY KEY, b BLOB);"
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO wide SELECT i, zeroblob(3000) FROM n",
             pages);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_savepoint(t.s), 0);
    assert_int_equal(sqlite3_exec(db, "UPDATE wide SET b = zeroblob(3001)", NULL, NULL, NULL),
                     SQLITE_OK);
    int open = temp_files_open();
    assert_int_equal(patron_store_savepoint_release(t.s), 0);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    test_store_close(&t);
    return open;
}

/* A request's savepoint in a batch keeps the old contents of the pages it changes in memory,
 * in one block, up to 120 KiB: 24 pages, more than a 5-line checkout changes (12 to 20), open
 * no temporary file (SQLite's default moves them to one past 64 KiB). Past the bound they go
 * to a file, so a large request does not hold its undo pages in memory. */
static void a_savepoint_keeps_its_pages_in_memory(void **state)
{
    (void)state;
    assert_int_equal(temp_files_for_a_savepoint_of(24), 0);
    assert_int_equal(temp_files_for_a_savepoint_of(40), 1);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* A handle that defers checkpoints: a commit that takes the WAL past SQLite's 1,000 pages does
 * not copy it into the database (the file does not grow), patron_store_wal_pages says how large
 * the WAL is, another handle's checkpoint copies it, and the next write starts the WAL again.
 * A checkpoint tells how much it left uncopied: nothing, or what a reader still needs. */
static void checkpoints_deferred_to_another_handle(void **state)
{
    (void)state;
    struct test_store t;
    patron_store *other;
    test_store_open(&t);
    sqlite3 *db = patron_store_sqlite(t.s);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE bulk(b BLOB)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                     SQLITE_OK);
    long long before = file_size(t.path);
    patron_store_defer_checkpoints(t.s);
    assert_int_equal(sqlite3_exec(db,
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 1200) INSERT INTO bulk SELECT zeroblob(4000) FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(patron_store_wal_pages(t.s) >= 1200);
    assert_int_equal(file_size(t.path), before); /* all of it still in the WAL only */
    assert_int_equal(patron_store_open(t.path, &other), 0);
    unsigned left = 1;
    assert_int_equal(patron_store_checkpoint_left(other, &left), 0);
    assert_int_equal(left, 0);
    assert_true(file_size(t.path) >= before + 1200LL * 4000);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO bulk VALUES (x'00')", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_true(patron_store_wal_pages(t.s) < 10); /* the WAL started again */
    /* A reader's snapshot keeps what was written after it from being copied, and says so. */
    sqlite3 *reader = patron_store_sqlite(other);
    assert_int_equal(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM bulk", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 20) INSERT INTO bulk SELECT zeroblob(4000) FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    patron_store *third;
    assert_int_equal(patron_store_open(t.path, &third), 0);
    assert_int_equal(patron_store_checkpoint_left(third, &left), 0);
    assert_true(left >= 20);
    assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(patron_store_checkpoint_left(third, &left), 0);
    assert_int_equal(left, 0);
    patron_store_close(third);
    patron_store_close(other);
    test_store_close(&t);
}

static void init_twice_changes_nothing(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_store_info a, b;
    test_store_open(&t);
    assert_int_equal(patron_store_info(t.s, &a), 0);
    assert_int_equal(patron_store_init(t.s, 1, "Test shop"), 0);
    assert_int_equal(patron_store_info(t.s, &b), 0);
    assert_string_equal(a.chain_id, b.chain_id);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM accounts"), 4);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM tiers"), 1);
    test_store_close(&t);
}

static void newer_database_is_refused(void **state)
{
    (void)state;
    struct test_store t;
    patron_store *again = NULL;
    test_store_open(&t);
    assert_int_equal(
        sqlite3_exec(patron_store_sqlite(t.s), "PRAGMA user_version = 999", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(patron_store_open(t.path, &again), PATRON_ESCHEMA);
    assert_null(again);
    assert_non_null(strstr(patron_strerror(PATRON_ESCHEMA), "newer"));
    test_store_close(&t);
}

/* tests/fixtures/schema-v1.sql is a store written by schema version 1, with one member. */
static void version_1_database_upgrades(void **state)
{
    (void)state;
    char dir[256], path[300], fixture[512];
    const char *tmp = getenv("TMPDIR"), *src = getenv("PATRON_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/patron-upgrade-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/old.db", dir);
    snprintf(fixture, sizeof fixture, "%s/tests/fixtures/schema-v1.sql", src ? src : ".");
    FILE *f = fopen(fixture, "r");
    assert_non_null(f);
    static char sql[1 << 16];
    size_t n = fread(sql, 1, sizeof sql - 1, f);
    fclose(f);
    sql[n] = '\0';
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    patron_store *s;
    struct patron_member m;
    assert_int_equal(patron_store_open(path, &s), 0);
    assert_int_equal(test_scalar(s, "PRAGMA user_version"), PATRON_SCHEMA_VERSION);
    assert_int_equal(patron_member_by_id(s, 1, &m), 0);
    assert_string_equal(m.name, "Old Member");
    assert_int_equal(m.points, 42);
    struct patron_verify_result v;
    assert_int_equal(patron_ledger_verify(s, &v), 0);
    assert_true(v.ok);
    patron_store_close(s);
    test_rmtree(dir);
}

static void rules_are_validated_and_audited(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_program p;
    test_store_open(&t);
    assert_int_equal(patron_program_set(t.s, "earn_points", "-1", "owner"), PATRON_EINVAL);
    assert_int_equal(patron_program_set(t.s, "no_such_rule", "1", "owner"), PATRON_EINVAL);
    assert_int_equal(patron_program_set(t.s, "refund_policy", "sometimes", "owner"), PATRON_EINVAL);
    assert_int_equal(patron_program_set(t.s, "currency", "eur", "owner"), PATRON_EINVAL);
    assert_int_equal(patron_program_set(t.s, "refund_policy", "negative", "owner"), 0);
    assert_int_equal(patron_program_get(t.s, &p), 0);
    assert_int_equal(p.refund_policy, PATRON_REFUND_NEGATIVE);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM rule_changes WHERE key = "
                                      "'refund_policy' AND changed_by = 'owner' AND "
                                      "old_value = 'clamp' AND new_value = 'negative'"),
                     1);
    test_store_close(&t);
}

/* Another handle's write lock, given back after a while from a thread of its own. */
static void *give_back_later(void *arg)
{
    struct timespec ts = {0, 200 * 1000000};
    nanosleep(&ts, NULL);
    return sqlite3_exec(arg, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? arg : NULL;
}

/* A write behind another handle's lock waits for it within busy_timeout and then goes ahead;
 * with no timeout it is refused at once as busy (the wait is stepped by the store's own busy
 * handler, not SQLite's). */
static void a_locked_store_is_waited_for_within_busy_timeout(void **state)
{
    (void)state;
    struct test_store t;
    sqlite3 *other = NULL;
    pthread_t thread;
    void *given = NULL;
    test_store_open(&t);
    assert_int_equal(sqlite3_open(t.path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    patron_store_set_busy_timeout(t.s, 0);
    assert_int_equal(patron_store_batch_begin(t.s), -EBUSY);
    patron_store_set_busy_timeout(t.s, 60);
    assert_int_equal(pthread_create(&thread, NULL, give_back_later, other), 0);
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_store_batch_commit(t.s), 0);
    assert_int_equal(pthread_join(thread, &given), 0);
    assert_ptr_equal(given, other);
    sqlite3_close(other);
    test_store_close(&t);
}

/* The first test opens a store through the library, so SQLite starts with the library's
 * process-wide settings (patron_store_open), which a_savepoint_keeps_its_pages_in_memory needs. */
int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durability_settings_are_on),
        cmocka_unit_test(a_handle_can_leave_the_log_sync_to_its_caller),
        cmocka_unit_test(init_twice_changes_nothing),
        cmocka_unit_test(newer_database_is_refused),
        cmocka_unit_test(version_1_database_upgrades),
        cmocka_unit_test(rules_are_validated_and_audited),
        cmocka_unit_test(page_cache_is_bounded_per_handle),
        cmocka_unit_test(checkpoints_deferred_to_another_handle),
        cmocka_unit_test(a_savepoint_keeps_its_pages_in_memory),
        cmocka_unit_test(a_locked_store_is_waited_for_within_busy_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
