/* SPDX-License-Identifier: MIT */
/* The customer display's command sets and the frame encoder: the two built-in profiles, the
 * set-up bytes, and one frame as the display's bytes (lines placed with the cursor command and
 * padded to 20 columns, text in the profile's code page through the printer's conversion, long
 * lines scrolled by a window that goes round). Pure functions only. */
#include <string.h>

#include "patron/display.h"
#include "patron/error.h"
#include "print/escpos_internal.h"

#define CELL_MAX 3 /* bytes one code point becomes at most ("EUR") */
#define LINE_CELLS (PATRON_DISPLAY_LINE_MAX * CELL_MAX)

static const struct patron_display_profile profiles[] = {
    /* Epson DM-D110/DM-D210 class: ESC/POS display commands, CP858 (ESC t 19) at 9600 baud */
    {"epson-dm-d", PATRON_DISPLAY_SET_ESCPOS, PATRON_CODEPAGE_CP858, 9600},
    /* CD5220 and its clones: no code page command; the usual table is CP437; 9600 8N1 */
    {"cd5220", PATRON_DISPLAY_SET_CD5220, PATRON_CODEPAGE_CP437, 9600},
};

#define PROFILE_COUNT (sizeof profiles / sizeof profiles[0])

const struct patron_display_profile *patron_display_profile_find(const char *name)
{
    for (size_t i = 0; name && i < PROFILE_COUNT; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct patron_display_profile *patron_display_profile_at(size_t index)
{
    return index < PROFILE_COUNT ? &profiles[index] : NULL;
}

/* A bounded byte writer: `bad` once anything did not fit. */
struct out {
    uint8_t *p;
    size_t n, cap;
    int bad;
};

static void put(struct out *o, const uint8_t *b, size_t n)
{
    if (o->bad || o->cap - o->n < n) {
        o->bad = 1;
        return;
    }
    memcpy(o->p + o->n, b, n);
    o->n += n;
}

static void put3(struct out *o, uint8_t a, uint8_t b, uint8_t c, size_t n)
{
    const uint8_t bytes[3] = {a, b, c};
    put(o, bytes, n);
}

static int is_cd5220(const struct patron_display_profile *p)
{
    return p->set == PATRON_DISPLAY_SET_CD5220;
}

static void brightness(struct out *o, const struct patron_display_profile *p, unsigned level)
{
    level = level < 1 ? 1 : level > 4 ? 4 : level;
    if (is_cd5220(p))
        put3(o, 0x1b, 0x2a, (uint8_t)level, 3); /* ESC * n */
    else
        put3(o, 0x1f, 0x58, (uint8_t)level, 3); /* US X n */
}

static void cursor_to_line(struct out *o, const struct patron_display_profile *p, unsigned row)
{
    if (is_cd5220(p))
        put(o, (const uint8_t[]){0x1b, 0x6c, 1, (uint8_t)row}, 4); /* ESC l x y */
    else
        put(o, (const uint8_t[]){0x1f, 0x24, 1, (uint8_t)row}, 4); /* US $ x y */
}

size_t patron_display_encode_init(const struct patron_display_profile *p, uint8_t *out, size_t cap)
{
    struct out o = {out, 0, cap, 0};
    if (!p || !out)
        return 0;
    put3(&o, 0x1b, 0x40, 0, 2); /* ESC @ */
    if (is_cd5220(p)) {
        put3(&o, 0x1b, 0x11, 0, 2);    /* ESC DC1: overwrite mode */
        put3(&o, 0x1b, 0x5f, 0x00, 3); /* ESC _ 0: cursor off */
    } else {
        put3(&o, 0x1b, 0x74, p->codepage == PATRON_CODEPAGE_CP858 ? 19 : 0, 3); /* ESC t n */
        put3(&o, 0x1f, 0x01, 0, 2);    /* US MD1: overwrite mode */
        put3(&o, 0x1f, 0x43, 0x00, 3); /* US C 0: cursor off */
    }
    brightness(&o, p, 4);
    put3(&o, 0x0c, 0, 0, 1); /* CLR */
    return o.bad ? 0 : o.n;
}

/* A line in display cells: each code point in the code page (1 to 3 bytes, as the printer's
 * replacement rules give it). Returns the cell count. */
static size_t line_cells(const struct patron_display_profile *p, const char *utf8, uint8_t *cells)
{
    const unsigned char *s = (const unsigned char *)utf8;
    size_t len = strnlen(utf8, PATRON_DISPLAY_LINE_MAX), i = 0, n = 0;
    while (i < len) {
        uint32_t cp;
        uint8_t b[CELL_MAX];
        i += patron__utf8_next(s + i, len - i, &cp);
        size_t k = patron_codepage_encode(p->codepage, cp, b);
        for (size_t j = 0; j < k && n < LINE_CELLS; j++)
            cells[n++] = b[j];
    }
    return n;
}

static unsigned line_steps(size_t cells)
{
    return cells <= PATRON_DISPLAY_COLUMNS ? 1 : (unsigned)(cells + PATRON_DISPLAY_SCROLL_GAP);
}

unsigned patron_display_frame_steps(const struct patron_display_profile *p,
                                    const struct patron_display_frame *f)
{
    uint8_t cells[LINE_CELLS];
    unsigned steps = 1;
    if (!p || !f || f->blank)
        return 1;
    for (unsigned r = 0; r < PATRON_DISPLAY_ROWS; r++) {
        unsigned s = line_steps(line_cells(p, f->line[r], cells));
        steps = s > steps ? s : steps;
    }
    return steps;
}

/* The 20 cells a line shows at `step`: the line itself, padded, when it fits; else the window
 * starting `step` cells in, going round through the gap. */
static void window(const uint8_t *cells, size_t n, unsigned step, uint8_t shown[20])
{
    memset(shown, ' ', PATRON_DISPLAY_COLUMNS);
    if (n <= PATRON_DISPLAY_COLUMNS) {
        memcpy(shown, cells, n);
        return;
    }
    size_t period = n + PATRON_DISPLAY_SCROLL_GAP;
    for (size_t c = 0; c < PATRON_DISPLAY_COLUMNS; c++) {
        size_t at = (step + c) % period;
        shown[c] = at < n ? cells[at] : ' ';
    }
}

size_t patron_display_encode_frame(const struct patron_display_profile *p,
                                   const struct patron_display_frame *f, unsigned step,
                                   uint8_t *out, size_t cap)
{
    struct out o = {out, 0, cap, !p || !f || !out};
    if (o.bad)
        return 0;
    if (f->blank) {
        put3(&o, 0x0c, 0, 0, 1); /* CLR */
        brightness(&o, p, 1);
        return o.bad ? 0 : o.n;
    }
    brightness(&o, p, f->brightness ? f->brightness : 4);
    for (unsigned r = 0; r < PATRON_DISPLAY_ROWS; r++) {
        uint8_t cells[LINE_CELLS], shown[PATRON_DISPLAY_COLUMNS];
        size_t n = line_cells(p, f->line[r], cells);
        unsigned steps = line_steps(n);
        window(cells, n, step % steps, shown);
        cursor_to_line(&o, p, r + 1);
        put(&o, shown, sizeof shown);
    }
    return o.bad ? 0 : o.n;
}

void patron_display_test_frame(struct patron_display_frame *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->line[0], "12345678901234567890", 21);
    /* letters the code pages hold, and some they replace (the printer's rules) */
    memcpy(out->line[1], "\xc3\xa9\xc3\xa8\xc3\xbc\xc3\x9f \xe2\x82\xac \xc5\x82 ABC test", 25);
    out->brightness = 4;
}
