/* SPDX-License-Identifier: MIT */
/* Offers: targeted, time-boxed benefits (bonus points, a points multiplier, a free reward) that
 * the checkout shows at scan and applies at the sale, inside the sale's transaction, with an
 * explanation of why each one applies. Saved segments (named lists of members) are a target.
 *
 * The rules, stated once:
 * - Target. An offer names zero or more targets and the member must meet ALL of them: tier at
 *   least T (by threshold); bought category C within D days (sales before this one); birthday in
 *   the current month (UTC); lapsed: the last earlier sale is at least D days old (win-back; a
 *   member who never bought is not lapsed); first visit: no earlier sale (welcome); a member of a
 *   saved segment. An offer with no target is for every member. Targeted offers are seen only by
 *   their targets: scan and evaluation never reveal an offer to a member who does not meet it.
 * - Trigger. Every offer is shown at scan to its targets. At a sale it applies when the basket
 *   meets ALL its triggers: total paid at least min_basket_minor; holds SKU s; holds a line of
 *   category c. An offer with no trigger applies to any sale of its targets.
 * - Window and limits. It applies from valid_from (inclusive) to valid_to (exclusive), until
 *   ended; at most limit_per_member times per member, limit_total times in all, limit_per_day
 *   times per UTC day over all members (0 = no limit).
 * - Value for the member, in points: bonus P is worth P; multiplier X is worth
 *   floor(base * (X - 1)) where base is what the sale earns by the ordinary rule (several
 *   multipliers each add their own extra, never compounded); a reward is worth its cost.
 *   An offer worth 0 points to this sale (a multiplier on a sale that earns nothing) does not
 *   apply and is not counted.
 * - Stacking. Offers are evaluated in id order. Combinable offers (not exclusive) all apply
 *   together, the first PATRON_SALE_MAX_OFFERS of them. An exclusive offer combines with
 *   nothing: the candidates are each exclusive offer alone and the set of all combinable ones,
 *   and the best for the member wins: the highest value in points, ties to the candidate whose
 *   lowest offer id is lowest.
 * - Booking. Bonus and multiplier points are `earn` entries of their own (note "offer N: name")
 *   on the sale, so a refund reverses them in proportion with the sale's own points. A reward
 *   benefit is a redemption of 0 points that becomes a voucher; refunds do not take it back.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_OFFER_H
#define PATRON_OFFER_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/ledger.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Offers that are neither ended nor past their window, at most. */
#define PATRON_OFFER_MAX_ACTIVE 1000
#define PATRON_OFFER_WHY_MAX 320

enum patron_offer_benefit {
    PATRON_BENEFIT_BONUS = 0,      /* value: points */
    PATRON_BENEFIT_MULTIPLIER = 1, /* value: thousandths (2000 = double points), 1001..10000 */
    PATRON_BENEFIT_REWARD = 2,     /* value: a reward id, given free as a voucher */
};

/* "bonus:50", "multiplier:2" or "multiplier:1.5" (up to three decimals), "reward:7". Returns 0
 * or PATRON_EINVAL. */
PATRON_EXPORT int patron_offer_benefit_parse(const char *text, enum patron_offer_benefit *kind,
                                             int64_t *value);
/* The inverse of parse, into buf (at least 32 bytes). */
PATRON_EXPORT void patron_offer_benefit_format(enum patron_offer_benefit kind, int64_t value,
                                               char *buf, size_t len);

struct patron_offer_def {
    const char *name; /* required, 1..127 bytes */
    /* targets (all that are set must hold) */
    const char *tier;     /* tier at least this one, by name; NULL = any */
    const char *category; /* bought this category ... */
    int64_t within_days;  /* ... within this many days (1..3650); both or neither */
    int birthday_month;   /* birthday in the current month */
    int64_t lapsed_days;  /* no sale for at least this many days (1..3650); 0 = not a target */
    int first_visit;      /* no sale yet */
    const char *segment;  /* a saved segment, by name; NULL = none */
    /* triggers at the sale (all that are set must hold) */
    int64_t min_basket_minor;    /* 0 = none */
    const char *sku;             /* NULL = none */
    const char *basket_category; /* NULL = none */
    /* benefit */
    enum patron_offer_benefit benefit;
    int64_t benefit_value;
    int exclusive;
    int64_t valid_from, valid_to;                         /* Unix seconds; 0 = open */
    int64_t limit_per_member, limit_total, limit_per_day; /* 0 = no limit */
    const char *created_by;                               /* who; NULL = "system" */
};

