/* SPDX-License-Identifier: MIT */
/* The points ledger: sales earn, refunds reverse, rewards redeem, old lots expire, managers
 * adjust. Every movement is an append-only, double-entry row numbered (store_id, store_seq)
 * without gaps, written in one transaction with the member's balance; every write carries an
 * idempotency key (the same key and request answer the first result again, the same key with
 * another request is PATRON_EIDEMPOTENCY).
 *
 * Rounding, stated once: a sale earns
 *     floor(W * paid / lines * tier * earn_points / (earn_unit_minor * 1000 * 1000))
 * where W is the sum over lines of qty * unit price * category multiplier (thousandths), `paid`
 * is what the customer paid (the part paid with a reward earns nothing), `lines` the lines' sum
 * and `tier` the tier multiplier (thousandths). Offers may add bonus points (see offer.h). A
 * refund reverses, cumulatively over all refunds of the sale, floor(points earned * refunded
 * weight / W), where points earned counts the sale's own earn and its offers' bonus points: a
 * whole refund reverses exactly what was earned, a partial one never more than its share.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_LEDGER_H
#define PATRON_LEDGER_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/limits.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_SALE_MAX_LINES PATRON_LINES_MAX
#define PATRON_SALE_MAX_OFFERS 16 /* offers applied to one sale, at most (see offer.h) */
#define PATRON_SALE_MAX_COUPONS 8 /* reward vouchers one sale gives, at most */

struct patron_sale_line {
    const char *sku;      /* 1..63 bytes of UTF-8, no spaces (limits.h) */
    const char *category; /* 1..63 bytes of UTF-8, no spaces (limits.h) */
    int64_t qty;          /* 1..100000 */
    int64_t unit_minor;   /* 0..10^9 */
};

struct patron_sale {
    const char *card;
    const char *ref;                      /* the POS receipt number, unique in the store */
    int64_t total_minor;                  /* what the customer paid, 0..10^11 */
    const char *currency;                 /* NULL = the program's currency; another is refused */
    const struct patron_sale_line *lines; /* none: one line of category "general" of the total */
    size_t n_lines;
    const char *idempotency_key; /* required, 1..127 bytes */
};

/* A voucher a sale gave (an offer's reward benefit, a referral). */
struct patron_sale_coupon {
    int64_t offer_id;
    int64_t reward_id;
    int64_t redemption_id;
    uint64_t voucher_id; /* 0 while the voucher is not issued */
    char code[18];       /* its typable code, "" while not issued */
};

struct patron_sale_result {
    int64_t sale_id;
    int64_t member_id;
    int64_t points_earned;
    int64_t points; /* balance after the sale (in a chain, with what it holds elsewhere) */
    char tier[64];  /* tier after the sale */
    int tier_upgraded;
    int replayed;         /* 1 when this answers an earlier request with the same key */
    int64_t bonus_points; /* added by offers and a referral, beyond points_earned */
    int64_t offers_applied[PATRON_SALE_MAX_OFFERS];
    size_t n_offers_applied;
    struct patron_sale_coupon coupons[PATRON_SALE_MAX_COUPONS];
    size_t n_coupons;
};

/* Records a sale and earns its points. Returns 0; PATRON_EINVAL / PATRON_ECHECKDIGIT for bad
 * input; PATRON_ENOCARD; PATRON_EBLOCKED; PATRON_EIDEMPOTENCY when the key was used by a
 * different request; PATRON_EDUPLICATE when the ref was already recorded under another key (the
 * detail names the first sale). Durable on return. */
PATRON_EXPORT int patron_sale_record(patron_store *s, const struct patron_sale *in,
                                     struct patron_sale_result *out)
    __attribute__((warn_unused_result));

struct patron_refund_line {
    const char *sku;
    int64_t qty;
};

struct patron_refund {
    const char *ref;                        /* the sale's ref */
    const struct patron_refund_line *lines; /* none: everything not yet refunded */
    size_t n_lines;
    const char *idempotency_key; /* required */
    const char *return_ref; /* the return receipt's number (1..63 bytes, no spaces), unique in the
                               store like a sale's ref; NULL: none, the key alone names it */
    /* A chain store online claims the reversal at head office first (src/hq): claimed = 1 and
     * claimed_points what head office granted. The clamp policy then reverses at most that,
     * the rest being the shortfall. claimed = 0: the clamp policy reverses at most the member's
     * last known chain balance (this store's ledger plus what the last sync said they hold in
     * other stores; a store without a head office: its own ledger). */
    int claimed;
    int64_t claimed_points;
};

struct patron_refund_result {
    int64_t refund_id;
    int64_t sale_id;
    int64_t member_id;
    int64_t points_reversed;
    int64_t shortfall;        /* points the policy could not take back (clamp policy) */
    int64_t points;           /* balance after */
    int64_t rewards_returned; /* reward vouchers given back (refund_returns_reward = 1) */
    int replayed; /* 1 when this answers an earlier request with the same key or return_ref */
    char return_ref[64]; /* "" for a refund recorded without one */
};

