/* SPDX-License-Identifier: MIT */
/* The one place a reward becomes a voucher and a coupon job (src/reward/coupon.c), for rewards
 * bought with points, rewards an offer gives, goodwill and refunds that give a reward back. Never
 * installed. */
#ifndef PATRON_COUPON_INTERNAL_H
#define PATRON_COUPON_INTERNAL_H

#include "member/member_internal.h"
#include "patron/reward.h"

/* A reward's coupon: its signed voucher and the print job that prints it. */
struct patron__coupon {
    int64_t redemption_id;
    uint64_t voucher_id;
    char token[244];
    char code[18];
    int64_t expires_at;
    int64_t print_job;
};

/* For a redemption already recorded: issues the reward's voucher for the member, queues its
 * coupon and links both to the redemption, in the caller's transaction. */
int patron__coupon_for_redemption(patron_store *s, int64_t member_id,
                                  const struct patron_reward *rw, int64_t redemption_id,
                                  struct patron__coupon *out);

/* A reward given free (an offer, goodwill): records a redemption of 0 points, then as above. */
int patron__coupon_issue(patron_store *s, const struct patron__member_row *m, int64_t reward_id,
                         int64_t offer_id, struct patron__coupon *out);

#endif
