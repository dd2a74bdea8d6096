/* SPDX-License-Identifier: MIT */
/* Members and their cards: enrolment with consent, look-up by card or phone, blocking a lost
 * card and issuing its replacement (the history stays with the member).
 *
 * All functions take a store handle and follow its thread-safety rule (one thread at a time). */
#ifndef PATRON_MEMBER_H
#define PATRON_MEMBER_H

#include "patron/export.h"

#include <stdint.h>

#include "patron/card.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Text is UTF-8 without control characters, its lengths in bytes (include/patron/limits.h). */
struct patron_enrollment {
    const char *name;     /* required, 1..127 bytes */
    const char *email;    /* optional, 3..127 bytes with an '@' */
    const char *phone;    /* optional, 3..31 bytes; digits, spaces, '+', '-' */
    const char *birthday; /* optional, YYYY-MM-DD */
    int consent_marketing;
    const char *consent_source; /* where consent was given ("counter", "web"); optional, 1..31 */
    int greet_by_name;          /* the customer display may greet the member by first name (off) */
};

struct patron_member {
    int64_t member_id;
    char name[128];
    char email[128];
    char phone[32];
    char birthday[11];
    int consent_marketing;
    int64_t consent_at; /* 0 when never given */
    int64_t created_at;
    char card[PATRON_CARD_DIGITS + 1]; /* the card used for the look-up, or the active one */
    int card_blocked;
    int64_t points; /* balance */
    char tier[64];
    int64_t tier_until; /* 0 when the tier never lapses (the base tier) */
    int erased;         /* personal data erased (name "erased", cards blocked) */
    int greet_by_name;  /* agreed at enrolment to be greeted by first name on the display */
};

/* Enrolls a member and issues a card. Returns 0 and fills *out; PATRON_EINVAL (detail says which
 * field) on bad input. */
PATRON_EXPORT int patron_member_enroll(patron_store *s, const struct patron_enrollment *in,
                                       struct patron_member *out)
    __attribute__((warn_unused_result));

/* Looks a member up by card number. Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT for a mistyped
 * number (no look-up is made); PATRON_ENOCARD for an unknown card. A blocked card is found, with
 * card_blocked set: callers that transact refuse it. */
PATRON_EXPORT int patron_member_by_card(patron_store *s, const char *card,
                                        struct patron_member *out)
    __attribute__((warn_unused_result));

/* Looks a member up by phone number (normalised to digits). Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_member_by_phone(patron_store *s, const char *phone,
                                         struct patron_member *out)
    __attribute__((warn_unused_result));

/* Finds up to `cap` members (at most PATRON_MEMBER_SEARCH_MAX) whose card, phone or email is
 * `query`, or whose name holds it (case-insensitive for ASCII), by name; erased members are
 * never found. Returns 0 and sets *count; PATRON_EINVAL for fewer than 2 or more than 128
 * bytes. */
#define PATRON_MEMBER_SEARCH_MAX 50
PATRON_EXPORT int patron_member_search(patron_store *s, const char *query,
                                       struct patron_member *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

/* Looks a member up by id. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_member_by_id(patron_store *s, int64_t member_id, struct patron_member *out)
    __attribute__((warn_unused_result));

/* Blocks a lost card and issues a new one to the same member; new_card receives its number.
 * Returns 0, PATRON_ENOCARD, or PATRON_EBLOCKED when the card was already blocked. */
PATRON_EXPORT int patron_card_replace(patron_store *s, const char *card,
                                      char new_card[PATRON_CARD_DIGITS + 1])
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
