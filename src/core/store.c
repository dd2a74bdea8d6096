/* SPDX-License-Identifier: MIT */
/* The store handle: opening the SQLite file with the durability settings the ledger relies on,
 * the statement cache, nested transactions, the injected clock and the settings table. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "core/store_internal.h"
#include "patron/limits.h"

/* How much of a statement or savepoint journal SQLite keeps in memory, in one block (below). */
#define PATRON__JOURNAL_IN_MEMORY (120 * 1024)

static const char *const open_pragmas = "PRAGMA journal_mode=WAL;"
                                        "PRAGMA synchronous=FULL;"
                                        "PRAGMA foreign_keys=ON;"
                                        "PRAGMA secure_delete=ON;";

int patron__fail(patron_store *s, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->detail, sizeof s->detail, fmt, ap);
    va_end(ap);
    return err;
}

int patron__db_err(patron_store *s, int rc)
{
    int primary = rc & 0xff;
    snprintf(s->detail, sizeof s->detail, "%s", sqlite3_errmsg(s->db));
    if (primary == SQLITE_FULL)
        return PATRON_EFULL;
    if (primary == SQLITE_NOMEM)
        return PATRON_ENOMEM;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        return -EBUSY;
    if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY)
        return -EIO;
    return PATRON_EDB;
}

int patron__exec(patron_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : patron__db_err(s, rc);
}

static size_t slot_of(const struct patron__stmt_slot *slots, size_t cap, const char *sql)
{
    size_t i = ((uintptr_t)sql >> 3) & (cap - 1);
    while (slots[i].sql && slots[i].sql != sql)
        i = (i + 1) & (cap - 1);
    return i;
}

/* Doubles the table (or makes the first one); the prepared statements move as they are. */
static int grow_stmt_cache(patron_store *s)
{
    size_t cap = s->stmt_cap ? s->stmt_cap * 2 : PATRON__STMT_CACHE_MIN;
    if (cap > PATRON__STMT_CACHE_MAX)
        return patron__fail(s, PATRON_EDB, "more than %d distinct statements",
                            PATRON__STMT_CACHE_MAX / 2);
    struct patron__stmt_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return PATRON_ENOMEM;
    for (size_t i = 0; i < s->stmt_cap; i++)
        if (s->stmts[i].sql)
            slots[slot_of(slots, cap, s->stmts[i].sql)] = s->stmts[i];
    free(s->stmts);
    s->stmts = slots;
    s->stmt_cap = cap;
    return 0;
}

sqlite3_stmt *patron__stmt(patron_store *s, const char *sql)
{
    if (s->stmt_cap) {
        struct patron__stmt_slot *slot = &s->stmts[slot_of(s->stmts, s->stmt_cap, sql)];
        if (slot->sql) {
            sqlite3_reset(slot->stmt);
            sqlite3_clear_bindings(slot->stmt);
            return slot->stmt;
        }
    }
    if ((s->stmt_count + 1) * 2 > s->stmt_cap && grow_stmt_cache(s) != 0)
        return NULL;
    struct patron__stmt_slot *slot = &s->stmts[slot_of(s->stmts, s->stmt_cap, sql)];
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->stmt, NULL) !=
        SQLITE_OK) {
        patron__db_err(s, sqlite3_errcode(s->db));
        slot->stmt = NULL;
        return NULL;
    }
    slot->sql = sql;
    s->stmt_count++;
    return slot->stmt;
}

int patron__step_done(patron_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron__step_int(patron_store *s, sqlite3_stmt *st, int64_t *out)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron__scalar(patron_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    return st ? patron__step_int(s, st, out) : PATRON_EDB;
}

int patron__read_rows(patron_store *s, sqlite3_stmt *st, void *out, size_t size, size_t cap,
                      size_t *count, void (*read)(sqlite3_stmt *st, void *row))
{
    size_t n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap)
            read(st, (char *)out + n * size);
        n++;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    *count = n;
    return 0;
}

