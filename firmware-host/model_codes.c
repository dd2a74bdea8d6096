/* SPDX-License-Identifier: MIT */
/* What the printer model draws for codes: QR symbols from the data stored with GS ( k (drawn
 * by libqrencode at the module size and error correction the job set), EAN-13 and CODE128
 * bars from GS k, and the human-readable digits under them. */
#include "font.h"
#include "model_internal.h"
#include "patron/error.h"

#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

static QRcode *encode(const uint8_t *data, size_t len, unsigned ecc)
{
    static const QRecLevel levels[] = {QR_ECLEVEL_L, QR_ECLEVEL_M, QR_ECLEVEL_Q, QR_ECLEVEL_H};
    QRecLevel level = levels[ecc - 48];
    size_t digits = 0;
    while (digits < len && data[digits] >= '0' && data[digits] <= '9')
        digits++;
    if (digits < len)
        return QRcode_encodeData((int)len, data, 0, level);
    QRinput *in = QRinput_new2(0, level);
    QRcode *qr = NULL;
    if (in && QRinput_append(in, QR_MODE_NUM, (int)len, data) == 0)
        qr = QRcode_encodeInput(in);
    QRinput_free(in);
    return qr;
}

void model_qr_forget(struct patron_model *m)
{
    for (size_t i = 0; i < sizeof m->qr_sym / sizeof m->qr_sym[0]; i++) {
        free(m->qr_sym[i].modules);
        m->qr_sym[i] = (struct model_qr_symbol){0, 0, NULL};
    }
}

/* The symbol of the stored data at the current error correction, encoded on first use. */
static int qr_symbol(struct patron_model *m, const struct model_qr_symbol **out)
{
    struct model_qr_symbol *sym = &m->qr_sym[m->qr_ecc - 48];
    if (sym->state == 0) {
        QRcode *qr = encode(m->qr_data, m->qr_len, m->qr_ecc);
        sym->state = -1;
        if (qr) {
            size_t n = (size_t)qr->width * (size_t)qr->width;
            if (!(sym->modules = malloc(n))) {
                QRcode_free(qr);
                sym->state = 0;
                return PATRON_ENOMEM;
            }
            for (size_t i = 0; i < n; i++)
                sym->modules[i] = qr->data[i] & 1;
            sym->width = (unsigned)qr->width;
            sym->state = 1;
            QRcode_free(qr);
        }
    }
    *out = sym;
    return 0;
}

int model_qr_print(struct patron_model *m)
{
    static const uint8_t fn81[] = {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30};
    const struct model_qr_symbol *sym;
    if (!m->qr_data || m->qr_len == 0) {
        model_report(m, fn81, 0, sizeof fn81, "QR print with no data stored");
        return 0;
    }
    int rc = qr_symbol(m, &sym);
    if (rc)
        return rc;
    if (sym->state < 0) {
        model_report(m, fn81, 0, sizeof fn81, "QR data does not fit a symbol");
        return 0;
    }
    unsigned s = m->qr_module, qw = sym->width, side = (qw + 8) * s;
    if (side > m->width) {
        model_report(m, fn81, 0, sizeof fn81, "QR symbol wider than the paper");
        return 0;
    }
    if ((rc = model_reserve(m, side)))
        return rc;
    /* printers leave the quiet zone white around the symbol */
    unsigned x0 = m->align == 0 ? 0 : m->align == 1 ? (m->width - side) / 2 : m->width - side;
    for (unsigned r = 0; r < qw; r++)
        for (unsigned c = 0; c < qw; c++)
            if (sym->modules[r * qw + c])
                model_block(m, x0 + (c + 4) * s, m->y + (r + 4) * s, s, s);
    m->y += side;
    return 0;
}

void model_hri_text(struct patron_model *m, const char *s, size_t n, unsigned x, unsigned span,
                    unsigned y)
{
    unsigned w = (unsigned)n * MODEL_CELL_W;
    x += w < span ? (span - w) / 2 : 0;
    for (size_t i = 0; i < n; i++, x += MODEL_CELL_W) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7E)
            continue;
        for (unsigned r = 0; r < MODEL_CELL_H; r++)
            for (unsigned k = 0; k < MODEL_CELL_W; k++)
                if (patron__font[0][0][c][r] >> (MODEL_CELL_W - 1 - k) & 1)
                    model_block(m, x + k, y + r, 1, 1);
    }
}

/* Bars as a run-length list: widths alternate bar, space, bar... in modules. */
struct bars {
    uint8_t w[1600]; /* room for 250 CODE128 values, their check and stop */
    size_t n;
    char hri[260];
    size_t nhri;
};

static void put_pattern(struct bars *b, const char *widths)
{
    for (; *widths && b->n < sizeof b->w; widths++)
        b->w[b->n++] = (uint8_t)(*widths - '0');
}

