/* SPDX-License-Identifier: MIT */
/* Error codes of libpatron. One X-macro table makes the enum, the names and the messages, and
 * gives every code a kind that front ends (the CLI, the HTTP API) map to exit codes and HTTP
 * statuses. Codes are negative; OS failures are returned as -errno. */
#ifndef PATRON_ERROR_H
#define PATRON_ERROR_H

#include "patron/export.h"

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

/* XX(NAME, number, kind, message). Every code has its own fixed number: a new code is added at
 * the end with the next free number (now -1056) and existing codes never change, so numbers kept
 * by callers, logs and other builds keep their meaning. A repeated number does not compile (the
 * switches in src/core/error.c would have two equal cases). */
#define PATRON_ERRNO_MAP(XX)                                                                       \
    XX(EINVAL, -1098, INVALID, "invalid input")                                                    \
    XX(ECHECKDIGIT, -1097, INVALID, "the card number's check digit is wrong (mistyped?)")          \
    XX(EIDEMPOTENCY, -1096, INVALID, "idempotency key reused with a different request")            \
    XX(EBADSIG, -1095, INVALID, "voucher signature is not valid (forged or altered)")              \
    XX(EFORMAT, -1094, INVALID, "voucher is malformed")                                            \
    XX(EVERSION, -1093, INVALID, "voucher format version is not supported")                        \
    XX(EUNKNOWNKEY, -1092, INVALID, "voucher was signed by an unknown key")                        \
    XX(ERETIRED, -1091, INVALID, "voucher was signed by a retired key")                            \
    XX(ENOTFOUND, -1090, NOTFOUND, "not found")                                                    \
    XX(ENOCARD, -1089, NOTFOUND, "unknown card")                                                   \
    XX(ENOREWARD, -1088, NOTFOUND, "unknown reward")                                               \
    XX(ENOVOUCHER, -1087, NOTFOUND, "unknown voucher")                                             \
    XX(ENOSALE, -1086, NOTFOUND, "unknown sale")                                                   \
    XX(ENOFUNDS, -1085, REFUSED, "not enough points")                                              \
    XX(EREDEEMED, -1084, REFUSED, "voucher already redeemed")                                      \
    XX(EEXPIRED, -1083, REFUSED, "expired")                                                        \
    XX(EVOIDED, -1082, REFUSED, "voucher was voided")                                              \
    XX(ESCOPE, -1081, REFUSED, "voucher is not valid at this store")                               \
    XX(EMEMBER, -1080, REFUSED, "voucher belongs to another member")                               \
    XX(EONLINE, -1079, REFUSED, "voucher can only be redeemed online")                             \
    XX(ELIMIT, -1078, REFUSED, "limit reached")                                                    \
    XX(ELOCKED, -1077, REFUSED, "too many wrong codes from this till; try again later")            \
    XX(EBLOCKED, -1076, REFUSED, "card is blocked")                                                \
    XX(EREFUND, -1075, REFUSED, "refund exceeds what was sold")                                    \
    XX(EINACTIVE, -1074, REFUSED, "not active")                                                    \
    XX(ERULE, -1073, REFUSED, "refused by a program rule")                                         \
    XX(EDEVICE, -1072, DEVICE, "printer unreachable; the job stays queued")                        \
    XX(EPAPER, -1071, DEVICE, "printer is out of paper; the job stays queued")                     \
    XX(ECOVER, -1070, DEVICE, "printer cover is open; the job stays queued")                       \
    XX(EPRINTBUSY, -1069, DEVICE,                                                                  \
       "printer is busy (another program or the usblp driver holds it)")                           \
    XX(EPRINTACCESS, -1068, DEVICE, "no permission to open the printer (install the udev rule)")   \
    XX(ETIMEOUT, -1067, DEVICE, "printer did not answer in time; the job stays queued")            \
    XX(EAUTH, -1066, AUTH, "missing or bad terminal token")                                        \
    XX(EFORBIDDEN, -1065, FORBIDDEN, "this terminal's role may not do that")                       \
    XX(ESCHEMA, -1064, INTERNAL, "database was written by a newer Patron; upgrade this program")   \
    XX(EDB, -1063, INTERNAL, "database error")                                                     \
    XX(EFULL, -1062, INTERNAL, "disk is full; nothing was written")                                \
    XX(ECRYPTO, -1061, INTERNAL, "cryptography error")                                             \
    XX(EKEYPERM, -1060, INTERNAL, "private key file is readable by group or others")               \
    XX(ENOMEM, -1059, INTERNAL, "out of memory")                                                   \
    XX(ETOOBIG, -1058, INVALID, "input too large")                                                 \
    XX(EDUPLICATE, -1057, REFUSED, "already recorded")

/* Library codes live in [PATRON__ERRNO_MIN, PATRON__ERRNO_MAX], far from any -errno. */
enum patron_errno {
    PATRON_OK = 0,
    PATRON__ERRNO_MIN = -1099,
    PATRON__ERRNO_MAX = -1000,
#define PATRON_XX(name, num, kind, msg) PATRON_##name = (num),
    PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
};

/* A static message for any code (PATRON_* or -errno). Never NULL. Thread-safe. */
PATRON_EXPORT const char *patron_strerror(int err);

/* A stable upper-case name ("ENOFUNDS", "ENOENT"), for JSON error fields. Never NULL. */
PATRON_EXPORT const char *patron_err_name(int err);

/* The kind of a code; -errno codes are PATRON_KIND_INTERNAL. */
PATRON_EXPORT enum patron_error_kind patron_err_kind(int err);

#ifdef __cplusplus
}
#endif
#endif
