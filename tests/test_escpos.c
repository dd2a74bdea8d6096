/* SPDX-License-Identifier: MIT */
/* The ESC/POS encoder: profiles, code page conversion with its replacements, the native QR's
 * stored data, the raster QR's bands and width, barcodes, cuts at the start of a line, and the
 * bounded buffer. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "patron/escpos.h"
#include "print_fixture.h"

static patron_escpos *job(const char *profile, size_t max)
{
    patron_escpos *j = NULL;
    assert_int_equal(patron_escpos_new(patron_escpos_profile_find(profile), max, &j), 0);
    return j;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

static void profiles_table_and_usb_ids(void **state)
{
    (void)state;
    const struct patron_escpos_profile *p = patron_escpos_profile_find("generic-58");
    assert_non_null(p);
    assert_int_equal(p->dots, 384);
    assert_int_equal(p->columns, 32);
    assert_int_equal(p->native_qr, 0);
    assert_int_equal(p->qr_module, 5);
    p = patron_escpos_profile_find("epson-tm-t20");
    assert_int_equal(p->dots, 576);
    assert_int_equal(p->columns, 48);
    assert_int_equal(p->native_qr, 1);
    assert_int_equal(p->qr_module, 6);
    assert_ptr_equal(patron_escpos_profile_for_usb(0x04b8, 0x0e28), p);
    assert_ptr_equal(patron_escpos_profile_for_usb(0x04b8, 0x0202),
                     patron_escpos_profile_find("epson-tm-t88"));
    assert_ptr_equal(patron_escpos_profile_for_usb(0x0416, 0x5011),
                     patron_escpos_profile_find("generic-58"));
    assert_null(patron_escpos_profile_for_usb(0x1234, 0x5678));
    assert_null(patron_escpos_profile_find("no-such"));
}

static void profile_parsed_from_configuration(void **state)
{
    (void)state;
    struct patron_escpos_profile p;
    assert_int_equal(patron_escpos_profile_parse(
                         "name=shop,dots=384,columns=32,native_qr=1,cutter=0,codepage=cp858", &p),
                     0);
    assert_string_equal(p.name, "shop");
    assert_int_equal(p.dots, 384);
    assert_int_equal(p.native_qr, 1);
    assert_int_equal(p.cutter, 0);
    assert_int_equal(p.codepage, PATRON_CODEPAGE_CP858);
    assert_int_equal(p.qr_module, 5);
    assert_int_equal(patron_escpos_profile_parse("name=x,dots=576", &p), 0);
    assert_int_equal(p.columns, 48);
    assert_int_equal(p.qr_module, 6);
    assert_int_equal(patron_escpos_profile_parse("name=x", &p), PATRON_EINVAL);
    assert_int_equal(patron_escpos_profile_parse("name=x,dots=384,colour=red", &p), PATRON_EINVAL);
    assert_int_equal(patron_escpos_profile_parse("name=x,dots=384,codepage=utf8", &p),
                     PATRON_EINVAL);
    assert_int_equal(patron_escpos_profile_parse("name=x,dots=12abc", &p), PATRON_EINVAL);
}

static void code_page_bytes_and_replacements(void **state)
{
    (void)state;
    uint8_t b[3];
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP858, 0xE9, b), 1); /* é */
    assert_int_equal(b[0], 0x82);
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP858, 0x20AC, b), 1); /* € */
    assert_int_equal(b[0], 0xD5);
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP437, 0x20AC, b), 3);
    assert_memory_equal(b, "EUR", 3);
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP858, 0x4E2D, b), 1); /* 中 */
    assert_int_equal(b[0], '?');
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP858, 0x0142, b), 1); /* ł */
    assert_int_equal(b[0], 'l');
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP437, 0x00F8, b), 1); /* ø */
    assert_int_equal(b[0], 'o');
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP858, 0x00F8, b), 1);
    assert_int_equal(b[0], 0x9B);
    assert_int_equal(patron_codepage_encode(PATRON_CODEPAGE_CP437, 0x1B, b), 1); /* ESC */
    assert_int_equal(b[0], '?');
    assert_int_equal(patron_codepage_decode(PATRON_CODEPAGE_CP858, 0xD5), 0x20AC);
}

static void text_never_leaves_utf8_or_control_bytes(void **state)
{
    (void)state;
    patron_escpos *j = job("epson-tm-t20", 0);
    size_t len;
    assert_int_equal(
        patron_escpos_text(j, "Caf\xC3\xA9 \xE2\x82\xAC \xE4\xB8\xAD\x1B@\xFF", SIZE_MAX), 0);
    const uint8_t *d = patron_escpos_data(j, &len);
    const uint8_t want[] = {'C', 'a', 'f', 0x82, ' ', 0xD5, ' ', '?', '?', '@', '?'};
    assert_int_equal(len, sizeof want);
    assert_memory_equal(d, want, sizeof want);
    patron_escpos_free(j);
}

