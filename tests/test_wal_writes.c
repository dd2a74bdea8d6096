/* SPDX-License-Identifier: MIT */
/* The store's WAL written a commit at a time (src/core/wal_writes.c): a commit's frames reach the
 * file in one write, and every commit is whole the moment it returns, for another connection and
 * in a copy of the files recovered from the WAL alone, whatever its size, with pages spilled
 * before the commit, frames rewritten in place and transactions undone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/store_internal.h"
#include "testutil.h"

static void exec_ok(sqlite3 *db, const char *sql)
{
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Rows id first.. of `size` random bytes each (3,000 bytes: a page of their own). */
static void insert_rows(sqlite3 *db, int first, int n, int size)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "INSERT INTO t(id, v) VALUES (?1, randomblob(?2))", -1, &st, NULL),
        SQLITE_OK);
    for (int i = 0; i < n; i++) {
        sqlite3_bind_int(st, 1, first + i);
        sqlite3_bind_int(st, 2, size);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

static void open_table(struct test_store *t, sqlite3 **db)
{
    test_store_open(t);
    *db = patron_store_sqlite(t->s);
    exec_ok(*db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
}

static void a_commit_reaches_the_wal_in_one_write(void **state)
{
    (void)state;
    struct test_store t;
    sqlite3 *db;
    char wal[600];
    open_table(&t, &db);
    snprintf(wal, sizeof wal, "%s-wal", t.path);
    long long size = file_size(wal);
    long writes = patron__wal_file_writes();
    exec_ok(db, "BEGIN");
    insert_rows(db, 1, 20, 3000);
    exec_ok(db, "COMMIT");
    long long frames = (file_size(wal) - size) / (4096 + 24);
    assert_true(frames >= 20);                               /* SQLite's own: two writes each */
    assert_int_equal(patron__wal_file_writes() - writes, 1); /* 20 frames: under 128 KiB */
    test_store_close(&t);
}

static void count_and_bytes(sqlite3 *db, long long *count, long long *bytes)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*), total(length(v)) FROM t", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    *count = sqlite3_column_int64(st, 0);
    *bytes = (long long)sqlite3_column_double(st, 1);
    sqlite3_finalize(st);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    assert_non_null(in);
    assert_non_null(out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

/* The store's files as a power cut after the log's sync would leave them (the WAL without its
 * index): SQLite recovers the copy from the WAL's frames and their checksums alone. */
static void check_a_copy_recovers(const struct test_store *t, long long rows, long long bytes)
{
    char from[600], to[600];
    sqlite3 *copy;
    long long seen_rows, seen_bytes;
    snprintf(to, sizeof to, "%s/copy.db", t->dir);
    copy_file(t->path, to);
    snprintf(from, sizeof from, "%s-wal", t->path);
    snprintf(to, sizeof to, "%s/copy.db-wal", t->dir);
    copy_file(from, to);
    snprintf(to, sizeof to, "%s/copy.db", t->dir);
    assert_int_equal(sqlite3_open_v2(to, &copy, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    count_and_bytes(copy, &seen_rows, &seen_bytes);
    assert_int_equal(seen_rows, rows);
    assert_int_equal(seen_bytes, bytes);
    sqlite3_close(copy);
    remove(to);
}

static void every_commit_is_whole_for_a_reader_at_once(void **state)
{
    (void)state;
    struct test_store t;
    sqlite3 *db, *reader;
    long long rows = 0, bytes = 0, seen_rows, seen_bytes;
    open_table(&t, &db);
    /* as the service's writer: no sync at a commit to write what is gathered before it */
    assert_int_equal(patron_store_defer_sync(t.s), 0);
    exec_ok(db, "PRAGMA cache_size = 10"); /* large transactions spill pages before they commit */
    assert_int_equal(sqlite3_open_v2(t.path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    srand(11);
    for (int round = 0, next = 1; round < 150; round++) {
        int n = 1 + rand() % 60, size = 100 + rand() % 3000, undo = rand() % 5 == 0;
        exec_ok(db, "BEGIN");
        insert_rows(db, next, n, size);
        /* the rows of this transaction written again: frames already in the WAL are rewritten */
        char grow[160];
        snprintf(grow, sizeof grow,
                 "UPDATE t SET v = randomblob(length(v) + 1) WHERE id >= %d AND id %% 3 = 0", next);
        exec_ok(db, grow);
        long long grown = 0;
        for (int id = next; id < next + n; id++)
            grown += id % 3 == 0;
        exec_ok(db, undo ? "ROLLBACK" : "COMMIT");
        if (!undo) {
            rows += n;
            bytes += (long long)n * size + grown;
            next += n;
        }
        count_and_bytes(reader, &seen_rows, &seen_bytes);
        assert_int_equal(seen_rows, rows);
        assert_int_equal(seen_bytes, bytes);
        if (round % 10 == 0)
            check_a_copy_recovers(&t, rows, bytes);
    }
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(reader, "PRAGMA integrity_check", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    sqlite3_close(reader);
    test_store_close(&t);
}

/* Frames a transaction wrote before it was undone (pages spilled from a small cache) are never
 * written over what another connection commits after it. */
static void an_undone_transaction_leaves_no_frames_behind(void **state)
{
    (void)state;
    struct test_store t;
    sqlite3 *db, *other;
    patron_store *second;
    long long rows, bytes;
    open_table(&t, &db);
    exec_ok(db, "PRAGMA cache_size = 10");
    assert_int_equal(patron_store_open(t.path, &second), 0);
    other = patron_store_sqlite(second);
    exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)"); /* no page is read from the WAL after it */
    exec_ok(db, "BEGIN");
    insert_rows(db, 1, 40, 3000); /* spills: frames written before any commit */
    exec_ok(db, "ROLLBACK");
    exec_ok(other, "BEGIN"); /* its frames go where the undone ones went, and further */
    insert_rows(other, 1000, 80, 3000);
    exec_ok(other, "COMMIT");
    count_and_bytes(db, &rows, &bytes); /* the first connection reads the WAL again */
    exec_ok(db, "BEGIN");
    insert_rows(db, 2000, 1, 10);
    exec_ok(db, "COMMIT");
    count_and_bytes(other, &rows, &bytes);
    assert_int_equal(rows, 81);
    assert_int_equal(bytes, 80 * 3000 + 10);
    check_a_copy_recovers(&t, 81, 80 * 3000 + 10);
    patron_store_close(second);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_commit_reaches_the_wal_in_one_write),
        cmocka_unit_test(every_commit_is_whole_for_a_reader_at_once),
        cmocka_unit_test(an_undone_transaction_leaves_no_frames_behind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
