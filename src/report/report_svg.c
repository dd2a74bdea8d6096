/* SPDX-License-Identifier: MIT */
/* Charts of the reports as plain SVG text, written by hand so that no drawing library is
 * needed: bars (points expiring per month, RFM segments), a line (redemption rate and average
 * satisfaction per month) and a heatmap (retention by cohort). Value axes step by 1, 2 or 5
 * times a power of ten over a range that holds the data and zero, or the table's fixed range.
 * Every label is XML-escaped. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report/report_internal.h"

#define W 720
#define LEFT 70
#define RIGHT 20
#define TOP 40
#define PLOT_H 270  /* height of the plot area of bars and lines */
#define BOTTOM 50   /* below the plot when the x labels stand upright */
#define CHAR_W 6.5  /* an upper estimate of a character's width at font-size 11 */
#define LINE_GAP 16 /* the least distance between two slanted x labels */

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void header(FILE *f, const struct patron_report_table *t, int width, int height)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">",
            width, height, width, height, LEFT);
    xml_text(f, t->title);
    fputs("</text>\n", f);
}

static const char *label(const struct patron_report_table *t, size_t row)
{
    const struct patron_cell *c = patron_report_cell(t, row, 0);
    return c->kind == PATRON_CELL_TEXT ? c->text : "";
}

/* Rows charted: a closing "total" row is a sum, not a point of the series. */
static size_t charted_rows(const struct patron_report_table *t)
{
    size_t n = t->n_rows;
    if (n > 0 && strcmp(label(t, n - 1), "total") == 0)
        n--;
    return n;
}

/* The value axis: from lo to hi in steps of `step` (1, 2 or 5 times a power of ten), all in the
 * cells' units; values are shown divided by `unit` (10000 for a percentage of a ratio). */
struct axis {
    int64_t lo, hi, step, unit;
    int percent;
};

/* The smallest 1, 2 or 5 times a power of ten that is at least `raw` and `least`. */
static int64_t nice_step(int64_t raw, int64_t least)
{
    static const int64_t m[] = {1, 2, 5};
    for (int64_t p = 1; p <= INT64_C(1000000000000000000) / 10; p *= 10)
        for (int i = 0; i < 3; i++)
            if (m[i] * p >= raw && m[i] * p >= least)
                return m[i] * p;
    return INT64_C(1000000000000000000);
}

static int64_t floor_to(int64_t v, int64_t step)
{
    return (v / step - (v % step < 0)) * step;
}

static int64_t ceil_to(int64_t v, int64_t step)
{
    return (v / step + (v % step > 0)) * step;
}

/* About five steps over the data and the table's fixed range, zero included. */
static void axis_of(struct axis *a, enum patron_cell_kind kind, int64_t lo, int64_t hi)
{
    a->percent = kind == PATRON_CELL_RATIO;
    a->unit = kind == PATRON_CELL_RATIO ? 10000 : kind == PATRON_CELL_DECIMAL ? 1000000 : 1;
    /* The finest step shown: 0.1% of a ratio, 0.01 of a decimal, 1 of a count. */
    int64_t least = kind == PATRON_CELL_RATIO ? 1000 : kind == PATRON_CELL_DECIMAL ? 10000 : 1;
    if (hi <= lo) /* nothing to scale by: a whole (100%, 1.0 or 5 counts) above the value */
        hi = lo + (kind == PATRON_CELL_INT ? 5 : 1000000);
    a->step = nice_step((hi - lo + 4) / 5, least);
    a->lo = floor_to(lo, a->step);
    a->hi = ceil_to(hi, a->step);
}

/* A value as the axis shows it: exact, with as many decimals as the step needs. */
static void axis_label(const struct axis *a, int64_t v, char *buf, size_t len)
{
    int decimals = 0;
    int64_t scale = 1;
    while (decimals < 6 && scale < a->unit && a->step % (a->unit / scale) != 0) {
        scale *= 10;
        decimals++;
    }
    int64_t mag = v < 0 ? -v : v, whole = mag / a->unit;
    int64_t frac = mag % a->unit / (a->unit / scale);
    if (decimals)
        snprintf(buf, len, "%s%" PRId64 ".%0*" PRId64 "%s", v < 0 ? "-" : "", whole, decimals, frac,
                 a->percent ? "%" : "");
    else
        snprintf(buf, len, "%s%" PRId64 "%s", v < 0 ? "-" : "", whole, a->percent ? "%" : "");
}

