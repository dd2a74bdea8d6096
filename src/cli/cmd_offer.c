/* SPDX-License-Identifier: MIT */
/* `patron offer add|list|show|end|segment`, `patron goodwill issue`, `patron feedback` and
 * `patron referral show|link`: the marketing side of the counter, through the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"

static const char offer_usage[] =
    "patron offer add --name N [--tier T] [--category C --within-days D] [--birthday-month]"
    " [--lapsed-days D] [--first-visit] [--segment S] [--min-basket MINOR] [--sku SKU]"
    " [--basket-category C] --benefit bonus:POINTS|multiplier:X|reward:ID [--exclusive]"
    " [--from DATE] [--to DATE] [--limit-per-member N] [--limit-total N] [--limit-per-day N]"
    " [--by WHO] | list [--all] | show ID | end ID [--by WHO] | segment NAME CARD";

/* Each optional count: absent stays 0; present must parse within [min, max]. */
static int take_count(struct cli_args *a, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const char *v = cli_take(a, name);
    return v ? cli_parse_int(v, min, max, out) : 0;
}

/* --to DATE means through the end of that day; a full time is taken as is
 * (patron_time_parse_until). */
static int take_window(struct cli_args *a, struct patron_offer_def *d)
{
    const char *from = cli_take(a, "--from"), *to = cli_take(a, "--to");
    if (from && cli_parse_time(from, &d->valid_from) != 0)
        return -1;
    if (to && patron_time_parse_until(to, &d->valid_to) != 0)
        return -1;
    return 0;
}

int cli_offer_parse_def(struct cli_args *a, struct patron_offer_def *d)
{
    const char *benefit;
    memset(d, 0, sizeof *d);
    d->name = cli_take(a, "--name");
    d->tier = cli_take(a, "--tier");
    d->category = cli_take(a, "--category");
    d->segment = cli_take(a, "--segment");
    d->sku = cli_take(a, "--sku");
    d->basket_category = cli_take(a, "--basket-category");
    d->created_by = cli_take(a, "--by");
    d->birthday_month = cli_flag(a, "--birthday-month");
    d->first_visit = cli_flag(a, "--first-visit");
    d->exclusive = cli_flag(a, "--exclusive");
    benefit = cli_take(a, "--benefit");
    if (!d->name || !benefit ||
        patron_offer_benefit_parse(benefit, &d->benefit, &d->benefit_value) != 0)
        return -1;
    if (take_count(a, "--within-days", 1, 100000, &d->within_days) != 0 ||
        take_count(a, "--lapsed-days", 1, 100000, &d->lapsed_days) != 0 ||
        take_count(a, "--min-basket", 0, INT64_MAX, &d->min_basket_minor) != 0 ||
        take_count(a, "--limit-per-member", 1, INT64_MAX, &d->limit_per_member) != 0 ||
        take_count(a, "--limit-total", 1, INT64_MAX, &d->limit_total) != 0 ||
        take_count(a, "--limit-per-day", 1, INT64_MAX, &d->limit_per_day) != 0)
        return -1;
    return take_window(a, d);
}

/* The offer as it now stands, as `patron serve` answers it too; `flag` (e.g. "ended") is set
 * true when given. */
static int emit_offer(struct cli *c, int64_t id, const char *flag, const char *human)
{
    struct patron_offer o;
    json_t *j;
    int err = patron_offer_get(c->store, id, &o);
    if (err != 0 || (err = patron_json_offer(c->store, &o, &j)) != 0)
        return cli_fail(c, err, "cannot show the offer");
    if (flag)
        json_object_set_new(j, flag, json_true());
    return cli_emit(c, j, human);
}

static int offer_add(struct cli *c, struct cli_args *a)
{
    struct patron_offer_def d;
    int64_t id;
    char human[96];
    if (cli_offer_parse_def(a, &d) != 0 || a->argc != 0)
        return cli_usage(c, offer_usage);
    int err = patron_offer_add(c->store, &d, &id);
    if (err != 0)
        return cli_fail(c, err, "offer refused");
    snprintf(human, sizeof human, "Offer %lld added.\n", (long long)id);
    return emit_offer(c, id, NULL, human);
}