/* Reverses the points of a sale, whole or in part, line by line. When the refund completes the
 * sale and the program's refund_returns_reward is 1, every reward voucher redeemed against the
 * sale (by its ref) comes back to the member as a new coupon. Each refund is a request of its
 * own: the same key, or the same return_ref with the same sale and lines, answers the first
 * refund again (replayed = 1). Returns 0; PATRON_ENOSALE; PATRON_EREFUND when more would be
 * refunded than was sold; PATRON_EIDEMPOTENCY; PATRON_EDUPLICATE when the return_ref was
 * recorded for another request (the detail names the first refund). */
PATRON_EXPORT int patron_refund_record(patron_store *s, const struct patron_refund *in,
                                       struct patron_refund_result *out)
    __attribute__((warn_unused_result));

/* What a refund would take back, read without writing (the same rule patron_refund_record
 * applies), for its claim at head office before the write. */
struct patron_refund_preview {
    int64_t member_id;
    int64_t points_owed; /* the points the refunded lines owe back (0: none) */
    int64_t balance;     /* the member's balance in this store's own ledger */
    int clamp;           /* the program's refund_policy is clamp */
    int recorded;        /* the return_ref is recorded already: a retry, nothing to claim */
    char member_uid[32]; /* the member's chain identity ("" when the store has none) */
};

/* Fills *out for refund `in` (its key is not needed). Returns 0 or the code the refund itself
 * would return (PATRON_ENOSALE, PATRON_EREFUND, PATRON_EINVAL). */
PATRON_EXPORT int patron_refund_preview(patron_store *s, const struct patron_refund *in,
                                        struct patron_refund_preview *out)
    __attribute__((warn_unused_result));

struct patron_adjustment {
    const char *card;
    int64_t points;      /* positive credits, negative debits; not 0 */
    const char *reason;  /* required */
    const char *manager; /* required: who approved it */
    const char *idempotency_key;
};

struct patron_adjust_result {
    int64_t entry_id;
    int64_t points; /* balance after */
    int replayed;   /* 1 when this answers an earlier request with the same key */
};

/* A manual correction approved by a manager. The same key with the same request answers the
 * first answer again, its entry and its points (replayed = 1), however the balance moved since;
 * an adjustment written before schema 27 kept no points and answers the balance now. Returns 0;
 * PATRON_EINVAL without a reason or manager; PATRON_ENOFUNDS when a debit would take the balance
 * below zero; PATRON_EIDEMPOTENCY when the key was used by another request. */
PATRON_EXPORT int patron_ledger_adjust(patron_store *s, const struct patron_adjustment *in,
                                       struct patron_adjust_result *out)
    __attribute__((warn_unused_result));

struct patron_expiry_result {
    int64_t lots_expired;
    int64_t points_expired;
    int64_t members_downgraded; /* tiers reviewed whose period had ended */
};

/* Expires every lot whose time has come, first in first out, and reviews tiers whose period
 * ended. Deterministic: running it again at the same time changes nothing. */
PATRON_EXPORT int patron_ledger_expire(patron_store *s, struct patron_expiry_result *out)
    __attribute__((warn_unused_result));

/* How far the clock may run ahead of the store's last recorded time before a change to many
 * members at once (expiry) asks for confirmation. */
#define PATRON_CLOCK_AHEAD_MAX INT64_C(86400)

struct patron_expiry_preview {
    int64_t points;           /* points that would expire at the store's clock */
    int64_t lots;             /* lots they come from */
    int64_t members;          /* members who would lose points */
    int64_t now;              /* the store's clock */
    int64_t last_recorded_at; /* the newest ledger entry's or sale's time; 0 when none */
    int clock_ahead;          /* now > last_recorded_at + PATRON_CLOCK_AHEAD_MAX (and one exists) */
};

/* What patron_ledger_expire() would do now, changing nothing, and whether the clock runs more
 * than a day ahead of what the store last recorded (a mistyped --now or a wrong system clock):
 * front ends ask for confirmation then. Returns 0 or a database error. */
PATRON_EXPORT int patron_ledger_expire_preview(patron_store *s, struct patron_expiry_preview *out)
    __attribute__((warn_unused_result));

struct patron_verify_result {
    int ok;
    int64_t members_checked;
    int64_t accounts_bad; /* balances that differ from their entries */
    int64_t lots_bad;     /* members whose open lots do not add up to their balance */
    int64_t program_sum;  /* sum of all balances: 0 when the program balances */
    int64_t seq_gaps;     /* missing store_seq numbers */
    char first_problem[200];
    int64_t outbox_gaps;    /* missing or foreign outbox store_seq numbers (outbox.h) */
    int64_t outbox_missing; /* ledger entries without their outbox row */
};

/* Proves each balance equals its entries, that open lots match balances, that store_seq has no
 * gaps, that the program balances, and that the outbox is numbered without gaps and holds a row
 * for every ledger entry. Returns 0 (see out->ok) or a PATRON_* error. */
PATRON_EXPORT int patron_ledger_verify(patron_store *s, struct patron_verify_result *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
