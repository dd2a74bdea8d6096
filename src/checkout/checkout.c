/* SPDX-License-Identifier: MIT */
/* A sale at the counter, end to end: the sale and its own earn (sale.c), then the offers it gets
 * (offer_eval.c) and a referral bonus (referral.c), all in one idempotent write. This file sits
 * above all three and composes them, so that none of them needs to know the others. */
#include "ledger/sale_internal.h"
#include "market/offer_internal.h"
#include "market/referral_internal.h"

static int record(patron_store *s, const struct patron_sale *in, const struct patron_program *p,
                  struct patron_sale_result *out)
{
    struct patron__member_row m;
    struct patron__earning e;
    int64_t sale_id = 0;
    int changed = 0, err;
    if ((err = patron__sale_book(s, in, p, &m, &e, &sale_id, &changed)) != 0 ||
        (err = patron__offers_apply(s, &m, in, &e, sale_id, out, &changed)) != 0 ||
        (err = patron__referral_on_sale(s, &m, in, sale_id, out, &changed)) != 0)
        return err;
    out->sale_id = sale_id;
    out->member_id = m.member_id;
    out->points_earned = e.points;
    out->points = patron__member_points(&m);
    out->tier_upgraded = changed;
    return patron__sale_tier_name(s, m.tier_id, out->tier, sizeof out->tier);
}

/* The rules are read again inside the transaction: a change committed a moment ago counts. */
static int record_sale(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    struct patron_sale_result *r = result;
    struct patron_program p;
    int err = patron_program_get(s, &p);
    if (err == 0 && (err = record(s, request, &p, r)) == 0)
        *result_id = r->sale_id;
    return err;
}

static int replay_sale(patron_store *s, int64_t sale_id, void *result)
{
    int err = patron__sale_result(s, sale_id, result);
    if (err == 0 && (err = patron__offers_replay(s, sale_id, result)) == 0)
        err = patron__referral_replay(s, sale_id, result);
    return err;
}

int patron_sale_record(patron_store *s, const struct patron_sale *in,
                       struct patron_sale_result *out)
{
    struct patron_sale_line general = {"-", "general", 1, in->total_minor};
    struct patron_sale sale = *in;
    struct patron_sale_result r = {0};
    struct patron_program p;
    struct patron__idem h;
    int err;
    if ((err = patron_program_get(s, &p)) != 0 ||
        (err = patron__sale_validate(s, &sale, p.currency)) != 0)
        return err;
    if (sale.n_lines == 0) { /* checked as given, then booked as one "general" line */
        sale.lines = &general;
        sale.n_lines = 1;
    }
    if ((err = patron__idem_init(s, &h, "sale", in->idempotency_key)) != 0)
        return err;
    patron__sale_hash(&h, &sale);
    if ((err = patron__idem_run(s, &h, &sale, record_sale, replay_sale, &r)) == 0)
        *out = r;
    return err;
}
