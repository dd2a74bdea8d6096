/* SPDX-License-Identifier: MIT */
/* The idempotency register (see idempotency.h): canonical request hashing and the key table,
 * whose keys are scoped by the till that sent them (patron_store_set_till). */
#include <string.h>

#include <openssl/crypto.h>

#include "core/idempotency.h"

int patron__idem_init(patron_store *s, struct patron__idem *h, const char *op, const char *key)
{
    size_t n = key ? strlen(key) : 0;
    memset(h, 0, sizeof *h);
    if (n == 0 || n > PATRON__IDEM_KEY_MAX)
        return patron__fail(s, PATRON_EINVAL, "an idempotency key of 1-%d bytes is required",
                            PATRON__IDEM_KEY_MAX);
    h->op = op;
    h->key = key;
    if (!(h->md = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->md, patron__sha256(), NULL) != 1) {
        patron__idem_cleanup(h);
        return PATRON_ENOMEM;
    }
    patron__idem_add_str(h, op);
    return 0;
}

static void add_bytes(struct patron__idem *h, const void *v, size_t n)
{
    if (h->used + n > sizeof h->buf) {
        EVP_DigestUpdate(h->md, h->buf, h->used);
        h->used = 0;
    }
    if (n > sizeof h->buf) {
        EVP_DigestUpdate(h->md, v, n);
        return;
    }
    memcpy(h->buf + h->used, v, n);
    h->used += n;
}

void patron__idem_add_str(struct patron__idem *h, const char *v)
{
    size_t len = v ? strlen(v) : 0;
    uint32_t n = v ? (uint32_t)len : UINT32_MAX;
    unsigned char prefix[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                               (unsigned char)(n >> 8), (unsigned char)n};
    add_bytes(h, prefix, sizeof prefix);
    if (v)
        add_bytes(h, v, len);
}

void patron__idem_add_int(struct patron__idem *h, int64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
    add_bytes(h, b, sizeof b);
}

void patron__idem_cleanup(struct patron__idem *h)
{
    EVP_MD_CTX_free(h->md);
    h->md = NULL;
}

int patron__idem_check(patron_store *s, struct patron__idem *h, int64_t *result_id)
{
    unsigned int len = 0;
    if ((h->used && EVP_DigestUpdate(h->md, h->buf, h->used) != 1) ||
        EVP_DigestFinal_ex(h->md, h->hash, &len) != 1 || len != sizeof h->hash)
        return PATRON_ECRYPTO;
    sqlite3_stmt *st = patron__stmt(s, "SELECT op, request_hash, result_id FROM idempotency"
                                       " WHERE till = ?1 AND key = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, s->till);
    sqlite3_bind_text(st, 2, h->key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), err = 0;
    *result_id = 0;
    if (rc == SQLITE_ROW) {
        const void *stored = sqlite3_column_blob(st, 1);
        int same = strcmp((const char *)sqlite3_column_text(st, 0), h->op) == 0 &&
                   sqlite3_column_bytes(st, 1) == (int)sizeof h->hash &&
                   CRYPTO_memcmp(stored, h->hash, sizeof h->hash) == 0;
        if (same)
            *result_id = sqlite3_column_int64(st, 2);
        else
            err = patron__fail(s, PATRON_EIDEMPOTENCY,
                               "idempotency key '%.64s' was first used for a different request",
                               h->key);
    } else if (rc != SQLITE_DONE) {
        err = patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

int patron__idem_record(patron_store *s, const struct patron__idem *h, int64_t result_id)
{
    sqlite3_stmt *st =
        patron__stmt(s, "INSERT INTO idempotency(till, key, op, request_hash, result_id,"
                        " created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 2, h->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h->op, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, h->hash, sizeof h->hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, result_id);
    sqlite3_bind_int64(st, 6, patron_store_now(s));
    sqlite3_bind_int64(st, 1, s->till);
    return patron__step_done(s, st);
}

int patron__idem_run(patron_store *s, struct patron__idem *h, const void *request,
                     patron__idem_record_fn record, patron__idem_replay_fn replay, void *result)
{
    int64_t first = 0, result_id = 0;
    int keyed = h->key != NULL, err = patron__tx_begin(s);
    if (err == 0) {
        if (!keyed || (err = patron__idem_check(s, h, &first)) == 0)
            err = first ? replay(s, first, result) : record(s, request, result, &result_id);
        if (err == 0 && keyed && !first)
            err = patron__idem_record(s, h, result_id);
        if (err != 0)
            patron__tx_rollback(s);
        else
            err = patron__tx_commit(s);
    }
    patron__idem_cleanup(h);
    return err;
}
