/* SPDX-License-Identifier: MIT */
/* What the Apple pass and the Google link share: the card's facts as the wallet shows them, the
 * settings' files read and checked (certificates against the store's clock, private keys of mode
 * 0600), the images, and base64url. Never installed. */
#ifndef PATRON_WALLET_INTERNAL_H
#define PATRON_WALLET_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store_internal.h"
#include "patron/member.h"
#include "patron/wallet.h"

/* What a wallet card shows. */
struct patron__wallet_card {
    struct patron_member member;
    char store_name[128];
    int64_t expiring_points; /* within the program's notice period ... */
    int64_t expiring_at;     /* ... the earliest on this date (0 when none) */
};

/* Loads the member of an active card and what the card shows. PATRON_EBLOCKED for a blocked or
 * erased card; the card look-up's errors otherwise. */
int patron__wallet_card_load(patron_store *s, const char *card, struct patron__wallet_card *out);

/* PATRON_ECRYPTO with a sentence naming the machine setting when `value` is NULL or "". */
int patron__wallet_need(patron_store *s, const char *value, const char *setting);

/* Reads a PEM certificate; `what` names it in the sentences ("the pass certificate"). Refuses one
 * the store's clock finds expired or not yet valid. */
int patron__wallet_cert(patron_store *s, const char *path, const char *what, X509 **out);

/* Reads a PEM private key from a file that group and others cannot read (PATRON_EKEYPERM). */
int patron__wallet_key(patron_store *s, const char *path, const char *what, EVP_PKEY **out);

/* The pictures of a pass, drawn into PNG bytes (malloc'd). */
enum patron__wallet_picture { PATRON__WALLET_ICON, PATRON__WALLET_LOGO };
int patron__wallet_png(enum patron__wallet_picture what, unsigned scale, unsigned char **out,
                       size_t *len);

/* base64url without padding (RFC 7515): a malloc'd string, or NULL when out of memory. */
char *patron__wallet_b64url(const unsigned char *data, size_t len);

/* The authenticationToken of the pass with this serial: 32 hex digits of an HMAC of the serial
 * under the store's wallet_token_secret. */
int patron__wallet_token(patron_store *s, const char *serial, char out[33]);

/* A date as YYYY-MM-DD (UTC). */
void patron__wallet_date(int64_t t, char buf[11]);

#endif
