/* SPDX-License-Identifier: MIT */
/* What offers share with the sale, the scan and each other: the handle's cache of running offers,
 * evaluation inside the sale's transaction, the scan's list, and the one place a free reward
 * becomes a voucher (offers, goodwill, referrals). Never installed. */
#ifndef PATRON_OFFER_INTERNAL_H
#define PATRON_OFFER_INTERNAL_H

#include "member_internal.h"
#include "patron/offer.h"
#include "patron/reward.h"
#include "patron/scan.h"
#include "sale_internal.h"

/* The running offers (not ended, window not passed at load time), in id order. */
struct patron__offer_cache {
    int64_t version;   /* rules_version it was read at */
    int64_t loaded_at; /* the clock when read; an earlier clock reads again */
    size_t n;
    struct patron_offer *v;
};

/* The cache, fresh for the rules and the clock. Borrowed from the handle. */
int patron__offer_cache_get(patron_store *s, const struct patron__offer_cache **out);

/* The UTC day number of a time, the unit of the daily limits. */
#define PATRON__DAY(t) ((t) / 86400)

/* Inside the sale's transaction, after its own earn: evaluates the offers against the member
 * and the basket, posts bonus points, issues reward vouchers and records the uses, then reviews
 * the tier. Fills bonus_points, offers_applied and coupons of *out; ORs an upgrade into
 * *changed. e->points is the sale's base earn. */
int patron__offers_apply(patron_store *s, struct patron__member_row *m,
                         const struct patron_sale *in, const struct patron__earning *e,
                         int64_t sale_id, struct patron_sale_result *out, int *changed);

/* Inside the sale's transaction: pays the referral bonus to both when this is the referee's
 * first qualifying sale. Adds to out->bonus_points. */
int patron__referral_on_sale(patron_store *s, struct patron__member_row *m,
                             const struct patron_sale *in, int64_t sale_id,
                             struct patron_sale_result *out, int *changed);

/* Fills r->offers with the offers the member is targeted by now, best first. */
int patron__offers_scan(patron_store *s, const struct patron__member_row *m,
                        struct patron_scan_result *r);

/* Sets the sale's balance_after, which a replay answers, once offers or a referral moved it. */
int patron__sale_balance_after(patron_store *s, int64_t sale_id, int64_t balance);

/* For a replayed sale: the offers, bonus points and coupons it got the first time. */
int patron__offers_replay(patron_store *s, int64_t sale_id, struct patron_sale_result *out);

/* A reward's coupon: its signed voucher and the print job that prints it (src/coupon.c). */
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

/* The member row by id (account, balance, tier), for members met other than by their card. */
int patron__member_row_by_id(patron_store *s, int64_t member_id, struct patron__member_row *out);

/* Whether text is 1..cap-1 bytes of UTF-8 without control characters (patron_text_check). */
int patron__printable(const char *text, size_t cap);

#endif
