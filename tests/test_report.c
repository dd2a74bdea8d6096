/* SPDX-License-Identifier: MIT */
/* The reports on a data set whose answers are known by construction: three monthly cohorts
 * with planted buying patterns (a regular, members who stopped, one-time buyers), one
 * redemption, and the clock at 2026-06-15. Every figure asserted below is worked out by hand
 * in the comments; the sales go through the real ledger. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "report/report_internal.h"
#include "testutil.h"

static int64_t day(int y, int m, int d)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 10};
    return (int64_t)timegm(&tm);
}

static int64_t midnight(int y, int m, int d)
{
    return day(y, m, d) - 10 * 3600;
}

struct world {
    struct test_store t;
    char a[10][14], b[5][14], c[4][14]; /* cohorts Jan, Feb, Mar 2026 */
    int serial;
};

/* A sale of `minor` at `when`; the points it earned. */
static int64_t sell_of(struct world *w, const char *card, int64_t minor, int64_t when)
{
    char ref[32];
    struct patron_sale_result r;
    snprintf(ref, sizeof ref, "S%d", ++w->serial);
    struct patron_sale in = {
        .card = card, .ref = ref, .total_minor = minor, .idempotency_key = ref};
    w->t.now = when;
    assert_int_equal(patron_sale_record(w->t.s, &in, &r), 0);
    return r.points_earned;
}

static void sell(struct world *w, const char *card, int64_t when)
{
    assert_int_equal(sell_of(w, card, 1000, when), 10);
}

static void enroll_at(struct world *w, int64_t when, char (*cards)[14], int n, const char *name)
{
    w->t.now = when;
    for (int i = 0; i < n; i++) {
        char full[32];
        snprintf(full, sizeof full, "%s%d", name, i);
        test_enroll(&w->t, full, cards[i]);
    }
}

/* Jan cohort A0-A9 (10): all buy in Jan; A0-A5 in Feb; A0-A2 in Mar; A0 in Apr, May, Jun.
 * Feb cohort B0-B4 (5): B0-B3 buy in Feb; B0-B1 in Apr. Mar cohort C0-C3 (4): never buy.
 * Sales on the 20th (June: the 10th) at 10:00, 1000 minor each = 10 points. A0 redeems a
 * 20-point reward in May. 28 sales, 280 points issued, 20 redeemed. */
static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    int64_t reward;
    struct patron_redeem_result rr;
    test_store_open(&w->t);
    enroll_at(w, day(2026, 1, 15), w->a, 10, "A");
    enroll_at(w, day(2026, 2, 10), w->b, 5, "B");
    enroll_at(w, day(2026, 3, 5), w->c, 4, "C");
    for (int i = 0; i < 10; i++)
        sell(w, w->a[i], day(2026, 1, 20));
    for (int i = 0; i < 6; i++)
        sell(w, w->a[i], day(2026, 2, 20));
    for (int i = 0; i < 4; i++)
        sell(w, w->b[i], day(2026, 2, 20));
    for (int i = 0; i < 3; i++)
        sell(w, w->a[i], day(2026, 3, 20));
    sell(w, w->a[0], day(2026, 4, 20));
    sell(w, w->b[0], day(2026, 4, 20));
    sell(w, w->b[1], day(2026, 4, 20));
    sell(w, w->a[0], day(2026, 5, 20));
    struct patron_reward_def def = {
        .name = "Coffee", .cost = 20, .kind = PATRON_VALUE_ITEM, .value = 1};
    assert_int_equal(patron_reward_add(w->t.s, &def, &reward), 0);
    struct patron_redeem_request rq = {
        .card = w->a[0], .reward_id = reward, .idempotency_key = "redeem-1"};
    assert_int_equal(patron_reward_redeem(w->t.s, &rq, &rr), 0);
    sell(w, w->a[0], day(2026, 6, 10));
    w->t.now = day(2026, 6, 15);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    test_store_close(&w->t);
    free(w);
    return 0;
}

static struct patron_report_table *run(struct world *w, const char *name,
                                       const struct patron_report_options *o)
{
    struct patron_report_table *t = NULL;
    assert_int_equal(patron_report_run(w->t.s, name, o, &t), 0);
    assert_non_null(t);
    return t;
}

static int64_t num(const struct patron_report_table *t, size_t row, const char *col)
{
    int c = patron_report_col(t, col);
    assert_true(c >= 0);
    const struct patron_cell *cell = patron_report_cell(t, row, (size_t)c);
    assert_true(cell->kind == PATRON_CELL_INT || cell->kind == PATRON_CELL_RATIO ||
                cell->kind == PATRON_CELL_DECIMAL);
    return cell->i;
}

static const char *text(const struct patron_report_table *t, size_t row, const char *col)
{
    int c = patron_report_col(t, col);
    assert_true(c >= 0);
    const struct patron_cell *cell = patron_report_cell(t, row, (size_t)c);
    assert_int_equal(cell->kind, PATRON_CELL_TEXT);
    return cell->text;
}

/* 280 issued - 20 redeemed = 260 points; at 50 minor per 100 points they are worth 130. */
static void liability_is_outstanding_points_and_their_value(void **state)
{
    struct world *w = *state;
    assert_int_equal(patron_program_set(w->t.s, "point_value_minor_per_100", "50", "owner"), 0);
    struct patron_report_table *t = run(w, "liability", NULL);
    assert_int_equal(t->n_rows, 1);
    assert_int_equal(num(t, 0, "points"), 260);
    assert_int_equal(num(t, 0, "value"), 130);
    assert_string_equal(text(t, 0, "currency"), "EUR");
    assert_int_equal(num(t, 0, "members_with_points"), 14);
    char buf[2048];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_int_equal(patron_report_write(t, PATRON_REPORT_JSON, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "\"points\":260"));
    assert_non_null(strstr(buf, "\"value\":130"));
    assert_non_null(strstr(buf, "\"currency\":\"EUR\""));
    patron_report_free(t);
}

/* Lots expire 365 days after they were earned. A0's redemption took its January and February
 * lots (first in, first out), so: 2027-01 90, 2027-02 90, 2027-03 30, 2027-04 30, 2027-05 10,
 * and June 2027 (beyond 12 months from 2026-06) is "later" with 10. */
static void expiring_buckets_points_by_month(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = run(w, "expiring", NULL);
    static const struct {
        const char *month;
        int64_t points;
    } want[] = {{"2026-06", 0},  {"2026-07", 0},  {"2026-08", 0},  {"2026-09", 0},  {"2026-10", 0},
                {"2026-11", 0},  {"2026-12", 0},  {"2027-01", 90}, {"2027-02", 90}, {"2027-03", 30},
                {"2027-04", 30}, {"2027-05", 10}, {"later", 10}};
    assert_int_equal(t->n_rows, 13);
    for (size_t i = 0; i < 13; i++) {
        assert_string_equal(text(t, i, "month"), want[i].month);
        assert_int_equal(num(t, i, "points"), want[i].points);
    }
    patron_report_free(t);
}

/* Issued per month: Jan 100, Feb 100, Mar 30, Apr 30, May 10, Jun 10; redeemed May 20. */
static void redemption_rate_is_redeemed_over_issued(void **state)
{
    struct world *w = *state;
    struct patron_report_options o = {.from = midnight(2026, 1, 1), .to = midnight(2026, 7, 1)};
    struct patron_report_table *t = run(w, "redemption", &o);
    assert_int_equal(t->n_rows, 7);
    assert_string_equal(text(t, 0, "month"), "2026-01");
    assert_int_equal(num(t, 0, "issued"), 100);
    assert_int_equal(num(t, 1, "issued"), 100);
    assert_int_equal(num(t, 4, "issued"), 10);
    assert_int_equal(num(t, 4, "redeemed"), 20);
    assert_int_equal(num(t, 4, "rate"), 2000000);
    assert_int_equal(num(t, 0, "rate"), 0);
    assert_string_equal(text(t, 6, "month"), "total");
    assert_int_equal(num(t, 6, "issued"), 280);
    assert_int_equal(num(t, 6, "redeemed"), 20);
    assert_int_equal(num(t, 6, "rate"), 71429); /* 20 / 280 */
    patron_report_free(t);
}

