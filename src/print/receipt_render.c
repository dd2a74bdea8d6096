/* SPDX-License-Identifier: MIT */
/* Renders a compiled receipt template to ESC/POS: substitutes placeholder values, converts text
 * to the printer's code page, lays columns out in character cells the way ReceiptLine does
 * (equal shares of the line, one space between columns, text wrapped inside its column), and
 * sends codes and cuts through the encoder. Styles are sent only when they change. Also checks
 * that every template the program prints loads, before a printing command does anything. */
#include "patron/error.h"
#include "print/receipt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define MAX_LINE_CELLS 16384u
#define BREAK_STYLE 0xFFu
#define DROP_STYLE 0xFEu

struct cell {
    uint8_t byte, style;
};

struct row {
    uint32_t start, end; /* cells of the column */
    unsigned used;       /* width in character cells */
};

struct render {
    const patron_receipt *t;
    const struct patron_receipt_var *vars;
    size_t nvars;
    patron_escpos *j;
    const struct patron_escpos_profile *prof;
    uint8_t style, align; /* what the printer is set to now */
    struct cell *cells;
    size_t ncells, cap;
    char *msg;
    size_t msglen;
};

static int say(struct render *r, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int say(struct render *r, int err, const char *fmt, ...)
{
    va_list ap;
    if (r->msg && r->msglen) {
        va_start(ap, fmt);
        vsnprintf(r->msg, r->msglen, fmt, ap);
        va_end(ap);
    }
    return err;
}

static unsigned char_width(uint8_t style)
{
    unsigned s = PATRON__ST_SCALE(style);
    return s == 0 || s == 2 ? 1 : s == 1 ? 2 : s - 1;
}

/* The text of an item: the pool for literals, the caller's value for placeholders. */
static int item_text(struct render *r, const struct patron__line *l, const struct patron__item *it,
                     const char **s, size_t *n)
{
    const char *name = r->t->pool + it->off;
    if (it->kind == PATRON__ITEM_LIT) {
        *s = name;
        *n = it->len;
        return 0;
    }
    for (size_t i = 0; i < r->nvars; i++) {
        const char *k = r->vars[i].key;
        if (k && strlen(k) == it->len && memcmp(k, name, it->len) == 0 && r->vars[i].value) {
            *s = r->vars[i].value;
            *n = strlen(*s);
            if (*n > PATRON_RECEIPT_MAX_VALUE)
                return say(r, PATRON_ETOOBIG, "line %u: the value of {{%.*s}} is too long",
                           l->src_line, (int)it->len, name);
            return 0;
        }
    }
    return say(r, PATRON_EINVAL, "line %u: no value for {{%.*s}}", l->src_line, (int)it->len, name);
}

static int push_cell(struct render *r, uint8_t byte, uint8_t style)
{
    if (r->ncells == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        if (cap > MAX_LINE_CELLS)
            return say(r, PATRON_ETOOBIG, "a line of the template is too long to print");
        struct cell *c = realloc(r->cells, cap * sizeof *c);
        if (!c)
            return PATRON_ENOMEM;
        r->cells = c;
        r->cap = cap;
    }
    r->cells[r->ncells++] = (struct cell){byte, style};
    return 0;
}

/* Appends the column's text as code page cells; values are text only, never markup. */
static int column_cells(struct render *r, const struct patron__line *l,
                        const struct patron__column *c)
{
    for (uint32_t i = 0; i < c->nitems; i++) {
        const struct patron__item *it = &r->t->items[c->item0 + i];
        const char *s;
        size_t n;
        int rc;
        if (it->kind == PATRON__ITEM_BREAK) {
            if ((rc = push_cell(r, '\n', BREAK_STYLE)))
                return rc;
            continue;
        }
        if ((rc = item_text(r, l, it, &s, &n)))
            return rc;
        for (size_t k = 0; k < n;) {
            uint32_t cp;
            uint8_t out[3];
            k += patron__utf8_next((const unsigned char *)s + k, n - k, &cp);
            if (cp == '\n' || cp == '\r' || cp == '\t')
                cp = ' ';
            size_t m = patron_codepage_encode(r->prof->codepage, cp, out);
            for (size_t b = 0; b < m; b++)
                if ((rc = push_cell(r, out[b], it->style)))
                    return rc;
        }
    }
    return 0;
}

struct cursor {
    uint32_t pos, end;
    int done;
};

/* The next row of a column, at most `width` cells wide: the text wraps, or with nowrap is cut
 * at the edge; a character wider than the column is dropped, as ReceiptLine does. Dropped
 * cells are marked so that emit_row skips them. Returns 0 when the column has no more rows. */
static int next_row(struct render *r, struct cursor *c, unsigned width, int wrap, struct row *row)
{
    unsigned used = 0;
    int cut = 0;
    if (c->done)
        return 0;
    row->start = c->pos;
    for (uint32_t i = c->pos; i < c->end; i++) {
        struct cell *cell = &r->cells[i];
        if (cell->style == BREAK_STYLE) {
            row->end = i;
            row->used = used;
            c->pos = i + 1;
            c->done = c->pos == c->end;
            return 1;
        }
        unsigned w = char_width(cell->style);
        if (!cut && used + w > width && wrap && used > 0) {
            row->end = i;
            row->used = used;
            c->pos = i;
            return 1;
        }
        if (cut || w > width || used + w > width) {
            cell->style = DROP_STYLE;
            cut = cut || !wrap;
            continue;
        }
        used += w;
    }
    row->end = c->end;
    row->used = used;
    c->pos = c->end;
    c->done = 1;
    return 1;
}

static int set_style(struct render *r, uint8_t st)
{
    uint8_t d = r->style ^ st;
    if (d & PATRON__ST_BOLD)
        patron_escpos_bold(r->j, st & PATRON__ST_BOLD);
    if (d & PATRON__ST_UL)
        patron_escpos_underline(r->j, (st & PATRON__ST_UL) != 0);
    if (d & PATRON__ST_INV)
        patron_escpos_invert(r->j, (st & PATRON__ST_INV) != 0);
    if (PATRON__ST_SCALE(d)) {
        unsigned s = PATRON__ST_SCALE(st);
        unsigned w = s == 1 ? 2 : s >= 3 ? s - 1 : 1, h = s == 2 ? 2 : s >= 3 ? s - 1 : 1;
        patron_escpos_size(r->j, w, h);
    }
    r->style = st;
    return patron_escpos_error(r->j);
}

static int set_align(struct render *r, uint8_t align)
{
    if (r->align == align)
        return 0;
    r->align = align;
    return patron_escpos_align(r->j, (enum patron_escpos_align)align);
}

/* Spaces that only move the print position: plain width, no underline or inversion. */
static int pad(struct render *r, unsigned n)
{
    static const uint8_t spaces[32] = "                                ";
    if (n == 0)
        return 0;
    set_style(r, r->style & PATRON__ST_BOLD);
    while (n > 0) {
        unsigned k = n > sizeof spaces ? (unsigned)sizeof spaces : n;
        patron__escpos_cells(r->j, spaces, k);
        n -= k;
    }
    return patron_escpos_error(r->j);
}

static int emit_row(struct render *r, const struct row *row)
{
    uint32_t i = row->start;
    while (i < row->end) {
        uint32_t k = i;
        uint8_t buf[256];
        size_t n = 0;
        if (r->cells[i].style == DROP_STYLE) {
            i++;
            continue;
        }
        set_style(r, r->cells[i].style);
        while (k < row->end && r->cells[k].style == r->cells[i].style && n < sizeof buf)
            buf[n++] = r->cells[k++].byte;
        patron__escpos_cells(r->j, buf, n);
        i = k;
    }
    return patron_escpos_error(r->j);
}

/* One printed line of a text line: a single full-width column leans on ESC a, so a centred
 * title costs no spaces; several columns are placed with spaces, none trailing. */
static int emit_line(struct render *r, const struct patron__column **cols, const unsigned *widths,
                     size_t n, unsigned left, const struct row *rows)
{
    unsigned pending = left;
    if (n == 1 && widths[0] == r->prof->columns) {
        if (rows[0].end > rows[0].start) {
            set_align(r, cols[0]->align);
            emit_row(r, &rows[0]);
        }
        return patron_escpos_newline(r->j);
    }
    set_align(r, PATRON_ALIGN_LEFT);
    for (size_t i = 0; i < n; i++) {
        unsigned space = widths[i] - rows[i].used, margin = space * cols[i]->align / 2;
        if (rows[i].end > rows[i].start) {
            pad(r, pending + margin);
            emit_row(r, &rows[i]);
            pending = 0;
        } else {
            pending += margin;
        }
        pending += space - margin + 1;
    }
    return patron_escpos_newline(r->j);
}

/* Column widths as ReceiptLine computes them: fixed widths first (shrunk if they leave no
 * room), the rest shared out, one space between columns; returns the free cells left. */
static int column_widths(const struct patron__column **cols, size_t n, unsigned cpl,
                         unsigned *widths)
{
    int v = (int)cpl - (int)(n - 1);
    unsigned nvar = 0;
    for (size_t i = 0; i < n; i++) {
        widths[i] = cols[i]->width > 0 ? (unsigned)cols[i]->width : 0;
        v -= (int)widths[i];
        nvar += cols[i]->width < 0;
    }
    while ((int)nvar > v) {
        size_t big = 0;
        for (size_t i = 1; i < n; i++)
            if (widths[i] > widths[big])
                big = i;
        if (widths[big] == 0)
            break;
        widths[big]--;
        v++;
    }
    for (size_t i = 0, k = 0; i < n && nvar; i++)
        if (cols[i]->width < 0)
            widths[i] = (unsigned)(v + (int)k++) / nvar;
    return nvar ? 0 : v;
}

/* A line made only of placeholders (and spaces) whose values are all empty has nothing to say:
 * it is left out, so that "Expiring: 0" or an empty tier never reaches the paper. */
static int says_nothing(struct render *r, const struct patron__line *l)
{
    int vars = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        const struct patron__column *col = &r->t->cols[l->first + i];
        for (uint32_t k = 0; k < col->nitems; k++) {
            const struct patron__item *it = &r->t->items[col->item0 + k];
            const char *s = r->t->pool + it->off;
            size_t n = it->len;
            if (it->kind == PATRON__ITEM_BREAK)
                continue;
            if (it->kind == PATRON__ITEM_VAR && item_text(r, l, it, &s, &n) != 0)
                return 0; /* the rendering says what is missing */
            for (size_t j = 0; j < n; j++)
                if (s[j] != ' ')
                    return 0;
            vars += it->kind == PATRON__ITEM_VAR;
        }
    }
    return vars > 0;
}

