/* SPDX-License-Identifier: MIT */
/* What the library's modules share about the store handle: its SQLite connection, the statement
 * cache, transactions (which nest as savepoints so the counter service can batch many requests
 * into one commit), the clock, and the detail message. Never installed. */
#ifndef PATRON_STORE_INTERNAL_H
#define PATRON_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/card_space.h"
#include "patron/error.h"
#include "patron/limits.h"
#include "patron/program.h"
#include "patron/store.h"

/* The statement cache starts with this many slots and doubles when half full, up to the maximum
 * (far more distinct statements than the library has). */
#define PATRON__STMT_CACHE_MIN 256
#define PATRON__STMT_CACHE_MAX 8192

struct patron__stmt_slot {
    const char *sql; /* identity is the pointer: callers pass static strings */
    sqlite3_stmt *stmt;
};

/* Rules the handle keeps (rules_cache.c): settings and category multipliers by key. */
#define PATRON__RULE_SLOTS 48
struct patron__rule_slot {
    char key[72]; /* a kind letter ('s' setting, 'c' category), then the key */
    char value[64];
    int found; /* 0: the key has no row */
};

/* The program's tiers as the handle keeps them (rules_cache.c), lowest threshold first. */
#define PATRON__TIER_SLOTS 16
struct patron__tier_slot {
    int64_t id;
    int64_t threshold;
    char name[64];
};

/* The program's own accounts, the other side of every member movement. */
enum patron__program_account {
    PATRON__ACCT_ISSUED,   /* source of earned points, sink of reversals */
    PATRON__ACCT_REDEEMED, /* sink of points spent on rewards */
    PATRON__ACCT_EXPIRED,  /* sink of expired points */
    PATRON__ACCT_ADJUST,   /* manual corrections, both ways */
    PATRON__ACCT_COUNT
};

struct patron_store {
    sqlite3 *db;
    patron_clock_fn clock;
    void *clock_ctx;
    int64_t fixed_time;
    int has_fixed_time;
    int store_id;
    int64_t till; /* the till writes are made for: scopes idempotency keys (0: local) */
    int tx_depth;
    int savepoint_depth; /* tx_depth the open request savepoint was taken at; 0 = none open */
    _Atomic unsigned long long commits; /* commits SQLite made on this handle (its commit hook) */
    _Atomic unsigned
        wal_pages; /* the WAL's frames after this handle's last commit, once deferred */
    int log_fd;    /* the WAL, open to sync it from another thread once deferred; -1: not */
    int64_t program_accounts[PATRON__ACCT_COUNT]; /* account ids, loaded once the store is init */
    int64_t program_version; /* rules_version the cached program was read at; 0 = none */
    struct patron_program program;
    char detail[256];
    struct patron__offer_cache *offers; /* running offers, read again when rules_version moves */
    void (*offers_free)(struct patron__offer_cache *c); /* set by offer.c with the cache */
    struct patron__stmt_slot *stmts;                    /* open addressing on the SQL pointer */
    size_t stmt_cap, stmt_count;
    struct patron__keycache *keycache; /* parsed voucher keys (keyring.c), NULL until used */
    void (*keycache_free)(struct patron__keycache *kc); /* set by keyring.c with the cache */
    /* Set while head office cannot be reached (patron_store_set_spend_offline): the ledger caps
     * debits of members and records them in offline_spends (ledger.c). */
    int spend_offline;
    int outbox_offline; /* the entry outbox row being written is such a spend */
    /* Set on a throwaway copy (the import's check, migrate/import.c): facts are written without
     * their outbox rows, which nobody will read. */
    int outbox_off;
    /* Where a chain store's next card number space comes from (card_space.c), NULL: none. */
    patron_card_space_source_fn space_source;
    void *space_source_arg;
    struct patron__rule_slot rules[PATRON__RULE_SLOTS];
    size_t rule_count;
    int64_t data_version; /* PRAGMA data_version the kept rules were read at */
    int rules_checked;    /* data_version was looked at in the open transaction */
    struct patron__tier_slot tiers[PATRON__TIER_SLOTS];
    size_t tier_count;
    int tiers_read; /* tiers[] holds what the tiers table said (tier_count 0: too many to keep) */
    int facts_fn;   /* the reports' facts pass has its SQL function (report_table.c) */
    int busy_timeout_ms;   /* how long a write waits for another writer's lock (busy_wait) */
    int64_t busy_since_ns; /* monotonic time the current wait began */
};

/* A prepared statement for a static SQL string, cached on the handle and reset for reuse.
 * Returns NULL on failure (the detail says why). Do not finalize it. */
sqlite3_stmt *patron__stmt(patron_store *s, const char *sql);

/* Steps a statement that returns no rows and resets it. Returns 0 or a PATRON_* code.
 * Statements that return rows are reset by their caller after reading, so that no cached
 * statement holds a read snapshot open between calls. */
int patron__step_done(patron_store *s, sqlite3_stmt *st);

/* Steps a statement (parameters already bound) through its rows, filling up to `cap` elements of
 * `size` bytes at `out` with `read`, and resets it. *count receives how many rows there were
 * (it may exceed cap). Returns 0 or a PATRON_* code (then *count is not written). */
int patron__read_rows(patron_store *s, sqlite3_stmt *st, void *out, size_t size, size_t cap,
                      size_t *count, void (*read)(sqlite3_stmt *st, void *row));

/* One integer from a statement that gives one row: patron__step_int steps a prepared, bound
 * statement and resets it; patron__scalar runs SQL without parameters (from the statement
 * cache). 0 with *out set, or the PATRON_* code of SQLite's answer (also when no row came). */
int patron__step_int(patron_store *s, sqlite3_stmt *st, int64_t *out);
int patron__scalar(patron_store *s, const char *sql, int64_t *out);

