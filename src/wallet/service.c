/* SPDX-License-Identifier: MIT */
/* Updatable Apple passes: each pass's authentication token (an HMAC of its serial under the
 * store's own secret, so nothing per pass is stored until a phone registers), the registrations
 * of Apple's pass web service, the serials changed since a tag (the number of the member's last
 * ledger entry), and the durable queue of pushes behind the one sender interface. */
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "member/member_internal.h"
#include "wallet/wallet_internal.h"

#define ID_MAX 255

int patron__wallet_token(patron_store *s, const char *serial, char out[33])
{
    char secret[80];
    unsigned char md[32];
    unsigned len = sizeof md;
    int err = patron__setting_get(s, "wallet_token_secret", secret, sizeof secret);
    if (err != 0)
        return err;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)serial,
              strlen(serial), md, &len))
        return PATRON_ECRYPTO;
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int patron_wallet_apple_auth(patron_store *s, const char *serial, const char *token)
{
    char want[33];
    if (!serial || !token || strlen(token) != 32 || patron__wallet_token(s, serial, want) != 0 ||
        CRYPTO_memcmp(want, token, 32) != 0)
        return patron__fail(s, PATRON_EAUTH, "not this pass's authentication token");
    return 0;
}

static int check_id(patron_store *s, const char *what, const char *v)
{
    return patron__text_rule(s, what, v, 1, ID_MAX, PATRON_TEXT_NO_SPACE);
}

int patron_wallet_apple_register(patron_store *s, const char *device, const char *pass_type,
                                 const char *serial, const char *push_token, int *created)
{
    struct patron__member_row row;
    int err;
    if ((err = check_id(s, "device", device)) != 0 ||
        (err = check_id(s, "pass type", pass_type)) != 0 ||
        (err = check_id(s, "push token", push_token)) != 0 ||
        (err = patron__member_for_card(s, serial, 1, &row)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, "SELECT 1 FROM wallet_registrations WHERE device = ?1"
                                       " AND pass_type = ?2 AND serial = ?3");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pass_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    *created = rc == SQLITE_DONE;
    st = patron__stmt(
        s,
        "INSERT INTO wallet_registrations(device, pass_type, serial, push_token,"
        " registered_at, pushed_tag) VALUES (?1, ?2, ?3, ?4, ?5,"
        " (SELECT COALESCE(MAX(id), 0) FROM entries WHERE member_id = ?6))"
        " ON CONFLICT(device, pass_type, serial) DO UPDATE SET push_token = excluded.push_token");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pass_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, push_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, patron_store_now(s));
    sqlite3_bind_int64(st, 6, row.member_id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_wallet_apple_unregister(patron_store *s, const char *device, const char *pass_type,
                                   const char *serial)
{
    sqlite3_stmt *st = patron__stmt(s, "DELETE FROM wallet_registrations WHERE device = ?1"
                                       " AND pass_type = ?2 AND serial = ?3");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pass_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, serial, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return sqlite3_changes(s->db) ? 0
                                  : patron__fail(s, PATRON_ENOTFOUND,
                                                 "that device is not registered "
                                                 "for that pass");
}

int patron_wallet_apple_updated(patron_store *s, const char *device, const char *pass_type,
                                int64_t since, char serials[][PATRON_CARD_DIGITS + 1], size_t *n,
                                int64_t *last)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT r.serial, (SELECT COALESCE(MAX(e.id), 0) FROM entries e"
           "   WHERE e.member_id = c.member_id) AS tag"
           " FROM wallet_registrations r JOIN cards c ON c.number = r.serial"
           " WHERE r.device = ?1 AND r.pass_type = ?2 AND tag > ?3 ORDER BY tag LIMIT ?4");
    int rc;
    if (!st)
        return PATRON_EDB;
    *n = 0;
    *last = since < 0 ? 0 : since;
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, pass_type, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, since);
    sqlite3_bind_int(st, 4, PATRON_WALLET_SERIALS_MAX);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        patron__copy(serials[*n], PATRON_CARD_DIGITS + 1, (const char *)sqlite3_column_text(st, 0));
        (*n)++;
        *last = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* One push per (push token, pass type) whose passes changed since last told, unless one is
 * already waiting; then every registration is marked as told up to its pass's tag. */
static const char queue_sql[] =
    "INSERT INTO wallet_pushes(push_token, pass_type, queued_at)"
    " SELECT DISTINCT r.push_token, r.pass_type, ?1 FROM wallet_registrations r"
    " JOIN cards c ON c.number = r.serial"
    " WHERE (SELECT COALESCE(MAX(e.id), 0) FROM entries e WHERE e.member_id = c.member_id)"
    "   > r.pushed_tag"
    " AND NOT EXISTS (SELECT 1 FROM wallet_pushes p WHERE p.sent_at IS NULL"
    "   AND p.push_token = r.push_token AND p.pass_type = r.pass_type)";
static const char told_sql[] =
    "UPDATE wallet_registrations SET pushed_tag = (SELECT COALESCE(MAX(e.id), 0) FROM entries e"
    " JOIN cards c ON c.member_id = e.member_id WHERE c.number = wallet_registrations.serial)";

int patron_wallet_push_queue(patron_store *s, int64_t *queued)
{
    int err = patron__tx_begin(s), rc;
    if (err != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, queue_sql);
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        err = patron__db_err(s, rc);
        goto out;
    }
    *queued = sqlite3_changes(s->db);
    err = patron__exec(s, told_sql);
out:
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

/* Records the outcome of one push. */
static int push_done(patron_store *s, int64_t id, int ok, const char *why)
{
    sqlite3_stmt *st = patron__stmt(
        s, ok ? "UPDATE wallet_pushes SET sent_at = ?2, attempts = attempts + 1 WHERE id = ?1"
              : "UPDATE wallet_pushes SET attempts = attempts + 1, last_error = ?3 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, why, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* The oldest unsent push after `after`: 1 and its fields, 0 when none, or an error. */
static int next_push(patron_store *s, int64_t after, int64_t *id, char *token, char *type)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT id, push_token, pass_type FROM wallet_pushes"
                                       " WHERE sent_at IS NULL AND id > ?1 ORDER BY id LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, after);
    int rc = sqlite3_step(st), found = rc == SQLITE_ROW;
    if (found) {
        *id = sqlite3_column_int64(st, 0);
        patron__copy(token, ID_MAX + 1, (const char *)sqlite3_column_text(st, 1));
        patron__copy(type, ID_MAX + 1, (const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_reset(st);
    return found ? 1 : rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_wallet_push_deliver(patron_store *s, patron_wallet_push_fn send, void *ctx,
                               int64_t *sent, int64_t *failed)
{
    char token[ID_MAX + 1], type[ID_MAX + 1], why[200];
    int64_t id = 0;
    int found = 0, err = 0;
    *sent = *failed = 0;
    while (err == 0 && (found = next_push(s, id, &id, token, type)) == 1) {
        why[0] = '\0';
        int ok = send(ctx, token, type, why, sizeof why) == 0;
        err = push_done(s, id, ok, why[0] ? why : "the push was not accepted");
        *(ok ? sent : failed) += 1;
    }
    return err != 0 ? err : found < 0 ? found : 0;
}