static void init_selects_the_profile_code_page(void **state)
{
    (void)state;
    size_t len;
    patron_escpos *j = job("epson-tm-t88", 0);
    patron_escpos_init(j);
    assert_memory_equal(patron_escpos_data(j, &len), "\x1B@\x1Bt\x13", 5);
    patron_escpos_free(j);
    j = job("generic-58", 0);
    patron_escpos_init(j);
    assert_memory_equal(patron_escpos_data(j, &len), "\x1B@\x1Bt\x00", 5);
    patron_escpos_free(j);
}

/* The bytes of GS ( k fn 80 (store) in a job: what the printer will encode. */
static void stored_qr_data(const uint8_t *d, size_t n, const uint8_t **data, size_t *len)
{
    const uint8_t *p = find(d, n, (const uint8_t *)"\x1D(k", 3);
    *data = NULL;
    while (p) {
        size_t l = p[3] | (size_t)p[4] << 8;
        if (p[5] == 0x31 && p[6] == 0x50 && p[7] == 0x30) {
            *data = p + 8;
            *len = l - 3;
            return;
        }
        p = find(p + 5 + l, n - (size_t)(p + 5 + l - d), (const uint8_t *)"\x1D(k", 3);
    }
}

static void native_qr_stores_the_token_exactly(void **state)
{
    (void)state;
    const char *token = fixture_token();
    const uint8_t *data;
    size_t len, n;
    patron_escpos *j = job("epson-tm-t20", 0);
    assert_int_equal(patron_escpos_qr(j, token, strlen(token), 0, PATRON_QR_ECC_Q), 0);
    const uint8_t *d = patron_escpos_data(j, &n);
    stored_qr_data(d, n, &data, &len);
    assert_non_null(data);
    assert_int_equal(len, 243);
    assert_memory_equal(data, token, 243);
    /* model 2, 6 dots a module on 80 mm, ECC Q, then print */
    assert_non_null(find(d, n, (const uint8_t *)"\x1D(k\x04\x00\x31\x41\x32\x00", 9));
    assert_non_null(find(d, n, (const uint8_t *)"\x1D(k\x03\x00\x31\x43\x06", 8));
    assert_non_null(find(d, n, (const uint8_t *)"\x1D(k\x03\x00\x31\x45\x32", 8));
    assert_memory_equal(d + n - 8, "\x1D(k\x03\x00\x31\x51\x30", 8);
    patron_escpos_free(j);
}

static void raster_qr_fits_the_paper_in_bands(void **state)
{
    (void)state;
    const char *token = fixture_token();
    size_t n, rows = 0;
    patron_escpos *j = job("generic-58", 0);
    assert_int_equal(patron_escpos_qr(j, token, strlen(token), 0, PATRON_QR_ECC_Q), 0);
    const uint8_t *d = patron_escpos_data(j, &n), *p = d;
    assert_null(find(d, n, (const uint8_t *)"\x1D(k", 3));
    while (p < d + n) {
        assert_memory_equal(p, "\x1Dv0\x00", 4);
        unsigned bx = p[4] | p[5] << 8, h = p[6] | p[7] << 8;
        assert_true(bx * 8 <= 384);
        assert_true(h <= PATRON_ESCPOS_RASTER_BAND);
        /* version 8 (49 modules) + quiet zone at 5 dots a module */
        assert_int_equal(bx, (57 * 5 + 7) / 8);
        rows += h;
        p += 8 + (size_t)bx * h;
    }
    assert_int_equal(rows, 57 * 5);
    patron_escpos_free(j);
}

static void qr_module_shrinks_to_fit(void **state)
{
    (void)state;
    char big[1500];
    size_t n;
    memset(big, '7', sizeof big);
    patron_escpos *j = job("generic-58", 0);
    assert_int_equal(patron_escpos_qr(j, big, sizeof big, 8, PATRON_QR_ECC_Q), 0);
    const uint8_t *d = patron_escpos_data(j, &n);
    assert_true((d[4] | d[5] << 8) * 8 <= 384);
    patron_escpos_free(j);
    j = job("generic-58", 0);
    assert_int_equal(patron_escpos_qr(j, big, 0, 0, PATRON_QR_ECC_Q), PATRON_EINVAL);
    patron_escpos_free(j);
}

static void cut_is_always_at_the_start_of_a_line(void **state)
{
    (void)state;
    size_t n;
    patron_escpos *j = job("epson-tm-t20", 0);
    patron_escpos_text(j, "abc", SIZE_MAX);
    patron_escpos_cut(j);
    assert_memory_equal(patron_escpos_data(j, &n), "abc\n\x1DV\x42\x00", 8);
    assert_int_equal(n, 8);
    patron_escpos_reset(j);
    /* already at the start of a line: no second LF */
    patron_escpos_text(j, "abc\n", SIZE_MAX);
    patron_escpos_cut(j);
    assert_memory_equal(patron_escpos_data(j, &n), "abc\n\x1DV\x42\x00", 8);
    assert_int_equal(n, 8);
    patron_escpos_free(j);
    j = job("generic-58", 0); /* no cutter: feed to tear off */
    patron_escpos_text(j, "x", SIZE_MAX);
    patron_escpos_cut(j);
    assert_memory_equal(patron_escpos_data(j, &n), "x\n\x1B\x64\x04", 5);
    patron_escpos_free(j);
}

