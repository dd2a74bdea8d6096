/* SPDX-License-Identifier: MIT */
/* Sales on a card not yet known (issue 11): a card from another store's number space that this
 * store cannot find, at head office either (the link is down, or the issuing store has not
 * synced yet). The sale is kept with its points held against the card number, in one
 * transaction with its outbox row; once the card is known here (the next `patron sync`, or the
 * next online look-up of the card), the held sale is recorded as the member's sale, exactly
 * once: it is recorded under the held sale's own idempotency key, then marked posted, so a run
 * again (or a crash between the two) records nothing twice.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_HELD_H
#define PATRON_HELD_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/card.h"
#include "patron/ledger.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sale held against a card number. */
struct patron_held_sale {
    int64_t held_id;
    char card[PATRON_CARD_DIGITS + 1];
    char ref[128];
    int card_store;  /* the store the card is from by its number (patron_card_owner) */
    int64_t points;  /* held: the program's base rate (the member's tier and offers count once
                        the sale is posted) */
    int64_t held_at; /* the store's clock */
    int64_t sale_id; /* the member's sale once posted, else 0 */
    int replayed;    /* the same held sale sent again */
};

/* Keeps `in` (a sale request as patron_sale_record takes it) held against its card: the card
 * must be another store's by its number and unknown here. Idempotent on in->idempotency_key.
 * Returns 0 and fills *out; PATRON_EINVAL (a mistyped sale or card, or a card known here);
 * PATRON_ENOCARD for a card that is not another store's by its number; PATRON_EIDEMPOTENCY when
 * the key held another sale. */
PATRON_EXPORT int patron_sale_hold(patron_store *s, const struct patron_sale *in,
                                   struct patron_held_sale *out)
    __attribute__((warn_unused_result));

/* Records every held sale whose card is now known here (active) as that member's sale and marks
 * it posted; *posted (may be NULL) receives how many. A held sale whose sale is refused stays
 * held. Inside a batch, the posts commit with it. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_held_post(patron_store *s, int64_t *posted)
    __attribute__((warn_unused_result));

/* The held sales not posted yet, oldest first, up to cap into out; *count receives how many
 * there are in all. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_held_list(patron_store *s, struct patron_held_sale *out, size_t cap,
                                   size_t *count) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
