/* SPDX-License-Identifier: MIT */
/* RFM segments and the churn-risk list for win-back, from the per-member facts. Scores are
 * quintiles by rank with ties sharing a score, so the same data always gives the same segments;
 * definitions are in include/patron/report.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "report/spill.h"

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

/* What a list that cannot be kept aside (spill.h) is told as: what names the list. */
static int set_aside_failed(patron_store *s, int err, const char *what)
{
    if (err == PATRON_ENOMEM)
        return patron__fail(s, PATRON_ENOMEM, "not enough memory for %s", what);
    return patron__fail(s, err == -ENOSPC || err == -EDQUOT ? PATRON_EFULL : err,
                        "%s is too long to keep in memory, and no temporary file could be written"
                        " in %s (set TMPDIR to another directory)",
                        what, patron__spill_dir());
}

size_t patron__report_chunk_bytes;

/* Each buyer's measures (monetary is shown, not scored), 16 bytes. A score only asks how many
 * buyers are strictly worse, compared with four cut points (see find_cuts), so the cut points
 * are records of given ranks: of the buyers in order of recency, and of their sales counts
 * apart in their own order. Both lists are kept in bounded memory (spill.h): at 1,000,000
 * buyers the service holds a chunk of each, not 16 MB. Recency is in seconds, up to 136 years
 * (a sale is never older). */
struct buyer {
    int64_t spend;
    uint32_t recency;
    int32_t sales;
};

struct scored {
    patron_store *s;
    int64_t now;
    struct patron__spill *buyers;         /* in order of recency */
    struct patron__spill *sales;          /* each buyer's sales count, ascending */
    int64_t recency_cut[4], sales_cut[4]; /* for scores 2..5 */
};

/* By recency, then sales, then spend: a total order on what a record holds. */
static int cmp_buyer(const void *a, const void *b)
{
    const struct buyer *x = a, *y = b;
    if (x->recency != y->recency)
        return x->recency < y->recency ? -1 : 1;
    if (x->sales != y->sales)
        return x->sales < y->sales ? -1 : 1;
    return x->spend < y->spend ? -1 : x->spend > y->spend;
}

