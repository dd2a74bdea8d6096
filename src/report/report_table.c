/* SPDX-License-Identifier: MIT */
/* The plumbing under every report: report tables and their cells, read snapshots, calendar
 * months, and the per-member facts that one pass over the sales yields. Kept apart from the
 * reports themselves so each report reads as its definition. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_internal.h"

int patron__prepare(patron_store *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    return rc == SQLITE_OK ? 0 : patron__db_err(s, rc);
}

/* Calendar arithmetic without libc: gmtime and timegm cost a microsecond a row, which is seconds
 * over the ledger. These are H. Hinnant's days-from-civil algorithms (proleptic Gregorian). */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400), yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t month_of_civil(int64_t t)
{
    int64_t z = floor_div(t, 86400) + 719468, era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return (yoe + era * 400 + (m <= 2)) * 12 + (m - 1);
}

int64_t patron__month_start(int64_t month)
{
    return days_from_civil(floor_div(month, 12), month - floor_div(month, 12) * 12 + 1, 1) * 86400;
}

/* The starts of the months from 1970 to 2200, for patron__month_of: a row's month is found
 * from an estimate and a step or two in the table, not from the calendar's divisions, as the
 * reports ask it for every sale and entry they read. Filled once (pthread_once). */
#define MONTHS_FIRST (1970 * 12)
#define MONTHS_KNOWN (230 * 12)
#define MONTH_SECONDS_MEAN 2629746 /* 365.2425 days / 12 */

static int64_t month_starts[MONTHS_KNOWN + 1];
static pthread_once_t month_starts_once = PTHREAD_ONCE_INIT;

static void month_starts_fill(void)
{
    for (int i = 0; i <= MONTHS_KNOWN; i++)
        month_starts[i] = patron__month_start(MONTHS_FIRST + i);
}

int64_t patron__month_of(int64_t t)
{
    pthread_once(&month_starts_once, month_starts_fill);
    if (t < 0 || t >= month_starts[MONTHS_KNOWN])
        return month_of_civil(t);
    int64_t i = t / MONTH_SECONDS_MEAN; /* within a month or two of the answer */
    if (i >= MONTHS_KNOWN)
        i = MONTHS_KNOWN - 1;
    while (month_starts[i] > t)
        i--;
    while (month_starts[i + 1] <= t)
        i++;
    return MONTHS_FIRST + i;
}

void patron__month_label(int64_t month, char buf[8])
{
    int y = (int)(month / 12), m = (int)(month % 12) + 1;
    buf[0] = (char)('0' + y / 1000 % 10);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '\0';
}

void patron__date_label(int64_t t, char buf[11])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

static void swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
    unsigned char tmp[64];
    if (size <= sizeof tmp) {
        memcpy(tmp, a, size);
        memcpy(a, b, size);
        memcpy(b, tmp, size);
        return;
    }
    while (size--) {
        unsigned char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

static void sift_down(unsigned char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
            child++;
        if (cmp(base + root * size, base + child * size) >= 0)
            return;
        swap_bytes(base + root * size, base + child * size, size);
    }
}

static void heap_sort(unsigned char *b, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(b, i, n, size, cmp);
    for (size_t end = n; end-- > 1;) {
        swap_bytes(b, b + end * size, size);
        sift_down(b, 0, end, size, cmp);
    }
}

static void insertion_sort(unsigned char *b, size_t n, size_t size,
                           int (*cmp)(const void *, const void *))
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(b + (j - 1) * size, b + j * size) > 0; j--)
            swap_bytes(b + (j - 1) * size, b + j * size, size);
}

/* Partitions b[0..n), n > 2, around the median of its first, middle and last elements: returns
 * the pivot's final place p, with b[0..p) <= b[p] <= b(p..n). The pivot waits at b[0], and the
 * median's ordering leaves an element no larger at the middle and one no smaller at the end, so
 * neither scan runs off the range. */
