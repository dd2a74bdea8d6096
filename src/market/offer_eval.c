/* SPDX-License-Identifier: MIT */
/* Offer evaluation, by the rules stated in include/patron/offer.h: which running offers a member
 * is targeted by, which a basket triggers, what each is worth and which set wins, with the
 * explanation in words. The same code serves the scan, the dry run and the sale; at the sale it
 * runs inside the sale's transaction and books what it grants. Facts about the member (birthday,
 * last visit, recent categories) are read once per evaluation and only when an offer asks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/outbox_internal.h"
#include "ledger/ledger_internal.h"
#include "market/offer_internal.h"
#include "reward/coupon_internal.h"

#define FACT_CATEGORIES 64 /* recent categories kept in memory; more are asked of the database */
#define FACT_SEGMENTS 16   /* segment answers kept for one evaluation */

struct recent_category {
    char name[64];
    int64_t at;
};

struct segment_fact {
    int64_t id;
    int member;
};

struct facts {
    patron_store *s;
    const struct patron__member_row *m;
    int64_t now, exclude_sale, cats_since;
    int month; /* 1..12, UTC */
    int have_birthday, birth_month, have_last, have_cats, cats_overflow;
    int64_t last_sale; /* 0 = no earlier sale */
    size_t n_cats, n_segments;
    struct recent_category cats[FACT_CATEGORIES];
    struct segment_fact segments[FACT_SEGMENTS];
};

/* The explanation being written; NULL text when the caller only wants the verdict. */
struct why {
    char *text;
    size_t len, cap;
};

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

static void say(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct why *w, const char *fmt, ...)
{
    va_list ap;
    if (!w || !w->text || w->len + 1 >= w->cap)
        return;
    if (w->len > 0)
        w->len += (size_t)snprintf(w->text + w->len, w->cap - w->len, "; ");
    if (w->len + 1 >= w->cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(w->text + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    w->len = n < 0 ? w->len : w->len + (size_t)n;
    if (w->len >= w->cap)
        w->len = w->cap - 1;
}

static void facts_init(struct facts *f, patron_store *s, const struct patron__member_row *m,
                       int64_t exclude_sale)
{
    time_t now;
    struct tm tm = {0};
    memset(f, 0, sizeof *f);
    f->s = s;
    f->m = m;
    f->now = patron_store_now(s);
    f->exclude_sale = exclude_sale;
    now = (time_t)f->now;
    /* 0 when the clock is out of gmtime's range: no month then, so no birthday matches */
    f->month = gmtime_r(&now, &tm) ? tm.tm_mon + 1 : 0;
}

static int fact_birthday(struct facts *f)
{
    sqlite3_stmt *st;
    if (f->have_birthday)
        return 0;
    if (!(st = patron__stmt(f->s, "SELECT birthday FROM members WHERE id = ?1")))
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, f->m->member_id);
    int rc = sqlite3_step(st);
    const char *b = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (b && strlen(b) == 10)
        f->birth_month = (b[5] - '0') * 10 + (b[6] - '0');
    sqlite3_reset(st);
    f->have_birthday = 1;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(f->s, rc);
}

static int fact_last_sale(struct facts *f)
{
    sqlite3_stmt *st;
    if (f->have_last)
        return 0;
    if (!(st = patron__stmt(f->s, "SELECT COALESCE(MAX(created_at), 0) FROM sales"
                                  " WHERE member_id = ?1 AND id <> ?2")))
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, f->m->member_id);
    sqlite3_bind_int64(st, 2, f->exclude_sale);
    int rc = sqlite3_step(st);
    f->last_sale = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    f->have_last = 1;
    return rc == SQLITE_ROW ? 0 : patron__db_err(f->s, rc);
}

/* A sale's categories are read from its `categories` (each once, a JSON array of strings), not
 * from its lines: no line's JSON is read again for its category. */
static const char recent_sql[] =
    "SELECT c.value, MAX(s.created_at) FROM sales s, json_each(s.categories) c"
    " WHERE s.member_id = ?1 AND s.created_at >= ?2 AND s.id <> ?3 GROUP BY c.value LIMIT ?4";

