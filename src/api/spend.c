/* SPDX-License-Identifier: MIT */
/* Online spend claims at head office (issue 11): a request that spends a member's points (a
 * reward redemption, a negative adjustment, a refund's reversal) or a voucher (its redemption)
 * is claimed at head office before it reaches the writer, in the connection's thread, so no
 * SQLite transaction waits on the network. A refused claim is the request's answer (409 with
 * head office's sentence); a refund's claim is never refused, it says how much the refund may
 * take back. A claim whose spend then fails at the store is given back. Head office unreachable:
 * the spend goes ahead offline (points against the last synced chain balance, a voucher within
 * the offline caps, a refund marked offline but never refused for it), as the `patron` program
 * does. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"

/* The points the call would spend (0: it spends none). */
static int64_t points_spent(struct api_call *c, patron_store *s)
{
    if (c->route->handler == api_h_redeem) {
        struct patron_reward rw;
        int64_t id;
        if (api_param_id(c, 0, &id) != 0 || patron_reward_get(s, id, &rw) != 0)
            return 0; /* the redemption itself says what is wrong */
        c->detail[0] = '\0';
        return rw.cost;
    }
    if (c->route->handler == api_h_adjust) {
        json_int_t p = json_integer_value(json_object_get(c->body, "points"));
        return p < 0 ? -(int64_t)p : 0;
    }
    return 0;
}

/* Head office could not be asked: the spend goes ahead offline. */
static int offline(struct api_call *c, struct api_claim *cl, const char *then)
{
    fprintf(stderr, "patron serve: note: %s; %s.\n", c->detail, then);
    c->detail[0] = '\0';
    c->hq_offline = 1;
    cl->offline = 1;
    return 0;
}

/* A voucher redemption claims the voucher (its key id and voucher id) chain-wide. */
static int voucher_claim(struct api_call *c, patron_store *s, struct api_claim *cl)
{
    const char *text = api_str(c->body, "token");
    int64_t key_id, voucher_id;
    if (!text)
        text = api_str(c->body, "code");
    if (!c->cfg->voucher_claim || !text ||
        patron_voucher_identify(s, text, &key_id, &voucher_id) != 0)
        return 0; /* the redemption itself says what is wrong */
    int err =
        c->cfg->voucher_claim(c->cfg->hq, key_id, voucher_id, cl->key, c->detail, sizeof c->detail);
    if (err == PATRON_EREDEEMED || err == PATRON_EVOIDED)
        return err;
    if (err != 0)
        return offline(c, cl, "the voucher is redeemed offline");
    cl->held = 1;
    cl->voucher = 1;
    return 0;
}

/* A spend of points claims them at head office (the member's chain-wide balance). */
static int points_claim(struct api_call *c, patron_store *s, struct api_claim *cl)
{
    char uid[32];
    int64_t local = 0, points;
    if (!c->cfg->spend_claim || (points = points_spent(c, s)) <= 0 ||
        patron_chain_member_of_card(s, api_str(c->body, "card"), uid, sizeof uid, &local) != 0)
        return 0;
    int err =
        c->cfg->spend_claim(c->cfg->hq, uid, points, local, cl->key, c->detail, sizeof c->detail);
    if (err == PATRON_ENOFUNDS)
        return err;
    if (err != 0)
        return offline(c, cl, "spending against the last synced chain balance");
    cl->held = 1;
    return 0;
}

/* A refund claims what it takes back (never refused: head office unreachable, it is offline).
 * A claim this call did not make (a retry's) is not given back by it. */
static int refund_claim(struct api_call *c, patron_store *s, struct api_claim *cl)
{
    struct patron_refund_line lines[PATRON_SALE_MAX_LINES];
    struct patron_refund in;
    struct patron_refund_preview p;
    int64_t taken = 0;
    int fresh = 0;
    api_refund_input(c, lines, &in);
    if (!c->cfg->refund_claim || patron_refund_preview(s, &in, &p) != 0 || p.recorded ||
        p.points_owed <= 0 || !p.member_uid[0]) {
        c->detail[0] = '\0';
        return 0; /* nothing to claim, or the refund itself says what is wrong */
    }
    if (c->cfg->refund_claim(c->cfg->hq, p.member_uid, p.points_owed, p.balance, p.clamp, cl->key,
                             &taken, &fresh, c->detail, sizeof c->detail) != 0)
        return offline(c, cl, "the refund takes back what this store knows, marked offline");
    c->refund_claimed = 1;
    c->refund_claimed_points = taken;
    cl->held = fresh;
    return 0;
}

int api_spend_route(const struct api_call *c)
{
    return c->route->handler == api_h_redeem || c->route->handler == api_h_adjust ||
           c->route->handler == api_h_voucher_redeem || c->route->handler == api_h_refund;
}

int api_spend_claim(struct api_call *c, patron_store *s, struct api_claim *cl)
{
    memset(cl, 0, sizeof *cl);
    if (!c->cfg->hq || !c->cfg->hq[0] || !c->idempotency_key)
        return 0;
    /* keys are the till's own: two tills may send the same one */
    snprintf(cl->key, sizeof cl->key, "api/%" PRId64 "/%s", c->terminal.terminal_id,
             c->idempotency_key);
    if (c->route->handler == api_h_refund)
        return refund_claim(c, s, cl);
    return c->route->handler == api_h_voucher_redeem ? voucher_claim(c, s, cl)
                                                     : points_claim(c, s, cl);
}

void api_spend_end(struct api_call *c, struct api_claim *cl, int status)
{
    char detail[API_DETAIL_MAX];
    if (!cl->held || (status >= 200 && status < 300))
        return;
    int err = cl->voucher ? c->cfg->voucher_release(c->cfg->hq, cl->key, detail, sizeof detail)
                          : c->cfg->spend_release(c->cfg->hq, cl->key, detail, sizeof detail);
    if (err != 0)
        fprintf(stderr, "patron serve: note: %s.\n", detail);
    cl->held = 0;
}
