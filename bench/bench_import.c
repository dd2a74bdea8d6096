/* SPDX-License-Identifier: MIT */
/* bench_import: `patron import members` of N members with balances (and an expiry date each),
 * in rows per second against raw SQLite inserts of the same rows into one table in one
 * transaction, measured in the same run; and the import's peak memory (getrusage maxrss of the
 * child that ran it), which must stay under 64 MiB whatever the file's size.
 * The floor, in the same run: the database rows the import writes for each new member (the
 * member, its consent answer, account, card, old program's facts, ledger entry, lot, the two
 * balances moved, and five outbox rows), written with prepared statements into plain tables with
 * the store's unique keys and indexes (no triggers, checks or foreign keys), committed in chunks
 * of about 100 ms like the import, each durable (synchronous FULL). It shows how far the
 * import is from SQLite's own work, and what the ratio against one table can reach at all.
 *   bench_import [--rows N | --quick] [--dir DIR]   (1,000,000 rows; --quick: 100,000; the
 *   files go into a new folder under DIR, default $TMPDIR or /tmp, removed at the end)
 * Each side runs in its own child process on its own new database, so neither's memory or
 * cache counts for the other. The last line is one JSON object with the figures. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "patron/patron.h"

struct side {
    double seconds;
    double cpu_seconds; /* user + system time of the child: what the machine's other work
                           does not inflate */
    double peak_mib;
    int ok;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Row i of the file: an e-mail, an E.164 phone, a name, points and an expiry date. */
static void row_values(long i, char email[48], char phone[24], char name[32], long *points)
{
    snprintf(email, 48, "m%07ld@example.org", i);
    snprintf(phone, 24, "+447%09ld", i);
    snprintf(name, 32, "Member %ld", i);
    *points = 1 + i % 500;
}

static int write_csv(const char *path, long rows)
{
    char email[48], phone[24], name[32];
    long points;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputs("email,phone,name,points,expires\n", f);
    for (long i = 0; i < rows; i++) {
        row_values(i, email, phone, name, &points);
        fprintf(f, "%s,%s,%s,%ld,2030-06-30\n", email, phone, name, points);
    }
    return fclose(f);
}

static int raw_insert(const char *dir, long rows)
{
    char path[4200], email[48], phone[24], name[32];
    sqlite3 *db;
    sqlite3_stmt *st;
    long points;
    snprintf(path, sizeof path, "%s/raw.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE members(id INTEGER PRIMARY KEY, email TEXT UNIQUE, phone TEXT,"
                     " name TEXT, points INTEGER, expires TEXT); BEGIN",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO members(email, phone, name, points, expires)"
                           " VALUES (?1, ?2, ?3, ?4, '2030-06-30')",
                           -1, &st, NULL) != SQLITE_OK)
        return 1;
    for (long i = 0; i < rows; i++) {
        row_values(i, email, phone, name, &points);
        sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, phone, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, points);
        if (sqlite3_step(st) != SQLITE_DONE)
            return 1;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK || sqlite3_close(db) != 0;
}

/* The floor's tables: the store's columns a new member's rows fill, with its keys and indexes. */
static const char floor_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA cache_size=-40960;"
    "CREATE TABLE members(id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, phone TEXT,"
    " consent_marketing INTEGER NOT NULL, consent_source TEXT, created_at INTEGER NOT NULL,"
    " tier_id INTEGER NOT NULL, member_uid TEXT);"
    "CREATE INDEX members_phone ON members(phone) WHERE phone IS NOT NULL;"
    "CREATE INDEX members_email ON members(lower(email));"
    "CREATE UNIQUE INDEX members_uid ON members(member_uid);"
    "CREATE TABLE consent_changes(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL,"
    " marketing INTEGER NOT NULL, source TEXT, changed_at INTEGER NOT NULL,"
    " changed_by TEXT NOT NULL);"
    "CREATE INDEX consent_changes_member ON consent_changes(member_id, id);"
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, name TEXT UNIQUE, member_id INTEGER UNIQUE,"
    " balance INTEGER NOT NULL DEFAULT 0);"
    "INSERT INTO accounts(name) VALUES ('migration:bench');"
    "CREATE TABLE cards(number TEXT PRIMARY KEY, member_id INTEGER NOT NULL, status TEXT NOT NULL,"
    " issued_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX cards_member ON cards(member_id, status, issued_at);"
    "CREATE TABLE member_imports(member_id INTEGER PRIMARY KEY, batch TEXT NOT NULL,"
    " imported_at INTEGER NOT NULL);"
    "CREATE TABLE entries(id INTEGER PRIMARY KEY, store_id INTEGER NOT NULL,"
    " store_seq INTEGER NOT NULL, kind TEXT NOT NULL, debit_account INTEGER NOT NULL,"
    " credit_account INTEGER NOT NULL, points INTEGER NOT NULL, member_id INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, note TEXT, approved_by TEXT);"
    "CREATE INDEX entries_member ON entries(member_id, kind, created_at, points);"
    "CREATE TABLE lots(id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL,"
    " entry_id INTEGER NOT NULL, points INTEGER NOT NULL, remaining INTEGER NOT NULL,"
    " earned_at INTEGER NOT NULL, expires_at INTEGER);"
    "CREATE INDEX lots_open ON lots(member_id, earned_at, id, expires_at, remaining)"
    " WHERE remaining > 0;"
    "CREATE TABLE outbox(store_seq INTEGER PRIMARY KEY, store_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL, tbl TEXT NOT NULL, row_key NOT NULL, member_id INTEGER,"
    " payload TEXT NOT NULL, recorded_at INTEGER NOT NULL);"
    "CREATE INDEX outbox_personal ON outbox(member_id)"
    " WHERE tbl = 'members' OR tbl = 'consent_changes' OR tbl = 'feedback' OR tbl = 'goodwill';"
    "BEGIN";

