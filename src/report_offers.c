/* SPDX-License-Identifier: MIT */
/* The reports over what the shop offered and heard back: offer performance (uses, vouchers
 * redeemed, and the uplift of targeted members' buying over the untargeted), the satisfaction
 * trend of feedback, and partners' figures (partner vouchers honoured here). Definitions are in
 * include/patron/report.h. */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define MAX_OFFERS 64

struct offer_row {
    int64_t id, start, end, threshold; /* threshold -1: no tier target */
    int64_t segment;                   /* 0: no segment target */
    char name[128];
    uint8_t *in_segment; /* bitmap by member id, when segment */
    int64_t t_members, u_members, t_sales, u_sales;
};

struct offers {
    struct offer_row o[MAX_OFFERS];
    size_t n;
    int64_t *threshold; /* member id -> their tier's threshold; -1 when erased or absent */
    int64_t n_ids;
};

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
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (x->n == MAX_OFFERS) {
            sqlite3_finalize(st);
            return patron__fail(s, PATRON_ETOOBIG,
                                "more than %d offers ran in the period; ask for a shorter one",
                                MAX_OFFERS);
        }
        struct offer_row *o = &x->o[x->n++];
        o->id = sqlite3_column_int64(st, 0);
        patron__copy(o->name, sizeof o->name, (const char *)sqlite3_column_text(st, 1));
        o->start = sqlite3_column_int64(st, 2);
        o->end = sqlite3_column_int64(st, 3);
        o->threshold = sqlite3_column_int64(st, 4);
        o->segment = sqlite3_column_int64(st, 5);
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

/* Each member's tier threshold, and the segment bitmaps of the offers that target one. */
static int load_targets(patron_store *s, struct offers *x)
{
    sqlite3_stmt *st;
    int rc, err = patron__prepare(s,
                                  "SELECT m.id, CASE WHEN m.erased_at IS NULL THEN t.threshold"
                                  " ELSE -1 END FROM members m JOIN tiers t ON t.id = m.tier_id",
                                  &st);
    if (err != 0)
        return err;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id > 0 && id < x->n_ids)
            x->threshold[id] = sqlite3_column_int64(st, 1);
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    for (size_t i = 0; i < x->n && err == 0; i++) {
        struct offer_row *o = &x->o[i];
        if (!o->segment)
            continue;
        if (!(o->in_segment = calloc((size_t)x->n_ids / 8 + 1, 1)))
            return PATRON_ENOMEM;
        if ((err = patron__prepare(s, "SELECT member_id FROM segment_members WHERE segment_id = ?1",
                                   &st)) != 0)
            return err;
        sqlite3_bind_int64(st, 1, o->segment);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            if (id > 0 && id < x->n_ids)
                o->in_segment[id / 8] |= (uint8_t)(1u << (id % 8));
        }
        err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
        sqlite3_finalize(st);
    }
    return err;
}

static int targeted(const struct offers *x, const struct offer_row *o, int64_t id)
{
    if (x->threshold[id] < o->threshold)
        return 0;
    return !o->in_segment || ((o->in_segment[id / 8] >> (id % 8)) & 1);
}

/* One pass over members (group sizes) and one over the sales of the offers' windows. */
static int count_groups(patron_store *s, struct offers *x, int64_t from, int64_t to)
{
    for (int64_t id = 1; id < x->n_ids; id++)
        for (size_t i = 0; i < x->n && x->threshold[id] >= 0; i++) {
            int t = targeted(x, &x->o[i], id);
            x->o[i].t_members += t;
            x->o[i].u_members += !t;
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
        int64_t id = sqlite3_column_int64(st, 0), at = sqlite3_column_int64(st, 1);
        if (id <= 0 || id >= x->n_ids || x->threshold[id] < 0)
            continue;
        for (size_t i = 0; i < x->n; i++) {
            struct offer_row *o = &x->o[i];
            if (at < o->start || at >= o->end)
                continue;
            if (targeted(x, o, id))
                o->t_sales++;
            else
                o->u_sales++;
        }
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

static const char uses_sql[] =
    "SELECT COUNT(*), COUNT(DISTINCT member_id), COALESCE(SUM(points), 0), COUNT(voucher_id),"
    " COALESCE(SUM(voucher_id IS NULL OR EXISTS(SELECT 1 FROM vouchers v"
    "  JOIN voucher_redemptions r ON r.key_id = v.key_id AND r.voucher_id = v.voucher_id"
    "  WHERE v.voucher_id = u.voucher_id)), 0)"
    " FROM offer_uses u WHERE offer_id = ?1";

static int offer_line(patron_store *s, struct patron_report_table *t, sqlite3_stmt *uses,
                      const struct offer_row *o)
{
    size_t row;
    int err;
    sqlite3_reset(uses);
    sqlite3_bind_int64(uses, 1, o->id);
    int rc = sqlite3_step(uses);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if ((err = patron__table_add_row(s, t, &row)) != 0)
        return err;
    patron__table_int(t, row, 0, o->id);
    if ((err = patron__table_text(t, row, 1, o->name)) != 0)
        return err;
    for (int c = 0; c < 5; c++)
        patron__table_int(t, row, 2 + (size_t)c, sqlite3_column_int64(uses, c));
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
        (err = patron__report_max_member(s, &max_id)) != 0)
        goto out;
    x->n_ids = max_id + 1;
    if (!(x->threshold = malloc((size_t)x->n_ids * sizeof x->threshold[0]))) {
        err = PATRON_ENOMEM;
        goto out;
    }
    for (int64_t i = 0; i < x->n_ids; i++)
        x->threshold[i] = -1;
    if ((err = load_targets(s, x)) != 0 || (err = count_groups(s, x, p->from, p->to)) != 0 ||
        (err = patron__prepare(s, uses_sql, &uses)) != 0)
        goto out;
    for (size_t i = 0; i < x->n && err == 0; i++)
        err = offer_line(s, t, uses, &x->o[i]);
out:
    sqlite3_finalize(uses);
    for (size_t i = 0; i < x->n; i++)
        free(x->o[i].in_segment);
    free(x->threshold);
    free(x);
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
    t->chart = PATRON_CHART_LINE;
    t->chart_col = 2;
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