static int text_line(struct render *r, const struct patron__line *l)
{
    const struct patron__column *cols[MAX_COLS];
    unsigned widths[MAX_COLS], cpl = r->prof->columns;
    struct cursor cur[MAX_COLS];
    size_t n = 0;
    int rc;
    for (uint32_t i = 0; i < l->count && n < MAX_COLS && n < (cpl + 1) / 2; i++)
        if (r->t->cols[l->first + i].width != 0)
            cols[n++] = &r->t->cols[l->first + i];
    if (n == 0)
        return patron_escpos_newline(r->j);
    unsigned left = (unsigned)column_widths(cols, n, cpl, widths) * l->align / 2;
    r->ncells = 0;
    for (size_t i = 0; i < n; i++) {
        cur[i].pos = (uint32_t)r->ncells;
        if ((rc = column_cells(r, l, cols[i])))
            return rc;
        cur[i].end = (uint32_t)r->ncells;
        cur[i].done = 0;
    }
    for (;;) {
        struct row rows[MAX_COLS];
        int any = 0;
        for (size_t i = 0; i < n; i++) {
            int got = next_row(r, &cur[i], widths[i], l->wrap, &rows[i]);
            if (!got)
                rows[i] = (struct row){0, 0, 0};
            any |= got;
        }
        if (!any)
            break;
        if ((rc = emit_line(r, cols, widths, n, left, rows)))
            return rc;
    }
    return 0;
}

