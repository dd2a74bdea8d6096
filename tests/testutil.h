/* SPDX-License-Identifier: MIT */
/* Helpers the tests share: a fresh store in a temporary directory with a movable clock, and
 * running the `patron` program as a child process. cmocka is included after its prerequisites. */
#ifndef PATRON_TESTUTIL_H
#define PATRON_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "patron/patron.h"

/* 2026-01-15T10:00:00Z, where test clocks start. */
#define TEST_EPOCH INT64_C(1768471200)
#define TEST_DAY INT64_C(86400)

/* SQL that takes a store's sale lines back to rows of a table of their own, as they were before
 * the migration that put them in the sale's row (for tests that remake an older store). */
#define TEST_SQL_SALE_LINES_AS_TABLE                                                               \
    "DROP VIEW sale_lines;"                                                                        \
    "CREATE TABLE sale_lines(sale_id INTEGER NOT NULL REFERENCES sales(id),"                       \
    " line_no INTEGER NOT NULL, sku TEXT NOT NULL, category TEXT NOT NULL,"                        \
    " qty INTEGER NOT NULL, unit_minor INTEGER NOT NULL, weight_per_unit INTEGER NOT NULL,"        \
    " PRIMARY KEY(sale_id, line_no)) WITHOUT ROWID;"                                               \
    "INSERT INTO sale_lines SELECT s.id, l.value ->> 0, l.value ->> 1, l.value ->> 2,"             \
    " l.value ->> 3, l.value ->> 4, l.value ->> 5 FROM sales s, json_each(s.lines) l;"             \
    "ALTER TABLE sales DROP COLUMN lines; ALTER TABLE sales DROP COLUMN categories;"

/* SQL that takes away the answer an adjustment's entry keeps (schema 27). */
#define TEST_SQL_NO_ADJUSTMENT_ANSWER "ALTER TABLE entries DROP COLUMN balance_after;"

/* A store as schema 25 left it: what the migrations after it added, undone. */
#define TEST_SQL_AS_SCHEMA_25 TEST_SQL_NO_ADJUSTMENT_ANSWER TEST_SQL_SALE_LINES_AS_TABLE

struct test_store {
    patron_store *s;
    int64_t now; /* the clock the store reads; tests move it */
    char dir[256];
    char path[300];
};

/* Makes a temporary directory, opens and inits a store (id 1, "Test shop") on a clock at
 * TEST_EPOCH. Fails the test on error. */
void test_store_open(struct test_store *t);
/* Closes the store and removes the directory. */
void test_store_close(struct test_store *t);

/* Enrolls a member named `name` and returns the card number in card[14]. */
void test_enroll(struct test_store *t, const char *name, char *card);

/* Runs argv[0] (a path) with argv, stdout captured into out (up to cap bytes, NUL-terminated).
 * Returns the exit status (128 + signal when killed). */
int test_run(char *out, size_t cap, const char *const argv[]);

/* Runs `$PATRON_BIN args...` (a NULL-terminated list) with stdout captured into out (up to
 * cap bytes, NUL-terminated). Returns the exit status. */
int test_run_patron(char *out, size_t cap, const char *arg, ...);

/* The integer in the first column of the one row `sql` yields (a count, a pragma). Fails the
 * test when the statement does not prepare or yields no row. */
int64_t test_scalar(patron_store *s, const char *sql);
/* Fails the test, naming the first problem, unless the store's ledger verifies. */
void test_assert_ledger_verifies(patron_store *s);

/* Removes a directory tree. */
void test_rmtree(const char *dir);

/* Points TMPDIR at a directory that does not exist, so that the library can set nothing aside on
 * disk; returns what to give back to test_tmpdir_restore. */
char *test_tmpdir_unusable(void);
void test_tmpdir_restore(char *saved);

#endif
