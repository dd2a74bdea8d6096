/* SPDX-License-Identifier: MIT */
/* Finding members for the back office: one text that may be a card number, a phone number, an
 * email address or part of a name, matched against each; erased members are never found. */
#include <stdio.h>
#include <string.h>

#include "member/member_internal.h"
#include "patron/card.h"

#define SEARCH_TEXT_MAX 128

/* Digits and a leading '+', as phones are stored; "" when it cannot be a phone (6-20 digits). */
static void as_phone(const char *in, char out[32])
{
    size_t n = 0, digits = 0;
    for (const char *p = in; *p && n < 30; p++) {
        if (*p >= '0' && *p <= '9') {
            out[n++] = *p;
            digits++;
        } else if (*p == '+' && n == 0) {
            out[n++] = '+';
        }
    }
    out[n] = '\0';
    if (digits < 6 || digits > 20)
        out[0] = '\0';
}

/* "%text%" for LIKE, with '%', '_' and '\' escaped by '\'. */
static void as_pattern(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    out[n++] = '%';
    for (const char *p = in; *p && n + 3 < cap; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n++] = '%';
    out[n] = '\0';
}

static int bind_query(patron_store *s, sqlite3_stmt *st, const char *query, size_t cap)
{
    char phone[32], card[PATRON_CARD_DIGITS + 1], pattern[2 * SEARCH_TEXT_MAX + 3];
    as_phone(query, phone);
    as_pattern(query, pattern, sizeof pattern);
    int has_card = patron_card_parse(query, card) == 0;
    (void)s;
    sqlite3_bind_text(st, 1, query, -1, SQLITE_TRANSIENT);
    if (phone[0])
        sqlite3_bind_text(st, 2, phone, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, pattern, -1, SQLITE_TRANSIENT);
    if (has_card)
        sqlite3_bind_text(st, 4, card, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 4);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)cap);
    return 0;
}

int patron_member_search(patron_store *s, const char *query, struct patron_member *out, size_t cap,
                         size_t *count)
{
    static const char sql[] =
        "SELECT m.id FROM members m WHERE m.erased_at IS NULL AND (lower(m.email) = lower(?1)"
        " OR m.phone = ?2 OR m.name LIKE ?3 ESCAPE '\\'"
        " OR m.id IN (SELECT member_id FROM cards WHERE number = ?4))"
        " ORDER BY m.name, m.id LIMIT ?5";
    int64_t ids[PATRON_MEMBER_SEARCH_MAX];
    size_t n = 0;
    int rc;
    *count = 0;
    size_t len = query ? strlen(query) : 0;
    if (len < 2 || len > SEARCH_TEXT_MAX)
        return patron__fail(s, PATRON_EINVAL, "search with 2 to %d characters", SEARCH_TEXT_MAX);
    if (cap > PATRON_MEMBER_SEARCH_MAX)
        cap = PATRON_MEMBER_SEARCH_MAX;
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    bind_query(s, st, query, cap);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < cap)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    for (size_t i = 0; i < n; i++) {
        int err = patron_member_by_id(s, ids[i], &out[i]);
        if (err != 0)
            return err;
    }
    *count = n;
    return 0;
}