static double y_of(const struct axis *a, int64_t v)
{
    return TOP + PLOT_H - PLOT_H * (double)(v - a->lo) / (double)(a->hi - a->lo);
}

static void axes(FILE *f, const struct axis *a, const char *name)
{
    for (int64_t v = a->lo; v <= a->hi; v += a->step) {
        char text[48];
        double y = y_of(a, v);
        axis_label(a, v, text, sizeof text);
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n"
                "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, text);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#555\">", LEFT - 6, TOP - 10);
    xml_text(f, name);
    fputs("</text>\n", f);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, TOP, LEFT,
            TOP + PLOT_H);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT,
            TOP + PLOT_H, W - RIGHT, TOP + PLOT_H);
}

static const struct patron_cell *value_cell(const struct patron_report_table *t, size_t row)
{
    return patron_report_cell(t, row, t->chart_col);
}

static int has_value(const struct patron_report_table *t, size_t row)
{
    enum patron_cell_kind k = value_cell(t, row)->kind;
    return k == PATRON_CELL_INT || k == PATRON_CELL_RATIO || k == PATRON_CELL_DECIMAL;
}

/* The axis over the charted values and zero (bars stand on it), or over the table's fixed
 * range stretched to any value outside it. */
static void series_axis(const struct patron_report_table *t, size_t n, struct axis *a)
{
    enum patron_cell_kind kind = PATRON_CELL_INT;
    int fixed = t->chart_max > t->chart_min, found = 0;
    int64_t lo = fixed ? t->chart_min : 0, hi = fixed ? t->chart_max : 0;
    for (size_t r = 0; r < n; r++) {
        if (!has_value(t, r))
            continue;
        int64_t v = value_cell(t, r)->i;
        kind = value_cell(t, r)->kind;
        found = 1;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (!found && fixed)
        kind = PATRON_CELL_DECIMAL; /* no value at all: a fixed range is of averages */
    axis_of(a, kind, lo, hi);
}

/* How the x labels stand: upright when the widest fits its slot, else slanted and, when the
 * slots are narrower than a line of text, only every k-th; `below` is the room they take. */
struct xlabels {
    int slant, below;
    size_t every;
};

static void x_layout(const struct patron_report_table *t, size_t n, double slot, struct xlabels *x)
{
    size_t widest = 0;
    for (size_t r = 0; r < n; r++)
        if (strlen(label(t, r)) > widest)
            widest = strlen(label(t, r));
    x->slant = CHAR_W * (double)widest + 6 > slot;
    x->every = x->slant && slot < LINE_GAP ? (size_t)(LINE_GAP / slot) + 1 : 1;
    x->below = x->slant ? (int)(CHAR_W * (double)widest * 0.71) + 24 : BOTTOM;
    if (x->below < BOTTOM)
        x->below = BOTTOM;
}

static void x_labels(FILE *f, const struct patron_report_table *t, size_t n, double slot,
                     const struct xlabels *x)
{
    int y = TOP + PLOT_H + (x->slant ? 12 : 16);
    for (size_t r = 0; r < n; r += x->every) {
        double at = LEFT + slot * ((double)r + 0.5);
        if (x->slant)
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" "
                    "transform=\"rotate(-45 %.1f %d)\">",
                    at + 4, y, at + 4, y);
        else
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", at, y);
        xml_text(f, label(t, r));
        fputs("</text>\n", f);
    }
}

/* A line over the months with values; a month without one breaks it, and every value has its
 * dot, so that a series of one month still shows. */
