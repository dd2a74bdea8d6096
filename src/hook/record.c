/* SPDX-License-Identifier: MIT */
/* What became of each webhook delivery: an attempt's answer recorded (delivered on 2xx; 410 Gone
 * disables the endpoint; else the next attempt after a back-off with jitter, never sooner than
 * Retry-After, until about three days have passed), the deliveries listed, and retried on
 * request with the same webhook-id. */
#include <stdio.h>
#include <string.h>

#include "hook/hook_internal.h"

/* Seconds to wait after the n-th failed attempt (1-based): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 14 h, 20 h, 24 h: about three days and three hours after the first. */
static const int64_t backoff_s[PATRON_WEBHOOK_ATTEMPTS - 1] = {
    5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400,
};

/* The delay after `attempts` failed attempts, with up to 10% of jitter either way. */
static int64_t next_delay(int attempts, int64_t retry_after_s)
{
    unsigned short r = 0;
    int i = attempts < 1 ? 0 : attempts - 1;
    int64_t base = backoff_s[i < PATRON_WEBHOOK_ATTEMPTS - 1 ? i : PATRON_WEBHOOK_ATTEMPTS - 2];
    (void)patron__random(&r, sizeof r);
    int64_t jitter = base / 10 ? (int64_t)(r % (unsigned)(2 * (base / 10) + 1)) - base / 10 : 0;
    int64_t delay = base + jitter;
    if (retry_after_s > delay)
        delay = retry_after_s > 3 * PATRON__DAY_SECONDS ? 3 * PATRON__DAY_SECONDS : retry_after_s;
    return delay;
}

static int read_attempts(patron_store *s, int64_t id, int64_t *endpoint, int *attempts)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT endpoint_id, attempts FROM webhook_deliveries WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *endpoint = sqlite3_column_int64(st, 0);
        *attempts = sqlite3_column_int(st, 1) + 1;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE
               ? patron__fail(s, PATRON_ENOTFOUND, "no webhook delivery %lld", (long long)id)
               : patron__db_err(s, rc);
}

static int disable_endpoint(patron_store *s, int64_t endpoint, const char *why)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE webhook_endpoints SET enabled = 0,"
                                       " disabled_reason = ?2 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, endpoint);
    sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
    return patron__step_done(s, st);
}

static int update_delivery(patron_store *s, int64_t id, const char *status, int attempts,
                           int64_t next, int http_status, const char *error)
{
    sqlite3_stmt *st = patron__stmt(
        s,
        "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, next_attempt = ?4,"
        " last_status = ?5, last_error = ?6,"
        " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?7 ELSE delivered_at END WHERE id = ?1");
    char text[256];
    if (!st)
        return PATRON_EDB;
    snprintf(text, sizeof text, "%s", error ? error : "");
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, attempts);
    sqlite3_bind_int64(st, 4, next);
    sqlite3_bind_int(st, 5, http_status);
    sqlite3_bind_text(st, 6, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 7, patron_store_now(s));
    return patron__step_done(s, st);
}

static int record_tx(patron_store *s, int64_t id, int http_status, int64_t retry_after_s,
                     const char *error)
{
    int64_t endpoint = 0, now = patron_store_now(s);
    int attempts = 0, err = read_attempts(s, id, &endpoint, &attempts);
    char why[256];
    if (err != 0)
        return err;
    if (http_status >= 200 && http_status < 300)
        return update_delivery(s, id, "delivered", attempts, now, http_status, "");
    if (http_status == 410) {
        snprintf(why, sizeof why, "the receiver answered 410 Gone to delivery %lld", (long long)id);
        if ((err = disable_endpoint(s, endpoint, why)) != 0)
            return err;
        return update_delivery(s, id, "failed", attempts, now, http_status, "410 Gone");
    }
    if (http_status != 0)
        snprintf(why, sizeof why, "the receiver answered %d", http_status);
    else
        snprintf(why, sizeof why, "%s", error && error[0] ? error : "no answer");
    if (attempts >= PATRON_WEBHOOK_ATTEMPTS)
        return update_delivery(s, id, "failed", attempts, now, http_status, why);
    return update_delivery(s, id, "queued", attempts, now + next_delay(attempts, retry_after_s),
                           http_status, why);
}

