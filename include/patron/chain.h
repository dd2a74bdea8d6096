/* SPDX-License-Identifier: MIT */
/* The chain as a store sees it (issue 11): members and cards enrolled at other stores and each
 * member's chain balance, brought down from head office (src/hq does the talking; libpatron only
 * keeps what it is given). Everything arrives between patron_chain_begin and patron_chain_commit,
 * in one SQLite transaction, and writes no outbox row: none of it is this store's fact.
 *
 * A member keeps their chain-wide identity, member_uid "<home store id>-<member id there>". The
 * part of a member's balance earned (less spent) in other stores is kept as the member's
 * chain_points, as of the last pull, and added to this store's ledger balance for what the member
 * may spend and what a scan shows; the store's own ledger stays its own and balances as before.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_CHAIN_H
#define PATRON_CHAIN_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A member enrolled at another store. Text may be NULL (unknown or erased). */
struct patron_chain_member {
    const char *member_uid; /* "<home store>-<id>" */
    const char *name, *email, *phone, *birthday;
    int consent_marketing;
    int64_t consent_at; /* 0: never */
    int64_t created_at;
    int erased; /* erased at head office: the store erases its copy too */
};

/* A card issued at another store, to a member known here (or arriving in the same pull). */
struct patron_chain_card {
    const char *number;
    const char *member_uid;
    int blocked;
    int64_t issued_at;
};

/* A member's chain balance less what this store contributed: the part held elsewhere. */
struct patron_chain_balance {
    const char *member_uid;
    int64_t points; /* spendable points earned less spent in other stores */
    int64_t earned; /* lifetime points earned in other stores */
};

/* Starts a pull's transaction. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_chain_begin(patron_store *s) __attribute__((warn_unused_result));

/* Keeps or updates a member of another store (a member whose home is this store is left as it
 * is). PATRON_EINVAL for a member_uid that is not "<store>-<id>". */
PATRON_EXPORT int patron_chain_put_member(patron_store *s, const struct patron_chain_member *m)
    __attribute__((warn_unused_result));

/* Keeps a card of another store, or its block. A card whose member is unknown here, or whose
 * number this store gave someone else, is left out (*kept = 0; kept may be NULL). */
PATRON_EXPORT int patron_chain_put_card(patron_store *s, const struct patron_chain_card *c,
                                        int *kept) __attribute__((warn_unused_result));

/* Sets the member's chain_points and chain_earned; a member unknown here is left out. What
 * they earned elsewhere counts for their tier here: an earn that reaches a higher tier lifts it. */
PATRON_EXPORT int patron_chain_put_balance(patron_store *s, const struct patron_chain_balance *b)
    __attribute__((warn_unused_result));

/* Commits the pull and, when cursor is not NULL, keeps it as where the next pull starts.
 * Returns 0 or a PATRON_* code (the transaction is rolled back on failure). */
PATRON_EXPORT int patron_chain_commit(patron_store *s, const char *cursor)
    __attribute__((warn_unused_result));

/* Abandons the pull: nothing of it stays. */
PATRON_EXPORT void patron_chain_rollback(patron_store *s);

/* The chain-wide identity of the member holding `card` (into uid, at least 32 bytes) and this
 * store's own ledger balance for them, for a claim at head office. Returns 0, PATRON_ENOCARD,
 * PATRON_EINVAL / PATRON_ECHECKDIGIT for a mistyped number. */
PATRON_EXPORT int patron_chain_member_of_card(patron_store *s, const char *card, char *uid,
                                              size_t len, int64_t *local_points)
    __attribute__((warn_unused_result));

/* Where the next pull starts ("0" before the first) into out. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_chain_cursor(patron_store *s, char *out, size_t len)
    __attribute__((warn_unused_result));

/* An erasure anywhere in the chain, as head office recorded it (the first store's). */
struct patron_chain_erasure {
    const char *member_uid;
    int store_id;      /* the store that erased the member */
    int64_t erased_at; /* that store's clock */
};

/* Where the next pull of erasures starts ("0" before the first) into out. Returns 0 or a
 * PATRON_* code. */
PATRON_EXPORT int patron_chain_erasure_cursor(patron_store *s, char *out, size_t len)
    __attribute__((warn_unused_result));

/* Erases here, in one transaction with the new cursor, every member of `e` this store knows and
 * has not erased itself yet, exactly as `patron member erase` would (patron/privacy.h): personal
 * data and its copies scrubbed, cards blocked, the ledger left balanced; the store's erasure is
 * shipped like any (head office keeps the first erasure of a member and ignores the others).
 * Members unknown here are skipped. Then the WAL is checkpointed and truncated when no other
 * connection holds it (otherwise at SQLite's next checkpoint). *erased (may be NULL) receives
 * how many members were erased here. Returns 0 or a PATRON_* code (nothing kept on failure). */
PATRON_EXPORT int patron_chain_erase(patron_store *s, const struct patron_chain_erasure *e,
                                     size_t n, const char *cursor, int64_t *erased)
    __attribute__((warn_unused_result));

/* A voucher redeemed or voided at another store of the chain (times in store seconds; 0: not). */
struct patron_chain_voucher {
    int64_t key_id;
    int64_t voucher_id;
    int store_id;        /* where it was redeemed (0: not redeemed) */
    int64_t redeemed_at; /* 0: not redeemed */
    int64_t voided_at;   /* 0: not voided */
};

/* Keeps a voucher's redemption or void at another store in the register (the first redemption
 * known stays), between patron_chain_begin and patron_chain_commit; the register then refuses it
 * here too. */
PATRON_EXPORT int patron_chain_put_voucher(patron_store *s, const struct patron_chain_voucher *v)
    __attribute__((warn_unused_result));

/* Where the next pull of vouchers starts ("0" before the first) into out, and keeping the next
 * one (inside the pull's transaction), which also settles the offline spends made so far (they
 * no longer count against the offline caps). Return 0 or a PATRON_* code. */
PATRON_EXPORT int patron_chain_voucher_cursor(patron_store *s, char *out, size_t len)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_chain_set_voucher_cursor(patron_store *s, const char *cursor)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