/* The one value of a prepared query's one row; the statement is finalized. */
static int64_t scalar_of(sqlite3_stmt *st)
{
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* A plain SQL sum of `kind` points within [from, to) in the month labelled `month`. */
static int64_t points_in_month(patron_store *s, const char *kind, const char *month, int64_t from,
                               int64_t to)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(patron_store_sqlite(s),
                           "SELECT COALESCE(SUM(points), 0) FROM entries WHERE kind = ?1"
                           " AND strftime('%Y-%m', created_at, 'unixepoch') = ?2"
                           " AND created_at >= ?3 AND created_at < ?4",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, month, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    return scalar_of(st);
}

/* A period that starts and ends within a day: each month holds exactly its entries inside the
 * period, the first and last month cut at the period's edges, entries half an hour either side
 * of a month's first midnight in their own months. */
static void redemption_months_follow_a_period_cut_mid_day(void **state)
{
    struct world *w = *state;
    sell(w, w->a[1], midnight(2026, 3, 1) - 1800);
    sell(w, w->a[2], midnight(2026, 3, 1) + 1800);
    sell(w, w->a[3], midnight(2026, 5, 1));
    struct patron_report_options o = {.from = midnight(2026, 1, 1) + 20 * 3600,
                                      .to = midnight(2026, 5, 31) + 1};
    struct patron_report_table *t = run(w, "redemption", &o);
    assert_int_equal(t->n_rows, 6);
    int64_t issued = 0;
    for (size_t i = 0; i + 1 < t->n_rows; i++) {
        const char *month = text(t, i, "month");
        assert_int_equal(num(t, i, "issued"), points_in_month(w->t.s, "earn", month, o.from, o.to));
        assert_int_equal(num(t, i, "redeemed"),
                         points_in_month(w->t.s, "redeem", month, o.from, o.to));
        issued += num(t, i, "issued");
    }
    assert_int_equal(num(t, 5, "issued"), issued);
    patron_report_free(t);
}

/* Last 12 months: 14 buyers (A0-A9, B0-B3), 8 with two or more (A0-A5, B0, B1). From March:
 * buyers A0, A1, A2, B0, B1; only A0 bought twice or more. */
static void repeat_rate_counts_members_who_bought_again(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = run(w, "repeat", NULL);
    assert_int_equal(num(t, 0, "buyers"), 14);
    assert_int_equal(num(t, 0, "repeat_buyers"), 8);
    assert_int_equal(num(t, 0, "rate"), 571429);
    patron_report_free(t);
    struct patron_report_options o = {.from = midnight(2026, 3, 1)};
    t = run(w, "repeat", &o);
    assert_int_equal(num(t, 0, "buyers"), 5);
    assert_int_equal(num(t, 0, "repeat_buyers"), 1);
    assert_int_equal(num(t, 0, "rate"), 200000);
    patron_report_free(t);
}

/* Jan cohort (10): 100%, 60%, 30%, 10%, 10%, then June (the current month, not over) and the
 * months to come are empty. Feb (5): 80%, 0, 40%, 0. Mar (4): nothing. */
static void retention_follows_each_cohort(void **state)
{
    struct world *w = *state;
    struct patron_report_options o = {.cohorts = 6, .months = 8};
    struct patron_report_table *t = run(w, "retention", &o);
    assert_int_equal(t->n_rows, 6);
    assert_string_equal(text(t, 0, "cohort"), "2026-01");
    assert_int_equal(num(t, 0, "members"), 10);
    static const int64_t jan[] = {1000000, 600000, 300000, 100000, 100000};
    for (size_t k = 0; k < 5; k++)
        assert_int_equal(patron_report_cell(t, 0, 2 + k)->i, jan[k]);
    assert_int_equal(patron_report_cell(t, 0, 2 + 5)->kind, PATRON_CELL_NULL); /* June: not over */
    static const int64_t feb[] = {800000, 0, 400000, 0};
    assert_int_equal(num(t, 1, "members"), 5);
    for (size_t k = 0; k < 4; k++)
        assert_int_equal(patron_report_cell(t, 1, 2 + k)->i, feb[k]);
    assert_int_equal(patron_report_cell(t, 1, 2 + 4)->kind, PATRON_CELL_NULL);
    assert_int_equal(num(t, 2, "members"), 4);
    assert_int_equal(num(t, 2, "m0"), 0);
    assert_int_equal(num(t, 5, "members"), 0); /* June: no one enrolled */
    patron_report_free(t);
}

/* 28 sales of 1000 = 28000 over 19 members (1473 each, rounded down) and 14 buyers (2000). */
static void clv_is_spend_per_member_so_far(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = run(w, "clv", NULL);
    assert_int_equal(num(t, 0, "members"), 19);
    assert_int_equal(num(t, 0, "buyers"), 14);
    assert_int_equal(num(t, 0, "spend"), 28000);
    assert_int_equal(num(t, 0, "clv"), 1473);
    assert_int_equal(num(t, 0, "clv_per_buyer"), 2000);
    patron_report_free(t);
}

/* Recency (days): A0 5; B0,B1 56; A1,A2 87; A3-A5,B2,B3 115; A6-A9 146 -> R 5,4,4,2,1.
 * Frequency: A0 6; A1,A2 3; A3-A5,B0,B1 2; the rest 1 -> F 5,4,3,1. So champions A0,A1,A2;
 * loyal B0,B1; at_risk A3-A5; hibernating B2,B3,A6-A9. */
static void rfm_segments_by_quintiles(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = run(w, "rfm", NULL);
    static const struct {
        const char *segment;
        int64_t members;
    } want[] = {{"champions", 3},       {"loyal", 2},   {"new", 0},
                {"needs_attention", 0}, {"at_risk", 3}, {"hibernating", 6}};
    assert_int_equal(t->n_rows, 6);
    for (size_t i = 0; i < 6; i++) {
        assert_string_equal(text(t, i, "segment"), want[i].segment);
        assert_int_equal(num(t, i, "members"), want[i].members);
    }
    assert_int_equal(num(t, 0, "avg_sales"), 4000000); /* (6 + 3 + 3) / 3 */
    patron_report_free(t);
}

/* Usual gaps: A1,A2 29.5 days, last sale 87 days ago; A3-A5 31 days, 115 days ago: all past
 * twice their gap. A0 (5 days) and B0,B1 (56 < 118) are not; one-sale members have no gap.
 * Longest overdue first: A3-A5 (3.7 gaps) before A1,A2 (2.9 gaps). */
static void churn_lists_the_planted_lapsed_members(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = run(w, "churn", NULL);
    const char *want[] = {w->a[3], w->a[4], w->a[5], w->a[1], w->a[2]};
    assert_int_equal(t->n_rows, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(text(t, i, "card"), want[i]);
    assert_string_equal(text(t, 0, "last_sale"), "2026-02-20");
    assert_int_equal(num(t, 0, "days_since"), 115);
    assert_int_equal(num(t, 0, "usual_gap_days"), 31);
    assert_int_equal(num(t, 3, "days_since"), 87);
    patron_report_free(t);
    struct patron_report_options o = {.limit = 2};
    t = run(w, "churn", &o);
    assert_int_equal(t->n_rows, 2);
    patron_report_free(t);
    /* An erased member is no one to win back. */
    assert_int_equal(patron_member_erase(w->t.s, w->a[3], "admin"), 0);
    t = run(w, "churn", NULL);
    assert_int_equal(t->n_rows, 4);
    assert_string_equal(text(t, 0, "card"), w->a[4]);
    patron_report_free(t);
}

static void formats_csv_and_svg(void **state)
{
    struct world *w = *state;
    struct patron_report_options o = {.cohorts = 3, .months = 4};
    struct patron_report_table *t = run(w, "retention", &o);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_CSV, f), 0);
    fclose(f);
    assert_string_equal(buf, "cohort,members,m0,m1,m2,m3\r\n"
                             "2026-04,0,,,,\r\n"
                             "2026-05,0,,,,\r\n"
                             "2026-06,0,,,,\r\n");
    free(buf);
    f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_SVG, f), 0);
    fclose(f);
    assert_memory_equal(buf, "<?xml", 5);
    assert_non_null(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(buf, ">2026-05</text>"));
    assert_non_null(strstr(buf, "</svg>\n"));
    free(buf);
    patron_report_free(t);
    t = run(w, "clv", NULL);
    f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_SVG, f), PATRON_EINVAL);
    fclose(f);
    free(buf);
    patron_report_free(t);
}

static void csv_fields_are_quoted_per_rfc4180(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(patron_csv_field(f, "plain"), 0);
    fputc(',', f);
    assert_int_equal(patron_csv_field(f, "a,b"), 0);
    fputc(',', f);
    assert_int_equal(patron_csv_field(f, "say \"hi\""), 0);
    fputc(',', f);
    assert_int_equal(patron_csv_field(f, "two\r\nlines"), 0);
    fputc(',', f);
    assert_int_equal(patron_csv_field(f, NULL), 0);
    fclose(f);
    assert_string_equal(buf, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",");
    free(buf);
}

/* The reports' own calendar arithmetic agrees with gmtime and timegm, 1901 to 2200. */
static void months_agree_with_the_c_library(void **state)
{
    (void)state;
    for (int64_t t = INT64_C(-2145916800); t < INT64_C(7258118400); t += 3600 * 37 + 17) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        int64_t m = patron__month_of(t);
        assert_int_equal(m, (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon);
        struct tm first = {.tm_year = tm.tm_year, .tm_mon = tm.tm_mon, .tm_mday = 1};
        assert_int_equal(patron__month_start(m), (int64_t)timegm(&first));
    }
}

/* Offers: VIP members V0-V3 (a segment) get a 5-point bonus on every sale from Feb 1 to Mar 1;
 * in that window each VIP buys three times (12 sales, 3 per member) and each of R0-R5 once
 * (6 sales, 1 per member): uplift 3 / 1 - 1 = 2.0. A second offer open to everyone has no
 * untargeted group and so no uplift. */
