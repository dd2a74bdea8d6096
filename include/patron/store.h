/* SPDX-License-Identifier: MIT */
/* The store handle: one SQLite database (WAL, synchronous=FULL) holding a shop's members,
 * ledger, rules, vouchers and print queue, plus the injected clock every rule reads time from.
 *
 * Thread-safety: a handle is used by one thread at a time. Open one handle per thread; SQLite
 * serialises writers across handles and processes (busy_timeout is set). */
#ifndef PATRON_STORE_H
#define PATRON_STORE_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct patron_store patron_store;

/* Returns the current time in Unix seconds. */
typedef int64_t (*patron_clock_fn)(void *ctx);

/* The schema version this library writes. */
#define PATRON_SCHEMA_VERSION 27

/* Opens (creating if missing) the database at `path` and brings its schema up to date.
 * Returns 0 and sets *out, which the caller frees with patron_store_close(); PATRON_ESCHEMA when
 * the file was written by a newer Patron; -errno or PATRON_EDB otherwise. The first open in a
 * process that has not started SQLite yet also sets two of SQLite's process-wide settings: no
 * memory statistics (sqlite3_memory_used() then reads 0), and statement and savepoint journals
 * kept in memory up to 120 KiB before a temporary file. */
PATRON_EXPORT int patron_store_open(const char *path, patron_store **out)
    __attribute__((warn_unused_result));

/* Makes those process-wide SQLite settings now, as the first open would, for a program that
 * starts SQLite itself before its first store (its own handles then run under the same
 * settings). Does nothing once they are made or once SQLite has started. */
PATRON_EXPORT void patron_sqlite_configure(void);

/* Opens a store that already exists, as patron_store_open() does, but creates nothing and never
 * converts a database that is not Patron's. Returns 0 and sets *out; otherwise writes a sentence
 * saying what `path` is and how to fix it into `why` (may be NULL) and returns PATRON_ENOTFOUND
 * (nothing there, or an empty file), PATRON_EINVAL (a directory, a file that is not an SQLite
 * database, another program's database), -EACCES (this user may not read and write it), or
 * what patron_store_open() returns. Only `patron init` and the demo create stores. */
PATRON_EXPORT int patron_store_open_existing(const char *path, patron_store **out, char *why,
                                             size_t len) __attribute__((warn_unused_result));

/* Closes the handle; NULL does nothing. */
PATRON_EXPORT void patron_store_close(patron_store *s);

/* Makes every rule read time from `fn` (NULL restores the system clock). */
PATRON_EXPORT void patron_store_set_clock(patron_store *s, patron_clock_fn fn, void *ctx);

/* Says whether spends made on this handle from now on are made while head office (set, issue 11)
 * cannot be reached: each debit of a member's points is then capped by the program rules
 * chain_offline_member_cap and chain_offline_store_cap, counted since the last successful sync
 * (PATRON_ELIMIT with a sentence naming the cap), and ships marked "offline": true. 0 clears. */
PATRON_EXPORT void patron_store_set_spend_offline(patron_store *s, int offline);

/* Pins the clock at `unix_seconds`, for tests and demos. */
PATRON_EXPORT void patron_store_set_fixed_time(patron_store *s, int64_t unix_seconds);

/* The time the rules see now, in Unix seconds. */
PATRON_EXPORT int64_t patron_store_now(const patron_store *s);

/* Names the till the next writes on this handle are made for (its terminal id; 0, the default,
 * is the local `patron` program). Idempotency keys are scoped by it: the same key string sent
 * by two tills names two requests. The counter service sets it for each request. */
PATRON_EXPORT void patron_store_set_till(patron_store *s, int64_t terminal_id);

/* Makes the database a store: records its id and name and creates the program accounts, the
 * default rules and the base tier. Safe to run twice: a second call changes nothing and returns
 * 0. `store_id` is 1..65535 (it is written into every voucher); `name` may be NULL. */
PATRON_EXPORT int patron_store_init(patron_store *s, int store_id, const char *name);

struct patron_store_info {
    int store_id; /* 0 until patron_store_init() */
    char name[128];
    char chain_id[33]; /* 32 hex digits, the chain every voucher is bound to */
    char currency[4];  /* ISO 4217 code of the program's money */
    int schema_version;
};

/* Fills *out. Returns 0 or PATRON_EDB. */
PATRON_EXPORT int patron_store_info(patron_store *s, struct patron_store_info *out);

/* A sentence saying more about the last failure on this handle (which member, how many points),
 * or "" when there is nothing more to say. Valid until the next call on the handle. */
PATRON_EXPORT const char *patron_store_detail(const patron_store *s);

/* Forgets the detail of the last failure, so that the next failure's detail is its own or "".
 * A handle shared by several callers in turn (a pool of handles in a server) is cleared before
 * each caller's work: one caller's detail (a card number) must never reach another. */
