/* SPDX-License-Identifier: MIT */
/* patron_import_members: first the whole file checked as a dry run on a copy of the store
 * (VACUUM INTO: a read, so sales go on), then, when it is clean (or --skip-errors), the rows
 * written in chunks of about PATRON__IMPORT_CHUNK_MS of work, each its own transaction, so that
 * a sale waits for one chunk at most. The batch's register (import_batches) records in each
 * chunk's transaction the last row written and the report's counts, so that the same batch run
 * again after a crash continues after that row, and a finished batch changes nothing.
 * Every chunk's commit is durable, at the handle's own level: a chunk's outbox rows may be
 * shipped to head office or announced by a webhook as soon as it commits, so none may be lost
 * to a power cut after that.
 * Bad rows are reported, and with --skip-errors written to FILE.rejected.csv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "migrate/import_internal.h"

/* The page cache while the batch's transaction is open: 40 MiB, inside the import's 64 MiB
 * bound with the rest of the process (about 15 MiB), so that fewer index pages are spilled to
 * the WAL and written again. */
#define IMPORT_CACHE "PRAGMA main.cache_size = -40960"

/* The work of a transaction of the import, in milliseconds: a sale waits for about one chunk.
 * Sized by time rather than rows, so that fewer commits rewrite the same index pages when the
 * rows are quick, and a sale still waits at most this long when they are slow. */
#define PATRON__IMPORT_CHUNK_MS 100

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t (*patron__import_clock_ms)(void) = monotonic_ms;

struct run {
    struct patron__import_ctx x;
    struct patron__csv csv;
    char names[PATRON__CSV_FIELDS_MAX][64]; /* the header's column names */
    char rejects_tmp[4200];
    FILE *rejects;
    int64_t total_bytes; /* the file's size, for the progress */
    int64_t done_row;    /* the register's last row written by an earlier run (0: none) */
    int64_t in_chunk;    /* rows of the open chunk */
    int64_t chunk_began; /* patron__import_clock_ms() when the open chunk began */
    int64_t failed_here; /* bad rows found by this run */
    int quiet_done;      /* the check before a real run: its last progress call is left out */
};

/* The report's counts kept in the register, in its columns' order. */
static int64_t *counts(struct patron_import_report *p, int i)
{
    int64_t *const c[] = {&p->rows_read,   &p->created,       &p->matched,
                          &p->updated,     &p->skipped,       &p->failed,
                          &p->file_points, &p->points_posted, &p->aliases};
    return c[i];
}
#define COUNTS 9

/* Reads the batch's register: *state 0 (no row), 1 (under way) or 2 (finished); an unfinished
 * batch's counts go into the report and its last row into r->done_row. */
