/* SPDX-License-Identifier: MIT */
/* The chain tests' shared fixture (label pg): one throwaway PostgreSQL per test program (`pg`,
 * with the CLI's home folder `home`), a head office with stores 1 and 2, stores opened with their
 * id on a clock at TEST_EPOCH, `patron sync`, a one-line sale, and one-value queries at head
 * office, and the round trips a call makes on a head office link. The test program also
 * compiles clirun.c. */
#ifndef PATRON_TEST_CHAINUTIL_H
#define PATRON_TEST_CHAINUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pgutil.h"
#include "testutil.h"

extern struct pg_cluster pg;
extern char home[256];

/* cmocka group set-up and tear-down: the cluster and the home folder. */
int chain_group_setup(void **state);
int chain_group_teardown(void **state);

/* A test_store's clock (ctx: the struct test_store), for patron_store_set_clock. */
int64_t chain_clock(void *ctx);
/* A fresh store with id `id` on a clock at TEST_EPOCH. */
void chain_store_open(struct test_store *t, int id);
/* Registers store `id` at head office `owner` and writes its URL into url. */
void chain_store_add(const char *owner, int id, char *url, size_t len);
/* A head office `name` with stores 1 and 2; the owner's URL and each store's URL. */
void chain_make(const char *name, char *owner, char url1[1024], char url2[1024]);
/* One sale of one line (`TEA`, qty 1) of `total`, keyed by ref; fails the test on error. */
void chain_sell(patron_store *s, const char *card, const char *ref, int64_t total);
/* `patron sync` of store t with head office `url` (and `--now NOW` unless now is NULL). */
void chain_sync_ok(const struct test_store *t, const char *url, const char *now);
/* The text of the first column of the one row `sql` yields at `url` ("" for NULL). */
const char *pg_text(const char *url, const char *sql);
int64_t pg_int(const char *url, const char *sql);
/* Runs `sql` at `url` through libpatron_hq (as a store's role would): 0, or the PATRON_E* code. */
int chain_exec_as(const char *url, const char *sql);
/* `patron --hq URL hq ARGS...` as head office's owner (clirun.h, with `home`); fails the test
 * unless it exits 0. */
#define HQ_OK(owner, ...)                                                                          \
    do {                                                                                           \
        struct clirun r_ = {0};                                                                    \
        if (clirun(&r_, "--home", home, "--hq", owner, "hq", __VA_ARGS__, (char *)NULL) != 0)      \
            fail_msg("hq command: %s", r_.err);                                                    \
    } while (0)
/* Waits for child `pid`, which must exit normally: its exit status. */
int chain_exit_of(pid_t pid);
/* The one conflict of `type` in `patron hq conflicts --json`'s reply `report` (the test fails
 * unless there is exactly one); it lives as long as report. */
json_t *chain_only_conflict(json_t *report, const char *type);
/* Sessions of database `db` waiting on a lock, polled at `url` until there are n (a minute at
 * most): how many there were last. */
int64_t chain_lock_waiters(const char *url, const char *db, int64_t n);
/* Round trips on head office link h from chain_trips_start to chain_trips_end: the messages
 * that make head office answer (Sync, simple Query) in libpq's trace. */
struct patron_hq;
void chain_trips_start(struct patron_hq *h);
int chain_trips_end(struct patron_hq *h);

#endif
