/* SPDX-License-Identifier: MIT */
/* The reports over members' buying: repeat-purchase rate, retention by monthly cohort,
 * lifetime value, RFM segments and the churn-risk list. All stand on the per-member facts of
 * one pass over the sales (see report_internal.h); definitions are in include/patron/report.h. */
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

#define MAX_COHORTS 120
#define MAX_RETENTION_MONTHS 36

int patron__report_build(patron_store *s, const char *name, const char *title,
                         const char *const *cols, patron__report_fill fill, const void *arg,
                         struct patron_report_table **out)
{
    struct patron_report_table *t = NULL;
    int opened, err = patron__read_begin(s, &opened);
    if (err != 0)
        return err;
    if ((err = patron__table_new(s, name, title, cols, &t)) == 0 && (err = fill(s, t, arg)) == 0) {
        *out = t;
        t = NULL;
    }
    patron_report_free(t);
    patron__read_end(s, opened);
    return err;
}

struct period {
    int64_t from, to;
};

static int repeat_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    const struct period *p = arg;
    sqlite3_stmt *st;
    int64_t max_id = 0, buyers = 0, repeaters = 0;
    uint8_t *count = NULL;
    size_t row;
    char from[11], to[11];
    int rc, err = patron__report_max_member(s, &max_id);
    if (err != 0)
        return err;
    if (!(count = calloc((size_t)max_id + 1, 1)))
        return PATRON_ENOMEM;
    if ((err = patron__prepare(s,
                               "SELECT member_id FROM sales WHERE created_at >= ?1"
                               " AND created_at < ?2",
                               &st)) != 0)
        goto out;
    sqlite3_bind_int64(st, 1, p->from);
    sqlite3_bind_int64(st, 2, p->to);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (id <= 0 || id > max_id || count[id] >= 2)
            continue;
        buyers += count[id] == 0;
        repeaters += count[id] == 1;
        count[id]++;
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    if (err != 0 || (err = patron__table_add_row(s, t, &row)) != 0)
        goto out;
    patron__date_label(p->from, from);
    patron__date_label(p->to - 1, to);
    if ((err = patron__table_text(t, row, 0, from)) == 0)
        err = patron__table_text(t, row, 1, to);
    patron__table_int(t, row, 2, buyers);
    patron__table_int(t, row, 3, repeaters);
    patron__table_ratio(t, row, 4, repeaters, buyers);
    t->summary = 1;
out:
    free(count);
    return err;
}

int patron_report_repeat(patron_store *s, const struct patron_report_options *o,
                         struct patron_report_table **out)
{
    static const char *const cols[] = {"from", "to", "buyers", "repeat_buyers", "rate", NULL};
    struct period p;
    int err = patron__report_period(s, o, &p.from, &p.to);
    if (err != 0)
        return err;
    return patron__report_build(s, "repeat", "Members who bought again", cols, repeat_fill, &p,
                                out);
}

struct retention_args {
    int cohorts, months;
};

/* Cohort sizes and, per cohort and month after enrolment, the members who bought. */
struct retention_sums {
    const struct retention_args *a;
    int64_t first; /* the oldest cohort shown */
    int64_t size[MAX_COHORTS], (*hits)[MAX_RETENTION_MONTHS];
};

static int retention_add(int64_t id, const struct patron__fact *m, void *arg)
{
    struct retention_sums *r = arg;
    int64_t c = (int64_t)m->cohort - r->first;
    (void)id;
    if (c < 0 || c >= r->a->cohorts)
        return 0;
    r->size[c]++;
    for (int k = 0; k < r->a->months; k++)
        r->hits[c][k] += (m->months >> k) & 1;
    return 0;
}

static int retention_rows(patron_store *s, struct patron_report_table *t,
                          const struct retention_sums *r, int64_t now_month)
{
    const struct retention_args *a = r->a;
    int err = 0;
    for (int c = 0; c < a->cohorts && err == 0; c++) {
        char label[8];
        size_t row;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        patron__month_label(r->first + c, label);
        err = patron__table_text(t, row, 0, label);
        patron__table_int(t, row, 1, r->size[c]);
        /* Only months that are over: the current one is not, and an empty cohort has no rate. */
        for (int k = 0; k < a->months && r->first + c + k < now_month && r->size[c] > 0; k++)
            patron__table_ratio(t, row, 2 + (size_t)k, r->hits[c][k], r->size[c]);
    }
    return err;
}