enum { F_MEMBER, F_CONSENT, F_ACCOUNT, F_CARD, F_FACTS, F_ENTRY, F_LOT, F_BALANCE, F_OUTBOX, F_N };

static const char *const floor_sql[F_N] = {
    "INSERT INTO members(name, email, phone, consent_marketing, created_at, tier_id, member_uid)"
    " VALUES (?1, ?2, ?3, 0, ?4, 1, ?5)",
    "INSERT INTO consent_changes(member_id, marketing, source, changed_at, changed_by)"
    " VALUES (?1, 0, NULL, ?2, 'enrolment')",
    "INSERT INTO accounts(member_id) VALUES (?1)",
    "INSERT INTO cards(number, member_id, status, issued_at) VALUES (?1, ?2, 'active', ?3)",
    "INSERT INTO member_imports(member_id, batch, imported_at) VALUES (?1, 'bench', ?2)",
    "INSERT INTO entries(id, store_id, store_seq, kind, debit_account, credit_account, points,"
    " member_id, created_at, note, approved_by)"
    " VALUES (?1, 1, ?1, 'adjust', 1, ?2, ?3, ?4, ?5, 'import bench', 'import')",
    "INSERT INTO lots(member_id, entry_id, points, remaining, earned_at, expires_at)"
    " VALUES (?1, ?2, ?3, ?3, ?4, ?5)",
    "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1",
    "INSERT INTO outbox(store_id, kind, tbl, row_key, member_id, payload, recorded_at)"
    " VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
};

static double floor_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int step(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : 1;
}

static int floor_outbox(sqlite3_stmt *st, const char *kind, const char *tbl, long key, long member,
                        const char *payload)
{
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, tbl, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, key);
    sqlite3_bind_int64(st, 4, member);
    sqlite3_bind_text(st, 5, payload, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, 1700000000);
    return step(st);
}

/* One member's rows; ids follow i (an empty store: member, account, entry and lot i + 1, the
 * account i + 2 after the migration account). The card numbers are spread over the number space
 * like minted ones. */