static int offer_list(struct cli *c, struct cli_args *a)
{
    int all = cli_flag(a, "--all");
    size_t n = 0, cap = PATRON_OFFER_MAX_ACTIVE;
    struct patron_offer *v = malloc(sizeof *v * cap);
    json_t *j = NULL;
    char *human = malloc(cap * 160 + 1);
    size_t off = 0;
    int err = (!v || !human) ? PATRON_ENOMEM : 0;
    if (a->argc != 0) {
        free(v);
        free(human);
        return cli_usage(c, offer_usage);
    }
    if (err == 0)
        err = patron_offer_list(c->store, all, v, cap, &n);
    if (err == 0)
        err = patron_json_offers(c->store, v, n < cap ? n : cap, n, &j);
    if (human)
        human[0] = '\0';
    for (size_t i = 0; err == 0 && i < n && i < cap; i++) {
        char benefit[32];
        patron_offer_benefit_format(v[i].benefit, v[i].benefit_value, benefit, sizeof benefit);
        off += (size_t)snprintf(human + off, cap * 160 + 1 - off, "%5lld  %-9s %-16s %.100s\n",
                                (long long)v[i].offer_id, patron_offer_status(c->store, &v[i]),
                                benefit, v[i].name);
    }
    int status = err ? cli_fail(c, err, "cannot list offers") : cli_emit(c, j, human);
    free(v);
    free(human);
    return status;
}

static int offer_show(struct cli *c, struct cli_args *a)
{
    const char *id_text = cli_positional(a);
    struct patron_offer o;
    int64_t id;
    if (!id_text || a->argc != 0 || cli_parse_int(id_text, 1, INT64_MAX, &id) != 0)
        return cli_usage(c, offer_usage);
    json_t *j;
    int err = patron_offer_get(c->store, id, &o);
    if (err != 0 || (err = patron_json_offer(c->store, &o, &j)) != 0)
        return cli_fail(c, err, "cannot show the offer");
    char *human = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
    int status = cli_emit(c, j, human);
    fputs(human && !c->json ? "\n" : "", stdout);
    free(human);
    return status;
}

static int offer_end(struct cli *c, struct cli_args *a)
{
    const char *id_text = cli_positional(a), *who = cli_take(a, "--by");
    int64_t id;
    char human[64];
    if (!id_text || a->argc != 0 || cli_parse_int(id_text, 1, INT64_MAX, &id) != 0)
        return cli_usage(c, offer_usage);
    int err = patron_offer_end(c->store, id, who);
    if (err != 0)
        return cli_fail(c, err, "cannot end the offer");
    snprintf(human, sizeof human, "Offer %lld ended.\n", (long long)id);
    return emit_offer(c, id, "ended", human);
}

static int offer_segment(struct cli *c, struct cli_args *a)
{
    const char *name = cli_positional(a), *card = cli_positional(a);
    if (!name || !card || a->argc != 0)
        return cli_usage(c, offer_usage);
    int err = patron_segment_add(c->store, name, card);
    if (err != 0)
        return cli_fail(c, err, "cannot add to the segment");
    return cli_emit(c, json_pack("{s:s, s:s}", "segment", name, "card", card), "Added.\n");
}

int cli_cmd_offer(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, offer_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "add") == 0)
        return offer_add(c, a);
    if (strcmp(sub, "list") == 0)
        return offer_list(c, a);
    if (strcmp(sub, "show") == 0)
        return offer_show(c, a);
    if (strcmp(sub, "end") == 0)
        return offer_end(c, a);
    if (strcmp(sub, "segment") == 0)
        return offer_segment(c, a);
    return cli_usage(c, offer_usage);
}