static size_t partition(unsigned char *b, size_t n, size_t size,
                        int (*cmp)(const void *, const void *))
{
    unsigned char *f = b, *m = b + n / 2 * size, *l = b + (n - 1) * size;
    if (cmp(m, f) < 0)
        swap_bytes(m, f, size);
    if (cmp(l, m) < 0) {
        swap_bytes(l, m, size);
        if (cmp(m, f) < 0)
            swap_bytes(m, f, size);
    }
    swap_bytes(b, m, size);
    size_t i = 0, j = n;
    for (;;) {
        do
            i++;
        while (cmp(b + i * size, b) < 0);
        do
            j--;
        while (cmp(b + j * size, b) > 0);
        if (i >= j)
            break;
        swap_bytes(b + i * size, b + j * size, size);
    }
    swap_bytes(b, b + j * size, size);
    return j;
}

/* An introsort: quicksort, whose passes read the array in order (a heap sort's jumps miss the
 * cache on every step once a list is larger than it), with a heap sort when the splits go bad
 * and an insertion sort for short runs. The smaller side is sorted first, so the stack stays
 * shallow. */
static void intro_sort(unsigned char *b, size_t n, size_t size,
                       int (*cmp)(const void *, const void *), int depth)
{
    while (n > 16) {
        if (depth-- == 0) {
            heap_sort(b, n, size, cmp);
            return;
        }
        size_t p = partition(b, n, size, cmp);
        if (p < n - 1 - p) {
            intro_sort(b, p, size, cmp, depth);
            b += (p + 1) * size;
            n -= p + 1;
        } else {
            intro_sort(b + (p + 1) * size, n - 1 - p, size, cmp, depth);
            n = p;
        }
    }
    insertion_sort(b, n, size, cmp);
}

void patron__sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    int depth = 0;
    for (size_t k = n; k > 1; k >>= 1)
        depth += 2;
    intro_sort(base, n, size, cmp, depth);
}

int patron__table_new(patron_store *s, const char *name, const char *title, const char *const *cols,
                      struct patron_report_table **out)
{
    struct patron_report_table *t = calloc(1, sizeof *t);
    if (!t)
        return patron__fail(s, PATRON_ENOMEM, "no memory for the %s report", name);
    patron__copy(t->name, sizeof t->name, name);
    patron__copy(t->title, sizeof t->title, title);
    t->chart = patron_report_chart_of(name); /* one table says which reports draw */
    for (size_t i = 0; cols && cols[i]; i++) {
        if (patron__table_add_col(t, cols[i]) != 0) {
            free(t);
            return patron__fail(s, PATRON_ETOOBIG, "column '%s' of the %s report", cols[i], name);
        }
    }
    *out = t;
    return 0;
}

int patron__table_add_col(struct patron_report_table *t, const char *name)
{
    if (t->n_cols >= PATRON_REPORT_MAX_COLS || t->n_rows != 0)
        return PATRON_ETOOBIG;
    if (patron__copy(t->cols[t->n_cols], sizeof t->cols[0], name) != 0)
        return PATRON_ETOOBIG;
    t->n_cols++;
    return 0;
}

int patron__table_add_row(patron_store *s, struct patron_report_table *t, size_t *row)
{
    if (t->n_rows == t->cap_rows) {
        if (t->cap_rows >= PATRON_REPORT_MAX_ROWS)
            return patron__fail(s, PATRON_ETOOBIG, "the %s report would pass %d rows", t->name,
                                PATRON_REPORT_MAX_ROWS);
        size_t cap = t->cap_rows ? t->cap_rows * 2 : 16;
        if (cap > PATRON_REPORT_MAX_ROWS)
            cap = PATRON_REPORT_MAX_ROWS;
        struct patron_cell *cells = realloc(t->cells, cap * t->n_cols * sizeof *cells);
        if (!cells)
            return patron__fail(s, PATRON_ENOMEM, "no memory for the %s report", t->name);
        t->cells = cells;
        t->cap_rows = cap;
    }
    memset(&t->cells[t->n_rows * t->n_cols], 0, t->n_cols * sizeof t->cells[0]);
    *row = t->n_rows++;
    return 0;
}

void patron__table_int(struct patron_report_table *t, size_t row, size_t col, int64_t v)
{
    t->cells[row * t->n_cols + col] = (struct patron_cell){.kind = PATRON_CELL_INT, .i = v};
}

