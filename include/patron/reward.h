/* SPDX-License-Identifier: MIT */
/* The rewards catalogue and redeeming a reward: the points are spent in the ledger and the
 * reward becomes a voucher the member takes away.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_REWARD_H
#define PATRON_REWARD_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

enum patron_value_kind {
    PATRON_VALUE_AMOUNT = 0,  /* value is money off, in minor units */
    PATRON_VALUE_PERCENT = 1, /* value is percent off, 1..100 */
    PATRON_VALUE_ITEM = 2,    /* value is an item (SKU number) given free */
    PATRON_VALUE_POINTS = 3,  /* value is bonus points */
};

/* "amount", "percent", "item", "points" <-> enum. parse returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_value_kind_parse(const char *name, enum patron_value_kind *out);
PATRON_EXPORT const char *patron_value_kind_name(enum patron_value_kind kind);

struct patron_reward_def {
    const char *name; /* 1..127 bytes */
    int64_t cost;     /* points, > 0 */
    enum patron_value_kind kind;
    int64_t value;      /* see the kind */
    int64_t valid_days; /* 1..3650; 0 = 30 */
};

struct patron_reward {
    int64_t reward_id;
    char name[128];
    int64_t cost;
    enum patron_value_kind kind;
    int64_t value;
    char currency[4];
    int64_t valid_days;
    int active;
};

/* Adds a reward. Returns 0 and sets *reward_id, or PATRON_EINVAL. */
PATRON_EXPORT int patron_reward_add(patron_store *s, const struct patron_reward_def *def,
                                    int64_t *reward_id) __attribute__((warn_unused_result));

/* patron_reward_add recorded in the rule changes ("reward:ID") with who (NULL = "system", as
 * patron_reward_add records it). */
PATRON_EXPORT int patron_reward_add_by(patron_store *s, const struct patron_reward_def *def,
                                       const char *who, int64_t *reward_id)
    __attribute__((warn_unused_result));

/* Reads one reward. Returns 0 or PATRON_ENOREWARD. */
PATRON_EXPORT int patron_reward_get(patron_store *s, int64_t reward_id, struct patron_reward *out)
    __attribute__((warn_unused_result));

/* Copies up to `cap` active rewards, cheapest first; *count receives how many there are. */
PATRON_EXPORT int patron_reward_list(patron_store *s, struct patron_reward *out, size_t cap,
                                     size_t *count) __attribute__((warn_unused_result));

/* Withdraws a reward from the catalogue (vouchers already issued stay valid). */
PATRON_EXPORT int patron_reward_retire(patron_store *s, int64_t reward_id)
    __attribute__((warn_unused_result));

/* Changes a reward of the catalogue in place (name, cost, kind, value, validity): redemptions
 * from now on get the new terms; vouchers already issued keep theirs. Recorded in the rule
 * changes as "reward:ID", old -> new, with who. Returns 0; PATRON_EINVAL; PATRON_ENOREWARD;
 * PATRON_EINACTIVE when the reward was ended. */
PATRON_EXPORT int patron_reward_change(patron_store *s, int64_t reward_id,
                                       const struct patron_reward_def *def, const char *who)
    __attribute__((warn_unused_result));

/* patron_reward_retire recorded in the rule changes with who. Returns 0; PATRON_ENOREWARD;
 * PATRON_EINACTIVE when it was ended already. */
PATRON_EXPORT int patron_reward_end(patron_store *s, int64_t reward_id, const char *who)
    __attribute__((warn_unused_result));

struct patron_redeem_request {
    const char *card;
    int64_t reward_id;
    const char *idempotency_key; /* required */
};

struct patron_redeem_result {
    int64_t redemption_id;
    int64_t member_id;
    int64_t points_spent;
    int64_t points;      /* balance after */
    uint64_t voucher_id; /* the voucher the reward became */
    char token[244];     /* its 243-digit QR token */
    char code[18];       /* its typable code XXXX-XXXX-XXXX-XX */
    int64_t expires_at;
    int64_t print_job; /* the queued coupon, 0 when none */
    int replayed;
};

/* Spends the reward's cost and issues its voucher, in one transaction. Returns 0;
 * PATRON_ENOFUNDS (the detail says the balance and the cost); PATRON_ENOREWARD; PATRON_EINACTIVE;
 * PATRON_ENOCARD; PATRON_EBLOCKED; PATRON_EIDEMPOTENCY. */
PATRON_EXPORT int patron_reward_redeem(patron_store *s, const struct patron_redeem_request *in,
                                       struct patron_redeem_result *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
