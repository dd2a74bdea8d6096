/* SPDX-License-Identifier: MIT */
/* The reports over points: liability, points expiring per month and the redemption rate, plus
 * the table of reports by name. Each scans its table once and adds up in C, because SQLite's
 * GROUP BY sorts every row first and these tables hold tens of millions of rows. */
#include <stdlib.h>
#include <string.h>

#include "patron/program.h"
#include "report/report_internal.h"

#define MAX_MONTHS 120

const char *const patron_report_names[] = {
    "liability", "expiring", "redemption", "repeat",   "retention",    "clv",
    "rfm",       "churn",    "offers",     "partners", "satisfaction", NULL,
};

/* The reports that draw a chart; every other report is a table only. */
static const struct {
    const char *name;
    enum patron_chart chart;
} charts[] = {
    {"expiring", PATRON_CHART_BARS},     {"redemption", PATRON_CHART_LINE},
    {"retention", PATRON_CHART_HEATMAP}, {"rfm", PATRON_CHART_BARS},
    {"satisfaction", PATRON_CHART_LINE},
};

enum patron_chart patron_report_chart_of(const char *name)
{
    for (size_t i = 0; name && i < sizeof charts / sizeof charts[0]; i++)
        if (strcmp(charts[i].name, name) == 0)
            return charts[i].chart;
    return PATRON_CHART_NONE;
}

static int64_t money_value(int64_t points, int64_t per_100)
{
    return (int64_t)((__int128)points * per_100 / 100);
}

static int liability_row(patron_store *s, struct patron_report_table *t,
                         const struct patron_program *p)
{
    static const char sql[] =
        "SELECT COALESCE(SUM(CASE WHEN balance > 0 THEN balance END), 0),"
        " COALESCE(-SUM(CASE WHEN balance < 0 THEN balance END), 0),"
        " COUNT(CASE WHEN balance > 0 THEN 1 END) FROM accounts WHERE member_id IS NOT NULL";
    sqlite3_stmt *st;
    size_t row;
    int err = patron__prepare(s, sql, &st);
    if (err != 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW || (err = patron__table_add_row(s, t, &row)) != 0) {
        err = err ? err : patron__db_err(s, rc);
        goto out;
    }
    int64_t points = sqlite3_column_int64(st, 0);
    patron__table_int(t, row, 0, points);
    patron__table_int(t, row, 1, money_value(points, p->point_value_minor_per_100));
    err = patron__table_text(t, row, 2, p->currency);
    patron__table_int(t, row, 3, sqlite3_column_int64(st, 2));
    patron__table_int(t, row, 4, sqlite3_column_int64(st, 1));
    patron__table_int(t, row, 5, p->point_value_minor_per_100);
out:
    sqlite3_finalize(st);
    return err;
}

int patron_report_liability(patron_store *s, struct patron_report_table **out)
{
    static const char *const cols[] = {
        "points", "value", "currency", "members_with_points", "owed_points", "value_per_100_points",
        NULL};
    struct patron_report_table *t = NULL;
    struct patron_program p;
    int opened, err = patron__read_begin(s, &opened);
    if (err != 0)
        return err;
    if ((err = patron_program_get(s, &p)) != 0 ||
        (err = patron__table_new(s, "liability", "Outstanding points and their value", cols, &t)) !=
            0 ||
        (err = liability_row(s, t, &p)) != 0)
        goto out;
    memcpy(t->currency, p.currency, sizeof t->currency);
    t->summary = 1;
    *out = t;
    t = NULL;
out:
    patron_report_free(t);
    patron__read_end(s, opened);
    return err;
}

