/* SPDX-License-Identifier: MIT */
/* What the counter service keeps about requests: the append-only audit log (till, operation,
 * time, outcome; never card numbers or personal data) and the reply register, which lets a till
 * retry any POST with the same idempotency key and receive the first answer again. */
#include <string.h>

#include "core/store_internal.h"
#include "patron/terminal.h"

#define AUDIT_OP_MAX 63
#define AUDIT_OUTCOME_MAX 31
#define REPLY_KEY_MAX 127

int patron_audit_record(patron_store *s, int64_t terminal_id, const char *op, const char *outcome,
                        int status)
{
    static const char *const sql = "INSERT INTO audit_log(at, terminal_id, op, outcome, status) "
                                   "VALUES (?1, nullif(?2, 0), ?3, ?4, ?5)";
    if (!op || !outcome || strlen(op) > AUDIT_OP_MAX || strlen(outcome) > AUDIT_OUTCOME_MAX)
        return patron__fail(s, PATRON_EINVAL, "an audit line needs a short operation and outcome");
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    if (terminal_id) /* 0: a caller that is not a till (a phone asking for its pass) */
        sqlite3_bind_int64(st, 2, terminal_id);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, op, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, status);
    return patron__step_done(s, st);
}

int patron_audit_count(patron_store *s, int64_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT count(*) FROM audit_log");
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    int err = rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

static int valid_key(const char *key)
{
    size_t n = key ? strnlen(key, REPLY_KEY_MAX + 1) : 0;
    return n > 0 && n <= REPLY_KEY_MAX;
}

int patron_reply_get(patron_store *s, const char *key, const uint8_t request_hash[32], int *status,
                     char *body, size_t cap)
{
    static const char *const sql =
        "SELECT request_hash, status, body FROM api_replies WHERE till = ?2 AND key = ?1";
    if (!valid_key(key))
        return patron__fail(s, PATRON_EINVAL, "an idempotency key is 1 to 127 bytes");
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->till);
    int rc = sqlite3_step(st), err;
    if (rc == SQLITE_ROW) {
        const void *h = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != 32 || memcmp(h, request_hash, 32) != 0) {
            err = patron__fail(s, PATRON_EIDEMPOTENCY,
                               "this idempotency key was used for a different request");
        } else if ((err = patron__copy(body, cap, (const char *)sqlite3_column_text(st, 2))) == 0) {
            *status = sqlite3_column_int(st, 1);
        }
    } else {
        err = rc == SQLITE_DONE ? PATRON_ENOTFOUND : patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

int patron_reply_put(patron_store *s, const char *key, const uint8_t request_hash[32], int status,
                     const char *body)
{
    static const char *const sql =
        "INSERT INTO api_replies(key, request_hash, status, body, created_at, till) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(till, key) DO NOTHING";
    if (!valid_key(key))
        return patron__fail(s, PATRON_EINVAL, "an idempotency key is 1 to 127 bytes");
    if (!body || strlen(body) > PATRON_REPLY_MAX)
        return patron__fail(s, PATRON_ETOOBIG, "a reply to keep is at most %d bytes",
                            PATRON_REPLY_MAX);
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, request_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, status);
    sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, patron_store_now(s));
    sqlite3_bind_int64(st, 6, s->till);
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) == 0)
        err = patron__fail(s, PATRON_EIDEMPOTENCY, "this idempotency key was taken meanwhile");
    return err;
}
