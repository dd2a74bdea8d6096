/* SPDX-License-Identifier: MIT */
/* The member's copy of everything held about them (the right of access), as one JSON object.
 * Tables are found at run time: every table with a member_id column, and every table that hangs
 * off the member's sales by sale_id, so tables added by later migrations (vouchers, feedback,
 * referrals) are exported without this file knowing them. Times and days are given as every
 * reply gives them, ISO 8601 UTC, never as the Unix numbers the store keeps.
 * The text is written a row at a time: a member with years of sales has a copy of megabytes,
 * and only the text itself is held, never a tree of every row besides: in memory, or in an
 * unnamed temporary file that the service and the `patron` command send from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "member/member_internal.h"
#include "privacy/privacy_internal.h"
#include "report/report_internal.h"
#include "report/spill.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

struct exporter {
    patron_store *s;
    int64_t member_id;
    FILE *out;
    size_t bytes; /* written so far, stopped at PATRON_EXPORT_MAX_BYTES */
};

static json_t *hex(const unsigned char *p, int n)
{
    static const char digits[] = "0123456789abcdef";
    char *buf = malloc((size_t)n * 2 + 1);
    json_t *v;
    if (!buf)
        return NULL;
    for (int i = 0; i < n; i++) {
        buf[2 * i] = digits[p[i] >> 4];
        buf[2 * i + 1] = digits[p[i] & 15];
    }
    buf[2 * n] = '\0';
    v = json_string(buf);
    free(buf);
    return v;
}

/* Columns that hold a time in Unix seconds, by the schema's naming rule (`at`, `*_at`,
 * `*_until`, `valid_from`, `valid_to`); the same rule is in docs/openapi.yaml (ExportRow). */
static int time_column(const char *name)
{
    size_t n = strlen(name);
    return strcmp(name, "at") == 0 || (n > 3 && strcmp(name + n - 3, "_at") == 0) ||
           (n > 6 && strcmp(name + n - 6, "_until") == 0) || strcmp(name, "valid_from") == 0 ||
           strcmp(name, "valid_to") == 0;
}

/* Unix seconds as "2026-01-15T10:00:00Z" (or with `date_only` "2026-01-15"); null for 0, the
 * store's "unset", as in every other reply. A value no calendar holds stays the number it is:
 * the member's copy never drops what is kept. */
static json_t *time_json(int64_t t, int date_only)
{
    char buf[64];
    struct tm tm;
    time_t tt = (time_t)t;
    if (t == 0)
        return json_null();
    if (!gmtime_r(&tt, &tm) ||
        strftime(buf, sizeof buf, date_only ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return json_integer((json_int_t)t);
    return json_string(buf);
}

#define DAY_SECONDS INT64_C(86400)

static json_t *integer_json(const char *name, int64_t v)
{
    if (time_column(name))
        return time_json(v, 0);
    /* `day` columns count days since 1970-01-01 UTC. */
    if (strcmp(name, "day") == 0 && v > INT64_MIN / DAY_SECONDS && v < INT64_MAX / DAY_SECONDS)
        return time_json(v * DAY_SECONDS, 1);
    return json_integer((json_int_t)v);
}

static json_t *column_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return integer_json(sqlite3_column_name(st, i), sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT: {
        json_t *v = json_stringn((const char *)sqlite3_column_text(st, i),
                                 (size_t)sqlite3_column_bytes(st, i));
        /* Text that is not UTF-8 is still the member's: give it as hex rather than drop it. */
        return v ? v : hex(sqlite3_column_text(st, i), sqlite3_column_bytes(st, i));
    }
    case SQLITE_BLOB:
        return hex(sqlite3_column_blob(st, i), sqlite3_column_bytes(st, i));
    default:
        return json_null();
    }
}

/* The failure of a write to the copy: out of memory in memory, -errno on disk (-ENOSPC). */
static int write_failed(patron_store *s)
{
    int e = errno;
    if (e == 0 || e == ENOMEM)
        return patron__fail(s, PATRON_ENOMEM, "no memory for the export");
    return patron__fail(s, -e, "the export could not be written (%s)", strerror(e));
}

/* Writes `n` bytes of the copy, within PATRON_EXPORT_MAX_BYTES. */
static int put(struct exporter *x, const char *text, size_t n)
{
    if (n > PATRON_EXPORT_MAX_BYTES - x->bytes)
        return patron__fail(x->s, PATRON_ETOOBIG, "the export would pass %u bytes",
                            PATRON_EXPORT_MAX_BYTES);
    errno = 0;
    if (fwrite(text, 1, n, x->out) != n)
        return write_failed(x->s);
    x->bytes += n;
    return 0;
}

static int put_str(struct exporter *x, const char *text)
{
    return put(x, text, strlen(text));
}

/* Writes a JSON value (taking it), or fails for want of memory when it is NULL. */
static int put_json(struct exporter *x, json_t *v)
{
    char *text = v ? json_dumps(v, DUMP_FLAGS) : NULL;
    int err =
        text ? put_str(x, text) : patron__fail(x->s, PATRON_ENOMEM, "no memory for the export");
    free(text);
    json_decref(v);
    return err;
}

/* Writes `"key":`, the key escaped as JSON. */
static int put_key(struct exporter *x, const char *key)
{
    int err = put_json(x, json_string(key));
    return err ? err : put_str(x, ":");
}

/* The statement's current row as an object of its columns. */
static json_t *row_json(sqlite3_stmt *st)
{
    json_t *row = json_object();
    for (int i = 0; row && i < sqlite3_column_count(st); i++)
        if (json_object_set_new(row, sqlite3_column_name(st, i), column_json(st, i)) != 0) {
            json_decref(row);
            return NULL;
        }
    return row;
}

/* Runs `sql` (member id bound to ?1) and writes its rows as objects, separated by commas: the
 * first row alone (null when there is none) with `first_only`, else every row. */
static int rows_out(struct exporter *x, const char *sql, int first_only)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(x->s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(x->s, rc);
    sqlite3_bind_int64(st, 1, x->member_id);
    int err = 0, n = 0;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ > 0 && (first_only || (err = put_str(x, ",")) != 0))
            break;
        err = put_json(x, row_json(st));
    }
    if (err == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        err = patron__db_err(x->s, rc);
    if (err == 0 && first_only && n == 0)
        err = put_str(x, "null");
    sqlite3_finalize(st);
    return err;
}

