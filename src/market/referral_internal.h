/* SPDX-License-Identifier: MIT */
/* What the checkout (src/checkout/checkout.c) asks of referrals: the bonus on a referee's first
 * qualifying sale, and what that bonus was when the sale is replayed. Never installed. */
#ifndef PATRON_REFERRAL_INTERNAL_H
#define PATRON_REFERRAL_INTERNAL_H

#include "member/member_internal.h"
#include "patron/ledger.h"

/* Inside the sale's transaction: pays the referral bonus to both when this is the referee's
 * first qualifying sale. Adds to out->bonus_points and sets the sale's balance_after. */
int patron__referral_on_sale(patron_store *s, struct patron__member_row *m,
                             const struct patron_sale *in, int64_t sale_id,
                             struct patron_sale_result *out, int *changed);

/* For a replayed sale: adds the referral bonus it paid the first time to out->bonus_points. */
int patron__referral_replay(patron_store *s, int64_t sale_id, struct patron_sale_result *out);

#endif
