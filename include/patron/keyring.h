/* SPDX-License-Identifier: MIT */
/* The keyring that signs and verifies vouchers: the store's own Ed25519 keys (one signs, older
 * ones still verify until retired) and the public keys of other stores of the chain and of
 * partner shops. Private keys are PEM files in `keys/` beside the database, mode 0600; a key file
 * that group or others can read is refused. Key ids are written in every voucher, so the stores
 * of a chain must not share one: a store's first key takes the store id as its key id, and
 * later keys take the id head office assigns (or the lowest free one).
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_KEYRING_H
#define PATRON_KEYRING_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct patron_key_info {
    int key_id;           /* 1..65535, as written in every voucher it signs */
    char kind[8];         /* "own", "chain" (another store of this chain), "partner" */
    char status[8];       /* "active" (signs), "verify" (verifies only), "retired" */
    char partner[64];     /* who holds the private key; "" for own keys */
    char chain_id[33];    /* the chain its vouchers are bound to */
    char fingerprint[17]; /* first 8 bytes of SHA-256 of the public key, in hex */
    char file[512];       /* own keys: the private key file; others: "" */
    int64_t created_at;
    int64_t retired_at; /* 0 unless retired */
};

/* Copies up to `cap` keys, by key id, into out; *count receives how many there are. */
PATRON_EXPORT int patron_keyring_list(patron_store *s, struct patron_key_info *out, size_t cap,
                                      size_t *count) __attribute__((warn_unused_result));

/* Makes a new own key the one that signs; the previous one keeps verifying. `want_id` is the key
 * id head office assigned (1..65535), or 0 for the lowest free one. Returns 0 and sets *key_id;
 * PATRON_EINVAL when want_id is taken; -errno when the key file cannot be written;
 * PATRON_ECRYPTO. */
PATRON_EXPORT int patron_keyring_rotate(patron_store *s, int want_id, int *key_id)
    __attribute__((warn_unused_result));

/* Retires a key: vouchers it signed are refused with PATRON_ERETIRED from now on. The key that
 * signs cannot be retired (rotate first). Returns 0, PATRON_ENOTFOUND or PATRON_EINVAL. */
PATRON_EXPORT int patron_keyring_retire(patron_store *s, int key_id)
    __attribute__((warn_unused_result));

/* Trusts another store's or a partner's public key (a PEM "PUBLIC KEY" file) under `key_id`, the
 * id their vouchers carry (0: read it from a file name "key-N.pub.pem"). `chain_id` is the
 * partner's chain (32 hex digits), or NULL for another store of this chain. Returns 0 and sets
 * *out_key_id; PATRON_EINVAL (not an Ed25519 public key, a key id in use, a bad chain id);
 * -errno when the file cannot be read. */
PATRON_EXPORT int patron_keyring_trust(patron_store *s, const char *pem_file, const char *partner,
                                       const char *chain_id, int key_id, int *out_key_id)
    __attribute__((warn_unused_result));

/* Writes the PEM public key of `key_id` (NUL-terminated) into pem. Returns 0, PATRON_ENOTFOUND,
 * or PATRON_ETOOBIG when cap is too small (200 bytes always suffice). */
PATRON_EXPORT int patron_keyring_export(patron_store *s, int key_id, char *pem, size_t cap)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