static int floor_member(sqlite3 *db, sqlite3_stmt **st, long i)
{
    char email[48], phone[24], name[32], uid[24], card[16], pay[512];
    long points, id = i + 1, account = i + 2;
    const long now = 1700000000, expires = 1909000000;
    row_values(i, email, phone, name, &points);
    snprintf(uid, sizeof uid, "1-%ld", id);
    snprintf(card, sizeof card, "2%012lld",
             (long long)(((unsigned long long)i * 982451653ULL) % 1000000000000ULL));
    sqlite3_bind_text(st[F_MEMBER], 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[F_MEMBER], 2, email, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[F_MEMBER], 3, phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_MEMBER], 4, now);
    sqlite3_bind_text(st[F_MEMBER], 5, uid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_CONSENT], 1, id);
    sqlite3_bind_int64(st[F_CONSENT], 2, now);
    sqlite3_bind_int64(st[F_ACCOUNT], 1, id);
    sqlite3_bind_text(st[F_CARD], 1, card, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st[F_CARD], 2, id);
    sqlite3_bind_int64(st[F_CARD], 3, now);
    sqlite3_bind_int64(st[F_FACTS], 1, id);
    sqlite3_bind_int64(st[F_FACTS], 2, now);
    sqlite3_bind_int64(st[F_ENTRY], 1, id);
    sqlite3_bind_int64(st[F_ENTRY], 2, account);
    sqlite3_bind_int64(st[F_ENTRY], 3, points);
    sqlite3_bind_int64(st[F_ENTRY], 4, id);
    sqlite3_bind_int64(st[F_ENTRY], 5, now);
    sqlite3_bind_int64(st[F_LOT], 1, id);
    sqlite3_bind_int64(st[F_LOT], 2, id);
    sqlite3_bind_int64(st[F_LOT], 3, points);
    sqlite3_bind_int64(st[F_LOT], 4, now);
    sqlite3_bind_int64(st[F_LOT], 5, expires);
    for (int k = F_MEMBER; k <= F_LOT; k++)
        if (step(st[k]) != 0)
            return fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db)), 1;
    for (int k = 0; k < 2; k++) {
        sqlite3_bind_int64(st[F_BALANCE], 1, k ? 1 : account);
        sqlite3_bind_int64(st[F_BALANCE], 2, k ? -points : points);
        if (step(st[F_BALANCE]) != 0)
            return 1;
    }
    snprintf(pay, sizeof pay,
             "{\"id\":%ld,\"member_uid\":\"%s\",\"name\":\"%s\",\"email\":\"%s\","
             "\"phone\":\"%s\",\"birthday\":null,\"consent_marketing\":0,\"consent_at\":null,"
             "\"consent_source\":null,\"created_at\":%ld,\"tier_id\":1}",
             id, uid, name, email, phone, now);
    int bad = floor_outbox(st[F_OUTBOX], "member", "members", id, id, pay);
    snprintf(pay, sizeof pay,
             "{\"id\":%ld,\"member_id\":%ld,\"marketing\":0,\"source\":null,"
             "\"member_uid\":\"%s\",\"changed_at\":%ld,\"changed_by\":\"enrolment\"}",
             id, id, uid, now);
    bad |= floor_outbox(st[F_OUTBOX], "consent", "consent_changes", id, id, pay);
    snprintf(pay, sizeof pay,
             "{\"number\":\"%s\",\"member_id\":%ld,\"status\":\"active\",\"member_uid\":"
             "\"%s\",\"issued_at\":%ld,\"blocked_at\":null,\"replaced_by\":null}",
             card, id, uid, now);
    bad |= floor_outbox(st[F_OUTBOX], "card", "cards", id, id, pay);
    snprintf(pay, sizeof pay,
             "{\"id\":%ld,\"store_id\":1,\"store_seq\":%ld,\"kind\":\"adjust\",\"debit\":"
             "\"migration:bench\",\"credit\":\"member\",\"points\":%ld,\"member_id\":%ld,"
             "\"created_at\":%ld,\"member_uid\":\"%s\",\"original_entry\":null,\"sale_id\":"
             "null,\"refund_id\":null,\"redemption_id\":null,\"note\":\"import bench\","
             "\"approved_by\":\"import\"}",
             id, id, points, id, now, uid);
    bad |= floor_outbox(st[F_OUTBOX], "entry", "entries", id, id, pay);
    snprintf(pay, sizeof pay,
             "{\"id\":%ld,\"member_id\":%ld,\"entry_id\":%ld,\"points\":%ld,\"member_uid\":"
             "\"%s\",\"remaining\":%ld,\"earned_at\":%ld,\"expires_at\":%ld}",
             id, id, id, points, uid, points, now, expires);
    bad |= floor_outbox(st[F_OUTBOX], "lot", "lots", id, id, pay);
    return bad;
}

static int floor_rows(const char *dir, long rows)
{
    char path[4200];
    sqlite3 *db;
    sqlite3_stmt *st[F_N] = {0};
    int bad = 0;
    snprintf(path, sizeof path, "%s/floor.db", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, floor_schema, NULL, NULL, NULL) != SQLITE_OK)
        return 1;
    for (int k = 0; k < F_N; k++)
        if (sqlite3_prepare_v2(db, floor_sql[k], -1, &st[k], NULL) != SQLITE_OK)
            return fprintf(stderr, "floor: %s\n", sqlite3_errmsg(db)), 1;
    double began = floor_ms();
    for (long i = 0; i < rows && !bad; i++) {
        bad = floor_member(db, st, i);
        if (!bad && floor_ms() - began >= 100) { /* a chunk of about 100 ms, like the import */
            bad = sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL) != SQLITE_OK;
            began = floor_ms();
        }
    }
    for (int k = 0; k < F_N; k++)
        sqlite3_finalize(st[k]);
    bad = bad || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
    return bad || sqlite3_close(db) != 0;
}