/* The categories bought since the longest look-back any running offer asks for. */
static int fact_categories(struct facts *f, const struct patron__offer_cache *c)
{
    int64_t longest = 0;
    sqlite3_stmt *st;
    int rc;
    if (f->have_cats)
        return 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].within_days > longest)
            longest = c->v[i].within_days;
    if (!(st = patron__stmt(f->s, recent_sql)))
        return PATRON_EDB;
    f->cats_since = f->now - longest * PATRON__DAY_SECONDS;
    sqlite3_bind_int64(st, 1, f->m->member_id);
    sqlite3_bind_int64(st, 2, f->cats_since);
    sqlite3_bind_int64(st, 3, f->exclude_sale);
    sqlite3_bind_int(st, 4, FACT_CATEGORIES + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (f->n_cats == FACT_CATEGORIES) {
            f->cats_overflow = 1;
            continue;
        }
        struct recent_category *rc_cat = &f->cats[f->n_cats++];
        patron__copy(rc_cat->name, sizeof rc_cat->name, (const char *)sqlite3_column_text(st, 0));
        rc_cat->at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    f->have_cats = 1;
    return rc == SQLITE_DONE ? 0 : patron__db_err(f->s, rc);
}

/* Whether the member bought `category` since `since`; *at is when, last. */
static int bought_since(struct facts *f, const struct patron__offer_cache *c, const char *category,
                        int64_t since, int *yes)
{
    static const char one_sql[] =
        "SELECT COALESCE(MAX(s.created_at), 0) FROM sales s, json_each(s.categories) c"
        " WHERE s.member_id = ?1 AND s.created_at >= ?2 AND s.id <> ?3 AND c.value = ?4";
    int err = fact_categories(f, c);
    if (err != 0)
        return err;
    for (size_t i = 0; i < f->n_cats; i++) {
        if (strcmp(f->cats[i].name, category) == 0) {
            *yes = f->cats[i].at >= since;
            return 0;
        }
    }
    *yes = 0;
    if (!f->cats_overflow)
        return 0;
    sqlite3_stmt *st = patron__stmt(f->s, one_sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, f->m->member_id);
    sqlite3_bind_int64(st, 2, since);
    sqlite3_bind_int64(st, 3, f->exclude_sale);
    sqlite3_bind_text(st, 4, category, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) != 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(f->s, rc);
}

