/* SPDX-License-Identifier: MIT */
/* The ESC/POS job builder: a bounded growable buffer plus one function per command, and the
 * table of printer profiles. QR codes go out natively (GS ( k) or, for printers without it, as
 * raster images that libqrencode draws; both choose a module size that fits the paper. */
#include "patron/escpos.h"
#include "patron/error.h"
#include "print/escpos_internal.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct patron_escpos {
    struct patron_escpos_profile profile;
    uint8_t *buf;
    size_t len, cap, max;
    int err;
    int line_start;
    /* the QR symbol width of the last native code: a symbol's version depends only on the
     * data's length, mode and ECC, so a run of coupons encodes once */
    size_t qr_len;
    int qr_numeric, qr_ecc, qr_width;
};

static const struct patron_escpos_profile profiles[] = {
    /* name, dots, columns, native_qr, cutter, codepage, qr_module */
    {"generic-58", 384, 32, 0, 0, PATRON_CODEPAGE_CP437, 5},
    {"generic-80", 576, 48, 1, 1, PATRON_CODEPAGE_CP437, 6},
    {"epson-tm-t20", 576, 48, 1, 1, PATRON_CODEPAGE_CP858, 6},
    {"epson-tm-t88", 576, 48, 1, 1, PATRON_CODEPAGE_CP858, 6},
};

static const struct {
    uint16_t vid, pid;
    const char *profile;
} usb_models[] = {
    {0x0416, 0x5011, "generic-58"},   /* common 58 mm clone */
    {0x04b8, 0x0e15, "epson-tm-t20"}, /* TM-T20II */
    {0x04b8, 0x0e28, "epson-tm-t20"}, /* TM-T20III */
    {0x04b8, 0x0202, "epson-tm-t88"},
};

const struct patron_escpos_profile *patron_escpos_profile_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof profiles / sizeof profiles[0]; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct patron_escpos_profile *patron_escpos_profile_at(size_t index)
{
    return index < sizeof profiles / sizeof profiles[0] ? &profiles[index] : NULL;
}

const struct patron_escpos_profile *patron_escpos_profile_for_usb(uint16_t vid, uint16_t pid)
{
    for (size_t i = 0; i < sizeof usb_models / sizeof usb_models[0]; i++)
        if (usb_models[i].vid == vid && usb_models[i].pid == pid)
            return patron_escpos_profile_find(usb_models[i].profile);
    return NULL;
}

static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    if (*v < '0' || *v > '9')
        return PATRON_EINVAL;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < lo || n > hi)
        return PATRON_EINVAL;
    *out = (unsigned)n;
    return 0;
}

static int profile_set(struct patron_escpos_profile *p, const char *key, const char *v)
{
    unsigned n;
    if (strcmp(key, "name") == 0) {
        size_t len = strlen(v);
        if (len == 0 || len >= sizeof p->name)
            return PATRON_EINVAL;
        memcpy(p->name, v, len + 1);
        return 0;
    }
    if (strcmp(key, "codepage") == 0)
        return patron_codepage_parse(v, &p->codepage);
    if (strcmp(key, "dots") == 0)
        return parse_uint(v, 96, 2048, &p->dots);
    if (strcmp(key, "columns") == 0)
        return parse_uint(v, 8, 170, &p->columns);
    if (strcmp(key, "qr_module") == 0)
        return parse_uint(v, 1, 16, &p->qr_module);
    if (strcmp(key, "native_qr") == 0 || strcmp(key, "cutter") == 0) {
        if (parse_uint(v, 0, 1, &n) != 0)
            return PATRON_EINVAL;
        *(key[0] == 'n' ? &p->native_qr : &p->cutter) = (int)n;
        return 0;
    }
    return PATRON_EINVAL;
}

