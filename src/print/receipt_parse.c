/* SPDX-License-Identifier: MIT */
/* Compiles ReceiptLine markup with {{placeholders}} into the form receipt_render.c prints, and
 * loads templates from disk. Every fault is reported with its line and column, so a shop owner
 * editing a coupon learns at load time, not at the till, what is wrong. */
#include "core/store_internal.h"
#include "patron/error.h"
#include "print/receipt_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WIDTHS 16
#define MAX_NAME 64

struct code_option {
    uint8_t type, module, height, hri, cell, ecc;
};

struct parser {
    patron_receipt *t;
    const char *text;
    const char *line; /* start of the current line */
    unsigned ln;
    /* sticky state, as in ReceiptLine: it holds until a property changes it */
    uint8_t align, wrap;
    int16_t widths[MAX_WIDTHS];
    unsigned nwidths; /* 0 = auto */
    struct code_option opt;
    /* the first fault */
    const char *err_at;
    char msg[160];
};

static int fault(struct parser *p, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fault(struct parser *p, const char *at, const char *fmt, ...)
{
    va_list ap;
    if (p->err_at)
        return PATRON_EINVAL;
    p->err_at = at;
    va_start(ap, fmt);
    vsnprintf(p->msg, sizeof p->msg, fmt, ap);
    va_end(ap);
    return PATRON_EINVAL;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int pool_add(struct parser *p, const char *s, size_t n, uint32_t *off)
{
    patron_receipt *t = p->t;
    if (patron__grow((void **)&t->pool, &t->pool_cap, t->pool_len + n + 1, 1))
        return PATRON_ENOMEM;
    *off = (uint32_t)t->pool_len;
    memcpy(t->pool + t->pool_len, s, n);
    t->pool_len += n;
    t->pool[t->pool_len] = '\0';
    return 0;
}

/* Appends literal bytes, merging with the previous literal of the same style. */
static int add_lit(struct parser *p, uint32_t first_item, const char *s, size_t n, uint8_t style)
{
    patron_receipt *t = p->t;
    struct patron__item *last = t->nitems > first_item ? &t->items[t->nitems - 1] : NULL;
    uint32_t off;
    if (pool_add(p, s, n, &off))
        return PATRON_ENOMEM;
    if (last && last->kind == PATRON__ITEM_LIT && last->style == style &&
        last->off + last->len == off) {
        last->len += (uint32_t)n;
        return 0;
    }
    if (patron__grow((void **)&t->items, &t->items_cap, t->nitems + 1, sizeof *t->items))
        return PATRON_ENOMEM;
    t->items[t->nitems++] = (struct patron__item){PATRON__ITEM_LIT, style, off, (uint32_t)n};
    return 0;
}

static int add_item(struct parser *p, uint8_t kind, uint8_t style, const char *s, size_t n)
{
    patron_receipt *t = p->t;
    uint32_t off = 0;
    if (n && pool_add(p, s, n, &off))
        return PATRON_ENOMEM;
    if (patron__grow((void **)&t->items, &t->items_cap, t->nitems + 1, sizeof *t->items))
        return PATRON_ENOMEM;
    t->items[t->nitems++] = (struct patron__item){kind, style, off, (uint32_t)n};
    return 0;
}

/* {{name}} at s (which starts with "{{"); returns the bytes consumed or 0 after a fault. */
static size_t placeholder(struct parser *p, const char *s, const char *end, uint8_t style)
{
    const char *close = NULL;
    for (const char *q = s + 2; q + 1 < end; q++)
        if (q[0] == '}' && q[1] == '}') {
            close = q;
            break;
        }
    if (!close)
        return fault(p, s, "\"{{\" without a closing \"}}\""), 0;
    const char *a = s + 2, *b = close;
    while (a < b && is_ws(*a))
        a++;
    while (b > a && is_ws(b[-1]))
        b--;
    if (a == b || b - a > MAX_NAME)
        return fault(p, s, "a placeholder needs a name of 1 to %d characters", MAX_NAME), 0;
    for (const char *q = a; q < b; q++)
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
              *q == '.' || *q == '_' || *q == '-'))
            return fault(p, q, "a placeholder name holds letters, digits, '.', '_' or '-'"), 0;
    if (add_item(p, PATRON__ITEM_VAR, style, a, (size_t)(b - a)))
        return fault(p, s, "out of memory"), 0;
    return (size_t)(close + 2 - s);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* An escape at s ('\\'); writes the UTF-8 of the character to out, returns the bytes of
 * template consumed, *outlen = 0 for "\n" (a break), or 0 after a fault. */
static size_t escape(struct parser *p, const char *s, const char *end, const char *allowed,
                     char out[2], size_t *outlen)
{
    if (s + 1 >= end)
        return fault(p, s, "a line cannot end with '\\'"), 0;
    if (s[1] == 'x') {
        int hi = s + 2 < end ? hexval(s[2]) : -1;
        int lo = s + 3 < end ? hexval(s[3]) : -1;
        if (hi < 0 || lo < 0)
            return fault(p, s, "\\x needs two hexadecimal digits"), 0;
        unsigned v = (unsigned)(hi * 16 + lo);
        if (v < 0x20 || v == 0x7F)
            return fault(p, s, "\\x%02x is a control character", v), 0;
        if (v < 0x80) {
            out[0] = (char)v;
            *outlen = 1;
        } else {
            out[0] = (char)(0xC0 | v >> 6);
            out[1] = (char)(0x80 | (v & 0x3F));
            *outlen = 2;
        }
        return 4;
    }
    if (s[1] == 'n') {
        *outlen = 0;
        return 2;
    }
    if (!strchr(allowed, s[1]))
        return fault(p, s, "unknown escape \"\\%c\"", s[1]), 0;
    out[0] = s[1];
    *outlen = 1;
    return 2;
}

static int toggle_scale(const char **q, const char *end, uint8_t style)
{
    unsigned run = 0;
    while (*q < end && **q == '^') {
        run++;
        (*q)++;
    }
    unsigned d = run > 7 ? 7 : run;
    return PATRON__ST_WITH_SCALE(style, PATRON__ST_SCALE(style) == d ? 0 : d);
}

/* The text of one column, [s, end), into items. */
static int parse_text(struct parser *p, const char *s, const char *end)
{
    uint32_t first = (uint32_t)p->t->nitems;
    uint8_t style = 0;
    const char *q = s;
    while (q < end && !p->err_at) {
        char c = *q, buf[2];
        size_t n, outlen;
        if (c == '\\') {
            if (!(n = escape(p, q, end, "\\|{}-=~_\"`^", buf, &outlen)))
                break;
            if (outlen == 0 ? add_item(p, PATRON__ITEM_BREAK, style, NULL, 0)
                            : add_lit(p, first, buf, outlen, style))
                return fault(p, q, "out of memory");
            q += n;
        } else if (c == '{' && q + 1 < end && q[1] == '{') {
            if (!(n = placeholder(p, q, end, style)))
                break;
            q += n;
        } else if (c == '{' || c == '}') {
            return fault(p, q, "write a literal '%c' as \"\\%c\"", c, c);
        } else if (c == '_' || c == '"' || c == '`') {
            style ^= c == '"' ? PATRON__ST_BOLD : c == '_' ? PATRON__ST_UL : PATRON__ST_INV;
            q++;
        } else if (c == '^') {
            style = (uint8_t)toggle_scale(&q, end, style);
        } else if ((unsigned char)c < 0x20 && c != '\t') {
            return fault(p, q, "control character 0x%02x in text", (unsigned)c);
        } else {
            if (add_lit(p, first, c == '~' || c == '\t' ? " " : q, 1, style))
                return fault(p, q, "out of memory");
            q++;
        }
    }
    return p->err_at ? PATRON_EINVAL : 0;
}

static int add_line(struct parser *p, struct patron__line *l)
{
    patron_receipt *t = p->t;
    if (patron__grow((void **)&t->lines, &t->lines_cap, t->nlines + 1, sizeof *t->lines))
        return fault(p, p->line, "out of memory");
    l->src_line = p->ln;
    l->align = p->align;
    l->wrap = p->wrap;
    t->lines[t->nlines++] = *l;
    return 0;
}

/* The value of a property member other than code: escapes resolved, no placeholders. */
static int plain_value(struct parser *p, const char *v, const char *end, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *q = v; q < end;) {
        char c[2];
        size_t k = 1, clen = 1;
        c[0] = *q;
        if (*q == '\\' && !(k = escape(p, q, end, "\\;{}|", c, &clen)))
            return PATRON_EINVAL;
        if (*q == '{' || *q == '}')
            return fault(p, q, "only the code property may hold placeholders");
        if (n + clen >= cap)
            return fault(p, v, "property value too long");
        memcpy(buf + n, c, clen);
        n += clen;
        q += k;
    }
    buf[n] = '\0';
    return 0;
}