static int import(const char *dir, const char *csv, long rows)
{
    char path[4200];
    patron_store *s;
    struct patron_import_options o = {.batch = "bench"};
    struct patron_import_report r;
    snprintf(path, sizeof path, "%s/store.db", dir);
    if (patron_store_open(path, &s) != 0 || patron_store_init(s, 1, "Bench") != 0)
        return 1;
    int err = patron_import_members(s, csv, &o, &r);
    if (err != 0 || r.created != rows || r.migration_balance != -r.file_points) {
        fprintf(stderr, "import: %s\n", patron_store_detail(s));
        return 1;
    }
    patron_store_close(s);
    return 0;
}

/* Runs one side in a child: its wall time and its peak resident memory. */
static struct side run_child(int which, const char *dir, const char *csv, long rows)
{
    struct side out = {0};
    struct rusage ru;
    int status;
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0)
        _exit(which == 2 ? floor_rows(dir, rows)
              : which    ? import(dir, csv, rows)
                         : raw_insert(dir, rows));
    if (pid < 0 || wait4(pid, &status, 0, &ru) != pid)
        return out;
    out.seconds = now_s() - t0;
    out.peak_mib = (double)ru.ru_maxrss / 1024.0;
    out.cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    out.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return out;
}

int main(int argc, char **argv)
{
    long rows = 1000000;
    char dir[4096] = "", csv[4200];
    patron_sqlite_configure(); /* the raw ceiling runs under the library's settings */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            rows = 100000;
        else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = atol(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            snprintf(dir, sizeof dir, "%s", argv[++i]);
    }
    /* Everything goes into a folder of its own, made here and removed at the end. */
    if (!dir[0])
        snprintf(dir, sizeof dir, "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return perror(dir), 1;
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/patron-bench-import-XXXXXX");
    if (!mkdtemp(dir))
        return perror("mkdtemp"), 1;
    snprintf(csv, sizeof csv, "%s/members.csv", dir);
    if (rows <= 0 || write_csv(csv, rows) != 0)
        return perror(csv), 1;
    struct side raw = run_child(0, dir, csv, rows);
    struct side flo = run_child(2, dir, csv, rows);
    struct side imp = run_child(1, dir, csv, rows);
    if (!raw.ok || !flo.ok || !imp.ok)
        return fprintf(stderr, "bench_import: a side failed\n"), 1;
    double raw_rate = (double)rows / raw.seconds, imp_rate = (double)rows / imp.seconds;
    double floor_rate = (double)rows / flo.seconds;
    printf("rows %ld\n", rows);
    printf("raw SQLite inserts, one transaction   %10.0f rows/s  (%.1f s, %.1f s CPU, %.1f MiB "
           "peak)\n",
           raw_rate, raw.seconds, raw.cpu_seconds, raw.peak_mib);
    printf(
        "floor: the import's rows, plain tables     %10.0f rows/s  (%.1f s, %.1f s CPU, %.1f MiB "
        "peak)\n",
        floor_rate, flo.seconds, flo.cpu_seconds, flo.peak_mib);
    printf("patron import members                 %10.0f rows/s  (%.1f s, %.1f s CPU, %.1f MiB "
           "peak)\n",
           imp_rate, imp.seconds, imp.cpu_seconds, imp.peak_mib);
    printf("{\"import_vs_sqlite_insert\": %.3f, \"import_rows_per_s\": %.0f, "
           "\"sqlite_insert_rows_per_s\": %.0f, \"import_vs_sqlite_insert_cpu\": %.3f, "
           "\"import_peak_rss_mib\": %.1f, \"import_floor_vs_sqlite_insert\": %.3f, "
           "\"import_vs_floor\": %.3f, \"floor_rows_per_s\": %.0f, \"rows\": %ld}\n",
           imp_rate / raw_rate, imp_rate, raw_rate, raw.cpu_seconds / imp.cpu_seconds, imp.peak_mib,
           floor_rate / raw_rate, imp_rate / floor_rate, floor_rate, rows);
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir); /* the folder mkdtemp made above */
    if (system(cmd) != 0)
        return 1;
    return 0;
}
