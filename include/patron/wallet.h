/* SPDX-License-Identifier: MIT */
/* The card in the phone's wallet: an Apple Wallet store card (.pkpass: pass.json, images, a
 * manifest of SHA-1 digests and a detached PKCS#7 signature) and a "Save to Google Wallet" link
 * (an RS256 JWT over a loyalty object). Both show the store, the member, the balance, the tier
 * and the card number as a barcode.
 *
 * Certificates and keys are machine settings given as file paths; private key files must not be
 * readable by group or others. A certificate is checked against the store's clock. Every failure
 * of the settings (one missing, a file missing or unreadable, a key that does not match the
 * certificate, a certificate expired or not yet valid) is PATRON_ECRYPTO, or PATRON_EKEYPERM for
 * a key file of the wrong mode, with a sentence in patron_store_detail() that says which.
 *
 * Reads only. Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_WALLET_H
#define PATRON_WALLET_H

#include "patron/export.h"

#include <stddef.h>

#include "patron/card.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest "Save to Google Wallet" link Google accepts; a larger one carries only the object id. */
#define PATRON_WALLET_GOOGLE_LINK_MAX 1800

struct patron_wallet_apple {
    const char *pass_cert;    /* PEM: the pass type certificate (wallet_pass_cert) */
    const char *pass_key;     /* PEM: its private key, mode 0600 (wallet_pass_key) */
    const char *wwdr_cert;    /* PEM: Apple's WWDR intermediate (wallet_wwdr_cert) */
    const char *pass_type_id; /* "pass.com.example.loyalty" (wallet_pass_type_id) */
    const char *team_id;      /* the Apple team id (wallet_team_id) */
    /* The service's public HTTPS URL (public_url), which the phones reach: when set, the pass
     * carries it as webServiceURL with the pass's authenticationToken, and is updatable. */
    const char *web_service_url;
};

struct patron_wallet_google {
    const char *issuer; /* the Google Wallet issuer id (wallet_google_issuer) */
    const char *key;    /* PEM: the service account's RSA private key, mode 0600 */
    const char *email;  /* the service account's e-mail (wallet_google_email) */
};

/* Builds the .pkpass of the card's member into *out (malloc'd, free with patron_wallet_free),
 * *len bytes. Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT / PATRON_ENOCARD for the card;
 * PATRON_EBLOCKED for a blocked card; PATRON_ECRYPTO / PATRON_EKEYPERM for the settings. */
PATRON_EXPORT int patron_wallet_apple_pass(patron_store *s, const char *card,
                                           const struct patron_wallet_apple *cfg,
                                           unsigned char **out, size_t *len)
    __attribute__((warn_unused_result));

/* The same, written to `path` through a temporary file in the same folder, then renamed: the
 * file is either the whole pass or untouched. */
PATRON_EXPORT int patron_wallet_apple_write(patron_store *s, const char *card,
                                            const struct patron_wallet_apple *cfg, const char *path)
    __attribute__((warn_unused_result));

/* The "Save to Google Wallet" link of the card's member into *link (malloc'd, free with
 * patron_wallet_free): https://pay.google.com/gp/v/save/<JWT>, with the whole loyalty object when
 * that fits in PATRON_WALLET_GOOGLE_LINK_MAX characters, else only its id (the object is then
 * created through Google's REST API). *object_only says which. Errors as for the Apple pass. */
PATRON_EXPORT int patron_wallet_google_link(patron_store *s, const char *card,
                                            const struct patron_wallet_google *cfg, char **link,
                                            int *object_only) __attribute__((warn_unused_result));

PATRON_EXPORT void patron_wallet_free(void *p);

/* Apple's pass web service (updatable passes). The serial number of a pass is its card number;
 * the phone authenticates with "Authorization: ApplePass TOKEN", the pass's token. */

/* 0 when `token` is the pass's authenticationToken, else PATRON_EAUTH. */
PATRON_EXPORT int patron_wallet_apple_auth(patron_store *s, const char *serial, const char *token)
    __attribute__((warn_unused_result));

/* Registers a device for a pass's updates, with its push token. *created is 1 for a new
 * registration, 0 when it was known (its push token is updated). PATRON_ENOCARD / PATRON_EBLOCKED
 * for the serial; PATRON_EINVAL for an empty or over-long (> 255 bytes) id or token. */
PATRON_EXPORT int patron_wallet_apple_register(patron_store *s, const char *device,
                                               const char *pass_type, const char *serial,
                                               const char *push_token, int *created)
    __attribute__((warn_unused_result));

/* Forgets a registration. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_wallet_apple_unregister(patron_store *s, const char *device,
                                                 const char *pass_type, const char *serial)
    __attribute__((warn_unused_result));

#define PATRON_WALLET_SERIALS_MAX 64

/* The serials registered on `device` for `pass_type` whose pass changed after tag `since` (-1:
 * all), at most PATRON_WALLET_SERIALS_MAX, and the newest tag among them in *last (a tag is the
 * number of the member's last ledger entry). *n is 0 when none changed. */
PATRON_EXPORT int patron_wallet_apple_updated(patron_store *s, const char *device,
                                              const char *pass_type, int64_t since,
                                              char serials[][PATRON_CARD_DIGITS + 1], size_t *n,
                                              int64_t *last) __attribute__((warn_unused_result));

/* Pushes: the durable queue behind the one sender interface. patron_wallet_push_queue adds one
 * push per (push token, pass type) for the registrations whose pass changed since the device was
 * last told (never two unsent for the same pair), in one transaction; *queued says how many.
 * patron_wallet_push_deliver hands the unsent pushes, oldest first, to `send`, and marks a push
 * sent only when `send` returned 0 (so every push is delivered at least once); a failure is
 * counted and kept for the next run. `send` returns 0 or a negative code; `why` (may be NULL)
 * says what failed. */
typedef int (*patron_wallet_push_fn)(void *ctx, const char *push_token, const char *pass_type,
                                     char *why, size_t why_len);
PATRON_EXPORT int patron_wallet_push_queue(patron_store *s, int64_t *queued)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_wallet_push_deliver(patron_store *s, patron_wallet_push_fn send, void *ctx,
                                             int64_t *sent, int64_t *failed)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
