/* SPDX-License-Identifier: MIT */
/* The one table of limits on what comes in (a name's length, a sale's total, an adjustment's
 * points), the text rules every entry point applies, and the strict parser of times. The library
 * checks every value against this table; the `patron` program and the counter service name the
 * same constants, and docs/openapi.yaml states the same numbers (a test holds the two together).
 * Text limits count bytes of UTF-8, never characters. */
#ifndef PATRON_LIMITS_H
#define PATRON_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#include "patron/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text, in bytes of UTF-8. */
#define PATRON_NAME_MAX 127        /* a member's name, an offer's name, a store's name */
#define PATRON_EMAIL_MAX 127       /* an e-mail address (it holds an '@') */
#define PATRON_PHONE_MAX 31        /* a phone number as typed (6-20 digits in it) */
#define PATRON_SOURCE_MAX 31       /* where consent was given: counter, web, email */
#define PATRON_REF_MAX 63          /* a POS receipt number, a return reference; no spaces */
#define PATRON_TOKEN_MAX 63        /* a SKU or a category; no spaces */
#define PATRON_LABEL_MAX 63        /* who did it (a manager, a till), a tier or segment name */
#define PATRON_REASON_MAX 200      /* why an adjustment was made */
#define PATRON_VOID_REASON_MAX 127 /* why a voucher was voided */
#define PATRON_COMMENT_MAX 500     /* a member's feedback comment, a complaint */
/* Numbers. */
#define PATRON_QTY_MAX 100000                        /* units of one line */
#define PATRON_UNIT_PRICE_MAX INT64_C(1000000000)    /* minor units, one unit of a line */
#define PATRON_TOTAL_MAX INT64_C(100000000000)       /* minor units, a sale's total */
#define PATRON_LINES_MAX 200                         /* lines of a sale or a refund */
#define PATRON_ADJUST_POINTS_MAX INT64_C(1000000000) /* points, either way (never 0) */
#define PATRON_DAYS_MAX 3650                         /* an offer's look-back windows */

/* Where a limit applies, by the name the API and the CLI give the field.
 * XX(ID, field, where in docs/openapi.yaml (a schema or a path; NULL: not in the API), min, max,
 *    unit) */
#define PATRON_LIMIT_MAP(XX)                                                                       \
    XX(NAME, "name", "Enrollment", 1, PATRON_NAME_MAX, "bytes")                                    \
    XX(EMAIL, "email", "Enrollment", 3, PATRON_EMAIL_MAX, "bytes")                                 \
    XX(PHONE, "phone", "Enrollment", 3, PATRON_PHONE_MAX, "bytes")                                 \
    XX(CONSENT_SOURCE, "consent_source", "Enrollment", 1, PATRON_SOURCE_MAX, "bytes")              \
    XX(SOURCE, "source", "/v1/members/{card}/consent", 1, PATRON_SOURCE_MAX, "bytes")              \
    XX(SKU, "sku", "SaleLine", 1, PATRON_TOKEN_MAX, "bytes")                                       \
    XX(CATEGORY, "category", "SaleLine", 1, PATRON_TOKEN_MAX, "bytes")                             \
    XX(QTY, "qty", "SaleLine", 1, PATRON_QTY_MAX, "units")                                         \
    XX(UNIT_PRICE, "unit_price", "SaleLine", 0, PATRON_UNIT_PRICE_MAX, "minor units")              \
    XX(REF, "ref", "Sale", 1, PATRON_REF_MAX, "bytes")                                             \
    XX(TOTAL, "total", "Sale", 0, PATRON_TOTAL_MAX, "minor units")                                 \
    XX(LINES, "lines", "Sale", 0, PATRON_LINES_MAX, "items")                                       \
    XX(ADJUST_POINTS, "points", "/v1/adjustments", -PATRON_ADJUST_POINTS_MAX,                      \
       PATRON_ADJUST_POINTS_MAX, "points")                                                         \
    XX(ADJUST_REASON, "reason", "/v1/adjustments", 1, PATRON_REASON_MAX, "bytes")                  \
    XX(VOID_REASON, "reason", "/v1/vouchers/{id}/void", 1, PATRON_VOID_REASON_MAX, "bytes")        \
    XX(COMMENT, "comment", "/v1/feedback", 1, PATRON_COMMENT_MAX, "bytes")                         \
    XX(COMPLAINT, "complaint", "/v1/goodwill", 1, PATRON_COMMENT_MAX, "bytes")                     \
    XX(OFFER_NAME, "name", "OfferDef", 1, PATRON_NAME_MAX, "bytes")                                \
    XX(WITHIN_DAYS, "within_days", "OfferDef", 1, PATRON_DAYS_MAX, "days")                         \
    XX(LAPSED_DAYS, "lapsed_days", "OfferDef", 1, PATRON_DAYS_MAX, "days")                         \
    XX(LABEL, "manager", NULL, 1, PATRON_LABEL_MAX, "bytes")