/* The transaction statements, prepared once on the handle (the statement cache) rather than
 * parsed from text on every write. */
static const char tx_open[] = "BEGIN IMMEDIATE";
static const char read_open[] = "BEGIN";
static const char tx_end[] = "COMMIT";
static const char tx_undo[] = "ROLLBACK";
static const char sp_open[] = "SAVEPOINT patron_sp";
static const char sp_end[] = "RELEASE patron_sp";
static const char sp_back[] = "ROLLBACK TO patron_sp";

static int run_cached(patron_store *s, const char *sql)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    return st ? patron__step_done(s, st) : PATRON_EDB;
}

int patron__tx_begin(patron_store *s)
{
    int err = run_cached(s, s->tx_depth == 0 ? tx_open : sp_open);
    if (err == 0 && s->tx_depth++ == 0)
        s->rules_checked = 0; /* the kept rules are checked again in the new transaction */
    return err;
}

int patron__read_begin(patron_store *s, int *opened)
{
    *opened = 0;
    if (s->tx_depth != 0)
        return 0;
    int err = run_cached(s, read_open);
    if (err == 0) {
        s->tx_depth = 1;
        s->rules_checked = 0; /* the kept rules are checked again in the new snapshot */
        *opened = 1;
    }
    return err;
}

void patron__read_end(patron_store *s, int opened)
{
    if (!opened)
        return;
    if (run_cached(s, tx_undo) != 0) /* a read has nothing to keep */
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->tx_depth = 0;
}

int patron__tx_commit(patron_store *s)
{
    int err = run_cached(s, s->tx_depth == 1 ? tx_end : sp_end);
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    s->tx_depth--;
    return 0;
}

void patron__tx_rollback(patron_store *s)
{
    if (s->tx_depth == 0)
        return;
    patron__rules_forget(s); /* what was undone may have been read into them */
    if (s->tx_depth == 1) {
        if (run_cached(s, tx_undo) != 0)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    } else if (run_cached(s, sp_back) != 0 || run_cached(s, sp_end) != 0) {
        sqlite3_exec(s->db, "ROLLBACK TO patron_sp; RELEASE patron_sp", NULL, NULL, NULL);
    }
    s->tx_depth--;
}

int patron_store_batch_begin(patron_store *s)
{
    if (s->tx_depth != 0)
        return patron__fail(s, PATRON_EINVAL, "a batch is already open on this handle");
    return patron__tx_begin(s);
}

int patron_store_batch_commit(patron_store *s)
{
    if (s->tx_depth != 1)
        return patron__fail(s, PATRON_EINVAL, "no batch is open on this handle");
    return patron__tx_commit(s);
}

void patron_store_batch_rollback(patron_store *s)
{
    patron__rules_forget(s);
    if (s->savepoint_depth != 0) { /* the whole rollback takes the savepoint with it */
        s->tx_depth = s->savepoint_depth;
        s->savepoint_depth = 0;
    }
    if (s->tx_depth == 1)
        patron__tx_rollback(s);
}

/* The request savepoint's statements, prepared once on the handle (the statement cache). */
static const char sp_take[] = "SAVEPOINT patron_request";
static const char sp_undo[] = "ROLLBACK TO patron_request";
static const char sp_release[] = "RELEASE patron_request";

static int sp_run(patron_store *s, const char *sql)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    return st ? patron__step_done(s, st) : PATRON_EDB;
}

int patron_store_savepoint(patron_store *s)
{
    if (s->tx_depth == 0)
        return patron__fail(s, PATRON_EINVAL, "a savepoint needs an open batch");
    if (s->savepoint_depth != 0)
        return patron__fail(s, PATRON_EINVAL, "a savepoint is already open on this handle");
    int err = sp_run(s, sp_take);
    if (err != 0)
        return err;
    s->savepoint_depth = s->tx_depth++;
    return 0;
}

