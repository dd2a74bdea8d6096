/* SPDX-License-Identifier: MIT */
/* The reports over what the shop offered and heard back: offer performance (uses, vouchers
 * redeemed, and the uplift of targeted members' buying over the untargeted), the satisfaction
 * trend of feedback, and partners' figures (partner vouchers honoured here). Definitions are in
 * include/patron/report.h. */
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

/* One offer of the report; its targets are those of its class. */
struct offer_row {
    int64_t id, start, end, threshold; /* threshold -1: no tier target */
    int64_t segment;                   /* 0: no segment target */
    char name[128];
    size_t cls;
    int64_t t_members, u_members, t_sales, u_sales;
};

/* The offers that target the same members (same tier threshold and segment) form a class, so a
 * sale is tested once per class, not once per offer; shops run many offers but few targets. */
struct target_class {
    int64_t threshold, segment;
    uint8_t *in_segment; /* bitmap by member id, when segment */
    int64_t members;
    int64_t *sales; /* by window slot (see struct offers), then summed up to each boundary */
};

struct offers {
    struct offer_row *o;
    size_t n, cap;
    struct target_class *c;
    size_t n_cls;
    /* The offers' window boundaries, sorted and distinct; slot i holds the sales from
     * bound[i - 1] (inclusive) to bound[i]. */
    int64_t *bound;
    size_t n_bound;
    int64_t *all; /* sales of counted members by slot, then summed like the classes' */
    /* Each member's tier as the rank of its threshold among the tiers' distinct thresholds
     * (ascending): 2 bytes a member id, not the threshold's 8. */
    int64_t *levels;
    size_t n_levels;
    uint16_t *level; /* member id -> rank in levels; NO_LEVEL when erased or absent */
    int64_t n_ids, members;
};

#define NO_LEVEL UINT16_MAX

static int add_offer(patron_store *s, struct offers *x, sqlite3_stmt *st)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 64;
        struct offer_row *o = cap <= PATRON_REPORT_MAX_ROWS ? realloc(x->o, cap * sizeof *o) : NULL;
        if (!o)
            return patron__fail(s, PATRON_ENOMEM, "no memory for %zu offers", cap);
        x->o = o;
        x->cap = cap;
    }
    struct offer_row *o = &x->o[x->n++];
    memset(o, 0, sizeof *o);
    o->id = sqlite3_column_int64(st, 0);
    patron__copy(o->name, sizeof o->name, (const char *)sqlite3_column_text(st, 1));
    o->start = sqlite3_column_int64(st, 2);
    o->end = sqlite3_column_int64(st, 3);
    o->threshold = sqlite3_column_int64(st, 4);
    o->segment = sqlite3_column_int64(st, 5);
    return 0;
}