static int retention_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    const struct retention_args *a = arg;
    int64_t now_month = patron__month_of(patron_store_now(s));
    struct retention_sums *r = calloc(1, sizeof *r);
    int err = 0;
    if (!r || !(r->hits = calloc(MAX_COHORTS, sizeof *r->hits))) {
        err = PATRON_ENOMEM;
        goto out;
    }
    r->a = a;
    r->first = now_month - a->cohorts + 1;
    for (int k = 0; k < a->months && err == 0; k++) {
        char col[8];
        col[0] = 'm';
        col[1] = (char)(k >= 10 ? '0' + k / 10 : '0' + k);
        col[2] = (char)(k >= 10 ? '0' + k % 10 : '\0');
        col[3] = '\0';
        err = patron__table_add_col(t, col);
    }
    if (err == 0 && (err = patron__facts_each(s, patron_store_now(s) + 1, PATRON__FACTS_WITH_MONTHS,
                                              retention_add, r)) == 0)
        err = retention_rows(s, t, r, now_month);
    t->chart_col = 2;
out:
    if (r)
        free(r->hits);
    free(r);
    return err;
}

int patron_report_retention(patron_store *s, const struct patron_report_options *o,
                            struct patron_report_table **out)
{
    static const char *const cols[] = {"cohort", "members", NULL};
    struct retention_args a = {o && o->cohorts ? o->cohorts : 12, o && o->months ? o->months : 12};
    if (a.cohorts < 1 || a.cohorts > MAX_COHORTS || a.months < 1 || a.months > MAX_RETENTION_MONTHS)
        return patron__fail(s, PATRON_EINVAL, "cohorts must be 1 to %d and months 1 to %d",
                            MAX_COHORTS, MAX_RETENTION_MONTHS);
    return patron__report_build(s, "retention",
                                "Share of each enrolment month's members buying k months on", cols,
                                retention_fill, &a, out);
}

struct clv_sums {
    int64_t now, members, buyers, spend, tenure;
};

static int clv_add(int64_t id, const struct patron__fact *m, void *arg)
{
    struct clv_sums *c = arg;
    (void)id;
    c->members++;
    c->buyers += m->sales > 0;
    c->spend += m->spend;
    c->tenure += c->now > m->created_at ? c->now - m->created_at : 0;
    return 0;
}

static int clv_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    struct clv_sums c = {.now = patron_store_now(s)};
    struct patron_program p;
    size_t row;
    int err = patron__facts_each(s, c.now + 1, PATRON__FACTS_SUMS, clv_add, &c);
    (void)arg;
    if (err != 0 || (err = patron_program_get(s, &p)) != 0 ||
        (err = patron__table_add_row(s, t, &row)) != 0)
        return err;
    patron__table_int(t, row, 0, c.members);
    patron__table_int(t, row, 1, c.buyers);
    patron__table_int(t, row, 2, c.spend);
    patron__table_int(t, row, 3, c.members ? c.spend / c.members : 0);
    patron__table_int(t, row, 4, c.buyers ? c.spend / c.buyers : 0);
    patron__table_int(t, row, 5, c.members ? c.tenure / c.members / PATRON__DAY_SECONDS : 0);
    memcpy(t->currency, p.currency, sizeof t->currency);
    t->summary = 1;
    return patron__table_text(t, row, 6, p.currency);
}

int patron_report_clv(patron_store *s, struct patron_report_table **out)
{
    static const char *const cols[] = {"members",       "buyers",          "spend",    "clv",
                                       "clv_per_buyer", "avg_tenure_days", "currency", NULL};
    return patron__report_build(s, "clv",
                                "Customer lifetime value so far (average spend per member)", cols,
                                clv_fill, NULL, out);
}