struct patron_offer {
    int64_t offer_id;
    char name[128];
    int64_t tier_id; /* 0 = any */
    char tier[64];
    int64_t tier_threshold;
    char category[64];
    int64_t within_days;
    int birthday_month;
    int64_t lapsed_days;
    int first_visit;
    int64_t segment_id; /* 0 = none */
    char segment[64];
    int64_t min_basket_minor;
    char sku[64];
    char basket_category[64];
    enum patron_offer_benefit benefit;
    int64_t benefit_value;
    char reward_name[128]; /* for a reward benefit */
    int64_t reward_cost;
    int reward_active;
    int exclusive;
    int64_t valid_from, valid_to;
    int64_t limit_per_member, limit_total, limit_per_day;
    int64_t created_at;
    char created_by[64];
    int64_t ended_at; /* 0 while running */
    int64_t uses;     /* times applied so far */
};

/* Adds an offer after checking it can ever apply. Returns 0 and sets *offer_id; PATRON_EINVAL
 * with the detail saying why (an impossible window, conflicting rules such as first visit with
 * lapsed, a multiplier not above 1, an unknown tier, segment or reward); PATRON_ELIMIT when
 * PATRON_OFFER_MAX_ACTIVE offers are running. Recorded in the rule changes with who. */
PATRON_EXPORT int patron_offer_add(patron_store *s, const struct patron_offer_def *def,
                                   int64_t *offer_id) __attribute__((warn_unused_result));

/* Reads one offer. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_offer_get(patron_store *s, int64_t offer_id, struct patron_offer *out)
    __attribute__((warn_unused_result));

/* Copies up to `cap` offers in id order (only those not ended unless include_ended) into out;
 * *count receives how many there are. */
PATRON_EXPORT int patron_offer_list(patron_store *s, int include_ended, struct patron_offer *out,
                                    size_t cap, size_t *count) __attribute__((warn_unused_result));

/* Ends an offer now. Returns 0; PATRON_ENOTFOUND; PATRON_EINACTIVE when already ended. */
PATRON_EXPORT int patron_offer_end(patron_store *s, int64_t offer_id, const char *who)
    __attribute__((warn_unused_result));

/* "scheduled", "running", "over" (window passed) or "ended", at the store's clock. */
PATRON_EXPORT const char *patron_offer_status(const patron_store *s, const struct patron_offer *o);

/* Adds the member of `card` to the saved segment `name` (1..63 bytes), creating it when new.
 * Returns 0 (also when already a member); PATRON_EINVAL; PATRON_ENOCARD. */
PATRON_EXPORT int patron_segment_add(patron_store *s, const char *name, const char *card)
    __attribute__((warn_unused_result));

/* One offer as the cashier or the receipt sees it. */
struct patron_offer_match {
    int64_t offer_id;
    char name[128];
    char why[PATRON_OFFER_WHY_MAX]; /* the targets met and the triggers, in words */
    char benefit[32];               /* as patron_offer_benefit_format writes it */
    int64_t points;                 /* value in points (at scan a multiplier is worth 0) */
    int64_t reward_id;              /* for a reward benefit, else 0 */
    int exclusive;
};

struct patron_offer_evaluation {
    struct patron_offer_match applied[PATRON_SALE_MAX_OFFERS]; /* id order */
    size_t n_applied;
    int64_t base_points;  /* what the sale earns without offers */
    int64_t bonus_points; /* what the applied offers add in points */
    size_t n_candidates;  /* offers whose window, target and trigger held (limits are asked
                             only of the offers that would be chosen) */
};

/* A dry run at the till: which offers a sale of this basket would get now and why, by the same
 * code the sale uses, without writing anything. `sale` is read for card, lines and total only.
 * Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT; PATRON_ENOCARD; PATRON_EBLOCKED. */
PATRON_EXPORT int patron_offer_evaluate(patron_store *s, const struct patron_sale *sale,
                                        struct patron_offer_evaluation *out)
    __attribute__((warn_unused_result));

/* The audience of an offer's targets, for the back office while an offer is being written:
 * how many members meet the targets of `def` now (tier, category within days, birthday month,
 * lapsed days, first visit, segment; the rest of def is not read) and the first of them in
 * member order, by the same test the scan and the sale use. Erased members and members without
 * an active card are not counted (their card cannot be scanned). */
#define PATRON_OFFER_SAMPLE_MAX 10
struct patron_offer_audience {
    int64_t count;   /* members targeted */
    int64_t members; /* members looked at */
    size_t n_sample;
    struct {
        char card[16];
        char name[PATRON_NAME_MAX + 1];
    } sample[PATRON_OFFER_SAMPLE_MAX];
};

/* Fills *out with up to `sample` (at most PATRON_OFFER_SAMPLE_MAX) members of the audience.
 * Returns 0; PATRON_EINVAL (the targets as patron_offer_add refuses them, an unknown tier or
 * segment). Reads only. */
PATRON_EXPORT int patron_offer_audience(patron_store *s, const struct patron_offer_def *def,
                                        size_t sample, struct patron_offer_audience *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
