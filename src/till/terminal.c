/* SPDX-License-Identifier: MIT */
/* Tills of the counter service: their roles and bearer tokens. A token is 32 random bytes shown
 * once; only its SHA-256 is kept, so a stolen database file does not hand out working tokens,
 * and look-up is by that hash. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/store_internal.h"
#include "patron/terminal.h"

#define TOKEN_PREFIX "ptk_"
#define TOKEN_PREFIX_LEN 4
#define TOKEN_RAW 32

static const char *const role_names[] = {
    [PATRON_ROLE_NONE] = "none",
    [PATRON_ROLE_CASHIER] = "cashier",
    [PATRON_ROLE_MANAGER] = "manager",
    [PATRON_ROLE_ADMIN] = "admin",
};

int patron_role_parse(const char *name, enum patron_role *out)
{
    for (int r = PATRON_ROLE_CASHIER; r <= PATRON_ROLE_ADMIN; r++) {
        if (name && strcmp(name, role_names[r]) == 0) {
            *out = (enum patron_role)r;
            return 0;
        }
    }
    return PATRON_EINVAL;
}

const char *patron_role_name(enum patron_role role)
{
    return role >= PATRON_ROLE_NONE && role <= PATRON_ROLE_ADMIN ? role_names[role] : "none";
}

static int valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > PATRON_TERMINAL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static int is_b64url(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int sha256(const void *data, size_t len, uint8_t digest[32])
{
    unsigned n = 0;
    return EVP_Digest(data, len, digest, &n, patron__sha256(), NULL) == 1 && n == 32
               ? 0
               : PATRON_ECRYPTO;
}

/* Makes a fresh token and its hash. The token is base64url without padding. */
static int token_make(char token[PATRON_TOKEN_LEN + 1], uint8_t hash[32])
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[TOKEN_RAW + 1] = {0};
    int err = patron__random(raw, TOKEN_RAW);
    if (err != 0)
        return err;
    memcpy(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
    char *p = token + TOKEN_PREFIX_LEN;
    for (size_t i = 0; i < TOKEN_RAW; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
                     (i + 2 < TOKEN_RAW ? raw[i + 2] : 0);
        *p++ = alphabet[(v >> 18) & 63];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        if (i + 2 < TOKEN_RAW)
            *p++ = alphabet[v & 63];
    }
    *p = '\0';
    OPENSSL_cleanse(raw, sizeof raw);
    return sha256(token, PATRON_TOKEN_LEN, hash);
}

static void read_terminal(sqlite3_stmt *st, void *row)
{
    struct patron_terminal *t = row;
    memset(t, 0, sizeof *t);
    t->terminal_id = sqlite3_column_int64(st, 0);
    patron__copy(t->name, sizeof t->name, (const char *)sqlite3_column_text(st, 1));
    if (patron_role_parse((const char *)sqlite3_column_text(st, 2), &t->role) != 0)
        t->role = PATRON_ROLE_NONE;
    t->created_at = sqlite3_column_int64(st, 3);
    t->revoked_at = sqlite3_column_int64(st, 4);
    patron__copy(t->scanner, sizeof t->scanner, (const char *)sqlite3_column_text(st, 5));
}

#define TERMINAL_COLUMNS "id, name, role, created_at, coalesce(revoked_at, 0), scanner"

static int terminal_by_name(patron_store *s, const char *name, struct patron_terminal *out)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT " TERMINAL_COLUMNS " FROM terminals WHERE name = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_terminal(st, out);
    int err = rc == SQLITE_ROW    ? 0
              : rc == SQLITE_DONE ? patron__fail(s, PATRON_ENOTFOUND, "no till is named '%s'", name)
                                  : patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

