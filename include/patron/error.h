/* SPDX-License-Identifier: MIT */
/* Error codes of libpatron. One X-macro table makes the enum, the names and the messages, and
 * gives every code a kind that front ends (the CLI, the HTTP API) map to exit codes and HTTP
 * statuses. Codes are negative; OS failures are returned as -errno. */
#ifndef PATRON_ERROR_H
#define PATRON_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* What sort of failure a code is; each front end maps kinds in one table of its own. */
enum patron_error_kind {
    PATRON_KIND_OK = 0,
    PATRON_KIND_REFUSED,   /* a business rule said no (already redeemed, expired, no points) */
    PATRON_KIND_NOTFOUND,  /* unknown card, member, reward, voucher */
    PATRON_KIND_INVALID,   /* malformed input, bad check digit, bad signature, key reuse */
    PATRON_KIND_DEVICE,    /* printer unreachable, paper out; the job stays queued */
    PATRON_KIND_AUTH,      /* no or bad credentials */
    PATRON_KIND_FORBIDDEN, /* role too low */
    PATRON_KIND_INTERNAL,  /* anything else: database, crypto, memory, OS */
};

/* XX(NAME, kind, message) */
#define PATRON_ERRNO_MAP(XX)                                                                       \
    XX(EINVAL, INVALID, "invalid input")                                                           \
    XX(ECHECKDIGIT, INVALID, "the card number's check digit is wrong (mistyped?)")                 \
    XX(EIDEMPOTENCY, INVALID, "idempotency key reused with a different request")                   \
    XX(EBADSIG, INVALID, "voucher signature is not valid (forged or altered)")                     \
    XX(EFORMAT, INVALID, "voucher is malformed")                                                   \
    XX(EVERSION, INVALID, "voucher format version is not supported")                               \
    XX(EUNKNOWNKEY, INVALID, "voucher was signed by an unknown key")                               \
    XX(ERETIRED, INVALID, "voucher was signed by a retired key")                                   \
    XX(ENOTFOUND, NOTFOUND, "not found")                                                           \
    XX(ENOCARD, NOTFOUND, "unknown card")                                                          \
    XX(ENOREWARD, NOTFOUND, "unknown reward")                                                      \
    XX(ENOVOUCHER, NOTFOUND, "unknown voucher")                                                    \
    XX(ENOSALE, NOTFOUND, "unknown sale")                                                          \
    XX(ENOFUNDS, REFUSED, "not enough points")                                                     \
    XX(EREDEEMED, REFUSED, "voucher already redeemed")                                             \
    XX(EEXPIRED, REFUSED, "expired")                                                               \
    XX(EVOIDED, REFUSED, "voucher was voided")                                                     \
    XX(ESCOPE, REFUSED, "voucher is not valid at this store")                                      \
    XX(EMEMBER, REFUSED, "voucher belongs to another member")                                      \
    XX(EONLINE, REFUSED, "voucher can only be redeemed online")                                    \
    XX(ELIMIT, REFUSED, "limit reached")                                                           \
    XX(ELOCKED, REFUSED, "too many wrong codes from this till; try again later")                   \
    XX(EBLOCKED, REFUSED, "card is blocked")                                                       \
    XX(EREFUND, REFUSED, "refund exceeds what was sold")                                           \
    XX(EINACTIVE, REFUSED, "not active")                                                           \
    XX(ERULE, REFUSED, "refused by a program rule")                                                \
    XX(EDEVICE, DEVICE, "printer unreachable; the job stays queued")                               \
    XX(EPAPER, DEVICE, "printer is out of paper; the job stays queued")                            \
    XX(ECOVER, DEVICE, "printer cover is open; the job stays queued")                              \
    XX(EPRINTBUSY, DEVICE, "printer is busy (another program or the usblp driver holds it)")       \
    XX(EPRINTACCESS, DEVICE, "no permission to open the printer (install the udev rule)")          \
    XX(ETIMEOUT, DEVICE, "printer did not answer in time; the job stays queued")                   \
    XX(EAUTH, AUTH, "missing or bad terminal token")                                               \
    XX(EFORBIDDEN, FORBIDDEN, "this terminal's role may not do that")                              \
    XX(ESCHEMA, INTERNAL, "database was written by a newer Patron; upgrade this program")          \
    XX(EDB, INTERNAL, "database error")                                                            \
    XX(EFULL, INTERNAL, "disk is full; nothing was written")                                       \
    XX(ECRYPTO, INTERNAL, "cryptography error")                                                    \
    XX(EKEYPERM, INTERNAL, "private key file is readable by group or others")                      \
    XX(ENOMEM, INTERNAL, "out of memory")                                                          \
    XX(ETOOBIG, INVALID, "input too large")                                                        \
    XX(EDUPLICATE, REFUSED, "already recorded")

enum patron_errno {
    PATRON_OK = 0,
    PATRON__ERRNO_BASE = -1099,
#define PATRON_XX(name, kind, msg) PATRON_##name,
    PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
        PATRON__ERRNO_END
};

/* A static message for any code (PATRON_* or -errno). Never NULL. Thread-safe. */
const char *patron_strerror(int err);

/* A stable upper-case name ("ENOFUNDS", "ENOENT"), for JSON error fields. Never NULL. */
const char *patron_err_name(int err);

/* The kind of a code; -errno codes are PATRON_KIND_INTERNAL. */
enum patron_error_kind patron_err_kind(int err);

#ifdef __cplusplus
}
#endif
#endif
