/* SPDX-License-Identifier: MIT */
/* Route handlers: each turns a validated body into one library call and the library's result
 * into the JSON reply, built by patron/json.h exactly as the `patron` commands build theirs.
 * Money and points are integers, times ISO 8601 UTC. No rule lives here. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "display.h"
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

int api_reply_built(struct api_call *c, int status, int err, json_t *obj)
{
    return err != 0 ? err : api_reply(c, status, obj);
}

int api_reply_text(struct api_call *c, int status, char *text, const char *type)
{
    if (!text)
        return PATRON_ENOMEM;
    c->status = status;
    c->text = text;
    c->text_type = type;
    return 0;
}

int api_reply_stream(struct api_call *c, struct api_stream st, const char *type)
{
    api_stream_drop(&c->stream);
    c->status = 200;
    c->stream = st;
    c->text_type = type;
    return 0;
}

json_t *api_sync_json(void)
{
    struct api_sync_state st;
    api_sync_state(&st);
    if (!st.enabled)
        return NULL;
    return json_pack("{s:s, s:I, s:I, s:I, s:o, s:o}", "state",
                     st.rounds == 0 ? "starting"
                     : st.failing   ? "failing"
                                    : "ok",
                     "pending", (json_int_t)st.pending, "acked_seq", (json_int_t)st.acked_seq,
                     "lag_seconds", (json_int_t)st.lag_s, "last_success",
                     st.last_success ? patron_json_time(st.last_success) : json_null(),
                     "last_error", st.last_error[0] ? json_string(st.last_error) : json_null());
}

int api_h_health(struct api_call *c, patron_store *s)
{
    struct patron_store_info info;
    char fallback[200];
    int err = patron_store_info(s, &info);
    if (err != 0)
        return err;
    api_printer_fallback(fallback, sizeof fallback);
    json_t *printer = json_pack("{s:s, s:b}", "state", api_printer_state_name(api_printer_state()),
                                "virtual_fallback", fallback[0] != '\0');
    if (printer && fallback[0])
        json_object_set_new(printer, "detail", json_string(fallback));
    json_t *o = json_pack("{s:s, s:i, s:i, s:o, s:o}", "status", "ok", "store_id", info.store_id,
                          "schema_version", info.schema_version, "time",
                          patron_json_time(patron_store_now(s)), "printer", printer);
    json_t *sync = api_sync_json();
    if (o && sync)
        json_object_set_new(o, "sync", sync);
    return api_reply(c, 200, o);
}

int api_h_metrics(struct api_call *c, patron_store *s)
{
    (void)s;
    c->text = api_metrics_render();
    c->text_type = "text/plain; version=0.0.4; charset=utf-8";
    c->status = 200;
    return c->text ? 0 : PATRON_ENOMEM;
}

/* For the customer display at the top tier: the cheapest reward the member cannot afford yet. */
static void next_reward(struct api_call *c, patron_store *s, int64_t points)
{
    enum { CAP = 256 };
    struct patron_reward *list = calloc(CAP, sizeof *list);
    size_t count = 0;
    int64_t best = INT64_MAX;
    if (list && patron_reward_list(s, list, CAP, &count) == 0)
        for (size_t i = 0; i < count && i < CAP; i++)
            if (list[i].active && list[i].cost > points && list[i].cost < best) {
                best = list[i].cost;
                snprintf(c->display_note, sizeof c->display_note, "%s", list[i].name);
                c->display_number = best - points;
            }
    free(list);
}

int api_h_scan(struct api_call *c, patron_store *s)
{
    struct patron_scan_result r;
    json_t *o = NULL;
    int err = patron_scan(s, api_str(c->body, "card"), &r);
    if (err == PATRON_ENOCARD && c->cfg->hq && c->cfg->hq[0] && c->cfg->card_lookup) {
        /* another store's card: head office knows it, or says why not */
        err = c->cfg->card_lookup(c->cfg->hq, s, api_str(c->body, "card"), c->detail,
                                  sizeof c->detail);
        if (err == 0)
            err = patron_scan(s, api_str(c->body, "card"), &r);
    }
    if (err == 0)
        err = patron_json_scan(&r, &o);
    c->display_event = "scan"; /* the till's customer display greets the member */
    if (err == 0 && !r.next_tier[0] && api_display_wanted(c->terminal.terminal_id))
        next_reward(c, s, r.member.points);
    return api_reply_built(c, 200, err, o);
}

