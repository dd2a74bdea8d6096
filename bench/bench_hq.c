/* SPDX-License-Identifier: MIT */
/* Head office ingest benchmark (bench/hq.sh starts the PostgreSQL, fsync on): a store holding
 * --rows unsynced outbox rows (generated straight into its outbox, payloads shaped like a sale's
 * facts) is shipped three ways in the same run, each into a fresh head office table:
 *   1. `patron sync`'s own path (patron_hq_sync: COPY into a staging table, then INSERT ... ON
 *      CONFLICT DO NOTHING, batches of --batch rows, as store 1's role under row-level security);
 *   2. libpq pipeline mode: a prepared INSERT ... ON CONFLICT DO NOTHING per row, a batch per
 *      transaction, the same rows as store 2's role, their projection left behind as 1's is;
 *   3. the ceiling: one raw COPY of the same rows into an unindexed table, as the owner;
 *   4. the floor of any exactly-once ingest into an indexed table: the same rows COPYed into a
 *      temporary staging table and moved by INSERT ... SELECT ... ON CONFLICT DO NOTHING into a
 *      table with facts' columns and primary key only (no triggers, RLS or foreign keys),
 *      batches of --batch rows, each a durable transaction, as the owner.
 * Then (1b) the projection behind the ship: what the sync left pending at head office, projected a
 * batch at a time as the store's later rounds would, timed on its own (hq_project_rows_per_s).
 * Prints rows per second of each and, as its last line, one JSON object with
 * hq_ingest_vs_copy (1 / 3), hq_pipeline_vs_copy (2 / 3) and hq_ingest_floor_vs_copy (4 / 3). On a
 * loaded machine the wall-clock rates move from run to run, so it also reads the CPU time head
 * office's backend spent on 1 and on 3 (/proc, same machine) and gives rows per CPU second of each:
 * hq_ingest_vs_copy_cpu. And the WAL head office wrote for 1, 4 and 3, in bytes a row, which
 * repeats from run to run: what a row's writes (its tables and indexes) cost.
 * --pipeline 0 leaves 2 out (it is the slowest by far: each row's INSERT runs head office's
 * statement triggers) and prints 0 for it.
 *   bench_hq --hq OWNER_URL --dir DIR [--rows N] [--batch N] [--pipeline 0|1] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "hq.h"
#include "patron/patron.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench_hq: %s: %s\n", what, why);
    exit(1);
}

/* CPU seconds (user + system) process `pid` has used so far, from /proc/PID/stat. */
static double proc_cpu(long pid)
{
    char path[64], buf[1024];
    unsigned long long utime = 0, stime = 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* fields 14 and 15 after "pid (comm)" */
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        die(path, "cannot read head office's CPU time (is it on this machine?)");
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The store: id 1, and `rows` outbox rows shaped like a sale's facts (sale, line, entry, lot). */
static void make_store(const char *path, long rows)
{
    patron_store *s = NULL;
    sqlite3 *db = NULL;
    char *msg = NULL, sql[2048];
    unlink(path);
    if (patron_store_open(path, &s) != 0 || patron_store_init(s, 1, "Bench shop") != 0)
        die(path, "cannot make the store");
    patron_store_close(s);
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(path, sqlite3_errmsg(db));
    snprintf(sql, sizeof sql,
             "BEGIN;"
             "WITH RECURSIVE n(i) AS (SELECT coalesce(max(store_seq), 0) + 1 FROM outbox"
             " UNION ALL SELECT i + 1 FROM n WHERE i < %ld + (SELECT coalesce(max(store_seq), 0)"
             " FROM outbox))"
             " INSERT INTO outbox(store_seq, store_id, kind, tbl, row_key, member_id, payload,"
             " recorded_at) SELECT i, 1, CASE i %% 4 WHEN 0 THEN 'sale' WHEN 1 THEN"
             " 'sale_line' WHEN 2 THEN 'entry' ELSE 'lot' END, 'bench', i, i %% 100000 + 1,"
             " json_object('id', i, 'member_id', i %% 100000 + 1, 'ref', 'R-' || i, 'kind',"
             " 'earn', 'debit', 'program', 'credit', 'member', 'points', i %% 97 + 1,"
             " 'total_minor', (i * 37) %% 10000, 'sku', 'SKU-' || (i %% 5000), 'category',"
             " 'general', 'till', 'till-1', 'at', 1768471200 + i, 'note',"
             " 'a fact shaped like the ones a store ships'), 1768471200 + i FROM n;"
             "COMMIT;",
             rows);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        die("generating the outbox", msg);
    sqlite3_close(db);
}

static PGconn *connect_or_die(const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK)
        die(url, PQerrorMessage(c));
    return c;
}

