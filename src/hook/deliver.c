/* SPDX-License-Identifier: MIT */
/* Webhook deliveries: events derived from committed outbox rows (and the tier changes the members
 * table's trigger noted) through the webhooks' own cursor, one durable delivery per event and
 * subscribed endpoint with a stable msg_id (store id, store_seq, endpoint), bodies built and
 * signed when sent (so an erasure reaches queued deliveries too), and the answers recorded with a
 * retry schedule of about three days. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hook/hook_internal.h"

#define ENQUEUE_BATCH 1000

/* The event an outbox row is, NULL (no event) for the rest. A reversal is a refund's only when it
 * names the refund. */
#define EVENT_OF_ROW                                                                               \
    "CASE kind WHEN 'member' THEN 'member.enrolled'"                                               \
    " WHEN 'entry' THEN CASE json_extract(payload, '$.kind') WHEN 'earn' THEN 'points.earned'"     \
    "  WHEN 'expire' THEN 'points.expired' WHEN 'reverse' THEN CASE WHEN"                          \
    "  json_extract(payload, '$.refund_id') IS NOT NULL THEN 'points.refunded' END END"            \
    " WHEN 'redemption' THEN 'reward.redeemed' WHEN 'voucher_issued' THEN 'voucher.issued'"        \
    " WHEN 'voucher_redeemed' THEN 'voucher.redeemed' WHEN 'feedback' THEN 'feedback.received'"    \
    " WHEN 'goodwill' THEN 'goodwill.issued' WHEN 'erasure' THEN 'member.erased' END"

#define SUBSCRIBED(ev) "(e.events = '*' OR instr(e.events, ',' || " ev " || ',') > 0)"

static const char enqueue_rows_sql[] =
    "INSERT OR IGNORE INTO webhook_deliveries(endpoint_id, event, msg_id, store_seq, occurred_at,"
    " next_attempt) SELECT e.id, v.event, printf('msg_%d_%d_%d', ?3, v.store_seq, e.id),"
    " v.store_seq, v.recorded_at, ?4 FROM (SELECT store_seq, recorded_at, " EVENT_OF_ROW
    " AS event FROM outbox WHERE store_seq > ?1 AND store_seq <= ?2) v"
    " JOIN webhook_endpoints e ON v.store_seq > e.from_seq AND " SUBSCRIBED(
        "v.event") " WHERE v.event IS NOT NULL ORDER BY v.store_seq, e.id";

static const char enqueue_tiers_sql[] =
    "INSERT OR IGNORE INTO webhook_deliveries(endpoint_id, event, msg_id, tier_change,"
    " occurred_at, next_attempt) SELECT e.id, 'tier.changed',"
    " printf('msg_%d_t%d_%d', ?3, t.id, e.id), t.id, ?4, ?4 FROM tier_changes t"
    " JOIN webhook_endpoints e ON t.id > e.from_tier AND " SUBSCRIBED(
        "'tier.changed'") " WHERE t.id > ?1 AND t.id <= ?2 ORDER BY t.id, e.id";

/* Reads the cursors and the ends they move to. Rows before every endpoint's start are skipped:
 * none of them is sent. */
static int read_cursors(patron_store *s, int64_t from[2], int64_t to[2])
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT MAX(outbox_seq, COALESCE((SELECT MIN(from_seq) FROM webhook_endpoints), 0)),"
           " MAX(tier_seq, COALESCE((SELECT MIN(from_tier) FROM webhook_endpoints), 0)),"
           " (SELECT COALESCE(MAX(store_seq), 0) FROM outbox),"
           " (SELECT COALESCE(MAX(id), 0) FROM tier_changes) FROM webhook_state WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        for (int i = 0; i < 2; i++) {
            from[i] = sqlite3_column_int64(st, i);
            to[i] = sqlite3_column_int64(st, i + 2);
        }
        if (to[0] > from[0] + ENQUEUE_BATCH)
            to[0] = from[0] + ENQUEUE_BATCH;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
}

static int run_enqueue(patron_store *s, const char *sql, int64_t from, int64_t to, size_t *n)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, patron__setting_int(s, "store_id", 0));
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0)
        *n += (size_t)sqlite3_changes(s->db);
    return err;
}

