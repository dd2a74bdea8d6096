/* SPDX-License-Identifier: MIT */
/* RFM segments and the churn-risk list for win-back, from the per-member facts. Scores are
 * quintiles by rank with ties sharing a score, so the same data always gives the same segments;
 * definitions are in include/patron/report.h. */
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

enum segment { CHAMPIONS, LOYAL, NEW, NEEDS_ATTENTION, AT_RISK, HIBERNATING, SEGMENTS };

static const char *const segment_names[SEGMENTS] = {
    "champions", "loyal", "new", "needs_attention", "at_risk", "hibernating",
};

static enum segment segment_of(int r, int f)
{
    if (r >= 4)
        return f >= 4 ? CHAMPIONS : f == 3 ? LOYAL : NEW;
    if (r == 3)
        return f >= 3 ? LOYAL : NEEDS_ATTENTION;
    return f >= 3 ? AT_RISK : HIBERNATING;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of the first element >= v (below = 1) or > v (below = 0) in sorted[0..n). */
static size_t bound(const int64_t *sorted, size_t n, int64_t v, int below)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (below ? sorted[mid] < v : sorted[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 1 + floor(5 * worse / n): `worse` counts members strictly worse on the measure. */
static int score(const int64_t *sorted, size_t n, int64_t v, int lower_is_better)
{
    size_t worse = lower_is_better ? n - bound(sorted, n, v, 0) : bound(sorted, n, v, 1);
    return 1 + (int)(5 * worse / n);
}

struct scored {
    int64_t *recency, *frequency, *monetary; /* sorted copies */
    size_t n;
};

static int collect(const struct patron__facts *f, int64_t now, struct scored *sc)
{
    size_t n = 0;
    for (int64_t id = 1; id < f->n; id++)
        n += f->m[id].present && !f->m[id].erased && f->m[id].sales > 0;
    sc->n = n;
    sc->recency = malloc((n ? n : 1) * sizeof(int64_t));
    sc->frequency = malloc((n ? n : 1) * sizeof(int64_t));
    sc->monetary = malloc((n ? n : 1) * sizeof(int64_t));
    if (!sc->recency || !sc->frequency || !sc->monetary)
        return PATRON_ENOMEM;
    n = 0;
    for (int64_t id = 1; id < f->n; id++) {
        const struct patron__fact *m = &f->m[id];
        if (!m->present || m->erased || m->sales == 0)
            continue;
        sc->recency[n] = now - m->last_sale;
        sc->frequency[n] = m->sales;
        sc->monetary[n++] = m->spend;
    }
    qsort(sc->recency, n, sizeof(int64_t), cmp_i64);
    qsort(sc->frequency, n, sizeof(int64_t), cmp_i64);
    qsort(sc->monetary, n, sizeof(int64_t), cmp_i64);
    return 0;
}

struct segment_sum {
    int64_t members, recency, frequency, monetary;
};

static int rfm_rows(patron_store *s, struct patron_report_table *t, const struct patron__facts *f,
                    const struct scored *sc, int64_t now)
{
    struct segment_sum sum[SEGMENTS] = {{0}};
    int err = 0;
    for (int64_t id = 1; id < f->n && sc->n; id++) {
        const struct patron__fact *m = &f->m[id];
        if (!m->present || m->erased || m->sales == 0)
            continue;
        int r = score(sc->recency, sc->n, now - m->last_sale, 1);
        int fr = score(sc->frequency, sc->n, m->sales, 0);
        struct segment_sum *g = &sum[segment_of(r, fr)];
        g->members++;
        g->recency += now - m->last_sale;
        g->frequency += m->sales;
        g->monetary += m->spend;
    }
    for (int g = 0; g < SEGMENTS && err == 0; g++) {
        size_t row;
        int64_t n = sum[g].members;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        err = patron__table_text(t, row, 0, segment_names[g]);
        patron__table_int(t, row, 1, n);
        patron__table_ratio(t, row, 2, n, (int64_t)sc->n);
        patron__table_int(t, row, 3, n ? sum[g].recency / n / PATRON__DAY_SECONDS : 0);
        patron__table_decimal(t, row, 4, sum[g].frequency, n);
        patron__table_int(t, row, 5, n ? sum[g].monetary / n : 0);
    }
    return err;
}

static int rfm_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    struct patron__facts f;
    struct scored sc = {0};
    int64_t now = patron_store_now(s);
    int err = patron__facts_load(s, now + 1, &f);
    (void)arg;
    if (err != 0)
        return err;
    if ((err = collect(&f, now, &sc)) == 0)
        err = rfm_rows(s, t, &f, &sc, now);
    free(sc.recency);
    free(sc.frequency);
    free(sc.monetary);
    patron__facts_cleanup(&f);
    t->chart_col = 1;
    struct patron_program p;
    if (err == 0 && (err = patron_program_get(s, &p)) == 0)
        memcpy(t->currency, p.currency, sizeof t->currency);
    return err;
}

int patron_report_rfm(patron_store *s, struct patron_report_table **out)
{
    static const char *const cols[] = {"segment",   "members",   "share", "avg_recency_days",
                                       "avg_sales", "avg_spend", NULL};
    return patron__report_build(s, "rfm", "RFM segments (recency, frequency, monetary)", cols,
                                rfm_fill, NULL, out);
}

struct lapsed {
    int64_t member_id, since, gap;
};

/* Longest overdue first: since/gap compared without division. */
static int cmp_lapsed(const void *a, const void *b)
{
    const struct lapsed *x = a, *y = b;
    __int128 l = (__int128)x->since * y->gap, r = (__int128)y->since * x->gap;
    if (l != r)
        return l > r ? -1 : 1;
    return x->member_id < y->member_id ? -1 : x->member_id > y->member_id;
}

static int collect_lapsed(patron_store *s, const struct patron__facts *f, int64_t now,
                          struct lapsed **out, size_t *count)
{
    size_t n = 0, cap = 1024;
    struct lapsed *list = malloc(cap * sizeof *list);
    if (!list)
        return PATRON_ENOMEM;
    for (int64_t id = 1; id < f->n; id++) {
        const struct patron__fact *m = &f->m[id];
        if (!m->present || m->erased || m->sales < 2)
            continue;
        int64_t gap = (m->last_sale - m->first_sale) / (m->sales - 1);
        if (gap < PATRON__DAY_SECONDS)
            gap = PATRON__DAY_SECONDS;
        if (now - m->last_sale <= 2 * gap)
            continue;
        if (n == cap) {
            struct lapsed *grown =
                n >= PATRON_REPORT_MAX_ROWS ? NULL : realloc(list, 2 * cap * sizeof *list);
            if (!grown) {
                free(list);
                return patron__fail(s, n >= PATRON_REPORT_MAX_ROWS ? PATRON_ETOOBIG : PATRON_ENOMEM,
                                    "too many members at risk to list");
            }
            list = grown;
            cap *= 2;
        }
        list[n++] = (struct lapsed){id, now - m->last_sale, gap};
    }
    qsort(list, n, sizeof *list, cmp_lapsed);
    *out = list;
    *count = n;
    return 0;
}

static int card_of(patron_store *s, sqlite3_stmt *st, int64_t member_id, char card[16])
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    card[0] = '\0';
    if (rc == SQLITE_ROW)
        patron__copy(card, 16, (const char *)sqlite3_column_text(st, 0));
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int churn_row(patron_store *s, struct patron_report_table *t, sqlite3_stmt *cards,
                     const struct lapsed *l, const struct patron__fact *m)
{
    char card[16], last[11];
    size_t row;
    int err;
    if ((err = card_of(s, cards, l->member_id, card)) != 0 ||
        (err = patron__table_add_row(s, t, &row)) != 0)
        return err;
    patron__date_label(m->last_sale, last);
    patron__table_int(t, row, 0, l->member_id);
    if ((err = patron__table_text(t, row, 1, card)) != 0 ||
        (err = patron__table_text(t, row, 2, last)) != 0)
        return err;
    patron__table_int(t, row, 3, l->since / PATRON__DAY_SECONDS);
    patron__table_int(t, row, 4, l->gap / PATRON__DAY_SECONDS);
    patron__table_int(t, row, 5, m->sales);
    patron__table_int(t, row, 6, m->spend);
    patron__table_int(t, row, 7, m->consent);
    return 0;
}

static int churn_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    int64_t limit = *(const int64_t *)arg, now = patron_store_now(s);
    struct patron__facts f;
    struct lapsed *list = NULL;
    sqlite3_stmt *cards = NULL;
    size_t n = 0;
    int err = patron__facts_load(s, now + 1, &f);
    if (err != 0)
        return err;
    if ((err = collect_lapsed(s, &f, now, &list, &n)) != 0 ||
        (err = patron__prepare(s,
                               "SELECT number FROM cards WHERE member_id = ?1"
                               " ORDER BY status = 'active' DESC, issued_at DESC LIMIT 1",
                               &cards)) != 0)
        goto out;
    for (size_t i = 0; i < n && (limit <= 0 || (int64_t)i < limit) && err == 0; i++)
        err = churn_row(s, t, cards, &list[i], &f.m[list[i].member_id]);
out:
    sqlite3_finalize(cards);
    free(list);
    patron__facts_cleanup(&f);
    return err;
}

int patron_report_churn(patron_store *s, const struct patron_report_options *o,
                        struct patron_report_table **out)
{
    static const char *const cols[] = {"member_id",  "card",           "last_sale",
                                       "days_since", "usual_gap_days", "sales",
                                       "spend",      "consent",        NULL};
    int64_t limit = o ? o->limit : 0;
    if (limit < 0)
        return patron__fail(s, PATRON_EINVAL, "limit must be 0 (all) or more");
    return patron__report_build(s, "churn", "Members at risk of lapsing (win-back list)", cols,
                                churn_fill, &limit, out);
}