static void pg_or_die(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        die(sql, PQresultErrorMessage(res));
    PQclear(res);
}

/* Head office's WAL position in bytes: the WAL a step wrote is the difference, the same from run
 * to run (the rows it writes, their indexes), where the CPU seconds move with the machine's load.
 */
static double wal_at(const char *owner)
{
    PGconn *c = connect_or_die(owner);
    PGresult *res = PQexec(c, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        die("wal_at", PQresultErrorMessage(res));
    double at = strtod(PQgetvalue(res, 0, 0), NULL);
    PQclear(res);
    PQfinish(c);
    return at;
}

/* The pid of the one head office backend logged in as `role`. */
static long backend_of(const char *owner, const char *role)
{
    PGconn *c = connect_or_die(owner);
    const char *p[] = {role};
    PGresult *res = PQexecParams(c, "SELECT pid FROM pg_stat_activity WHERE usename = $1", 1, NULL,
                                 p, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        die("backend_of", "no single backend for the store's role");
    long pid = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(c);
    return pid;
}

/* Registers store `id` and writes the URL its role logs in with (and its role to `role`). */
static void store_login(patron_hq *h, const char *dir, int id, char *url, size_t len, char *role)
{
    struct patron_hq_login login = {0};
    char detail[512], passfile[600];
    patron_hq_password_new(login.password);
    if (patron_hq_store_add(h, id, "Bench", &login, detail, sizeof detail) != 0)
        die("store add", detail);
    snprintf(passfile, sizeof passfile, "%s/store-%d.pgpass", dir, id);
    FILE *f = fopen(passfile, "w");
    if (!f || fprintf(f, "*:*:*:*:%s\n", login.password) < 0 || fclose(f) != 0)
        die(passfile, "cannot write");
    chmod(passfile, 0600);
    if (patron_hq_store_url(h, login.role, passfile, url, len) != 0)
        die("store url", "too long");
    snprintf(role, 64, "%s", login.role);
}

/* Every outbox row as COPY text (store id replaced by `store_id`), for the pipeline and COPY. */
struct rows {
    char **kind, **payload;
    long *seq, *at, n;
};

static void read_rows(const char *path, struct rows *r, long rows)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    r->kind = calloc((size_t)rows, sizeof *r->kind);
    r->payload = calloc((size_t)rows, sizeof *r->payload);
    r->seq = calloc((size_t)rows, sizeof *r->seq);
    r->at = calloc((size_t)rows, sizeof *r->at);
    if (!r->kind || !r->payload || !r->seq || !r->at || sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT store_seq, kind, payload, recorded_at FROM outbox"
                           " ORDER BY store_seq",
                           -1, &st, NULL) != SQLITE_OK)
        die(path, "cannot read the outbox");
    while (r->n < rows && sqlite3_step(st) == SQLITE_ROW) {
        r->seq[r->n] = (long)sqlite3_column_int64(st, 0);
        r->kind[r->n] = strdup((const char *)sqlite3_column_text(st, 1));
        r->payload[r->n] = strdup((const char *)sqlite3_column_text(st, 2));
        r->at[r->n] = (long)sqlite3_column_int64(st, 3);
        r->n++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* 2: pipeline mode, one transaction of `batch` prepared inserts at a time. */
static double ship_pipelined(const char *url, const struct rows *r, long batch)
{
    PGconn *c = connect_or_die(url);
    PGresult *res = PQprepare(c, "put",
                              "INSERT INTO facts (store_id, store_seq, kind, payload, store_time)"
                              " VALUES (2, $1::bigint, $2, $3::jsonb, to_timestamp($4::bigint))"
                              " ON CONFLICT (store_id, store_seq) DO NOTHING",
                              4, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        die("prepare", PQresultErrorMessage(res));
    PQclear(res);
    double t0 = now_s();
    if (PQenterPipelineMode(c) != 1)
        die("pipeline", PQerrorMessage(c));
    for (long i = 0; i < r->n; i += batch) {
        long end = i + batch < r->n ? i + batch : r->n;
        char seq[24], at[24];
        PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
        /* its facts projected behind the ship, as the sync's batches are */
        PQsendQueryParams(c, "SET LOCAL patron.projection = 'deferred'", 0, NULL, NULL, NULL, NULL,
                          0);
        for (long k = i; k < end; k++) {
            snprintf(seq, sizeof seq, "%ld", r->seq[k]);
            snprintf(at, sizeof at, "%ld", r->at[k]);
            const char *p[] = {seq, r->kind[k], r->payload[k], at};
            if (PQsendQueryPrepared(c, "put", 4, p, NULL, NULL, 0) != 1)
                die("send", PQerrorMessage(c));
        }
        PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
        PQpipelineSync(c);
        /* every statement's result (then NULL), then the sync point */
        for (long k = i; k < end + 3; k++) {
            while ((res = PQgetResult(c)) != NULL) {
                if (PQresultStatus(res) != PGRES_COMMAND_OK)
                    die("pipelined insert", PQresultErrorMessage(res));
                PQclear(res);
            }
        }
        res = PQgetResult(c);
        if (PQresultStatus(res) != PGRES_PIPELINE_SYNC)
            die("pipeline sync", PQresultErrorMessage(res));
        PQclear(res);
    }
    PQexitPipelineMode(c);
    double t = now_s() - t0;
    PQfinish(c);
    return t;
}

/* The COPY text of every row, as store 3 (built before the clock starts). */
static char *copy_text(const struct rows *r, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    char *t = malloc(cap);
    for (long k = 0; t && k < r->n; k++) {
        size_t need = strlen(r->kind[k]) + 2 * strlen(r->payload[k]) + 64;
        if (n + need > cap) {
            while (n + need > cap)
                cap *= 2;
            char *m = realloc(t, cap);
            if (!m)
                die("copy text", "out of memory");
            t = m;
        }
        n += (size_t)snprintf(t + n, cap - n, "3\t%ld\t%s\t", r->seq[k], r->kind[k]);
        for (const char *p = r->payload[k]; *p; p++) { /* generated payloads: no tab or newline */
            if (*p == '\\')
                t[n++] = '\\';
            t[n++] = *p;
        }
        n += (size_t)snprintf(t + n, cap - n, "\t%ld\n", r->at[k]);
    }
    *len = n;
    return t;
}

/* Sends `n` bytes of COPY text on `c`, whose COPY FROM STDIN is `sql`. */
static void copy_in(PGconn *c, const char *sql, const char *text, size_t n)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COPY_IN)
        die("copy", PQresultErrorMessage(res));
    PQclear(res);
    for (size_t off = 0; off < n; off += 1 << 20) {
        size_t k = n - off < (1 << 20) ? n - off : (1 << 20);
        if (PQputCopyData(c, text + off, (int)k) != 1)
            die("copy", PQerrorMessage(c));
    }
    if (PQputCopyEnd(c, NULL) != 1)
        die("copy end", PQerrorMessage(c));
    while ((res = PQgetResult(c)) != NULL) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            die("copy", PQresultErrorMessage(res));
        PQclear(res);
    }
}