static void offers_report_uses_and_uplift(void **state)
{
    (void)state;
    struct world w = {0};
    char v[4][14], r[6][14];
    int64_t vip_offer, all_offer;
    test_store_open(&w.t);
    enroll_at(&w, day(2026, 1, 10), v, 4, "V");
    enroll_at(&w, day(2026, 1, 10), r, 6, "R");
    for (int i = 0; i < 4; i++)
        assert_int_equal(patron_segment_add(w.t.s, "vip", v[i]), 0);
    struct patron_offer_def vip = {.name = "VIP bonus",
                                   .segment = "vip",
                                   .benefit = PATRON_BENEFIT_BONUS,
                                   .benefit_value = 5,
                                   .valid_from = midnight(2026, 2, 1),
                                   .valid_to = midnight(2026, 3, 1)};
    struct patron_offer_def all = {.name = "Spring for all",
                                   .benefit = PATRON_BENEFIT_BONUS,
                                   .benefit_value = 1,
                                   .valid_from = midnight(2026, 4, 1),
                                   .valid_to = midnight(2026, 5, 1)};
    assert_int_equal(patron_offer_add(w.t.s, &vip, &vip_offer), 0);
    assert_int_equal(patron_offer_add(w.t.s, &all, &all_offer), 0);
    for (int d = 0; d < 3; d++)
        for (int i = 0; i < 4; i++)
            sell(&w, v[i], day(2026, 2, 5 + d));
    for (int i = 0; i < 6; i++)
        sell(&w, r[i], day(2026, 2, 10));
    sell(&w, r[0], day(2026, 3, 10)); /* after the window: not counted */
    sell(&w, r[1], day(2026, 4, 10));
    w.t.now = day(2026, 6, 15);
    struct patron_report_table *t = run(&w, "offers", NULL);
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(text(t, 0, "name"), "VIP bonus");
    assert_int_equal(num(t, 0, "uses"), 12);
    assert_int_equal(num(t, 0, "members"), 4);
    assert_int_equal(num(t, 0, "points"), 60);
    assert_int_equal(num(t, 0, "vouchers"), 0);
    assert_int_equal(num(t, 0, "redeemed"), 12);
    assert_int_equal(num(t, 0, "targeted"), 4);
    assert_int_equal(num(t, 0, "sales_per_targeted"), 3000000);
    assert_int_equal(num(t, 0, "sales_per_untargeted"), 1000000);
    assert_int_equal(num(t, 0, "uplift"), 2000000);
    assert_int_equal(num(t, 1, "uses"), 1);
    assert_int_equal(patron_report_cell(t, 1, 9)->kind, PATRON_CELL_NULL); /* no untargeted */
    assert_int_equal(patron_report_cell(t, 1, (size_t)patron_report_col(t, "uplift"))->kind,
                     PATRON_CELL_NULL);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* Offers by tier: members of the tier or a higher one are targeted, erased members are in
 * neither group. Gold (100 points) and Platinum (500): L0 and L1 stay in the base tier, G0
 * reaches Gold and P0 Platinum in January, G1 reaches Gold and is erased. In February's window
 * G0 and P0 buy twice, L0, L1 and G1 once. Gold or above: 2 targeted at 2 sales each, 2 not at
 * 1, uplift 1.0; Platinum: P0 at 2, the 3 others at 4 / 3, uplift 0.5. */
static void offers_report_targets_a_tier_and_those_above(void **state)
{
    (void)state;
    struct world w = {0};
    char l[2][14], g[2][14], p[1][14];
    int64_t gold_offer, platinum_offer;
    test_store_open(&w.t);
    assert_int_equal(patron_tier_set(w.t.s, "Gold", 100, 1000, "test"), 0);
    assert_int_equal(patron_tier_set(w.t.s, "Platinum", 500, 1000, "test"), 0);
    enroll_at(&w, day(2026, 1, 10), l, 2, "L");
    enroll_at(&w, day(2026, 1, 10), g, 2, "G");
    enroll_at(&w, day(2026, 1, 10), p, 1, "P");
    assert_int_equal(sell_of(&w, g[0], 10000, day(2026, 1, 20)), 100);
    assert_int_equal(sell_of(&w, g[1], 10000, day(2026, 1, 20)), 100);
    assert_int_equal(sell_of(&w, p[0], 50000, day(2026, 1, 20)), 500);
    struct patron_offer_def gold = {.name = "Gold club",
                                    .tier = "Gold",
                                    .benefit = PATRON_BENEFIT_BONUS,
                                    .benefit_value = 5,
                                    .valid_from = midnight(2026, 2, 1),
                                    .valid_to = midnight(2026, 3, 1)};
    struct patron_offer_def platinum = gold;
    platinum.name = "Platinum club";
    platinum.tier = "Platinum";
    assert_int_equal(patron_offer_add(w.t.s, &gold, &gold_offer), 0);
    assert_int_equal(patron_offer_add(w.t.s, &platinum, &platinum_offer), 0);
    for (int d = 0; d < 2; d++) {
        sell(&w, g[0], day(2026, 2, 5 + d));
        sell(&w, p[0], day(2026, 2, 5 + d));
    }
    sell(&w, l[0], day(2026, 2, 10));
    sell(&w, l[1], day(2026, 2, 10));
    sell(&w, g[1], day(2026, 2, 10));
    assert_int_equal(patron_member_erase(w.t.s, g[1], "admin"), 0);
    w.t.now = day(2026, 6, 15);
    struct patron_report_table *t = run(&w, "offers", NULL);
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(text(t, 0, "name"), "Gold club");
    assert_int_equal(num(t, 0, "targeted"), 2);
    assert_int_equal(num(t, 0, "sales_per_targeted"), 2000000);
    assert_int_equal(num(t, 0, "sales_per_untargeted"), 1000000);
    assert_int_equal(num(t, 0, "uplift"), 1000000);
    assert_string_equal(text(t, 1, "name"), "Platinum club");
    assert_int_equal(num(t, 1, "targeted"), 1);
    assert_int_equal(num(t, 1, "sales_per_targeted"), 2000000);
    assert_int_equal(num(t, 1, "sales_per_untargeted"), 1333333);
    assert_int_equal(num(t, 1, "uplift"), 500000);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* Feedback: January 5, 4 and 2 (average 3.67, two of three satisfied, one unhappy); no answers
 * in February; March a 1. */
static void satisfaction_trend_per_month(void **state)
{
    (void)state;
    struct world w = {0};
    char m[3][14];
    int64_t id;
    test_store_open(&w.t);
    enroll_at(&w, day(2026, 1, 5), m, 3, "F");
    static const int scores[] = {5, 4, 2};
    for (int i = 0; i < 3; i++) {
        sell(&w, m[i], day(2026, 1, 20));
        char ref[32];
        snprintf(ref, sizeof ref, "S%d", w.serial);
        struct patron_feedback fb = {.card = m[i], .score = scores[i], .sale_ref = ref};
        assert_int_equal(patron_feedback_record(w.t.s, &fb, &id), 0);
    }
    w.t.now = day(2026, 3, 3);
    struct patron_feedback late = {.card = m[0], .score = 1, .comment = "queue too long"};
    assert_int_equal(patron_feedback_record(w.t.s, &late, &id), 0);
    struct patron_report_options o = {.from = midnight(2026, 1, 1), .to = midnight(2026, 4, 1)};
    struct patron_report_table *t = run(&w, "satisfaction", &o);
    assert_int_equal(t->n_rows, 3);
    assert_int_equal(num(t, 0, "responses"), 3);
    assert_int_equal(num(t, 0, "avg_score"), 3666667);
    assert_int_equal(num(t, 0, "satisfied"), 666667);
    assert_int_equal(num(t, 0, "unhappy"), 333333);
    assert_int_equal(num(t, 1, "responses"), 0);
    assert_int_equal(patron_report_cell(t, 1, 2)->kind, PATRON_CELL_NULL);
    assert_int_equal(num(t, 2, "avg_score"), 1000000);
    assert_int_equal(num(t, 2, "unhappy"), 1000000);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_SVG, f), 0);
    fclose(f);
    /* January and March have answers, February none: two dots and no line across the gap. */
    assert_null(strstr(buf, "<polyline"));
    const char *dot = strstr(buf, "<circle");
    assert_non_null(dot);
    assert_non_null(dot = strstr(dot + 1, "<circle"));
    assert_null(strstr(dot + 1, "<circle"));
    free(buf);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* Partner vouchers honoured here, planted in the register: the bakery's two money vouchers
 * (500 + 300 off) and one item voucher, the florist's one; the shop's own voucher is not a
 * partner's. */
static void partners_count_vouchers_honoured(void **state)
{
    (void)state;
    struct world w = {0};
    struct patron_report_table *t;
    test_store_open(&w.t);
    w.t.now = day(2026, 6, 15);
    assert_int_equal(
        sqlite3_exec(
            patron_store_sqlite(w.t.s),
            "INSERT INTO keys(key_id, kind, status, partner, chain_id, public_key, created_at)"
            " VALUES (901, 'partner', 'verify', 'Bakery', printf('%032d', 1), zeroblob(32), 0),"
            " (902, 'partner', 'verify', 'Florist', printf('%032d', 2), zeroblob(32), 0);"
            "INSERT INTO voucher_redemptions(key_id, voucher_id, kind, value, currency, member_id,"
            " store_id, till, ref, offline, redeemed_at, record) VALUES"
            " (901, 1, 0, 500, 978, 1, 1, 't', 'a', 0, 1780000000, zeroblob(100)),"
            " (901, 2, 0, 300, 978, 2, 1, 't', 'b', 0, 1780000100, zeroblob(100)),"
            " (901, 3, 2, 7, 978, 2, 1, 't', 'c', 0, 1780000200, zeroblob(100)),"
            " (902, 4, 0, 1000, 978, 3, 1, 't', 'd', 0, 1780000300, zeroblob(100)),"
            " ((SELECT MIN(key_id) FROM keys WHERE kind = 'own'), 5, 0, 999, 978, 3, 1, 't', 'e',"
            " 0, 1780000400, zeroblob(100));",
            NULL, NULL, NULL),
        SQLITE_OK);
    t = run(&w, "partners", NULL);
    assert_int_equal(t->n_rows, 2);
    assert_string_equal(text(t, 0, "partner"), "Bakery");
    assert_int_equal(num(t, 0, "vouchers_honoured"), 3);
    assert_int_equal(num(t, 0, "amount_honoured"), 800);
    assert_int_equal(num(t, 0, "members"), 2);
    assert_string_equal(text(t, 1, "partner"), "Florist");
    assert_int_equal(num(t, 1, "amount_honoured"), 1000);
    patron_report_free(t);
    test_store_close(&w.t);
}

static void bad_names_and_options_are_refused(void **state)
{
    struct world *w = *state;
    struct patron_report_table *t = NULL;
    struct patron_report_options bad_period = {.from = day(2026, 5, 1), .to = day(2026, 4, 1)};
    struct patron_report_options too_many = {.cohorts = 500};
    assert_int_equal(patron_report_run(w->t.s, "nonsense", NULL, &t), PATRON_ENOTFOUND);
    assert_int_equal(patron_report_run(w->t.s, "repeat", &bad_period, &t), PATRON_EINVAL);
    assert_int_equal(patron_report_run(w->t.s, "retention", &too_many, &t), PATRON_EINVAL);
    assert_null(t);
}

/* The program: `patron report liability --json` has points, value and currency; --csv works;
 * --svg writes a chart. */
static void cli_prints_reports(void **state)
{
    struct world *w = *state;
    char out[8192], svg[400];
    snprintf(svg, sizeof svg, "%s/expiring.svg", w->t.dir);
    patron_store_close(w->t.s); /* the program opens the file itself */
    w->t.s = NULL;
    assert_int_equal(test_run_patron(out, sizeof out, "--db", w->t.path, "--now",
                                     "2026-06-15T10:00:00Z", "--json", "report", "liability",
                                     (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"points\":260"));
    assert_non_null(strstr(out, "\"currency\":\"EUR\""));
    assert_non_null(strstr(out, "\"value\":"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", w->t.path, "--now",
                                     "2026-06-15T10:00:00Z", "report", "expiring", "--csv", "--svg",
                                     svg, (char *)NULL),
                     0);
    assert_non_null(strstr(out, "2027-01,90,90,"));
    FILE *f = fopen(svg, "r");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", w->t.path, "report", "nope", (char *)NULL), 3);
    assert_int_equal(patron_store_open(w->t.path, &w->t.s), 0);
}

/* The current month is not over, so no cohort has a share for it yet (A0 bought in June, but
 * June is not done); a cohort without members has no share at all. The text shows "-" for
 * both, never 0.0%. */
static void retention_leaves_the_current_month_and_empty_cohorts_empty(void **state)
{
    struct world *w = *state;
    struct patron_report_options o = {.cohorts = 6, .months = 6};
    struct patron_report_table *t = run(w, "retention", &o);
    for (size_t r = 0; r < t->n_rows; r++) /* June is m5 of January, m4 of February... */
        assert_int_equal(patron_report_cell(t, r, 2 + 5 - r)->kind, PATRON_CELL_NULL);
    for (size_t r = 3; r < 6; r++) { /* April, May, June: no one enrolled */
        assert_int_equal(num(t, r, "members"), 0);
        for (size_t k = 0; k < 6; k++)
            assert_int_equal(patron_report_cell(t, r, 2 + k)->kind, PATRON_CELL_NULL);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_TEXT, f), 0);
    fclose(f);
    const char *jan = strstr(buf, "\n2026-01"), *april = strstr(buf, "\n2026-04");
    assert_non_null(jan);
    assert_non_null(april);
    assert_null(strchr(april, '%')); /* April to June: no rates at all */
    const char *eol = strchr(jan + 1, '\n');
    assert_int_equal(eol[-1], '-'); /* January's m5 is June, not over */
    free(buf);
    patron_report_free(t);
}

/* The labels of the value axis, in order, joined by commas. */
static void ticks(const char *svg, char *out, size_t cap)
{
    static const char mark[] = "text-anchor=\"end\">";
    out[0] = '\0';
    for (const char *p = strstr(svg, mark); p; p = strstr(p, mark)) {
        p += strlen(mark);
        const char *end = strchr(p, '<');
        assert_non_null(end);
        snprintf(out + strlen(out), cap - strlen(out), "%s%.*s", out[0] ? "," : "", (int)(end - p),
                 p);
    }
}

static char *svg_of(const struct patron_report_table *t)
{
    /* static: the stream writes them at fclose, which gcc cannot follow from locals */
    static char *buf;
    static size_t len;
    buf = NULL;
    len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_SVG, f), 0);
    fclose(f);
    return buf;
}