/* Code data: literal text and placeholders, no styles. */
static int code_items(struct parser *p, const char *v, const char *end)
{
    uint32_t first = (uint32_t)p->t->nitems;
    for (const char *q = v; q < end && !p->err_at;) {
        char c[2];
        size_t k, clen;
        if (*q == '{' && q + 1 < end && q[1] == '{') {
            if ((k = placeholder(p, q, end, 0)))
                q += k;
        } else if (*q == '{' || *q == '}') {
            return fault(p, q, "write a literal '%c' as \"\\%c\"", *q, *q);
        } else if (*q == '\\') {
            if ((k = escape(p, q, end, "\\;{}|", c, &clen)) &&
                add_lit(p, first, clen ? c : "\n", clen ? clen : 1, 0))
                return fault(p, q, "out of memory");
            q += k ? k : 1;
        } else {
            if (add_lit(p, first, q, 1, 0))
                return fault(p, q, "out of memory");
            q++;
        }
    }
    return p->err_at ? PATRON_EINVAL : 0;
}

static int lower_eq(const char *s, const char *word)
{
    while (*s && *word && (*s | 0x20) == *word) {
        s++;
        word++;
    }
    return !*s && !*word;
}

static int set_align(struct parser *p, const char *v, const char *at)
{
    static const char *const names[] = {"left", "center", "right"};
    for (uint8_t i = 0; i < 3; i++)
        if (lower_eq(v, names[i])) {
            p->align = i;
            return 0;
        }
    return fault(p, at, "align is left, center or right");
}