/* A sale on a card this store does not know, with a head office set: looked up there and
 * recorded (0, into *r); when head office cannot say whose it is and the card is another
 * store's, held against the card and answered 202 (1); else the code, the sentence in detail. */
static int sale_unknown_card(struct api_call *c, patron_store *s, const struct patron_sale *in,
                             struct patron_sale_result *r)
{
    struct patron_held_sale h;
    char why[sizeof c->detail];
    int err = c->cfg->card_lookup(c->cfg->hq, s, in->card, why, sizeof why);
    if (err == 0)
        return patron_sale_record(s, in, r);
    if ((err = patron_sale_hold(s, in, &h)) != 0) {
        if (err == PATRON_ENOCARD)
            snprintf(c->detail, sizeof c->detail, "%s", why);
        return err;
    }
    int n = snprintf(c->detail, sizeof c->detail,
                     "%.150s; the sale is kept and its %lld points are held until the card is "
                     "known (the next sync)",
                     why, (long long)h.points);
    if (n < 0 || (size_t)n >= sizeof c->detail)
        snprintf(c->detail, sizeof c->detail, "the sale is kept and its points are held");
    json_t *o =
        json_pack("{s:b, s:I, s:s, s:i, s:I, s:b, s:s}", "held", 1, "held_id",
                  (json_int_t)h.held_id, "card", h.card, "card_store", h.card_store, "points_held",
                  (json_int_t)h.points, "replayed", h.replayed, "message", c->detail);
    c->detail[0] = '\0';
    err = api_reply_built(c, 202, o ? 0 : PATRON_ENOMEM, o);
    return err != 0 ? err : 1;
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
    if (err == PATRON_ENOCARD && c->cfg->hq && c->cfg->hq[0] && c->cfg->card_lookup &&
        (err = sale_unknown_card(c, s, &in, &r)) == 1)
        return 0; /* held: answered */
    if (err != 0)
        return err;
    /* The sale's coupons print after the commit: the printer is woken then. */
    c->print_queued = r.n_coupons > 0 && !r.replayed;
    c->display_event = r.replayed ? NULL : "sale";
    json_t *o = NULL;
    err = patron_json_sale(&r, &o);
    return api_reply_built(c, 201, err, o);
}

void api_refund_input(struct api_call *c, struct patron_refund_line *lines,
                      struct patron_refund *in)
{
    json_t *jl = json_object_get(c->body, "lines"), *item;
    size_t n = 0, i;
    json_array_foreach(jl, i, item)
    {
        if (n == PATRON_SALE_MAX_LINES)
            break;
        lines[n++] = (struct patron_refund_line){api_str(item, "sku"), num(item, "qty")};
    }
    *in = (struct patron_refund){
        .ref = api_str(c->body, "ref"),
        .lines = n ? lines : NULL,
        .n_lines = n,
        .idempotency_key = c->idempotency_key,
        .return_ref = api_str(c->body, "return_ref"),
        .claimed = c->refund_claimed, /* head office's answer (spend.c) */
        .claimed_points = c->refund_claimed_points,
    };
}

int api_h_refund(struct api_call *c, patron_store *s)
{
    struct patron_refund_line lines[PATRON_SALE_MAX_LINES];
    struct patron_refund in;
    struct patron_refund_result r;
    api_refund_input(c, lines, &in);
    patron_store_set_spend_offline(s, c->hq_offline); /* head office could not be asked */
    int err = patron_refund_record(s, &in, &r);
    patron_store_set_spend_offline(s, 0);
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
    json_t *o = NULL;
    err = patron_json_refund(&r, &o);
    return api_reply_built(c, 201, err, o);
}