/* A chart table as a report makes it: column 0 month labels from 2020-01, column 1 the values. */
static struct patron_report_table *series_table(struct world *w, const char *name, const int64_t *v,
                                                size_t n, int ratio)
{
    static const char *const cols[] = {"month", "value", NULL};
    struct patron_report_table *t = NULL;
    assert_int_equal(patron__table_new(w->t.s, name, "Test", cols, &t), 0);
    t->chart_col = 1;
    for (size_t i = 0; i < n; i++) {
        char label[8];
        size_t row;
        assert_int_equal(patron__table_add_row(w->t.s, t, &row), 0);
        patron__month_label(2020 * 12 + (int64_t)i, label);
        assert_int_equal(patron__table_text(t, row, 0, label), 0);
        if (ratio)
            patron__table_ratio(t, row, 1, v[i], 1000000);
        else
            patron__table_int(t, row, 1, v[i]);
    }
    return t;
}

/* The value axis steps by 1, 2 or 5 times a power of ten, from zero to past the largest value,
 * each tick labelled with its exact value. */
static void chart_axes_take_nice_steps(void **state)
{
    struct world *w = *state;
    static const struct {
        int64_t v[3];
        int ratio;
        const char *ticks;
    } cases[] = {
        {{0, 315, 120}, 0, "0,100,200,300,400"},
        {{7, 3, 0}, 0, "0,2,4,6,8"},
        {{0, 0, 0}, 0, "0,1,2,3,4,5"},
        {{70000, 20000, 0}, 1, "0%,2%,4%,6%,8%"},
        {{12300, 0, 5000}, 1, "0.0%,0.5%,1.0%,1.5%"},
        {{1000000, 250000, 0}, 1, "0%,20%,40%,60%,80%,100%"},
        {{90000000, 12345678, 0}, 0, "0,20000000,40000000,60000000,80000000,100000000"},
    };
    char got[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct patron_report_table *t = series_table(w, cases[i].ratio ? "redemption" : "expiring",
                                                     cases[i].v, 3, cases[i].ratio);
        char *svg = svg_of(t);
        ticks(svg, got, sizeof got);
        assert_string_equal(got, cases[i].ticks);
        free(svg);
        patron_report_free(t);
    }
}

/* One month of feedback: the average is a dot on an axis that runs 1 to 5, whole steps. */
static void satisfaction_chart_shows_one_month_on_a_1_to_5_axis(void **state)
{
    (void)state;
    struct world w = {0};
    char m[2][14];
    int64_t id;
    test_store_open(&w.t);
    enroll_at(&w, day(2026, 6, 2), m, 2, "F");
    static const int scores[] = {3, 5};
    for (int i = 0; i < 2; i++) {
        struct patron_feedback fb = {.card = m[i], .score = scores[i]};
        assert_int_equal(patron_feedback_record(w.t.s, &fb, &id), 0);
    }
    struct patron_report_options o = {.from = midnight(2026, 6, 1)};
    struct patron_report_table *t = run(&w, "satisfaction", &o);
    assert_int_equal(t->n_rows, 1);
    char *svg = svg_of(t), got[256];
    ticks(svg, got, sizeof got);
    assert_string_equal(got, "1,2,3,4,5");
    /* 4 on 1..5 is 3/4 of the way up the 270-pixel plot, whose foot is at 310. */
    assert_non_null(strstr(svg, "<circle cx=\"385.0\" cy=\"107.5\""));
    free(svg);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* A gap in the line where a month has no answers: two polylines, no segment across the gap. */
static void satisfaction_line_breaks_at_months_without_answers(void **state)
{
    (void)state;
    struct world w = {0};
    char m[1][14];
    int64_t id;
    test_store_open(&w.t);
    enroll_at(&w, day(2026, 1, 2), m, 1, "F");
    static const int month[] = {1, 2, 4, 5};
    for (int i = 0; i < 4; i++) {
        w.t.now = day(2026, month[i], 3);
        struct patron_feedback fb = {.card = m[0], .score = 5};
        assert_int_equal(patron_feedback_record(w.t.s, &fb, &id), 0);
    }
    struct patron_report_options o = {.from = midnight(2026, 1, 1), .to = midnight(2026, 6, 1)};
    struct patron_report_table *t = run(&w, "satisfaction", &o);
    char *svg = svg_of(t);
    const char *first = strstr(svg, "<polyline");
    assert_non_null(first);
    assert_non_null(strstr(first + 1, "<polyline"));
    assert_null(strstr(strstr(first + 1, "<polyline") + 1, "<polyline"));
    free(svg);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* x labels never overlap: upright ones are a label's width apart (6.1 px a character at 11 px,
 * the width of a digit), slanted ones a line apart; a long series shows every k-th. */
static void chart_x_labels_do_not_overlap(void **state)
{
    struct world *w = *state;
    static const size_t lengths[] = {3, 12, 24, 60, 120};
    int64_t v[120] = {0};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        struct patron_report_table *t = series_table(w, "expiring", v, lengths[i], 0);
        char *svg = svg_of(t);
        double last = -1e9;
        size_t shown = 0;
        for (const char *p = strstr(svg, "<text x=\""); p; p = strstr(p + 1, "<text x=\"")) {
            double x, y;
            assert_int_equal(sscanf(p, "<text x=\"%lf\" y=\"%lf\"", &x, &y), 2);
            if (y < 320) /* the title and the value axis's ticks */
                continue;
            const char *rotate = strstr(p, "rotate(");
            int slanted = rotate && rotate < strchr(p, '>');
            if (shown++ > 0)
                assert_true(x - last >= (slanted ? 15.0 : 6.1 * 7));
            last = x;
        }
        assert_true(shown >= lengths[i] / 4 && shown <= lengths[i]);
        free(svg);
        patron_report_free(t);
    }
}

