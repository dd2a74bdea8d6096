/* SPDX-License-Identifier: MIT */
/* Personalisation: a member's favourite categories (stated preferences first, then what they
 * spent most on over the last year) and the tailored receipt footer: their name, progress to the
 * next tier, points expiring soon and the next best offer for them.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_PERSONAL_H
#define PATRON_PERSONAL_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/offer.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_PREFERENCES_MAX 32 /* stated preferences a member may keep */

struct patron_favourite {
    char category[64];
    int stated;          /* 1: the member said so; 0: from purchases */
    int64_t spent_minor; /* over the last 365 days */
    int64_t visits;      /* sales holding the category, same period */
};

/* States (on = 1) or withdraws (on = 0) a preference for a category. Returns 0; PATRON_EINVAL;
 * PATRON_ENOCARD; PATRON_ELIMIT beyond PATRON_PREFERENCES_MAX. */
PATRON_EXPORT int patron_preference_set(patron_store *s, const char *card, const char *category,
                                        int on) __attribute__((warn_unused_result));

/* Up to `cap` favourites into out: stated ones first (by name), then bought ones by spend, most
 * first (ties by name). *count receives how many were written. Returns 0 or PATRON_ENOCARD. */
PATRON_EXPORT int patron_member_favourites(patron_store *s, const char *card,
                                           struct patron_favourite *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

#define PATRON_FOOTER_LINES 4
#define PATRON_FOOTER_LINE_MAX 200

struct patron_footer {
    char name[128];
    int64_t points;
    char next_tier[64]; /* "" at the top */
    int64_t points_to_next_tier;
    int64_t expiring_points;
    int64_t expiring_at;
    int has_next_offer;
    struct patron_offer_match next_offer; /* best value; ties to a favourite, then lowest id */
    char lines[PATRON_FOOTER_LINES][PATRON_FOOTER_LINE_MAX]; /* ready to print, in order */
    size_t n_lines;
};

/* Gathers the footer for the member's receipt. The lines are plain UTF-8 for the receipt
 * template's {{footer}} placeholder. Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT;
 * PATRON_ENOCARD; PATRON_EBLOCKED. */
PATRON_EXPORT int patron_receipt_footer(patron_store *s, const char *card,
                                        struct patron_footer *out)
    __attribute__((warn_unused_result));

/* Queues the member's footer (receipts/receipt-footer.receipt: name, points earned by this
 * sale, balance, tier and progress, points expiring soon, the next best offer) in the print
 * queue. Returns 0 and sets *job_id, or the errors of patron_receipt_footer. */
PATRON_EXPORT int patron_receipt_footer_enqueue(patron_store *s, const char *card,
                                                int64_t points_earned, int64_t *job_id)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