static int enqueue_tx(patron_store *s, size_t *n)
{
    int64_t from[2] = {0, 0}, to[2] = {0, 0};
    int err = read_cursors(s, from, to);
    if (err != 0)
        return err;
    if ((err = run_enqueue(s, enqueue_rows_sql, from[0], to[0], n)) != 0 ||
        (err = run_enqueue(s, enqueue_tiers_sql, from[1], to[1], n)) != 0)
        return err;
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE webhook_state SET outbox_seq = ?1, tier_seq = ?2 WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, to[0]);
    sqlite3_bind_int64(st, 2, to[1]);
    return patron__step_done(s, st);
}

/* 1 when an endpoint exists and the outbox or the tier changes went past the cursor: read
 * without a write transaction, so that a store without webhooks (or nothing new) never takes the
 * write lock from the writer. */
static int enqueue_needed(patron_store *s, int *needed)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT EXISTS (SELECT 1 FROM webhook_endpoints) AND ("
                        " (SELECT COALESCE(MAX(store_seq), 0) FROM outbox) > outbox_seq OR"
                        " (SELECT COALESCE(MAX(id), 0) FROM tier_changes) > tier_seq)"
                        " FROM webhook_state WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    *needed = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_webhook_enqueue(patron_store *s, size_t *queued)
{
    size_t n = 0;
    int needed = 0, err = enqueue_needed(s, &needed);
    if (queued)
        *queued = 0;
    if (err != 0 || !needed)
        return err;
    err = patron__tx_begin(s);
    if (err == 0 && (err = enqueue_tx(s, &n)) == 0)
        err = patron__tx_commit(s);
    else if (err == 0 || s->tx_depth > 0)
        patron__tx_rollback(s);
    if (queued)
        *queued = err == 0 ? n : 0;
    return err;
}

static void iso_time(int64_t t, char out[32])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Takes out what only endpoints marked for personal data may receive. */
static void strip_personal(json_t *data)
{
    static const char *const keys[] = {"name",    "email",     "phone",         "birthday",
                                       "comment", "complaint", "consent_source"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_del(data, keys[i]);
}

/* {"type", "timestamp", "data"} as compact JSON; data is stolen. */
static char *make_body(const char *event, int64_t occurred_at, json_t *data)
{
    char when[32];
    iso_time(occurred_at, when);
    json_t *doc = json_pack("{s:s, s:s, s:o}", "type", event, "timestamp", when, "data",
                            data ? data : json_object());
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static unsigned char *key_bytes(sqlite3_stmt *st, int col, size_t *n)
{
    *n = (size_t)sqlite3_column_bytes(st, col);
    return (unsigned char *)sqlite3_column_blob(st, col);
}

/* Appends " v1,..." or " v1a,..." for one key. */
static int sign_one(const char *kind, const unsigned char *key, size_t keylen, const char *msg,
                    size_t msglen, char *out, size_t cap)
{
    unsigned char sig[64];
    char b64[100];
    size_t siglen = sizeof sig, used = strlen(out);
    int ed = strcmp(kind, "ed25519") == 0, ok;
    if (ed) {
        EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, key, keylen);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = pk && md && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, msglen) == 1;
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(pk);
    } else {
        unsigned int len = 0;
        ok = HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, sig, &len) !=
             NULL;
        siglen = len;
    }
    if (!ok)
        return PATRON_ECRYPTO;
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
    int w = snprintf(out + used, cap - used, "%s%s,%s", used ? " " : "", ed ? "v1a" : "v1", b64);
    return w < 0 || (size_t)w >= cap - used ? PATRON_ETOOBIG : 0;
}

int patron__webhook_sign(patron_store *s, struct patron_webhook_request *r)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT kind, secret FROM webhook_keys WHERE endpoint_id ="
                                       " ?1 AND (retire_at IS NULL OR retire_at > ?2)"
                                       " ORDER BY id DESC");
    if (!st)
        return PATRON_EDB;
    char *msg = sqlite3_mprintf("%s.%lld.%s", r->msg_id, (long long)r->timestamp, r->body);
    int rc, err = msg ? 0 : PATRON_ENOMEM;
    r->signature[0] = '\0';
    sqlite3_bind_int64(st, 1, r->endpoint_id);
    sqlite3_bind_int64(st, 2, r->timestamp);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t n;
        const unsigned char *key = key_bytes(st, 1, &n);
        err = sign_one((const char *)sqlite3_column_text(st, 0), key, n, msg, strlen(msg),
                       r->signature, sizeof r->signature);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    sqlite3_free(msg);
    if (err == 0 && r->signature[0] == '\0')
        err = patron__fail(s, PATRON_ECRYPTO, "webhook %lld has no active key",
                           (long long)r->endpoint_id);
    return err;
}