/* Every report either draws its chart (the table says which, and patron_report_chart_of says
 * the same before it runs) or is refused with --svg before the file is touched. The chart is
 * written whole beside the file and renamed over it: nothing else is left in the directory. */
static void cli_svg_draws_or_refuses_before_touching_the_file(void **state)
{
    struct world *w = *state;
    char out[8192], path[400];
    snprintf(path, sizeof path, "%s/chart.svg", w->t.dir);
    for (size_t i = 0; patron_report_names[i]; i++) {
        struct patron_report_table *t = run(w, patron_report_names[i], NULL);
        assert_int_equal(t->chart, patron_report_chart_of(patron_report_names[i]));
        patron_report_free(t);
    }
    patron_store_close(w->t.s);
    w->t.s = NULL;
    for (size_t i = 0; patron_report_names[i]; i++) {
        const char *name = patron_report_names[i];
        FILE *f = fopen(path, "w");
        fputs("the chart of yesterday\n", f);
        fclose(f);
        int status =
            test_run_patron(out, sizeof out, "--db", w->t.path, "--now", "2026-06-15T10:00:00Z",
                            "report", name, "--svg", path, (char *)NULL);
        char got[64] = "";
        f = fopen(path, "r");
        assert_non_null(f);
        assert_non_null(fgets(got, sizeof got, f));
        fclose(f);
        if (patron_report_chart_of(name) == PATRON_CHART_NONE) {
            assert_int_equal(status, 64);
            assert_string_equal(got, "the chart of yesterday\n");
        } else {
            assert_int_equal(status, 0);
            assert_memory_equal(got, "<?xml", 5);
        }
        struct dirent *e;
        DIR *d = opendir(w->t.dir);
        assert_non_null(d);
        while ((e = readdir(d)) != NULL)
            assert_null(strstr(e->d_name, "chart.svg."));
        closedir(d);
    }
    assert_int_equal(patron_store_open(w->t.path, &w->t.s), 0);
}

/* The offers report takes every offer that ran, not the first 64: 70 offers over one day's
 * windows, half for the VIP segment (V0-V3) and half for everyone; each one's sales per member
 * agree with a count by hand of the sales inside its window. The last is ended before its
 * window opened: no sales at all. */
static void offers_report_takes_every_offer_that_ran(void **state)
{
    (void)state;
    struct world w = {0};
    char v[4][14], r[5][14];
    test_store_open(&w.t);
    enroll_at(&w, day(2026, 1, 10), v, 4, "V");
    enroll_at(&w, day(2026, 1, 10), r, 5, "R");
    for (int i = 0; i < 4; i++)
        assert_int_equal(patron_segment_add(w.t.s, "vip", v[i]), 0);
    int64_t base = midnight(2026, 3, 1), start[70], id;
    for (int k = 0; k < 70; k++) {
        char name[32];
        snprintf(name, sizeof name, "Offer %d", k);
        start[k] = base + k * 600;
        struct patron_offer_def d = {.name = name,
                                     .segment = k % 2 ? NULL : "vip",
                                     .benefit = PATRON_BENEFIT_BONUS,
                                     .benefit_value = 1,
                                     .valid_from = start[k],
                                     .valid_to = start[k] + 4 * 3600};
        assert_int_equal(patron_offer_add(w.t.s, &d, &id), 0);
    }
    assert_int_equal(patron_offer_end(w.t.s, 70, "owner"), 0); /* before its window opened */
    int64_t at[20];
    int vip[20];
    for (int i = 0; i < 20; i++) { /* every 25 minutes from 00:05, VIPs and others in turn */
        at[i] = base + 300 + i * 1500;
        vip[i] = i % 3 != 2;
        char ref[16];
        snprintf(ref, sizeof ref, "S%d", i);
        struct patron_sale in = {.card = vip[i] ? v[i % 4] : r[i % 5],
                                 .ref = ref,
                                 .total_minor = 1000,
                                 .idempotency_key = ref};
        struct patron_sale_result res;
        w.t.now = at[i];
        assert_int_equal(patron_sale_record(w.t.s, &in, &res), 0);
    }
    w.t.now = day(2026, 6, 15);
    struct patron_report_table *t = run(&w, "offers", NULL);
    assert_int_equal(t->n_rows, 70);
    for (int k = 0; k < 70; k++) {
        int64_t in_vip = 0, in_other = 0;
        for (int i = 0; i < 20 && k != 69; i++)
            if (at[i] >= start[k] && at[i] < start[k] + 4 * 3600)
                *(vip[i] ? &in_vip : &in_other) += 1;
        assert_int_equal(num(t, (size_t)k, "offer_id"), k + 1);
        if (k % 2 == 0) {
            assert_int_equal(num(t, (size_t)k, "targeted"), 4);
            assert_int_equal(num(t, (size_t)k, "sales_per_targeted"), in_vip * 250000);
            assert_int_equal(num(t, (size_t)k, "sales_per_untargeted"), in_other * 200000);
        } else {
            assert_int_equal(num(t, (size_t)k, "targeted"), 9);
            assert_int_equal(num(t, (size_t)k, "sales_per_targeted"),
                             ((in_vip + in_other) * 1000000 + 4) / 9);
        }
    }
    patron_report_free(t);
    test_store_close(&w.t);
}

/* A table of `rows` rows of every kind of cell (text with a comma, a quote and a line break,
 * an empty cell); the first row stands for the report when `summary`. */
static struct patron_report_table *mixed_table(size_t rows, int summary)
{
    static const char *const cols[] = {"id", "name", "share", "average", "later"};
    struct patron_report_table *t = calloc(1, sizeof *t);
    assert_non_null(t);
    snprintf(t->name, sizeof t->name, "mixed");
    snprintf(t->title, sizeof t->title, "Mixed \"cells\"");
    snprintf(t->currency, sizeof t->currency, "EUR");
    t->n_cols = 5;
    t->summary = summary;
    for (size_t c = 0; c < 5; c++)
        snprintf(t->cols[c], sizeof t->cols[c], "%s", cols[c]);
    t->cells = calloc(rows * 5 + 1, sizeof *t->cells);
    assert_non_null(t->cells);
    t->n_rows = t->cap_rows = rows;
    for (size_t r = 0; r < rows; r++) {
        char text[48];
        struct patron_cell *c = &t->cells[r * 5];
        snprintf(text, sizeof text, "member %zu, \"A\"\nnext", r);
        c[0] = (struct patron_cell){.kind = PATRON_CELL_INT, .i = (int64_t)r - 3};
        c[1] = (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = strdup(text)};
        c[2] = (struct patron_cell){.kind = PATRON_CELL_RATIO, .i = (int64_t)r * 12345 - 99};
        c[3] = (struct patron_cell){.kind = PATRON_CELL_DECIMAL, .i = 2500000 + (int64_t)r};
        c[4] = (struct patron_cell){.kind = PATRON_CELL_NULL};
    }
    return t;
}

/* The JSON of a table as one jansson tree, dumped whole: how the reports were written before
 * they were written a row at a time, and so the bytes they must keep. */