static int code_line(struct render *r, const struct patron__line *l)
{
    char data[PATRON_ESCPOS_MAX_QR_DATA + 1];
    size_t len = 0;
    int rc;
    for (uint32_t i = 0; i < l->count; i++) {
        const char *s = "";
        size_t n = 0;
        if ((rc = item_text(r, l, &r->t->items[l->first + i], &s, &n)))
            return rc;
        if (n > PATRON_ESCPOS_MAX_QR_DATA - len)
            return say(r, PATRON_ETOOBIG, "line %u: the code's data is too long", l->src_line);
        memcpy(data + len, s, n);
        len += n;
    }
    data[len] = '\0';
    set_style(r, 0);
    set_align(r, l->align);
    if (l->code == PATRON__CODE_QR) {
        rc = patron_escpos_qr(r->j, data, len, l->cell, (enum patron_qr_ecc)l->ecc);
        if (rc)
            return say(r, rc, "line %u: cannot print this QR code (%s)", l->src_line,
                       patron_strerror(rc));
        return 0;
    }
    rc = patron_escpos_barcode(
        r->j, data, l->code == PATRON__CODE_EAN ? PATRON_BARCODE_EAN13 : PATRON_BARCODE_CODE128,
        l->module, l->height, l->hri);
    if (rc)
        return say(r, rc, "line %u: \"%.40s\" cannot be printed as %s", l->src_line, data,
                   l->code == PATRON__CODE_EAN ? "an EAN-13 barcode" : "a CODE128 barcode");
    return 0;
}