static int set_width(struct parser *p, char *v, const char *at)
{
    unsigned n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(v, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
        char *e;
        long w = strtol(tok, &e, 10);
        if (lower_eq(tok, "auto")) {
            p->nwidths = 0;
            return 0;
        }
        if (n == MAX_WIDTHS)
            return fault(p, at, "at most %d column widths", MAX_WIDTHS);
        if (strcmp(tok, "*") == 0)
            w = -1;
        else if (*e || e == tok || w < 0 || w > 255)
            return fault(p, at, "a width is '*', 'auto' or a number of characters");
        p->widths[n++] = (int16_t)w;
    }
    p->nwidths = n;
    return 0;
}

static int option_token(struct parser *p, const char *tok, struct code_option *o, unsigned *seen,
                        const char *at)
{
    static const char *const unsupported[] = {"upc", "code39", "itf", "codabar", "nw7", "code93"};
    char *e;
    long n = strtol(tok, &e, 10);
    if (e != tok && !*e) {
        int used = 0;
        if (n >= 2 && n <= 4 && !(*seen & 1))
            o->module = (uint8_t)n, *seen |= 1, used = 1;
        if (n >= 24 && n <= 240 && !(*seen & 2))
            o->height = (uint8_t)n, *seen |= 2, used = 1;
        if (n >= 3 && n <= 8 && !(*seen & 4))
            o->cell = (uint8_t)n, *seen |= 4, used = 1;
        return used ? 0 : fault(p, at, "option number %ld fits no setting", n);
    }
    if (lower_eq(tok, "qrcode") || lower_eq(tok, "code128") || lower_eq(tok, "ean") ||
        lower_eq(tok, "jan")) {
        o->type = (tok[0] | 0x20) == 'q'   ? PATRON__CODE_QR
                  : (tok[0] | 0x20) == 'c' ? PATRON__CODE_128
                                           : PATRON__CODE_EAN;
        return 0;
    }
    if (strlen(tok) == 1 && strchr("lmqhLMQH", tok[0])) {
        o->ecc = (uint8_t)(PATRON_QR_ECC_L + (strchr("lmqh", tok[0] | 0x20) - "lmqh"));
        return 0;
    }
    if (lower_eq(tok, "hri") || lower_eq(tok, "nohri")) {
        o->hri = (tok[0] | 0x20) == 'h';
        return 0;
    }
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (lower_eq(tok, unsupported[i]))
            return fault(p, at, "barcode type \"%s\" is not supported (use ean or code128)", tok);
    return fault(p, at, "unknown option \"%s\"", tok);
}