static int in_segment(struct facts *f, int64_t segment_id, int *yes)
{
    for (size_t i = 0; i < f->n_segments; i++) {
        if (f->segments[i].id == segment_id) {
            *yes = f->segments[i].member;
            return 0;
        }
    }
    sqlite3_stmt *st = patron__stmt(
        f->s, "SELECT 1 FROM segment_members WHERE segment_id = ?1 AND member_id = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, segment_id);
    sqlite3_bind_int64(st, 2, f->m->member_id);
    int rc = sqlite3_step(st);
    *yes = rc == SQLITE_ROW;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(f->s, rc);
    if (f->n_segments < FACT_SEGMENTS)
        f->segments[f->n_segments++] = (struct segment_fact){segment_id, *yes};
    return 0;
}

/* The visit-history targets: bought a category lately, lapsed, first visit. */
static int history_met(struct facts *f, const struct patron__offer_cache *c,
                       const struct patron_offer *o, struct why *w, int *met)
{
    int err, yes = 1;
    *met = 0;
    if (o->within_days) {
        if ((err = bought_since(f, c, o->category, f->now - o->within_days * PATRON__DAY_SECONDS,
                                &yes)) != 0)
            return err;
        if (!yes)
            return 0;
        say(w, "bought %s in the last %lld days", o->category, (long long)o->within_days);
    }
    if (o->lapsed_days || o->first_visit) {
        if ((err = fact_last_sale(f)) != 0)
            return err;
        if (o->first_visit && f->last_sale != 0)
            return 0;
        if (o->first_visit)
            say(w, "welcome: first visit");
        int64_t idle = f->now - f->last_sale;
        if (o->lapsed_days && (f->last_sale == 0 || idle < o->lapsed_days * PATRON__DAY_SECONDS))
            return 0;
        if (o->lapsed_days)
            say(w, "win-back: no purchase for %lld days (offer from %lld)",
                (long long)(idle / PATRON__DAY_SECONDS), (long long)o->lapsed_days);
    }
    *met = 1;
    return 0;
}

/* Whether the member meets every target of the offer; the explanation names each one met. */
static int target_met(struct facts *f, const struct patron__offer_cache *c,
                      const struct patron_offer *o, struct why *w, int *met)
{
    int err, yes;
    *met = 0;
    if (o->tier_id) {
        if (f->m->tier_threshold < o->tier_threshold)
            return 0;
        say(w, "tier %s or above", o->tier);
    }
    if (o->birthday_month) {
        if ((err = fact_birthday(f)) != 0)
            return err;
        if (f->month < 1 || f->month > 12 || f->birth_month != f->month)
            return 0;
        say(w, "birthday month (%s)", month_names[f->month - 1]);
    }
    if (o->segment_id) {
        if ((err = in_segment(f, o->segment_id, &yes)) != 0)
            return err;
        if (!yes)
            return 0;
        say(w, "in segment '%s'", o->segment);
    }
    if ((err = history_met(f, c, o, w, met)) != 0 || !*met)
        return err;
    if (w && w->len == 0)
        say(w, "open to every member");
    return 0;
}

static int basket_has(const struct patron_sale *b, int by_sku, const char *want)
{
    for (size_t i = 0; i < b->n_lines; i++)
        if (strcmp(by_sku ? b->lines[i].sku : b->lines[i].category, want) == 0)
            return 1;
    return 0;
}

/* With a basket: whether it meets every trigger. Without (the scan): what the sale needs. */
static int trigger_met(const struct patron_offer *o, const struct patron_sale *b, struct why *w)
{
    int64_t min = o->min_basket_minor;
    if (b && min && b->total_minor < min)
        return 0;
    if (b && o->sku[0] && !basket_has(b, 1, o->sku))
        return 0;
    if (b && o->basket_category[0] && !basket_has(b, 0, o->basket_category))
        return 0;
    if (min)
        say(w, b ? "basket %lld.%02lld reaches %lld.%02lld" : "on a basket of %lld.%02lld or more",
            (long long)((b ? b->total_minor : min) / 100),
            (long long)((b ? b->total_minor : min) % 100), (long long)(min / 100),
            (long long)(min % 100));
    if (o->sku[0])
        say(w, b ? "basket holds %s" : "with %s in the basket", o->sku);
    if (o->basket_category[0])
        say(w, b ? "basket holds %s" : "with any %s in the basket", o->basket_category);
    return 1;
}

static int running(const struct patron_offer *o, int64_t now)
{
    return !o->ended_at && (!o->valid_from || now >= o->valid_from) &&
           (!o->valid_to || now < o->valid_to) &&
           (o->benefit != PATRON_BENEFIT_REWARD || o->reward_active);
}

static int count(patron_store *s, const char *sql, int64_t offer_id, int64_t arg, int64_t *n)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, offer_id);
    sqlite3_bind_int64(st, 2, arg);
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

/* Whether each limit leaves one more use now. */
static int limits_left(struct facts *f, const struct patron_offer *o, int *left)
{
    int64_t n = 0;
    int err;
    *left = 0;
    if (o->limit_per_member &&
        ((err =
              count(f->s, "SELECT COUNT(*) FROM offer_uses WHERE offer_id = ?1 AND member_id = ?2",
                    o->offer_id, f->m->member_id, &n)) != 0 ||
         n >= o->limit_per_member))
        return err;
    if (o->limit_total &&
        ((err = count(f->s, "SELECT COUNT(*) FROM offer_uses WHERE offer_id = ?1 AND ?2 = ?2",
                      o->offer_id, 0, &n)) != 0 ||
         n >= o->limit_total))
        return err;
    if (o->limit_per_day &&
        ((err = count(f->s, "SELECT COUNT(*) FROM offer_uses WHERE offer_id = ?1 AND day = ?2",
                      o->offer_id, PATRON__DAY_NUMBER(f->now), &n)) != 0 ||
         n >= o->limit_per_day))
        return err;
    *left = 1;
    return 0;
}

/* Window, trigger and target, the cheap ones first. Limits cost a query each, so they are asked
 * only of the offers that would be chosen (see evaluate). */
static int judge(struct facts *f, const struct patron__offer_cache *c, const struct patron_offer *o,
                 const struct patron_sale *basket, int *ok)
{
    *ok = 0;
    if (!running(o, f->now) || (basket && !trigger_met(o, basket, NULL)))
        return 0;
    return target_met(f, c, o, NULL, ok);
}