static int load_register(struct run *r, int *state)
{
    sqlite3_stmt *st = patron__stmt(
        r->x.s,
        "SELECT finished, done_row, rows_read, created, matched, updated, skipped,"
        " failed, file_points, points_posted, aliases FROM import_batches WHERE batch = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, r->x.report->batch, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *state = rc != SQLITE_ROW ? 0 : sqlite3_column_int(st, 0) ? 2 : 1;
    if (*state == 1) {
        r->done_row = sqlite3_column_int64(st, 1);
        for (int i = 0; i < COUNTS; i++)
            *counts(r->x.report, i) = sqlite3_column_int64(st, 2 + i);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(r->x.s, rc);
}

/* Writes the register in the open transaction: the last row done and the counts so far. */
static int save_register(struct run *r, int finished)
{
    sqlite3_stmt *st = patron__stmt(
        r->x.s, "INSERT OR REPLACE INTO import_batches(batch, finished, done_row, rows_read,"
                " created, matched, updated, skipped, failed, file_points, points_posted, aliases)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, r->x.report->batch, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, finished);
    sqlite3_bind_int64(st, 3, r->done_row);
    for (int i = 0; i < COUNTS; i++)
        sqlite3_bind_int64(st, 4 + i, *counts(r->x.report, i));
    return patron__step_done(r->x.s, st);
}

/* The end of a chunk: on a real run its rows and the register are committed together and the
 * next chunk's transaction begins (between them the writer's sales take the lock). */
static int commit_chunk(struct run *r, int64_t now_ms)
{
    int err;
    r->in_chunk = 0;
    r->chunk_began = now_ms;
    if (r->x.opt->dry_run)
        return 0;
    r->done_row = r->csv.record;
    if ((err = save_register(r, 0)) != 0 || (err = patron__tx_commit(r->x.s)) != 0)
        return err;
    return patron__tx_begin(r->x.s);
}

/* The end of a real run: the last rows and the register, marked finished, commit together. */
static int finish_chunks(struct run *r)
{
    r->done_row = r->csv.record;
    return save_register(r, 1);
}

/* "file-" and the first 8 bytes of the file's SHA-256 in hex. */
static int batch_from_file(patron_store *s, const char *path, char out[64])
{
    unsigned char buf[8192], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n;
    FILE *fp = fopen(path, "rb");
    EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
    int ok = fp && md_ctx && EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL) == 1;
    while (ok && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        ok = EVP_DigestUpdate(md_ctx, buf, n) == 1;
    ok = ok && !ferror(fp) && EVP_DigestFinal_ex(md_ctx, md, &mdlen) == 1;
    EVP_MD_CTX_free(md_ctx);
    if (fp)
        fclose(fp);
    if (!ok)
        return patron__fail(s, PATRON_EINVAL, "cannot read %.200s", path);
    n = (size_t)snprintf(out, 64, "file-");
    for (unsigned i = 0; i < 8; i++)
        n += (size_t)snprintf(out + n, 64 - n, "%02x", md[i]);
    return 0;
}

static int check_options(patron_store *s, const struct patron_import_options *o)
{
    for (size_t i = 0; i < o->map_count; i++)
        if (!o->maps[i].column || !o->maps[i].field ||
            patron__import_field_named(o->maps[i].field) < 0)
            return patron__fail(s, PATRON_EINVAL,
                                "--map %.60s=%.60s: the field must be one of card, phone, email, "
                                "name, birthday, consent, consent_date, points, expires, ref, "
                                "joined, tier, lifetime_points, ignore",
                                o->maps[i].column ? o->maps[i].column : "",
                                o->maps[i].field ? o->maps[i].field : "");
    if (o->batch)
        return patron__text_rule(s, "the batch", o->batch, 1, PATRON_LABEL_MAX,
                                 PATRON_TEXT_NO_SPACE);
    return 0;
}

static enum patron__import_field field_of(const struct patron_import_options *o, const char *column)
{
    for (size_t i = o->map_count; i-- > 0;)
        if (strcasecmp(o->maps[i].column, column) == 0)
            return (enum patron__import_field)patron__import_field_named(o->maps[i].field);
    return patron__import_column(o->format, column);
}

static int read_header(struct run *r)
{
    struct patron__import_ctx *x = &r->x;
    if (patron__csv_next(&r->csv) != 1)
        return patron__fail(x->s, PATRON_EINVAL, "the file has no header row%s%.100s",
                            r->csv.why[0] ? ": " : "", r->csv.why);
    for (int f = 0; f < PATRON__F_COUNT; f++)
        x->column_of[f] = -1;
    x->columns = r->csv.count;
    for (size_t i = 0; i < x->columns; i++) {
        snprintf(r->names[i], sizeof r->names[i], "%s", r->csv.fields[i]);
        x->field_of[i] = field_of(x->opt, r->names[i]);
        if (x->column_of[x->field_of[i]] < 0)
            x->column_of[x->field_of[i]] = (int)i;
    }
    if (x->column_of[PATRON__F_CARD] < 0 && x->column_of[PATRON__F_PHONE] < 0 &&
        x->column_of[PATRON__F_EMAIL] < 0)
        return patron__fail(x->s, PATRON_EINVAL,
                            "the header names no column of a card, phone or e-mail for this "
                            "format (use --format or --map COLUMN=FIELD)");
    return 0;
}

/* Finds migration:BATCH (the batch was imported) or opens it. */
static int open_account(struct patron__import_ctx *x, int *existed)
{
    char *name = x->account_name;
    sqlite3_stmt *st = patron__stmt(x->s, "SELECT id, balance FROM accounts WHERE name = ?1");
    snprintf(name, sizeof x->account_name, "migration:%s", x->report->batch);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        x->account = sqlite3_column_int64(st, 0);
        x->report->migration_balance = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(x->s, rc);
    if ((*existed = rc == SQLITE_ROW))
        return 0;
    if (!(st = patron__stmt(x->s, "INSERT INTO accounts(name) VALUES (?1)")))
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int err = patron__step_done(x->s, st);
    x->account = sqlite3_last_insert_rowid(x->s->db);
    return err;
}

static int read_balance(struct patron__import_ctx *x)
{
    sqlite3_stmt *st = patron__stmt(x->s, "SELECT balance FROM accounts WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, x->account);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) /* a dry run's points were counted, not posted (apply.c) */
        x->report->migration_balance = sqlite3_column_int64(st, 0) - x->unposted;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(x->s, rc);
}

static void write_field(FILE *fp, const char *v, char delim)
{
    if (!strpbrk(v, "\"\r\n") && !strchr(v, delim)) {
        fputs(v, fp);
        return;
    }
    putc('"', fp);
    for (; *v; v++) {
        if (*v == '"')
            putc('"', fp);
        putc(*v, fp);
    }
    putc('"', fp);
}

static void write_rejected(struct run *r, const char *const *fields, size_t n, const char *last)
{
    for (size_t i = 0; i < n; i++) {
        write_field(r->rejects, fields[i], r->csv.delim);
        putc(r->csv.delim, r->rejects);
    }
    write_field(r->rejects, last, r->csv.delim);
    fputs("\r\n", r->rejects);
}

static int open_rejects(struct run *r, const char *path)
{
    const char *names[PATRON__CSV_FIELDS_MAX];
    snprintf(r->x.report->rejects_path, sizeof r->x.report->rejects_path, "%s.rejected.csv", path);
    snprintf(r->rejects_tmp, sizeof r->rejects_tmp, "%s.tmp", r->x.report->rejects_path);
    if (!(r->rejects = fopen(r->rejects_tmp, "wb")))
        return patron__fail(r->x.s, PATRON_EINVAL, "cannot write %.200s: %s", r->rejects_tmp,
                            strerror(errno));
    for (size_t i = 0; i < r->x.columns; i++)
        names[i] = r->names[i];
    write_rejected(r, names, r->x.columns, "error");
    return 0;
}

static void fail_row(struct run *r, int field, const char *why)
{
    struct patron_import_error e = {.row = r->csv.record};
    int col = field >= 0 ? r->x.column_of[field] : -1;
    r->x.report->failed++;
    r->failed_here++;
    snprintf(e.column, sizeof e.column, "%s", col >= 0 ? r->names[col] : "");
    snprintf(e.message, sizeof e.message, "%s", why);
    if (r->x.opt->on_error)
        r->x.opt->on_error(r->x.opt->ctx, &e);
    if (r->rejects) {
        char last[400];
        snprintf(last, sizeof last, "row %lld%s%s: %s", (long long)e.row, col >= 0 ? ", " : "",
                 e.column, e.message);
        write_rejected(r, r->csv.fields, r->csv.count, last);
    }
}

/* One record: 0 (done or reported as bad) or a PATRON_* code that stops the import. A row is
 * found bad before anything of it is written (patron__import_apply), so it needs no savepoint
 * of its own: a savepoint a row copied every page it touched into the statement journal. */
static int import_record(struct run *r)
{
    struct patron__import_row row;
    int err;
    r->x.report->rows_read++;
    if (patron__import_read_row(&r->x, &r->csv, &row) != 0) {
        fail_row(r, row.bad_field, row.why);
        return 0;
    }
    if ((err = patron__import_apply(&r->x, &row)) == -1)
        fail_row(r, row.bad_field, row.why);
    return err == -1 ? 0 : err;
}

static void progress(struct run *r, int done)
{
    struct patron_import_progress p = {
        .rows = r->x.report->rows_read, .total_bytes = r->total_bytes, .done = done};
    off_t at = ftello(r->csv.fp);
    p.bytes = done ? r->total_bytes : at > 0 ? (int64_t)at : 0;
    if (r->x.opt->on_progress)
        r->x.opt->on_progress(r->x.opt->ctx, &p);
}

/* A real run stopped, or a row found bad since the check (the store changed under it): the
 * chunks before are in, and the same batch run again continues after them. */
static int stopped(struct run *r, int err, const char *why)
{
    if (r->x.opt->dry_run)
        return patron__fail(r->x.s, err, "row %lld: %s; nothing was imported",
                            (long long)r->csv.record, why);
    return patron__fail(r->x.s, err,
                        "row %lld: %s; the rows up to %lld are imported, and the same batch run "
                        "again continues after them",
                        (long long)r->csv.record, why, (long long)r->done_row);
}

static int import_rows(struct run *r, const char *path)
{
    int rc, err;
    if (r->x.opt->skip_errors && !r->x.opt->dry_run && (err = open_rejects(r, path)) != 0)
        return err;
    r->chunk_began = patron__import_clock_ms();
    while ((rc = patron__csv_next(&r->csv)) == 1) {
        if (r->csv.record <= r->done_row) /* written by an earlier run of the batch */
            continue;
        if ((err = import_record(r)) != 0)
            return err;
        if (r->failed_here && !r->x.opt->skip_errors && !r->x.opt->dry_run)
            return stopped(r, PATRON_EINVAL, "the row is bad now (the store changed)");
        int64_t now_ms = patron__import_clock_ms();
        r->in_chunk++;
        if (now_ms - r->chunk_began >= PATRON__IMPORT_CHUNK_MS &&
            (err = commit_chunk(r, now_ms)) != 0)
            return err;
        if (r->x.report->rows_read % PATRON_IMPORT_PROGRESS_ROWS != 0)
            continue;
        progress(r, 0);
        if (r->x.opt->should_stop && r->x.opt->should_stop(r->x.opt->ctx))
            return stopped(r, -ECANCELED, "the import was stopped");
    }
    if (!r->quiet_done || rc < 0 || (r->failed_here && !r->x.opt->skip_errors))
        progress(r, 1); /* a clean check's end is left to the real run */
    if (rc < 0) {       /* the file's syntax: the rest cannot be read reliably */
        r->x.report->rows_read++;
        r->csv.count = 0;
        fail_row(r, -1, r->csv.why);
        return patron__fail(r->x.s, PATRON_EINVAL, "row %lld: %s; nothing was imported",
                            (long long)r->csv.record, r->csv.why);
    }
    if (r->failed_here && !r->x.opt->skip_errors)
        return patron__fail(r->x.s, PATRON_EINVAL, "%lld bad rows; nothing was imported",
                            (long long)r->failed_here);
    if (!r->x.opt->dry_run && (err = finish_chunks(r)) != 0)
        return err;
    return read_balance(&r->x);
}

static int prepare(struct run *r, patron_store *s, const char *path,
                   const struct patron_import_options *opt)
{
    struct patron_import_report *rep = r->x.report;
    struct stat st;
    int err;
    r->x.s = s;
    r->x.opt = opt;
    r->x.now = patron_store_now(s);
    rep->dry_run = opt->dry_run;
    if ((err = check_options(s, opt)) != 0)
        return err;
    if (opt->batch)
        snprintf(rep->batch, sizeof rep->batch, "%s", opt->batch);
    else if ((err = batch_from_file(s, path, rep->batch)) != 0)
        return err;
    snprintf(r->x.note, sizeof r->x.note, "import %.63s", rep->batch);
    snprintf(r->x.source, sizeof r->x.source, "import:%.63s", rep->batch);
    r->x.country_code = opt->country_code;
    if (!r->x.country_code &&
        patron__setting_get(s, "phone_country_code", r->x.country_buf, sizeof r->x.country_buf) ==
            0 &&
        strcmp(r->x.country_buf, "0") != 0)
        r->x.country_code = r->x.country_buf;
    if (patron__csv_open(&r->csv, path) != 0)
        return patron__fail(s, PATRON_EINVAL, "cannot read %.200s: %s", path, strerror(errno));
    if (fstat(fileno(r->csv.fp), &st) == 0)
        r->total_bytes = (int64_t)st.st_size;
    return read_header(r);
}

/* Inside the transaction: 0 when the batch may commit (or was imported before: finished in the
 * register, or its account made before the register was kept). */
static int run_batch(struct run *r, const char *path)
{
    int existed = 0, state = 0;
    int err = load_register(r, &state);
    if (err != 0 || (err = open_account(&r->x, &existed)) != 0)
        return err;
    if (state == 2 || (state == 0 && existed)) {
        r->x.report->already_imported = 1;
        return 0;
    }
    return import_rows(r, path);
}

static void finish_rejects(struct run *r, int kept)
{
    struct patron_import_report *rep = r->x.report;
    if (!r->rejects)
        return;
    kept = fclose(r->rejects) == 0 && kept && rep->failed > 0;
    r->rejects = NULL;
    if (!kept || rename(r->rejects_tmp, rep->rejects_path) != 0) {
        remove(r->rejects_tmp);
        rep->rejects_path[0] = '\0';
    }
}

/* One pass over the file: a dry run (one transaction, rolled back) or the chunked import. */
static int import_pass(patron_store *s, const char *path, const struct patron_import_options *opt,
                       int quiet_done, struct patron_import_report *out)
{
    struct patron_import_report rep = {0};
    struct run *r;
    int err, write;
    if (!(r = calloc(1, sizeof *r)))
        return patron__fail(s, PATRON_ENOMEM, "out of memory");
    r->x.report = &rep;
    r->quiet_done = quiet_done;
    if ((err = prepare(r, s, path, opt)) != 0 || (err = patron__exec(s, IMPORT_CACHE)) != 0 ||
        (err = patron__tx_begin(s)) != 0)
        goto out;
    err = run_batch(r, path);
    write = err == 0 && !opt->dry_run && !rep.already_imported;
    if (write)
        err = patron__tx_commit(s);
    else
        patron__tx_rollback(s);
    finish_rejects(r, write && err == 0);
out:
    sqlite3_exec(s->db, "PRAGMA main.cache_size = -2000", NULL, NULL,
                 NULL); /* SQLite's default again */
    if (r->rejects)
        finish_rejects(r, 0);
    patron__csv_close(&r->csv);
    free(r);
    *out = rep;
    return err;
}

/* The check: a dry run of the whole file on a copy of the store made with VACUUM INTO (a read
 * transaction, which does not hold up the writer). Its detail is copied to `s`. */
static int check_on_copy(patron_store *s, const char *path, const struct patron_import_options *o,
                         int quiet_done, struct patron_import_report *out)
{
    const char *db = sqlite3_db_filename(s->db, "main");
    char tmp[4200], side[4220];
    patron_store *copy = NULL;
    sqlite3_stmt *st = NULL;
    int fd, err;
    snprintf(tmp, sizeof tmp, "%s.check-XXXXXX", db && *db ? db : "/tmp/patron-import");
    if ((fd = mkstemp(tmp)) < 0)
        return patron__fail(s, PATRON_EINVAL, "cannot write %.200s: %s", tmp, strerror(errno));
    close(fd);
    int rc = sqlite3_prepare_v2(s->db, "VACUUM INTO ?1", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_bind_text(st, 1, tmp, -1, SQLITE_STATIC)) == SQLITE_OK)
        rc = sqlite3_step(st);
    sqlite3_finalize(st);
    err = rc == SQLITE_DONE || rc == SQLITE_OK ? patron_store_open(tmp, &copy)
                                               : patron__db_err(s, rc);
    if (copy) {
        patron_store_set_fixed_time(copy, patron_store_now(s));
        copy->outbox_off = 1; /* thrown away after the check: nobody reads its outbox */
        if ((err = import_pass(copy, path, o, quiet_done, out)) != 0)
            patron__fail(s, err, "%s", patron_store_detail(copy));
        patron_store_close(copy);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", tmp, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
        remove(side);
    }
    return err;
}

int patron_import_members(patron_store *s, const char *path,
                          const struct patron_import_options *opt, struct patron_import_report *out)
{
    struct patron_import_options o;
    int err;
    if (!path || !opt || !out)
        return patron__fail(s, PATRON_EINVAL, "an import needs a file, options and a report");
    o = *opt;
    o.dry_run = 1;
    if ((err = check_on_copy(s, path, &o, !opt->dry_run, out)) != 0 || opt->dry_run ||
        out->already_imported)
        return err;
    o = *opt;
    o.on_error = NULL; /* the check reported each bad row already */
    return import_pass(s, path, &o, 0, out);
}