static int set_option(struct parser *p, char *v, const char *at)
{
    struct code_option o = {PATRON__CODE_128, 2, 72, 0, 0, PATRON_QR_ECC_L};
    unsigned seen = 0;
    char *save = NULL;
    for (char *tok = strtok_r(v, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save))
        if (option_token(p, tok, &o, &seen, at))
            return PATRON_EINVAL;
    p->opt = o;
    return 0;
}

struct member {
    char key[8]; /* canonical name */
    const char *val, *vend;
};

static const char *canonical_key(const char *k, size_t n)
{
    static const char *const keys[] = {"align", "border", "code",    "image",  "option",
                                       "text",  "width",  "command", "comment"};
    static const char abbr[] = "abciotwx_";
    if (n == 1 && strchr(abbr, k[0]))
        return keys[strchr(abbr, k[0]) - abbr];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strlen(keys[i]) == n && strncmp(keys[i], k, n) == 0)
            return keys[i];
    return NULL;
}

/* "key: value" in [s, e); a blank member is allowed and yields m->key[0] == 0. */
static int parse_member(struct parser *p, const char *s, const char *e, struct member *m)
{
    const char *k, *key;
    m->key[0] = '\0';
    while (s < e && is_ws(*s))
        s++;
    while (e > s && is_ws(e[-1]))
        e--;
    if (s == e)
        return 0;
    for (k = s; k < e && (*k == '_' || ((*k | 0x20) >= 'a' && (*k | 0x20) <= 'z') ||
                          (k > s && *k >= '0' && *k <= '9'));
         k++)
        ;
    if (!(key = canonical_key(s, (size_t)(k - s))))
        return fault(p, s, "unknown property \"%.*s\"", (int)(k - s), s);
    while (k < e && is_ws(*k))
        k++;
    if (k == e || *k != ':')
        return fault(p, k, "a property member is written \"key: value\"");
    for (k++; k < e && is_ws(*k);)
        k++;
    if (k == e)
        return fault(p, k, "property \"%s\" has no value", key);
    if (!strcmp(key, "border") || !strcmp(key, "image") || !strcmp(key, "command"))
        return fault(p, s, "property \"%s\" is not supported", key);
    snprintf(m->key, sizeof m->key, "%s", key);
    m->val = k;
    m->vend = e;
    return 0;
}

static const struct member *find_member(const struct member *m, size_t n, const char *key)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(m[i].key, key) == 0)
            return &m[i];
    return NULL;
}

/* Members apply in ReceiptLine's order (text, width, align, option, code), whatever their
 * order in the braces, so "{code:X; option:qrcode}" is a QR code. */
