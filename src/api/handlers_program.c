/* SPDX-License-Identifier: MIT */
/* Route handlers of the program for the back office: the rules and tiers as they stand, a rule or
 * a tier changed, rewards of the catalogue added, changed and ended, and the rule changes (who,
 * when, old -> new) that every one of these leaves. The calling till's name is who. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "patron/program.h"

#define API_TIERS_MAX 64
#define API_RULE_CHANGES_MAX 200 /* the newest, at most, in one reply */

static const char *refund_name(enum patron_refund_policy p)
{
    return p == PATRON_REFUND_CLAMP ? "clamp" : "negative";
}

int api_h_program(struct api_call *c, patron_store *s)
{
    struct patron_program p;
    struct patron_tier t[API_TIERS_MAX];
    size_t n = 0;
    int err = patron_program_get(s, &p);
    if (err != 0 || (err = patron_tier_list(s, t, API_TIERS_MAX, &n)) != 0)
        return err;
    json_t *tiers = json_array();
    for (size_t i = 0; i < n && i < API_TIERS_MAX; i++)
        json_array_append_new(
            tiers, json_pack("{s:I, s:s, s:I, s:I}", "tier_id", (json_int_t)t[i].tier_id, "name",
                             t[i].name, "threshold", (json_int_t)t[i].threshold,
                             "multiplier_permille", (json_int_t)t[i].multiplier_permille));
    json_t *rules =
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:I}", "currency", p.currency, "earn_points",
                  (json_int_t)p.earn_points, "earn_unit_minor", (json_int_t)p.earn_unit_minor,
                  "expiry_days", (json_int_t)p.expiry_days, "expiry_notice_days",
                  (json_int_t)p.expiry_notice_days, "refund_policy", refund_name(p.refund_policy),
                  "point_value_minor_per_100", (json_int_t)p.point_value_minor_per_100);
    return api_reply(c, 200, json_pack("{s:o, s:o}", "rules", rules, "tiers", tiers));
}

int api_h_program_set(struct api_call *c, patron_store *s)
{
    int err = patron_program_set(s, api_str(c->body, "name"), api_str(c->body, "value"),
                                 c->terminal.name);
    return err != 0 ? err : api_h_program(c, s);
}

int api_h_tier_set(struct api_call *c, patron_store *s)
{
    int err = patron_tier_set(
        s, api_str(c->body, "name"),
        (int64_t)json_integer_value(json_object_get(c->body, "threshold")),
        (int64_t)json_integer_value(json_object_get(c->body, "multiplier_permille")),
        c->terminal.name);
    return err != 0 ? err : api_h_program(c, s);
}

static int reward_def(struct api_call *c, struct patron_reward_def *d)
{
    memset(d, 0, sizeof *d);
    d->name = api_str(c->body, "name");
    d->cost = (int64_t)json_integer_value(json_object_get(c->body, "cost"));
    d->value = (int64_t)json_integer_value(json_object_get(c->body, "value"));
    d->valid_days = (int64_t)json_integer_value(json_object_get(c->body, "valid_days"));
    if (patron_value_kind_parse(api_str(c->body, "kind"), &d->kind) != 0) {
        snprintf(c->detail, sizeof c->detail, "field 'kind' is amount, percent, item or points");
        return PATRON_EINVAL;
    }
    return 0;
}

static int reply_reward(struct api_call *c, patron_store *s, int64_t id, int status)
{
    struct patron_reward r;
    json_t *o = NULL;
    int err = patron_reward_get(s, id, &r);
    if (err == 0)
        err = patron_json_rewards(&r, 1, 1, &o);
    if (err != 0)
        return err;
    json_t *one = json_incref(json_array_get(json_object_get(o, "rewards"), 0));
    json_decref(o);
    json_object_set_new(one, "active", json_boolean(r.active));
    return api_reply(c, status, one);
}

int api_h_reward_add(struct api_call *c, patron_store *s)
{
    struct patron_reward_def d;
    int64_t id;
    int err = reward_def(c, &d);
    if (err != 0 || (err = patron_reward_add_by(s, &d, c->terminal.name, &id)) != 0)
        return err;
    return reply_reward(c, s, id, 201);
}

int api_h_reward_change(struct api_call *c, patron_store *s)
{
    struct patron_reward_def d;
    int64_t id;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = reward_def(c, &d)) != 0 ||
        (err = patron_reward_change(s, id, &d, c->terminal.name)) != 0)
        return err;
    return reply_reward(c, s, id, 200);
}

int api_h_reward_end(struct api_call *c, patron_store *s)
{
    int64_t id;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = patron_reward_end(s, id, c->terminal.name)) != 0)
        return err;
    return reply_reward(c, s, id, 200);
}

static json_t *change_json(const struct patron_rule_change *r)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:o}", "change_id", (json_int_t)r->change_id, "key",
                     r->key, "old_value", r->has_old ? json_string(r->old_value) : json_null(),
                     "new_value", r->new_value, "changed_by", r->changed_by, "changed_at",
                     patron_json_time(r->changed_at));
}

/* The newest rule changes first, those whose key starts with ?prefix= when given. */
int api_h_rule_changes(struct api_call *c, patron_store *s)
{
    size_t n = 0;
    struct patron_rule_change *v = calloc(API_RULE_CHANGES_MAX, sizeof *v);
    int err = v ? patron_rule_changes(s, api_query(c, "prefix"), v, API_RULE_CHANGES_MAX, &n)
                : PATRON_ENOMEM;
    if (err != 0) {
        free(v);
        return err;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < API_RULE_CHANGES_MAX; i++)
        json_array_append_new(arr, change_json(&v[i]));
    free(v);
    return api_reply(c, 200, json_pack("{s:o, s:I}", "changes", arr, "count", (json_int_t)n));
}
