/* SPDX-License-Identifier: MIT */
/* Report tables out: aligned text for people, RFC 4180 CSV for spreadsheets, one-line JSON
 * for programs. CSV and JSON are written a row at a time (a large report is sent as it is
 * written, never held whole a second time). The SVG charts are in report_svg.c. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
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
    for (size_t c = 0; c < t->n_cols; c++)
        width[c] = strlen(t->cols[c]);
    /* Row by row: rows made on demand are made once for the widths and once for the text. */
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            cell_text(patron_report_cell(t, r, c), 1, buf, sizeof buf);
            if (strlen(buf) > width[c])
                width[c] = strlen(buf);
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
    int failed = patron__table_rows_failed(t);
    return failed ? failed : ferror(f) ? -EIO : 0;
}

static int csv_head(const struct patron_report_table *t, FILE *f)
{
    int err = 0;
    for (size_t c = 0; c < t->n_cols && err == 0; c++)
        if ((err = patron_csv_field(f, t->cols[c])) == 0 && c + 1 < t->n_cols)
            fputc(',', f);
    fputs("\r\n", f);
    return err;
}

static int csv_row(const struct patron_report_table *t, size_t r, FILE *f)
{
    char buf[256];
    int err = 0;
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
    return err;
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

static json_t *row_json(const struct patron_report_table *t, size_t r)
{
    json_t *row = json_object();
    for (size_t c = 0; row && c < t->n_cols; c++)
        json_object_set_new(row, t->cols[c], cell_json(patron_report_cell(t, r, c)));
    return row;
}

#define JSON_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

/* Everything before the first row: the object of the report's fields (the summary row's too)
 * with its closing brace left off, then the opening of "rows", always the last field. */
static int json_head(const struct patron_report_table *t, FILE *f)
{
    json_t *o = json_object(), *cols = json_array();
    char *text = NULL;
    int err = PATRON_ENOMEM;
    if (!o || !cols)
        goto out;
    json_object_set_new(o, "report", json_string(t->name));
    json_object_set_new(o, "title", json_string(t->title));
    for (size_t c = 0; c < t->n_cols; c++)
        json_array_append_new(cols, json_string(t->cols[c]));
    if (t->summary && t->n_rows > 0) {
        json_t *row = row_json(t, 0);
        json_object_update(o, row);
        json_decref(row);
    }
    if (t->currency[0])
        json_object_set_new(o, "currency", json_string(t->currency));
    json_object_set(o, "columns", cols);
    if (!(text = json_dumps(o, JSON_FLAGS)))
        goto out;
    text[strlen(text) - 1] = '\0'; /* the closing brace comes after the rows */
    err = fprintf(f, "%s,\"rows\":[", text) < 0 ? -EIO : 0;
out:
    free(text);
    json_decref(cols);
    json_decref(o);
    return err;
}

static int json_row(const struct patron_report_table *t, size_t r, FILE *f)
{
    json_t *row = row_json(t, r);
    if (!row)
        return PATRON_ENOMEM;
    int rc = (r > 0 && fputc(',', f) == EOF) ? -1 : json_dumpf(row, f, JSON_FLAGS);
    json_decref(row);
    return rc != 0 ? -EIO : 0;
}

/* CSV and JSON, piece by piece: the head when *next is 0, then rows from *next - 1 on. */
static int write_rows(const struct patron_report_table *t, enum patron_report_format format,
                      size_t rows, size_t *next, FILE *f)
{
    int json = format == PATRON_REPORT_JSON, err = 0;
    if (*next == 0) {
        if ((err = json ? json_head(t, f) : csv_head(t, f)) != 0)
            return err;
        *next = 1;
    }
    for (size_t n = 0; n < rows && *next - 1 < t->n_rows && err == 0; n++, (*next)++)
        err = json ? json_row(t, *next - 1, f) : csv_row(t, *next - 1, f);
    if (err == 0)
        err = patron__table_rows_failed(t);
    if (err != 0)
        return err;
    if (*next - 1 < t->n_rows)
        return ferror(f) ? -EIO : 1;
    if (json && fputs("]}\n", f) == EOF)
        return -EIO;
    *next = SIZE_MAX;
    return ferror(f) ? -EIO : 0;
}

int patron_report_write_part(const struct patron_report_table *t, enum patron_report_format format,
                             size_t rows, size_t *next, FILE *f)
{
    int err;
    if (*next == SIZE_MAX)
        return 0;
    if (format == PATRON_REPORT_CSV || format == PATRON_REPORT_JSON)
        return write_rows(t, format, rows ? rows : 1, next, f);
    if (format == PATRON_REPORT_TEXT)
        err = write_text(t, f);
    else if (format == PATRON_REPORT_SVG)
        err = patron__report_write_svg(t, f);
    else
        return PATRON_EINVAL;
    if (err == 0)
        *next = SIZE_MAX;
    return err;
}

int patron_report_write(const struct patron_report_table *t, enum patron_report_format format,
                        FILE *f)
{
    size_t next = 0;
    int rc;
    while ((rc = patron_report_write_part(t, format, SIZE_MAX, &next, f)) == 1)
        ;
    return rc;
}
