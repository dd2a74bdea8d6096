/* SPDX-License-Identifier: MIT */
/* Route handlers: each turns a validated body into one library call and the library's result
 * into the JSON reply, with the same field names as the `patron` commands. Money and points are
 * integers, times ISO 8601 UTC. No rule lives here. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

const char *api_str(json_t *body, const char *key)
{
    return json_string_value(json_object_get(body, key)); /* NULL when absent or null */
}

static int64_t num(json_t *body, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(body, key));
}

int api_reply(struct api_call *c, int status, json_t *obj)
{
    if (!obj)
        return PATRON_ENOMEM;
    c->status = status;
    c->reply = obj;
    return 0;
}

int api_h_health(struct api_call *c, patron_store *s)
{
    struct patron_store_info info;
    int err = patron_store_info(s, &info);
    if (err != 0)
        return err;
    return api_reply(c, 200,
                     json_pack("{s:s, s:i, s:i, s:o}", "status", "ok", "store_id", info.store_id,
                               "schema_version", info.schema_version, "time",
                               api_json_time(patron_store_now(s))));
}

int api_h_metrics(struct api_call *c, patron_store *s)
{
    (void)s;
    c->text = api_metrics_render();
    c->text_type = "text/plain; version=0.0.4; charset=utf-8";
    c->status = 200;
    return c->text ? 0 : PATRON_ENOMEM;
}

static json_t *member_json(const struct patron_member *m)
{
    return json_pack("{s:I, s:s, s:s?, s:s?, s:s?, s:b, s:o, s:o, s:s, s:b, s:I, s:s, s:o}",
                     "member_id", (json_int_t)m->member_id, "name", m->name, "email",
                     m->email[0] ? m->email : NULL, "phone", m->phone[0] ? m->phone : NULL,
                     "birthday", m->birthday[0] ? m->birthday : NULL, "consent_marketing",
                     m->consent_marketing, "consent_at", api_json_time(m->consent_at), "created_at",
                     api_json_time(m->created_at), "card", m->card, "card_blocked", m->card_blocked,
                     "points", (json_int_t)m->points, "tier", m->tier, "tier_until",
                     api_json_time(m->tier_until));
}

/* Offers as `patron scan --json` lists them. */
static json_t *offers_json(const struct patron_offer_match *v, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:I, s:b}", "offer_id",
                                             (json_int_t)v[i].offer_id, "name", v[i].name, "why",
                                             v[i].why, "benefit", v[i].benefit, "points",
                                             (json_int_t)v[i].points, "exclusive", v[i].exclusive));
    return arr;
}

/* The vouchers a sale gave, as `patron sale --json` lists them. */
static json_t *coupons_json(const struct patron_sale_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n_coupons; i++) {
        const struct patron_sale_coupon *k = &r->coupons[i];
        json_array_append_new(
            arr, json_pack("{s:I, s:I, s:I, s:s?}", "offer_id", (json_int_t)k->offer_id,
                           "reward_id", (json_int_t)k->reward_id, "redemption_id",
                           (json_int_t)k->redemption_id, "code", k->code[0] ? k->code : NULL));
    }
    return arr;
}

int api_h_scan(struct api_call *c, patron_store *s)
{
    struct patron_scan_result r;
    int err = patron_scan(s, api_str(c->body, "card"), &r);
    if (err != 0)
        return err;
    json_t *rewards = json_array();
    for (size_t i = 0; rewards && i < r.n_rewards; i++)
        json_array_append_new(
            rewards, json_pack("{s:I, s:s, s:I}", "reward_id", (json_int_t)r.rewards[i].reward_id,
                               "name", r.rewards[i].name, "cost", (json_int_t)r.rewards[i].cost));
    return api_reply(
        c, 200,
        json_pack("{s:I, s:s, s:I, s:s, s:o, s:b, s:I, s:o, s:s?, s:I, s:o, s:o}", "member_id",
                  (json_int_t)r.member.member_id, "name", r.member.name, "points",
                  (json_int_t)r.member.points, "tier", r.member.tier, "tier_until",
                  api_json_time(r.member.tier_until), "card_blocked", r.member.card_blocked,
                  "expiring_points", (json_int_t)r.expiring_points, "expiring_at",
                  api_json_time(r.expiring_at), "next_tier", r.next_tier[0] ? r.next_tier : NULL,
                  "points_to_next_tier", (json_int_t)r.points_to_next_tier, "rewards", rewards,
                  "offers", offers_json(r.offers, r.n_offers)));
}

