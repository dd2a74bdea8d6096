/* SPDX-License-Identifier: MIT */
/* Issuing, checking and redeeming PV1 vouchers. A valid signature proves a voucher genuine; the
 * redemption register (unique on key id and voucher id, claimed inside BEGIN IMMEDIATE) makes it
 * single-use. Vouchers of other stores are accepted offline only within caps, and logged. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/idempotency.h"
#include "core/outbox_internal.h"
#include "voucher/voucher_internal.h"

#define CONTEXT_LEN (sizeof PATRON__VOUCHER_CONTEXT - 1)
#define MESSAGE_LEN (CONTEXT_LEN + PATRON__CHAIN_BYTES + PATRON_VOUCHER_BODY)

_Static_assert(PATRON_VOUCHER_BODY + PATRON__SIG_BYTES == PATRON_VOUCHER_BYTES, "PV1 is 100 bytes");

/* The signed message: the context string, the chain id, then the body. */
static void message(const struct patron__key *key, const unsigned char *body,
                    unsigned char msg[MESSAGE_LEN])
{
    memcpy(msg, PATRON__VOUCHER_CONTEXT, CONTEXT_LEN);
    memcpy(msg + CONTEXT_LEN, key->chain, PATRON__CHAIN_BYTES);
    memcpy(msg + CONTEXT_LEN + PATRON__CHAIN_BYTES, body, PATRON_VOUCHER_BODY);
}

int patron__voucher_sign(const struct patron__key *key, unsigned char bytes[PATRON_VOUCHER_BYTES])
{
    unsigned char msg[MESSAGE_LEN];
    size_t len = PATRON__SIG_BYTES;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    message(key, bytes, msg);
    int ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
             EVP_DigestSign(md, bytes + PATRON_VOUCHER_BODY, &len, msg, sizeof msg) == 1 &&
             len == PATRON__SIG_BYTES;
    EVP_MD_CTX_free(md);
    return ok ? 0 : PATRON_ECRYPTO;
}

int patron__voucher_verify(const struct patron__key *key,
                           const unsigned char bytes[PATRON_VOUCHER_BYTES])
{
    unsigned char msg[MESSAGE_LEN];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    message(key, bytes, msg);
    int ok =
        md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key->pkey) == 1 &&
        EVP_DigestVerify(md, bytes + PATRON_VOUCHER_BODY, PATRON__SIG_BYTES, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : PATRON_EBADSIG;
}

void patron__format_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int spec_to_voucher(patron_store *s, const struct patron__voucher_spec *spec,
                           struct patron_voucher *v)
{
    unsigned currency = 0;
    if (spec->member_id < 0 || spec->member_id >= (INT64_C(1) << 48))
        return patron__fail(s, PATRON_EINVAL, "member id %lld does not fit a voucher",
                            (long long)spec->member_id);
    if (spec->offer_id < 0 || spec->offer_id > UINT32_MAX || spec->value < 0 ||
        spec->value > UINT32_MAX)
        return patron__fail(s, PATRON_EINVAL, "the offer id and the value are 0-4294967295");
    if (spec->valid_hours < 1 || spec->valid_hours > 65535)
        return patron__fail(s, PATRON_EINVAL, "a voucher is valid for 1-65535 hours (2730 days)");
    if (spec->store_scope < 0 || spec->store_scope > 65535 ||
        (spec->flags & ~PATRON_VOUCHER_FLAG_MASK) != 0 || (unsigned)spec->kind > 3)
        return patron__fail(s, PATRON_EINVAL, "bad store scope, flags or value kind");
    if (spec->currency && spec->currency[0] && patron_currency_number(spec->currency, &currency))
        return patron__fail(s, PATRON_EINVAL, "unknown currency '%.8s'", spec->currency);
    *v = (struct patron_voucher){.version = PATRON_VOUCHER_VERSION,
                                 .alg = PATRON_VOUCHER_ALG_ED25519,
                                 .member_id = spec->member_id,
                                 .offer_id = (uint32_t)spec->offer_id,
                                 .kind = spec->kind,
                                 .flags = spec->flags,
                                 .value = (uint32_t)spec->value,
                                 .currency = currency,
                                 .issued_at = (uint32_t)patron_store_now(s),
                                 .valid_hours = (unsigned)spec->valid_hours,
                                 .store_scope = (unsigned)spec->store_scope};
    return 0;
}

static int64_t expires_at(const struct patron_voucher *v)
{
    return (int64_t)v->issued_at + (int64_t)v->valid_hours * 3600;
}