/* 4: the floor of any exactly-once ingest into an indexed table: the same rows COPYed into a
 * temporary staging table and moved by one INSERT ... SELECT ... ON CONFLICT DO NOTHING into a
 * table with facts' columns and its primary key only (no triggers, no row-level security, no
 * foreign keys), a batch of `batch` rows per transaction (work_mem as the sync sets it),
 * committed durably, as the owner. Its backend's CPU seconds in *cpu. */
static double floor_ingest(const char *owner, const struct rows *r, long batch, double *cpu)
{
    size_t len = 0;
    char *text = copy_text(r, &len), sql[96];
    PGconn *c = connect_or_die(owner);
    pg_or_die(c, "DROP TABLE IF EXISTS bench_floor");
    pg_or_die(c, "CREATE TABLE bench_floor (store_id integer NOT NULL, store_seq bigint NOT NULL"
                 " CHECK (store_seq > 0), kind text NOT NULL, payload jsonb NOT NULL, store_time"
                 " timestamptz, received_at timestamptz NOT NULL DEFAULT now(),"
                 " PRIMARY KEY (store_id, store_seq))");
    pg_or_die(c, "CREATE TEMP TABLE bench_floor_staging (store_id integer, store_seq bigint,"
                 " kind text, payload text, recorded_at bigint) ON COMMIT DELETE ROWS");
    long pid = PQbackendPID(c);
    double t0 = now_s(), cpu0 = proc_cpu(pid);
    size_t off = 0;
    while (off < len) {
        size_t end = off; /* `batch` lines of the text */
        for (long k = 0; k < batch && end < len; k++)
            end = (size_t)((const char *)memchr(text + end, '\n', len - end) - text) + 1;
        size_t kb = (end - off) / 512 + 1024;
        snprintf(sql, sizeof sql, "BEGIN; SET LOCAL work_mem = '%zukB'", kb < 4096 ? 4096 : kb);
        pg_or_die(c, sql);
        copy_in(c, "COPY bench_floor_staging FROM STDIN", text + off, end - off);
        pg_or_die(c, "INSERT INTO bench_floor (store_id, store_seq, kind, payload, store_time)"
                     " SELECT store_id, store_seq, kind, payload::jsonb, to_timestamp(recorded_at)"
                     " FROM bench_floor_staging ORDER BY store_seq"
                     " ON CONFLICT (store_id, store_seq) DO NOTHING");
        pg_or_die(c, "COMMIT");
        off = end;
    }
    double t = now_s() - t0;
    *cpu = proc_cpu(pid) - cpu0;
    PQfinish(c);
    free(text);
    return t;
}