int patron_escpos_profile_parse(const char *spec, struct patron_escpos_profile *out)
{
    struct patron_escpos_profile p = {.cutter = 1, .codepage = PATRON_CODEPAGE_CP437};
    char copy[256], *save = NULL;
    if (!spec || strlen(spec) >= sizeof copy)
        return PATRON_EINVAL;
    memcpy(copy, spec, strlen(spec) + 1); /* its length was checked above */
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return PATRON_EINVAL;
        *eq = '\0';
        if (profile_set(&p, tok, eq + 1) != 0)
            return PATRON_EINVAL;
    }
    if (!p.name[0] || !p.dots)
        return PATRON_EINVAL;
    if (!p.columns)
        p.columns = p.dots / 12;
    if (!p.qr_module)
        p.qr_module = p.dots >= 576 ? 6 : 5;
    *out = p;
    return 0;
}

int patron_escpos_new(const struct patron_escpos_profile *profile, size_t max_bytes,
                      patron_escpos **out)
{
    if (!profile || profile->dots < 8 || profile->columns == 0)
        return PATRON_EINVAL;
    patron_escpos *j = calloc(1, sizeof *j);
    if (!j)
        return PATRON_ENOMEM;
    j->profile = *profile;
    if (j->profile.qr_module == 0)
        j->profile.qr_module = profile->dots >= 576 ? 6 : 5;
    j->max = max_bytes ? max_bytes : PATRON_ESCPOS_MAX_JOB;
    j->line_start = 1;
    *out = j;
    return 0;
}

void patron_escpos_free(patron_escpos *j)
{
    if (!j)
        return;
    free(j->buf);
    free(j);
}

void patron_escpos_reset(patron_escpos *j)
{
    j->len = 0;
    j->err = 0;
    j->line_start = 1;
}

const uint8_t *patron_escpos_data(const patron_escpos *j, size_t *len)
{
    *len = j->len;
    return j->buf;
}

const struct patron_escpos_profile *patron_escpos_profile(const patron_escpos *j)
{
    return &j->profile;
}

int patron_escpos_error(const patron_escpos *j)
{
    return j->err;
}

int patron_escpos_at_line_start(const patron_escpos *j)
{
    return j->line_start;
}

static int fail(patron_escpos *j, int err)
{
    if (!j->err)
        j->err = err;
    return j->err;
}

/* Makes room for n more bytes; the buffer doubles, but never past the job's maximum. */
static int reserve(patron_escpos *j, size_t n)
{
    if (j->err)
        return j->err;
    if (n > j->max - j->len)
        return fail(j, PATRON_ETOOBIG);
    if (j->len + n <= j->cap)
        return 0;
    size_t cap = j->cap ? j->cap : 512;
    while (cap < j->len + n)
        cap = cap > j->max / 2 ? j->max : cap * 2;
    uint8_t *b = realloc(j->buf, cap);
    if (!b)
        return fail(j, PATRON_ENOMEM);
    j->buf = b;
    j->cap = cap;
    return 0;
}

static int put(patron_escpos *j, const void *bytes, size_t n)
{
    int rc = reserve(j, n);
    if (rc)
        return rc;
    memcpy(j->buf + j->len, bytes, n);
    j->len += n;
    return 0;
}

#define PUT(j, ...) put((j), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/* Ends a started line: printers ignore alignment, cuts, images and codes mid-line. */
static int line_break(patron_escpos *j)
{
    if (j->line_start)
        return j->err;
    j->line_start = 1;
    return PUT(j, 0x0A);
}

int patron_escpos_raw(patron_escpos *j, const uint8_t *bytes, size_t len)
{
    return put(j, bytes, len);
}

int patron__escpos_cells(patron_escpos *j, const uint8_t *bytes, size_t len)
{
    if (len == 0 || put(j, bytes, len))
        return j->err;
    j->line_start = 0;
    return 0;
}

int patron_escpos_init(patron_escpos *j)
{
    uint8_t n = j->profile.codepage == PATRON_CODEPAGE_CP858 ? 19 : 0;
    j->line_start = 1;
    return PUT(j, 0x1B, 0x40, 0x1B, 0x74, n);
}

int patron_escpos_bold(patron_escpos *j, int on)
{
    return PUT(j, 0x1B, 0x45, on ? 1 : 0);
}

int patron_escpos_underline(patron_escpos *j, int on)
{
    return PUT(j, 0x1B, 0x2D, on ? 1 : 0);
}

