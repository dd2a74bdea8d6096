/* SPDX-License-Identifier: MIT */
/* What the reports and the segment export share: building a table, calendar months in UTC, and the
 * per-member facts of one merge of the members with their sales in member order (from the covering
 * index sales_member: no sort, and nothing kept per member). */
#ifndef PATRON_REPORT_INTERNAL_H
#define PATRON_REPORT_INTERNAL_H

#include "core/store_internal.h"
#include "patron/report.h"

/* Prepares a one-off statement (reports run rarely; they stay out of the statement cache). */
int patron__prepare(patron_store *s, const char *sql, sqlite3_stmt **st);

/* The largest member id (0 when none); PATRON_ETOOBIG past PATRON_REPORT_MAX_MEMBERS. */
int patron__report_max_member(patron_store *s, int64_t *out);

/* Sorts in place (an introsort): glibc's qsort takes a copy of a large array to merge into, as
 * much memory again as the list a report sorts. Not stable: give cmp a total order. */
void patron__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/* Calendar months as year * 12 + (month - 1), in UTC. */
int64_t patron__month_of(int64_t t);
int64_t patron__month_start(int64_t month);
void patron__month_label(int64_t month, char buf[8]);
/* YYYY-MM-DD of a time, UTC. */
void patron__date_label(int64_t t, char buf[11]);

/* A table with the given columns (a NULL-terminated list) and no rows. */
int patron__table_new(patron_store *s, const char *name, const char *title, const char *const *cols,
                      struct patron_report_table **out);
/* Adds a column (before any row). */
int patron__table_add_col(struct patron_report_table *t, const char *name);
/* Rows made on demand: `make` writes row `row` of the whole into window slot `slot` (its cells
 * are t->cells[slot * n_cols ...]; text cells point into the maker's own `src`, never owned by
 * the table, and stay valid while the window holds the row). It returns 0, or an error when its
 * source could not be read (a list set aside on disk): the row's cells stay NULL, and the
 * table's writers fail with that error (patron__table_rows_failed). The table's n_rows is the
 * whole count. */
#define PATRON__ROWS_WINDOW 64
struct patron__rows {
    size_t first, count; /* rows [first, first + count) are in the window */
    int (*make)(struct patron_report_table *t, size_t row, size_t slot, void *src);
    void (*free_src)(void *src);
    void *src;
    int failed; /* the first error a make returned */
};
/* Makes t a table of `rows` rows made by `make` from `src` (taken: freed with the table by
 * free_src, also on failure). */
int patron__table_rows_made(patron_store *s, struct patron_report_table *t, size_t rows,
                            int (*make)(struct patron_report_table *, size_t, size_t, void *),
                            void (*free_src)(void *), void *src);
/* The chunk of a report's long list (the churn list, RFM's buyers) kept in memory before it is
 * set aside on disk (spill.h; 0, the default: PATRON__SPILL_CHUNK_BYTES). The tests make it
 * small. */
extern size_t patron__report_chunk_bytes;

/* The error a row made on demand met so far (0: none, or rows not made on demand). */
int patron__table_rows_failed(const struct patron_report_table *t);
/* Appends a row of NULL cells; *row receives its index. PATRON_ETOOBIG past the maximum. */
int patron__table_add_row(patron_store *s, struct patron_report_table *t, size_t *row);
void patron__table_int(struct patron_report_table *t, size_t row, size_t col, int64_t v);
/* num / den in millionths, 0 when den is 0: a share (ratio) or an average (decimal). */
void patron__table_ratio(struct patron_report_table *t, size_t row, size_t col, int64_t num,
                         int64_t den);
void patron__table_decimal(struct patron_report_table *t, size_t row, size_t col, int64_t num,
                           int64_t den);
int patron__table_text(struct patron_report_table *t, size_t row, size_t col, const char *v);

/* The period of the options, checked: default the last 12 calendar months up to now. */
int patron__report_period(patron_store *s, const struct patron_report_options *o, int64_t *from,
                          int64_t *to);

typedef int (*patron__report_fill)(patron_store *s, struct patron_report_table *t, const void *arg);

/* Runs `fill` on a fresh table with `cols` inside a read snapshot; on success hands the table
 * over in *out, else frees it. */
int patron__report_build(patron_store *s, const char *name, const char *title,
                         const char *const *cols, patron__report_fill fill, const void *arg,
                         struct patron_report_table **out);

/* Writes the table's chart as SVG (report_svg.c). PATRON_EINVAL when it has none. */
int patron__report_write_svg(const struct patron_report_table *t, FILE *f);

struct patron__fact {
    int64_t created_at;
    int64_t first_sale, last_sale; /* 0 when the member never bought */
    int64_t spend;                 /* sum of total_minor */
    uint64_t months;               /* bit k: a sale in the k-th month after enrolment, k < 64 */
    int32_t sales;
    int32_t cohort; /* month of enrolment, as patron__month_of() */
    uint8_t present, erased, consent;
};

struct patron__facts {
    struct patron__fact *m; /* indexed by member id; [0] unused */
    int64_t n;              /* entries, max member id + 1 */
    int64_t members;        /* members present */
};

/* Calls fn with the facts of each member in id order (sales made before `until`), keeping
 * nothing between members; stops at fn's first non-zero return and returns it. PATRON_ETOOBIG
 * when a member id passes PATRON_REPORT_MAX_MEMBERS. Call inside a read snapshot. fn is called
 * from inside SQLite's pass over the sales (report_table.c): it may run other statements. */
typedef int (*patron__fact_fn)(int64_t id, const struct patron__fact *m, void *arg);
/* PATRON__FACTS_SUMS leaves the calendar out: cohort and months are left 0 (no month is worked
 * out per sale), for the reports that read only the sums and dates (clv, rfm, churn). */
enum patron__facts_kind { PATRON__FACTS_WITH_MONTHS, PATRON__FACTS_SUMS };
int patron__facts_each(patron_store *s, int64_t until, enum patron__facts_kind kind,
                       patron__fact_fn fn, void *arg);

/* Gathers the facts of every member from sales made before `until`. PATRON_ETOOBIG when a member
 * id passes PATRON_REPORT_MAX_MEMBERS. Call inside a read snapshot. */
int patron__facts_load(patron_store *s, int64_t until, struct patron__facts *out);
void patron__facts_cleanup(struct patron__facts *f);

#endif