/* Signs a fresh random id and records it; 1 when the id was taken (retry), else 0 or an error. */
static int issue_once(patron_store *s, const struct patron__key *key, struct patron_voucher *v,
                      struct patron__voucher_issued *out)
{
    static const char *const insert =
        "INSERT INTO vouchers(key_id, voucher_id, member_id, offer_id, kind, flags, value,"
        " currency, issued_at, expires_at, store_scope, token)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    int err;
    if ((err = patron__random(&v->voucher_id, sizeof v->voucher_id)) != 0 ||
        (err = patron_voucher_pack(v, bytes)) != 0 || (err = patron__voucher_sign(key, bytes)))
        return patron__fail(s, err, "signing the voucher failed");
    patron_voucher_token_encode(bytes, out->token);
    sqlite3_stmt *st = patron__stmt(s, insert);
    if (!st)
        return PATRON_EDB;
    int64_t values[] = {v->key_id,     (int64_t)v->voucher_id,
                        v->member_id,  v->offer_id,
                        v->kind,       v->flags,
                        v->value,      v->currency,
                        v->issued_at,  expires_at(v),
                        v->store_scope};
    for (int i = 0; i < (int)(sizeof values / sizeof values[0]); i++)
        sqlite3_bind_int64(st, i + 1, values[i]);
    sqlite3_bind_text(st, 12, out->token, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return 1;
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return patron__outbox_add(s, PATRON__OUTBOX_VOUCHER_ISSUED, (int64_t)v->voucher_id);
}

int patron__voucher_issue(patron_store *s, const struct patron__voucher_spec *spec,
                          struct patron__voucher_issued *out)
{
    struct patron__voucher_issued res = {0};
    struct patron_voucher v;
    struct patron__key key;
    int err;
    if ((err = spec_to_voucher(s, spec, &v)) != 0 || (err = patron__keyring_signer(s, &key)) != 0)
        return err;
    v.key_id = (unsigned)key.key_id;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    for (int attempt = 0; (err = issue_once(s, &key, &v, &res)) == 1 && attempt < 3; attempt++)
        ;
    if (err != 0) {
        patron__tx_rollback(s);
        return err == 1 ? patron__fail(s, PATRON_EDB, "no free voucher id") : err;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    res.voucher_id = v.voucher_id;
    res.key_id = key.key_id;
    res.expires_at = expires_at(&v);
    patron_voucher_code_encode(v.voucher_id, res.code);
    *out = res;
    return 0;
}

int patron__voucher_open(patron_store *s, const char *token,
                         unsigned char bytes[PATRON_VOUCHER_BYTES], struct patron_voucher *v,
                         struct patron__key *key)
{
    char why[128];
    int err = patron_voucher_token_decode(token, bytes, why, sizeof why);
    if (err != 0)
        return patron__fail(s, err, "%s", why);
    if ((err = patron_voucher_unpack(bytes, v)) == PATRON_EVERSION)
        return patron__fail(s, err,
                            "format %u with algorithm %u is not supported (this till reads PV1, "
                            "format 1 with Ed25519)",
                            bytes[0] >> 4, bytes[0] & 15u);
    if (err != 0)
        return patron__fail(s, err, "the voucher has reserved flags or fields set");
    if ((err = patron__keyring_verifier(s, v->key_id, key)) != 0)
        return err;
    if (patron__voucher_verify(key, bytes) != 0)
        return patron__fail(s, PATRON_EBADSIG,
                            "the signature does not match key %u: forged or altered", v->key_id);
    return 0;
}

/* The rules a genuine voucher must still pass at this till, now. */
static int apply_rules(patron_store *s, const struct patron_voucher_request *req,
                       const struct patron_voucher *v, const struct patron__key *key,
                       struct patron_voucher_result *res)
{
    char when[32];
    int err;
    if ((err = patron__register_redeemed(s, v, res)) != 0 || (err = patron__register_voided(s, v)))
        return err;
    if (patron_store_now(s) >= expires_at(v)) {
        patron__format_time(expires_at(v), when, sizeof when);
        return patron__fail(s, PATRON_EEXPIRED, "the voucher expired at %s", when);
    }
    if (v->store_scope != 0 && (int)v->store_scope != s->store_id)
        return patron__fail(s, PATRON_ESCOPE, "the voucher is valid only at store %u; this is %d",
                            v->store_scope, s->store_id);
    if ((v->flags & PATRON_VOUCHER_ONLINE_ONLY) && req->offline)
        return patron__fail(s, PATRON_EONLINE, "redeem it when the till is back online");
    return key->foreign ? 0 : patron__register_member(s, req, v);
}

static int check_text(patron_store *s, const struct patron_voucher_request *req)
{
    if (!req->token_or_code || !req->token_or_code[0])
        return patron__fail(s, PATRON_EINVAL, "give the voucher's token or code");
    return req->till ? patron__text_rule(s, "the till's name", req->till, 0, PATRON_LABEL_MAX, 0)
                     : 0;
}

int patron_voucher_check(patron_store *s, const struct patron_voucher_request *req,
                         struct patron_voucher_result *out)
{
    struct patron_voucher_result res = {0};
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    struct patron__key key;
    int wrong_code = 0, err;
    s->detail[0] = '\0';
    if ((err = check_text(s, req)) != 0)
        return err;
    err = patron__register_resolve(s, req, bytes, &v, &key, &wrong_code);
    if (wrong_code)
        return patron__register_wrong_code(s, req, err);
    if (err == 0)
        err = apply_rules(s, req, &v, &key, &res);
    if (err == 0 || err == PATRON_EREDEEMED) {
        patron__register_fill(&v, key.foreign, &res);
        *out = res;
    }
    return err;
}

/* Starts the idempotency hash over the request as the till sent it. */
static int idem_start(patron_store *s, const struct patron_voucher_request *req,
                      struct patron__idem *h)
{
    int err = patron__idem_init(s, h, "voucher.redeem", req->idempotency_key);
    if (err != 0)
        return err;
    patron__idem_add_str(h, req->token_or_code);
    patron__idem_add_str(h, req->ref);
    patron__idem_add_str(h, req->till);
    patron__idem_add_str(h, req->member_card);
    patron__idem_add_int(h, req->offline != 0);
    return 0;
}

/* What a redemption's write hands back: the result, and whether a mistyped code caused the
 * failure (counted for the lock-out after the rollback). */
struct redemption {
    struct patron_voucher_result res;
    int wrong_code;
};

/* Inside the transaction: everything after the idempotency check. */
static int redeem_in_tx(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    const struct patron_voucher_request *req = request;
    struct redemption *r = result;
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    struct patron__key key;
    int err = patron__register_resolve(s, req, bytes, &v, &key, &r->wrong_code);
    if (err != 0)
        return err;
    err = apply_rules(s, req, &v, &key, &r->res);
    patron__register_fill(&v, key.foreign, &r->res);
    if (err != 0)
        return err;
    if (req->offline && key.foreign && (err = patron__register_offline_caps(s, &v)) != 0)
        return err;
    if ((err = patron__register_claim(s, req, bytes, &v, key.foreign, &r->res)) == 0)
        *result_id = r->res.redemption_id;
    return err;
}

static int replay_redemption(patron_store *s, int64_t redemption_id, void *result)
{
    return patron__register_replay(s, redemption_id, &((struct redemption *)result)->res);
}

int patron_voucher_redeem(patron_store *s, const struct patron_voucher_request *req,
                          struct patron_voucher_result *out)
{
    struct redemption r = {0};
    struct patron__idem h = {0};
    int err;
    s->detail[0] = '\0';
    if ((err = check_text(s, req)) != 0)
        return err;
    if ((err = patron__text_rule(s, "the sale's reference", req->ref, 1, PATRON_REF_MAX,
                                 PATRON_TEXT_NO_SPACE)) != 0)
        return err;
    if (req->idempotency_key && (err = idem_start(s, req, &h)) != 0)
        return err;
    err = patron__idem_run(s, &h, req, redeem_in_tx, replay_redemption, &r);
    if (err != 0 && r.wrong_code)
        err = patron__register_wrong_code(s, req, err);
    if (err == 0 || err == PATRON_EREDEEMED)
        *out = r.res;
    return err;
}

int patron_voucher_identify(patron_store *s, const char *token_or_code, int64_t *key_id,
                            int64_t *voucher_id)
{
    struct patron_voucher_request req = {.token_or_code = token_or_code};
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    struct patron__key key;
    int wrong_code = 0, err;
    s->detail[0] = '\0';
    if ((err = check_text(s, &req)) != 0 ||
        (err = patron__register_resolve(s, &req, bytes, &v, &key, &wrong_code)) != 0)
        return err;
    *key_id = v.key_id;
    *voucher_id = (int64_t)v.voucher_id;
    return 0;
}