int patron_escpos_invert(patron_escpos *j, int on)
{
    return PUT(j, 0x1D, 0x42, on ? 1 : 0);
}

int patron_escpos_size(patron_escpos *j, unsigned width, unsigned height)
{
    if (width < 1 || width > 8 || height < 1 || height > 8)
        return j->err ? j->err : fail(j, PATRON_EINVAL);
    return PUT(j, 0x1D, 0x21, (uint8_t)((width - 1) << 4 | (height - 1)));
}

int patron_escpos_align(patron_escpos *j, enum patron_escpos_align align)
{
    if ((unsigned)align > PATRON_ALIGN_RIGHT)
        return j->err ? j->err : fail(j, PATRON_EINVAL);
    line_break(j);
    return PUT(j, 0x1B, 0x61, (uint8_t)align);
}

int patron_escpos_newline(patron_escpos *j)
{
    j->line_start = 1;
    return PUT(j, 0x0A);
}

size_t patron__utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    static const uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t need = s[0] < 0x80         ? 1
                  : (s[0] >> 5) == 6  ? 2
                  : (s[0] >> 4) == 14 ? 3
                  : (s[0] >> 3) == 30 ? 4
                                      : 0;
    if (need == 1) {
        *cp = s[0];
        return 1;
    }
    *cp = 0xFFFD;
    if (need == 0 || need > n)
        return 1;
    uint32_t v = s[0] & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 1;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min_of[need] || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000))
        return 1;
    *cp = v;
    return need;
}

int patron_escpos_text(patron_escpos *j, const char *utf8, size_t len)
{
    const unsigned char *s = (const unsigned char *)utf8;
    if (len == SIZE_MAX)
        len = strlen(utf8);
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        uint8_t out[3];
        size_t n;
        i += patron__utf8_next(s + i, len - i, &cp);
        if (cp == '\n') {
            patron_escpos_newline(j);
            continue;
        }
        n = cp == '\t' ? (out[0] = ' ', 1) : patron_codepage_encode(j->profile.codepage, cp, out);
        if (put(j, out, n))
            return j->err;
        j->line_start = 0;
    }
    return j->err;
}

int patron_escpos_rule(patron_escpos *j, unsigned columns)
{
    if (columns == 0 || columns > j->profile.columns)
        columns = j->profile.columns;
    line_break(j);
    if (reserve(j, columns + 1))
        return j->err;
    /* U+2500 sits at 0xC4 in both code pages: a solid line, not dashes */
    memset(j->buf + j->len, 0xC4, columns);
    j->len += columns;
    j->buf[j->len++] = 0x0A;
    return 0;
}

int patron_escpos_feed(patron_escpos *j, unsigned lines)
{
    if (lines > 255)
        return j->err ? j->err : fail(j, PATRON_EINVAL);
    j->line_start = 1;
    return PUT(j, 0x1B, 0x64, (uint8_t)lines);
}

int patron_escpos_cut(patron_escpos *j)
{
    line_break(j);
    if (!j->profile.cutter)
        return PUT(j, 0x1B, 0x64, 4);
    return PUT(j, 0x1D, 0x56, 66, 0);
}

int patron_escpos_raster(patron_escpos *j, const uint8_t *bits, unsigned width_dots, unsigned rows)
{
    if (width_dots == 0 || width_dots > j->profile.dots || rows == 0)
        return j->err ? j->err : fail(j, PATRON_EINVAL);
    unsigned bpr = (width_dots + 7) / 8;
    line_break(j);
    for (unsigned y = 0; y < rows; y += PATRON_ESCPOS_RASTER_BAND) {
        unsigned h = rows - y < PATRON_ESCPOS_RASTER_BAND ? rows - y : PATRON_ESCPOS_RASTER_BAND;
        PUT(j, 0x1D, 0x76, 0x30, 0x00, (uint8_t)(bpr & 0xFF), (uint8_t)(bpr >> 8),
            (uint8_t)(h & 0xFF), (uint8_t)(h >> 8));
        if (put(j, bits + (size_t)y * bpr, (size_t)h * bpr))
            return j->err;
    }
    return j->err;
}

