/* SPDX-License-Identifier: MIT */
/* Route handlers of the marketing side of the counter: offers (list, show, add, end; the till's
 * name is who), a member's feedback on a visit, and a manager's goodwill gesture for a
 * complaint, whose coupon is queued with it and printed after the commit as a reward's is. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define API_AUDIENCE_SAMPLE 5 /* members shown with the count */

int api_h_offers(struct api_call *c, patron_store *s)
{
    size_t n = 0, cap = PATRON_OFFER_MAX_ACTIVE;
    struct patron_offer *v = NULL;
    json_t *o = NULL;
    int all, err = api_query_bool(c, "all", &all);
    if (err == 0)
        err = (v = calloc(cap, sizeof *v)) ? patron_offer_list(s, all, v, cap, &n) : PATRON_ENOMEM;
    if (err == 0)
        err = patron_json_offers(s, v, n < cap ? n : cap, n, &o);
    free(v);
    return api_reply_built(c, 200, err, o);
}

/* The offer `id` as it stands now; `flag` (e.g. "ended") is set true when given. */
static int reply_offer(struct api_call *c, patron_store *s, int64_t id, int status,
                       const char *flag)
{
    struct patron_offer off;
    json_t *o;
    int err = patron_offer_get(s, id, &off);
    if (err != 0 || (err = patron_json_offer(s, &off, &o)) != 0)
        return err;
    if (flag)
        json_object_set_new(o, flag, json_true());
    return api_reply(c, status, o);
}

int api_h_offer(struct api_call *c, patron_store *s)
{
    int64_t id;
    int err = api_param_id(c, 0, &id);
    return err != 0 ? err : reply_offer(c, s, id, 200, NULL);
}

static int64_t num(json_t *body, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(body, key)); /* 0 when absent */
}

/* from and to as `patron offer add` reads them: a date for `to` means through that day
 * (patron_time_parse_until). */
static int take_window(struct api_call *c, struct patron_offer_def *d)
{
    const char *from = api_str(c->body, "from"), *to = api_str(c->body, "to");
    if ((from && patron_json_time_parse(from, &d->valid_from) != 0) ||
        (to && patron_time_parse_until(to, &d->valid_to) != 0)) {
        snprintf(c->detail, sizeof c->detail,
                 "'from' and 'to' are YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        return PATRON_EINVAL;
    }
    return 0;
}

/* The targets of an offer, shared by adding one and counting its audience. */
static void take_targets(json_t *b, struct patron_offer_def *d)
{
    d->tier = api_str(b, "tier");
    d->category = api_str(b, "category");
    d->within_days = num(b, "within_days");
    d->birthday_month = json_is_true(json_object_get(b, "birthday_month"));
    d->lapsed_days = num(b, "lapsed_days");
    d->first_visit = json_is_true(json_object_get(b, "first_visit"));
    d->segment = api_str(b, "segment");
}

/* How many members the targets being written reach now, and the first few of them. */
int api_h_offer_audience(struct api_call *c, patron_store *s)
{
    struct patron_offer_def d = {0};
    struct patron_offer_audience a;
    take_targets(c->body, &d);
    int err = patron_offer_audience(s, &d, API_AUDIENCE_SAMPLE, &a);
    if (err != 0)
        return err;
    json_t *sample = json_array();
    for (size_t i = 0; i < a.n_sample; i++)
        json_array_append_new(
            sample, json_pack("{s:s, s:s}", "card", a.sample[i].card, "name", a.sample[i].name));
    return api_reply(c, 200,
                     json_pack("{s:I, s:I, s:o}", "count", (json_int_t)a.count, "members",
                               (json_int_t)a.members, "sample", sample));
}

int api_h_offer_add(struct api_call *c, patron_store *s)
{
    json_t *b = c->body;
    struct patron_offer_def d = {
        .name = api_str(b, "name"),
        .min_basket_minor = num(b, "min_basket"),
        .sku = api_str(b, "sku"),
        .basket_category = api_str(b, "basket_category"),
        .exclusive = json_is_true(json_object_get(b, "exclusive")),
        .limit_per_member = num(b, "limit_per_member"),
        .limit_total = num(b, "limit_total"),
        .limit_per_day = num(b, "limit_per_day"),
        .created_by = c->terminal.name,
    };
    int64_t id;
    take_targets(b, &d);
    int err = take_window(c, &d);
    if (err != 0)
        return err;
    if (patron_offer_benefit_parse(api_str(b, "benefit"), &d.benefit, &d.benefit_value) != 0) {
        snprintf(c->detail, sizeof c->detail,
                 "field 'benefit' is bonus:POINTS, multiplier:X or reward:ID");
        return PATRON_EINVAL;
    }
    if ((err = patron_offer_add(s, &d, &id)) != 0)
        return err;
    return reply_offer(c, s, id, 201, NULL);
}

int api_h_offer_end(struct api_call *c, patron_store *s)
{
    int64_t id;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = patron_offer_end(s, id, c->terminal.name)) != 0)
        return err;
    return reply_offer(c, s, id, 200, "ended");
}

int api_h_feedback(struct api_call *c, patron_store *s)
{
    struct patron_feedback in = {
        .card = api_str(c->body, "card"),
        .score = (int)num(c->body, "score"),
        .comment = api_str(c->body, "comment"),
        .sale_ref = api_str(c->body, "ref"),
    };
    int64_t id;
    json_t *o = NULL;
    int err = patron_feedback_record(s, &in, &id);
    if (err == 0)
        err = patron_json_feedback(id, in.score, &o);
    return api_reply_built(c, 201, err, o);
}

int api_h_goodwill(struct api_call *c, patron_store *s)
{
    struct patron_goodwill_request in = {
        .card = api_str(c->body, "card"),
        .reward_id = num(c->body, "reward_id"),
        .complaint = api_str(c->body, "complaint"),
        .manager = c->terminal.name, /* the manager's till gives it */
        .idempotency_key = c->idempotency_key,
    };
    struct patron_goodwill_result r;
    json_t *o;
    int err = patron_goodwill_issue(s, &in, &r);
    if (err != 0 || (err = patron_json_goodwill(&r, &o)) != 0)
        return err;
    /* As a reward redemption: answered after the commit, printed by the printer thread then. */
    c->print_queued = r.print_job != 0 && !r.replayed;
    if (r.print_job)
        json_object_set_new(o, "print_status", json_string(api_print_status(s, r.print_job)));
    return api_reply(c, 201, o);
}
