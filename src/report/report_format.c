/* SPDX-License-Identifier: MIT */
/* Report tables out: aligned text for people, RFC 4180 CSV for spreadsheets, one-line JSON
 * for programs. The SVG charts are in report_svg.c. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"

int patron_csv_field(FILE *f, const char *text)
{
    if (!text)
        text = "";
    if (strpbrk(text, ",\"\r\n") == NULL)
        return fputs(text, f) < 0 ? -errno : 0;
    if (fputc('"', f) == EOF)
        return -errno;
    for (const char *p = text; *p; p++)
        if ((*p == '"' && fputc('"', f) == EOF) || fputc(*p, f) == EOF)
            return -errno;
    return fputc('"', f) == EOF ? -errno : 0;
}

/* A cell as text: ratios as decimals (csv) or percentages (text). */
static void cell_text(const struct patron_cell *c, int percent, char *buf, size_t len)
{
    int64_t v = c->i < 0 ? -c->i : c->i;
    const char *sign = c->i < 0 ? "-" : "";
    switch (c->kind) {
    case PATRON_CELL_INT:
        snprintf(buf, len, "%" PRId64, c->i);
        break;
    case PATRON_CELL_RATIO:
        if (percent)
            snprintf(buf, len, "%s%" PRId64 ".%" PRId64 "%%", sign, (v + 500) / 10000,
                     (v + 500) / 1000 % 10);
        else
            snprintf(buf, len, "%s%" PRId64 ".%06" PRId64, sign, v / 1000000, v % 1000000);
        break;
    case PATRON_CELL_DECIMAL:
        if (percent) /* two places are enough to read; CSV and JSON keep all six */
            snprintf(buf, len, "%s%" PRId64 ".%02" PRId64, sign, (v + 5000) / 1000000,
                     (v + 5000) / 10000 % 100);
        else
            snprintf(buf, len, "%s%" PRId64 ".%06" PRId64, sign, v / 1000000, v % 1000000);
        break;
    case PATRON_CELL_TEXT:
        snprintf(buf, len, "%s", c->text);
        break;
    default:
        snprintf(buf, len, "%s", percent ? "-" : "");
    }
}

static int write_text(const struct patron_report_table *t, FILE *f)
{
    size_t width[PATRON_REPORT_MAX_COLS] = {0};
    char buf[256];
    for (size_t c = 0; c < t->n_cols; c++) {
        width[c] = strlen(t->cols[c]);
        for (size_t r = 0; r < t->n_rows; r++) {
            cell_text(patron_report_cell(t, r, c), 1, buf, sizeof buf);
            if (strlen(buf) > width[c])
                width[c] = strlen(buf);
        }
    }
    fprintf(f, "%s%s%s%s\n", t->title, t->currency[0] ? " (money in minor units of " : "",
            t->currency, t->currency[0] ? ")" : "");
    for (size_t c = 0; c < t->n_cols; c++)
        fprintf(f, "%s%-*s", c ? "  " : "", c + 1 < t->n_cols ? (int)width[c] : 0, t->cols[c]);
    fputc('\n', f);
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const struct patron_cell *cell = patron_report_cell(t, r, c);
            cell_text(cell, 1, buf, sizeof buf);
            /* Numbers right-aligned, text left-aligned. */
            int last = c + 1 == t->n_cols, pad = (int)width[c];
            if (cell->kind == PATRON_CELL_TEXT)
                fprintf(f, "%s%-*s", c ? "  " : "", last ? 0 : pad, buf);
            else
                fprintf(f, "%s%*s", c ? "  " : "", pad, buf);
        }
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

static int write_csv(const struct patron_report_table *t, FILE *f)
{
    char buf[256];
    int err = 0;
    for (size_t c = 0; c < t->n_cols && err == 0; c++)
        if ((err = patron_csv_field(f, t->cols[c])) == 0 && c + 1 < t->n_cols)
            fputc(',', f);
    fputs("\r\n", f);
    for (size_t r = 0; r < t->n_rows && err == 0; r++) {
        for (size_t c = 0; c < t->n_cols && err == 0; c++) {
            const struct patron_cell *cell = patron_report_cell(t, r, c);
            if (cell->kind == PATRON_CELL_TEXT)
                err = patron_csv_field(f, cell->text);
            else {
                cell_text(cell, 0, buf, sizeof buf);
                err = fputs(buf, f) < 0 ? -EIO : 0;
            }
            if (c + 1 < t->n_cols)
                fputc(',', f);
        }
        fputs("\r\n", f);
    }
    return err ? err : ferror(f) ? -EIO : 0;
}

static json_t *cell_json(const struct patron_cell *c)
{
    switch (c->kind) {
    case PATRON_CELL_INT:
        return json_integer((json_int_t)c->i);
    case PATRON_CELL_RATIO:
    case PATRON_CELL_DECIMAL:
        return json_real((double)c->i / 1e6);
    case PATRON_CELL_TEXT:
        return json_string(c->text);
    default:
        return json_null();
    }
}

static json_t *table_json(const struct patron_report_table *t)
{
    json_t *o = json_object(), *cols = json_array(), *rows = json_array();
    if (!o || !cols || !rows) {
        json_decref(o);
        json_decref(cols);
        json_decref(rows);
        return NULL;
    }
    json_object_set_new(o, "report", json_string(t->name));
    json_object_set_new(o, "title", json_string(t->title));
    for (size_t c = 0; c < t->n_cols; c++)
        json_array_append_new(cols, json_string(t->cols[c]));
    for (size_t r = 0; r < t->n_rows; r++) {
        json_t *row = json_object();
        for (size_t c = 0; c < t->n_cols; c++)
            json_object_set_new(row, t->cols[c], cell_json(patron_report_cell(t, r, c)));
        if (t->summary && r == 0)
            json_object_update(o, row);
        json_array_append_new(rows, row);
    }
    if (t->currency[0])
        json_object_set_new(o, "currency", json_string(t->currency));
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "rows", rows);
    return o;
}

static int write_json(const struct patron_report_table *t, FILE *f)
{
    json_t *o = table_json(t);
    if (!o)
        return PATRON_ENOMEM;
    int rc = json_dumpf(o, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (rc != 0 || fputc('\n', f) == EOF)
        return -EIO;
    return 0;
}

int patron_report_write(const struct patron_report_table *t, enum patron_report_format format,
                        FILE *f)
{
    switch (format) {
    case PATRON_REPORT_TEXT:
        return write_text(t, f);
    case PATRON_REPORT_CSV:
        return write_csv(t, f);
    case PATRON_REPORT_JSON:
        return write_json(t, f);
    case PATRON_REPORT_SVG:
        return patron__report_write_svg(t, f);
    }
    return PATRON_EINVAL;
}