static char *tree_json(const struct patron_report_table *t)
{
    json_t *o = json_object(), *cols = json_array(), *rows = json_array();
    json_object_set_new(o, "report", json_string(t->name));
    json_object_set_new(o, "title", json_string(t->title));
    for (size_t c = 0; c < t->n_cols; c++)
        json_array_append_new(cols, json_string(t->cols[c]));
    for (size_t r = 0; r < t->n_rows; r++) {
        json_t *row = json_object();
        for (size_t c = 0; c < t->n_cols; c++) {
            const struct patron_cell *cell = patron_report_cell(t, r, c);
            json_object_set_new(row, t->cols[c],
                                cell->kind == PATRON_CELL_INT    ? json_integer(cell->i)
                                : cell->kind == PATRON_CELL_TEXT ? json_string(cell->text)
                                : cell->kind == PATRON_CELL_NULL
                                    ? json_null()
                                    : json_real((double)cell->i / 1e6));
        }
        if (t->summary && r == 0)
            json_object_update(o, row);
        json_array_append_new(rows, row);
    }
    json_object_set_new(o, "currency", json_string(t->currency));
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "rows", rows);
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static char *written_whole(const struct patron_report_table *t, enum patron_report_format format)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(patron_report_write(t, format, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Rows in one piece: CSV lines (a line break inside quotes is in a field, not a row), or JSON
 * row objects (each starts with the first column's key). */
static size_t rows_in(const char *piece, enum patron_report_format format)
{
    size_t n = 0;
    const char *mark = format == PATRON_REPORT_CSV ? "\r\n" : "{\"id\":";
    for (const char *p = strstr(piece, mark); p; p = strstr(p + 1, mark))
        n++;
    return n;
}

/* Written a piece at a time, a report is the same bytes as written whole (and, as JSON, as the
 * one jansson tree it was once dumped from), each piece holding at most the rows asked for. */
static void reports_are_written_a_few_rows_at_a_time(void **state)
{
    static const enum patron_report_format formats[] = {PATRON_REPORT_CSV, PATRON_REPORT_JSON};
    (void)state;
    for (int summary = 0; summary < 2; summary++) {
        struct patron_report_table *t = mixed_table(1000, summary);
        char *tree = tree_json(t), *whole = written_whole(t, PATRON_REPORT_JSON);
        assert_int_equal(strlen(whole), strlen(tree) + 1);
        assert_memory_equal(whole, tree, strlen(tree));
        assert_string_equal(whole + strlen(tree), "\n");
        free(tree);
        free(whole);
        for (size_t k = 0; k < 2; k++) {
            size_t next = 0, calls = 0, len = 0;
            char *joined = NULL;
            FILE *all = open_memstream(&joined, &len);
            int rc;
            do {
                char *piece = NULL;
                size_t plen = 0;
                FILE *f = open_memstream(&piece, &plen);
                rc = patron_report_write_part(t, formats[k], 7, &next, f);
                assert_int_equal(fclose(f), 0);
                assert_true(rc == 0 || rc == 1);
                /* the CSV head is a line too */
                assert_true(rows_in(piece, formats[k]) <= 7 + (calls == 0 && k == 0));
                fwrite(piece, 1, plen, all);
                free(piece);
                calls++;
            } while (rc == 1);
            assert_int_equal(fclose(all), 0);
            assert_int_equal(calls, 1000 / 7 + 1);
            assert_int_equal(patron_report_write_part(t, formats[k], 7, &next, stdout), 0);
            whole = written_whole(t, formats[k]);
            assert_string_equal(joined, whole);
            free(whole);
            free(joined);
        }
        patron_report_free(t);
    }
}

/* The member reports read each member's facts in one merge of the members (by id) and their
 * sales (by member, from the index alone): the facts it hands over must be those of a plain
 * query per member, whatever the order the sales were made in, with a sale after `until` left
 * out, a member without sales, and an erased one. */
struct facts_seen {
    patron_store *s;
    int64_t until, last_id, visited;
    int sums_only; /* PATRON__FACTS_SUMS: cohort and months left 0 */
};

static int64_t facts_scalar(patron_store *s, const char *sql, int64_t id, int64_t until)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(s), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, until);
    return scalar_of(st);
}

static uint64_t facts_months(patron_store *s, int64_t id, int64_t until, int32_t cohort)
{
    sqlite3_stmt *st;
    uint64_t months = 0;
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(s),
                                        "SELECT created_at FROM sales WHERE member_id = ?1"
                                        " AND created_at < ?2",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, until);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t k = patron__month_of(sqlite3_column_int64(st, 0)) - cohort;
        if (k >= 0 && k < 64)
            months |= UINT64_C(1) << k;
    }
    sqlite3_finalize(st);
    return months;
}

static int facts_check(int64_t id, const struct patron__fact *m, void *arg)
{
    struct facts_seen *f = arg;
    const char *where = " FROM sales WHERE member_id = ?1 AND created_at < ?2";
    char sql[160];
    assert_true(id > f->last_id);
    f->last_id = id;
    f->visited++;
    assert_int_equal(m->created_at,
                     facts_scalar(f->s, "SELECT created_at FROM members WHERE id = ?1", id, 0));
    assert_int_equal(m->erased, facts_scalar(f->s,
                                             "SELECT erased_at IS NOT NULL FROM members"
                                             " WHERE id = ?1",
                                             id, 0));
    snprintf(sql, sizeof sql, "SELECT COUNT(*)%s", where);
    assert_int_equal(m->sales, facts_scalar(f->s, sql, id, f->until));
    snprintf(sql, sizeof sql, "SELECT COALESCE(SUM(total_minor), 0)%s", where);
    assert_int_equal(m->spend, facts_scalar(f->s, sql, id, f->until));
    snprintf(sql, sizeof sql, "SELECT COALESCE(MIN(created_at), 0)%s", where);
    assert_int_equal(m->first_sale, facts_scalar(f->s, sql, id, f->until));
    snprintf(sql, sizeof sql, "SELECT COALESCE(MAX(created_at), 0)%s", where);
    assert_int_equal(m->last_sale, facts_scalar(f->s, sql, id, f->until));
    if (f->sums_only) {
        assert_int_equal(m->cohort, 0);
        assert_true(m->months == 0);
        return 0;
    }
    assert_int_equal(m->cohort, patron__month_of(m->created_at));
    assert_true(m->months == facts_months(f->s, id, f->until, m->cohort));
    return 0;
}

static void assert_plan_covers(patron_store *s, const char *sql, const char *want)
{
    sqlite3_stmt *st;
    char eqp[400], plan[400] = "";
    size_t len = 0;
    snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    assert_int_equal(sqlite3_prepare_v2(patron_store_sqlite(s), eqp, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW && len < sizeof plan)
        len += (size_t)snprintf(plan + len, sizeof plan - len, "%s; ", sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    if (!strstr(plan, want))
        fail_msg("plan '%s' lacks '%s'", plan, want);
}

static void member_facts_match_a_plain_query_per_member(void **state)
{
    struct world *w = *state;
    char late[14];
    int64_t now = w->t.now;
    /* A member enrolled last, buying before the older members buy again, and a sale after now. */
    w->t.now = day(2026, 6, 1);
    test_enroll(&w->t, "Late", late);
    sell(w, late, day(2026, 6, 2));
    sell(w, w->c[0], day(2026, 6, 3));
    sell(w, w->a[3], day(2026, 6, 20));
    w->t.now = now;
    assert_int_equal(sqlite3_exec(patron_store_sqlite(w->t.s),
                                  "UPDATE members SET erased_at = 1 WHERE id = 2", NULL, NULL,
                                  NULL),
                     SQLITE_OK);
    struct facts_seen f = {.s = w->t.s, .until = now + 1};
    assert_int_equal(
        patron__facts_each(w->t.s, f.until, PATRON__FACTS_WITH_MONTHS, facts_check, &f), 0);
    assert_int_equal(f.visited, test_scalar(w->t.s, "SELECT COUNT(*) FROM members"));
    struct facts_seen sums = {.s = w->t.s, .until = now + 1, .sums_only = 1};
    assert_int_equal(patron__facts_each(w->t.s, sums.until, PATRON__FACTS_SUMS, facts_check, &sums),
                     0);
    assert_int_equal(sums.visited, f.visited);
    /* The sales are read from the index alone. */
    assert_plan_covers(w->t.s,
                       "SELECT member_id, created_at, total_minor FROM sales WHERE member_id > 0"
                       " AND created_at < 1 ORDER BY member_id",
                       "COVERING INDEX sales_member");
}

/* The expiring report reads the open lots from the partial index alone, the offers report an
 * offer's uses, the churn list a member's cards (their figures are checked above; here only
 * the plans). */
static void expiring_and_offers_read_an_index_alone(void **state)
{
    struct world *w = *state;
    assert_plan_covers(w->t.s,
                       "SELECT member_id, number, status = 'active', issued_at FROM cards"
                       " INDEXED BY cards_member WHERE member_id > 0 ORDER BY member_id",
                       "COVERING INDEX cards_member");
    assert_plan_covers(w->t.s,
                       "SELECT member_id, points, voucher_id FROM offer_uses"
                       " INDEXED BY offer_uses_member WHERE offer_id = 1 ORDER BY member_id",
                       "COVERING INDEX offer_uses_member");
    assert_plan_covers(w->t.s,
                       "SELECT expires_at, remaining FROM lots INDEXED BY lots_open"
                       " WHERE remaining > 0 AND expires_at IS NOT NULL",
                       "COVERING INDEX lots_open");
}

/* The statements a report ran, each with how many times it ran (SQLITE_TRACE_PROFILE). */
struct runs {
    size_t n;
    char sql[8][400];
    int times[8];
};

static int on_run(unsigned type, void *ctx, void *p, void *x)
{
    struct runs *r = ctx;
    const char *sql = sqlite3_sql(p);
    (void)type;
    (void)x;
    if (!sql)
        return 0;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->sql[i], sql) == 0) {
            r->times[i]++;
            return 0;
        }
    if (r->n < 8) {
        snprintf(r->sql[r->n], sizeof r->sql[0], "%s", sql);
        r->times[r->n++] = 1;
    }
    return 0;
}