static QRcode *qr_encode(const char *data, size_t len, enum patron_qr_ecc ecc)
{
    static const QRecLevel levels[] = {QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H};
    QRecLevel level = levels[ecc - PATRON_QR_ECC_L];
    size_t digits = 0;
    while (digits < len && data[digits] >= '0' && data[digits] <= '9')
        digits++;
    if (digits < len)
        return QRcode_encodeData((int)len, (const unsigned char *)data, 0, level);
    /* all digits: numeric mode, 3.3 bits a digit instead of 8 */
    QRinput *in = QRinput_new2(0, level);
    QRcode *qr = NULL;
    if (in && QRinput_append(in, QR_MODE_NUM, (int)len, (const unsigned char *)data) == 0)
        qr = QRcode_encodeInput(in);
    QRinput_free(in);
    return qr;
}

/* The raster path: the symbol plus a 4-module quiet zone as one bitmap. */
static int qr_raster(patron_escpos *j, const QRcode *qr, unsigned module)
{
    unsigned side = ((unsigned)qr->width + 8) * module, bpr = (side + 7) / 8;
    uint8_t *bits = calloc((size_t)side, bpr);
    if (!bits)
        return fail(j, PATRON_ENOMEM);
    for (unsigned y = 0; y < (unsigned)qr->width; y++) {
        uint8_t *row = bits + (size_t)(y + 4) * module * bpr;
        for (unsigned x = 0; x < (unsigned)qr->width; x++) {
            if (!(qr->data[y * (unsigned)qr->width + x] & 1))
                continue;
            for (unsigned d = (x + 4) * module; d < (x + 5) * module; d++)
                row[d / 8] |= (uint8_t)(0x80 >> (d % 8));
        }
        for (unsigned r = 1; r < module; r++)
            memcpy(row + (size_t)r * bpr, row, bpr);
    }
    patron_escpos_raster(j, bits, side, side);
    free(bits);
    return j->err;
}

static int qr_native(patron_escpos *j, const char *data, size_t len, unsigned module,
                     enum patron_qr_ecc ecc)
{
    size_t n = len + 3;
    PUT(j, 0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00);
    PUT(j, 0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, (uint8_t)module);
    PUT(j, 0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, (uint8_t)ecc);
    PUT(j, 0x1D, 0x28, 0x6B, (uint8_t)(n & 0xFF), (uint8_t)(n >> 8), 0x31, 0x50, 0x30);
    put(j, data, len);
    return PUT(j, 0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30);
}

static int is_numeric(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (data[i] < '0' || data[i] > '9')
            return 0;
    return 1;
}

/* Dots a module: the caller's or the profile's, shrunk so symbol and quiet zone fit. */
static unsigned fit_module(const patron_escpos *j, unsigned module, int width)
{
    unsigned fit = j->profile.dots / ((unsigned)width + 8);
    if (module == 0)
        module = j->profile.qr_module;
    return module > fit ? fit : module;
}

int patron_escpos_qr_path(patron_escpos *j, const char *data, size_t len, unsigned module,
                          enum patron_qr_ecc ecc, int native)
{
    QRcode *qr = NULL;
    if (j->err)
        return j->err;
    if (!data || len == 0 || len > PATRON_ESCPOS_MAX_QR_DATA || ecc < PATRON_QR_ECC_L ||
        ecc > PATRON_QR_ECC_H || module > 16)
        return fail(j, PATRON_EINVAL);
    int numeric = is_numeric(data, len), width = j->qr_width;
    if (!native || !width || j->qr_len != len || j->qr_numeric != numeric ||
        j->qr_ecc != (int)ecc) {
        if (!(qr = qr_encode(data, len, ecc)))
            return fail(j, PATRON_ETOOBIG);
        width = qr->width;
        j->qr_len = len;
        j->qr_numeric = numeric;
        j->qr_ecc = (int)ecc;
        j->qr_width = width;
    }
    /* the symbol and its quiet zone must fit the paper, or the printer prints garbage */
    module = fit_module(j, module, width);
    if (module == 0) {
        QRcode_free(qr);
        return fail(j, PATRON_ETOOBIG);
    }
    line_break(j);
    if (native)
        qr_native(j, data, len, module, ecc);
    else
        qr_raster(j, qr, module);
    QRcode_free(qr);
    return j->err;
}

