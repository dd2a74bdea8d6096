/* SPDX-License-Identifier: MIT */
/* The printer model's command interpreter: it walks ESC/POS bytes the way a thermal printer
 * does, keeps the print modes, gathers text into a line and prints it at LF, and hands images,
 * QR codes and barcodes to their drawing code. Anything it does not understand is reported
 * with its offset, so a test sees a stray byte instead of a silently different picture. */
#include "font.h"
#include "model_internal.h"
#include "patron/error.h"
#include "patron/escpos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reset_modes(struct patron_model *m)
{
    m->bold = m->ul = m->inv = 0;
    m->w = m->h = 1;
    m->align = 0;
    m->codepage = 0;
    m->gap = MODEL_LINE_GAP;
    m->qr_module = 3;
    m->qr_ecc = 48;
    m->bc_module = 3;
    m->bc_height = 162;
    m->hri = 0;
    m->nline = 0;
    m->line_dots = 0;
}

int patron_model_new(unsigned width_dots, struct patron_model **out)
{
    if (width_dots < 8 || width_dots > 2048)
        return PATRON_EINVAL;
    struct patron_model *m = calloc(1, sizeof *m);
    if (!m)
        return PATRON_ENOMEM;
    m->width = width_dots;
    m->bpr = (width_dots + 7) / 8;
    reset_modes(m);
    *out = m;
    return 0;
}

void patron_model_free(struct patron_model *m)
{
    if (!m)
        return;
    free(m->bits);
    free(m->qr_data);
    model_qr_forget(m);
    free(m);
}

int model_reserve(struct patron_model *m, unsigned rows)
{
    if (m->full || rows > PATRON_MODEL_MAX_ROWS - m->y) {
        m->full = 1;
        return PATRON_ETOOBIG;
    }
    unsigned need = m->y + rows;
    if (need <= m->rows_cap)
        return 0;
    unsigned cap = m->rows_cap ? m->rows_cap : 512;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(m->bits, (size_t)cap * m->bpr);
    if (!b)
        return PATRON_ENOMEM;
    memset(b + (size_t)m->rows_cap * m->bpr, 0, (size_t)(cap - m->rows_cap) * m->bpr);
    m->bits = b;
    m->rows_cap = cap;
    return 0;
}

void model_dot(struct patron_model *m, unsigned x, unsigned y)
{
    if (x < m->width && y < m->rows_cap)
        m->bits[(size_t)y * m->bpr + x / 8] |= (uint8_t)(0x80 >> (x % 8));
}

void model_block(struct patron_model *m, unsigned x, unsigned y, unsigned w, unsigned h)
{
    for (unsigned r = y; r < y + h; r++)
        for (unsigned c = x; c < x + w; c++)
            model_dot(m, c, r);
}

static void invert_block(struct patron_model *m, unsigned x, unsigned y, unsigned w, unsigned h)
{
    for (unsigned r = y; r < y + h && r < m->rows_cap; r++)
        for (unsigned c = x; c < x + w && c < m->width; c++)
            m->bits[(size_t)r * m->bpr + c / 8] ^= (uint8_t)(0x80 >> (c % 8));
}

/* One character cell from font A (the console font, firmware-host/font.h) in the selected code
 * page, each dot scaled by the character size; emphasis uses the bold face. */
static void draw_glyph(struct patron_model *m, const struct model_glyph *g, unsigned x, unsigned y)
{
    unsigned cw = MODEL_CELL_W * g->w, ch = MODEL_CELL_H * g->h;
    const uint16_t *rows = patron__font[g->bold ? 1 : 0][m->codepage == 19 ? 1 : 0][g->byte];
    for (unsigned r = 0; r < MODEL_CELL_H; r++)
        for (unsigned c = 0; c < MODEL_CELL_W; c++)
            if (rows[r] >> (MODEL_CELL_W - 1 - c) & 1)
                model_block(m, x + c * g->w, y + r * g->h, g->w, g->h);
    if (g->ul)
        model_block(m, x, y + ch - g->ul, cw, g->ul);
    if (g->inv)
        invert_block(m, x, y, cw, ch);
}

