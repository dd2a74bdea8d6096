/* SPDX-License-Identifier: MIT */
/* Posting to the ledger from inside a write's transaction: one double-entry row numbered by
 * (store_id, store_seq), both balances moved, and the member's lots kept in step (credits open
 * a lot, debits consume the oldest lots first). Never installed. */
#ifndef PATRON_LEDGER_INTERNAL_H
#define PATRON_LEDGER_INTERNAL_H

#include "member/member_internal.h"

struct patron__posting {
    const char *kind; /* earn, redeem, reverse, expire, adjust */
    int64_t points;   /* > 0 */
    int to_member;    /* 1: program -> member (credit), 0: member -> program (debit) */
    enum patron__program_account program;
    int64_t original_entry; /* the entry this one corrects, or 0 */
    int64_t sale_id, refund_id, redemption_id;
    const char *note;
    const char *approved_by;
    int64_t account;          /* a named program account's id used instead of `program`, or 0 */
    const char *account_name; /* that account's name, when the caller knows it (the entry's
                                 outbox row is then written without reading it back), or NULL */
    int64_t expires_at;       /* a credit's lot expiry instead of the expiry_days rule, or 0 */
    int uncapped;     /* a debit the counter cannot refuse (a refund's reversal): offline, it is
                         marked offline but not held to the offline caps */
    int keeps_answer; /* the entry keeps the member's points after it (balance_after): the
                         answer of a write that has no row of its own (an adjustment) */
};

/* Posts the movement for member m and updates m->balance. Returns 0 or a PATRON_* code. */
int patron__ledger_post(patron_store *s, struct patron__member_row *m,
                        const struct patron__posting *p, int64_t *entry_id);

#endif
