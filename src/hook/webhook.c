/* SPDX-License-Identifier: MIT */
/* Webhook endpoints and their signing keys: adding one (URL checked, events checked, a first key
 * made with OpenSSL's RAND_bytes), rotating its key with an overlap during which both sign,
 * listing and removing. The keys stay in the store; the receiver gets its secret (HMAC) or the
 * public key (Ed25519) once. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "hook/hook_internal.h"

static const char *const event_names[] = {
    "member.enrolled",   "points.earned",   "points.refunded",  "points.expired",
    "reward.redeemed",   "voucher.issued",  "voucher.redeemed", "tier.changed",
    "feedback.received", "goodwill.issued", "member.erased",
};

int patron_webhook_event_known(const char *name)
{
    for (size_t i = 0; name && i < sizeof event_names / sizeof event_names[0]; i++)
        if (strcmp(name, event_names[i]) == 0)
            return 1;
    return 0;
}

/* "http://" is for this machine only: the host must be a loopback name. */
static int loopback_host(const char *host)
{
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncmp(host, names[i], n) == 0 &&
            (host[n] == '\0' || host[n] == ':' || host[n] == '/'))
            return 1;
    }
    return 0;
}

static int check_url(patron_store *s, const char *url)
{
    if (!url || !patron__printable(url, PATRON_WEBHOOK_URL_MAX) || strchr(url, ' '))
        return patron__fail(s, PATRON_EINVAL, "a webhook URL is 1 to %d printable characters",
                            PATRON_WEBHOOK_URL_MAX - 1);
    if (strncmp(url, "https://", 8) == 0 && url[8] != '\0' && url[8] != '/')
        return 0;
    if (strncmp(url, "http://", 7) == 0 && loopback_host(url + 7))
        return 0;
    return patron__fail(s, PATRON_EINVAL,
                        "a webhook URL must be https:// (plain http:// only to this machine's "
                        "loopback): %.80s",
                        url);
}

/* Turns "a, b" into ",a,b," (so that instr finds ",a,"), or "*" for all events. */
static int normalise_events(patron_store *s, const char *list, char *out, size_t cap)
{
    char name[64];
    size_t len = 1;
    if (!list || strcmp(list, "*") == 0 || strcmp(list, "all") == 0)
        return patron__copy(out, cap, "*") == 0 ? 0 : PATRON_EINVAL;
    snprintf(out, cap, ",");
    for (const char *p = list; *p;) {
        size_t n = 0;
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        while (p[n] && p[n] != ',' && !isspace((unsigned char)p[n]))
            n++;
        if (n == 0)
            break;
        snprintf(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), p);
        if (n >= sizeof name || !patron_webhook_event_known(name))
            return patron__fail(s, PATRON_EINVAL,
                                "no webhook event %.60s (member.enrolled, points.earned, "
                                "points.refunded, points.expired, reward.redeemed, voucher.issued,"
                                " voucher.redeemed, tier.changed, feedback.received, "
                                "goodwill.issued, member.erased, or *)",
                                name);
        if (len + n + 1 >= cap)
            return patron__fail(s, PATRON_EINVAL, "too many webhook events");
        memcpy(out + len, name, n);
        out[len + n] = ',';
        out[len + n + 1] = '\0';
        len += n + 1;
        p += n;
    }
    if (len == 1)
        return patron__fail(s, PATRON_EINVAL, "name at least one webhook event, or *");
    return 0;
}

/* Makes a key and writes what the receiver needs into secret: "whsec_" + base64 of the HMAC key,
 * or "whpk_" + base64 of the Ed25519 public key. raw receives what the store keeps. */
static int make_key(patron_store *s, enum patron_webhook_key_kind kind, unsigned char raw[32],
                    char secret[PATRON_WEBHOOK_SECRET_MAX])
{
    unsigned char pub[32];
    size_t publen = sizeof pub;
    if (patron__random(raw, 32) != 0)
        return patron__fail(s, PATRON_ECRYPTO, "no random bytes for a webhook key");
    if (kind == PATRON_WEBHOOK_HMAC) {
        memcpy(secret, "whsec_", 6);
        EVP_EncodeBlock((unsigned char *)secret + 6, raw, 32);
        return 0;
    }
    EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, raw, 32);
    int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &publen) == 1 && publen == 32;
    EVP_PKEY_free(k);
    if (!ok)
        return patron__fail(s, PATRON_ECRYPTO, "cannot make an Ed25519 webhook key");
    memcpy(secret, "whpk_", 5);
    EVP_EncodeBlock((unsigned char *)secret + 5, pub, 32);
    return 0;
}