static int64_t value_of(const struct patron_offer *o, int64_t base)
{
    switch (o->benefit) {
    case PATRON_BENEFIT_BONUS:
        return o->benefit_value;
    case PATRON_BENEFIT_MULTIPLIER:
        return (int64_t)((__int128)base * (o->benefit_value - 1000) / 1000);
    default:
        return o->reward_cost;
    }
}

struct candidate {
    const struct patron_offer *o;
    int64_t points;
    int limits_ok; /* 0 not asked yet, 1 a use is left, -1 spent */
};

struct choice {
    const struct patron_offer *chosen[PATRON_SALE_MAX_OFFERS];
    size_t from[PATRON_SALE_MAX_OFFERS]; /* index in the candidates */
    int64_t points[PATRON_SALE_MAX_OFFERS];
    size_t n;
    size_t n_candidates;
};

/* The stacking rule: every combinable offer together, or one exclusive offer alone, whichever is
 * worth more to the member; ties to the lowest offer id. */
static void choose(const struct candidate *cand, size_t n, struct choice *ch)
{
    int64_t combined = 0, best = -1, best_id = 0;
    size_t rewards = 0, best_exclusive = n;
    ch->n = 0;
    ch->n_candidates = n;
    for (size_t i = 0; i < n; i++) {
        if (cand[i].o->exclusive || ch->n == PATRON_SALE_MAX_OFFERS)
            continue;
        if (cand[i].o->benefit == PATRON_BENEFIT_REWARD && rewards++ >= PATRON_SALE_MAX_COUPONS)
            continue;
        ch->chosen[ch->n] = cand[i].o;
        ch->from[ch->n] = i;
        ch->points[ch->n++] = cand[i].points;
        combined += cand[i].points;
    }
    if (ch->n > 0) {
        best = combined;
        best_id = ch->chosen[0]->offer_id;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cand[i].o->exclusive)
            continue;
        if (cand[i].points > best || (cand[i].points == best && cand[i].o->offer_id < best_id)) {
            best = cand[i].points;
            best_id = cand[i].o->offer_id;
            best_exclusive = i;
        }
    }
    if (best_exclusive < n) {
        ch->chosen[0] = cand[best_exclusive].o;
        ch->from[0] = best_exclusive;
        ch->points[0] = cand[best_exclusive].points;
        ch->n = 1;
    }
}

/* What the sale earns by the ordinary rule, for multipliers: the sale's own arithmetic. */
static int64_t base_points(patron_store *s, const struct patron_sale *b, int64_t tier_permille)
{
    struct patron_program p;
    struct patron__earning e;
    if (patron_program_get(s, &p) != 0)
        return 0;
    patron__sale_weigh(s, &p, b, tier_permille, NULL, &e);
    return e.points;
}

static const char limits_sql[] =
    "SELECT o.id,"
    " o.limit_per_member IS NOT NULL AND (SELECT COUNT(*) FROM offer_uses u"
    "  WHERE u.offer_id = o.id AND u.member_id = ?2) >= o.limit_per_member,"
    " o.limit_per_day IS NOT NULL AND (SELECT COUNT(*) FROM offer_uses u"
    "  WHERE u.offer_id = o.id AND u.day = ?3) >= o.limit_per_day,"
    " o.limit_total IS NOT NULL AND (SELECT COUNT(*) FROM offer_uses u"
    "  WHERE u.offer_id = o.id) >= o.limit_total"
    " FROM offers o WHERE o.id IN (SELECT value FROM json_each(?1))";

/* Asks the limits of every chosen offer not asked yet, in one statement: 1 = a use is left,
 * -1 = spent. */
static int ask_limits(struct facts *f, struct candidate *cand, const struct choice *ch)
{
    char ids[PATRON_SALE_MAX_OFFERS * 21 + 3] = "[";
    size_t len = 1;
    int rc;
    for (size_t i = 0; i < ch->n; i++) {
        struct candidate *k = &cand[ch->from[i]];
        const struct patron_offer *o = k->o;
        if (k->limits_ok == 0 && !o->limit_per_member && !o->limit_per_day && !o->limit_total)
            k->limits_ok = 1;
        if (k->limits_ok == 0)
            len += (size_t)snprintf(ids + len, sizeof ids - len, "%s%lld", len > 1 ? "," : "",
                                    (long long)o->offer_id);
    }
    if (len == 1)
        return 0;
    snprintf(ids + len, sizeof ids - len, "]");
    sqlite3_stmt *st = patron__stmt(f->s, limits_sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->m->member_id);
    sqlite3_bind_int64(st, 3, PATRON__DAY_NUMBER(f->now));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        int spent =
            sqlite3_column_int(st, 1) || sqlite3_column_int(st, 2) || sqlite3_column_int(st, 3);
        for (size_t i = 0; i < ch->n; i++)
            if (cand[ch->from[i]].o->offer_id == id)
                cand[ch->from[i]].limits_ok = spent ? -1 : 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(f->s, rc);
}