int patron_terminal_add(patron_store *s, const char *name, enum patron_role role,
                        struct patron_terminal *out, char token[PATRON_TOKEN_LEN + 1])
{
    static const char *const sql = "INSERT INTO terminals(name, role, token_hash, created_at) "
                                   "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING";
    char tok[PATRON_TOKEN_LEN + 1];
    uint8_t hash[32];
    struct patron_terminal t;
    int err;
    if (!valid_name(name))
        return patron__fail(s, PATRON_EINVAL,
                            "a till name is 1 to 63 letters, digits, '-', '_' or '.'");
    if (role < PATRON_ROLE_CASHIER || role > PATRON_ROLE_ADMIN)
        return patron__fail(s, PATRON_EINVAL, "the role is cashier, manager or admin");
    if ((err = token_make(tok, hash)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        goto out;
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st) {
        err = PATRON_EDB;
        goto rollback;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, patron_role_name(role), -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, hash, sizeof hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        goto rollback;
    if (sqlite3_changes(s->db) == 0) {
        err = patron__fail(s, PATRON_ELIMIT, "a till named '%s' already exists", name);
        goto rollback;
    }
    if ((err = terminal_by_name(s, name, &t)) != 0)
        goto rollback;
    if ((err = patron__tx_commit(s)) != 0)
        goto out;
    *out = t;
    memcpy(token, tok, sizeof tok);
    goto out;
rollback:
    patron__tx_rollback(s);
out:
    OPENSSL_cleanse(tok, sizeof tok);
    return err;
}

int patron_terminal_rotate(patron_store *s, const char *name, struct patron_terminal *out,
                           char token[PATRON_TOKEN_LEN + 1])
{
    static const char *const sql = "UPDATE terminals SET token_hash = ?2 WHERE id = ?1";
    char tok[PATRON_TOKEN_LEN + 1];
    uint8_t hash[32];
    struct patron_terminal t = {0};
    int err;
    if ((err = token_make(tok, hash)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        goto out;
    if ((err = terminal_by_name(s, name, &t)) != 0)
        goto rollback;
    if (t.revoked_at != 0) {
        err = patron__fail(s, PATRON_EINACTIVE, "the till '%s' was revoked", name);
        goto rollback;
    }
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st) {
        err = PATRON_EDB;
        goto rollback;
    }
    sqlite3_bind_int64(st, 1, t.terminal_id);
    sqlite3_bind_blob(st, 2, hash, sizeof hash, SQLITE_STATIC);
    if ((err = patron__step_done(s, st)) != 0)
        goto rollback;
    if ((err = patron__tx_commit(s)) != 0)
        goto out;
    *out = t;
    memcpy(token, tok, sizeof tok);
    goto out;
rollback:
    patron__tx_rollback(s);
out:
    OPENSSL_cleanse(tok, sizeof tok);
    return err;
}

int patron_terminal_revoke(patron_store *s, const char *name)
{
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE terminals SET revoked_at = coalesce(revoked_at, ?2) WHERE name = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) == 0)
        err = patron__fail(s, PATRON_ENOTFOUND, "no till is named '%s'", name ? name : "");
    return err;
}

int patron_terminal_authenticate(patron_store *s, const char *token, struct patron_terminal *out)
{
    uint8_t hash[32];
    struct patron_terminal t;
    size_t n = token ? strnlen(token, PATRON_TOKEN_LEN + 1) : 0;
    if (n != PATRON_TOKEN_LEN || memcmp(token, TOKEN_PREFIX, TOKEN_PREFIX_LEN) != 0)
        return PATRON_EAUTH;
    for (size_t i = TOKEN_PREFIX_LEN; i < n; i++)
        if (!is_b64url(token[i]))
            return PATRON_EAUTH;
    int err = sha256(token, n, hash);
    if (err != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, "SELECT " TERMINAL_COLUMNS
                                       ", token_hash FROM terminals WHERE token_hash = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_terminal(st, &t);
        const void *stored = sqlite3_column_blob(st, 6);
        /* The index found the row; comparing again in constant time costs nothing and keeps
         * the rule that secrets are never compared with memcmp. */
        err = sqlite3_column_bytes(st, 6) == 32 && CRYPTO_memcmp(stored, hash, 32) == 0 &&
                      t.revoked_at == 0
                  ? 0
                  : PATRON_EAUTH;
    } else {
        err = rc == SQLITE_DONE ? PATRON_EAUTH : patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    if (err == 0)
        *out = t;
    return err;
}

int patron_terminal_list(patron_store *s, struct patron_terminal *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT " TERMINAL_COLUMNS " FROM terminals ORDER BY id");
    if (!st)
        return PATRON_EDB;
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_terminal);
}

static int is_hex4(const char *p)
{
    for (int i = 0; i < 4; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f') ||
              (p[i] >= 'A' && p[i] <= 'F')))
            return 0;
    return 1;
}

int patron_scanner_spec_valid(const char *spec)
{
    size_t n = spec ? strlen(spec) : 0;
    if (n == 0 || n > PATRON_DEVICE_SPEC_MAX)
        return 0;
    if (strcmp(spec, "auto") == 0 || strcmp(spec, "usb") == 0 || strcmp(spec, "none") == 0)
        return 1;
    if (strncmp(spec, "usb:", 4) == 0)
        return n == 13 && is_hex4(spec + 4) && spec[8] == ':' && is_hex4(spec + 9);
    if (strncmp(spec, "file:", 5) == 0)
        return spec[5] == '/' && n > 6 && !strchr(spec, '\n');
    return 0;
}

int patron_terminal_set_scanner(patron_store *s, const char *name, const char *spec)
{
    if (!patron_scanner_spec_valid(spec))
        return patron__fail(s, PATRON_EINVAL,
                            "a scanner is auto, usb, usb:VID:PID (hex), file:/dev/... or none");
    sqlite3_stmt *st = patron__stmt(s, "UPDATE terminals SET scanner = ?2 WHERE name = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) == 0)
        err = patron__fail(s, PATRON_ENOTFOUND, "no till is named '%s'", name ? name : "");
    return err;
}
