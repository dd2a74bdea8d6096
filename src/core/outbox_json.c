/* SPDX-License-Identifier: MIT */
/* Outbox payloads written from values the caller already holds, for the facts a checkout writes
 * on every sale: compact JSON in exactly the form SQLite's json_object() gives (no spaces, keys in
 * order, strings escaped as SQLite escapes them), so that a payload does not depend on which of
 * the two wrote it. The member's member_uid is written by the caller that holds it, else read
 * from its row by the INSERT. */
#include <stdlib.h>
#include <string.h>

#include "core/outbox_internal.h"

void patron__jw_init(struct patron__jw *w)
{
    w->p = w->stack;
    w->len = 0;
    w->cap = sizeof w->stack;
    w->uid_at = PATRON__JW_NO_UID;
    w->oom = 0;
    w->p[0] = '\0';
}

void patron__jw_free(struct patron__jw *w)
{
    if (w->p != w->stack)
        free(w->p);
    patron__jw_init(w);
}

int patron__jw_grow(struct patron__jw *w, size_t more)
{
    if (w->oom)
        return -1;
    if (w->len + more + 1 <= w->cap)
        return 0;
    size_t cap = w->cap * 2;
    while (cap < w->len + more + 1)
        cap *= 2;
    char *p = malloc(cap);
    if (!p) {
        w->oom = 1;
        return -1;
    }
    memcpy(p, w->p, w->len + 1);
    if (w->p != w->stack)
        free(w->p);
    w->p = p;
    w->cap = cap;
    return 0;
}

/* Digits are written from the end of a small buffer, two at a time from a table of pairs. */
void patron__jw_int(struct patron__jw *w, int64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                   "25262728293031323334353637383940414243444546474849"
                                   "50515253545556575859606162636465666768697071727374"
                                   "75767778798081828384858687888990919293949596979899";
    char digits[24], *d = digits + sizeof digits;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    if (w->len + 24 + 1 > w->cap && patron__jw_grow(w, 24) != 0)
        return;
    while (u >= 100) {
        d -= 2;
        memcpy(d, pairs + 2 * (u % 100), 2);
        u /= 100;
    }
    if (u >= 10) {
        d -= 2;
        memcpy(d, pairs + 2 * u, 2);
    } else {
        *--d = (char)('0' + u);
    }
    if (v < 0)
        *--d = '-';
    size_t n = (size_t)(digits + sizeof digits - d);
    memcpy(w->p + w->len, d, n);
    w->len += n;
    w->p[w->len] = '\0';
}

void patron__jw_id(struct patron__jw *w, int64_t v)
{
    if (v)
        patron__jw_int(w, v);
    else
        patron__jw_raw(w, "null");
}

/* As SQLite's jsonAppendString: '"' and '\\' take a backslash, control characters their short
 * escape or \u00XX, everything else (UTF-8 included) is copied. */
void patron__jw_str(struct patron__jw *w, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    static const char special[32] = {[8] = 'b', [9] = 't', [10] = 'n', [12] = 'f', [13] = 'r'};
    if (!v) {
        patron__jw_raw(w, "null");
        return;
    }
    size_t n = strlen(v);
    if (w->len + n * 6 + 2 + 1 > w->cap && patron__jw_grow(w, n * 6 + 2) != 0)
        return;
    char *o = w->p + w->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c <= 0x1f && special[c]) {
            *o++ = '\\';
            *o++ = special[c];
        } else if (c <= 0x1f) {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    *o = '\0';
    w->len = (size_t)(o - w->p);
}

void patron__jw_member_uid(struct patron__jw *w, const char *member_uid)
{
    if (member_uid && member_uid[0])
        patron__jw_str(w, member_uid);
    else
        w->uid_at = w->len;
}

/* An outbox row's columns but its payload (?6, ?7). */
static void bind_row(patron_store *s, sqlite3_stmt *st, const char *kind, const char *tbl,
                     int64_t row_key, int64_t member_id)
{
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, tbl, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, row_key);
    sqlite3_bind_int64(st, 5, member_id);
    sqlite3_bind_int64(st, 8, patron_store_now(s));
}

/* With the member_uid in the payload, the row is written as given; without, the INSERT reads it
 * and quotes it (json_quote, as patron__jw_str) between the payload's two parts. */
int patron__outbox_add_json(patron_store *s, const char *kind, const char *tbl, int64_t row_key,
                            int64_t member_id, const struct patron__jw *w)
{
    static const char *const sql_read_uid =
        "INSERT INTO outbox(store_id, kind, tbl, row_key, member_id, payload, recorded_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5,"
        " ?6 || json_quote((SELECT member_uid FROM members WHERE id = ?5)) || ?7, ?8)";
    static const char *const sql_whole =
        "INSERT INTO outbox(store_id, kind, tbl, row_key, member_id, payload, recorded_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?8)";
    if (w->oom)
        return PATRON_ENOMEM;
    if (s->outbox_off)
        return 0;
    if (s->tx_depth == 0)
        return patron__fail(s, PATRON_EINVAL,
                            "an outbox row is written inside its fact's transaction");
    int read_uid = w->uid_at != PATRON__JW_NO_UID;
    sqlite3_stmt *st = patron__stmt(s, read_uid ? sql_read_uid : sql_whole);
    if (!st)
        return PATRON_EDB;
    bind_row(s, st, kind, tbl, row_key, member_id);
    if (read_uid) {
        sqlite3_bind_text(st, 6, w->p, (int)w->uid_at, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, w->p + w->uid_at, (int)(w->len - w->uid_at), SQLITE_STATIC);
    } else {
        sqlite3_bind_text(st, 6, w->p, (int)w->len, SQLITE_STATIC);
    }
    return patron__step_done(s, st);
}