static struct patron_report_table *run_traced(struct world *w, const char *name,
                                              const struct patron_report_options *o, struct runs *r)
{
    sqlite3 *db = patron_store_sqlite(w->t.s);
    memset(r, 0, sizeof *r);
    sqlite3_trace_v2(db, SQLITE_TRACE_PROFILE, on_run, r);
    struct patron_report_table *t = run(w, name, o);
    sqlite3_trace_v2(db, 0, NULL, NULL);
    return t;
}

/* Redemption reads the period's earns and redeems from the partial index entries_flows alone,
 * not every entry of the ledger; its figures are the same as before (checked above). */
static void redemption_reads_only_earns_and_redeems_in_time_order(void **state)
{
    struct world *w = *state;
    struct runs r;
    size_t on_entries = 0;
    patron_report_free(run_traced(w, "redemption", NULL, &r));
    for (size_t i = 0; i < r.n; i++) {
        if (!strstr(r.sql[i], "FROM entries"))
            continue;
        on_entries++;
        assert_plan_covers(w->t.s, r.sql[i],
                           "COVERING INDEX entries_flows (kind=? AND created_at>");
    }
    assert_int_equal(on_entries, 2);
}

/* The churn list picks each member's card (the newest active, else the newest; of one second,
 * the first by number) from one pass over the cards in member order, not a look-up a member:
 * the same statements run however many members are listed. Cards are added out of member
 * order, so a member's cards are not together in the table. */
static void churn_reads_the_cards_in_one_pass(void **state)
{
    struct world *w = *state;
    struct runs r;
    sqlite3 *db = patron_store_sqlite(w->t.s);
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT member_id FROM cards WHERE number = '%s'", w->a[3]);
    int64_t a3 = test_scalar(w->t.s, sql);
    snprintf(sql, sizeof sql,
             "INSERT INTO cards(number, member_id, status, issued_at) VALUES"
             " ('9000000000009', %lld, 'active', %lld), ('9000000000001', %lld, 'active', %lld),"
             " ('9000000000005', %lld, 'blocked', %lld), ('9000000000007', %lld, 'active', 1)",
             (long long)a3, (long long)day(2026, 3, 1), (long long)a3, (long long)day(2026, 3, 1),
             (long long)a3, (long long)day(2026, 4, 1), (long long)a3 + 1);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    struct patron_report_table *t = run_traced(w, "churn", NULL, &r);
    assert_int_equal(t->n_rows, 5);
    assert_int_equal(num(t, 0, "member_id"), a3);
    assert_string_equal(text(t, 0, "card"), "9000000000001");
    for (size_t i = 0; i < r.n; i++)
        if (strstr(r.sql[i], "FROM cards")) {
            assert_int_equal(r.times[i], 1);
            assert_plan_covers(w->t.s, r.sql[i], "COVERING INDEX cards_member");
        }
    patron_report_free(t);
    /* Blocked, the member's card is the newest of its cards. */
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE cards SET status = 'blocked'"
                                  " WHERE number LIKE '90000000000%'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE cards SET status = 'blocked' WHERE member_id = %lld",
             (long long)a3);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    t = run(w, "churn", NULL);
    assert_string_equal(text(t, 0, "card"), "9000000000005");
    patron_report_free(t);
}

/* A churn list longer than the window its rows are made in: every cell is the same read
 * forwards, backwards or written out, the order is longest overdue first, and each row's card
 * is its member's. */
static void cell_text_of(const struct patron_report_table *t, size_t r, size_t c, char *buf,
                         size_t cap)
{
    const struct patron_cell *cell = patron_report_cell(t, r, c);
    if (cell->kind == PATRON_CELL_TEXT)
        snprintf(buf, cap, "%s", cell->text);
    else
        snprintf(buf, cap, "%d:%lld", (int)cell->kind, (long long)cell->i);
}

/* A fresh store of n members with two sales each in February 2025, all lapsed by mid-June 2026
 * (each with a usual gap of its own, so the list has an order to keep). */
static void plant_lapsed(struct world *w, char cards[][14], int n)
{
    test_store_open(&w->t);
    enroll_at(w, day(2025, 1, 2), cards, n, "L");
    for (int i = 0; i < n; i++) {
        sell(w, cards[i], day(2025, 2, 1) + i * 3600);
        sell(w, cards[i], day(2025, 2, 1 + 1 + i % 20));
    }
    w->t.now = day(2026, 6, 15);
}

static void churn_rows_are_made_as_they_are_read(void **state)
{
    struct world w = {0};
    enum { N = 150 };
    static char cards[N][14], seen[N][8][24];
    (void)state;
    plant_lapsed(&w, cards, N);
    struct patron_report_table *t = run(&w, "churn", NULL);
    assert_int_equal(t->n_rows, N);
    for (size_t r = 0; r < N; r++)
        for (size_t c = 0; c < t->n_cols; c++)
            cell_text_of(t, r, c, seen[r][c], sizeof seen[r][c]);
    for (size_t r = N; r-- > 0;)
        for (size_t c = t->n_cols; c-- > 0;) {
            char again[24];
            cell_text_of(t, r, c, again, sizeof again);
            assert_string_equal(again, seen[r][c]);
        }
    for (size_t r = 0; r < N; r++) {
        int64_t id = num(t, r, "member_id");
        char sql[96];
        snprintf(sql, sizeof sql,
                 "SELECT COUNT(*) FROM cards WHERE member_id = %lld AND number = '%s'",
                 (long long)id, text(t, r, "card"));
        assert_int_equal(test_scalar(w.t.s, sql), 1);
        if (r > 0) /* days since / usual gap, not increasing */
            assert_true(num(t, r, "days_since") * num(t, r - 1, "usual_gap_days") <=
                        num(t, r - 1, "days_since") * num(t, r, "usual_gap_days") +
                            num(t, r - 1, "days_since"));
    }
    char *whole = NULL, *parts = NULL;
    size_t wn = 0, pn = 0, next = 0;
    FILE *f = open_memstream(&whole, &wn);
    assert_int_equal(patron_report_write(t, PATRON_REPORT_CSV, f), 0);
    fclose(f);
    f = open_memstream(&parts, &pn);
    while (patron_report_write_part(t, PATRON_REPORT_CSV, 7, &next, f) == 1)
        ;
    fclose(f);
    assert_string_equal(whole, parts);
    int lines = 0;
    for (const char *p = whole; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, N + 1);
    free(whole);
    free(parts);
    patron_report_free(t);
    test_store_close(&w.t);
}

/* A report written whole in one format. */
static char *report_written(struct world *w, const char *name, enum patron_report_format format)
{
    struct patron_report_table *t = run(w, name, NULL);
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    assert_int_equal(patron_report_write(t, format, f), 0);
    fclose(f);
    patron_report_free(t);
    return out;
}

/* A churn list longer than the chunk it keeps in memory is set aside in a temporary file, in
 * sorted runs, and read back merged: the same rows in the same order as a list kept whole, in
 * every format, read forwards or backwards. Where no file can be made (TMPDIR names no
 * directory), the report fails and says why; a list within its chunk never needs one. */
static void churn_list_past_its_chunk_is_set_aside_on_disk(void **state)
{
    struct world w = {0};
    enum { N = 150 };
    static const enum patron_report_format formats[] = {PATRON_REPORT_CSV, PATRON_REPORT_JSON,
                                                        PATRON_REPORT_TEXT};
    static char cards[N][14];
    char *kept[3];
    (void)state;
    plant_lapsed(&w, cards, N);
    char *saved = test_tmpdir_unusable();
    for (int i = 0; i < 3; i++)
        kept[i] = report_written(&w, "churn", formats[i]); /* within its chunk: no file */
    patron__report_chunk_bytes = 512;                      /* 9 records: 17 runs */
    struct patron_report_table *t = NULL;
    assert_int_equal(patron_report_run(w.t.s, "churn", NULL, &t), -ENOENT);
    assert_non_null(strstr(patron_store_detail(w.t.s), "temporary file"));
    test_tmpdir_restore(saved);
    for (int i = 0; i < 3; i++) {
        char *merged = report_written(&w, "churn", formats[i]);
        assert_string_equal(merged, kept[i]);
        free(merged);
        free(kept[i]);
    }
    t = run(&w, "churn", NULL);
    assert_int_equal(t->n_rows, N);
    int64_t forwards[N];
    for (size_t r = 0; r < N; r++)
        forwards[r] = num(t, r, "member_id");
    for (size_t r = N; r-- > 0;) /* backwards: the merge starts again for each row */
        assert_int_equal(num(t, r, "member_id"), forwards[r]);
    patron_report_free(t);
    patron__report_chunk_bytes = 0;
    test_store_close(&w.t);
}