/* 1b: the projection behind the ship: what the sync left pending at head office (it projects one
 * batch itself), projected a batch at a time as the store's later rounds do, as the owner. Its
 * backend's CPU seconds in *cpu; the rows projected in *rows. */
static double project_behind(const char *owner, long batch, long *rows, double *cpu)
{
    PGconn *c = connect_or_die(owner);
    long pid = PQbackendPID(c);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT hq_project_pending(1, %ld)", batch);
    double t0 = now_s(), cpu0 = proc_cpu(pid);
    for (long n = 1; n > 0; *rows += n) {
        PGresult *res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            die("projection", PQerrorMessage(c));
        n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    *cpu = proc_cpu(pid) - cpu0;
    PQfinish(c);
    return now_s() - t0;
}

/* 3: one raw COPY into an unindexed table; its backend's CPU seconds in *cpu. */
static double raw_copy(const char *owner, const struct rows *r, double *cpu)
{
    size_t len = 0;
    char *text = copy_text(r, &len);
    PGconn *c = connect_or_die(owner);
    pg_or_die(c, "DROP TABLE IF EXISTS bench_raw");
    pg_or_die(c, "CREATE TABLE bench_raw (store_id integer, store_seq bigint, kind text,"
                 " payload jsonb, recorded_at bigint)");
    long pid = PQbackendPID(c);
    double t0 = now_s(), cpu0 = proc_cpu(pid);
    copy_in(c, "COPY bench_raw FROM STDIN", text, len);
    double t = now_s() - t0;
    *cpu = proc_cpu(pid) - cpu0;
    PQfinish(c);
    free(text);
    return t;
}

int main(int argc, char **argv)
{
    const char *owner = NULL, *dir = NULL;
    long rows = 1000000, batch = 10000, pipeline = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--hq") == 0)
            owner = argv[i + 1];
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
        else if (strcmp(argv[i], "--rows") == 0)
            rows = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--batch") == 0)
            batch = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--pipeline") == 0)
            pipeline = strtol(argv[i + 1], NULL, 10);
    }
    if (!owner || !dir || rows <= 0 || batch <= 0)
        die("usage", "bench_hq --hq OWNER_URL --dir DIR [--rows N] [--batch N] [--pipeline 0|1]");
    char path[600], detail[512], url1[4096], url2[4096], role1[64], role2[64];
    snprintf(path, sizeof path, "%s/hq-bench-store.db", dir);
    make_store(path, rows);
    patron_hq *h = NULL;
    if (patron_hq_connect(owner, &h, detail, sizeof detail) != 0 ||
        patron_hq_init(h, NULL, NULL, detail, sizeof detail) != 0)
        die("head office", detail);
    store_login(h, dir, 1, url1, sizeof url1, role1);
    store_login(h, dir, 2, url2, sizeof url2, role2);
    patron_hq_close(h);

    /* 1: patron sync's own path */
    patron_store *s = NULL;
    struct patron_hq_sync_result res;
    if (patron_store_open(path, &s) != 0 || patron_hq_connect(url1, &h, detail, sizeof detail))
        die("sync", "cannot open the store or reach head office");
    long hq_pid = backend_of(owner, role1);
    double wal0 = wal_at(owner);
    double t0 = now_s(), cpu0 = (double)clock() / CLOCKS_PER_SEC, hq_cpu0 = proc_cpu(hq_pid);
    if (patron_hq_sync(h, s, (size_t)batch, NULL, NULL, &res, detail, sizeof detail) != 0)
        die("sync", detail);
    double t_sync = now_s() - t0, cpu_sync = (double)clock() / CLOCKS_PER_SEC - cpu0;
    double hq_cpu_sync = proc_cpu(hq_pid) - hq_cpu0, hq_cpu_copy = 0;
    double wal_sync = wal_at(owner) - wal0;
    patron_hq_close(h);
    patron_store_close(s);
    if (res.shipped != rows)
        die("sync", "did not ship every row");

    long behind = 0;
    double hq_cpu_project = 0, t_project = project_behind(owner, batch, &behind, &hq_cpu_project);
    struct rows r = {0};
    read_rows(path, &r, rows);
    double t_pipe = pipeline ? ship_pipelined(url2, &r, batch) : 0, hq_cpu_floor = 0;
    wal0 = wal_at(owner);
    double t_floor = floor_ingest(owner, &r, batch, &hq_cpu_floor);
    double wal_floor = wal_at(owner) - wal0;
    wal0 = wal_at(owner);
    double t_copy = raw_copy(owner, &r, &hq_cpu_copy);
    double wal_copy = wal_at(owner) - wal0;
    double sync_rate = (double)rows / t_sync, pipe_rate = pipeline ? (double)rows / t_pipe : 0,
           floor_rate = (double)rows / t_floor, copy_rate = (double)rows / t_copy;
    printf("%-44s %12.0f rows/s (%.0f%% of it the store's own CPU)\n",
           "patron sync (COPY + staging + ON CONFLICT)", sync_rate, 100 * cpu_sync / t_sync);
    printf("%-44s %12.0f rows/s\n", "pipeline mode (prepared INSERT ON CONFLICT)", pipe_rate);
    printf("%-44s %12.0f rows/s\n", "floor (staging + ON CONFLICT, primary key only)", floor_rate);
    printf("%-44s %12.0f rows/s (%ld rows the sync left pending)\n", "projection behind the ship",
           (double)behind / t_project, behind);
    printf("%-44s %12.0f rows/s\n", "raw COPY into an unindexed table", copy_rate);
    printf("%-44s %12.2f s (sync) %.2f s (projection behind it) %.2f s (floor) %.2f s (raw "
           "COPY)\n",
           "head office backend CPU", hq_cpu_sync, hq_cpu_project, hq_cpu_floor, hq_cpu_copy);
    printf("%-44s %12.0f B (sync) %.0f B (floor) %.0f B (raw COPY)\n", "head office WAL a row",
           wal_sync / (double)rows, wal_floor / (double)rows, wal_copy / (double)rows);
    printf("{\"hq_rows\": %ld, \"hq_batch\": %ld, \"hq_sync_rows_per_s\": %.0f,"
           " \"hq_pipeline_rows_per_s\": %.0f, \"hq_copy_rows_per_s\": %.0f,"
           " \"hq_ingest_vs_copy\": %.2f, \"hq_pipeline_vs_copy\": %.2f,"
           " \"hq_sync_hq_cpu_s\": %.2f, \"hq_copy_hq_cpu_s\": %.2f,"
           " \"hq_ingest_vs_copy_cpu\": %.2f, \"hq_floor_rows_per_s\": %.0f,"
           " \"hq_ingest_floor_vs_copy\": %.2f, \"hq_floor_hq_cpu_s\": %.2f,"
           " \"hq_ingest_floor_vs_copy_cpu\": %.2f, \"hq_sync_wal_bytes_per_row\": %.0f,"
           " \"hq_floor_wal_bytes_per_row\": %.0f, \"hq_copy_wal_bytes_per_row\": %.0f,"
           " \"hq_project_rows\": %ld, \"hq_project_rows_per_s\": %.0f,"
           " \"hq_project_hq_cpu_s\": %.2f}\n",
           rows, batch, sync_rate, pipe_rate, copy_rate, sync_rate / copy_rate,
           pipe_rate / copy_rate, hq_cpu_sync, hq_cpu_copy,
           hq_cpu_sync > 0 ? hq_cpu_copy / hq_cpu_sync : 0, floor_rate, floor_rate / copy_rate,
           hq_cpu_floor, hq_cpu_floor > 0 ? hq_cpu_copy / hq_cpu_floor : 0, wal_sync / (double)rows,
           wal_floor / (double)rows, wal_copy / (double)rows, behind,
           t_project > 0 ? (double)behind / t_project : 0, hq_cpu_project);
    return 0;
}