int patron_store_savepoint_rollback(patron_store *s)
{
    if (s->savepoint_depth == 0)
        return patron__fail(s, PATRON_EINVAL, "no savepoint is open on this handle");
    patron__rules_forget(s);
    int err = sp_run(s, sp_undo);
    if (err == 0)
        s->tx_depth = s->savepoint_depth + 1; /* savepoints left open inside are gone too */
    return err;
}

int patron_store_savepoint_release(patron_store *s)
{
    if (s->savepoint_depth == 0)
        return patron__fail(s, PATRON_EINVAL, "no savepoint is open on this handle");
    int err = sp_run(s, sp_release);
    if (err == 0) {
        s->tx_depth = s->savepoint_depth;
        s->savepoint_depth = 0;
    }
    return err;
}

static int count_commit(void *ctx)
{
    patron_store *s = ctx;
    atomic_fetch_add_explicit(&s->commits, 1, memory_order_relaxed);
    return 0; /* 0 lets the commit go ahead */
}

unsigned long long patron_store_commits(const patron_store *s)
{
    return atomic_load_explicit(&s->commits, memory_order_relaxed);
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25 ms... between tries: a lock held for
 * one commit's fsync (another thread's handle: serve's sync thread recording what head office
 * acknowledged) costs the waiting write up to twice as long as the lock was held. This waits
 * the same timeout in short steps instead (50 us, doubling to 1 ms), so the write goes ahead
 * soon after the lock is given back. Returns 0 (SQLITE_BUSY to the caller) once the timeout is
 * spent. */