enum patron_limit_id {
#define PATRON_XX(id, field, where, min, max, unit) PATRON_LIMIT_##id,
    PATRON_LIMIT_MAP(PATRON_XX)
#undef PATRON_XX
        PATRON_LIMIT_COUNT
};

struct patron_limit {
    const char *field; /* the field's name in the API and the CLI's option */
    const char *where; /* the schema or path of docs/openapi.yaml that states it; NULL: none */
    int64_t min, max;
    const char *unit; /* "bytes" (of UTF-8), "minor units", "points", "units", "items", "days" */
};

/* The table, indexed by enum patron_limit_id. Static data; thread-safe. */
extern PATRON_EXPORT const struct patron_limit patron_limits[PATRON_LIMIT_COUNT];

/* Text rules. */
enum {
    PATRON_TEXT_NO_SPACE = 1, /* no space either (refs, SKUs, categories) */
};

/* What is wrong with a text, if anything. */
enum patron_text_fault {
    PATRON_TEXT_OK = 0,
    PATRON_TEXT_MISSING,  /* NULL */
    PATRON_TEXT_SHORT,    /* fewer than min bytes */
    PATRON_TEXT_LONG,     /* more than max bytes */
    PATRON_TEXT_ENCODING, /* not valid UTF-8 (stray, overlong or surrogate bytes) */
    PATRON_TEXT_CONTROL,  /* a control character (C0, DEL, C1), or a space under NO_SPACE */
};

/* Checks text against the rules every entry point applies: min..max bytes, valid UTF-8 (RFC
 * 3629: no overlong forms, no surrogates, nothing above U+10FFFF) and no control characters
 * (U+0000-U+001F, U+007F-U+009F). Returns PATRON_TEXT_OK or the first fault. Thread-safe. */
PATRON_EXPORT enum patron_text_fault patron_text_check(const char *text, size_t min, size_t max,
                                                       int flags)
    __attribute__((warn_unused_result));

/* A sentence naming the fault ("is not valid UTF-8"), for messages. Never NULL. */
PATRON_EXPORT const char *patron_text_fault_str(enum patron_text_fault f);

/* Copies src into dst (cap bytes, cap >= 4), NUL-terminated, with every byte that is not part
 * of valid UTF-8 replaced by U+FFFD and control characters by '?', cutting only between whole
 * characters. For showing text read back from a store that somehow holds bad bytes. Returns
 * dst. Thread-safe. */
PATRON_EXPORT char *patron_text_repair(char *dst, size_t cap, const char *src);

/* The range of times the clock and every time given as input may take: 2000-01-01T00:00:00Z to
 * 2099-12-31T23:59:59Z (Unix seconds). */
#define PATRON_TIME_MIN INT64_C(946684800)
#define PATRON_TIME_MAX INT64_C(4102444799)

/* Parses a UTC time strictly: "YYYY-MM-DD" (midnight) or "YYYY-MM-DDTHH:MM:SS" with an optional
 * "Z"; a real calendar date (leap years counted), hours 00-23, minutes and seconds 00-59, and
 * within PATRON_TIME_MIN..PATRON_TIME_MAX. Returns 0 and sets *out, else PATRON_EINVAL (nothing
 * written). Thread-safe. */
PATRON_EXPORT int patron_time_parse(const char *text, int64_t *out)
    __attribute__((warn_unused_result));

/* Parses the end of a window, exclusive, as patron_time_parse reads it, with the one rule the
 * front ends share: a date alone ("YYYY-MM-DD") means through that day, so the end is the next
 * midnight (2026-03-31 ends at 2026-04-01T00:00:00Z); a full time is taken as is. Returns 0 and
 * sets *out, else PATRON_EINVAL (nothing written). Thread-safe. */
PATRON_EXPORT int patron_time_parse_until(const char *text, int64_t *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif

#endif