int patron_escpos_qr(patron_escpos *j, const char *data, size_t len, unsigned module,
                     enum patron_qr_ecc ecc)
{
    return patron_escpos_qr_path(j, data, len, module, ecc, j->profile.native_qr);
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

static int ean13_valid(const char *d)
{
    unsigned sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (unsigned)(d[i] - '0') * (i % 2 ? 3 : 1);
    return (10 - sum % 10) % 10 == (unsigned)(d[12] - '0');
}

/* GS k m=73 payload: code set C (two digits a byte) for even all-digit data, else set B. */
static int code128_payload(const char *data, size_t n, uint8_t *out, size_t *outlen)
{
    size_t k = 0;
    if (all_digits(data, n) && n % 2 == 0) {
        out[k++] = '{';
        out[k++] = 'C';
        for (size_t i = 0; i < n; i += 2)
            out[k++] = (uint8_t)((data[i] - '0') * 10 + (data[i + 1] - '0'));
    } else {
        out[k++] = '{';
        out[k++] = 'B';
        for (size_t i = 0; i < n; i++) {
            if (data[i] < 0x20 || data[i] > 0x7E)
                return PATRON_EINVAL;
            if (data[i] == '{')
                out[k++] = '{';
            out[k++] = (uint8_t)data[i];
        }
    }
    if (k > 255)
        return PATRON_ETOOBIG;
    *outlen = k;
    return 0;
}

/* Width of the bars in modules: EAN-13 is 95; CODE128 is a start symbol, one symbol a value (two
 * digits in code set C, one character in set B), the check symbol (11 modules each) and the
 * 13-module stop. */
static unsigned barcode_modules(enum patron_barcode_kind kind, const char *data, size_t n)
{
    if (kind == PATRON_BARCODE_EAN13)
        return 95;
    size_t values = all_digits(data, n) && n % 2 == 0 ? n / 2 : n;
    return (unsigned)(11 * (values + 2) + 13);
}

int patron_escpos_barcode(patron_escpos *j, const char *data, enum patron_barcode_kind kind,
                          unsigned module, unsigned height, int hri)
{
    uint8_t payload[512];
    size_t n = data ? strlen(data) : 0, plen = 0;
    if (j->err)
        return j->err;
    if (n == 0 || n > 253 || module < 2 || module > 6 || height < 1 || height > 255)
        return fail(j, PATRON_EINVAL);
    if (kind == PATRON_BARCODE_AUTO)
        kind = n == 13 && all_digits(data, n) && ean13_valid(data) ? PATRON_BARCODE_EAN13
                                                                   : PATRON_BARCODE_CODE128;
    if (kind == PATRON_BARCODE_EAN13) {
        if (!all_digits(data, n) || (n != 12 && n != 13) || (n == 13 && !ean13_valid(data)))
            return fail(j, PATRON_EINVAL);
        memcpy(payload, data, 12); /* the printer adds the check digit */
        plen = 12;
    } else {
        int rc = code128_payload(data, n, payload, &plen);
        if (rc)
            return fail(j, rc);
    }
    /* A printer only feeds paper for bars wider than its paper: narrow the module down to 2
     * dots, and refuse bars that do not fit even then. */
    unsigned modules = barcode_modules(kind, data, n);
    while (module > 2 && modules * module > j->profile.dots)
        module--;
    if (modules * module > j->profile.dots)
        return fail(j, PATRON_EINVAL);
    line_break(j);
    PUT(j, 0x1D, 0x77, (uint8_t)module, 0x1D, 0x68, (uint8_t)height, 0x1D, 0x48, hri ? 2 : 0);
    PUT(j, 0x1D, 0x6B, kind == PATRON_BARCODE_EAN13 ? 67 : 73, (uint8_t)plen);
    return put(j, payload, plen);
}
