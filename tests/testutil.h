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

#endif
