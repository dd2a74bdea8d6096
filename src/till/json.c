/* SPDX-License-Identifier: MIT */
/* The one JSON shape of the results that the `patron` program and the counter service share
 * (include/patron/json.h). Each builder sets its fields one by one and remembers whether any
 * allocation failed, so that a result is either whole or not given at all. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "patron/json.h"

/* An object under construction; `bad` is set by the first field that could not be added. */
struct obj {
    json_t *o;
    int bad;
};

static struct obj obj_new(void)
{
    struct obj b = {json_object(), 0};
    b.bad = b.o == NULL;
    return b;
}

/* Steals v (NULL counts as a failure; json_object_set_new frees v when it cannot add it). */
static void put(struct obj *b, const char *key, json_t *v)
{
    if (json_object_set_new(b->o, key, v) != 0)
        b->bad = 1;
}

static void put_int(struct obj *b, const char *key, int64_t v)
{
    put(b, key, json_integer((json_int_t)v));
}

static void put_bool(struct obj *b, const char *key, int v)
{
    put(b, key, json_boolean(v));
}

/* Text read back from the store: entry points refuse bad bytes, but a row that somehow holds
 * them (an old store, a hand edit) is shown repaired rather than failing the whole reply. */
static json_t *text_value(const char *v)
{
    json_t *j = json_string(v);
    if (!j && patron_text_check(v, 0, SIZE_MAX, 0) != PATRON_TEXT_OK) {
        char fixed[1024];
        j = json_string(patron_text_repair(fixed, sizeof fixed, v));
    }
    return j;
}

static void put_str(struct obj *b, const char *key, const char *v)
{
    put(b, key, text_value(v ? v : ""));
}

/* Text that may be unset: null for NULL or "". */
static void put_text(struct obj *b, const char *key, const char *v)
{
    put(b, key, v && v[0] ? text_value(v) : json_null());
}

/* An id or count whose 0 means "none": null then. */
static void put_id(struct obj *b, const char *key, int64_t v)
{
    put(b, key, v ? json_integer((json_int_t)v) : json_null());
}

static void put_time(struct obj *b, const char *key, int64_t t)
{
    put(b, key, patron_json_time(t));
}

/* A voucher id as the 16 hex digits every reply uses; null for 0 (not issued). */
static void put_voucher_id(struct obj *b, const char *key, uint64_t id)
{
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, id);
    put(b, key, id ? json_string(hex) : json_null());
}

static int finish(struct obj *b, json_t **out)
{
    if (b->bad) {
        json_decref(b->o);
        return PATRON_ENOMEM;
    }
    *out = b->o;
    return 0;
}

json_t *patron_json_time(int64_t unix_seconds)
{
    char buf[32];
    struct tm tm;
    time_t t = (time_t)unix_seconds;
    if (unix_seconds == 0 || !gmtime_r(&t, &tm))
        return json_null();
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

int patron_json_time_parse(const char *text, int64_t *out)
{
    return patron_time_parse(text, out);
}

static void member_fields(struct obj *b, const struct patron_member *m)
{
    put_int(b, "member_id", m->member_id);
    put_str(b, "name", m->name);
    put_str(b, "card", m->card);
    put_bool(b, "card_blocked", m->card_blocked);
    put_bool(b, "erased", m->erased);
    put_int(b, "points", m->points);
    put_str(b, "tier", m->tier);
    put_time(b, "tier_until", m->tier_until);
    put_time(b, "created_at", m->created_at);
    put_time(b, "member_since", m->created_at); /* the name `patron member show` has used */
    put_text(b, "email", m->email);
    put_text(b, "phone", m->phone);
    put_text(b, "birthday", m->birthday);
    put_bool(b, "consent_marketing", m->consent_marketing);
    put_time(b, "consent_at", m->consent_at);
    put_bool(b, "greet_by_name", m->greet_by_name);
}

int patron_json_member(const struct patron_member *m, json_t **out)
{
    struct obj b = obj_new();
    member_fields(&b, m);
    return finish(&b, out);
}

int patron_json_enrollment(const struct patron_member *m, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "member_id", m->member_id);
    put_str(&b, "card", m->card);
    return finish(&b, out);
}