static int apply_members(struct parser *p, const struct member *m, size_t n)
{
    static const char *const order[] = {"text", "width", "align", "option"};
    char buf[256] = "";
    for (size_t i = 0; i < 4; i++) {
        const struct member *x = find_member(m, n, order[i]);
        if (!x)
            continue;
        if (plain_value(p, x->val, x->vend, buf, sizeof buf))
            return PATRON_EINVAL;
        int rc = i == 0   ? (lower_eq(buf, "wrap") || lower_eq(buf, "nowrap")
                                 ? (p->wrap = lower_eq(buf, "wrap"), 0)
                                 : fault(p, x->val, "text is wrap or nowrap"))
                 : i == 1 ? set_width(p, buf, x->val)
                 : i == 2 ? set_align(p, buf, x->val)
                          : set_option(p, buf, x->val);
        if (rc)
            return rc;
    }
    const struct member *code = find_member(m, n, "code");
    if (!code)
        return 0;
    struct patron__line l = {.kind = PATRON__LINE_CODE, .first = (uint32_t)p->t->nitems};
    if (code_items(p, code->val, code->vend))
        return PATRON_EINVAL;
    l.count = (uint32_t)(p->t->nitems - l.first);
    l.code = p->opt.type;
    l.module = p->opt.module;
    l.height = p->opt.height;
    l.hri = p->opt.hri;
    l.cell = p->opt.cell;
    l.ecc = p->opt.ecc;
    return add_line(p, &l);
}

/* A property line "{key: value; ...}" in [a, b). */
static int parse_property(struct parser *p, const char *a, const char *b)
{
    struct member m[16];
    size_t n = 0;
    if (b - a < 2 || b[-1] != '}')
        return fault(p, a, "a property ends with '}'");
    const char *s = a + 1, *end = b - 1;
    while (s <= end) {
        const char *e = s;
        while (e < end && *e != ';') {
            if (*e == '\\' && e + 1 < end)
                e++;
            else if (e[0] == '{' && e + 1 < end && e[1] == '{') {
                const char *c = strstr(e + 2, "}}");
                if (c && c < end)
                    e = c + 1;
            }
            e++;
        }
        if (n == 16)
            return fault(p, s, "too many property members");
        if (parse_member(p, s, e, &m[n]))
            return PATRON_EINVAL;
        n += m[n].key[0] != '\0';
        s = e + 1;
    }
    if (n == 0)
        return fault(p, a, "an empty property");
    return apply_members(p, m, n);
}

/* Pipe positions of [s, end), skipping escapes and placeholders; returns how many. */
static size_t find_pipes(const char *s, const char *end, const char **pipes, size_t cap)
{
    size_t n = 0;
    for (const char *q = s; q < end; q++) {
        if (*q == '\\' && q + 1 < end) {
            q++;
        } else if (q[0] == '{' && q + 1 < end && q[1] == '{') {
            const char *c = strstr(q + 2, "}}");
            if (c && c < end)
                q = c + 1;
        } else if (*q == '|' && n < cap) {
            pipes[n++] = q;
        }
    }
    return n;
}

static int only(const char *s, const char *end, char c)
{
    for (const char *q = s; q < end; q++)
        if (*q != c)
            return 0;
    return end > s;
}

/* One column [a, b) (untrimmed) with its alignment from the spaces around it; *whole = 1 when
 * it was a property, rule or cut, which make up the whole line. */
