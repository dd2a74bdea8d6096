/* SPDX-License-Identifier: MIT */
/* What the ledger, rewards and scan need of a member inside a transaction: the row with its
 * account, balance and tier, looked up by a card already parsed. Never installed. */
#ifndef PATRON_MEMBER_INTERNAL_H
#define PATRON_MEMBER_INTERNAL_H

#include "core/store_internal.h"
#include "patron/member.h"

struct patron__member_row {
    int64_t member_id;
    int64_t account_id;
    int64_t balance;      /* this store's ledger account */
    int64_t chain_points; /* earned (less spent) in other stores, as of the last pull */
    int64_t tier_id;
    int64_t tier_until; /* 0 = never */
    int64_t tier_threshold;
    int64_t tier_multiplier_permille;
    int card_blocked;
    int erased;
    /* the member's chain identity as the checkout's look-up read it; "" when not read (outbox
     * rows then read it themselves) */
    char member_uid[40];
};

/* What the member holds, as every answer states it (a scan, a sale, a refund, a redemption, and
 * their replays): this store's ledger and what the chain holds elsewhere. */
static inline int64_t patron__member_points(const struct patron__member_row *m)
{
    return m->balance + m->chain_points;
}

/* Finds the member of a card (syntax checked here too). PATRON_ENOCARD when unknown; a blocked
 * card is refused with PATRON_EBLOCKED when `require_active`. */
int patron__member_for_card(patron_store *s, const char *card, int require_active,
                            struct patron__member_row *out);

/* patron_member_by_card that also fills the ledger row (row may be NULL). */
int patron__member_load(patron_store *s, const char *card, struct patron_member *out,
                        struct patron__member_row *row);

/* Reviews the member's tier: an earn may lift it (upgrade, new 12-month period); at the end of
 * the period it is set from the last 12 months' earnings. Updates the row in place. */
int patron__tier_review(patron_store *s, struct patron__member_row *m, int on_earn, int *changed);

/* Points earned (earnings less reversals) over the 12 months before now. */
int patron__earned_last_year(patron_store *s, int64_t member_id, int64_t *out);

/* The member row by id (account, balance, tier), for members met other than by their card. */
int patron__member_row_by_id(patron_store *s, int64_t member_id, struct patron__member_row *out);

/* Where an imported member comes from (0 or NULL for each: as at an enrolment now): their
 * enrolment time, the date and source of their consent answer (the first consent_changes row
 * carries both), and their tier with the end of its period. */
struct patron__member_origin {
    int64_t joined_at;
    int64_t consent_at;
    const char *consent_source;
    int64_t tier_id;
    int64_t tier_until;
};

/* Creates a member with their account inside the caller's transaction: with `card` (a parsed,
 * unused in-store number) as their card, or a newly minted one when it is NULL (its number goes
 * to `minted` when that is not NULL); `origin` may be NULL. The enrolment's rules apply
 * (PATRON_EINVAL with a detail). */
int patron__member_create(patron_store *s, const struct patron_enrollment *in, const char *card,
                          const struct patron__member_origin *origin, int64_t *member_id,
                          char minted[PATRON_CARD_DIGITS + 1]);

/* A chain pull's cursor: the text `sql` (a one-row SELECT) reads into out, "0" before the first
 * pull (member/chain.c, for chain_pull, chain_voucher_pull and chain_erasure_pull). */
int patron__chain_cursor_read(patron_store *s, const char *sql, char *out, size_t len);

#endif
