/* SPDX-License-Identifier: MIT */
/* The JSON shape of every result that both the `patron` program (`--json`) and the counter
 * service (`patron serve`) give, built in one place so the two cannot drift: the field names of
 * the interface contract, times as ISO 8601 UTC ("2026-01-15T10:00:00Z", null when unset), money
 * in minor units and points as integers, voucher ids as 16 hex digits.
 *
 * Not included by patron/patron.h, because it brings in jansson's header.
 *
 * Every builder returns 0 and sets *out to a new object (the caller owns the reference and
 * frees it with json_decref), or PATRON_ENOMEM with *out untouched. Inputs are borrowed.
 * Thread-safety: the builders keep no state and may run on any thread; patron_json_offer reads
 * the store's clock only. */
#ifndef PATRON_JSON_H
#define PATRON_JSON_H

#include "patron/export.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "patron/error.h"
#include "patron/feedback.h"
#include "patron/import.h"
#include "patron/ledger.h"
#include "patron/member.h"
#include "patron/offer.h"
#include "patron/print.h"
#include "patron/reward.h"
#include "patron/scan.h"
#include "patron/voucher.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A time as an ISO 8601 UTC JSON string, or JSON null for 0. A new reference; NULL only when
 * out of memory. */
PATRON_EXPORT json_t *patron_json_time(int64_t unix_seconds);

/* Reads "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SS" with an optional "Z". Returns 0
 * and sets *out (Unix seconds), or PATRON_EINVAL. */
PATRON_EXPORT int patron_json_time_parse(const char *text, int64_t *out)
    __attribute__((warn_unused_result));

/* A member: member_id, name, card, card_blocked, erased, points, tier, tier_until, created_at
 * (and member_since, the same time), email, phone, birthday, consent_marketing, consent_at. */
PATRON_EXPORT int patron_json_member(const struct patron_member *m, json_t **out)
    __attribute__((warn_unused_result));

/* What an imported member brought (patron_import_member_facts): batch, ref, lifetime_points,
 * tier (null when the file had none) and old_cards (the aliases that scan). `patron member show`
 * and GET /v1/members/{card} add it as "imported" for an imported member. */
PATRON_EXPORT int patron_json_import_facts(const struct patron_import_facts *f, json_t **out)
    __attribute__((warn_unused_result));

/* An import's report (patron_import_members): batch, dry_run, already_imported, rows_read,
 * created, matched, updated, skipped, failed, file_points, points_posted, migration_balance,
 * account, aliases, rejects_file and `errors` (its rows' errors, a new reference taken). The
 * `report` of `patron import members --json` and of GET /v1/imports/{id}. */
PATRON_EXPORT int patron_json_import_report(const struct patron_import_report *r, json_t *errors,
                                            json_t **out) __attribute__((warn_unused_result));

/* A new member: member_id and card. */
PATRON_EXPORT int patron_json_enrollment(const struct patron_member *m, json_t **out)
    __attribute__((warn_unused_result));

/* What the cashier sees: the member's fields, rewards (reward_id, name, cost), offers (as
 * patron_json_offer_matches), expiring_points, expiring_at (time) and expiring_on (its date),
 * next_tier, points_to_next_tier. */
PATRON_EXPORT int patron_json_scan(const struct patron_scan_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* An array of offers as the checkout shows them: offer_id, name, why, benefit, points,
 * exclusive, reward_id (null unless the benefit is a reward). */
PATRON_EXPORT int patron_json_offer_matches(const struct patron_offer_match *v, size_t n,
                                            json_t **out) __attribute__((warn_unused_result));

/* A sale: sale_id, member_id, points_earned, bonus_points, points, tier, tier_upgraded,
 * replayed, offers_applied (ids), coupons (offer_id, reward_id, redemption_id, voucher_id,
 * code). */
PATRON_EXPORT int patron_json_sale(const struct patron_sale_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* A refund: refund_id, sale_id, member_id, points_reversed, shortfall, points,
 * rewards_returned, return_ref (null when it has none), replayed. */
PATRON_EXPORT int patron_json_refund(const struct patron_refund_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* The catalogue: rewards (reward_id, name, cost, kind, value, currency, valid_days) holding the
 * first n of v, and count, how many there are. */
PATRON_EXPORT int patron_json_rewards(const struct patron_reward *v, size_t n, size_t count,
                                      json_t **out) __attribute__((warn_unused_result));

/* A reward redemption: redemption_id, member_id, points_spent, points, voucher_id, token, code,
 * expires_at, print_job (null until issued), replayed. */
PATRON_EXPORT int patron_json_redemption(const struct patron_redeem_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* A voucher checked (valid: true) or redeemed (redemption_id, replayed): voucher_id, value,
 * kind, currency, expires_at, code, key_id, member_id, store_scope, online_only,
 * non_transferable, foreign. */
PATRON_EXPORT int patron_json_voucher_check(const struct patron_voucher_result *r, json_t **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_json_voucher_redeem(const struct patron_voucher_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* A voucher as the register knows it: the voucher fields above and status, token, redeemed_at,
 * redeemed_ref, voided_at, void_reason. */
PATRON_EXPORT int patron_json_voucher_info(const struct patron_voucher_info *v, json_t **out)
    __attribute__((warn_unused_result));

/* A print job: job_id, template, status ("queued", "sending", "printed"), attempts,
 * created_at, printed_at, last_error, reprint_of. The list: jobs (the first n of v) and count. */
PATRON_EXPORT int patron_json_print_job(const struct patron_print_job *j, json_t **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_json_print_jobs(const struct patron_print_job *v, size_t n, size_t count,
                                         json_t **out) __attribute__((warn_unused_result));

/* An offer definition with its status at the store's clock: offer_id, name, status, benefit,
 * exclusive, birthday_month, first_visit, uses, created_by, and tier, category, within_days,
 * lapsed_days, segment, min_basket, sku, basket_category, from, to, limit_per_member,
 * limit_total, limit_per_day, ended_at (null when unset). The list: offers and count. */
PATRON_EXPORT int patron_json_offer(const patron_store *s, const struct patron_offer *o,
                                    json_t **out) __attribute__((warn_unused_result));
PATRON_EXPORT int patron_json_offers(const patron_store *s, const struct patron_offer *v, size_t n,
                                     size_t count, json_t **out)
    __attribute__((warn_unused_result));

/* A goodwill gesture: goodwill_id, member_id, reward_id, redemption_id, voucher_id, code,
 * print_job, issued_today, daily_limit, replayed. */
PATRON_EXPORT int patron_json_goodwill(const struct patron_goodwill_result *r, json_t **out)
    __attribute__((warn_unused_result));

/* Feedback recorded: feedback_id, score. */
PATRON_EXPORT int patron_json_feedback(int64_t feedback_id, int score, json_t **out)
    __attribute__((warn_unused_result));

/* A consent answer, from the member as read after it: member_id, card, consent_marketing,
 * consent_source (`source`, NULL = "counter"), consent_at. */
PATRON_EXPORT int patron_json_consent(const struct patron_member *m, const char *source,
                                      json_t **out) __attribute__((warn_unused_result));

/* An erasure: member_id, erased (true). */
PATRON_EXPORT int patron_json_erasure(int64_t member_id, json_t **out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