/* Maps a SQLite result code to a PATRON_* code and records SQLite's message as the detail. */
int patron__db_err(patron_store *s, int rc);

/* Runs SQL with no rows (DDL, PRAGMA). */
int patron__exec(patron_store *s, const char *sql);
/* Makes every commit this handle can already see durable (an fdatasync of the WAL): the service's
 * writer commits without waiting for the disk and syncs before it answers, so a row read here may
 * be a moment ahead of the disk. Called before what is read leaves the store. Returns 0 or
 * PATRON_EDB. */
int patron__log_durable(patron_store *s);

/* The VFS every store handle opens with (wal_writes.c): the default one, with the frames of a
 * commit written to the WAL in one call. NULL (SQLite's default) if it could not be registered. */
#define PATRON__WAL_VFS "patron-wal"
const char *patron__wal_vfs(void);
/* How many writes have reached WAL files through it, in this process (for the tests). */
long patron__wal_file_writes(void);

/* Transactions: the outermost begin is BEGIN IMMEDIATE; inner ones are savepoints, so a request
 * inside a batch fails alone. Every begin is paired with exactly one commit or rollback. */
int patron__tx_begin(patron_store *s);
int patron__tx_commit(patron_store *s);
void patron__tx_rollback(patron_store *s);

/* A read snapshot (BEGIN DEFERRED: no write lock): what runs until patron__read_end sees one
 * state of the store and takes SQLite's read lock once, not once per statement. Opened only when
 * no transaction is open on the handle (*opened says so; pass it back to patron__read_end).
 * Nothing may write inside: a deferred transaction cannot take the write lock once another
 * connection has committed. */
int patron__read_begin(patron_store *s, int *opened);
void patron__read_end(patron_store *s, int opened);

/* Sets the detail sentence of the handle; returns `err` so callers can `return set_detail(...)`. */
int patron__fail(patron_store *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks text against the rules of include/patron/limits.h: min..max bytes of UTF-8 without
 * control characters (and without spaces under PATRON_TEXT_NO_SPACE). Returns 0, or
 * PATRON_EINVAL with a detail naming `what` and the rule (limits.c). */
int patron__text_rule(patron_store *s, const char *what, const char *v, size_t min, size_t max,
                      int flags);

/* Settings (program rules and store facts) stored as text. */
int patron__setting_get(patron_store *s, const char *key, char *buf, size_t len);
int64_t patron__setting_int(patron_store *s, const char *key, int64_t fallback);
int patron__setting_set(patron_store *s, const char *key, const char *value, const char *who);

/* The kept rules (rules_cache.c). patron__rules_watch installs the update hook that forgets them
 * when this handle writes settings or categories; patron__rules_forget drops them (rollbacks).
 * patron__rules_lookup returns 1 with *value (NULL: no such row) when a fresh copy is kept,
 * else 0; patron__rules_keep keeps what the database just said. `kind` separates the tables. */
void patron__rules_watch(patron_store *s);
void patron__rules_forget(patron_store *s);
int patron__rules_lookup(patron_store *s, char kind, const char *key, const char **value);
void patron__rules_keep(patron_store *s, char kind, const char *key, const char *value);
/* The program's tiers, kept like the rules (forgotten with them, and when this handle writes the
 * tiers table): their number with *tiers, lowest threshold first, or 0 when none are kept (more
 * than PATRON__TIER_SLOTS, or the read failed): the caller then asks the database. */
size_t patron__tiers_kept(patron_store *s, const struct patron__tier_slot **tiers);

/* The name of a program account ("program:issued", ...), as its row in accounts holds it. */
const char *patron__program_account_name(enum patron__program_account a);

/* Loads the program account ids into the handle (after open and after init). */
int patron__load_program_accounts(patron_store *s);

/* Plants the program of a new store, in the caller's transaction: the program accounts, the base
 * tier, the gift-card category and every rule at its default (program.c). */
int patron__program_seed(patron_store *s);

/* Card number spaces (card_space.c). patron__card_space_pick gives the space to mint the next
 * card from, taking another when those held are full (in the caller's transaction); after the
 * card is written, patron__card_space_minted counts it. patron__card_spaces_seed writes the own
 * space's row with the cards already minted in it (the migration, and store init). */
int patron__card_space_pick(patron_store *s, int *space);
int patron__card_space_minted(patron_store *s, int space);
int patron__card_spaces_seed(patron_store *s);

/* Schema migrations, applied at open. */
int patron__schema_migrate(patron_store *s);

/* The time rules, written once: a day is 86400 seconds of the injected clock, a year 365 days,
 * and the daily limits count by UTC day number. */
#define PATRON__DAY_SECONDS INT64_C(86400)
#define PATRON__YEAR_SECONDS (365 * PATRON__DAY_SECONDS)
#define PATRON__DAY_NUMBER(t) ((t) / PATRON__DAY_SECONDS)

/* 1 when text is 1..cap-1 bytes without control characters (UTF-8 passes through). */
int patron__printable(const char *text, size_t cap);

/* Copies a bounded string; returns PATRON_ETOOBIG when it does not fit. */
int patron__copy(char *dst, size_t cap, const char *src);

/* Grows an array to hold `need` elements of `size` bytes, doubling; 0 or PATRON_ENOMEM. */
int patron__grow(void **array, size_t *cap, size_t need, size_t size);

/* SHA-256, fetched from OpenSSL's provider once per process: EVP_sha256() in a digest's init
 * looks the implementation up again on every call. */
const struct evp_md_st *patron__sha256(void);

/* Fills buf with random bytes from OpenSSL (RAND_bytes). */
int patron__random(void *buf, size_t len);

#endif
