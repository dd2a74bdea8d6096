/* SPDX-License-Identifier: MIT */
/* Signed vouchers in the "PV1" format: the 100-byte record (36-byte body + Ed25519 signature),
 * its 243-digit QR token and its typable look-up code, and the store's voucher register (check,
 * redeem exactly once, show, list, void). Any till of the chain can check a token offline.
 *
 * The codec functions (pack, unpack, token and code) are pure and thread-safe. The others take a
 * store handle and follow its rule (one thread at a time). */
#ifndef PATRON_VOUCHER_H
#define PATRON_VOUCHER_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/reward.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_VOUCHER_BODY 36       /* signed bytes 0..35 */
#define PATRON_VOUCHER_BYTES 100     /* body + 64-byte Ed25519 signature */
#define PATRON_VOUCHER_VERSION 1     /* high 4 bits of byte 0 */
#define PATRON_VOUCHER_ALG_ED25519 1 /* low 4 bits of byte 0 */

/* The token: the 100 bytes as 243 decimal digits for a numeric-mode QR code. Bytes are taken in
 * 14 groups of 7 (big-endian, 56 bits), each written as exactly 17 digits with leading zeros
 * (10^17 > 2^56), then the last 2 bytes (16 bits) as exactly 5 digits (10^5 > 2^16):
 * 14 * 17 + 5 = 243. Reading is strict: exactly 243 ASCII digits, and every group below 2^56
 * (the last below 2^16), so each record has exactly one token. */
#define PATRON_VOUCHER_TOKEN_DIGITS 243

/* The code: the 64-bit voucher id in Crockford Base32 (13 symbols, the first 0-F), then one
 * check symbol (the id mod 37, Crockford's alphabet extended by "*~$=U"), written
 * XXXX-XXXX-XXXX-XX. Reading tolerates case, spaces and dashes, and reads O as 0 and I, L as 1.
 * The check catches every single wrong symbol and every swap of two neighbours, because 37 is
 * prime and divides neither 32^k, nor 31 * d for 0 < |d| < 32. */
#define PATRON_VOUCHER_CODE_CHARS 17

/* Flags, byte 21: bits 0-1 value kind, then these; bits 5-7 must be zero. */
#define PATRON_VOUCHER_ONLINE_ONLY 0x04u      /* never accepted by a till that is offline */
#define PATRON_VOUCHER_NON_TRANSFERABLE 0x08u /* the member's card must be shown */
#define PATRON_VOUCHER_STACKABLE 0x10u        /* may be combined with other vouchers */
#define PATRON_VOUCHER_FLAG_MASK 0x1cu

/* The decoded fields of a voucher (its body). */
struct patron_voucher {
    unsigned version;    /* PATRON_VOUCHER_VERSION */
    unsigned alg;        /* PATRON_VOUCHER_ALG_ED25519 */
    unsigned key_id;     /* 1..65535, the signing key in the keyring */
    uint64_t voucher_id; /* random */
    int64_t member_id;   /* 0 for a bearer voucher; below 2^48 */
    uint32_t offer_id;   /* the reward or offer it came from */
    enum patron_value_kind kind;
    unsigned flags;       /* PATRON_VOUCHER_ONLINE_ONLY | ... (without the kind bits) */
    uint32_t value;       /* minor units, percent, SKU number or points, per the kind */
    unsigned currency;    /* ISO 4217 number (978 = EUR), 0 when none */
    uint32_t issued_at;   /* Unix seconds */
    unsigned valid_hours; /* 1..65535 */
    unsigned store_scope; /* 0 = every store of the chain */
};

/* Writes the 36-byte body. Returns 0 or PATRON_EINVAL when a field does not fit its bytes. */
PATRON_EXPORT int patron_voucher_pack(const struct patron_voucher *v,
                                      unsigned char body[PATRON_VOUCHER_BODY])
    __attribute__((warn_unused_result));

/* Reads the body of a 100-byte record (the signature is not checked here). Returns 0;
 * PATRON_EVERSION for another version or algorithm; PATRON_EFORMAT for reserved flag bits, key id
 * 0, validity 0 or a currency number above 999. */
PATRON_EXPORT int patron_voucher_unpack(const unsigned char bytes[PATRON_VOUCHER_BYTES],
                                        struct patron_voucher *out)
    __attribute__((warn_unused_result));

/* The 243-digit token of a record, NUL-terminated. */
PATRON_EXPORT void patron_voucher_token_encode(const unsigned char bytes[PATRON_VOUCHER_BYTES],
                                               char out[PATRON_VOUCHER_TOKEN_DIGITS + 1]);

/* Reads a token strictly. Returns 0 or PATRON_EFORMAT (too short, too long, a non-digit, a group
 * out of range). `why`, when not NULL, receives a sentence saying which (up to why_len bytes). */
PATRON_EXPORT int patron_voucher_token_decode(const char *token,
                                              unsigned char out[PATRON_VOUCHER_BYTES], char *why,
                                              size_t why_len) __attribute__((warn_unused_result));

/* The typable code of a voucher id, "XXXX-XXXX-XXXX-XX", NUL-terminated. */
PATRON_EXPORT void patron_voucher_code_encode(uint64_t voucher_id,
                                              char out[PATRON_VOUCHER_CODE_CHARS + 1]);