int patron_webhook_record(patron_store *s, int64_t delivery_id, int http_status,
                          int64_t retry_after_s, const char *error)
{
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if ((err = record_tx(s, delivery_id, http_status, retry_after_s, error)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

static void read_delivery(sqlite3_stmt *st, struct patron_webhook_delivery *d)
{
    memset(d, 0, sizeof *d);
    d->id = sqlite3_column_int64(st, 0);
    d->endpoint_id = sqlite3_column_int64(st, 1);
    snprintf(d->event, sizeof d->event, "%s", (const char *)sqlite3_column_text(st, 2));
    snprintf(d->msg_id, sizeof d->msg_id, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(d->status, sizeof d->status, "%s", (const char *)sqlite3_column_text(st, 4));
    d->attempts = sqlite3_column_int(st, 5);
    d->next_attempt = sqlite3_column_int64(st, 6);
    d->last_status = sqlite3_column_int(st, 7);
    snprintf(d->last_error, sizeof d->last_error, "%s", (const char *)sqlite3_column_text(st, 8));
    d->occurred_at = sqlite3_column_int64(st, 9);
    d->delivered_at = sqlite3_column_int64(st, 10);
}

int patron_webhook_deliveries(patron_store *s, int64_t endpoint_id, const char *status,
                              size_t limit, patron_webhook_delivery_fn fn, void *ctx)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id, endpoint_id, event, msg_id, status, attempts, next_attempt, last_status,"
           " last_error, occurred_at, COALESCE(delivered_at, 0) FROM webhook_deliveries"
           " WHERE (?1 = 0 OR endpoint_id = ?1) AND (?2 IS NULL OR status = ?2)"
           " ORDER BY id DESC LIMIT ?3");
    int rc, err = 0;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, endpoint_id);
    if (status)
        sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct patron_webhook_delivery d;
        read_delivery(st, &d);
        err = fn(&d, ctx);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

static int retry_tx(patron_store *s, int64_t delivery_id, int64_t endpoint_id, size_t *count)
{
    sqlite3_stmt *st;
    if (endpoint_id > 0) {
        if (!(st = patron__stmt(s, "UPDATE webhook_endpoints SET enabled = 1,"
                                   " disabled_reason = '' WHERE id = ?1")))
            return PATRON_EDB;
        sqlite3_bind_int64(st, 1, endpoint_id);
        int err = patron__step_done(s, st);
        if (err != 0)
            return err;
    }
    st = patron__stmt(s, "UPDATE webhook_deliveries SET status = 'queued', next_attempt = ?3"
                         " WHERE (?1 > 0 AND id = ?1)"
                         " OR (?1 = 0 AND endpoint_id = ?2 AND status <> 'delivered')");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, delivery_id);
    sqlite3_bind_int64(st, 2, endpoint_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    int err = patron__step_done(s, st);
    *count = err == 0 ? (size_t)sqlite3_changes(s->db) : 0;
    return err;
}

int patron_webhook_retry(patron_store *s, int64_t delivery_id, int64_t endpoint_id, size_t *count)
{
    size_t n = 0;
    if (delivery_id < 0 || endpoint_id < 0 || (delivery_id == 0) == (endpoint_id == 0))
        return patron__fail(s, PATRON_EINVAL, "retry one delivery or one endpoint's deliveries");
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if (endpoint_id > 0) {
        sqlite3_stmt *st = patron__stmt(s, "SELECT 1 FROM webhook_endpoints WHERE id = ?1");
        int rc = st ? (sqlite3_bind_int64(st, 1, endpoint_id), sqlite3_step(st)) : SQLITE_ERROR;
        if (st)
            sqlite3_reset(st);
        if (rc != SQLITE_ROW)
            err = patron__fail(s, PATRON_ENOTFOUND, "no webhook %lld", (long long)endpoint_id);
    }
    if (err == 0)
        err = retry_tx(s, delivery_id, endpoint_id, &n);
    if (err == 0 && delivery_id > 0 && n == 0)
        err = patron__fail(s, PATRON_ENOTFOUND, "no webhook delivery %lld", (long long)delivery_id);
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    if (count)
        *count = n;
    return patron__tx_commit(s);
}