/* Points still open in lots, bucketed by expiry month relative to the current one. */
static int expiring_scan(patron_store *s, int64_t now_month, int months, int64_t *points,
                         int64_t *lots)
{
    sqlite3_stmt *st;
    /* The open lots from the partial index lots_open alone (it holds expires_at and remaining):
     * narrower than the table's rows, and closed lots are not in it. */
    int rc, err = patron__prepare(s,
                                  "SELECT expires_at, remaining FROM lots INDEXED BY lots_open"
                                  " WHERE remaining > 0 AND expires_at IS NOT NULL",
                                  &st);
    if (err != 0)
        return err;
    /* Lots come in earning order, so the month of the last row is often right again. */
    int64_t current = patron__month_start(now_month), lo = 0, hi = 0, cached = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(st, 0), k = 0; /* due already: the next run */
        if (at >= current) {
            if (at < lo || at >= hi) {
                int64_t m = patron__month_of(at);
                lo = patron__month_start(m);
                hi = patron__month_start(m + 1);
                cached = m - now_month;
            }
            k = cached < months ? cached : months;
        }
        points[k] += sqlite3_column_int64(st, 1);
        lots[k]++;
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

static int expiring_rows(patron_store *s, struct patron_report_table *t, int months,
                         const struct patron_program *p)
{
    int64_t points[MAX_MONTHS + 1] = {0}, lots[MAX_MONTHS + 1] = {0};
    int64_t now_month = patron__month_of(patron_store_now(s));
    int err = expiring_scan(s, now_month, months, points, lots);
    for (int k = 0; err == 0 && k <= months; k++) {
        char label[8];
        size_t row;
        if (k == months && lots[k] == 0)
            break;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        patron__month_label(now_month + k, label);
        err = patron__table_text(t, row, 0, k == months ? "later" : label);
        patron__table_int(t, row, 1, points[k]);
        patron__table_int(t, row, 2, money_value(points[k], p->point_value_minor_per_100));
        patron__table_int(t, row, 3, lots[k]);
    }
    return err;
}

int patron_report_expiring(patron_store *s, const struct patron_report_options *o,
                           struct patron_report_table **out)
{
    static const char *const cols[] = {"month", "points", "value", "lots", NULL};
    struct patron_report_table *t = NULL;
    struct patron_program p;
    int months = o && o->months ? o->months : 12;
    if (months < 1 || months > MAX_MONTHS)
        return patron__fail(s, PATRON_EINVAL, "months must be 1 to %d", MAX_MONTHS);
    int opened, err = patron__read_begin(s, &opened);
    if (err != 0)
        return err;
    if ((err = patron_program_get(s, &p)) != 0 ||
        (err = patron__table_new(s, "expiring", "Points expiring per month", cols, &t)) != 0 ||
        (err = expiring_rows(s, t, months, &p)) != 0)
        goto out;
    memcpy(t->currency, p.currency, sizeof t->currency);
    t->chart_col = 1;
    *out = t;
    t = NULL;
out:
    patron_report_free(t);
    patron__read_end(s, opened);
    return err;
}

/* The period of the options, checked: default the last 12 calendar months up to now. */
int patron__report_period(patron_store *s, const struct patron_report_options *o, int64_t *from,
                          int64_t *to)
{
    int64_t now = patron_store_now(s);
    *to = o && o->to ? o->to : now + 1;
    *from = o && o->from ? o->from : patron__month_start(patron__month_of(now) - 11);
    if (*from >= *to)
        return patron__fail(s, PATRON_EINVAL, "the period must start before it ends");
    if (patron__month_of(*to - 1) - patron__month_of(*from) >= MAX_MONTHS)
        return patron__fail(s, PATRON_EINVAL, "a period is at most %d months", MAX_MONTHS);
    return 0;
}

struct flows {
    int64_t issued[MAX_MONTHS], redeemed[MAX_MONTHS];
};

/* Sums one kind's points by month, from the partial index entries_flows in time order: the
 * period's entries of that kind and nothing else. */
static int redemption_scan(patron_store *s, const char *sql, int64_t from, int64_t to,
                           int64_t first_month, int64_t *sums)
{
    sqlite3_stmt *st;
    int rc, err = patron__prepare(s, sql, &st);
    if (err != 0)
        return err;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    /* Entries come in time order, so the month of the last row is nearly always right again. */
    int64_t lo = 0, hi = 0, k = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t at = sqlite3_column_int64(st, 0);
        if (at < lo || at >= hi) {
            int64_t m = patron__month_of(at);
            lo = patron__month_start(m);
            hi = patron__month_start(m + 1);
            k = m - first_month;
        }
        sums[k] += sqlite3_column_int64(st, 1);
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

static int redemption_rows(patron_store *s, struct patron_report_table *t, int64_t from, int64_t to)
{
    struct flows *f = calloc(1, sizeof *f);
    int64_t first = patron__month_of(from), last = patron__month_of(to - 1), sum[2] = {0, 0};
    size_t row;
    int err;
    if (!f)
        return PATRON_ENOMEM;
    if ((err = redemption_scan(s,
                               "SELECT created_at, points FROM entries WHERE kind = 'earn'"
                               " AND created_at >= ?1 AND created_at < ?2",
                               from, to, first, f->issued)) != 0 ||
        (err = redemption_scan(s,
                               "SELECT created_at, points FROM entries WHERE kind = 'redeem'"
                               " AND created_at >= ?1 AND created_at < ?2",
                               from, to, first, f->redeemed)) != 0)
        goto out;
    for (int64_t m = first; m <= last + 1; m++) {
        char label[8];
        int total = m == last + 1;
        int64_t issued = total ? sum[0] : f->issued[m - first];
        int64_t redeemed = total ? sum[1] : f->redeemed[m - first];
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        patron__month_label(m, label);
        err = patron__table_text(t, row, 0, total ? "total" : label);
        patron__table_int(t, row, 1, issued);
        patron__table_int(t, row, 2, redeemed);
        patron__table_ratio(t, row, 3, redeemed, issued);
        sum[0] += issued;
        sum[1] += redeemed;
    }
out:
    free(f);
    return err;
}

int patron_report_redemption(patron_store *s, const struct patron_report_options *o,
                             struct patron_report_table **out)
{
    static const char *const cols[] = {"month", "issued", "redeemed", "rate", NULL};
    struct patron_report_table *t = NULL;
    int64_t from, to;
    int opened, err = patron__report_period(s, o, &from, &to);
    if (err != 0 || (err = patron__read_begin(s, &opened)) != 0)
        return err;
    if ((err = patron__table_new(s, "redemption", "Points redeemed per point issued", cols, &t)) !=
            0 ||
        (err = redemption_rows(s, t, from, to)) != 0)
        goto out;
    t->chart_col = 3;
    *out = t;
    t = NULL;
out:
    patron_report_free(t);
    patron__read_end(s, opened);
    return err;
}

int patron_report_run(patron_store *s, const char *name, const struct patron_report_options *o,
                      struct patron_report_table **out)
{
    if (!name)
        name = "";
    if (strcmp(name, "liability") == 0)
        return patron_report_liability(s, out);
    if (strcmp(name, "expiring") == 0)
        return patron_report_expiring(s, o, out);
    if (strcmp(name, "redemption") == 0)
        return patron_report_redemption(s, o, out);
    if (strcmp(name, "repeat") == 0)
        return patron_report_repeat(s, o, out);
    if (strcmp(name, "retention") == 0)
        return patron_report_retention(s, o, out);
    if (strcmp(name, "clv") == 0)
        return patron_report_clv(s, out);
    if (strcmp(name, "rfm") == 0)
        return patron_report_rfm(s, out);
    if (strcmp(name, "churn") == 0)
        return patron_report_churn(s, o, out);
    if (strcmp(name, "offers") == 0)
        return patron_report_offers(s, o, out);
    if (strcmp(name, "partners") == 0)
        return patron_report_partners(s, o, out);
    if (strcmp(name, "satisfaction") == 0)
        return patron_report_satisfaction(s, o, out);
    return patron__fail(s, PATRON_ENOTFOUND, "no report named '%.40s'", name);
}
