/* SPDX-License-Identifier: MIT */
/* The member's copy of everything held about them (the right of access), as one JSON object.
 * Tables are found at run time: every table with a member_id column, and every table that hangs
 * off the member's sales by sale_id, so tables added by later migrations (vouchers, feedback,
 * referrals) are exported without this file knowing them. Times and days are given as every
 * reply gives them, ISO 8601 UTC, never as the Unix numbers the store keeps. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "member/member_internal.h"
#include "privacy/privacy_internal.h"
#include "report/report_internal.h"

struct exporter {
    patron_store *s;
    int64_t member_id;
    size_t bytes; /* rough size so far, to stop before PATRON_EXPORT_MAX_BYTES */
    json_t *root;
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

/* Runs `sql` (member id bound to ?1) and appends each row as an object to `rows`. */
static int rows_into(struct exporter *x, const char *sql, json_t *rows)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(x->s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(x->s, rc);
    sqlite3_bind_int64(st, 1, x->member_id);
    int err = 0;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *row = json_object();
        for (int i = 0; row && i < sqlite3_column_count(st); i++) {
            x->bytes += (size_t)sqlite3_column_bytes(st, i) * 2 + 24;
            json_object_set_new(row, sqlite3_column_name(st, i), column_json(st, i));
        }
        if (!row || json_array_append_new(rows, row) != 0)
            err = patron__fail(x->s, PATRON_ENOMEM, "no memory for the export");
        else if (x->bytes > PATRON_EXPORT_MAX_BYTES)
            err = patron__fail(x->s, PATRON_ETOOBIG, "the export would pass %u bytes",
                               PATRON_EXPORT_MAX_BYTES);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(x->s, rc);
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
    json_t *rows = json_array();
    if (!rows || json_object_set_new(x->root, table, rows) != 0)
        return patron__fail(x->s, PATRON_ENOMEM, "no memory for the export");
    return rows_into(x, sql, rows);
}

static int export_all(struct exporter *x)
{
    sqlite3_stmt *st;
    json_t *member = json_array();
    int rc, err;
    if (!member || json_object_set_new(x->root, "member", member) != 0)
        return PATRON_ENOMEM;
    if ((err = rows_into(x, "SELECT * FROM members WHERE id = ?1", member)) != 0)
        return err;
    json_object_set(x->root, "member", json_array_get(member, 0));
    if ((rc = sqlite3_prepare_v2(x->s->db, tables_sql, -1, &st, NULL)) != SQLITE_OK)
        return patron__db_err(x->s, rc);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = export_table(x, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(x->s, rc);
    sqlite3_finalize(st);
    return err;
}

int patron_member_export(patron_store *s, const char *card, char **json)
{
    struct patron__member_row m;
    struct exporter x = {s, 0, 0, json_object()};
    char *text = NULL;
    int opened = 0, err = x.root ? 0 : PATRON_ENOMEM;
    /* One consistent snapshot, without the write lock: checkouts go on meanwhile. */
    if (err != 0 || (err = patron__read_begin(s, &opened)) != 0)
        goto out;
    if ((err = patron__member_for_card(s, card, 0, &m)) == 0) {
        x.member_id = m.member_id;
        json_object_set_new(x.root, "format", json_string(PATRON_EXPORT_FORMAT));
        json_object_set_new(x.root, "exported_at", time_json(patron_store_now(s), 0));
        err = export_all(&x);
    }
    patron__read_end(s, opened);
    if (err == 0 && !(text = json_dumps(x.root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
        err = patron__fail(s, PATRON_ENOMEM, "no memory for the export");
    if (err == 0)
        *json = text;
out:
    json_decref(x.root);
    return err;
}