static void line(FILE *f, const struct patron_report_table *t, size_t n, double slot,
                 const struct axis *a)
{
    for (size_t r = 0; r < n; r++) {
        if (!has_value(t, r) || (r > 0 && has_value(t, r - 1)))
            continue;
        size_t end = r;
        while (end + 1 < n && has_value(t, end + 1))
            end++;
        if (end == r)
            continue;
        fputs("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2\" points=\"", f);
        for (size_t k = r; k <= end; k++)
            fprintf(f, "%s%.1f,%.1f", k > r ? " " : "", LEFT + slot * ((double)k + 0.5),
                    y_of(a, value_cell(t, k)->i));
        fputs("\"/>\n", f);
    }
    for (size_t r = 0; r < n; r++)
        if (has_value(t, r))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#2b6cb0\"/>\n",
                    LEFT + slot * ((double)r + 0.5), y_of(a, value_cell(t, r)->i));
}

static void bars(FILE *f, const struct patron_report_table *t, size_t n, double slot,
                 const struct axis *a)
{
    int64_t base = a->lo > 0 ? a->lo : a->hi < 0 ? a->hi : 0;
    for (size_t r = 0; r < n; r++) {
        if (!has_value(t, r))
            continue;
        double y0 = y_of(a, base), y1 = y_of(a, value_cell(t, r)->i);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2b6cb0\"/>\n",
                LEFT + slot * ((double)r + 0.1), y1 < y0 ? y1 : y0, slot * 0.8,
                y1 < y0 ? y0 - y1 : y1 - y0);
    }
}

static void series(FILE *f, const struct patron_report_table *t)
{
    size_t n = charted_rows(t);
    double slot = (double)(W - LEFT - RIGHT) / (double)(n ? n : 1);
    struct axis a;
    struct xlabels x;
    series_axis(t, n, &a);
    x_layout(t, n, slot, &x);
    header(f, t, W, TOP + PLOT_H + x.below);
    axes(f, &a, t->cols[t->chart_col]);
    if (t->chart == PATRON_CHART_LINE)
        line(f, t, n, slot, &a);
    else
        bars(f, t, n, slot, &a);
    x_labels(f, t, n, slot, &x);
    if (n == 0)
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">no data</text>\n",
                (W + LEFT - RIGHT) / 2, TOP + PLOT_H / 2);
}

static void heatmap(FILE *f, const struct patron_report_table *t)
{
    size_t cols = t->n_cols - t->chart_col;
    int cw = 44, ch = 22, top = TOP + 20, left = LEFT + 20;
    for (size_t k = 0; k < cols; k++) {
        fprintf(f, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\">", left + cw * k + cw / 2,
                top - 6);
        xml_text(f, t->cols[t->chart_col + k]);
        fputs("</text>\n", f);
    }
    for (size_t r = 0; r < t->n_rows; r++) {
        int y = top + ch * (int)r;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 15);
        xml_text(f, label(t, r));
        fputs("</text>\n", f);
        for (size_t k = 0; k < cols; k++) {
            const struct patron_cell *c = patron_report_cell(t, r, t->chart_col + k);
            if (c->kind != PATRON_CELL_RATIO)
                continue;
            fprintf(f,
                    "<rect x=\"%zu\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#2b6cb0\" "
                    "fill-opacity=\"%.3f\" stroke=\"white\"/>\n",
                    left + cw * k, y, cw, ch, 0.08 + 0.92 * (double)c->i / 1e6);
            fprintf(f,
                    "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%" PRId64
                    "%%</text>\n",
                    left + cw * k + cw / 2, y + 15, c->i > 550000 ? "white" : "black",
                    (c->i + 5000) / 10000);
        }
    }
}

int patron__report_write_svg(const struct patron_report_table *t, FILE *f)
{
    if (t->chart == PATRON_CHART_NONE || t->chart_col >= t->n_cols)
        return PATRON_EINVAL;
    if (t->chart == PATRON_CHART_HEATMAP) {
        int width = LEFT + 40 + 44 * (int)(t->n_cols - t->chart_col);
        int title =
            LEFT + 10 * (int)strlen(t->title) + RIGHT; /* 15 px bold: under 10 px a letter */
        header(f, t, width < title ? title : width, TOP + 40 + 22 * (int)t->n_rows);
        heatmap(f, t);
    } else {
        series(f, t);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -EIO : 0;
}