/* Chooses among the candidates whose limits hold. Limits are asked only of the chosen: those
 * spent are dropped and the choice made again, which ends in the choice that asking every
 * candidate first would give, since the winner of the stacking rule never depends on offers
 * that lose to it. */
static int choose_within_limits(struct facts *f, struct candidate *cand, size_t n,
                                struct choice *ch)
{
    size_t total = n, kept;
    int err;
    for (;;) {
        choose(cand, n, ch);
        if ((err = ask_limits(f, cand, ch)) != 0)
            return err;
        kept = 0;
        for (size_t i = 0; i < n; i++) /* drop the spent, keeping id order */
            if (cand[i].limits_ok >= 0)
                cand[kept++] = cand[i];
        if (kept == n)
            break;
        n = kept;
    }
    ch->n_candidates = total;
    return 0;
}

/* Evaluates every running offer against the basket; base < 0 asks for it to be computed. */
static int evaluate(patron_store *s, const struct patron__member_row *m,
                    const struct patron_sale *b, int64_t sale_id, int64_t base, struct facts *f,
                    struct choice *ch)
{
    const struct patron__offer_cache *c;
    struct candidate *cand;
    size_t n = 0;
    int err, ok;
    if ((err = patron__offer_cache_get(s, &c)) != 0)
        return err;
    facts_init(f, s, m, sale_id);
    if (!(cand = malloc(sizeof *cand * (c->n ? c->n : 1))))
        return PATRON_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        if ((err = judge(f, c, &c->v[i], b, &ok)) != 0)
            goto out;
        if (!ok)
            continue;
        if (c->v[i].benefit == PATRON_BENEFIT_MULTIPLIER && base < 0)
            base = base_points(s, b, m->tier_multiplier_permille);
        int64_t points = value_of(&c->v[i], base);
        if (points > 0)
            cand[n++] = (struct candidate){&c->v[i], points, 0};
    }
    err = choose_within_limits(f, cand, n, ch);
out:
    free(cand);
    return err;
}

/* Writes the explanation of one chosen offer (the verdict was reached already). */
static void explain(struct facts *f, const struct patron_offer *o, const struct patron_sale *b,
                    char *buf, size_t cap)
{
    struct why w = {buf, 0, cap};
    const struct patron__offer_cache *c = f->s->offers;
    int met;
    buf[0] = '\0';
    if (target_met(f, c, o, &w, &met) == 0)
        trigger_met(o, b, &w);
}

static void fill_match(struct facts *f, const struct patron_offer *o, int64_t points,
                       const struct patron_sale *b, struct patron_offer_match *out)
{
    memset(out, 0, sizeof *out);
    out->offer_id = o->offer_id;
    patron__copy(out->name, sizeof out->name, o->name);
    explain(f, o, b, out->why, sizeof out->why);
    patron_offer_benefit_format(o->benefit, o->benefit_value, out->benefit, sizeof out->benefit);
    out->points = points;
    out->reward_id = o->benefit == PATRON_BENEFIT_REWARD ? o->benefit_value : 0;
    out->exclusive = o->exclusive;
}