static int parse_column(struct parser *p, const char *a, const char *b, int lead, int trail,
                        unsigned index, int single, int *whole)
{
    patron_receipt *t = p->t;
    lead = lead || (a < b && is_ws(*a));
    trail = trail || (a < b && is_ws(b[-1]));
    while (a < b && is_ws(*a))
        a++;
    while (b > a && is_ws(b[-1]))
        b--;
    if (a < b && *a == '{' && !(b - a > 1 && a[1] == '{')) {
        if (!single)
            return fault(p, a, "a property {...} must stand alone on its line");
        *whole = 1;
        return parse_property(p, a, b);
    }
    if (single && (only(a, b, '-') || only(a, b, '='))) {
        struct patron__line l = {.kind = *a == '-' ? PATRON__LINE_RULE : PATRON__LINE_CUT};
        *whole = 1;
        return add_line(p, &l);
    }
    if (patron__grow((void **)&t->cols, &t->cols_cap, t->ncols + 1, sizeof *t->cols))
        return fault(p, a, "out of memory");
    struct patron__column *c = &t->cols[t->ncols++];
    c->item0 = (uint32_t)t->nitems;
    c->align = (uint8_t)(1 + lead - trail);
    c->width = p->nwidths == 0 ? -1 : index < p->nwidths ? p->widths[index] : 0;
    if (parse_text(p, a, b))
        return PATRON_EINVAL;
    c = &t->cols[t->ncols - 1];
    c->nitems = (uint32_t)t->nitems - c->item0;
    return 0;
}

/* One line [s, end) without its line break. */
static int parse_line(struct parser *p, const char *s, const char *end)
{
    const char *pipes[128];
    while (s < end && is_ws(*s))
        s++;
    while (end > s && is_ws(end[-1]))
        end--;
    size_t np = find_pipes(s, end, pipes, 128);
    if (np >= 128)
        return fault(p, s, "too many columns");
    int lead = np && pipes[0] == s, trail = np && pipes[np - 1] == end - 1 && end - 1 != s;
    /* ReceiptLine's magnet rule: a column touching an outer pipe leans towards it */
    const char *a = lead ? s + 1 : s;
    size_t ncols = np + 1 - (size_t)lead - (size_t)trail;
    struct patron__line l = {.kind = PATRON__LINE_TEXT, .first = (uint32_t)p->t->ncols};
    if (np == 1 && lead && trail)
        ncols = 1; /* "|" alone */
    for (size_t i = 0; i < ncols; i++) {
        const char *b = (size_t)lead + i < np ? pipes[lead + i] : end;
        int first_lean = i == 0 && !lead && np && b > a && !is_ws(b[-1]);
        int last_lean = i == ncols - 1 && !trail && np && a < b && !is_ws(*a);
        int whole = 0;
        if (parse_column(p, a, b, first_lean, last_lean, (unsigned)i, ncols == 1, &whole))
            return PATRON_EINVAL;
        if (whole)
            return 0;
        a = b + 1;
    }
    l.count = (uint32_t)(p->t->ncols - l.first);
    return add_line(p, &l);
}

static int check_utf8(struct parser *p, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = patron__utf8_next(s + i, n - i, &cp);
        if (cp == 0xFFFD && !(k == 3 && s[i] == 0xEF && s[i + 1] == 0xBF && s[i + 2] == 0xBD))
            return fault(p, text + i, "the template is not valid UTF-8");
        i += k;
    }
    return 0;
}