static unsigned align_x(const struct patron_model *m, unsigned w)
{
    if (w >= m->width || m->align == 0)
        return 0;
    return m->align == 1 ? (m->width - w) / 2 : m->width - w;
}

/* Prints the line buffer (an empty one feeds a line) and moves down. */
static int print_line(struct patron_model *m)
{
    unsigned hmax = m->nline ? 1 : m->h;
    for (unsigned i = 0; i < m->nline; i++)
        if (m->line[i].h > hmax)
            hmax = m->line[i].h;
    int rc = model_reserve(m, MODEL_CELL_H * hmax + m->gap);
    if (rc)
        return rc;
    unsigned x = align_x(m, m->line_dots);
    for (unsigned i = 0; i < m->nline; i++) {
        const struct model_glyph *g = &m->line[i];
        draw_glyph(m, g, x, m->y + MODEL_CELL_H * (hmax - g->h));
        x += MODEL_CELL_W * g->w;
    }
    m->y += MODEL_CELL_H * hmax + m->gap;
    m->nline = 0;
    m->line_dots = 0;
    return 0;
}

/* Images, codes and cuts act at the start of a line: print what was received first. */
static int flush_pending(struct patron_model *m)
{
    return m->nline ? print_line(m) : 0;
}

int patron_model_flush(struct patron_model *m)
{
    return flush_pending(m);
}

static int add_char(struct patron_model *m, uint8_t b)
{
    unsigned cw = MODEL_CELL_W * m->w;
    if (m->line_dots + cw > m->width || m->nline == MODEL_MAX_LINE) {
        int rc = print_line(m); /* the printer wraps a full line */
        if (rc)
            return rc;
    }
    m->line[m->nline++] = (struct model_glyph){b, m->bold, m->ul, m->inv, m->w, m->h};
    m->line_dots += cw;
    return 0;
}

static int feed_dots(struct patron_model *m, unsigned dots)
{
    int rc = model_reserve(m, dots);
    if (rc == 0)
        m->y += dots;
    return rc;
}

void model_report(struct patron_model *m, const uint8_t *at, size_t off, size_t avail,
                  const char *what)
{
    if (m->nunknown < PATRON_MODEL_MAX_UNKNOWN) {
        struct patron_model_unknown *u = &m->unknown[m->nunknown];
        u->offset = m->base + m->pos + off;
        u->len = avail < sizeof u->bytes ? avail : sizeof u->bytes;
        memcpy(u->bytes, at, u->len);
        snprintf(u->what, sizeof u->what, "%s", what);
    }
    m->nunknown++;
}

static int raster(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    /* GS v 0 m xL xH yL yH d1...dk */
    if (avail < 8)
        return 1;
    unsigned mode = p[3] % 48, bx = p[4] | p[5] << 8, rows = p[6] | p[7] << 8;
    size_t n = (size_t)bx * rows;
    if (mode > 3 || avail - 8 < n)
        return 1;
    *used = 8 + n;
    unsigned sx = mode & 1 ? 2 : 1, sy = mode & 2 ? 2 : 1, w = bx * 8 * sx;
    int rc = flush_pending(m);
    if (rc == 0)
        rc = model_reserve(m, rows * sy);
    if (rc)
        return rc;
    if (w > m->width)
        model_report(m, p, 0, 8, "raster image wider than the paper");
    unsigned x0 = align_x(m, w);
    for (unsigned r = 0; r < rows; r++)
        for (unsigned c = 0; c < bx * 8; c++)
            if (p[8 + (size_t)r * bx + c / 8] & (0x80 >> (c % 8)))
                model_block(m, x0 + c * sx, m->y + r * sy, sx, sy);
    m->y += rows * sy;
    return 0;
}