int patron_json_offer_matches(const struct patron_offer_match *v, size_t n, json_t **out)
{
    json_t *arr = json_array();
    int bad = arr == NULL;
    for (size_t i = 0; !bad && i < n; i++) {
        struct obj b = obj_new();
        json_t *item;
        put_int(&b, "offer_id", v[i].offer_id);
        put_str(&b, "name", v[i].name);
        put_str(&b, "why", v[i].why);
        put_str(&b, "benefit", v[i].benefit);
        put_int(&b, "points", v[i].points);
        put_bool(&b, "exclusive", v[i].exclusive);
        put_id(&b, "reward_id", v[i].reward_id);
        bad = finish(&b, &item) != 0 || json_array_append_new(arr, item) != 0;
    }
    if (bad) {
        json_decref(arr);
        return PATRON_ENOMEM;
    }
    *out = arr;
    return 0;
}

static json_t *scan_rewards(const struct patron_scan_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n_rewards; i++) {
        if (json_array_append_new(arr, json_pack("{s:I, s:o, s:I}", "reward_id",
                                                 (json_int_t)r->rewards[i].reward_id, "name",
                                                 text_value(r->rewards[i].name), "cost",
                                                 (json_int_t)r->rewards[i].cost)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int patron_json_scan(const struct patron_scan_result *r, json_t **out)
{
    struct obj b = obj_new();
    json_t *offers = NULL;
    char date[16];
    member_fields(&b, &r->member);
    put(&b, "rewards", scan_rewards(r));
    b.bad |= patron_json_offer_matches(r->offers, r->n_offers, &offers) != 0;
    put(&b, "offers", offers);
    put_int(&b, "expiring_points", r->expiring_points);
    put_time(&b, "expiring_at", r->expiring_at);
    if (r->expiring_at) {
        time_t t = (time_t)r->expiring_at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    }
    put_text(&b, "expiring_on", r->expiring_at ? date : NULL);
    put_text(&b, "next_tier", r->next_tier);
    put_int(&b, "points_to_next_tier", r->points_to_next_tier);
    return finish(&b, out);
}

static json_t *sale_coupons(const struct patron_sale_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n_coupons; i++) {
        const struct patron_sale_coupon *k = &r->coupons[i];
        struct obj b = obj_new();
        json_t *item;
        put_int(&b, "offer_id", k->offer_id);
        put_int(&b, "reward_id", k->reward_id);
        put_int(&b, "redemption_id", k->redemption_id);
        put_voucher_id(&b, "voucher_id", k->voucher_id);
        put_text(&b, "code", k->code);
        if (finish(&b, &item) != 0 || json_array_append_new(arr, item) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int patron_json_sale(const struct patron_sale_result *r, json_t **out)
{
    struct obj b = obj_new();
    json_t *applied = json_array();
    for (size_t i = 0; applied && i < r->n_offers_applied; i++)
        if (json_array_append_new(applied, json_integer((json_int_t)r->offers_applied[i])) != 0)
            b.bad = 1;
    put_int(&b, "sale_id", r->sale_id);
    put_int(&b, "member_id", r->member_id);
    put_int(&b, "points_earned", r->points_earned);
    put_int(&b, "bonus_points", r->bonus_points);
    put_int(&b, "points", r->points);
    put_str(&b, "tier", r->tier);
    put_bool(&b, "tier_upgraded", r->tier_upgraded);
    put_bool(&b, "replayed", r->replayed);
    put(&b, "offers_applied", applied);
    put(&b, "coupons", sale_coupons(r));
    return finish(&b, out);
}

int patron_json_refund(const struct patron_refund_result *r, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "refund_id", r->refund_id);
    put_int(&b, "sale_id", r->sale_id);
    put_int(&b, "member_id", r->member_id);
    put_int(&b, "points_reversed", r->points_reversed);
    put_int(&b, "shortfall", r->shortfall);
    put_int(&b, "points", r->points);
    put_int(&b, "rewards_returned", r->rewards_returned);
    put_text(&b, "return_ref", r->return_ref);
    put_bool(&b, "replayed", r->replayed);
    return finish(&b, out);
}

int patron_json_rewards(const struct patron_reward *v, size_t n, size_t count, json_t **out)
{
    struct obj b = obj_new();
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        struct obj r = obj_new();
        json_t *item;
        put_int(&r, "reward_id", v[i].reward_id);
        put_str(&r, "name", v[i].name);
        put_int(&r, "cost", v[i].cost);
        put_str(&r, "kind", patron_value_kind_name(v[i].kind));
        put_int(&r, "value", v[i].value);
        put_str(&r, "currency", v[i].currency);
        put_int(&r, "valid_days", v[i].valid_days);
        if (finish(&r, &item) != 0 || json_array_append_new(arr, item) != 0)
            b.bad = 1;
    }
    put(&b, "rewards", arr);
    put_int(&b, "count", (int64_t)count);
    return finish(&b, out);
}

int patron_json_redemption(const struct patron_redeem_result *r, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "redemption_id", r->redemption_id);
    put_int(&b, "member_id", r->member_id);
    put_int(&b, "points_spent", r->points_spent);
    put_int(&b, "points", r->points);
    /* Until the reward is issued as a voucher the voucher fields are null. */
    put_voucher_id(&b, "voucher_id", r->voucher_id);
    put_text(&b, "token", r->token);
    put_text(&b, "code", r->code);
    put_time(&b, "expires_at", r->expires_at);
    put_id(&b, "print_job", r->print_job);
    put_bool(&b, "replayed", r->replayed);
    return finish(&b, out);
}

static void voucher_fields(struct obj *b, const struct patron_voucher *v, int64_t expires_at,
                           const char *currency, const char *code)
{
    put_voucher_id(b, "voucher_id", v->voucher_id);
    put_int(b, "value", v->value);
    put_str(b, "kind", patron_value_kind_name(v->kind));
    put_str(b, "currency", currency);
    put_time(b, "expires_at", expires_at);
    put_str(b, "code", code);
    put_int(b, "key_id", v->key_id);
    put_int(b, "member_id", (int64_t)v->member_id);
    put_int(b, "store_scope", v->store_scope);
    put_bool(b, "online_only", (v->flags & PATRON_VOUCHER_ONLINE_ONLY) != 0);
    put_bool(b, "non_transferable", (v->flags & PATRON_VOUCHER_NON_TRANSFERABLE) != 0);
}

int patron_json_voucher_check(const struct patron_voucher_result *r, json_t **out)
{
    struct obj b = obj_new();
    voucher_fields(&b, &r->voucher, r->expires_at, r->currency, r->code);
    put_bool(&b, "foreign", r->foreign);
    put_bool(&b, "valid", 1);
    return finish(&b, out);
}

int patron_json_voucher_redeem(const struct patron_voucher_result *r, json_t **out)
{
    struct obj b = obj_new();
    voucher_fields(&b, &r->voucher, r->expires_at, r->currency, r->code);
    put_bool(&b, "foreign", r->foreign);
    put_int(&b, "redemption_id", r->redemption_id);
    put_bool(&b, "replayed", r->replayed);
    return finish(&b, out);
}

int patron_json_voucher_info(const struct patron_voucher_info *v, json_t **out)
{
    struct obj b = obj_new();
    voucher_fields(&b, &v->voucher, v->expires_at, v->currency, v->code);
    put_str(&b, "status", v->status);
    put_str(&b, "token", v->token);
    put_time(&b, "redeemed_at", v->redeemed_at);
    put_text(&b, "redeemed_ref", v->redeemed_at ? v->redeemed_ref : NULL);
    put_time(&b, "voided_at", v->voided_at);
    put_text(&b, "void_reason", v->voided_at ? v->void_reason : NULL);
    return finish(&b, out);
}

int patron_json_print_job(const struct patron_print_job *j, json_t **out)
{
    static const char *const names[] = {"queued", "sending", "printed"};
    struct obj b = obj_new();
    put_int(&b, "job_id", j->job_id);
    put_str(&b, "template", j->template_name);
    put_str(&b, "status", (unsigned)j->status < 3 ? names[j->status] : "queued");
    put_int(&b, "attempts", j->attempts);
    put_time(&b, "created_at", j->created_at);
    put_time(&b, "printed_at", j->printed_at);
    put_text(&b, "last_error", j->last_error);
    put_id(&b, "reprint_of", j->reprint_of);
    return finish(&b, out);
}

int patron_json_print_jobs(const struct patron_print_job *v, size_t n, size_t count, json_t **out)
{
    struct obj b = obj_new();
    json_t *arr = json_array(), *item;
    for (size_t i = 0; arr && i < n; i++)
        if (patron_json_print_job(&v[i], &item) != 0 || json_array_append_new(arr, item) != 0)
            b.bad = 1;
    put(&b, "jobs", arr);
    put_int(&b, "count", (int64_t)count);
    return finish(&b, out);
}

int patron_json_offer(const patron_store *s, const struct patron_offer *o, json_t **out)
{
    struct obj b = obj_new();
    char benefit[32];
    patron_offer_benefit_format(o->benefit, o->benefit_value, benefit, sizeof benefit);
    put_int(&b, "offer_id", o->offer_id);
    put_str(&b, "name", o->name);
    put_str(&b, "status", patron_offer_status(s, o));
    put_str(&b, "benefit", benefit);
    put_bool(&b, "exclusive", o->exclusive);
    put_bool(&b, "birthday_month", o->birthday_month);
    put_bool(&b, "first_visit", o->first_visit);
    put_int(&b, "uses", o->uses);
    put_str(&b, "created_by", o->created_by);
    put_text(&b, "tier", o->tier);
    put_text(&b, "category", o->category);
    put_id(&b, "within_days", o->within_days);
    put_id(&b, "lapsed_days", o->lapsed_days);
    put_text(&b, "segment", o->segment);
    put_id(&b, "min_basket", o->min_basket_minor);
    put_text(&b, "sku", o->sku);
    put_text(&b, "basket_category", o->basket_category);
    put_time(&b, "from", o->valid_from);
    put_time(&b, "to", o->valid_to);
    put_id(&b, "limit_per_member", o->limit_per_member);
    put_id(&b, "limit_total", o->limit_total);
    put_id(&b, "limit_per_day", o->limit_per_day);
    put_time(&b, "ended_at", o->ended_at);
    return finish(&b, out);
}

int patron_json_offers(const patron_store *s, const struct patron_offer *v, size_t n, size_t count,
                       json_t **out)
{
    struct obj b = obj_new();
    json_t *arr = json_array(), *item;
    for (size_t i = 0; arr && i < n; i++)
        if (patron_json_offer(s, &v[i], &item) != 0 || json_array_append_new(arr, item) != 0)
            b.bad = 1;
    put(&b, "offers", arr);
    put_int(&b, "count", (int64_t)count);
    return finish(&b, out);
}

int patron_json_goodwill(const struct patron_goodwill_result *r, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "goodwill_id", r->goodwill_id);
    put_int(&b, "member_id", r->member_id);
    put_int(&b, "reward_id", r->reward_id);
    put_int(&b, "redemption_id", r->redemption_id);
    put_voucher_id(&b, "voucher_id", r->voucher_id);
    put_text(&b, "code", r->code);
    put_id(&b, "print_job", r->print_job);
    put_int(&b, "issued_today", r->issued_today);
    put_int(&b, "daily_limit", r->daily_limit);
    put_bool(&b, "replayed", r->replayed);
    return finish(&b, out);
}

int patron_json_feedback(int64_t feedback_id, int score, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "feedback_id", feedback_id);
    put_int(&b, "score", score);
    return finish(&b, out);
}

