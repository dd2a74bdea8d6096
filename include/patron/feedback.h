/* SPDX-License-Identifier: MIT */
/* Listening to members: a satisfaction score (1-5) with an optional comment per visit, and
 * service recovery: a manager gives a free reward's voucher tied to a complaint ("sorry, your
 * coffee is on us"), within the program rule goodwill_per_manager_per_day.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_FEEDBACK_H
#define PATRON_FEEDBACK_H

#include "patron/export.h"

#include <stdint.h>

#include "patron/limits.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_FEEDBACK_COMMENT_MAX PATRON_COMMENT_MAX /* bytes */

struct patron_feedback {
    const char *card;
    int score;            /* 1..5 */
    const char *comment;  /* optional, 1..500 bytes of UTF-8 text (limits.h) */
    const char *sale_ref; /* optional: the visit is that sale; else the visit is the day */
};

/* Records the member's feedback on a visit: one per sale, or one per day without a sale.
 * Sending the same feedback again answers the first id. Returns 0 and sets *feedback_id;
 * PATRON_EINVAL; PATRON_ENOCARD; PATRON_ENOSALE when the ref is not this member's sale;
 * PATRON_ERULE when different feedback on the same visit was recorded already. */
PATRON_EXPORT int patron_feedback_record(patron_store *s, const struct patron_feedback *in,
                                         int64_t *feedback_id) __attribute__((warn_unused_result));

struct patron_goodwill_request {
    const char *card;
    int64_t reward_id;           /* the reward given free */
    const char *complaint;       /* required, 1..500 bytes of UTF-8 text (limits.h) */
    const char *manager;         /* required: who gives it, 1..63 bytes */
    const char *idempotency_key; /* required */
};

struct patron_goodwill_result {
    int64_t goodwill_id;
    int64_t member_id;
    int64_t reward_id;
    int64_t redemption_id;
    uint64_t voucher_id; /* 0 while vouchers are not issued */
    char code[18];
    int64_t print_job;    /* the queued coupon, 0 when none */
    int64_t issued_today; /* by this manager, this one included */
    int64_t daily_limit;
    int replayed;
};

/* Gives a reward free, as a voucher, for a complaint. Returns 0; PATRON_EINVAL; PATRON_ENOCARD;
 * PATRON_EBLOCKED; PATRON_ENOREWARD; PATRON_EINACTIVE; PATRON_ELIMIT when the manager has given
 * goodwill_per_manager_per_day today (UTC); PATRON_EIDEMPOTENCY. */
PATRON_EXPORT int patron_goodwill_issue(patron_store *s, const struct patron_goodwill_request *in,
                                        struct patron_goodwill_result *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