/* GS ( k: only the QR code functions (cn 49) are modelled. */
static int qr_command(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    if (avail < 7)
        return 1;
    size_t len = p[3] | (size_t)p[4] << 8;
    if (len < 2 || avail - 5 < len)
        return 1;
    *used = 5 + len;
    unsigned cn = p[5], fn = p[6];
    if (cn != 49) {
        model_report(m, p, 0, 7, "GS ( k for a symbol other than QR");
        return 0;
    }
    switch (fn) {
    case 65: /* model: n1 = 49 (model 1) or 50 (model 2) */
        if (len < 4 || p[7] != 50)
            model_report(m, p, 0, avail < 8 ? avail : 8, "QR model other than 2");
        return 0;
    case 67:
        if (len < 3 || p[7] < 1 || p[7] > 16)
            return 1;
        m->qr_module = p[7];
        return 0;
    case 69:
        if (len < 3 || p[7] < 48 || p[7] > 51)
            return 1;
        m->qr_ecc = p[7];
        return 0;
    case 80: {
        if (len < 3 || p[7] != 48)
            return 1;
        uint8_t *d = realloc(m->qr_data, len - 3 + 1);
        if (!d)
            return PATRON_ENOMEM;
        memcpy(d, p + 8, len - 3);
        m->qr_data = d;
        m->qr_len = len - 3;
        model_qr_forget(m);
        return 0;
    }
    case 81:
        return model_qr_print(m);
    case 82: /* size information goes back to the host; nothing prints */
        return 0;
    default:
        model_report(m, p, 0, 7, "unknown QR function");
        return 0;
    }
}

/* GS k: the "m n d1...dn" form; the old NUL-terminated form (m 0..6) is reported. */
static int barcode_command(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    if (avail < 4)
        return 1;
    if (p[2] <= 6) {
        const uint8_t *nul = memchr(p + 3, 0, avail - 3);
        *used = nul ? (size_t)(nul - p) + 1 : avail;
        model_report(m, p, 0, 3, "barcode in the NUL-terminated form");
        return 0;
    }
    size_t n = p[3];
    if (avail - 4 < n)
        return 1;
    *used = 4 + n;
    int rc = flush_pending(m);
    if (rc == 0)
        rc = model_barcode(m, p[2], p + 4, n);
    if (rc == 1) {
        model_report(m, p, 0, 4, "barcode type or data not modelled");
        rc = 0;
    }
    return rc;
}

static int cut(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    unsigned kind = p[2];
    int with_n = kind == 65 || kind == 66 || kind == 97 || kind == 98 || kind == 103 || kind == 104;
    if (!(kind <= 1 || kind == 48 || kind == 49 || with_n))
        return 1;
    if (with_n && avail < 4)
        return 1;
    *used = with_n ? 4 : 3;
    int rc = flush_pending(m);
    if (rc == 0 && with_n && kind < 100)
        rc = feed_dots(m, p[3]);
    if (rc == 0)
        rc = model_reserve(m, 8);
    if (rc)
        return rc;
    for (unsigned x = 0; x < m->width; x += 8)
        model_block(m, x, m->y + 3, 4, 1); /* a dashed mark where the knife went */
    if (m->ncuts < sizeof m->cuts / sizeof m->cuts[0])
        m->cuts[m->ncuts++] = m->y + 3;
    m->y += 8;
    return 0;
}

static int esc_command(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    unsigned n = avail > 2 ? p[2] : 0;
    *used = 3;
    switch (p[1]) {
    case '@':
        reset_modes(m);
        *used = 2;
        return 0;
    case '2':
        m->gap = MODEL_LINE_GAP;
        *used = 2;
        return 0;
    }
    if (avail < 3)
        return 1;
    switch (p[1]) {
    case 't':
        m->codepage = (uint8_t)n;
        return 0;
    case 'E':
        m->bold = n & 1;
        return 0;
    case '-':
        m->ul = (uint8_t)(n % 48 > 2 ? 0 : n % 48);
        return 0;
    case 'a':
        m->align = (uint8_t)(n % 48 > 2 ? 0 : n % 48);
        return 0;
    case '3':
        m->gap = n > MODEL_CELL_H ? n - MODEL_CELL_H : 0;
        return 0;
    case '!':
        m->bold = (n & 8) != 0;
        m->h = n & 16 ? 2 : 1;
        m->w = n & 32 ? 2 : 1;
        m->ul = (n & 128) != 0;
        return 0;
    case 'J': {
        int rc = flush_pending(m);
        return rc ? rc : feed_dots(m, n);
    }
    case 'd': { /* the line printed from the buffer is the first of the n fed */
        unsigned pending = m->nline != 0;
        int rc = pending ? print_line(m) : 0;
        for (unsigned i = pending; rc == 0 && i < n; i++)
            rc = print_line(m);
        return rc;
    }
    }
    *used = 2;
    model_report(m, p, 0, avail, "unknown ESC command");
    return 0;
}

