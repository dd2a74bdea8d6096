/* SPDX-License-Identifier: MIT */
/* A sale at the ledger's level: its checks, its request hash, the earning arithmetic (written
 * once, used by the sale and by the offers' multipliers), recording the sale with its own earn,
 * and reading a recorded sale back. What the offers and referrals add on top is composed by the
 * checkout (src/checkout/checkout.c). Never installed. */
#ifndef PATRON_SALE_INTERNAL_H
#define PATRON_SALE_INTERNAL_H

#include "core/idempotency.h"
#include "core/store_internal.h"
#include "member/member_internal.h"
#include "patron/ledger.h"
#include "patron/program.h"

struct patron__earning {
    int64_t weight;      /* sum of qty * unit price * category multiplier (thousandths) */
    int64_t lines_minor; /* sum of qty * unit price */
    int64_t points;
};

/* Checks a sale request: ref, total, currency (the program's), lines. */
int patron__sale_validate(patron_store *s, const struct patron_sale *in, const char *currency);

/* Adds every field of a sale request to its idempotency hash. */
void patron__sale_hash(struct patron__idem *h, const struct patron_sale *in);

/* The earning rule of include/patron/ledger.h, in exact integer arithmetic: weighs the lines by
 * their category multipliers (asking each distinct category once) and fills *e. weights, when
 * not NULL, gets each line's weight per unit. */
void patron__sale_weigh(patron_store *s, const struct patron_program *p,
                        const struct patron_sale *in, int64_t tier_permille, int64_t *weights,
                        struct patron__earning *e);

/* Inside the caller's transaction: finds the card's member, reviews the tier, and records the
 * sale, its lines and its earn entry. Fills *m (after the earn), *e and *sale_id; ORs a tier
 * change into *changed. */
int patron__sale_book(patron_store *s, const struct patron_sale *in, const struct patron_program *p,
                      struct patron__member_row *m, struct patron__earning *e, int64_t *sale_id,
                      int *changed);

/* Sets the sale's balance_after, which a replay answers, once offers or a referral moved it. */
int patron__sale_balance_after(patron_store *s, int64_t sale_id, int64_t balance);

/* Reads a recorded sale back as the answer to its request (replayed = 1): the sale's own part;
 * the checkout adds the offers' and the referral's. */
int patron__sale_result(patron_store *s, int64_t sale_id, struct patron_sale_result *out);

/* The name of a tier. */
int patron__sale_tier_name(patron_store *s, int64_t tier_id, char *buf, size_t len);

#endif
