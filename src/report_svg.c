/* SPDX-License-Identifier: MIT */
/* Charts of the reports as plain SVG text, written by hand so that no drawing library is
 * needed: bars (points expiring per month, RFM segments), a line (redemption rate per month)
 * and a heatmap (retention by cohort). Every label is XML-escaped. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

#define W 720
#define H 360
#define LEFT 70
#define RIGHT 20
#define TOP 40
#define BOTTOM 50

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

static void axes(FILE *f, int64_t max, int ratio)
{
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT, TOP, LEFT,
            H - BOTTOM);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", LEFT,
            H - BOTTOM, W - RIGHT, H - BOTTOM);
    for (int i = 0; i <= 4; i++) {
        int y = H - BOTTOM - (H - TOP - BOTTOM) * i / 4;
        int64_t v = max * i / 4;
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", LEFT - 6, y + 4);
        if (ratio == 1)
            fprintf(f, "%" PRId64 "%%", v / 10000);
        else if (ratio == 2)
            fprintf(f, "%.2f", (double)v / 1e6);
        else
            fprintf(f, "%" PRId64, v);
        fputs("</text>\n", f);
    }
}

static int64_t value_at(const struct patron_report_table *t, size_t row)
{
    const struct patron_cell *c = patron_report_cell(t, row, t->chart_col);
    return c->kind == PATRON_CELL_NULL || c->kind == PATRON_CELL_TEXT ? 0 : c->i;
}

static void series(FILE *f, const struct patron_report_table *t, int line)
{
    size_t n = charted_rows(t);
    enum patron_cell_kind kind = PATRON_CELL_NULL;
    for (size_t r = 0; r < n && kind == PATRON_CELL_NULL; r++)
        kind = patron_report_cell(t, r, t->chart_col)->kind;
    int ratio = kind == PATRON_CELL_RATIO ? 1 : kind == PATRON_CELL_DECIMAL ? 2 : 0;
    int64_t max = ratio ? 1000000 : 1;
    for (size_t r = 0; r < n; r++)
        if (value_at(t, r) > max)
            max = value_at(t, r);
    axes(f, max, ratio);
    double slot = (double)(W - LEFT - RIGHT) / (double)(n ? n : 1), plot = H - TOP - BOTTOM;
    if (line)
        fputs("<polyline fill=\"none\" stroke=\"#2b6cb0\" stroke-width=\"2\" points=\"", f);
    for (size_t r = 0; r < n && line; r++)
        if (patron_report_cell(t, r, t->chart_col)->kind != PATRON_CELL_NULL) /* no data: a gap */
            fprintf(f, "%.1f,%.1f ", LEFT + slot * ((double)r + 0.5),
                    H - BOTTOM - plot * (double)value_at(t, r) / (double)max);
    if (line)
        fputs("\"/>\n", f);
    for (size_t r = 0; r < n; r++) {
        double h = plot * (double)value_at(t, r) / (double)max, x = LEFT + slot * (double)r;
        if (!line)
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                    "fill=\"#2b6cb0\"/>\n",
                    x + slot * 0.1, H - BOTTOM - h, slot * 0.8, h);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x + slot / 2,
                H - BOTTOM + 16);
        xml_text(f, label(t, r));
        fputs("</text>\n", f);
    }
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
            fprintf(f, "<text x=\"%zu\" y=\"%d\" text-anchor=\"middle\">%" PRId64 "%%</text>\n",
                    left + cw * k + cw / 2, y + 15, (c->i + 5000) / 10000);
        }
    }
}

int patron__report_write_svg(const struct patron_report_table *t, FILE *f)
{
    if (t->chart == PATRON_CHART_NONE || t->n_rows == 0 || t->chart_col >= t->n_cols)
        return PATRON_EINVAL;
    if (t->chart == PATRON_CHART_HEATMAP) {
        int width = LEFT + 40 + 44 * (int)(t->n_cols - t->chart_col);
        header(f, t, width < 400 ? 400 : width, TOP + 40 + 22 * (int)t->n_rows);
        heatmap(f, t);
    } else {
        header(f, t, W, H);
        series(f, t, t->chart == PATRON_CHART_LINE);
    }
    fputs("</svg>\n", f);
    return ferror(f) ? -EIO : 0;
}