static int load_offers(patron_store *s, struct offers *x, int64_t from, int64_t to)
{
    sqlite3_stmt *st;
    int rc, err = patron__prepare(
                s,
                "SELECT o.id, o.name, COALESCE(o.valid_from, o.created_at),"
                " MIN(COALESCE(o.valid_to, ?2), COALESCE(o.ended_at, ?2), ?2),"
                " COALESCE(t.threshold, -1), COALESCE(o.segment_id, 0) FROM offers o"
                " LEFT JOIN tiers t ON t.id = o.tier_id"
                " WHERE COALESCE(o.valid_from, o.created_at) < ?2"
                " AND MIN(COALESCE(o.valid_to, ?2), COALESCE(o.ended_at, ?2)) > ?1 ORDER BY o.id",
                &st);
    if (err != 0)
        return err;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        err = add_offer(s, x, st);
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The slot of a time: how many boundaries are at or before it. */
static size_t slot_of(const struct offers *x, int64_t at)
{
    size_t lo = 0, hi = x->n_bound;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->bound[mid] <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The classes of targets, the windows' boundaries, and a slot counter per class. */
static int make_classes(struct offers *x)
{
    if (!(x->c = calloc(x->n + 1, sizeof *x->c)) ||
        !(x->bound = malloc((2 * x->n + 1) * sizeof x->bound[0])))
        return PATRON_ENOMEM;
    for (size_t i = 0; i < x->n; i++) {
        struct offer_row *o = &x->o[i];
        size_t k = 0;
        while (k < x->n_cls && (x->c[k].threshold != o->threshold || x->c[k].segment != o->segment))
            k++;
        if (k == x->n_cls) {
            x->c[k].threshold = o->threshold;
            x->c[k].segment = o->segment;
            x->n_cls++;
        }
        o->cls = k;
        x->bound[x->n_bound++] = o->start;
        x->bound[x->n_bound++] = o->end;
    }
    qsort(x->bound, x->n_bound, sizeof x->bound[0], cmp_int64);
    size_t distinct = 0;
    for (size_t i = 0; i < x->n_bound; i++)
        if (distinct == 0 || x->bound[i] != x->bound[distinct - 1])
            x->bound[distinct++] = x->bound[i];
    x->n_bound = distinct;
    if (!(x->all = calloc(x->n_bound + 1, sizeof x->all[0])))
        return PATRON_ENOMEM;
    for (size_t k = 0; k < x->n_cls; k++)
        if (!(x->c[k].sales = calloc(x->n_bound + 1, sizeof x->c[k].sales[0])))
            return PATRON_ENOMEM;
    return 0;
}

static int load_segment(patron_store *s, struct offers *x, struct target_class *c)
{
    sqlite3_stmt *st;
    int rc, err;
    if (!(c->in_segment = calloc((size_t)x->n_ids / 8 + 1, 1)))
        return PATRON_ENOMEM;
    if ((err = patron__prepare(s, "SELECT member_id FROM segment_members WHERE segment_id = ?1",
                               &st)) != 0)
        return err;
    sqlite3_bind_int64(st, 1, c->segment);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id > 0 && id < x->n_ids)
            c->in_segment[id / 8] |= (uint8_t)(1u << (id % 8));
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

/* The tiers' distinct thresholds, ascending, and a level per member id, none yet. */
static int load_levels(patron_store *s, struct offers *x)
{
    sqlite3_stmt *st;
    int rc,
        err = patron__prepare(s, "SELECT DISTINCT threshold FROM tiers ORDER BY threshold", &st);
    size_t cap = 0;
    if (err != 0)
        return err;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (x->n_levels == NO_LEVEL)
            err = patron__fail(s, PATRON_ETOOBIG, "too many tiers to report offers on");
        else if (patron__grow((void **)&x->levels, &cap, x->n_levels + 1, sizeof *x->levels))
            err = PATRON_ENOMEM;
        else
            x->levels[x->n_levels++] = sqlite3_column_int64(st, 0);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_finalize(st);
    if (err == 0 && !(x->level = malloc((size_t)x->n_ids * sizeof x->level[0])))
        err = PATRON_ENOMEM;
    for (int64_t i = 0; err == 0 && i < x->n_ids; i++)
        x->level[i] = NO_LEVEL;
    return err;
}

/* The level of a tier threshold (one of levels). */
static uint16_t level_of(const struct offers *x, int64_t threshold)
{
    if (x->n_levels == 0) /* a member's tier is one of them: none means no member yet */
        return NO_LEVEL;
    const int64_t *at = bsearch(&threshold, x->levels, x->n_levels, sizeof threshold, cmp_int64);
    return at ? (uint16_t)(at - x->levels) : NO_LEVEL;
}

/* Each member's level, and the segment bitmaps of the classes that target one. */
static int load_targets(patron_store *s, struct offers *x)
{
    sqlite3_stmt *st;
    int rc, err = patron__prepare(s,
                                  "SELECT m.id, t.threshold FROM members m JOIN tiers t"
                                  " ON t.id = m.tier_id WHERE m.erased_at IS NULL",
                                  &st);
    if (err != 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id > 0 && id < x->n_ids)
            x->level[id] = level_of(x, sqlite3_column_int64(st, 1));
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    for (size_t k = 0; k < x->n_cls && err == 0; k++)
        if (x->c[k].segment)
            err = load_segment(s, x, &x->c[k]);
    return err;
}

static int targeted(const struct offers *x, const struct target_class *c, int64_t id)
{
    if (x->level[id] == NO_LEVEL || x->levels[x->level[id]] < c->threshold)
        return 0;
    return !c->in_segment || ((c->in_segment[id / 8] >> (id % 8)) & 1);
}

/* Sales in an offer's window: the counts summed up to its end less those up to its start. */
static int64_t in_window(const struct offers *x, const int64_t *summed, const struct offer_row *o)
{
    if (o->end <= o->start) /* ended before its window opened */
        return 0;
    const int64_t *end = bsearch(&o->end, x->bound, x->n_bound, sizeof o->end, cmp_int64);
    const int64_t *start = bsearch(&o->start, x->bound, x->n_bound, sizeof o->start, cmp_int64);
    return summed[end - x->bound] - summed[start - x->bound];
}

/* After the counting: slot counts summed so that [i] is the sales before bound[i]. */
static void share_out(struct offers *x)
{
    for (size_t i = 1; i <= x->n_bound; i++) {
        x->all[i] += x->all[i - 1];
        for (size_t k = 0; k < x->n_cls; k++)
            x->c[k].sales[i] += x->c[k].sales[i - 1];
    }
    for (size_t i = 0; i < x->n; i++) {
        struct offer_row *o = &x->o[i];
        const struct target_class *c = &x->c[o->cls];
        o->t_members = c->members;
        o->u_members = x->members - c->members;
        o->t_sales = in_window(x, c->sales, o);
        o->u_sales = in_window(x, x->all, o) - o->t_sales;
    }
}

/* One pass over members (group sizes) and one over the sales of the period. */
static int count_groups(patron_store *s, struct offers *x, int64_t from, int64_t to)
{
    for (int64_t id = 1; id < x->n_ids; id++) {
        if (x->level[id] == NO_LEVEL)
            continue;
        x->members++;
        for (size_t k = 0; k < x->n_cls; k++)
            x->c[k].members += targeted(x, &x->c[k], id);
    }
    sqlite3_stmt *st;
    int rc,
        err = patron__prepare(
            s, "SELECT member_id, created_at FROM sales WHERE created_at >= ?1 AND created_at < ?2",
            &st);
    if (err != 0)
        return err;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id <= 0 || id >= x->n_ids || x->level[id] == NO_LEVEL)
            continue;
        size_t slot = slot_of(x, sqlite3_column_int64(st, 1));
        x->all[slot]++;
        for (size_t k = 0; k < x->n_cls; k++)
            x->c[k].sales[slot] += targeted(x, &x->c[k], id);
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    if (err == 0)
        share_out(x);
    return err;
}

/* An offer's uses in member order from offer_uses_member alone (members counted once as they
 * change, without SQLite's temporary B-tree for COUNT(DISTINCT)); a use's voucher is looked up
 * only when it has one. */
static const char uses_sql[] =
    "SELECT member_id, points, voucher_id IS NOT NULL, voucher_id IS NULL OR EXISTS(SELECT 1"
    "  FROM vouchers v JOIN voucher_redemptions r ON r.key_id = v.key_id"
    "  AND r.voucher_id = v.voucher_id WHERE v.voucher_id = u.voucher_id)"
    " FROM offer_uses u INDEXED BY offer_uses_member WHERE offer_id = ?1 ORDER BY member_id";

/* uses, members, points, vouchers, redeemed */
static int offer_uses_of(patron_store *s, sqlite3_stmt *uses, int64_t offer_id, int64_t sum[5])
{
    int64_t last = 0;
    int rc;
    sqlite3_reset(uses);
    sqlite3_bind_int64(uses, 1, offer_id);
    while ((rc = sqlite3_step(uses)) == SQLITE_ROW) {
        int64_t member = sqlite3_column_int64(uses, 0);
        sum[1] += sum[0] == 0 || member != last;
        sum[0]++;
        last = member;
        sum[2] += sqlite3_column_int64(uses, 1);
        sum[3] += sqlite3_column_int(uses, 2);
        sum[4] += sqlite3_column_int(uses, 3);
    }
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int offer_line(patron_store *s, struct patron_report_table *t, sqlite3_stmt *uses,
                      const struct offer_row *o)
{
    int64_t sum[5] = {0};
    size_t row;
    int err;
    if ((err = offer_uses_of(s, uses, o->id, sum)) != 0 ||
        (err = patron__table_add_row(s, t, &row)) != 0)
        return err;
    patron__table_int(t, row, 0, o->id);
    if ((err = patron__table_text(t, row, 1, o->name)) != 0)
        return err;
    for (int c = 0; c < 5; c++)
        patron__table_int(t, row, 2 + (size_t)c, sum[c]);
    patron__table_int(t, row, 7, o->t_members);
    if (o->t_members) /* an empty group has no rate, not a rate of 0 */
        patron__table_decimal(t, row, 8, o->t_sales, o->t_members);
    if (o->u_members)
        patron__table_decimal(t, row, 9, o->u_sales, o->u_members);
    /* (t_sales / t_members) / (u_sales / u_members) - 1, undefined without two groups. */
    if ((o->threshold >= 0 || o->segment) && o->t_members && o->u_members && o->u_sales)
        patron__table_ratio(t, row, 10, o->t_sales * o->u_members - o->u_sales * o->t_members,
                            o->u_sales * o->t_members);
    return 0;
}

struct period {
    int64_t from, to;
};

static void offers_free(struct offers *x)
{
    for (size_t k = 0; x->c && k < x->n_cls; k++) {
        free(x->c[k].in_segment);
        free(x->c[k].sales);
    }
    free(x->c);
    free(x->o);
    free(x->bound);
    free(x->all);
    free(x->levels);
    free(x->level);
    free(x);
}

static int offers_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    const struct period *p = arg;
    struct offers *x = calloc(1, sizeof *x);
    sqlite3_stmt *uses = NULL;
    int64_t max_id = 0;
    int err;
    if (!x)
        return PATRON_ENOMEM;
    if ((err = load_offers(s, x, p->from, p->to)) != 0 ||
        (err = patron__report_max_member(s, &max_id)) != 0 || (err = make_classes(x)) != 0)
        goto out;
    x->n_ids = max_id + 1;
    if ((err = load_levels(s, x)) != 0 || (err = load_targets(s, x)) != 0 ||
        (err = count_groups(s, x, p->from, p->to)) != 0 ||
        (err = patron__prepare(s, uses_sql, &uses)) != 0)
        goto out;
    for (size_t i = 0; i < x->n && err == 0; i++)
        err = offer_line(s, t, uses, &x->o[i]);
out:
    sqlite3_finalize(uses);
    offers_free(x);
    return err;
}

int patron_report_offers(patron_store *s, const struct patron_report_options *o,
                         struct patron_report_table **out)
{
    static const char *const cols[] = {"offer_id",
                                       "name",
                                       "uses",
                                       "members",
                                       "points",
                                       "vouchers",
                                       "redeemed",
                                       "targeted",
                                       "sales_per_targeted",
                                       "sales_per_untargeted",
                                       "uplift",
                                       NULL};
    struct period p;
    int err = patron__report_period(s, o, &p.from, &p.to);
    if (err != 0)
        return err;
    return patron__report_build(s, "offers", "Offer performance", cols, offers_fill, &p, out);
}

static int satisfaction_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    const struct period *p = arg;
    int64_t first = patron__month_of(p->from), last = patron__month_of(p->to - 1);
    int64_t n[121] = {0}, sum[121] = {0}, happy[121] = {0}, unhappy[121] = {0};
    sqlite3_stmt *st;
    int rc,
        err = patron__prepare(
            s, "SELECT created_at, score FROM feedback WHERE created_at >= ?1 AND created_at < ?2",
            &st);
    if (err != 0)
        return err;
    sqlite3_bind_int64(st, 1, p->from);
    sqlite3_bind_int64(st, 2, p->to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t k = patron__month_of(sqlite3_column_int64(st, 0)) - first;
        int score = sqlite3_column_int(st, 1);
        n[k]++;
        sum[k] += score;
        happy[k] += score >= 4;
        unhappy[k] += score <= 2;
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    for (int64_t k = 0; err == 0 && k <= last - first; k++) {
        char label[8];
        size_t row;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        patron__month_label(first + k, label);
        err = patron__table_text(t, row, 0, label);
        patron__table_int(t, row, 1, n[k]);
        if (n[k] == 0)
            continue; /* no answers: no average, not a zero */
        patron__table_decimal(t, row, 2, sum[k], n[k]);
        patron__table_ratio(t, row, 3, happy[k], n[k]);
        patron__table_ratio(t, row, 4, unhappy[k], n[k]);
    }
    t->chart_col = 2;
    t->chart_min = 1000000; /* scores run 1-5 */
    t->chart_max = 5000000;
    return err;
}

int patron_report_satisfaction(patron_store *s, const struct patron_report_options *o,
                               struct patron_report_table **out)
{
    static const char *const cols[] = {"month",     "responses", "avg_score",
                                       "satisfied", "unhappy",   NULL};
    struct period p;
    int err = patron__report_period(s, o, &p.from, &p.to);
    if (err != 0)
        return err;
    return patron__report_build(s, "satisfaction", "Satisfaction trend (feedback scores 1-5)", cols,
                                satisfaction_fill, &p, out);
}

static int partners_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    const struct period *p = arg;
    sqlite3_stmt *st;
    int rc,
        err = patron__prepare(
            s,
            "SELECT k.partner, COUNT(*), COALESCE(SUM(CASE WHEN r.kind = 0 THEN r.value END), 0),"
            " COUNT(DISTINCT r.member_id), MAX(r.redeemed_at) FROM voucher_redemptions r"
            " JOIN keys k ON k.key_id = r.key_id WHERE k.kind = 'partner'"
            " AND r.redeemed_at >= ?1 AND r.redeemed_at < ?2 GROUP BY k.partner ORDER BY k.partner",
            &st);
    if (err != 0)
        return err;
    sqlite3_bind_int64(st, 1, p->from);
    sqlite3_bind_int64(st, 2, p->to);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        char last[11];
        size_t row;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        patron__date_label(sqlite3_column_int64(st, 4), last);
        if ((err = patron__table_text(t, row, 0, (const char *)sqlite3_column_text(st, 0))) == 0)
            err = patron__table_text(t, row, 4, last);
        for (int c = 1; c <= 3; c++)
            patron__table_int(t, row, (size_t)c, sqlite3_column_int64(st, c));
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

int patron_report_partners(patron_store *s, const struct patron_report_options *o,
                           struct patron_report_table **out)
{
    static const char *const cols[] = {"partner", "vouchers_honoured", "amount_honoured",
                                       "members", "last_honoured",     NULL};
    struct period p;
    int err = patron__report_period(s, o, &p.from, &p.to);
    if (err != 0)
        return err;
    return patron__report_build(s, "partners", "Partner vouchers honoured here", cols,
                                partners_fill, &p, out);
}
