/* SPDX-License-Identifier: MIT */
/* The command line's spend claims at head office (spend.h), shared by `reward redeem`, a
 * negative `ledger adjust` and `refund`. */
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

/* Head office could not be asked: the refund is offline. */
static void refund_offline(struct cli *c, const char *detail)
{
    fprintf(stderr,
            "patron: note: %s; the refund takes back what this store knows of the chain "
            "balance, marked offline.\n",
            detail);
    patron_store_set_spend_offline(c->store, 1); /* marked, never refused for it */
}

void cli_refund_claim(struct cli *c, struct patron_refund *in, struct cli_spend_claim *claim)
{
    struct patron_refund_preview p;
    char detail[512];
    int64_t taken = 0;
    int fresh = 0;
    patron_hq *h = NULL;
    claim->hq = NULL;
    claim->key = in->idempotency_key;
    if (!c->hq || !c->hq[0] || patron_refund_preview(c->store, in, &p) != 0 || p.recorded ||
        p.points_owed <= 0 || !p.member_uid[0])
        return; /* nothing to claim, or the refund itself says what is wrong */
    if (patron_hq_connect(c->hq, &h, detail, sizeof detail) != 0) {
        refund_offline(c, detail);
        return;
    }
    if (patron_hq_claim_refund(h, p.member_uid, p.points_owed, p.balance, p.clamp, claim->key,
                               &taken, &fresh, detail, sizeof detail) != 0) {
        patron_hq_close(h);
        refund_offline(c, detail);
        return;
    }
    in->claimed = 1;
    in->claimed_points = taken;
    if (fresh)
        claim->hq = h; /* given back if the refund fails */
    else
        patron_hq_close(h);
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

void cli_refund_claim(struct cli *c, struct patron_refund *in, struct cli_spend_claim *claim)
{
    (void)c;
    (void)in;
    claim->hq = NULL; /* no head office in this build: the store's own knowledge stands */
}

void cli_spend_claim_end(struct cli_spend_claim *claim, int err)
{
    (void)claim;
    (void)err;
}
#endif