static void locate(const struct parser *p, unsigned *line, unsigned *col)
{
    unsigned ln = 1, c = 1;
    for (const char *q = p->text; q < p->err_at; q++) {
        if (*q == '\n') {
            ln++;
            c = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = ln;
    *col = c;
}

void patron_receipt_free(patron_receipt *t)
{
    if (!t)
        return;
    free(t->pool);
    free(t->items);
    free(t->cols);
    free(t->lines);
    free(t);
}

int patron_receipt_parse(const char *text, patron_receipt **out, unsigned *err_line,
                         unsigned *err_col, char *msg, size_t msglen)
{
    struct parser p = {.text = text, .align = 1, .wrap = 1};
    p.opt = (struct code_option){PATRON__CODE_128, 2, 72, 0, 0, PATRON_QR_ECC_L};
    int rc = 0;
    if (!text || strlen(text) > PATRON_RECEIPT_MAX_TEXT) {
        if (msg && msglen)
            snprintf(msg, msglen, "a template holds at most %u bytes", PATRON_RECEIPT_MAX_TEXT);
        return text ? PATRON_ETOOBIG : PATRON_EINVAL;
    }
    if (!(p.t = calloc(1, sizeof *p.t)))
        return PATRON_ENOMEM;
    if ((rc = check_utf8(&p, text)) != 0)
        goto out;
    for (const char *s = text; *s;) {
        const char *nl = strchr(s, '\n'), *end = nl ? nl : s + strlen(s);
        p.line = s;
        p.ln++;
        if ((rc = parse_line(&p, s, end > s && end[-1] == '\r' ? end - 1 : end)) != 0)
            goto out;
        s = nl ? nl + 1 : end;
    }
out:
    if (rc) {
        unsigned line = 0, col = 0;
        if (p.err_at)
            locate(&p, &line, &col);
        if (err_line)
            *err_line = line;
        if (err_col)
            *err_col = col;
        if (msg && msglen)
            snprintf(msg, msglen, "line %u, column %u: %s", line, col, p.msg);
        patron_receipt_free(p.t);
        return rc;
    }
    *out = p.t;
    return 0;
}

static int valid_name(const char *name)
{
    size_t n = 0;
    for (; name[n]; n++)
        if (!((name[n] >= 'a' && name[n] <= 'z') || (name[n] >= 'A' && name[n] <= 'Z') ||
              (name[n] >= '0' && name[n] <= '9') || name[n] == '-' || name[n] == '_'))
            return 0;
    return n > 0 && n <= MAX_NAME;
}

/* Reads a whole file of at most PATRON_RECEIPT_MAX_TEXT bytes; -ENOENT when it is absent. */
static int read_text(const char *path, char **out)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    int rc = 0;
    if (!f)
        return -errno;
    if (!(buf = malloc(PATRON_RECEIPT_MAX_TEXT + 2))) {
        rc = PATRON_ENOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, PATRON_RECEIPT_MAX_TEXT + 1, f);
    if (ferror(f))
        rc = -EIO;
    else if (n > PATRON_RECEIPT_MAX_TEXT)
        rc = PATRON_ETOOBIG;
    else if (memchr(buf, '\0', n))
        rc = PATRON_EINVAL;
    if (rc)
        goto out;
    buf[n] = '\0';
    *out = buf;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

int patron_receipt_load(const char *home, const char *name, patron_receipt **out, char *msg,
                        size_t msglen)
{
    const char *dirs[3] = {NULL, PATRON_RECEIPTS_INSTALL_DIR, PATRON_RECEIPTS_SOURCE_DIR};
    char path[4096], home_dir[4096], detail[200];
    if (!name || !valid_name(name)) {
        if (msg && msglen)
            snprintf(msg, msglen, "a template name holds letters, digits, '-' and '_' only");
        return PATRON_EINVAL;
    }
    if (home && snprintf(home_dir, sizeof home_dir, "%s/receipts", home) < (int)sizeof home_dir)
        dirs[0] = home_dir;
    for (size_t i = 0; i < 3; i++) {
        char *text = NULL;
        unsigned line = 0, col = 0;
        if (!dirs[i] ||
            snprintf(path, sizeof path, "%s/%s.receipt", dirs[i], name) >= (int)sizeof path)
            continue;
        int rc = read_text(path, &text);
        if (rc == -ENOENT || rc == -ENOTDIR)
            continue;
        if (rc) {
            if (msg && msglen)
                snprintf(msg, msglen, "%s: %s", path, patron_strerror(rc));
            return rc;
        }
        rc = patron_receipt_parse(text, out, &line, &col, detail, sizeof detail);
        free(text);
        if (rc && msg && msglen)
            snprintf(msg, msglen, "%s:%u:%u: %s", path, line, col, detail);
        return rc;
    }
    if (msg && msglen)
        snprintf(msg, msglen, "no template \"%s\" (looked in %s/receipts and %s)", name,
                 home ? home : "$PATRON_HOME", PATRON_RECEIPTS_SOURCE_DIR);
    return PATRON_ENOTFOUND;
}