int api_h_rewards(struct api_call *c, patron_store *s)
{
    enum { CAP = 256 };
    struct patron_reward *list = calloc(CAP, sizeof *list);
    size_t count = 0;
    json_t *o = NULL;
    int err = list ? patron_reward_list(s, list, CAP, &count) : PATRON_ENOMEM;
    if (err == 0)
        err = patron_json_rewards(list, count < CAP ? count : CAP, count, &o);
    free(list);
    return api_reply_built(c, 200, err, o);
}

int api_query_bool(struct api_call *c, const char *name, int *out)
{
    const char *q = api_query(c, name);
    if (!q || strcmp(q, "0") == 0 || strcmp(q, "false") == 0)
        *out = 0;
    else if (strcmp(q, "1") == 0 || strcmp(q, "true") == 0)
        *out = 1;
    else {
        snprintf(c->detail, sizeof c->detail, "'%s' takes 1 or 0", name);
        return PATRON_EINVAL;
    }
    return 0;
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
    json_t *o;
    int err = api_param_id(c, 0, &in.reward_id);
    if (err == 0) {
        patron_store_set_spend_offline(s, c->hq_offline); /* head office could not be asked */
        err = patron_reward_redeem(s, &in, &r);
        patron_store_set_spend_offline(s, 0);
    }
    if (err != 0 || (err = patron_json_redemption(&r, &o)) != 0)
        return err;
    /* The answer comes after the commit, not after printing: the printer thread is woken then,
     * and the till polls GET /v1/print-jobs/{id} for "printed". */
    c->print_queued = r.print_job != 0 && !r.replayed;
    struct patron_reward reward;
    if (!r.replayed && patron_reward_get(s, in.reward_id, &reward) == 0) {
        c->display_event = "redemption";
        snprintf(c->display_note, sizeof c->display_note, "%s", reward.name);
    }
    if (r.print_job)
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
        .greet_by_name = json_is_true(json_object_get(c->body, "greet_by_name")),
    };
    const char *referred_by = api_str(c->body, "referred_by");
    struct patron_member m;
    json_t *o;
    if (in.consent_marketing && !in.consent_source)
        in.consent_source = "counter";
    /* With a referral code the member and the link are recorded together or not at all. */
    int err = referred_by ? patron_member_enroll_referred(s, &in, referred_by, &m)
                          : patron_member_enroll(s, &in, &m);
    if (err != 0 || (err = patron_json_enrollment(&m, &o)) != 0)
        return err;
    return api_reply(c, 201, o);
}

int api_h_member(struct api_call *c, patron_store *s)
{
    struct patron_member m;
    struct patron_import_facts f;
    char code[PATRON_REFERRAL_CODE_CHARS + 1];
    json_t *o, *imp;
    int err = patron_member_by_card(s, c->params[0], &m);
    if (err != 0 || (err = patron_json_member(&m, &o)) != 0)
        return err;
    /* As `patron member show`: the code a member hands on to friends (minted on first ask),
     * and what an imported member brought. */
    if (!m.card_blocked && patron_referral_code(s, m.card, code) == 0)
        json_object_set_new(o, "referral_code", json_string(code));
    if ((err = patron_import_member_facts(s, m.member_id, &f)) == 0 && f.batch[0] &&
        (err = patron_json_import_facts(&f, &imp)) == 0)
        json_object_set_new(o, "imported", imp);
    if (err != 0)
        return json_decref(o), err;
    return api_reply(c, 200, o);
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
    patron_store_set_spend_offline(s, c->hq_offline); /* head office could not be asked */
    int err = patron_ledger_adjust(s, &in, &r);
    patron_store_set_spend_offline(s, 0);
    if (err != 0)
        return err;
    return api_reply(c, 201,
                     json_pack("{s:I, s:I, s:b}", "entry_id", (json_int_t)r.entry_id, "points",
                               (json_int_t)r.points, "replayed", r.replayed));
}