static int busy_wait(void *ctx, int count)
{
    patron_store *s = ctx;
    int64_t now = monotonic_ns();
    if (count == 0)
        s->busy_since_ns = now;
    if (now - s->busy_since_ns >= (int64_t)s->busy_timeout_ms * 1000000)
        return 0;
    unsigned us = count < 5 ? 50u << count : 1000u;
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

static void set_busy_ms(patron_store *s, int ms)
{
    s->busy_timeout_ms = ms;
    sqlite3_busy_handler(s->db, ms > 0 ? busy_wait : NULL, s);
}

void patron_store_set_busy_timeout(patron_store *s, unsigned seconds)
{
    set_busy_ms(s, seconds > 3600 ? 3600 * 1000 : (int)seconds * 1000);
}

int patron_store_set_cache_kib(patron_store *s, unsigned kib)
{
    char sql[64];
    sqlite3_stmt *st = NULL;
    /* A pragma takes no bound parameter: the number is formatted, never outside text. */
    snprintf(sql, sizeof sql, "PRAGMA cache_size = -%u", kib < 64 ? 64u : kib);
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int note_wal(void *ctx, sqlite3 *db, const char *name, int frames)
{
    patron_store *s = ctx;
    (void)db;
    (void)name;
    atomic_store_explicit(&s->wal_pages, frames > 0 ? (unsigned)frames : 0u, memory_order_relaxed);
    return SQLITE_OK;
}

void patron_store_defer_checkpoints(patron_store *s)
{
    /* SQLite's own checkpoint after a commit is this same hook: replacing it turns it off. */
    sqlite3_wal_hook(s->db, note_wal, s);
}

unsigned patron_store_wal_pages(const patron_store *s)
{
    return atomic_load_explicit(&s->wal_pages, memory_order_relaxed);
}

/* fdatasync of an open file, through EINTR; returns 0 or the system's error number. */
static int data_sync(int fd)
{
    while (fdatasync(fd) != 0)
        if (errno != EINTR)
            return errno;
    return 0;
}

/* fdatasync of the file or folder at `path`, opened with `flags` for it; returns 0 or the
 * system's error number. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int err = data_sync(fd);
    close(fd);
    return err;
}

/* Makes the name of the file at `path` durable in its folder (a new WAL's, as SQLite does on its
 * first sync). Returns 0 or the system's error number. */
static int sync_folder_of(const char *path)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return ENAMETOOLONG;
    return sync_path(dirname(copy), O_RDONLY | O_DIRECTORY);
}

/* The WAL's path, or NULL for a database without a file (whose commits no disk keeps). */
static const char *wal_path(patron_store *s)
{
    const char *db = sqlite3_db_filename(s->db, "main");
    return db && *db ? sqlite3_filename_wal(db) : NULL;
}

int patron_store_defer_sync(patron_store *s)
{
    /* Any transaction in WAL mode has opened the WAL, creating it if need be: the store's open
     * read the schema, so the file is there to be opened. */
    const char *wal = wal_path(s);
    if (!wal)
        return patron__fail(s, PATRON_EINVAL, "a store without a file has no log to sync");
    int err = patron__exec(s, "PRAGMA synchronous=NORMAL");
    if (err != 0)
        return err;
    s->log_fd = open(wal, O_RDONLY | O_CLOEXEC);
    int os_err = s->log_fd < 0 ? errno : sync_folder_of(wal);
    if (os_err == 0)
        patron_store_sync_log(s, &os_err);
    if (os_err != 0)
        return patron__fail(s, PATRON_EDB, "cannot sync the store's log %s: %s", wal,
                            strerror(os_err));
    return 0;
}

int patron_store_sync_log(const patron_store *s, int *os_err)
{
    *os_err = data_sync(s->log_fd);
    return *os_err == 0 ? 0 : PATRON_EDB;
}

int patron__log_durable(patron_store *s)
{
    const char *wal = wal_path(s);
    if (!wal)
        return 0;
    int err = sync_path(wal, O_RDONLY);
    if (err != 0 && err != ENOENT) /* no WAL: every commit is in the database file */
        return patron__fail(s, PATRON_EDB, "cannot sync the store's log %s: %s", wal,
                            strerror(err));
    return 0;
}

int patron_store_checkpoint_left(patron_store *s, unsigned *left)
{
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    *left = rc == SQLITE_OK && log > copied ? (unsigned)(log - copied) : 0;
    return rc == SQLITE_OK ? 0 : patron__db_err(s, rc);
}

int patron_store_checkpoint(patron_store *s)
{
    unsigned left;
    return patron_store_checkpoint_left(s, &left);
}

int patron__printable(const char *text, size_t cap)
{
    return cap > 1 && patron_text_check(text, 1, cap - 1, 0) == PATRON_TEXT_OK;
}

int patron__copy(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap)
        return PATRON_ETOOBIG;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

int patron__grow(void **array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*array, n * size);
    if (!p)
        return PATRON_ENOMEM;
    *array = p;
    *cap = n;
    return 0;
}

static EVP_MD *sha256_fetched;

static void fetch_sha256(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *patron__sha256(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_sha256);
    return sha256_fetched ? sha256_fetched : EVP_sha256();
}

int patron__random(void *buf, size_t len)
{
    return RAND_bytes(buf, (int)len) == 1 ? 0 : PATRON_ECRYPTO;
}

static int64_t system_clock(void *ctx)
{
    (void)ctx;
    return (int64_t)time(NULL);
}

void patron_store_set_spend_offline(patron_store *s, int offline)
{
    if (s)
        s->spend_offline = offline != 0;
}

void patron_store_set_clock(patron_store *s, patron_clock_fn fn, void *ctx)
{
    s->clock = fn ? fn : system_clock;
    s->clock_ctx = ctx;
    s->has_fixed_time = 0;
}

void patron_store_set_fixed_time(patron_store *s, int64_t unix_seconds)
{
    s->fixed_time = unix_seconds;
    s->has_fixed_time = 1;
}

void patron_store_set_till(patron_store *s, int64_t terminal_id)
{
    s->till = terminal_id;
}