static int cmp_sales(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* Score 1 + floor(5 * worse / n) >= s exactly when worse >= q = ceil((s - 1) * n / 5): for
 * recency (worse: longer ago) when the buyer's recency is below the value of ascending rank
 * n - q; for frequency (worse: fewer sales) when its sales are above the value of rank q - 1.
 * Each list is read forwards once (recency's ranks fall as s rises). */
static int find_cuts(struct scored *sc)
{
    size_t n = patron__spill_count(sc->buyers);
    for (int k = 4; k-- > 0 && n > 0;) {
        const struct buyer *b = patron__spill_at(sc->buyers, n - ((size_t)(k + 1) * n + 4) / 5);
        if (!b)
            return -EIO;
        sc->recency_cut[k] = b->recency;
    }
    for (int k = 0; k < 4 && n > 0; k++) {
        const int32_t *v = patron__spill_at(sc->sales, ((size_t)(k + 1) * n + 4) / 5 - 1);
        if (!v)
            return -EIO;
        sc->sales_cut[k] = *v;
    }
    return 0;
}

static int score_of(const int64_t cut[4], int64_t v, int lower_is_better)
{
    int score = 1;
    for (int k = 0; k < 4; k++)
        score += lower_is_better ? v < cut[k] : v > cut[k];
    return score;
}

static int collect(int64_t id, const struct patron__fact *m, void *arg)
{
    struct scored *sc = arg;
    (void)id;
    if (m->erased || m->sales == 0)
        return 0;
    int64_t recency = sc->now - m->last_sale;
    struct buyer b;
    memset(&b, 0, sizeof b); /* its padding too: the record may be written to a file */
    b.spend = m->spend;
    b.recency = recency < UINT32_MAX ? (uint32_t)recency : UINT32_MAX;
    b.sales = m->sales;
    int err = patron__spill_add(sc->buyers, &b);
    if (err == 0)
        err = patron__spill_add(sc->sales, &b.sales);
    return err ? set_aside_failed(sc->s, err, "the list of buyers") : 0;
}

struct segment_sum {
    int64_t members, recency, frequency, monetary;
};

static int rfm_rows(patron_store *s, struct patron_report_table *t, struct scored *sc)
{
    struct segment_sum sum[SEGMENTS] = {{0}};
    size_t n = patron__spill_count(sc->buyers);
    int err = 0;
    for (size_t i = 0; i < n; i++) {
        const struct buyer *m = patron__spill_at(sc->buyers, i);
        if (!m)
            return set_aside_failed(s, -EIO, "the list of buyers");
        int r = score_of(sc->recency_cut, m->recency, 1);
        int fr = score_of(sc->sales_cut, m->sales, 0);
        struct segment_sum *g = &sum[segment_of(r, fr)];
        g->members++;
        g->recency += m->recency;
        g->frequency += m->sales;
        g->monetary += m->spend;
    }
    for (int g = 0; g < SEGMENTS && err == 0; g++) {
        size_t row;
        int64_t members = sum[g].members;
        if ((err = patron__table_add_row(s, t, &row)) != 0)
            break;
        err = patron__table_text(t, row, 0, segment_names[g]);
        patron__table_int(t, row, 1, members);
        patron__table_ratio(t, row, 2, members, (int64_t)n);
        patron__table_int(t, row, 3, members ? sum[g].recency / members / PATRON__DAY_SECONDS : 0);
        patron__table_decimal(t, row, 4, sum[g].frequency, members);
        patron__table_int(t, row, 5, members ? sum[g].monetary / members : 0);
    }
    return err;
}

static int rfm_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    struct scored sc = {.s = s, .now = patron_store_now(s)};
    size_t chunk = patron__report_chunk_bytes;
    int err = patron__spill_new(sizeof(struct buyer), cmp_buyer, chunk, &sc.buyers);
    (void)arg;
    if (err == 0)
        err = patron__spill_new(sizeof(int32_t), cmp_sales, chunk, &sc.sales);
    if (err == 0)
        err = patron__facts_each(s, sc.now + 1, PATRON__FACTS_SUMS, collect, &sc);
    if (err == 0 && ((err = patron__spill_sort(sc.buyers)) != 0 ||
                     (err = patron__spill_sort(sc.sales)) != 0 || (err = find_cuts(&sc)) != 0))
        err = set_aside_failed(s, err, "the list of buyers");
    if (err == 0)
        err = rfm_rows(s, t, &sc);
    patron__spill_free(sc.buyers);
    patron__spill_free(sc.sales);
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

/* The list is kept in bounded memory (spill.h): past a chunk of members it is set aside in a
 * temporary file in sorted runs and read back merged, so a store of millions of members at risk
 * costs the service no more memory than one of thousands. */
struct lapsed_list {
    patron_store *s;
    sqlite3_stmt *cards; /* every card in member order, read beside the members */
    int cards_rc;
    int64_t now;
    struct patron__spill *l;
};

/* The card to reach a member by: the newest active one, else the newest; of cards issued in
 * the same second, the first by number. The cards come in member order from cards_member, read
 * forwards beside the members (one pass, no look-up per member listed); the member's own are
 * picked here rather than sorted by SQLite, which built a temporary B-tree a member. */
static int card_of(struct lapsed_list *ll, int64_t member_id, char card[16])
{
    sqlite3_stmt *st = ll->cards;
    int best_active = -1;
    int64_t best_at = 0;
    card[0] = '\0';
    for (; ll->cards_rc == SQLITE_ROW; ll->cards_rc = sqlite3_step(st)) {
        int64_t of = sqlite3_column_int64(st, 0);
        if (of > member_id)
            break;
        if (of < member_id)
            continue;
        int active = sqlite3_column_int(st, 2);
        int64_t at = sqlite3_column_int64(st, 3);
        if (active > best_active || (active == best_active && at > best_at)) {
            best_active = active;
            best_at = at;
            patron__copy(card, 16, (const char *)sqlite3_column_text(st, 1));
        }
    }
    return ll->cards_rc == SQLITE_ROW || ll->cards_rc == SQLITE_DONE
               ? 0
               : patron__db_err(ll->s, ll->cards_rc);
}

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
    if (patron__spill_count(ll->l) >= PATRON_REPORT_MAX_ROWS)
        return patron__fail(ll->s, PATRON_ETOOBIG, "too many members at risk to list");
    struct lapsed l;
    memset(&l, 0, sizeof l); /* its padding too: the record may be written to a file */
    l.member_id = id;
    l.since = ll->now - m->last_sale;
    l.gap = gap;
    l.spend = m->spend;
    l.sales = m->sales;
    l.consent = m->consent;
    int err = card_of(ll, id, l.card);
    if (err == 0 && (err = patron__spill_add(ll->l, &l)) != 0)
        err = set_aside_failed(ll->s, err, "the list of members at risk");
    return err;
}

/* The list's rows are made from it as they are written (patron__table_rows_made): the table
 * holds the sorted list, not a row of cells and texts per member. A row's texts are copied into
 * its slot of the window: a record read back from the file lives only until the next. */
struct churn_rows {
    struct patron__spill *l;
    int64_t now;
    char last[PATRON__ROWS_WINDOW][11];
    char card[PATRON__ROWS_WINDOW][16];
};

static int churn_make(struct patron_report_table *t, size_t row, size_t slot, void *src)
{
    struct churn_rows *c = src;
    const struct lapsed *l = patron__spill_at(c->l, row);
    if (!l)
        return -EIO;
    patron__date_label(c->now - l->since, c->last[slot]);
    memcpy(c->card[slot], l->card, sizeof c->card[slot]);
    patron__table_int(t, slot, 0, l->member_id);
    t->cells[slot * t->n_cols + 1] =
        (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = c->card[slot]};
    t->cells[slot * t->n_cols + 2] =
        (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = c->last[slot]};
    patron__table_int(t, slot, 3, l->since / PATRON__DAY_SECONDS);
    patron__table_int(t, slot, 4, l->gap / PATRON__DAY_SECONDS);
    patron__table_int(t, slot, 5, l->sales);
    patron__table_int(t, slot, 6, l->spend);
    patron__table_int(t, slot, 7, l->consent);
    return 0;
}

static void churn_free(void *src)
{
    struct churn_rows *c = src;
    if (c)
        patron__spill_free(c->l);
    free(c);
}

static int churn_fill(patron_store *s, struct patron_report_table *t, const void *arg)
{
    int64_t limit = *(const int64_t *)arg;
    struct lapsed_list ll = {.s = s, .now = patron_store_now(s)};
    struct churn_rows *c = NULL;
    int err =
        patron__spill_new(sizeof(struct lapsed), cmp_lapsed, patron__report_chunk_bytes, &ll.l);
    if (err == 0)
        err = patron__prepare(s,
                              "SELECT member_id, number, status = 'active', issued_at FROM cards"
                              " INDEXED BY cards_member WHERE member_id > 0 ORDER BY member_id",
                              &ll.cards);
    if (err != 0)
        goto out;
    if ((ll.cards_rc = sqlite3_step(ll.cards)) != SQLITE_ROW && ll.cards_rc != SQLITE_DONE)
        err = patron__db_err(s, ll.cards_rc);
    if (err != 0 ||
        (err = patron__facts_each(s, ll.now + 1, PATRON__FACTS_SUMS, collect_lapsed, &ll)) != 0)
        goto out;
    if ((err = patron__spill_sort(ll.l)) != 0) {
        err = set_aside_failed(s, err, "the list of members at risk");
        goto out;
    }
    size_t n = patron__spill_count(ll.l);
    size_t rows = limit > 0 && (uint64_t)limit < n ? (size_t)limit : n;
    if (!(c = calloc(1, sizeof *c))) {
        err = PATRON_ENOMEM;
        goto out;
    }
    *c = (struct churn_rows){.l = ll.l, .now = ll.now};
    ll.l = NULL;
    err = patron__table_rows_made(s, t, rows, churn_make, churn_free, c);
out:
    sqlite3_finalize(ll.cards);
    patron__spill_free(ll.l);
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