int api_h_sale(struct api_call *c, patron_store *s)
{
    struct patron_sale_line lines[PATRON_SALE_MAX_LINES];
    json_t *jl = json_object_get(c->body, "lines"), *item;
    size_t n = 0, i;
    json_array_foreach(jl, i, item)
    {
        if (n == PATRON_SALE_MAX_LINES)
            break; /* the body spec already bounds the count */
        lines[n++] = (struct patron_sale_line){api_str(item, "sku"), api_str(item, "category"),
                                               num(item, "qty"), num(item, "unit_price")};
    }
    struct patron_sale in = {
        .card = api_str(c->body, "card"),
        .ref = api_str(c->body, "ref"),
        .total_minor = num(c->body, "total"),
        .currency = api_str(c->body, "currency"),
        .lines = n ? lines : NULL,
        .n_lines = n,
        .idempotency_key = c->idempotency_key,
    };
    struct patron_sale_result r;
    int err = patron_sale_record(s, &in, &r);
    if (err != 0)
        return err;
    json_t *applied = json_array();
    for (size_t k = 0; applied && k < r.n_offers_applied; k++)
        json_array_append_new(applied, json_integer((json_int_t)r.offers_applied[k]));
    /* The sale's coupons print after the commit: the printer is woken then. */
    c->print_queued = r.n_coupons > 0 && !r.replayed;
    return api_reply(c, 201,
                     json_pack("{s:I, s:I, s:I, s:I, s:I, s:s, s:b, s:b, s:o, s:o}", "sale_id",
                               (json_int_t)r.sale_id, "member_id", (json_int_t)r.member_id,
                               "points_earned", (json_int_t)r.points_earned, "bonus_points",
                               (json_int_t)r.bonus_points, "points", (json_int_t)r.points, "tier",
                               r.tier, "tier_upgraded", r.tier_upgraded, "replayed", r.replayed,
                               "offers_applied", applied, "coupons", coupons_json(&r)));
}

int api_h_refund(struct api_call *c, patron_store *s)
{
    struct patron_refund_line lines[PATRON_SALE_MAX_LINES];
    json_t *jl = json_object_get(c->body, "lines"), *item;
    size_t n = 0, i;
    json_array_foreach(jl, i, item)
    {
        if (n == PATRON_SALE_MAX_LINES)
            break;
        lines[n++] = (struct patron_refund_line){api_str(item, "sku"), num(item, "qty")};
    }
    struct patron_refund in = {
        .ref = api_str(c->body, "ref"),
        .lines = n ? lines : NULL,
        .n_lines = n,
        .idempotency_key = c->idempotency_key,
    };
    struct patron_refund_result r;
    int err = patron_refund_record(s, &in, &r);
    if (err != 0)
        return err;
    /* The size of a refund is known only once its rule has run; the writer undoes this
     * request's savepoint when the handler refuses it here. */
    if (c->terminal.role < PATRON_ROLE_MANAGER &&
        r.points_reversed > c->cfg->cashier_refund_limit) {
        snprintf(c->detail, sizeof c->detail,
                 "this refund reverses %" PRId64 " points; above %" PRId64
                 " it needs a manager's till",
                 r.points_reversed, c->cfg->cashier_refund_limit);
        return PATRON_EFORBIDDEN;
    }
    c->print_queued = r.rewards_returned > 0 && !r.replayed; /* given back as new coupons */
    return api_reply(c, 201,
                     json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "refund_id",
                               (json_int_t)r.refund_id, "sale_id", (json_int_t)r.sale_id,
                               "member_id", (json_int_t)r.member_id, "points_reversed",
                               (json_int_t)r.points_reversed, "shortfall", (json_int_t)r.shortfall,
                               "points", (json_int_t)r.points, "rewards_returned",
                               (json_int_t)r.rewards_returned, "replayed", r.replayed));
}

int api_h_rewards(struct api_call *c, patron_store *s)
{
    enum { CAP = 256 };
    struct patron_reward *list = calloc(CAP, sizeof *list);
    size_t count = 0;
    int err = list ? patron_reward_list(s, list, CAP, &count) : PATRON_ENOMEM;
    json_t *arr = err == 0 ? json_array() : NULL;
    for (size_t i = 0; arr && i < count && i < CAP; i++) {
        const struct patron_reward *rw = &list[i];
        json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:s, s:I, s:s, s:I}", "reward_id",
                                             (json_int_t)rw->reward_id, "name", rw->name, "cost",
                                             (json_int_t)rw->cost, "kind",
                                             patron_value_kind_name(rw->kind), "value",
                                             (json_int_t)rw->value, "currency", rw->currency,
                                             "valid_days", (json_int_t)rw->valid_days));
    }
    free(list);
    if (err != 0)
        return err;
    return api_reply(c, 200, json_pack("{s:o, s:I}", "rewards", arr, "count", (json_int_t)count));
}

