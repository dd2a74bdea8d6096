/* SPDX-License-Identifier: MIT */
/* A spend of a member's points from the command line (`reward redeem`, a negative `ledger
 * adjust`, a refund's reversal) with a head office set: claimed there first (src/hq/claim.c), so
 * two stores spending the same member's last points at once cannot both succeed; head office
 * unreachable, the store spends offline against the chain balance of its last sync, within the
 * offline caps. */
#ifndef PATRON_CLI_SPEND_H
#define PATRON_CLI_SPEND_H

#include <stdint.h>

#include "cli.h"

struct cli_spend_claim {
    void *hq; /* the open connection while a claim stands, else NULL */
    const char *key;
};

/* Claims `points` of the member of `card` at head office under `key` before the spend. 0 when
 * the spend may go ahead (claimed, no head office set, the card not this store's to say, or
 * offline: the store handle then spends within the offline caps); else the exit status, head
 * office's sentence said. */
int cli_spend_claim(struct cli *c, const char *card, int64_t points, const char *key,
                    struct cli_spend_claim *claim);

/* Claims at head office what refund `in` takes back (patron_refund_preview's points owed)
 * under in->idempotency_key before the refund, and sets in->claimed and in->claimed_points to
 * head office's answer. Never refuses: head office unreachable, the store handle marks the
 * refund's reversal offline (not held to the caps) and the store's own knowledge stands; a
 * refund already recorded (its return ref) claims nothing. Pair with cli_spend_claim_end,
 * which gives back a claim this call made when the refund then fails. */
void cli_refund_claim(struct cli *c, struct patron_refund *in, struct cli_spend_claim *claim);

/* After the spend (`err` its result): a failed one gives its claim back. */
void cli_spend_claim_end(struct cli_spend_claim *claim, int err);

#endif