int patron_json_consent(const struct patron_member *m, const char *source, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "member_id", m->member_id);
    put_str(&b, "card", m->card);
    put_bool(&b, "consent_marketing", m->consent_marketing);
    put_str(&b, "consent_source", source ? source : "counter");
    put_time(&b, "consent_at", m->consent_at);
    return finish(&b, out);
}

int patron_json_erasure(int64_t member_id, json_t **out)
{
    struct obj b = obj_new();
    put_int(&b, "member_id", member_id);
    put_bool(&b, "erased", 1);
    return finish(&b, out);
}

int patron_json_import_report(const struct patron_import_report *r, json_t *errors, json_t **out)
{
    json_t *o =
        json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "batch", r->batch,
                  "dry_run", r->dry_run, "already_imported", r->already_imported, "rows_read",
                  (json_int_t)r->rows_read, "created", (json_int_t)r->created, "matched",
                  (json_int_t)r->matched, "updated", (json_int_t)r->updated, "skipped",
                  (json_int_t)r->skipped, "failed", (json_int_t)r->failed, "file_points",
                  (json_int_t)r->file_points, "points_posted", (json_int_t)r->points_posted,
                  "migration_balance", (json_int_t)r->migration_balance);
    *out = o;
    if (!o)
        return PATRON_ENOMEM;
    json_object_set_new(o, "account", json_sprintf("migration:%s", r->batch));
    json_object_set_new(o, "aliases", json_integer(r->aliases));
    json_object_set_new(o, "rejects_file",
                        r->rejects_path[0] ? json_string(r->rejects_path) : json_null());
    json_object_set(o, "errors", errors);
    return 0;
}

int patron_json_import_facts(const struct patron_import_facts *f, json_t **out)
{
    json_t *old = json_array();
    for (size_t i = 0;
         old && i < sizeof f->old_cards / sizeof f->old_cards[0] && f->old_cards[i][0]; i++)
        json_array_append_new(old, json_string(f->old_cards[i]));
    *out =
        old ? json_pack("{s:s, s:o, s:o, s:o, s:o}", "batch", f->batch, "ref",
                        f->ref[0] ? json_string(f->ref) : json_null(), "lifetime_points",
                        f->has_lifetime_points ? json_integer(f->lifetime_points) : json_null(),
                        "tier", f->tier[0] ? json_string(f->tier) : json_null(), "old_cards", old)
            : NULL;
    return *out ? 0 : PATRON_ENOMEM;
}