int64_t patron_store_now(const patron_store *s)
{
    return s->has_fixed_time ? s->fixed_time : s->clock(s->clock_ctx);
}

const char *patron_store_detail(const patron_store *s)
{
    return s->detail;
}

void patron_store_clear_detail(patron_store *s)
{
    s->detail[0] = '\0';
}

struct sqlite3 *patron_store_sqlite(patron_store *s)
{
    return s->db;
}

/* SQLite's process-wide settings, made before SQLite starts (sqlite3_config refuses them after,
 * harmlessly, when the program around the library started it first):
 * - no memory statistics: nothing reads them, and keeping them takes a global mutex on every
 *   allocation and free, about 6% of a checkout's instructions;
 * - a statement or savepoint journal (a savepoint keeps the pages it changes as they were) is
 *   kept in memory up to 120 KiB, in one block, before it moves to a temporary file: a
 *   checkout in a service's batch keeps 12 to 20 pages of 4 KiB. Kept in memory by temp_store
 *   = MEMORY instead, it would take 1 KiB blocks, five a page, allocated and freed again for
 *   every request of a batch (SQLite's fixed size for that case). */
static void configure_sqlite(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, PATRON__JOURNAL_IN_MEMORY);
}

void patron_sqlite_configure(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
}

int patron_store_open(const char *path, patron_store **out)
{
    patron_sqlite_configure();
    patron_store *s = calloc(1, sizeof *s);
    int err;
    if (!s)
        return PATRON_ENOMEM;
    s->clock = system_clock;
    s->log_fd = -1;
    int rc = sqlite3_open_v2(path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             patron__wal_vfs());
    if (rc != SQLITE_OK) {
        err = s->db ? patron__db_err(s, rc) : PATRON_ENOMEM;
        goto out;
    }
    set_busy_ms(s, 5000);
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_commit_hook(s->db, count_commit, s);
    patron__rules_watch(s);
    if ((err = patron__exec(s, open_pragmas)) != 0)
        goto out;
    if ((err = patron__schema_migrate(s)) != 0)
        goto out;
    s->store_id = (int)patron__setting_int(s, "store_id", 0);
    if (s->store_id != 0 && (err = patron__load_program_accounts(s)) != 0)
        goto out;
    *out = s;
    return 0;
out:
    patron_store_close(s);
    return err;
}

/* What the SQLite file at `path` holds, read with a plain handle that adds no table: 1 for a
 * Patron database, 0 for an empty one, -1 for another program's, or PATRON_EINVAL when it is not
 * an SQLite database at all. */
static int probe_database(const char *path)
{
    static const char *const q =
        "SELECT (SELECT user_version FROM pragma_user_version), count(*),"
        " coalesce(sum(name = 'settings'), 0) FROM sqlite_master WHERE type = 'table'";
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int version = 0, tables = 0, settings = 0;
    patron_sqlite_configure();
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_prepare_v2(db, q, -1, &st, NULL);
    }
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        version = sqlite3_column_int(st, 0);
        tables = sqlite3_column_int(st, 1);
        settings = sqlite3_column_int(st, 2);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return PATRON_EINVAL;
    if (rc != SQLITE_OK)
        return 1; /* busy or unreadable: the full open says why */
    if (tables == 0 && version == 0)
        return 0;
    return version > 0 && settings ? 1 : -1;
}

static int explain(int err, char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int explain(int err, char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why)
        vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return err;
}