static int insert_key(patron_store *s, int64_t endpoint, enum patron_webhook_key_kind kind,
                      char secret[PATRON_WEBHOOK_SECRET_MAX])
{
    unsigned char raw[32];
    int err = make_key(s, kind, raw, secret);
    sqlite3_stmt *st = err ? NULL
                           : patron__stmt(s, "INSERT INTO webhook_keys(endpoint_id, kind, secret,"
                                             " created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!err && !st)
        err = PATRON_EDB;
    if (!err) {
        sqlite3_bind_int64(st, 1, endpoint);
        sqlite3_bind_text(st, 2, kind == PATRON_WEBHOOK_HMAC ? "hmac" : "ed25519", -1,
                          SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, raw, sizeof raw, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, patron_store_now(s));
        err = patron__step_done(s, st);
    }
    OPENSSL_cleanse(raw, sizeof raw);
    return err;
}

static int insert_endpoint(patron_store *s, const struct patron_webhook_def *def,
                           const char *events, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO webhook_endpoints(url, events, personal, from_seq, from_tier, created_at)"
           " VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(store_seq), 0) FROM outbox),"
           " (SELECT COALESCE(MAX(id), 0) FROM tier_changes), ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, def->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, events, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, def->personal != 0);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return err;
}

int patron_webhook_add(patron_store *s, const struct patron_webhook_def *def, int64_t *id,
                       char secret[PATRON_WEBHOOK_SECRET_MAX])
{
    char events[PATRON_WEBHOOK_EVENTS_MAX];
    int err;
    memset(secret, 0, PATRON_WEBHOOK_SECRET_MAX);
    if (!def || (err = check_url(s, def->url)) != 0 ||
        (err = normalise_events(s, def->events, events, sizeof events)) != 0)
        return def ? err : patron__fail(s, PATRON_EINVAL, "no webhook to add");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = insert_endpoint(s, def, events, id)) != 0 ||
        (err = insert_key(s, *id, def->kind, secret)) != 0) {
        patron__tx_rollback(s);
        OPENSSL_cleanse(secret, PATRON_WEBHOOK_SECRET_MAX);
        return err;
    }
    return patron__tx_commit(s);
}

static int endpoint_exists(patron_store *s, int64_t id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT 1 FROM webhook_endpoints WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? patron__fail(s, PATRON_ENOTFOUND, "no webhook %lld", (long long)id)
                             : patron__db_err(s, rc);
}

int patron_webhook_rotate(patron_store *s, int64_t id, enum patron_webhook_key_kind kind,
                          int64_t overlap_s, char secret[PATRON_WEBHOOK_SECRET_MAX])
{
    int err;
    memset(secret, 0, PATRON_WEBHOOK_SECRET_MAX);
    if (overlap_s < 0)
        return patron__fail(s, PATRON_EINVAL, "a key rotation's overlap is 0 seconds or more");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    sqlite3_stmt *st = NULL;
    if ((err = endpoint_exists(s, id)) == 0 &&
        !(st = patron__stmt(s, "UPDATE webhook_keys SET retire_at = ?2 WHERE endpoint_id = ?1"
                               " AND (retire_at IS NULL OR retire_at > ?2)")))
        err = PATRON_EDB;
    if (err == 0) {
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, patron_store_now(s) + overlap_s);
        err = patron__step_done(s, st);
    }
    if (err == 0 && (err = insert_key(s, id, kind, secret)) == 0)
        return patron__tx_commit(s);
    patron__tx_rollback(s);
    return err;
}

static void read_endpoint(sqlite3_stmt *st, struct patron_webhook *w)
{
    const char *events = (const char *)sqlite3_column_text(st, 2);
    size_t n = strlen(events);
    memset(w, 0, sizeof *w);
    w->id = sqlite3_column_int64(st, 0);
    snprintf(w->url, sizeof w->url, "%s", (const char *)sqlite3_column_text(st, 1));
    if (n > 2 && events[0] == ',') /* ",a,b," reads "a,b" */
        snprintf(w->events, sizeof w->events, "%.*s", (int)(n - 2), events + 1);
    else
        snprintf(w->events, sizeof w->events, "%s", events);
    w->personal = sqlite3_column_int(st, 3);
    w->enabled = sqlite3_column_int(st, 4);
    snprintf(w->disabled_reason, sizeof w->disabled_reason, "%s",
             (const char *)sqlite3_column_text(st, 5));
    w->keys = sqlite3_column_int(st, 6);
    w->created_at = sqlite3_column_int64(st, 7);
}

int patron_webhook_list(patron_store *s, patron_webhook_fn fn, void *ctx)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, url, events, personal, enabled, disabled_reason,"
                        " (SELECT COUNT(*) FROM webhook_keys k WHERE k.endpoint_id = e.id"
                        "  AND (k.retire_at IS NULL OR k.retire_at > ?1)), created_at"
                        " FROM webhook_endpoints e ORDER BY id");
    int rc, err = 0;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct patron_webhook w;
        read_endpoint(st, &w);
        err = fn(&w, ctx);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

int patron_webhook_remove(patron_store *s, int64_t id)
{
    static const char *const sql[] = {
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1",
        "DELETE FROM webhook_keys WHERE endpoint_id = ?1",
        "DELETE FROM webhook_endpoints WHERE id = ?1",
    };
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    err = endpoint_exists(s, id);
    for (size_t i = 0; err == 0 && i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *st = patron__stmt(s, sql[i]);
        if (!st) {
            err = PATRON_EDB;
            break;
        }
        sqlite3_bind_int64(st, 1, id);
        err = patron__step_done(s, st);
    }
    if (err == 0)
        return patron__tx_commit(s);
    patron__tx_rollback(s);
    return err;
}
