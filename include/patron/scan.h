/* SPDX-License-Identifier: MIT */
/* What the cashier sees when a card is scanned: the member, their points and tier, points about
 * to expire, progress to the next tier, the rewards they can take now and the offers meant for
 * them (see patron/offer.h).
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_SCAN_H
#define PATRON_SCAN_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/member.h"
#include "patron/offer.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_SCAN_MAX_REWARDS 16
#define PATRON_SCAN_MAX_OFFERS 16

struct patron_scan_reward {
    int64_t reward_id;
    char name[128];
    int64_t cost;
};

struct patron_scan_result {
    struct patron_member member;
    int64_t expiring_points; /* points that expire within the notice period ... */
    int64_t expiring_at;     /* ... the earliest on this date (0 when none) */
    char next_tier[64];      /* "" at the top tier */
    int64_t points_to_next_tier;
    struct patron_scan_reward rewards[PATRON_SCAN_MAX_REWARDS]; /* affordable now, cheapest first */
    size_t n_rewards;
    /* offers the member is targeted by now, each with why; best first (points, then lowest id) */
    struct patron_offer_match offers[PATRON_SCAN_MAX_OFFERS];
    size_t n_offers;
};

/* Looks up the card and gathers what the cashier needs. Read-only but for a tier review when
 * the member's tier period has ended. Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT;
 * PATRON_ENOCARD. */
PATRON_EXPORT int patron_scan(patron_store *s, const char *card, struct patron_scan_result *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