static void barcodes_ean13_for_cards_else_code128(void **state)
{
    (void)state;
    size_t n;
    patron_escpos *j = job("epson-tm-t20", 0);
    assert_int_equal(patron_escpos_barcode(j, "2900000000018", PATRON_BARCODE_AUTO, 2, 80, 1), 0);
    const uint8_t *d = patron_escpos_data(j, &n);
    assert_non_null(find(d, n,
                         (const uint8_t *)"\x1Dk\x43\x0C"
                                          "290000000001",
                         16));
    patron_escpos_reset(j);
    /* a wrong check digit is not an EAN-13: CODE128, set C for even digits */
    assert_int_equal(patron_escpos_barcode(j, "2900000000014", PATRON_BARCODE_AUTO, 2, 80, 0), 0);
    d = patron_escpos_data(j, &n);
    assert_non_null(find(d, n, (const uint8_t *)"\x1Dk\x49\x0F{B2900000000014", 19));
    patron_escpos_reset(j);
    assert_int_equal(patron_escpos_barcode(j, "1234", PATRON_BARCODE_CODE128, 2, 80, 0), 0);
    d = patron_escpos_data(j, &n);
    assert_non_null(find(d, n, (const uint8_t *)"\x1Dk\x49\x04{C\x0C\x22", 8));
    patron_escpos_reset(j);
    assert_int_equal(patron_escpos_barcode(j, "2900000000014", PATRON_BARCODE_EAN13, 2, 80, 0),
                     PATRON_EINVAL);
    patron_escpos_free(j);
}

/* A printer prints nothing for bars wider than its paper, so the job must never carry them. */
static void barcode_narrows_to_fit_or_is_refused(void **state)
{
    (void)state;
    size_t n;
    /* 25 characters in set B: 11 * 27 + 13 = 310 modules; 930 dots at 3, 620 at 2 */
    const char *wide = "PATRON-LOYALTY-CARD-00042";
    patron_escpos *j = job("epson-tm-t20", 0);
    assert_int_equal(patron_escpos_barcode(j, wide, PATRON_BARCODE_CODE128, 3, 80, 0),
                     PATRON_EINVAL);
    patron_escpos_free(j);
    /* 16 characters: 11 * 18 + 13 = 211 modules; 633 dots at 3 do not fit 576, 422 at 2 do */
    j = job("epson-tm-t20", 0);
    assert_int_equal(patron_escpos_barcode(j, "PATRON-TEST-0042", PATRON_BARCODE_CODE128, 3, 80, 0),
                     0);
    const uint8_t *d = patron_escpos_data(j, &n);
    assert_non_null(find(d, n, (const uint8_t *)"\x1Dw\x02", 3));
    patron_escpos_free(j);
    /* an EAN-13 at 4 dots (380) fits 384 dots and keeps its module */
    j = job("generic-58", 0);
    assert_int_equal(patron_escpos_barcode(j, "2900000000018", PATRON_BARCODE_EAN13, 4, 80, 0), 0);
    d = patron_escpos_data(j, &n);
    assert_non_null(find(d, n, (const uint8_t *)"\x1Dw\x04", 3));
    patron_escpos_free(j);
}

static void buffer_is_bounded_and_errors_stick(void **state)
{
    (void)state;
    size_t n;
    patron_escpos *j = job("epson-tm-t20", 64);
    char text[100];
    memset(text, 'a', sizeof text);
    assert_int_equal(patron_escpos_text(j, text, 60), 0);
    assert_int_equal(patron_escpos_text(j, text, 10), PATRON_ETOOBIG);
    assert_int_equal(patron_escpos_newline(j), PATRON_ETOOBIG);
    assert_int_equal(patron_escpos_error(j), PATRON_ETOOBIG);
    patron_escpos_data(j, &n);
    assert_true(n <= 64);
    patron_escpos_reset(j);
    assert_int_equal(patron_escpos_error(j), 0);
    assert_int_equal(patron_escpos_size(j, 9, 1), PATRON_EINVAL);
    patron_escpos_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(profiles_table_and_usb_ids),
        cmocka_unit_test(profile_parsed_from_configuration),
        cmocka_unit_test(code_page_bytes_and_replacements),
        cmocka_unit_test(text_never_leaves_utf8_or_control_bytes),
        cmocka_unit_test(init_selects_the_profile_code_page),
        cmocka_unit_test(native_qr_stores_the_token_exactly),
        cmocka_unit_test(raster_qr_fits_the_paper_in_bands),
        cmocka_unit_test(qr_module_shrinks_to_fit),
        cmocka_unit_test(cut_is_always_at_the_start_of_a_line),
        cmocka_unit_test(barcodes_ean13_for_cards_else_code128),
        cmocka_unit_test(barcode_narrows_to_fit_or_is_refused),
        cmocka_unit_test(buffer_is_bounded_and_errors_stick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
