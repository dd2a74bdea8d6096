/* SPDX-License-Identifier: MIT */
/* The voucher register: vouchers this store issued (what a typed code is looked up in), the
 * redemptions (one per key id and voucher id, ever), offline acceptances of other stores'
 * vouchers kept for head office, and the wrong-code lock-out per till. Also show, list, void. */
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "voucher/voucher_internal.h"

#define CODE_INPUT_MAX 32 /* longer input is read as a token */
#define CARD_MAX 20

void patron__register_fill(const struct patron_voucher *v, int foreign,
                           struct patron_voucher_result *res)
{
    const char *cur = patron_currency_code(v->currency);
    res->voucher = *v;
    res->expires_at = (int64_t)v->issued_at + (int64_t)v->valid_hours * 3600;
    snprintf(res->currency, sizeof res->currency, "%s", cur ? cur : "");
    patron_voucher_code_encode(v->voucher_id, res->code);
    res->foreign = foreign;
}

static const char *till_of(const struct patron_voucher_request *req)
{
    return req->till ? req->till : "";
}

/* Refuses typed codes from a till that typed too many wrong ones within the window. */
static int lockout(patron_store *s, const char *till)
{
    static const char *const q = "SELECT at FROM code_attempts WHERE till = ?1 AND at > ?2"
                                 " ORDER BY at DESC LIMIT 1 OFFSET ?3";
    int64_t max = patron__setting_int(s, "code_lockout_attempts", 5);
    int64_t window = patron__setting_int(s, "code_lockout_seconds", 900);
    char until[32];
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, till, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, patron_store_now(s) - window);
    sqlite3_bind_int64(st, 3, max > 0 ? max - 1 : 0);
    int rc = sqlite3_step(st);
    int64_t at = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    patron__format_time(at + window, until, sizeof until);
    return patron__fail(s, PATRON_ELOCKED,
                        "till '%s' typed %lld wrong codes within %lld minutes; typed codes are "
                        "refused until %s (scanning the QR code still works)",
                        till, (long long)max, (long long)(window / 60), until);
}