/* Rounded to the nearest millionth; long double keeps 64-bit sums exact enough. */
static int64_t millionths(int64_t num, int64_t den)
{
    return den == 0 ? 0 : (int64_t)((long double)num * 1000000.0L / (long double)den + 0.5L);
}

void patron__table_ratio(struct patron_report_table *t, size_t row, size_t col, int64_t num,
                         int64_t den)
{
    t->cells[row * t->n_cols + col] =
        (struct patron_cell){.kind = PATRON_CELL_RATIO, .i = millionths(num, den)};
}

void patron__table_decimal(struct patron_report_table *t, size_t row, size_t col, int64_t num,
                           int64_t den)
{
    t->cells[row * t->n_cols + col] =
        (struct patron_cell){.kind = PATRON_CELL_DECIMAL, .i = millionths(num, den)};
}

int patron__table_text(struct patron_report_table *t, size_t row, size_t col, const char *v)
{
    char *copy = strdup(v ? v : "");
    if (!copy)
        return PATRON_ENOMEM;
    t->cells[row * t->n_cols + col] = (struct patron_cell){.kind = PATRON_CELL_TEXT, .text = copy};
    return 0;
}

int patron__table_rows_made(patron_store *s, struct patron_report_table *t, size_t rows,
                            int (*make)(struct patron_report_table *, size_t, size_t, void *),
                            void (*free_src)(void *), void *src)
{
    struct patron__rows *r = calloc(1, sizeof *r);
    struct patron_cell *cells = calloc(PATRON__ROWS_WINDOW * t->n_cols, sizeof *cells);
    if (!r || !cells || t->n_rows != 0) {
        free(r);
        free(cells);
        free_src(src);
        return patron__fail(s, PATRON_ENOMEM, "no memory for the %s report", t->name);
    }
    *r = (struct patron__rows){.make = make, .free_src = free_src, .src = src};
    free(t->cells);
    t->cells = cells;
    t->cap_rows = PATRON__ROWS_WINDOW;
    t->n_rows = rows;
    t->rows_made = r;
    return 0;
}

/* Makes the window that holds `row` (rows made on demand; the table is the caller's, so the
 * window may move under a const pointer, as a cache). */
static void window_to(const struct patron_report_table *ct, size_t row)
{
    struct patron_report_table *t = (struct patron_report_table *)ct;
    struct patron__rows *r = t->rows_made;
    if (row >= r->first && row < r->first + r->count)
        return;
    r->first = row;
    r->count = t->n_rows - row < PATRON__ROWS_WINDOW ? t->n_rows - row : PATRON__ROWS_WINDOW;
    memset(t->cells, 0, PATRON__ROWS_WINDOW * t->n_cols * sizeof t->cells[0]);
    for (size_t k = 0; k < r->count; k++) {
        int err = r->make(t, row + k, k, r->src);
        if (err != 0 && r->failed == 0)
            r->failed = err;
    }
}

int patron__table_rows_failed(const struct patron_report_table *t)
{
    return t->rows_made ? t->rows_made->failed : 0;
}

void patron_report_free(struct patron_report_table *t)
{
    if (!t)
        return;
    if (t->rows_made) {
        t->rows_made->free_src(t->rows_made->src);
        free(t->rows_made);
    } else {
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
            if (t->cells[i].kind == PATRON_CELL_TEXT)
                free(t->cells[i].text);
    }
    free(t->cells);
    free(t);
}

int patron_report_col(const struct patron_report_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i], name) == 0)
            return (int)i;
    return -1;
}

const struct patron_cell *patron_report_cell(const struct patron_report_table *t, size_t row,
                                             size_t col)
{
    static const struct patron_cell none = {PATRON_CELL_NULL, 0, NULL};
    if (row >= t->n_rows || col >= t->n_cols)
        return &none;
    if (t->rows_made) {
        window_to(t, row);
        return &t->cells[(row - t->rows_made->first) * t->n_cols + col];
    }
    return &t->cells[row * t->n_cols + col];
}

