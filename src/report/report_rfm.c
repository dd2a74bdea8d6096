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

/* Each buyer's measures, sorted by recency to score it by, and a sorted copy of the frequencies
 * (monetary is shown, not scored): 28 bytes a buyer, no per-member table. */
struct buyer {
    int64_t recency, spend;
    int32_t sales;
};

struct scored {
    struct buyer *b;
    int32_t *frequency; /* sorted */
    size_t n, cap;
    int64_t now;
};

static int cmp_recency(const void *a, const void *b)
{
    int64_t x = ((const struct buyer *)a)->recency, y = ((const struct buyer *)b)->recency;
    return x < y ? -1 : x > y;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of the first buyer whose recency is > v, in b[0..n) sorted by recency. */
static size_t above_recency(const struct buyer *b, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].recency <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first element >= v in sorted[0..n). */
static size_t below_i32(const int32_t *sorted, size_t n, int32_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 1 + floor(5 * worse / n): `worse` counts members strictly worse on the measure (a longer
 * recency, fewer sales). */
static int score(size_t worse, size_t n)
{
    return 1 + (int)(5 * worse / n);
}

static int collect(int64_t id, const struct patron__fact *m, void *arg)
{
    struct scored *sc = arg;
    (void)id;
    if (m->erased || m->sales == 0)
        return 0;
    if (sc->n == sc->cap) {
        size_t cap = sc->cap ? 2 * sc->cap : 1024;
        struct buyer *grown = realloc(sc->b, cap * sizeof *grown);
        if (!grown)
            return PATRON_ENOMEM;
        sc->b = grown;
        sc->cap = cap;
    }
    sc->b[sc->n++] = (struct buyer){sc->now - m->last_sale, m->spend, m->sales};
    return 0;
}

static int sort_measures(struct scored *sc)
{
    size_t n = sc->n;
    if (!(sc->frequency = malloc((n ? n : 1) * sizeof(int32_t))))
        return PATRON_ENOMEM;
    for (size_t i = 0; i < n; i++)
        sc->frequency[i] = sc->b[i].sales;
    if (n > 1) {
        patron__sort(sc->b, n, sizeof *sc->b, cmp_recency);
        patron__sort(sc->frequency, n, sizeof(int32_t), cmp_i32);
    }
    return 0;
}

struct segment_sum {
    int64_t members, recency, frequency, monetary;
};

static int rfm_rows(patron_store *s, struct patron_report_table *t, const struct scored *sc)
{
    struct segment_sum sum[SEGMENTS] = {{0}};
    int err = 0;
    for (size_t i = 0; i < sc->n; i++) {
        const struct buyer *m = &sc->b[i];
        int r = score(sc->n - above_recency(sc->b, sc->n, m->recency), sc->n);
        int fr = score(below_i32(sc->frequency, sc->n, m->sales), sc->n);
        struct segment_sum *g = &sum[segment_of(r, fr)];
        g->members++;
        g->recency += m->recency;
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
    struct scored sc = {.now = patron_store_now(s)};
    int err = patron__facts_each(s, sc.now + 1, collect, &sc);
    (void)arg;
    if (err == 0 && (err = sort_measures(&sc)) == 0)
        err = rfm_rows(s, t, &sc);
    free(sc.b);
    free(sc.frequency);
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

/* A member on the list, with what its row shows. */
struct lapsed {
    int64_t member_id, since, gap, spend;
    int32_t sales;
    uint8_t consent;
    char card[16];
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

struct lapsed_list {
    patron_store *s;
    int64_t now;
    struct lapsed *l;
    size_t n, cap;
};

static int collect_lapsed(int64_t id, const struct patron__fact *m, void *arg)
{
    struct lapsed_list *ll = arg;
    if (m->erased || m->sales < 2)
        return 0;
    int64_t gap = (m->last_sale - m->first_sale) / (m->sales - 1);
    if (gap < PATRON__DAY_SECONDS)
        gap = PATRON__DAY_SECONDS;
    if (ll->now - m->last_sale <= 2 * gap)
        return 0;
    if (ll->n == ll->cap) {
        size_t cap = ll->cap ? 2 * ll->cap : 1024;
        struct lapsed *grown =
            ll->n >= PATRON_REPORT_MAX_ROWS ? NULL : realloc(ll->l, cap * sizeof *grown);
        if (!grown)
            return patron__fail(ll->s,
                                ll->n >= PATRON_REPORT_MAX_ROWS ? PATRON_ETOOBIG : PATRON_ENOMEM,
                                "too many members at risk to list");
        ll->l = grown;
        ll->cap = cap;
    }
    ll->l[ll->n++] =
        (struct lapsed){id, ll->now - m->last_sale, gap, m->spend, m->sales, m->consent, ""};
    return 0;
}

/* The card to reach a member by: the newest active one, else the newest; of cards issued in
 * the same second, the first by number. Picked here from the member's few cards rather than sorted
 * by SQLite, which built a temporary B-tree for every member listed. */
static int card_of(patron_store *s, sqlite3_stmt *st, int64_t member_id, char card[16])
{
    int rc, best_active = -1;
    int64_t best_at = 0;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, member_id);
    card[0] = '\0';
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int active = sqlite3_column_int(st, 1);
        int64_t at = sqlite3_column_int64(st, 2);
        if (active > best_active || (active == best_active && at > best_at)) {
            best_active = active;
            best_at = at;
            patron__copy(card, 16, (const char *)sqlite3_column_text(st, 0));
        }
    }
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* The list's rows are made from it as they are written (patron__table_rows_made): the table
 * holds the sorted list, not a row of cells and texts per member. */
struct churn_rows {
    struct lapsed *l;
    int64_t now;
    char last[PATRON__ROWS_WINDOW][11];
};

static void churn_make(struct patron_report_table *t, size_t row, size_t slot, void *src)
{
    struct churn_rows *c = src;
    const struct lapsed *l = &c->l[row];
    patron__date_label(c->now - l->since, c->last[slot]);
    patron__table_int(t, slot, 0, l->member_id);
    t->cells[slot * t->n_cols + 1] =
        (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = (char *)c->l[row].card};
    t->cells[slot * t->n_cols + 2] =
        (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = c->last[slot]};
    patron__table_int(t, slot, 3, l->since / PATRON__DAY_SECONDS);
    patron__table_int(t, slot, 4, l->gap / PATRON__DAY_SECONDS);
    patron__table_int(t, slot, 5, l->sales);
    patron__table_int(t, slot, 6, l->spend);
    patron__table_int(t, slot, 7, l->consent);
}

static void churn_free(void *src)
{
    struct churn_rows *c = src;
    if (c)
        free(c->l);
    free(c);
}

static int churn_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    int64_t limit = *(const int64_t *)arg;
    struct lapsed_list ll = {.s = s, .now = patron_store_now(s)};
    struct churn_rows *c = NULL;
    sqlite3_stmt *cards = NULL;
    int err = patron__facts_each(s, ll.now + 1, collect_lapsed, &ll);
    if (err != 0)
        goto out;
    if (ll.n > 1)
        patron__sort(ll.l, ll.n, sizeof *ll.l, cmp_lapsed);
    if ((err = patron__prepare(s,
                               "SELECT number, status = 'active', issued_at FROM cards"
                               " WHERE member_id = ?1",
                               &cards)) != 0)
        goto out;
    size_t rows = limit > 0 && (uint64_t)limit < ll.n ? (size_t)limit : ll.n;
    for (size_t i = 0; i < rows && err == 0; i++)
        err = card_of(s, cards, ll.l[i].member_id, ll.l[i].card);
    if (err != 0)
        goto out;
    if (!(c = calloc(1, sizeof *c))) {
        err = PATRON_ENOMEM;
        goto out;
    }
    *c = (struct churn_rows){.l = ll.l, .now = ll.now};
    ll.l = NULL;
    err = patron__table_rows_made(s, t, rows, churn_make, churn_free, c);
out:
    sqlite3_finalize(cards);
    free(ll.l);
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