int cli_cmd_goodwill(struct cli *c, struct cli_args *a)
{
    static const char usage[] = "patron goodwill issue CARD --reward ID --complaint TEXT "
                                "--manager NAME [--key K]";
    struct patron_goodwill_request in = {0};
    struct patron_goodwill_result r;
    const char *sub = cli_positional(a), *reward = cli_take(a, "--reward"), *key;
    char default_key[128], human[160];
    int status;
    in.complaint = cli_take(a, "--complaint");
    in.manager = cli_take(a, "--manager");
    key = cli_take(a, "--key");
    in.card = cli_positional(a);
    if (!sub || strcmp(sub, "issue") != 0 || !in.card || !reward || !in.complaint || !in.manager ||
        a->argc != 0 || cli_parse_int(reward, 1, INT64_MAX, &in.reward_id) != 0)
        return cli_usage(c, usage);
    /* Without --key, the same gesture for the same complaint is not given twice by a retry. */
    snprintf(default_key, sizeof default_key, "goodwill/%.14s/%lld/%.30s/%.60s", in.card,
             (long long)in.reward_id, in.manager, in.complaint);
    in.idempotency_key = key ? key : default_key;
    if ((status = cli_open_store(c)) != 0 || (status = cli_check_templates(c)) != 0)
        return status;
    int err = patron_goodwill_issue(c->store, &in, &r);
    if (err != 0)
        return cli_fail(c, err, "goodwill refused");
    snprintf(human, sizeof human,
             "Goodwill %lld: reward %lld given (%lld of %lld today for %s)%s\n",
             (long long)r.goodwill_id, (long long)r.reward_id, (long long)r.issued_today,
             (long long)r.daily_limit, in.manager, r.replayed ? " [already given]" : "");
    json_t *o;
    if ((err = patron_json_goodwill(&r, &o)) != 0)
        return cli_fail(c, err, NULL);
    /* The coupon was queued with the gesture: it prints now, as a reward's does. */
    status = r.replayed || !r.print_job ? -1 : cli_print_after(c, o, r.print_job);
    return status >= 0 ? status : cli_emit(c, o, human);
}

int cli_cmd_feedback(struct cli *c, struct cli_args *a)
{
    static const char usage[] =
        "patron feedback CARD --score 1-5 [--comment TEXT] [--ref SALE_REF]";
    struct patron_feedback in = {0};
    const char *score = cli_take(a, "--score");
    int64_t value, id;
    char human[64];
    int status;
    in.comment = cli_take(a, "--comment");
    in.sale_ref = cli_take(a, "--ref");
    in.card = cli_positional(a);
    if (!in.card || !score || a->argc != 0 || cli_parse_int(score, 1, 5, &value) != 0)
        return cli_usage(c, usage);
    in.score = (int)value;
    if ((status = cli_open_store(c)) != 0)
        return status;
    json_t *o;
    int err = patron_feedback_record(c->store, &in, &id);
    if (err != 0 || (err = patron_json_feedback(id, in.score, &o)) != 0)
        return cli_fail(c, err, "feedback not recorded");
    snprintf(human, sizeof human, "Thank you (feedback %lld).\n", (long long)id);
    return cli_emit(c, o, human);
}

int cli_cmd_referral(struct cli *c, struct cli_args *a)
{
    static const char usage[] = "patron referral show CARD | link CARD CODE";
    const char *sub = cli_positional(a), *card = cli_positional(a), *code = cli_positional(a);
    struct patron_referral_info info;
    char human[160];
    int status, err;
    if (!sub || !card || a->argc != 0 || (strcmp(sub, "link") == 0) != (code != NULL))
        return cli_usage(c, usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "link") == 0 && (err = patron_referral_link(c->store, card, code)) != 0)
        return cli_fail(c, err, "referral refused");
    if (strcmp(sub, "link") != 0 && strcmp(sub, "show") != 0)
        return cli_usage(c, usage);
    if ((err = patron_referral_info(c->store, card, &info)) != 0)
        return cli_fail(c, err, "cannot show the referral");
    snprintf(human, sizeof human, "Referral code %s; referred %lld (%lld bought)%s\n", info.code,
             (long long)info.referred, (long long)info.referred_rewarded,
             info.referred_by ? "; was referred" : "");
    json_t *o = json_pack("{s:s, s:I, s:I, s:b}", "referral_code", info.code, "referred",
                          (json_int_t)info.referred, "referred_rewarded",
                          (json_int_t)info.referred_rewarded, "rewarded", info.rewarded);
    json_object_set_new(o, "referred_by",
                        info.referred_by ? json_integer(info.referred_by) : json_null());
    return cli_emit(c, o, human);
}