static int dry_run(patron_store *s, const struct patron_sale *sale,
                   struct patron_offer_evaluation *out)
{
    struct patron__member_row m;
    struct facts f;
    struct choice ch;
    struct patron_offer_evaluation r = {0};
    int err;
    struct patron_sale_line general = {"-", "general", 1, sale ? sale->total_minor : 0};
    struct patron_sale basket;
    if (!sale || sale->n_lines > PATRON_SALE_MAX_LINES || (sale->n_lines && !sale->lines))
        return patron__fail(s, PATRON_EINVAL, "a basket has 0-%d lines", PATRON_SALE_MAX_LINES);
    if ((err = patron__member_for_card(s, sale->card, 1, &m)) != 0)
        return err;
    basket = *sale;
    if (basket.n_lines == 0) { /* as a sale without lines: one line of the total */
        basket.lines = &general;
        basket.n_lines = 1;
    }
    sale = &basket;
    r.base_points = base_points(s, sale, m.tier_multiplier_permille);
    if ((err = evaluate(s, &m, sale, 0, r.base_points, &f, &ch)) != 0)
        return err;
    for (size_t i = 0; i < ch.n; i++) {
        fill_match(&f, ch.chosen[i], ch.points[i], sale, &r.applied[r.n_applied++]);
        if (ch.chosen[i]->benefit != PATRON_BENEFIT_REWARD)
            r.bonus_points += ch.points[i];
    }
    r.n_candidates = ch.n_candidates;
    *out = r;
    return 0;
}

int patron_offer_evaluate(patron_store *s, const struct patron_sale *sale,
                          struct patron_offer_evaluation *out)
{
    /* One read transaction: every fact comes from one snapshot, and SQLite takes its locks once
     * rather than at each of the evaluation's statements. */
    int own = s->tx_depth == 0, err;
    if (own && (err = patron__exec(s, "BEGIN")) != 0)
        return err;
    err = dry_run(s, sale, out);
    if (own)
        sqlite3_exec(s->db, err ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    return err;
}

static int insert_use(patron_store *s, const struct patron_offer *o, int64_t member_id,
                      int64_t sale_id, int64_t points, int64_t entry_id,
                      const struct patron__coupon *cp, const char *why)
{
    static const char *const sql =
        "INSERT INTO offer_uses(offer_id, member_id, sale_id, day, points, entry_id,"
        " redemption_id, voucher_id, voucher_code, why, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
    int64_t now = patron_store_now(s);
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, o->offer_id);
    sqlite3_bind_int64(st, 2, member_id);
    sqlite3_bind_int64(st, 3, sale_id);
    sqlite3_bind_int64(st, 4, PATRON__DAY_NUMBER(now));
    sqlite3_bind_int64(st, 5, points);
    if (entry_id)
        sqlite3_bind_int64(st, 6, entry_id);
    if (cp->redemption_id)
        sqlite3_bind_int64(st, 7, cp->redemption_id);
    if (cp->voucher_id)
        sqlite3_bind_int64(st, 8, (int64_t)cp->voucher_id);
    if (cp->code[0])
        sqlite3_bind_text(st, 9, cp->code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, why, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 11, now);
    int err = patron__step_done(s, st);
    if (err != 0)
        return err;
    return patron__outbox_add(s, PATRON__OUTBOX_OFFER_USE, sqlite3_last_insert_rowid(s->db));
}

/* Grants one chosen offer: points as an earn entry of its own, or a free reward's voucher. */
static int book(struct facts *f, struct patron__member_row *m, const struct patron_sale *in,
                int64_t sale_id, const struct patron_offer *o, int64_t points,
                struct patron_sale_result *out)
{
    char why[PATRON_OFFER_WHY_MAX], note[160];
    struct patron__coupon cp = {0};
    int64_t entry_id = 0, posted = 0;
    int err;
    explain(f, o, in, why, sizeof why);
    if (o->benefit == PATRON_BENEFIT_REWARD) {
        if ((err = patron__coupon_issue(f->s, m, o->benefit_value, o->offer_id, &cp)) != 0)
            return err;
        struct patron_sale_coupon *c = &out->coupons[out->n_coupons++];
        *c = (struct patron_sale_coupon){.offer_id = o->offer_id,
                                         .reward_id = o->benefit_value,
                                         .redemption_id = cp.redemption_id,
                                         .voucher_id = cp.voucher_id};
        memcpy(c->code, cp.code, sizeof c->code);
    } else {
        snprintf(note, sizeof note, "offer %lld: %.120s", (long long)o->offer_id, o->name);
        struct patron__posting post = {.kind = "earn",
                                       .points = points,
                                       .to_member = 1,
                                       .program = PATRON__ACCT_ISSUED,
                                       .sale_id = sale_id,
                                       .note = note};
        if ((err = patron__ledger_post(f->s, m, &post, &entry_id)) != 0)
            return err;
        posted = points;
        out->bonus_points += points;
    }
    out->offers_applied[out->n_offers_applied++] = o->offer_id;
    return insert_use(f->s, o, m->member_id, sale_id, posted, entry_id, &cp, why);
}

