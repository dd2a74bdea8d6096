/* SPDX-License-Identifier: MIT */
/* The program's rules: earning rate and its rounding, category multipliers and exclusions,
 * tiers, expiry, refund policy. They live in the database and change only through these calls,
 * each change recorded with who made it and when.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_PROGRAM_H
#define PATRON_PROGRAM_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a refund does when the member has already spent the points it reverses. */
enum patron_refund_policy {
    PATRON_REFUND_CLAMP = 0,    /* reverse only what is left; record the shortfall */
    PATRON_REFUND_NEGATIVE = 1, /* reverse everything; the balance may go below zero */
};

struct patron_program {
    char currency[4];           /* ISO 4217 code of the program's money */
    int64_t earn_points;        /* earn_points points ... */
    int64_t earn_unit_minor;    /* ... per earn_unit_minor minor units paid (rounded down) */
    int64_t expiry_days;        /* lots expire this many days after they were earned; 0 = never */
    int64_t expiry_notice_days; /* scan warns of points expiring within this many days */
    enum patron_refund_policy refund_policy;
    int64_t point_value_minor_per_100; /* money value of 100 points, for the liability report */
};

/* Reads the rules. Returns 0 or PATRON_EDB. */
PATRON_EXPORT int patron_program_get(patron_store *s, struct patron_program *out)
    __attribute__((warn_unused_result));

/* Changes one rule by name: "currency", "earn_points", "earn_unit_minor", "expiry_days",
 * "expiry_notice_days", "refund_policy" ("clamp" | "negative"), "point_value_minor_per_100",
 * "goodwill_per_manager_per_day" (goodwill vouchers one manager may issue a day, default 5),
 * "referral_bonus_points" (what referrer and referee each earn, default 100),
 * "referral_min_basket_minor" (the smallest first purchase that qualifies, default 0),
 * "chain_offline_member_cap" and "chain_offline_store_cap" (points one member, and all members
 * together, may spend at this store between syncs while head office cannot be reached; defaults
 * 500 and 5000),
 * "phone_country_code" (the calling code imports give national phone numbers; 0, the default,
 * refuses them).
 * Returns 0; PATRON_EINVAL for an unknown name or a value out of range (detail says the range). */
PATRON_EXPORT int patron_program_set(patron_store *s, const char *name, const char *value,
                                     const char *who) __attribute__((warn_unused_result));

/* Sets a category's earning multiplier in thousandths (1000 = normal, 0 = earns nothing, as for
 * gift cards). Categories not set earn at 1000. Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_category_set(patron_store *s, const char *category,
                                      int64_t multiplier_permille, const char *who)
    __attribute__((warn_unused_result));

/* The multiplier of a category (1000 when it has none of its own). */
PATRON_EXPORT int64_t patron_category_multiplier(patron_store *s, const char *category);

struct patron_tier {
    int64_t tier_id;
    char name[64];
    int64_t threshold;           /* points earned over the last 12 months to qualify */
    int64_t multiplier_permille; /* applied to everything the member earns */
};

/* Adds or changes a tier (by name). The tier with threshold 0 is the base every member starts
 * in. Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_tier_set(patron_store *s, const char *name, int64_t threshold,
                                  int64_t multiplier_permille, const char *who)
    __attribute__((warn_unused_result));

/* Copies up to `cap` tiers, lowest threshold first, into out; *count receives how many exist. */
PATRON_EXPORT int patron_tier_list(patron_store *s, struct patron_tier *out, size_t cap,
                                   size_t *count) __attribute__((warn_unused_result));

/* The program publication of head office this store applied last (0: none yet, the store's own
 * program). Returns 0 or PATRON_EDB. */
PATRON_EXPORT int patron_program_version(patron_store *s, int64_t *version)
    __attribute__((warn_unused_result));

/* Records that publication `version` (> 0) is applied, in the rule changes with `who`; part of the
 * caller's transaction when one is open. Returns 0, PATRON_EINVAL or PATRON_EDB. */
PATRON_EXPORT int patron_program_version_set(patron_store *s, int64_t version, const char *who)
    __attribute__((warn_unused_result));

/* One change of the rules, as recorded: the key ("earn_points", "tier:Gold", "category:gift",
 * "offer:7", "reward:3", ...), the value before (empty with has_old 0 when new) and after, who
 * and when. */
struct patron_rule_change {
    int64_t change_id;
    char key[96];
    int has_old;
    char old_value[256];
    char new_value[256];
    char changed_by[64];
    int64_t changed_at;
};

/* Copies up to `cap` rule changes whose key starts with `prefix` ("" or NULL = all), newest
 * first, into out; *count receives how many match. Returns 0 or PATRON_EDB. */
PATRON_EXPORT int patron_rule_changes(patron_store *s, const char *prefix,
                                      struct patron_rule_change *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