/* Reads a typed code tolerantly. Returns 0 and sets *voucher_id; PATRON_EFORMAT (wrong length or
 * a symbol outside the alphabet); PATRON_ECHECKDIGIT (the check symbol does not match). */
PATRON_EXPORT int patron_voucher_code_decode(const char *code, uint64_t *voucher_id)
    __attribute__((warn_unused_result));

/* ISO 4217: "EUR" <-> 978, for the currencies Patron knows. Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_currency_number(const char *code, unsigned *number)
    __attribute__((warn_unused_result));
/* The letter code of a currency number, or NULL when unknown. */
PATRON_EXPORT const char *patron_currency_code(unsigned number);

/* A request to check or redeem. Inputs are borrowed for the call. */
struct patron_voucher_request {
    const char *token_or_code;   /* the scanned token (243 digits) or the typed code */
    const char *ref;             /* redeem: the sale's reference, 1..63 bytes, required */
    const char *idempotency_key; /* redeem: the till's key; NULL for none */
    const char *till;            /* which till asks (for the code lock-out and logs); NULL = "" */
    const char *member_card;     /* the member's card, for vouchers that require it */
    int offline;                 /* the till cannot reach head office */
};

struct patron_voucher_result {
    struct patron_voucher voucher;
    int64_t expires_at; /* first second at which it is no longer valid */
    char currency[4];   /* letter code, "" when none */
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    int foreign; /* signed by another store's or a partner's key */
    int64_t redemption_id;
    int replayed; /* redeem: the idempotency key answered an earlier redemption */
    /* Filled only when redeem or check returns PATRON_EREDEEMED: the first redemption. */
    int64_t first_redeemed_at;
    int first_store_id;
    char first_till[64];
    char first_ref[64];
};

/* Verifies a voucher without spending it: signature against the keyring (and the chain id),
 * version, voided, expiry against the store's clock, store scope, member binding. Returns 0
 * when it could be redeemed now; PATRON_EFORMAT, PATRON_EVERSION, PATRON_EUNKNOWNKEY,
 * PATRON_ERETIRED, PATRON_EBADSIG (forged or altered); PATRON_EEXPIRED, PATRON_EVOIDED,
 * PATRON_ESCOPE, PATRON_EMEMBER, PATRON_EONLINE, PATRON_EREDEEMED; for a code also
 * PATRON_ECHECKDIGIT, PATRON_ENOVOUCHER and PATRON_ELOCKED (too many wrong codes from the till).
 * The store's detail says more. *out is written on success, and on PATRON_EREDEEMED. */
PATRON_EXPORT int patron_voucher_check(patron_store *s, const struct patron_voucher_request *req,
                                       struct patron_voucher_result *out)
    __attribute__((warn_unused_result));

/* Checks and spends a voucher in one transaction: the redemption register (unique on key id and
 * voucher id) lets exactly one redemption win, across handles and processes. Returns what check
 * returns, and PATRON_EREDEEMED with the first redemption's time, store, till and sale reference
 * in *out and in the detail; PATRON_ELIMIT when an offline acceptance would pass the per-voucher
 * or per-day cap; PATRON_EIDEMPOTENCY when the key was used for another request. */
PATRON_EXPORT int patron_voucher_redeem(patron_store *s, const struct patron_voucher_request *req,
                                        struct patron_voucher_result *out)
    __attribute__((warn_unused_result));

/* The key id and voucher id a token or typed code names (signature checked, nothing spent and
 * nothing logged), for claiming the voucher at head office before it is redeemed. Returns 0 or
 * what check returns for an unreadable or unknown voucher. */
PATRON_EXPORT int patron_voucher_identify(patron_store *s, const char *token_or_code,
                                          int64_t *key_id, int64_t *voucher_id)
    __attribute__((warn_unused_result));

/* A voucher this store issued, as the register knows it. */
struct patron_voucher_info {
    struct patron_voucher voucher;
    int64_t expires_at;
    char currency[4];
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    char status[12];     /* "open", "redeemed", "voided", "expired" */
    int64_t redeemed_at; /* 0 unless redeemed */
    char redeemed_ref[64];
    int64_t voided_at; /* 0 unless voided */
    char void_reason[128];
};

/* Shows a voucher issued here, by token or code (no lock-out: a manager's tool). Returns 0,
 * PATRON_ENOVOUCHER, or a decoding error. */
PATRON_EXPORT int patron_voucher_show(patron_store *s, const char *token_or_code,
                                      struct patron_voucher_info *out)
    __attribute__((warn_unused_result));

/* Copies up to `cap` vouchers issued here, newest first, into out (out may be NULL when cap is
 * 0); member_id 0 lists all. *count receives how many there are. */
PATRON_EXPORT int patron_voucher_list(patron_store *s, int64_t member_id,
                                      struct patron_voucher_info *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

/* Voids a voucher issued here so no till accepts it. Returns 0; PATRON_ENOVOUCHER;
 * PATRON_EREDEEMED when it was already spent; PATRON_EVOIDED when already void. */
PATRON_EXPORT int patron_voucher_void(patron_store *s, const char *token_or_code, const char *who,
                                      const char *reason) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