PATRON_EXPORT void patron_store_clear_detail(patron_store *s);

/* Group commit: between batch_begin and batch_commit every write call on this handle runs in
 * its own savepoint inside one transaction, so a failing call undoes only itself and one fsync
 * makes the whole batch durable. Results of calls in the batch are durable only once
 * batch_commit returns 0; on failure nothing of the batch is kept. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_store_batch_begin(patron_store *s) __attribute__((warn_unused_result));
PATRON_EXPORT int patron_store_batch_commit(patron_store *s) __attribute__((warn_unused_result));
PATRON_EXPORT void patron_store_batch_rollback(patron_store *s);

/* One request inside an open batch: patron_store_savepoint marks where it begins,
 * patron_store_savepoint_rollback undoes everything written since (the savepoint stays open, so
 * what follows, such as the request's audit line, can still be written in it), and
 * patron_store_savepoint_release closes it, keeping what is left for the batch's commit. One
 * savepoint at a time per handle; its statements are prepared once on the handle. Each returns
 * 0, or PATRON_EINVAL (no batch open, a savepoint already open, none open) or a database error.
 * patron_store_batch_rollback also drops an open savepoint. */
PATRON_EXPORT int patron_store_savepoint(patron_store *s) __attribute__((warn_unused_result));
PATRON_EXPORT int patron_store_savepoint_rollback(patron_store *s);
PATRON_EXPORT int patron_store_savepoint_release(patron_store *s);

/* How many commits SQLite has made on this handle since it was opened (counted by a commit hook
 * the library installs at open), whoever asked for them: batches, single calls, migrations.
 * Readable from any thread. */
PATRON_EXPORT unsigned long long patron_store_commits(const patron_store *s);

/* How long a write on this handle waits for the database while another program holds its lock
 * (default 5 s), then fails with -EBUSY. Not thread-safe: set it before the handle is shared. */
PATRON_EXPORT void patron_store_set_busy_timeout(patron_store *s, unsigned seconds);

/* Bounds SQLite's page cache of this handle to `kib` KiB (at least 64; SQLite's default is
 * 2000), for handles that read much and seldom (a service's report readers): memory for the
 * pages read stays within the bound and is taken again only as needed. Returns 0 or a database
 * error. Not thread-safe: set it before the handle is shared. */
PATRON_EXPORT int patron_store_set_cache_kib(patron_store *s, unsigned kib);

/* Checkpoints elsewhere: a commit on this handle no longer copies the WAL into the database when
 * the WAL has grown past SQLite's 1,000 pages (reading and writing every page and syncing the
 * database inside the commit that crossed the line); another handle does it, in a thread of its
 * own, with patron_store_checkpoint. patron_store_wal_pages tells the WAL's size in pages after
 * this handle's last commit (readable from any thread), for deciding when. Durability does not
 * change: a commit is durable in the WAL. Not thread-safe: set it before the handle is shared. */
PATRON_EXPORT void patron_store_defer_checkpoints(patron_store *s);
PATRON_EXPORT unsigned patron_store_wal_pages(const patron_store *s);

/* The log synced elsewhere, for a handle that writes batches and answers for them (a service's
 * writer): a commit on this handle writes its WAL frames without waiting for the disk (SQLite's
 * synchronous=NORMAL: after a power cut the store is whole, but its last commits may be gone),
 * and patron_store_sync_log makes every commit made so far durable (an fdatasync of the WAL),
 * from any thread, while this handle goes on writing. Whoever tells anyone of a commit only
 * after a sync that began after it keeps the store's promise: what anyone was told is on disk.
 * Returns 0 or a database error. Not thread-safe: set it before the handle is shared. */
PATRON_EXPORT int patron_store_defer_sync(patron_store *s);
/* Returns 0, or PATRON_EDB with the system's error number in *os_err when the disk refused: the
 * commits since the last sync may not be on disk. Thread-safe: it uses only the WAL's file. */
PATRON_EXPORT int patron_store_sync_log(const patron_store *s, int *os_err);

/* Copies what it can of the WAL into the database now (SQLite's passive checkpoint: it never
 * waits for readers or the writer; the WAL starts again from its beginning at the next write once
 * all of it was copied). Returns 0 or a database error. patron_store_checkpoint_left also tells
 * how many of the WAL's pages were left uncopied (a reader still needs them, or the file is not
 * in WAL mode: 0). */
PATRON_EXPORT int patron_store_checkpoint(patron_store *s) __attribute__((warn_unused_result));
PATRON_EXPORT int patron_store_checkpoint_left(patron_store *s, unsigned *left)
    __attribute__((warn_unused_result));

/* The underlying SQLite handle, for tools and tests that inspect the file. Borrowed. */
PATRON_EXPORT struct sqlite3 *patron_store_sqlite(patron_store *s);

#ifdef __cplusplus
}
#endif
#endif