int patron__offers_apply(patron_store *s, struct patron__member_row *m,
                         const struct patron_sale *in, const struct patron__earning *e,
                         int64_t sale_id, struct patron_sale_result *out, int *changed)
{
    struct facts f;
    struct choice ch;
    int64_t before = m->balance;
    int err, up = 0;
    if ((err = evaluate(s, m, in, sale_id, e->points, &f, &ch)) != 0)
        return err;
    for (size_t i = 0; i < ch.n; i++)
        if ((err = book(&f, m, in, sale_id, ch.chosen[i], ch.points[i], out)) != 0)
            return err;
    if (m->balance == before)
        return 0;
    if ((err = patron__tier_review(s, m, 1, &up)) != 0)
        return err;
    *changed |= up;
    return patron__sale_balance_after(s, sale_id, patron__member_points(m));
}

static int by_value(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->points != y->points)
        return x->points > y->points ? -1 : 1;
    return x->o->offer_id < y->o->offer_id ? -1 : x->o->offer_id > y->o->offer_id;
}

int patron__offers_scan(patron_store *s, const struct patron__member_row *m,
                        struct patron_scan_result *r)
{
    const struct patron__offer_cache *c;
    struct candidate *cand;
    struct facts f;
    size_t n = 0;
    int err, ok;
    if ((err = patron__offer_cache_get(s, &c)) != 0)
        return err;
    facts_init(&f, s, m, 0);
    if (!(cand = malloc(sizeof *cand * (c->n ? c->n : 1))))
        return PATRON_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        if ((err = judge(&f, c, &c->v[i], NULL, &ok)) != 0)
            goto out;
        if (ok)
            cand[n++] = (struct candidate){&c->v[i], value_of(&c->v[i], 0), 0};
    }
    qsort(cand, n, sizeof *cand, by_value);
    r->n_offers = 0;
    for (size_t i = 0; i < n && r->n_offers < PATRON_SCAN_MAX_OFFERS; i++) {
        if ((err = limits_left(&f, cand[i].o, &ok)) != 0)
            goto out;
        if (ok) /* a spent offer is not shown */
            fill_match(&f, cand[i].o, cand[i].points, NULL, &r->offers[r->n_offers++]);
    }
out:
    free(cand);
    return err;
}

int patron__offer_targets_met(patron_store *s, const struct patron_offer *o,
                              const struct patron__member_row *m, int *met)
{
    /* the look-back of the categories fact is this offer's own */
    struct patron__offer_cache one = {.n = 1, .v = (struct patron_offer *)o};
    struct facts *f = malloc(sizeof *f);
    if (!f)
        return PATRON_ENOMEM;
    facts_init(f, s, m, 0);
    int err = target_met(f, &one, o, NULL, met);
    free(f);
    return err;
}

int patron__offers_replay(patron_store *s, int64_t sale_id, struct patron_sale_result *out)
{
    static const char *const sql =
        "SELECT u.offer_id, u.points, COALESCE(u.redemption_id, 0), COALESCE(u.voucher_id, 0),"
        " u.voucher_code, o.benefit_value FROM offer_uses u JOIN offers o ON o.id = u.offer_id"
        " WHERE u.sale_id = ?1 ORDER BY u.offer_id";
    sqlite3_stmt *st = patron__stmt(s, sql);
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, sale_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
           out->n_offers_applied < PATRON_SALE_MAX_OFFERS) {
        out->offers_applied[out->n_offers_applied++] = sqlite3_column_int64(st, 0);
        out->bonus_points += sqlite3_column_int64(st, 1);
        if (sqlite3_column_int64(st, 2) == 0 || out->n_coupons == PATRON_SALE_MAX_COUPONS)
            continue;
        struct patron_sale_coupon *c = &out->coupons[out->n_coupons++];
        c->offer_id = sqlite3_column_int64(st, 0);
        c->redemption_id = sqlite3_column_int64(st, 2);
        c->voucher_id = (uint64_t)sqlite3_column_int64(st, 3);
        patron__copy(c->code, sizeof c->code, (const char *)sqlite3_column_text(st, 4));
        c->reward_id = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}