static int gs_command(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    switch (p[1]) {
    case 'v':
        return avail > 2 && p[2] == '0' ? raster(m, p, avail, used) : 1;
    case '(':
        return avail > 2 && p[2] == 'k' ? qr_command(m, p, avail, used) : 1;
    case 'k':
        return barcode_command(m, p, avail, used);
    case 'V':
        return avail > 2 ? cut(m, p, avail, used) : 1;
    }
    if (avail < 3)
        return 1;
    unsigned n = p[2];
    *used = 3;
    switch (p[1]) {
    case '!':
        m->w = (uint8_t)((n >> 4 & 7) + 1);
        m->h = (uint8_t)((n & 7) + 1);
        return 0;
    case 'B':
        m->inv = n & 1;
        return 0;
    case 'w':
        m->bc_module = n < 1 ? 1 : n > 6 ? 6 : n;
        return 0;
    case 'h':
        m->bc_height = n ? n : 1;
        return 0;
    case 'H':
        m->hri = n % 48 > 3 ? 0 : n % 48;
        return 0;
    case 'f':
    case 'a':
    case 'r':
        return 0; /* HRI font, status back: nothing to draw */
    }
    *used = 2;
    model_report(m, p, 0, avail, "unknown GS command");
    return 0;
}

/* One command or character at p; *used receives its length. */
static int step(struct patron_model *m, const uint8_t *p, size_t avail, size_t *used)
{
    *used = 1;
    switch (p[0]) {
    case 0x0A:
        return print_line(m);
    case 0x0D:
        return 0;
    case 0x10: /* DLE EOT / DLE ENQ: real-time requests, nothing prints */
        if (avail >= 3 && (p[1] == 0x04 || p[1] == 0x05)) {
            *used = 3;
            return 0;
        }
        break;
    case 0x1B:
        return avail < 2 ? 1 : esc_command(m, p, avail, used);
    case 0x1D:
        return avail < 2 ? 1 : gs_command(m, p, avail, used);
    default:
        if (p[0] >= 0x20)
            return add_char(m, p[0]);
    }
    *used = avail < 2 ? 1 : 2;
    model_report(m, p, 0, avail, "unknown command");
    return 0;
}

int patron_model_feed(struct patron_model *m, const uint8_t *data, size_t len)
{
    size_t i = 0;
    int rc = 0;
    while (i < len && rc <= 0) {
        size_t used = 1;
        m->pos = i;
        rc = step(m, data + i, len - i, &used);
        if (rc > 0) {
            model_report(m, data + i, 0, len - i, "truncated or malformed command");
            break;
        }
        if (rc < 0)
            break;
        i += used;
    }
    m->base += len;
    m->pos = 0;
    return rc < 0 ? rc : 0;
}

const struct patron_model_unknown *patron_model_unknown(const struct patron_model *m, size_t *count)
{
    *count = m->nunknown;
    return m->unknown;
}

const uint8_t *patron_model_bitmap(const struct patron_model *m, unsigned *width, unsigned *height)
{
    *width = m->width;
    *height = m->y;
    return m->bits;
}

const unsigned *patron_model_cuts(const struct patron_model *m, size_t *count)
{
    *count = m->ncuts;
    return m->cuts;
}