static int scalar(patron_store *s, const char *sql, int64_t *out)
{
    sqlite3_stmt *st;
    int err = patron__prepare(s, sql, &st);
    if (err != 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    err = rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
    sqlite3_finalize(st);
    return err;
}

/* The members in id order, and beside them their sales before `until` in member order from the
 * covering index sales_member (member_id, created_at, total_minor): a merge of two ordered
 * passes, so a member's facts are whole when the next member comes and nothing is kept.
 * The sales are not returned row by row: SQLite hands each one to facts_sale, a function of the
 * statement's WHERE clause that never lets a row through, and the members are stepped from
 * there. A returned row costs a step, a result row and a column call per value, about a quarter
 * of the pass's instructions. */
struct facts_pass {
    patron_store *s;
    sqlite3_stmt *members;
    int64_t max_id, until;
    int months; /* 0: leave cohort and months 0 (only retention reads them) */
    int64_t id; /* the member being read, whose facts are m; INT64_MAX once none is left */
    struct patron__fact m;
    patron__fact_fn fn;
    void *arg;
    int err; /* fn's first non-zero return, or a failed step of the members */
};

#define FACTS_PASS_TYPE "patron_facts_pass"

static void add_sale(struct patron__fact *m, int64_t at, int64_t total, int months)
{
    if (m->sales == 0 || at < m->first_sale)
        m->first_sale = at;
    if (m->sales == 0 || at > m->last_sale)
        m->last_sale = at;
    m->sales++;
    m->spend += total;
    if (!months)
        return;
    int64_t k = patron__month_of(at) - m->cohort;
    if (k >= 0 && k < 64)
        m->months |= UINT64_C(1) << k;
}

/* Reads the next member into p (p->id INT64_MAX when none is left, or past max_id: added after
 * the count was read, not in this snapshot's reports). */
static void facts_next_member(struct facts_pass *p)
{
    sqlite3_stmt *st = p->members;
    int rc = sqlite3_step(st);
    p->id = INT64_MAX;
    if (rc != SQLITE_ROW) {
        if (rc != SQLITE_DONE)
            p->err = patron__db_err(p->s, rc);
        return;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    if (id > p->max_id)
        return;
    p->id = id;
    p->m = (struct patron__fact){.present = 1};
    p->m.created_at = sqlite3_column_int64(st, 1);
    p->m.cohort = p->months ? (int32_t)patron__month_of(p->m.created_at) : 0;
    p->m.consent = (uint8_t)sqlite3_column_int(st, 2);
    p->m.erased = (uint8_t)sqlite3_column_int(st, 3);
}

/* Hands fn every member before member `id`, whose facts are whole. */
static void facts_members_before(struct facts_pass *p, int64_t id)
{
    while (p->err == 0 && p->id < id) {
        p->err = p->fn(p->id, &p->m, p->arg);
        if (p->err == 0)
            facts_next_member(p);
    }
}

/* facts_sale(pass, member_id, created_at, total_minor), called by SQLite for each sale in member
 * order: adds the sale to its member's facts (skipping those of members not in the pass) and
 * stops the statement once p->err is set. Lets no row through. */
static void facts_sale(sqlite3_context *cx, int argc, sqlite3_value **v)
{
    struct facts_pass *p = sqlite3_get_auxdata(cx, 0); /* kept while ?1 stays bound */
    (void)argc;
    if (!p) {
        if (!(p = sqlite3_value_pointer(v[0], FACTS_PASS_TYPE))) {
            sqlite3_result_error(cx, "patron_facts_sale is only for the reports' facts pass", -1);
            return;
        }
        sqlite3_set_auxdata(cx, 0, p, NULL);
    }
    int64_t of = sqlite3_value_int64(v[1]);
    facts_members_before(p, of);
    if (p->err != 0) {
        sqlite3_result_error_code(cx, SQLITE_ABORT);
        return;
    }
    int64_t at = sqlite3_value_int64(v[2]);
    if (p->id == of && at < p->until)
        add_sale(&p->m, at, sqlite3_value_int64(v[3]), p->months);
    sqlite3_result_int(cx, 0);
}

/* facts_sale is registered once a handle (it has no state of its own: the pass comes as its
 * first argument, a pointer bound to the statement); registering it again would expire every
 * statement prepared on the handle. */
static int facts_sale_registered(patron_store *s)
{
    if (s->facts_fn)
        return 0;
    int rc = sqlite3_create_function(s->db, "patron_facts_sale", 4, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                     NULL, facts_sale, NULL, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    s->facts_fn = 1;
    return 0;
}

static int facts_merge(struct facts_pass *p, sqlite3_stmt *sales)
{
    facts_next_member(p);
    int rc = p->err == 0 ? sqlite3_step(sales) : SQLITE_DONE;
    if (p->err != 0)
        return p->err;
    if (rc != SQLITE_DONE)
        return patron__db_err(p->s, rc == SQLITE_ROW ? SQLITE_INTERNAL : rc);
    facts_members_before(p, INT64_MAX); /* and those after the last sale */
    return p->err;
}

/* patron__facts_each over the members up to max_id. */
static int facts_each_upto(patron_store *s, int64_t until, int64_t max_id, int months,
                           patron__fact_fn fn, void *arg)
{
    struct facts_pass p = {
        .s = s, .max_id = max_id, .until = until, .months = months, .fn = fn, .arg = arg};
    sqlite3_stmt *sales = NULL;
    int err;
    if ((err = facts_sale_registered(s)) != 0 ||
        (err = patron__prepare(s,
                               "SELECT id, created_at, consent_marketing, erased_at IS NOT NULL"
                               " FROM members WHERE id > 0 ORDER BY id",
                               &p.members)) != 0 ||
        (err = patron__prepare(s,
                               "SELECT 1 FROM sales INDEXED BY sales_member WHERE member_id > 0"
                               " AND patron_facts_sale(?1, member_id, created_at, total_minor)"
                               " ORDER BY member_id",
                               &sales)) != 0)
        goto out;
    sqlite3_bind_pointer(sales, 1, &p, FACTS_PASS_TYPE, NULL);
    err = facts_merge(&p, sales);
out:
    sqlite3_finalize(p.members);
    sqlite3_finalize(sales);
    return err;
}

int patron__facts_each(patron_store *s, int64_t until, enum patron__facts_kind kind,
                       patron__fact_fn fn, void *arg)
{
    int64_t max_id = 0;
    int err = patron__report_max_member(s, &max_id);
    return err != 0 ? err
                    : facts_each_upto(s, until, max_id, kind == PATRON__FACTS_WITH_MONTHS, fn, arg);
}

static int facts_keep(int64_t id, const struct patron__fact *m, void *arg)
{
    struct patron__facts *f = arg;
    f->m[id] = *m;
    f->members++;
    return 0;
}

int patron__report_max_member(patron_store *s, int64_t *out)
{
    int64_t max_id = 0;
    int err = scalar(s, "SELECT COALESCE(MAX(id), 0) FROM members", &max_id);
    if (err != 0)
        return err;
    if (max_id >= PATRON_REPORT_MAX_MEMBERS)
        return patron__fail(s, PATRON_ETOOBIG, "member ids reach %lld; reports stop at %d",
                            (long long)max_id, PATRON_REPORT_MAX_MEMBERS);
    *out = max_id;
    return 0;
}

int patron__facts_load(patron_store *s, int64_t until, struct patron__facts *out)
{
    struct patron__facts f = {0};
    int64_t max_id = 0;
    int err = patron__report_max_member(s, &max_id);
    if (err != 0)
        return err;
    f.n = max_id + 1;
    if (!(f.m = calloc((size_t)f.n, sizeof f.m[0])))
        return patron__fail(s, PATRON_ENOMEM, "no memory for %lld members", (long long)max_id);
    if ((err = facts_each_upto(s, until, max_id, 1, facts_keep, &f)) != 0) {
        patron__facts_cleanup(&f);
        return err;
    }
    *out = f;
    return 0;
}

void patron__facts_cleanup(struct patron__facts *f)
{
    free(f->m);
    f->m = NULL;
    f->n = f->members = 0;
}
