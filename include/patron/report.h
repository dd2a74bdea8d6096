/* SPDX-License-Identifier: MIT */
/* The owner's reports: points liability, points expiring per month, redemption rate,
 * repeat-purchase rate, retention by monthly cohort, customer lifetime value, RFM segments, the
 * churn-risk list, offer performance, the satisfaction trend and partners' figures. Each report is
 * one call that returns a small table (named columns, rows of integers, ratios or text) which the
 * caller prints as text, CSV, JSON or an SVG chart.
 *
 * Definitions, stated once (months are calendar months in UTC; "now" is the store's clock):
 * - liability: outstanding points = the sum of the positive balances of member accounts; their
 *   money value = floor(points * point_value_minor_per_100 / 100) in the program's currency.
 *   Negative balances (possible under the "negative" refund policy) are shown apart, as
 *   `owed_points`, and do not lower the liability.
 * - expiring: the points left in open lots, by the month their lot expires, for the current
 *   month and the months after it (lots already due but not yet expired count in the current
 *   month); value as for liability.
 * - redemption: per month of the period and in total, points redeemed (redeem entries) divided
 *   by points issued (earn entries) in that month; reversals, expiry and adjustments are
 *   neither. The rate is 0 when nothing was issued.
 * - repeat: of the members with at least one sale in the period, the share with two or more.
 * - retention: members are grouped by the month they enrolled (their cohort); cell k of a
 *   cohort is the share of its members with at least one sale in the k-th month after the
 *   enrolment month (k = 0 is the enrolment month itself). Only months that are over have a
 *   share: the current month and those to come are empty, and so is every cell of a cohort
 *   without members.
 * - clv: customer lifetime value, so far = total spend of all sales (gross, as paid, refunds not
 *   deducted) divided by the number of members enrolled, every member counted from enrolment to
 *   now, buyers or not; `clv_per_buyer` divides by members with at least one sale.
 * - rfm: members with at least one sale (erased ones left out) get three scores 1..5:
 *   recency (days since the last sale; more recent scores higher), frequency (number of sales)
 *   and monetary (total spend). A score is 1 + floor(5 * b / n), where n is the number of
 *   members scored and b the number of them strictly worse on that measure, so equal values
 *   share a score. Segments, by recency R and frequency F:
 *     champions R>=4 F>=4; loyal R>=3 F>=3 (not champions); new R>=4 F<=2;
 *     needs_attention R=3 F<=2; at_risk R<=2 F>=3; hibernating R<=2 F<=2.
 * - churn: members (not erased) with at least two sales whose time since their last sale is
 *   more than twice their usual gap, the usual gap being (last sale - first sale) / (sales - 1)
 *   but never less than a day; listed longest-overdue first (days since / usual gap), with the
 *   card to reach them by and their marketing consent. No names: the segment export (consenting
 *   members only) is the way to contact data.
 * - offers: each offer that ran in the period, however many: `uses` (times it was applied at a
 *   sale, its "issued"), `members` who used it, bonus `points`, `vouchers` it issued, and
 *   `redeemed` = uses without a voucher (the benefit was taken at the sale) plus its vouchers
 *   since redeemed. Uplift compares buying during the offer's window (valid_from or creation
 *   to valid_to, its end or now, within the period): `targeted` members are those its tier and
 *   segment targets select (by their tier now; other conditions are triggers at the sale and
 *   are not counted), untargeted the other members (erased ones left out); uplift = (sales per
 *   targeted member) / (sales per untargeted member) - 1, empty for an offer open to everyone.
 * - satisfaction: per month, feedback responses, the average score (1-5), and the shares
 *   satisfied (4-5) and unhappy (1-2); months without answers have no average.
 * - partners: per partner, vouchers signed by their keys and honoured (redeemed) here in the
 *   period, the money off of those with an amount value, members who used them and the last
 *   date. Vouchers this shop issues for partners to honour are not recorded by the voucher
 *   register (no partner column on offers or vouchers), so there is no "issued" figure yet.
 *
 * Reports read one consistent snapshot and never take the write lock, so checkouts go on while
 * they run. Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_REPORT_H
#define PATRON_REPORT_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_REPORT_MAX_COLS 40
#define PATRON_REPORT_MAX_ROWS 2000000
#define PATRON_REPORT_MAX_MEMBERS 20000000 /* reports refuse (ETOOBIG) larger member ids */

enum patron_cell_kind {
    PATRON_CELL_NULL = 0, /* no value (a month still to come) */
    PATRON_CELL_INT,      /* .i */
    PATRON_CELL_RATIO,    /* .i millionths of a share: 250000 is 0.25, shown as 25.0% */
    PATRON_CELL_DECIMAL,  /* .i millionths of a quantity (an average): 2500000 is 2.5 */
    PATRON_CELL_TEXT,     /* .text, owned by the table */
};

struct patron_cell {
    enum patron_cell_kind kind;
    int64_t i;
    char *text;
};

/* How a table is best drawn by patron_report_write_svg(). */
enum patron_chart {
    PATRON_CHART_NONE = 0,
    PATRON_CHART_BARS,    /* column 0 labels, column `chart_col` the bar heights */
    PATRON_CHART_HEATMAP, /* column 0 labels rows, ratio columns from `chart_col` on */
    PATRON_CHART_LINE,    /* column 0 labels, column `chart_col` the line */
};