/* The reports' in-place sort orders any array, duplicates and all, keeping every element. */
static int cmp_test_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void in_place_sort_orders_and_keeps_every_element(void **state)
{
    enum { N = 1001 };
    static int64_t v[N];
    (void)state;
    /* shuffled with many ties, ascending, descending, all equal, organ pipe */
    for (int shape = 0; shape < 5; shape++)
        for (size_t n = 0; n <= N; n += n < 20 ? 1 : 199) {
            int64_t sum = 0, sorted_sum = 0, squares = 0, sorted_squares = 0;
            uint64_t x = 88172645463325252u;
            for (size_t i = 0; i < n; i++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                int64_t up = (int64_t)i, pipe = (int64_t)(i < n / 2 ? i : n - i);
                v[i] = shape == 0   ? (int64_t)(x % 97) - 40
                       : shape == 1 ? up
                       : shape == 2 ? -up
                       : shape == 3 ? 7
                                    : pipe;
                sum += v[i];
                squares += v[i] * v[i];
            }
            patron__sort(v, n, sizeof v[0], cmp_test_i64);
            for (size_t i = 0; i < n; i++) {
                sorted_sum += v[i];
                sorted_squares += v[i] * v[i];
                if (i > 0)
                    assert_true(v[i - 1] <= v[i]);
            }
            assert_int_equal(sum, sorted_sum);
            assert_int_equal(squares, sorted_squares);
        }
}

/* RFM's scores by four cut points per measure are those of the definition (1 + floor(5 * worse
 * / n), worse counted member by member), on buyers with many ties and uneven groups, whether
 * its lists stay in memory or are set aside in runs of a few buyers (the same report, byte for
 * byte). */
struct rfm_buyers {
    int64_t now, recency[200], sales[200];
    size_t n;
};

static int rfm_take(int64_t id, const struct patron__fact *m, void *arg)
{
    struct rfm_buyers *b = arg;
    (void)id;
    if (!m->erased && m->sales > 0 && b->n < 200) {
        b->recency[b->n] = b->now - m->last_sale;
        b->sales[b->n++] = m->sales;
    }
    return 0;
}

static void rfm_scores_follow_the_definition_with_ties(void **state)
{
    static const char *const names[] = {"champions",       "loyal",   "new",
                                        "needs_attention", "at_risk", "hibernating"};
    struct world w = {0};
    enum { N = 45 };
    static char cards[N][14];
    int64_t want[6] = {0};
    (void)state;
    test_store_open(&w.t);
    enroll_at(&w, day(2025, 1, 2), cards, N, "R");
    for (int i = 0; i < N; i++)
        for (int k = 0; k <= (i * 7) % 5; k++) /* 1 to 5 sales, many alike */
            sell(&w, cards[i], day(2025, 3 + (i % 4) + k, 1 + (i % 3)));
    w.t.now = day(2026, 6, 15);
    struct rfm_buyers b = {.now = w.t.now};
    assert_int_equal(
        patron__facts_each(w.t.s, w.t.now + 1, PATRON__FACTS_WITH_MONTHS, rfm_take, &b), 0);
    assert_int_equal(b.n, N);
    for (size_t i = 0; i < b.n; i++) {
        size_t worse_r = 0, worse_f = 0;
        for (size_t j = 0; j < b.n; j++) {
            worse_r += b.recency[j] > b.recency[i];
            worse_f += b.sales[j] < b.sales[i];
        }
        int r = 1 + (int)(5 * worse_r / b.n), f = 1 + (int)(5 * worse_f / b.n);
        int g = r >= 4   ? (f >= 4   ? 0
                            : f == 3 ? 1
                                     : 2)
                : r == 3 ? (f >= 3 ? 1 : 3)
                         : (f >= 3 ? 4 : 5);
        want[g]++;
    }
    char *kept = report_written(&w, "rfm", PATRON_REPORT_CSV);
    patron__report_chunk_bytes = 64; /* 4 buyers, 16 sales counts: 12 and 3 runs */
    for (int pass = 0; pass < 2; pass++) {
        struct patron_report_table *t = run(&w, "rfm", NULL);
        for (size_t g = 0; g < 6; g++) {
            assert_string_equal(text(t, g, "segment"), names[g]);
            assert_int_equal(num(t, g, "members"), want[g]);
        }
        patron_report_free(t);
        char *merged = report_written(&w, "rfm", PATRON_REPORT_CSV);
        assert_string_equal(merged, kept);
        free(merged);
        patron__report_chunk_bytes = 0;
    }
    free(kept);
    test_store_close(&w.t);
}

/* RFM's buyers past their chunk, where no temporary file can be made: the report fails and
 * says why, and nothing half-made is returned. */
static void rfm_without_a_temporary_file_says_so(void **state)
{
    struct world *w = *state;
    char *saved = test_tmpdir_unusable();
    struct patron_report_table *t = NULL;
    patron__report_chunk_bytes = 32; /* 2 buyers */
    assert_int_equal(patron_report_run(w->t.s, "rfm", NULL, &t), -ENOENT);
    assert_null(t);
    assert_non_null(strstr(patron_store_detail(w->t.s), "the list of buyers is too long"));
    assert_non_null(strstr(patron_store_detail(w->t.s), "/nonexistent/patron"));
    patron__report_chunk_bytes = 0;
    test_tmpdir_restore(saved);
    assert_int_equal(patron_report_run(w->t.s, "rfm", NULL, &t), 0);
    patron_report_free(t);
}

/* The facts pass stops at the first non-zero answer of the function it hands the members to,
 * called from inside SQLite's pass over the sales, and that answer comes back; the pass's SQL
 * function does nothing outside a pass. */
struct facts_stop {
    int64_t members, stop_at;
};

static int facts_stop_at(int64_t id, const struct patron__fact *m, void *arg)
{
    struct facts_stop *f = arg;
    (void)id;
    (void)m;
    return ++f->members == f->stop_at ? PATRON_ETOOBIG : 0;
}

static void facts_pass_stops_when_told(void **state)
{
    struct world *w = *state;
    for (int64_t stop_at = 1; stop_at <= 19; stop_at += 9) { /* A0 (a buyer), B4, C3 (none) */
        struct facts_stop f = {.stop_at = stop_at};
        assert_int_equal(
            patron__facts_each(w->t.s, w->t.now + 1, PATRON__FACTS_SUMS, facts_stop_at, &f),
            PATRON_ETOOBIG);
        assert_int_equal(f.members, stop_at);
    }
    struct patron_report_table *t = run(w, "clv", NULL); /* the handle is fine after */
    assert_int_equal(num(t, 0, "members"), 19);
    patron_report_free(t);
    assert_int_not_equal(sqlite3_exec(patron_store_sqlite(w->t.s),
                                      "SELECT patron_facts_sale(NULL, 1, 2, 3)", NULL, NULL, NULL),
                         SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(liability_is_outstanding_points_and_their_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expiring_buckets_points_by_month, setup, teardown),
        cmocka_unit_test_setup_teardown(redemption_rate_is_redeemed_over_issued, setup, teardown),
        cmocka_unit_test_setup_teardown(redemption_months_follow_a_period_cut_mid_day, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(repeat_rate_counts_members_who_bought_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(retention_follows_each_cohort, setup, teardown),
        cmocka_unit_test_setup_teardown(clv_is_spend_per_member_so_far, setup, teardown),
        cmocka_unit_test_setup_teardown(rfm_segments_by_quintiles, setup, teardown),
        cmocka_unit_test_setup_teardown(churn_lists_the_planted_lapsed_members, setup, teardown),
        cmocka_unit_test_setup_teardown(formats_csv_and_svg, setup, teardown),
        cmocka_unit_test(csv_fields_are_quoted_per_rfc4180),
        cmocka_unit_test(months_agree_with_the_c_library),
        cmocka_unit_test(offers_report_uses_and_uplift),
        cmocka_unit_test(offers_report_targets_a_tier_and_those_above),
        cmocka_unit_test(satisfaction_trend_per_month),
        cmocka_unit_test(partners_count_vouchers_honoured),
        cmocka_unit_test_setup_teardown(bad_names_and_options_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(cli_prints_reports, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_leaves_the_current_month_and_empty_cohorts_empty,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(chart_axes_take_nice_steps, setup, teardown),
        cmocka_unit_test(satisfaction_chart_shows_one_month_on_a_1_to_5_axis),
        cmocka_unit_test(satisfaction_line_breaks_at_months_without_answers),
        cmocka_unit_test_setup_teardown(chart_x_labels_do_not_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(cli_svg_draws_or_refuses_before_touching_the_file, setup,
                                        teardown),
        cmocka_unit_test(offers_report_takes_every_offer_that_ran),
        cmocka_unit_test(reports_are_written_a_few_rows_at_a_time),
        cmocka_unit_test_setup_teardown(member_facts_match_a_plain_query_per_member, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expiring_and_offers_read_an_index_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(redemption_reads_only_earns_and_redeems_in_time_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(churn_reads_the_cards_in_one_pass, setup, teardown),
        cmocka_unit_test(churn_rows_are_made_as_they_are_read),
        cmocka_unit_test(churn_list_past_its_chunk_is_set_aside_on_disk),
        cmocka_unit_test(in_place_sort_orders_and_keeps_every_element),
        cmocka_unit_test(rfm_scores_follow_the_definition_with_ties),
        cmocka_unit_test_setup_teardown(rfm_without_a_temporary_file_says_so, setup, teardown),
        cmocka_unit_test_setup_teardown(facts_pass_stops_when_told, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