int patron_store_open_existing(const char *path, patron_store **out, char *why, size_t len)
{
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return explain(PATRON_ENOTFOUND, why, len,
                       "there is no store at %s; create one with 'patron --db %s init', or point "
                       "--db or PATRON_HOME at an existing store",
                       path, path);
    if (stat(path, &st) != 0) {
        int e = errno;
        return explain(-e, why, len, "cannot look at %s: %s", path, patron_strerror(-e));
    }
    if (S_ISDIR(st.st_mode))
        return explain(PATRON_EINVAL, why, len,
                       "%s is a directory; --db takes the store's file, e.g. %s/patron.db", path,
                       path);
    if (!S_ISREG(st.st_mode))
        return explain(PATRON_EINVAL, why, len,
                       "%s is not a regular file; --db takes the store's file (patron.db)", path);
    if (access(path, R_OK | W_OK) != 0)
        return explain(-EACCES, why, len,
                       "%s is read-only for this user, and Patron writes to its store; run as "
                       "the store's owner or give write access (chmod u+w %s)",
                       path, path);
    int kind = probe_database(path);
    if (kind == PATRON_EINVAL)
        return explain(PATRON_EINVAL, why, len,
                       "%s is not an SQLite database; --db takes a Patron store made by "
                       "'patron init' (is it the right file?)",
                       path);
    if (kind == 0)
        return explain(PATRON_ENOTFOUND, why, len,
                       "%s is an empty file, not a store yet; run 'patron --db %s init' first",
                       path, path);
    if (kind < 0)
        return explain(PATRON_EINVAL, why, len,
                       "%s is another program's SQLite database, not a Patron store; Patron left "
                       "it untouched (point --db at the store made by 'patron init')",
                       path);
    int err = patron_store_open(path, out);
    if (err != 0 && why)
        snprintf(why, len, "cannot open %s: %s", path, patron_strerror(err));
    return err;
}

void patron_store_close(patron_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->stmt_cap; i++)
        sqlite3_finalize(s->stmts[i].stmt);
    free(s->stmts);
    /* The caches belong to upper layers, which leave their free function with the cache: the
     * store never names them. */
    if (s->keycache_free)
        s->keycache_free(s->keycache);
    if (s->offers_free)
        s->offers_free(s->offers);
    if (s->log_fd >= 0)
        close(s->log_fd);
    sqlite3_close_v2(s->db);
    free(s);
}

int patron__setting_get(patron_store *s, const char *key, char *buf, size_t len)
{
    const char *kept;
    if (patron__rules_lookup(s, 's', key, &kept))
        return kept ? patron__copy(buf, len, kept) : PATRON_ENOTFOUND;
    sqlite3_stmt *st = patron__stmt(s, "SELECT value FROM settings WHERE key = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), err;
    if (rc == SQLITE_ROW) {
        const char *value = (const char *)sqlite3_column_text(st, 0);
        patron__rules_keep(s, 's', key, value);
        err = patron__copy(buf, len, value);
    } else if (rc == SQLITE_DONE) {
        patron__rules_keep(s, 's', key, NULL);
        err = PATRON_ENOTFOUND;
    } else {
        err = patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

int64_t patron__setting_int(patron_store *s, const char *key, int64_t fallback)
{
    char buf[32];
    if (patron__setting_get(s, key, buf, sizeof buf) != 0)
        return fallback;
    return strtoll(buf, NULL, 10);
}

int patron__setting_set(patron_store *s, const char *key, const char *value, const char *who)
{
    static const char *const audit =
        "INSERT INTO rule_changes(key, old_value, new_value, changed_by, changed_at) "
        "VALUES (?1, (SELECT value FROM settings WHERE key = ?1), ?2, ?3, ?4)";
    static const char *const upsert = "INSERT INTO settings(key, value) VALUES (?1, ?2) "
                                      "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
    /* Every change bumps rules_version, so handles that cache the rules know to read them again. */
    static const char *const bump =
        "INSERT INTO settings(key, value) VALUES ('rules_version', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1";
    sqlite3_stmt *st = patron__stmt(s, audit);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, who ? who : "system", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err != 0)
        return err;
    if (!(st = patron__stmt(s, upsert)))
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if ((err = patron__step_done(s, st)) != 0 || !(st = patron__stmt(s, bump)))
        return err ? err : PATRON_EDB;
    return patron__step_done(s, st);
}
