/* SPDX-License-Identifier: MIT */
/* The command line's spend claims at head office (spend.h), shared by `reward redeem` and a
 * negative `ledger adjust`. */
#include <stdio.h>

#include "spend.h"

#ifdef PATRON_HAVE_HQ
#include "hq.h"

int cli_spend_claim(struct cli *c, const char *card, int64_t points, const char *key,
                    struct cli_spend_claim *claim)
{
    char uid[32], detail[512];
    int64_t local = 0;
    patron_hq *h = NULL;
    claim->hq = NULL;
    claim->key = key;
    if (!c->hq || !c->hq[0] || !card || points <= 0 ||
        patron_chain_member_of_card(c->store, card, uid, sizeof uid, &local) != 0)
        return 0; /* the spend itself says what is wrong */
    if (patron_hq_connect(c->hq, &h, detail, sizeof detail) != 0) {
        fprintf(stderr,
                "patron: note: %s; spending offline against the last synced chain balance.\n",
                detail);
        patron_store_set_spend_offline(c->store, 1); /* within the offline caps */
        return 0;
    }
    int err = patron_hq_claim(h, uid, points, local, key, NULL, detail, sizeof detail);
    if (err != 0) {
        patron_hq_close(h);
        return cli_hq_fail(c, err, detail);
    }
    claim->hq = h;
    return 0;
}

void cli_spend_claim_end(struct cli_spend_claim *claim, int err)
{
    char detail[512];
    if (!claim->hq)
        return;
    if (err != 0 && patron_hq_claim_release(claim->hq, claim->key, detail, sizeof detail) != 0)
        fprintf(stderr, "patron: note: %s.\n", detail);
    patron_hq_close(claim->hq);
    claim->hq = NULL;
}
#else
int cli_spend_claim(struct cli *c, const char *card, int64_t points, const char *key,
                    struct cli_spend_claim *claim)
{
    (void)c;
    (void)card;
    (void)points;
    (void)key;
    claim->hq = NULL;
    return 0; /* no head office in this build: the store's own balance stands */
}

void cli_spend_claim_end(struct cli_spend_claim *claim, int err)
{
    (void)claim;
    (void)err;
}
#endif