struct patron_report_table {
    char name[32];
    char title[128];
    char currency[4]; /* of the money columns, "" when there are none */
    size_t n_cols;
    char cols[PATRON_REPORT_MAX_COLS][24];
    size_t n_rows, cap_rows;
    struct patron_cell *cells; /* n_rows * n_cols, row-major */
    int summary; /* 1: one row that stands for the whole report (JSON lifts its fields) */
    enum patron_chart chart;
    size_t chart_col;
    /* The value axis of a bar or line chart runs at least from chart_min to chart_max (in the
     * cells' units, e.g. 1000000..5000000 for scores 1-5); both 0: from 0 to the data. */
    int64_t chart_min, chart_max;
    /* The library's own: for a long list, its rows are made a few at a time as they are read
     * (through patron_report_cell, which every writer uses) rather than held; NULL otherwise. */
    struct patron__rows *rows_made;
};

/* Options shared by the reports; zero means the default. */
struct patron_report_options {
    int64_t from, to; /* period [from, to) in Unix seconds; default: the last 12 calendar
                         months, the current one included, up to now */
    int months;       /* expiring: months shown (default 12); retention: months after
                         enrolment (default 12, at most 36) */
    int cohorts;      /* retention: cohorts shown, the newest last (default 12, at most 120) */
    int64_t limit;    /* churn: at most this many members (default: all) */
};

/* The reports by name, in the order `patron report` lists them; NULL-terminated. */
extern PATRON_EXPORT const char *const patron_report_names[];

/* The chart the report `name` draws as SVG: expiring and rfm are bars, redemption and
 * satisfaction a line, retention a heatmap; PATRON_CHART_NONE for the reports that are tables
 * only (liability, repeat, clv, churn, offers, partners) and for unknown names. Known before the
 * report runs, so that a caller can refuse --svg before it touches any file. */
PATRON_EXPORT enum patron_chart patron_report_chart_of(const char *name);

/* Runs the report `name` (one of patron_report_names). Returns 0 and sets *out, which the caller
 * frees with patron_report_free(); PATRON_ENOTFOUND for an unknown name; PATRON_EINVAL for bad
 * options; PATRON_ETOOBIG past the row or member limits; PATRON_EDB. */
PATRON_EXPORT int patron_report_run(patron_store *s, const char *name,
                                    const struct patron_report_options *o,
                                    struct patron_report_table **out)
    __attribute__((warn_unused_result));

/* The reports one by one (same returns as patron_report_run). */
PATRON_EXPORT int patron_report_liability(patron_store *s, struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_expiring(patron_store *s, const struct patron_report_options *o,
                                         struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_redemption(patron_store *s, const struct patron_report_options *o,
                                           struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_repeat(patron_store *s, const struct patron_report_options *o,
                                       struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_retention(patron_store *s, const struct patron_report_options *o,
                                          struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_clv(patron_store *s, struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_rfm(patron_store *s, struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_churn(patron_store *s, const struct patron_report_options *o,
                                      struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_offers(patron_store *s, const struct patron_report_options *o,
                                       struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_satisfaction(patron_store *s, const struct patron_report_options *o,
                                             struct patron_report_table **out)
    __attribute__((warn_unused_result));
PATRON_EXPORT int patron_report_partners(patron_store *s, const struct patron_report_options *o,
                                         struct patron_report_table **out)
    __attribute__((warn_unused_result));

/* Frees a table; NULL does nothing. */
PATRON_EXPORT void patron_report_free(struct patron_report_table *t);

/* The column index of `name`, or -1. */
PATRON_EXPORT int patron_report_col(const struct patron_report_table *t, const char *name);

/* The cell at (row, col); a NULL cell for indexes out of range. Borrowed from the table. */
PATRON_EXPORT const struct patron_cell *patron_report_cell(const struct patron_report_table *t,
                                                           size_t row, size_t col);

enum patron_report_format {
    PATRON_REPORT_TEXT = 0, /* aligned columns under a title */
    PATRON_REPORT_CSV,      /* RFC 4180: a header line, CRLF line ends, quoted when needed */
    PATRON_REPORT_JSON,     /* {"report", "title", "columns", "rows": [{...}]} (+ the summary
                               row's fields at the top level), one line */
    PATRON_REPORT_SVG,      /* the table's chart as a standalone SVG document */
};

/* Writes the table to `f`. Returns 0, -errno when writing failed, or PATRON_EINVAL for SVG of a
 * table without a chart. */
PATRON_EXPORT int patron_report_write(const struct patron_report_table *t,
                                      enum patron_report_format format, FILE *f)
    __attribute__((warn_unused_result));

/* Writes the table to `f` a piece at a time, for a reply sent while it is written: the first
 * call (with *next 0) writes the head and up to `rows` rows, each later call up to `rows` rows
 * more (0 counts as 1); TEXT and SVG come whole in the first piece. *next is the caller's
 * cursor, 0 to begin, left at SIZE_MAX once the end is written. The pieces put together are
 * the bytes of patron_report_write(), which is this function called until it is done, and
 * nothing is held between calls but the cursor. Returns 1 while there is more to write, 0
 * once the table is written, or what patron_report_write() returns on failure. */
PATRON_EXPORT int patron_report_write_part(const struct patron_report_table *t,
                                           enum patron_report_format format, size_t rows,
                                           size_t *next, FILE *f)
    __attribute__((warn_unused_result));

/* Writes one CSV field per RFC 4180 (quoted when it holds a comma, a quote, CR or LF; quotes
 * doubled). NULL writes an empty field. Returns 0 or -errno. */
PATRON_EXPORT int patron_csv_field(FILE *f, const char *text);

#ifdef __cplusplus
}
#endif
#endif
