/* SPDX-License-Identifier: MIT */
/* What the offers share with the checkout and the scan: the handle's cache of running offers,
 * evaluation inside the sale's transaction, its replay, and the scan's list. Never installed. */
#ifndef PATRON_OFFER_INTERNAL_H
#define PATRON_OFFER_INTERNAL_H

#include "ledger/sale_internal.h"
#include "member/member_internal.h"
#include "patron/offer.h"
#include "patron/scan.h"

/* The running offers (not ended, window not passed at load time), in id order. */
struct patron__offer_cache {
    int64_t version;   /* rules_version it was read at */
    int64_t loaded_at; /* the clock when read; an earlier clock reads again */
    size_t n;
    struct patron_offer *v;
};

/* The cache, fresh for the rules and the clock. Borrowed from the handle. */
int patron__offer_cache_get(patron_store *s, const struct patron__offer_cache **out);

/* Inside the sale's transaction, after its own earn: evaluates the offers against the member
 * and the basket, posts bonus points, issues reward vouchers and records the uses, then reviews
 * the tier. Fills bonus_points, offers_applied and coupons of *out; ORs an upgrade into
 * *changed. e->points is the sale's base earn. */
int patron__offers_apply(patron_store *s, struct patron__member_row *m,
                         const struct patron_sale *in, const struct patron__earning *e,
                         int64_t sale_id, struct patron_sale_result *out, int *changed);

/* Fills r->offers with the offers the member is targeted by now, best first. */
int patron__offers_scan(patron_store *s, const struct patron__member_row *m,
                        struct patron_scan_result *r);

/* For a replayed sale: the offers, bonus points and coupons it got the first time. */
int patron__offers_replay(patron_store *s, int64_t sale_id, struct patron_sale_result *out);

/* Whether the member meets every target of `o` now, by the scan's own test. */
/* The offer `d` would be, its targets resolved (tier and segment by name), for counting its
 * audience (audience.c); PATRON_EINVAL with a sentence when a target is wrong. offer.c. */
int patron__offer_audience_target(patron_store *s, const struct patron_offer_def *d,
                                  struct patron_offer *o);
int patron__offer_targets_met(patron_store *s, const struct patron_offer *o,
                              const struct patron__member_row *m, int *met);

#endif