int patron__register_wrong_code(patron_store *s, const struct patron_voucher_request *req, int err)
{
    static const char *const insert =
        "INSERT INTO code_attempts(till, at, typed) VALUES (?1, ?2, substr(?3, 1, 40))";
    if (err == PATRON_ELOCKED || patron__tx_begin(s) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, insert);
    if (!st || sqlite3_bind_text(st, 1, till_of(req), -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, patron_store_now(s)) != SQLITE_OK ||
        sqlite3_bind_text(st, 3, req->token_or_code, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE) {
        if (st)
            sqlite3_reset(st);
        patron__tx_rollback(s);
        return err;
    }
    sqlite3_reset(st);
    patron__tx_commit(s);
    return err;
}

/* A typed code: the lock-out, the check symbol, then the vouchers issued here. */
static int resolve_code(patron_store *s, const struct patron_voucher_request *req,
                        char token[PATRON_VOUCHER_TOKEN_DIGITS + 1], int *wrong_code)
{
    uint64_t id;
    int err = lockout(s, till_of(req));
    if (err != 0)
        return err;
    if ((err = patron_voucher_code_decode(req->token_or_code, &id)) != 0) {
        *wrong_code = 1;
        return patron__fail(s, PATRON_EFORMAT,
                            err == PATRON_ECHECKDIGIT
                                ? "the code's check symbol does not match (mistyped?)"
                                : "a voucher code is 14 symbols, XXXX-XXXX-XXXX-XX");
    }
    sqlite3_stmt *st = patron__stmt(s, "SELECT token FROM vouchers WHERE voucher_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, (int64_t)id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = patron__copy(token, PATRON_VOUCHER_TOKEN_DIGITS + 1,
                           (const char *)sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE)
        err = patron__fail(s, PATRON_ENOVOUCHER, "no voucher issued here has that code");
    else
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    *wrong_code = rc == SQLITE_DONE;
    return err;
}

int patron__register_resolve(patron_store *s, const struct patron_voucher_request *req,
                             unsigned char bytes[PATRON_VOUCHER_BYTES], struct patron_voucher *v,
                             struct patron__key *key, int *wrong_code)
{
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    int err;
    *wrong_code = 0;
    if (strnlen(req->token_or_code, CODE_INPUT_MAX + 1) > CODE_INPUT_MAX)
        return patron__voucher_open(s, req->token_or_code, bytes, v, key);
    if ((err = resolve_code(s, req, token, wrong_code)) != 0)
        return err;
    return patron__voucher_open(s, token, bytes, v, key);
}

int patron__register_redeemed(patron_store *s, const struct patron_voucher *v,
                              struct patron_voucher_result *res)
{
    /* here first, else at another store of the chain (pulled from head office) */
    static const char *const q =
        "SELECT redeemed_at, store_id, till, ref FROM voucher_redemptions"
        " WHERE key_id = ?1 AND voucher_id = ?2 UNION ALL"
        " SELECT redeemed_at, redeemed_store, '', '' FROM chain_vouchers"
        " WHERE key_id = ?1 AND voucher_id = ?2 AND redeemed_at IS NOT NULL LIMIT 1";
    char when[32];
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, (int)v->key_id);
    sqlite3_bind_int64(st, 2, (int64_t)v->voucher_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        res->first_redeemed_at = sqlite3_column_int64(st, 0);
        res->first_store_id = sqlite3_column_int(st, 1);
        snprintf(res->first_till, sizeof res->first_till, "%s", sqlite3_column_text(st, 2));
        snprintf(res->first_ref, sizeof res->first_ref, "%s", sqlite3_column_text(st, 3));
        patron__format_time(res->first_redeemed_at, when, sizeof when);
        if (!res->first_ref[0])
            err = patron__fail(s, PATRON_EREDEEMED, "already redeemed at store %d at %s",
                               res->first_store_id, when);
        else
            err = patron__fail(s, PATRON_EREDEEMED,
                               "first redeemed at %s at store %d, till '%s', sale '%s'", when,
                               res->first_store_id, res->first_till, res->first_ref);
    } else if (rc != SQLITE_DONE) {
        err = patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

int patron__register_voided(patron_store *s, const struct patron_voucher *v)
{
    static const char *const q =
        "SELECT voided_at, coalesce(void_reason, '') FROM vouchers"
        " WHERE key_id = ?1 AND voucher_id = ?2 AND voided_at IS NOT NULL UNION ALL"
        " SELECT voided_at, 'at the store that issued it' FROM chain_vouchers"
        " WHERE key_id = ?1 AND voucher_id = ?2 AND voided_at IS NOT NULL LIMIT 1";
    char when[32];
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, (int)v->key_id);
    sqlite3_bind_int64(st, 2, (int64_t)v->voucher_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        patron__format_time(sqlite3_column_int64(st, 0), when, sizeof when);
        err = patron__fail(s, PATRON_EVOIDED, "voided at %s (%.100s)", when,
                           sqlite3_column_text(st, 1));
    } else if (rc != SQLITE_DONE) {
        err = patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

/* Card numbers as typed: spaces and dashes dropped. */
static int normalise_card(const char *in, char out[CARD_MAX + 1])
{
    size_t n = 0;
    for (; in && *in; in++) {
        if (*in == ' ' || *in == '-')
            continue;
        if (n == CARD_MAX)
            return -1;
        out[n++] = *in;
    }
    out[n] = '\0';
    return n ? 0 : -1;
}

int patron__register_member(patron_store *s, const struct patron_voucher_request *req,
                            const struct patron_voucher *v)
{
    char card[CARD_MAX + 1];
    if (v->member_id == 0 || (!(v->flags & PATRON_VOUCHER_NON_TRANSFERABLE) &&
                              patron__setting_int(s, "voucher_require_card", 0) == 0))
        return 0;
    if (normalise_card(req->member_card, card) != 0)
        return patron__fail(s, PATRON_EMEMBER, "this voucher belongs to a member: scan their card");
    sqlite3_stmt *st = patron__stmt(s, "SELECT member_id, status FROM cards WHERE number = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, card, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == v->member_id)
        err = strcmp((const char *)sqlite3_column_text(st, 1), "active") == 0
                  ? 0
                  : patron__fail(s, PATRON_EBLOCKED, "the card shown is blocked");
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        err = patron__fail(s, PATRON_EMEMBER, "the card shown is not the voucher's member's");
    else
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

int patron__register_offline_caps(patron_store *s, const struct patron_voucher *v)
{
    static const char *const q =
        "SELECT count(*), coalesce(sum(CASE WHEN kind = 0 THEN value ELSE 0 END), 0)"
        " FROM offline_acceptances WHERE day = ?1";
    int64_t per_voucher = patron__setting_int(s, "offline_voucher_cap_minor", 5000);
    int64_t per_day = patron__setting_int(s, "offline_daily_cap_minor", 20000);
    int64_t per_day_count = patron__setting_int(s, "offline_daily_cap_count", 20);
    int64_t amount = v->kind == PATRON_VALUE_AMOUNT ? v->value : 0;
    if (amount > per_voucher)
        return patron__fail(s, PATRON_ELIMIT,
                            "offline, another store's voucher may be worth at most %lld; this one"
                            " is worth %lld (redeem it when the till is online)",
                            (long long)per_voucher, (long long)amount);
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, PATRON__DAY_NUMBER(patron_store_now(s)));
    int rc = sqlite3_step(st);
    int64_t count = sqlite3_column_int64(st, 0), sum = sqlite3_column_int64(st, 1);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if (count + 1 > per_day_count || sum + amount > per_day)
        return patron__fail(s, PATRON_ELIMIT,
                            "today's offline cap for other stores' vouchers is reached (%lld"
                            " accepted, worth %lld)",
                            (long long)count, (long long)sum);
    return 0;
}

static int log_offline(patron_store *s, const struct patron_voucher_request *req,
                       const struct patron_voucher *v, int64_t redemption_id)
{
    static const char *const insert =
        "INSERT INTO offline_acceptances(redemption_id, key_id, voucher_id, kind, value,"
        " currency, day, till, ref, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    sqlite3_stmt *st = patron__stmt(s, insert);
    if (!st)
        return PATRON_EDB;
    int64_t now = patron_store_now(s);
    int64_t values[] = {redemption_id, v->key_id,   (int64_t)v->voucher_id, v->kind,
                        v->value,      v->currency, PATRON__DAY_NUMBER(now)};
    for (int i = 0; i < (int)(sizeof values / sizeof values[0]); i++)
        sqlite3_bind_int64(st, i + 1, values[i]);
    sqlite3_bind_text(st, 8, till_of(req), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, req->ref, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, now);
    int err = patron__step_done(s, st);
    if (err != 0)
        return err;
    return patron__outbox_add(s, PATRON__OUTBOX_OFFLINE_ACCEPTANCE,
                              sqlite3_last_insert_rowid(s->db));
}

int patron__register_claim(patron_store *s, const struct patron_voucher_request *req,
                           const unsigned char bytes[PATRON_VOUCHER_BYTES],
                           const struct patron_voucher *v, int foreign,
                           struct patron_voucher_result *res)
{
    static const char *const insert =
        "INSERT INTO voucher_redemptions(key_id, voucher_id, kind, value, currency, member_id,"
        " store_id, offline, redeemed_at, till, ref, record)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
        " ON CONFLICT(key_id, voucher_id) DO NOTHING";
    sqlite3_stmt *st = patron__stmt(s, insert);
    int err;
    if (!st)
        return PATRON_EDB;
    int64_t values[] = {v->key_id,          (int64_t)v->voucher_id, v->kind,     v->value,
                        v->currency,        v->member_id,           s->store_id, req->offline != 0,
                        patron_store_now(s)};
    for (int i = 0; i < (int)(sizeof values / sizeof values[0]); i++)
        sqlite3_bind_int64(st, i + 1, values[i]);
    sqlite3_bind_text(st, 10, till_of(req), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, req->ref, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 12, bytes, PATRON_VOUCHER_BYTES, SQLITE_STATIC);
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    /* The register, not the check above it, decides: a lost race ends here. */
    if (sqlite3_changes(s->db) == 0)
        return patron__register_redeemed(s, v, res);
    res->redemption_id = sqlite3_last_insert_rowid(s->db);
    if ((err = patron__outbox_add(s, PATRON__OUTBOX_VOUCHER_REDEEMED, res->redemption_id)) != 0)
        return err;
    if (req->offline && foreign)
        return log_offline(s, req, v, res->redemption_id);
    return 0;
}

int patron__register_replay(patron_store *s, int64_t redemption_id,
                            struct patron_voucher_result *res)
{
    static const char *const q =
        "SELECT r.record, coalesce(k.kind <> 'own', 1) FROM voucher_redemptions r"
        " LEFT JOIN keys k ON k.key_id = r.key_id WHERE r.id = ?1";
    struct patron_voucher v = {0};
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, redemption_id);
    int rc = sqlite3_step(st), err;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == PATRON_VOUCHER_BYTES)
        err = patron_voucher_unpack(sqlite3_column_blob(st, 0), &v);
    else
        err = rc == SQLITE_ROW || rc == SQLITE_DONE ? PATRON_EDB : patron__db_err(s, rc);
    int foreign = err == 0 && sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (err != 0)
        return patron__fail(s, err, "the redemption this key answered is unreadable");
    patron__register_fill(&v, foreign, res);
    res->redemption_id = redemption_id;
    res->replayed = 1;
    return 0;
}

#define INFO_SELECT                                                                                \
    "SELECT v.token, coalesce(v.voided_at, 0), coalesce(v.void_reason, ''),"                       \
    " coalesce(r.redeemed_at, 0), coalesce(r.ref, '') FROM vouchers v"                             \
    " LEFT JOIN voucher_redemptions r ON r.key_id = v.key_id AND r.voucher_id = v.voucher_id"

static int read_info(patron_store *s, sqlite3_stmt *st, struct patron_voucher_info *out)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher_result r = {0};
    struct patron_voucher_info info = {0};
    const char *token = (const char *)sqlite3_column_text(st, 0);
    if (!token || patron_voucher_token_decode(token, bytes, NULL, 0) != 0 ||
        patron_voucher_unpack(bytes, &info.voucher) != 0)
        return patron__fail(s, PATRON_EDB, "a voucher in the register is unreadable");
    patron__register_fill(&info.voucher, 0, &r);
    info.expires_at = r.expires_at;
    memcpy(info.currency, r.currency, sizeof info.currency);
    memcpy(info.code, r.code, sizeof info.code);
    memcpy(info.token, token, sizeof info.token);
    info.voided_at = sqlite3_column_int64(st, 1);
    snprintf(info.void_reason, sizeof info.void_reason, "%s", sqlite3_column_text(st, 2));
    info.redeemed_at = sqlite3_column_int64(st, 3);
    snprintf(info.redeemed_ref, sizeof info.redeemed_ref, "%s", sqlite3_column_text(st, 4));
    snprintf(info.status, sizeof info.status, "%s",
             info.redeemed_at                         ? "redeemed"
             : info.voided_at                         ? "voided"
             : patron_store_now(s) >= info.expires_at ? "expired"
                                                      : "open");
    *out = info;
    return 0;
}

/* The voucher id a token or code names (a token's signature is not needed: the register's own
 * record is what is shown or voided). */
static int identify(patron_store *s, const char *text, uint64_t *voucher_id)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    char why[128];
    int err;
    if (!text)
        return patron__fail(s, PATRON_EINVAL, "give the voucher's token or code");
    if (strnlen(text, CODE_INPUT_MAX + 1) <= CODE_INPUT_MAX) {
        if (patron_voucher_code_decode(text, voucher_id) != 0)
            return patron__fail(s, PATRON_EFORMAT, "that is not a voucher code (mistyped?)");
        return 0;
    }
    if ((err = patron_voucher_token_decode(text, bytes, why, sizeof why)) != 0)
        return patron__fail(s, err, "%s", why);
    if ((err = patron_voucher_unpack(bytes, &v)) != 0)
        return patron__fail(s, err, "the token is not a PV1 voucher");
    *voucher_id = v.voucher_id;
    return 0;
}