static int render_line(struct render *r, const struct patron__line *l)
{
    switch (l->kind) {
    case PATRON__LINE_TEXT:
        return says_nothing(r, l) ? 0 : text_line(r, l);
    case PATRON__LINE_RULE:
        set_style(r, 0);
        return patron_escpos_rule(r->j, r->prof->columns);
    case PATRON__LINE_CUT:
        return patron_escpos_cut(r->j);
    default:
        return code_line(r, l);
    }
}

int patron_receipt_render(const patron_receipt *t, const struct patron_receipt_var *vars,
                          size_t nvars, patron_escpos *job, char *msg, size_t msglen)
{
    struct render r = {
        .t = t, .vars = vars, .nvars = nvars, .j = job, .msg = msg, .msglen = msglen};
    int rc = 0;
    if (!t || !job || (nvars && !vars))
        return PATRON_EINVAL;
    r.prof = patron_escpos_profile(job);
    for (size_t i = 0; i < t->nlines && rc == 0; i++)
        rc = render_line(&r, &t->lines[i]);
    if (rc == 0) {
        set_style(&r, 0);
        set_align(&r, PATRON_ALIGN_LEFT);
        if ((rc = patron_escpos_error(job)))
            say(&r, rc, "the job is too large (%s)", patron_strerror(rc));
    }
    free(r.cells);
    return rc;
}

int patron_receipt_render_job(const patron_receipt *t, const struct patron_escpos_profile *profile,
                              const struct patron_receipt_var *vars, size_t nvars, uint8_t **out,
                              size_t *len, char *msg, size_t msglen)
{
    patron_escpos *j = NULL;
    uint8_t *copy = NULL;
    size_t n;
    int rc = patron_escpos_new(profile, 0, &j);
    if (rc)
        goto out;
    patron_escpos_init(j);
    if ((rc = patron_receipt_render(t, vars, nvars, j, msg, msglen)))
        goto out;
    const uint8_t *data = patron_escpos_data(j, &n);
    if (!(copy = malloc(n ? n : 1))) {
        rc = PATRON_ENOMEM;
        goto out;
    }
    memcpy(copy, data, n);
    *out = copy;
    *len = n;
out:
    patron_escpos_free(j);
    return rc;
}

/* Checking every template the program prints, before anything that needs one is committed. */
const char *const patron_receipt_names[] = {"reward-coupon", "offer-coupon", "receipt-footer",
                                            "member-card",   "test-page",    NULL};

int patron_receipt_check(const char *home, char *msg, size_t msglen)
{
    for (size_t i = 0; patron_receipt_names[i]; i++) {
        patron_receipt *t = NULL;
        int rc = patron_receipt_load(home, patron_receipt_names[i], &t, msg, msglen);
        patron_receipt_free(t);
        if (rc != 0)
            return rc;
    }
    return 0;
}