static int ean13(const uint8_t *d, size_t n, struct bars *b)
{
    static const char *const l_code[10] = {"3211", "2221", "2122", "1411", "1132",
                                           "1231", "1114", "1312", "1213", "3112"};
    static const char *const parity[10] = {"LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
                                           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"};
    char digits[14];
    unsigned sum = 0;
    if (n != 12 && n != 13)
        return 1;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return 1;
        digits[i] = (char)d[i];
    }
    for (int i = 0; i < 12; i++)
        sum += (unsigned)(digits[i] - '0') * (i % 2 ? 3 : 1);
    digits[12] = (char)('0' + (10 - sum % 10) % 10);
    if (n == 13 && d[12] != (uint8_t)digits[12])
        return 1;
    digits[13] = '\0';
    /* L codes as space-bar-space-bar widths; R is the same widths starting with a bar; G is
     * the R widths reversed */
    b->w[b->n++] = 0; /* the list starts with a bar: a zero-width space keeps the phase */
    put_pattern(b, "111");
    const char *par = parity[digits[0] - '0'];
    for (int i = 1; i <= 6; i++) {
        const char *w = l_code[digits[i] - '0'];
        char g[5] = {w[3], w[2], w[1], w[0], 0};
        put_pattern(b, par[i - 1] == 'L' ? w : g);
    }
    put_pattern(b, "11111");
    for (int i = 7; i <= 12; i++)
        put_pattern(b, l_code[digits[i] - '0']);
    put_pattern(b, "111");
    memcpy(b->hri, digits, 13);
    b->nhri = 13;
    return 0;
}

/* CODE128 symbol values 0..105 as bar/space widths in modules (each adds up to 11). */
static const char code128_widths[106][7] = {
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
};

/* One data byte in code set A or B as its symbol value, or -1. */
static int value_ab(int set, uint8_t c)
{
    if (set == 'B')
        return c >= 32 && c < 128 ? c - 32 : -1;
    return c < 32 ? c + 64 : c < 96 ? c - 32 : -1;
}

/* The printer's CODE128 input: "{A", "{B" or "{C" first; "{{" is '{'; "{A/B/C" switch sets,
 * "{S" shifts, "{1".."{4" are FNC1-4; in set C every byte is a value 0..99. */
static int code128_values(const uint8_t *d, size_t n, int *v, size_t *nv, struct bars *b)
{
    int set;
    size_t k = 0;
    if (n < 2 || d[0] != '{' || d[1] < 'A' || d[1] > 'C')
        return 1;
    set = d[1];
    v[k++] = 103 + (set - 'A');
    for (size_t i = 2; i < n && k < 250; i++) {
        /* '{' always takes the next byte with it: a '{' that ends the data is malformed, and a
         * NUL after it must not match strchr's terminator. */
        int brace = d[i] == '{';
        if (brace && (++i == n || d[i] == '\0'))
            return 1;
        if (brace && d[i] != '{') {
            static const char sw[] = "ABCS1234";
            static const int val_b[] = {101, 100, 99, 98, 102, 97, 96, 100};
            static const int val_a[] = {101, 100, 99, 98, 102, 97, 96, 101};
            const char *at = strchr(sw, d[i]);
            if (!at)
                return 1;
            v[k++] = (set == 'A' ? val_a : val_b)[at - sw];
            if (*at >= 'A' && *at <= 'C')
                set = (unsigned char)*at;
            continue;
        }
        int x = set == 'C' ? (d[i] < 100 ? d[i] : -1) : value_ab(set, d[i]);
        if (x < 0)
            return 1;
        v[k++] = x;
        if (set == 'C' && b->nhri + 2 < sizeof b->hri) {
            b->hri[b->nhri++] = (char)('0' + x / 10);
            b->hri[b->nhri++] = (char)('0' + x % 10);
        } else if (set != 'C' && b->nhri + 1 < sizeof b->hri) {
            b->hri[b->nhri++] = (char)d[i];
        }
    }
    *nv = k;
    return 0;
}

static int code128(const uint8_t *d, size_t n, struct bars *b)
{
    int v[256];
    size_t nv = 0;
    if (code128_values(d, n, v, &nv, b))
        return 1;
    unsigned sum = (unsigned)v[0];
    for (size_t i = 1; i < nv; i++)
        sum += (unsigned)i * (unsigned)v[i];
    b->w[b->n++] = 0;
    for (size_t i = 0; i < nv; i++)
        put_pattern(b, code128_widths[v[i]]);
    put_pattern(b, code128_widths[sum % 103]);
    put_pattern(b, "2331112");
    return 0;
}

int model_barcode(struct patron_model *m, unsigned type, const uint8_t *data, size_t n)
{
    static struct bars zero;
    struct bars b = zero;
    unsigned total = 0, mod = m->bc_module, hri_h = MODEL_CELL_H + 2;
    if ((type == 67 ? ean13(data, n, &b) : type == 73 ? code128(data, n, &b) : 1) != 0)
        return 1;
    for (size_t i = 0; i < b.n; i++)
        total += b.w[i] * mod;
    if (total > m->width)
        return 1;
    unsigned above = m->hri == 1 || m->hri == 3, below = m->hri >= 2;
    int rc = model_reserve(m, m->bc_height + (above + below) * hri_h);
    if (rc)
        return rc;
    unsigned x0 = m->align == 0 ? 0 : m->align == 1 ? (m->width - total) / 2 : m->width - total;
    if (above)
        model_hri_text(m, b.hri, b.nhri, x0, total, m->y);
    unsigned y = m->y + above * hri_h, x = x0;
    for (size_t i = 0; i < b.n; i++) {
        if (i % 2 == 1)
            model_block(m, x, y, b.w[i] * mod, m->bc_height);
        x += b.w[i] * mod;
    }
    if (below)
        model_hri_text(m, b.hri, b.nhri, x0, total, y + m->bc_height + 2);
    m->y += m->bc_height + (above + below) * hri_h;
    return 0;
}