/* A positive integer path parameter. */
int api_param_id(struct api_call *c, int i, int64_t *out)
{
    char *end;
    const char *p = c->params[i];
    long long v = strtoll(p, &end, 10);
    if (p[0] < '1' || p[0] > '9' || *end != '\0' || v <= 0 || v > INT32_MAX) {
        snprintf(c->detail, sizeof c->detail, "the id in the path must be a positive integer");
        return PATRON_EINVAL;
    }
    *out = v;
    return 0;
}

int api_h_redeem(struct api_call *c, patron_store *s)
{
    struct patron_redeem_request in = {.card = api_str(c->body, "card"),
                                       .idempotency_key = c->idempotency_key};
    struct patron_redeem_result r;
    char voucher_id[17];
    int err = api_param_id(c, 0, &in.reward_id);
    if (err != 0 || (err = patron_reward_redeem(s, &in, &r)) != 0)
        return err;
    snprintf(voucher_id, sizeof voucher_id, "%016" PRIx64, r.voucher_id);
    /* Until the reward is issued as a voucher the voucher fields are null. */
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:s?, s:s?, s:s?, s:o, s:b}", "redemption_id",
                          (json_int_t)r.redemption_id, "member_id", (json_int_t)r.member_id,
                          "points_spent", (json_int_t)r.points_spent, "points",
                          (json_int_t)r.points, "voucher_id", r.voucher_id ? voucher_id : NULL,
                          "token", r.token[0] ? r.token : NULL, "code", r.code[0] ? r.code : NULL,
                          "expires_at", api_json_time(r.expires_at), "replayed", r.replayed);
    if (o)
        json_object_set_new(o, "print_job",
                            r.print_job ? json_integer((json_int_t)r.print_job) : json_null());
    /* The answer comes after the commit, not after printing: the printer thread is woken then,
     * and the till polls GET /v1/print-jobs/{id} for "printed". */
    c->print_queued = r.print_job != 0 && !r.replayed;
    if (o && r.print_job)
        json_object_set_new(o, "print_status", json_string(api_print_status(s, r.print_job)));
    return api_reply(c, 201, o);
}

int api_h_enroll(struct api_call *c, patron_store *s)
{
    json_t *consent = json_object_get(c->body, "consent_marketing");
    struct patron_enrollment in = {
        .name = api_str(c->body, "name"),
        .email = api_str(c->body, "email"),
        .phone = api_str(c->body, "phone"),
        .birthday = api_str(c->body, "birthday"),
        .consent_marketing = json_is_true(consent),
        .consent_source = api_str(c->body, "consent_source"),
    };
    struct patron_member m;
    if (in.consent_marketing && !in.consent_source)
        in.consent_source = "counter";
    int err = patron_member_enroll(s, &in, &m);
    if (err != 0)
        return err;
    return api_reply(c, 201,
                     json_pack("{s:I, s:s}", "member_id", (json_int_t)m.member_id, "card", m.card));
}

int api_h_member(struct api_call *c, patron_store *s)
{
    struct patron_member m;
    int err = patron_member_by_card(s, c->params[0], &m);
    if (err != 0)
        return err;
    return api_reply(c, 200, member_json(&m));
}

int api_h_adjust(struct api_call *c, patron_store *s)
{
    struct patron_adjustment in = {
        .card = api_str(c->body, "card"),
        .points = num(c->body, "points"),
        .reason = api_str(c->body, "reason"),
        .manager = c->terminal.name,
        .idempotency_key = c->idempotency_key,
    };
    struct patron_adjust_result r;
    if (in.points == 0) {
        snprintf(c->detail, sizeof c->detail, "field 'points' must not be 0");
        return PATRON_EINVAL;
    }
    int err = patron_ledger_adjust(s, &in, &r);
    if (err != 0)
        return err;
    return api_reply(c, 201,
                     json_pack("{s:I, s:I, s:b}", "entry_id", (json_int_t)r.entry_id, "points",
                               (json_int_t)r.points, "replayed", r.replayed));
}