void patron_webhook_request_free(struct patron_webhook_request *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
}

/* The data of a due delivery: the outbox row's payload, or the tier change. */
static json_t *row_data(sqlite3_stmt *st)
{
    if (sqlite3_column_type(st, 6) != SQLITE_NULL)
        return json_loads((const char *)sqlite3_column_text(st, 6), 0, NULL);
    return json_pack("{s:I, s:s?, s:s?}", "member_id", (json_int_t)sqlite3_column_int64(st, 7),
                     "from_tier", (const char *)sqlite3_column_text(st, 8), "to_tier",
                     (const char *)sqlite3_column_text(st, 9));
}

static int prepare_due(patron_store *s, sqlite3_stmt *st, struct patron_webhook_request *r)
{
    memset(r, 0, sizeof *r);
    r->delivery_id = sqlite3_column_int64(st, 0);
    r->endpoint_id = sqlite3_column_int64(st, 1);
    snprintf(r->msg_id, sizeof r->msg_id, "%s", (const char *)sqlite3_column_text(st, 3));
    snprintf(r->url, sizeof r->url, "%s", (const char *)sqlite3_column_text(st, 4));
    r->timestamp = patron_store_now(s);
    json_t *data = row_data(st);
    if (data && !sqlite3_column_int(st, 5))
        strip_personal(data);
    r->body =
        make_body((const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 10), data);
    if (!r->body)
        return patron__fail(s, PATRON_ENOMEM, "cannot build webhook delivery %lld",
                            (long long)r->delivery_id);
    return patron__webhook_sign(s, r);
}

int patron_webhook_due(patron_store *s, struct patron_webhook_request *out, size_t max, size_t *n)
{
    static const char sql[] =
        "SELECT d.id, d.endpoint_id, d.event, d.msg_id, e.url, e.personal, o.payload,"
        " t.member_id, (SELECT name FROM tiers WHERE id = t.old_tier),"
        " (SELECT name FROM tiers WHERE id = t.new_tier), d.occurred_at"
        " FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id"
        " LEFT JOIN outbox o ON o.store_seq = d.store_seq"
        " LEFT JOIN tier_changes t ON t.id = d.tier_change"
        " WHERE d.status = 'queued' AND d.next_attempt <= ?1 AND e.enabled"
        " ORDER BY d.next_attempt, d.id LIMIT ?2";
    sqlite3_stmt *st = patron__stmt(s, sql);
    int rc, err = 0;
    *n = 0;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    sqlite3_bind_int64(st, 2, (int64_t)max);
    /* The rows are read first: signing steps other statements on the same handle. */
    while (err == 0 && *n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if ((err = prepare_due(s, st, &out[*n])) == 0)
            (*n)++;
        else
            patron_webhook_request_free(&out[*n]);
    if (err == 0 && *n < max && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    for (size_t i = 0; err != 0 && i < *n; i++)
        patron_webhook_request_free(&out[i]);
    if (err != 0)
        *n = 0;
    return err;
}

int patron_webhook_test_request(patron_store *s, int64_t endpoint_id,
                                struct patron_webhook_request *r)
{
    unsigned char nonce[8];
    sqlite3_stmt *st = patron__stmt(s, "SELECT url FROM webhook_endpoints WHERE id = ?1");
    memset(r, 0, sizeof *r);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, endpoint_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        snprintf(r->url, sizeof r->url, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE
                   ? patron__fail(s, PATRON_ENOTFOUND, "no webhook %lld", (long long)endpoint_id)
                   : patron__db_err(s, rc);
    if (patron__random(nonce, sizeof nonce) != 0)
        return patron__fail(s, PATRON_ECRYPTO, "no random bytes for a test event");
    r->endpoint_id = endpoint_id;
    r->timestamp = patron_store_now(s);
    snprintf(r->msg_id, sizeof r->msg_id, "msg_test_%02x%02x%02x%02x%02x%02x%02x%02x", nonce[0],
             nonce[1], nonce[2], nonce[3], nonce[4], nonce[5], nonce[6], nonce[7]);
    r->body = make_body("webhook.test", r->timestamp,
                        json_pack("{s:I}", "webhook_id", (json_int_t)endpoint_id));
    if (!r->body)
        return patron__fail(s, PATRON_ENOMEM, "cannot build a test event");
    int err = patron__webhook_sign(s, r);
    if (err != 0)
        patron_webhook_request_free(r);
    return err;
}
