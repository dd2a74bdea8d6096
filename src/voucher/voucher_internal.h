/* SPDX-License-Identifier: MIT */
/* What the voucher modules share with the rest of libpatron: issuing a voucher inside another
 * write's transaction (rewards, offers), creating the store's first key, and the keyring's
 * signing and verifying keys, cached on the store handle. Never installed. */
#ifndef PATRON_VOUCHER_INTERNAL_H
#define PATRON_VOUCHER_INTERNAL_H

#include <openssl/evp.h>

#include "core/store_internal.h"
#include "patron/keyring.h"
#include "patron/voucher.h"

/* Signed before the chain id and the body, so a PV1 signature means nothing anywhere else. */
#define PATRON__VOUCHER_CONTEXT "patron-voucher-v1"
#define PATRON__CHAIN_BYTES 16
#define PATRON__SIG_BYTES 64

/* What to issue. member_id 0 makes a bearer voucher. */
struct patron__voucher_spec {
    int64_t member_id; /* 0..2^48-1 */
    int64_t offer_id;  /* the reward or offer, 0..2^32-1 */
    enum patron_value_kind kind;
    int64_t value;        /* 0..2^32-1, per the kind */
    const char *currency; /* "EUR"; NULL or "" for none */
    int64_t valid_hours;  /* 1..65535 (a reward's valid_days must stay <= 2730) */
    int store_scope;      /* 0 = every store */
    unsigned flags;       /* PATRON_VOUCHER_ONLINE_ONLY | ... */
};

struct patron__voucher_issued {
    uint64_t voucher_id;
    int key_id;
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    int64_t expires_at;
};

/* Issues and records a voucher, signed by the store's active key (created when there is none).
 * Runs in a savepoint of the caller's transaction (or its own when there is none). Returns 0 and
 * fills *out; PATRON_EINVAL (the detail names the field); PATRON_EKEYPERM; PATRON_ECRYPTO. */
int patron__voucher_issue(patron_store *s, const struct patron__voucher_spec *spec,
                          struct patron__voucher_issued *out);

/* Creates the store's first own key when it has no signing key; sets *key_id to the key that
 * signs. Call it from store init (after chain_id and store_id are set). Returns 0 or an error. */
int patron__keyring_ensure(patron_store *s, int *key_id);

/* A verifying key, looked up by the key id a voucher carries. pkey is borrowed from the cache. */
struct patron__key {
    int key_id;
    int foreign; /* another store's or a partner's */
    unsigned char chain[PATRON__CHAIN_BYTES];
    EVP_PKEY *pkey;
};

/* The key that signs: loads (and checks the mode of) its file once per handle. pkey is borrowed.
 * Returns 0, PATRON_EKEYPERM, PATRON_ECRYPTO, -errno. */
int patron__keyring_signer(patron_store *s, struct patron__key *out);

/* The key for a voucher's key id. Returns 0, PATRON_EUNKNOWNKEY, PATRON_ERETIRED. */
int patron__keyring_verifier(patron_store *s, unsigned key_id, struct patron__key *out);

/* The store's chain id as bytes. Returns 0 or PATRON_EINVAL (store not initialised). */
int patron__keyring_chain(patron_store *s, unsigned char chain[PATRON__CHAIN_BYTES]);

/* Signs bytes 0..35 of `bytes` into bytes 36..99. Returns 0 or PATRON_ECRYPTO. */
int patron__voucher_sign(const struct patron__key *key, unsigned char bytes[PATRON_VOUCHER_BYTES]);

/* Verifies bytes 36..99 over bytes 0..35. Returns 0 or PATRON_EBADSIG. */
int patron__voucher_verify(const struct patron__key *key,
                           const unsigned char bytes[PATRON_VOUCHER_BYTES])
    __attribute__((warn_unused_result));

/* Decodes a token into bytes and body, then verifies it against the keyring: the work every
 * scan does before the register is asked. Returns 0 or the refusal (the detail says why). */
int patron__voucher_open(patron_store *s, const char *token,
                         unsigned char bytes[PATRON_VOUCHER_BYTES], struct patron_voucher *v,
                         struct patron__key *key);

/* The register (voucher_register.c): the local record of issued and redeemed vouchers, looked
 * up by voucher.c's check and redeem. */

/* Turns the request's token or code into a verified voucher. A code is looked up in the vouchers
 * issued here, after the till's lock-out; *wrong_code is set when a typed code was wrong. */
int patron__register_resolve(patron_store *s, const struct patron_voucher_request *req,
                             unsigned char bytes[PATRON_VOUCHER_BYTES], struct patron_voucher *v,
                             struct patron__key *key, int *wrong_code);

/* Records a wrong typed code for the till (in its own savepoint) and returns `err`. */
int patron__register_wrong_code(patron_store *s, const struct patron_voucher_request *req, int err);

/* PATRON_EREDEEMED, with the first redemption in *res and the detail, or 0. */
int patron__register_redeemed(patron_store *s, const struct patron_voucher *v,
                              struct patron_voucher_result *res);

/* PATRON_EVOIDED when this store voided the voucher, else 0. */
int patron__register_voided(patron_store *s, const struct patron_voucher *v);

/* The member binding: 0, PATRON_EMEMBER or PATRON_EBLOCKED. */
int patron__register_member(patron_store *s, const struct patron_voucher_request *req,
                            const struct patron_voucher *v);

/* The offline caps for another store's voucher: 0 or PATRON_ELIMIT. */
int patron__register_offline_caps(patron_store *s, const struct patron_voucher *v);

/* Claims the voucher in the register (and logs an offline acceptance); sets res->redemption_id. */
int patron__register_claim(patron_store *s, const struct patron_voucher_request *req,
                           const unsigned char bytes[PATRON_VOUCHER_BYTES],
                           const struct patron_voucher *v, int foreign,
                           struct patron_voucher_result *res);

/* Rebuilds the result of an earlier redemption for an idempotent replay. */
int patron__register_replay(patron_store *s, int64_t redemption_id,
                            struct patron_voucher_result *res);

/* Fills the voucher fields of a result (not the redemption's). */
void patron__register_fill(const struct patron_voucher *v, int foreign,
                           struct patron_voucher_result *res);

/* ISO 8601 UTC ("2026-01-15T10:00:00Z"). */
void patron__format_time(int64_t t, char *buf, size_t len);

#endif