int patron_voucher_show(patron_store *s, const char *token_or_code, struct patron_voucher_info *out)
{
    static const char *const q = INFO_SELECT " WHERE v.voucher_id = ?1";
    uint64_t id = 0;
    int err = identify(s, token_or_code, &id);
    if (err != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, (int64_t)id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        err = read_info(s, st, out);
    else if (rc == SQLITE_DONE)
        err = patron__fail(s, PATRON_ENOVOUCHER, "this store did not issue that voucher");
    else
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

int patron_voucher_list(patron_store *s, int64_t member_id, struct patron_voucher_info *out,
                        size_t cap, size_t *count)
{
    static const char *const q = INFO_SELECT " WHERE ?1 = 0 OR v.member_id = ?1"
                                             " ORDER BY v.issued_at DESC, v.voucher_id";
    size_t n = 0;
    int rc, err = 0;
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap)
            err = read_info(s, st, &out[n]);
        n++;
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    if (err == 0)
        *count = n;
    return err;
}

int patron_voucher_void(patron_store *s, const char *token_or_code, const char *who,
                        const char *reason)
{
    static const char *const update =
        "UPDATE vouchers SET voided_at = ?2, voided_by = ?3, void_reason = ?4"
        " WHERE voucher_id = ?1";
    struct patron_voucher_info info = {0};
    int err;
    if (reason &&
        (err = patron__text_rule(s, "the void reason", reason, 1, PATRON_VOID_REASON_MAX, 0)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron_voucher_show(s, token_or_code, &info)) != 0)
        goto out;
    if (info.redeemed_at) {
        err = patron__fail(s, PATRON_EREDEEMED, "it was redeemed (sale '%s')", info.redeemed_ref);
        goto out;
    }
    if (info.voided_at) {
        err = patron__fail(s, PATRON_EVOIDED, "it was voided before");
        goto out;
    }
    sqlite3_stmt *st = patron__stmt(s, update);
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, (int64_t)info.voucher.voucher_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, who ? who : "manager", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, reason ? reason : "", -1, SQLITE_STATIC);
    if ((err = patron__step_done(s, st)) != 0 ||
        (sqlite3_changes(s->db) == 1 &&
         (err = patron__outbox_add(s, PATRON__OUTBOX_VOUCHER_VOIDED,
                                   (int64_t)info.voucher.voucher_id)) != 0))
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}
