/* SPDX-License-Identifier: MIT */
/* Tills (terminals) of the counter service and what it keeps about their requests: each till has
 * a role and a bearer token that is shown once and stored only as its SHA-256; an append-only
 * audit log records every state-changing request with till, operation, time and outcome (never
 * personal data); the reply register keeps the answer to each idempotency key.
 *
 * Thread-safety: as the store handle (one thread at a time); patron_terminal_role_* are pure. */
#ifndef PATRON_TERMINAL_H
#define PATRON_TERMINAL_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Roles are ordered: a higher role may do everything a lower one may. */
enum patron_role {
    PATRON_ROLE_NONE = 0, /* no token needed (health, metrics) */
    PATRON_ROLE_CASHIER = 1,
    PATRON_ROLE_MANAGER = 2,
    PATRON_ROLE_ADMIN = 3,
};

/* "cashier", "manager", "admin" <-> enum. parse returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_role_parse(const char *name, enum patron_role *out);
PATRON_EXPORT const char *patron_role_name(enum patron_role role);

/* A token is "ptk_" and 43 base64url characters (32 random bytes). */
#define PATRON_TOKEN_LEN 47
#define PATRON_TERMINAL_NAME_MAX 63
/* A counter device's spec: "auto", "usb", "usb:VID:PID", "file:DEV", "none". */
#define PATRON_DEVICE_SPEC_MAX 127

struct patron_terminal {
    int64_t terminal_id;
    char name[PATRON_TERMINAL_NAME_MAX + 1];
    enum patron_role role;
    int64_t created_at;
    int64_t revoked_at;                       /* 0 while the token is good */
    char scanner[PATRON_DEVICE_SPEC_MAX + 1]; /* the bound card scanner, "none" when none */
};

/* Adds a till named `name` (1..63 bytes of letters, digits, '-', '_', '.') with `role` and writes
 * its new token into token[PATRON_TOKEN_LEN + 1]: the only time it exists in clear, so the caller
 * shows it once and wipes it. Returns 0 and fills *out; PATRON_EINVAL for a bad name or role;
 * PATRON_ELIMIT when the name is taken. */
PATRON_EXPORT int patron_terminal_add(patron_store *s, const char *name, enum patron_role role,
                                      struct patron_terminal *out, char token[PATRON_TOKEN_LEN + 1])
    __attribute__((warn_unused_result));

/* Gives an existing till a new token (the old one stops working at once). Returns 0,
 * PATRON_ENOTFOUND, or PATRON_EINACTIVE for a revoked till. */
PATRON_EXPORT int patron_terminal_rotate(patron_store *s, const char *name,
                                         struct patron_terminal *out,
                                         char token[PATRON_TOKEN_LEN + 1])
    __attribute__((warn_unused_result));

/* Revokes a till's token. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_terminal_revoke(patron_store *s, const char *name)
    __attribute__((warn_unused_result));

/* Finds the till a bearer token belongs to. Returns 0 and fills *out; PATRON_EAUTH when the
 * token is malformed, unknown or revoked (which of these is not said). Read-only. */
PATRON_EXPORT int patron_terminal_authenticate(patron_store *s, const char *token,
                                               struct patron_terminal *out)
    __attribute__((warn_unused_result));

/* Binds the card scanner `spec` to the till `name`: "auto" (the first USB barcode scanner),
 * "usb" (the same), "usb:VID:PID" (four hex digits each), "file:DEV" (a serial device, an
 * absolute path) or "none" (unbinds). Returns 0, PATRON_EINVAL for a bad spec,
 * PATRON_ENOTFOUND for an unknown till. */
PATRON_EXPORT int patron_terminal_set_scanner(patron_store *s, const char *name, const char *spec)
    __attribute__((warn_unused_result));

/* 1 when `spec` is a scanner spec patron_terminal_set_scanner takes, else 0. Pure. */
PATRON_EXPORT int patron_scanner_spec_valid(const char *spec);

/* Copies up to `cap` tills, oldest first; *count receives how many exist. */
PATRON_EXPORT int patron_terminal_list(patron_store *s, struct patron_terminal *out, size_t cap,
                                       size_t *count) __attribute__((warn_unused_result));

/* Appends one line to the audit log: which till (0 when none was authenticated) did `op` (a
 * route such as "POST /v1/sales", at most 63 bytes) with `outcome` (an error name such as
 * "ENOFUNDS", or "ok") and HTTP `status`, at the store's clock. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_audit_record(patron_store *s, int64_t terminal_id, const char *op,
                                      const char *outcome, int status)
    __attribute__((warn_unused_result));

/* How many audit lines there are (for tests and reports). */
PATRON_EXPORT int patron_audit_count(patron_store *s, int64_t *count)
    __attribute__((warn_unused_result));

/* The reply register: the answer given to an idempotency key, so that a till's retry of any
 * POST receives the first answer again. `request_hash` is a digest of the request (32 bytes).
 * Keys are the till's own: they are looked up and kept under patron_store_set_till's till.
 *
 * patron_reply_get returns 0 and fills *status and body (NUL-terminated, at most cap bytes) when
 * the key is known with the same hash; PATRON_EIDEMPOTENCY when it is known with another hash;
 * PATRON_ENOTFOUND when it is new; PATRON_ETOOBIG when the body does not fit. */
#define PATRON_REPLY_MAX 16384
PATRON_EXPORT int patron_reply_get(patron_store *s, const char *key, const uint8_t request_hash[32],
                                   int *status, char *body, size_t cap)
    __attribute__((warn_unused_result));
/* Records the answer to a new key. Returns 0, PATRON_ETOOBIG for a body over PATRON_REPLY_MAX,
 * or PATRON_EIDEMPOTENCY when the key was taken meanwhile. */
PATRON_EXPORT int patron_reply_put(patron_store *s, const char *key, const uint8_t request_hash[32],
                                   int status, const char *body)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