/* Tables (and views, such as sale_lines) with a member_id column, and those keyed by the
 * member's sales. The names come from the schema itself, quoted as identifiers; the member is
 * always a bound parameter. */
static const char tables_sql[] =
    "SELECT t.name, MAX(c.name = 'member_id'), MAX(c.name = 'sale_id')"
    " FROM sqlite_schema t JOIN pragma_table_info(t.name) c"
    " WHERE t.type IN ('table', 'view') AND t.name NOT LIKE 'sqlite_%' AND t.name <> 'members'"
    " GROUP BY t.name HAVING MAX(c.name IN ('member_id', 'sale_id')) ORDER BY t.name";

/* Writes `,"table":[rows...]`. */
static int export_table(struct exporter *x, const char *table, int by_member)
{
    char sql[512], quoted[200];
    size_t n = 0;
    for (const char *p = table; *p && n + 3 < sizeof quoted; p++) {
        if (*p == '"')
            quoted[n++] = '"';
        quoted[n++] = *p;
    }
    quoted[n] = '\0';
    if (by_member)
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" WHERE member_id = ?1", quoted);
    else
        snprintf(
            sql, sizeof sql,
            "SELECT * FROM \"%s\" WHERE sale_id IN (SELECT id FROM sales WHERE member_id = ?1)",
            quoted);
    int err;
    if ((err = put_str(x, ",")) != 0 || (err = put_key(x, table)) != 0 ||
        (err = put_str(x, "[")) != 0 || (err = rows_out(x, sql, 0)) != 0)
        return err;
    return put_str(x, "]");
}

/* The whole object: format, time, the member's row, then each table in the order of its name. */
static int export_all(struct exporter *x)
{
    sqlite3_stmt *st;
    int rc, err;
    if ((err = put_str(x, "{")) != 0 || (err = put_key(x, "format")) != 0 ||
        (err = put_json(x, json_string(PATRON_EXPORT_FORMAT))) != 0 ||
        (err = put_str(x, ",")) != 0 || (err = put_key(x, "exported_at")) != 0 ||
        (err = put_json(x, time_json(patron_store_now(x->s), 0))) != 0 ||
        (err = put_str(x, ",")) != 0 || (err = put_key(x, "member")) != 0 ||
        (err = rows_out(x, "SELECT * FROM members WHERE id = ?1", 1)) != 0)
        return err;
    if ((rc = sqlite3_prepare_v2(x->s->db, tables_sql, -1, &st, NULL)) != SQLITE_OK)
        return patron__db_err(x->s, rc);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = export_table(x, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(x->s, rc);
    sqlite3_finalize(st);
    return err ? err : put_str(x, "}");
}

/* The copy written to `out`, from one consistent snapshot, without the write lock: checkouts go
 * on meanwhile. */
static int export_to(patron_store *s, const char *card, FILE *out)
{
    struct patron__member_row m;
    struct exporter x = {s, 0, out, 0};
    int opened = 0, err = patron__read_begin(s, &opened);
    if (err != 0)
        return err;
    if ((err = patron__member_for_card(s, card, 0, &m)) == 0) {
        x.member_id = m.member_id;
        err = export_all(&x);
    }
    patron__read_end(s, opened);
    errno = 0;
    if (err == 0 && fflush(out) != 0)
        err = write_failed(s);
    return err;
}

int patron_member_export(patron_store *s, const char *card, char **json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int err =
        out ? export_to(s, card, out) : patron__fail(s, PATRON_ENOMEM, "no memory for the export");
    if (out && fclose(out) != 0 && err == 0)
        err = patron__fail(s, PATRON_ENOMEM, "no memory for the export");
    if (err == 0)
        *json = text;
    else
        free(text);
    return err;
}

int patron_member_export_file(patron_store *s, const char *card, FILE **file)
{
    *file = NULL;
    int fd = patron__temp_fd();
    if (fd < 0)
        return patron__fail(s, fd, "no temporary file for the export in %s (%s)",
                            patron__spill_dir(), strerror(-fd));
    FILE *f = fdopen(fd, "w+");
    if (!f) {
        close(fd);
        return patron__fail(s, PATRON_ENOMEM, "no memory for the export");
    }
    int err = export_to(s, card, f);
    if (err == 0 && fseek(f, 0, SEEK_SET) != 0)
        err = patron__fail(s, -errno, "the export could not be read back (%s)", strerror(errno));
    if (err != 0) {
        fclose(f);
        return err;
    }
    *file = f;
    return 0;
}
