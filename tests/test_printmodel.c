/* SPDX-License-Identifier: MIT */
/* The printer model read back: a coupon rendered by the encoder, drawn by the model and written
 * as a PNG, decodes with zbar to the very voucher token, on the native QR path and on the raster
 * path; a card's EAN-13 decodes to the card number; unknown commands are reported with their
 * offset, malformed barcode data too; ESC d counts the line it prints; the virtual printer leaves
 * JOB.bin and JOB.png and no temporary files. */
#include "testutil.h"

#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zbar.h>

#include "escpos_model.h"
#include "patron/receipt.h"
#include "print_fixture.h"
#include "transport_internal.h"
#include "zbar_util.h"

static char *tmp_path(const char *name)
{
    static char path[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/%s", tmp ? tmp : "/tmp", name);
    return path;
}

/* Renders template `name` for `profile`, optionally forcing the QR path, into a PNG. */
static void print_to_png(const char *name, const struct patron_escpos_profile *prof,
                         const char *png)
{
    patron_receipt *t = NULL;
    struct patron_receipt_var v[FIXTURE_MAX_VARS];
    struct patron_model *m = NULL;
    char msg[256];
    uint8_t *bytes;
    size_t len, n = fixture_vars(v, fixture_token()), unknown;
    assert_int_equal(patron_receipt_load(NULL, name, &t, msg, sizeof msg), 0);
    assert_int_equal(patron_receipt_render_job(t, prof, v, n, &bytes, &len, msg, sizeof msg), 0);
    assert_int_equal(patron_model_new(prof->dots, &m), 0);
    assert_int_equal(patron_model_feed(m, bytes, len), 0);
    assert_int_equal(patron_model_flush(m), 0);
    patron_model_unknown(m, &unknown);
    assert_int_equal(unknown, 0);
    assert_int_equal(patron_model_write_png(m, png), 0);
    patron_model_free(m);
    free(bytes);
    patron_receipt_free(t);
}

static void coupon_qr_reads_back_native(void **state)
{
    (void)state;
    const char *png = tmp_path("coupon-native.png");
    print_to_png("reward-coupon", patron_escpos_profile_find("epson-tm-t20"), png);
    char *got = test_decode_png(png, ZBAR_QRCODE);
    assert_non_null(got);
    assert_string_equal(got, fixture_token());
    free(got);
    /* native QR on 58 mm paper too, at 5 dots a module */
    struct patron_escpos_profile p = *patron_escpos_profile_find("generic-58");
    p.native_qr = 1;
    print_to_png("reward-coupon", &p, png);
    got = test_decode_png(png, ZBAR_QRCODE);
    assert_non_null(got);
    assert_string_equal(got, fixture_token());
    free(got);
    remove(png);
}

static void coupon_qr_reads_back_raster(void **state)
{
    (void)state;
    const char *png = tmp_path("coupon-raster.png");
    print_to_png("offer-coupon", patron_escpos_profile_find("generic-58"), png);
    char *got = test_decode_png(png, ZBAR_QRCODE);
    assert_non_null(got);
    assert_int_equal(strlen(got), 243);
    assert_string_equal(got, fixture_token());
    free(got);
    remove(png);
}

static void member_card_barcode_reads_back(void **state)
{
    (void)state;
    const char *png = tmp_path("card.png");
    print_to_png("member-card", patron_escpos_profile_find("epson-tm-t88"), png);
    char *got = test_decode_png(png, ZBAR_EAN13);
    assert_non_null(got);
    assert_string_equal(got, "2900000000018");
    free(got);
    print_to_png("test-page", patron_escpos_profile_find("generic-58"), png);
    got = test_decode_png(png, ZBAR_CODE128);
    assert_non_null(got);
    assert_string_equal(got, "PATRON-TEST");
    free(got);
    remove(png);
}

static void unknown_commands_are_reported(void **state)
{
    (void)state;
    struct patron_model *m = NULL;
    const uint8_t job[] = {0x1B, '@',  'h',  'i',  0x1C, 0x70, '\n', 0x10,
                           0x04, 0x02, 0x1D, 0x50, 'x',  0x07, '\n'};
    size_t n;
    assert_int_equal(patron_model_new(384, &m), 0);
    assert_int_equal(patron_model_feed(m, job, sizeof job), 0);
    const struct patron_model_unknown *u = patron_model_unknown(m, &n);
    assert_int_equal(n, 3);
    assert_int_equal(u[0].offset, 4); /* FS p */
    assert_int_equal(u[0].bytes[0], 0x1C);
    assert_int_equal(u[1].offset, 10); /* GS P; DLE EOT before it is not reported */
    assert_int_equal(u[1].bytes[1], 0x50);
    assert_int_equal(u[2].offset, 13); /* BEL */
    /* a command cut short is reported, not read past the end */
    const uint8_t cut_short[] = {0x1D, 0x76, 0x30, 0x00, 0x10, 0x00, 0x10};
    assert_int_equal(patron_model_feed(m, cut_short, sizeof cut_short), 0);
    u = patron_model_unknown(m, &n);
    assert_int_equal(n, 4);
    assert_int_equal(u[3].offset, sizeof job);
    patron_model_free(m);
}

/* Malformed CODE128 data ends in '{' or puts a NUL after one: reported, never read past. */
static void code128_escape_at_the_end_is_reported(void **state)
{
    (void)state;
    struct patron_model *m = NULL;
    const uint8_t end[] = {0x1D, 'k', 73, 3, '{', 'A', '{'};
    const uint8_t nul[] = {0x1D, 'k', 73, 4, '{', 'A', '{', 0x00};
    size_t n;
    assert_int_equal(patron_model_new(384, &m), 0);
    assert_int_equal(patron_model_feed(m, end, sizeof end), 0);
    assert_int_equal(patron_model_feed(m, nul, sizeof nul), 0);
    const struct patron_model_unknown *u = patron_model_unknown(m, &n);
    assert_int_equal(n, 2);
    assert_string_equal(u[0].what, "barcode type or data not modelled");
    assert_int_equal(u[1].offset, sizeof end);
    patron_model_free(m);
}

/* ESC d n prints the buffer and feeds n lines in all: the printed line is the first of them. */
static void esc_d_counts_the_printed_line(void **state)
{
    (void)state;
    struct patron_model *a = NULL, *b = NULL;
    const uint8_t feed[] = {'x', 0x1B, 'd', 3};
    const uint8_t lfs[] = {'x', '\n', '\n', '\n'};
    unsigned w, ha, hb;
    assert_int_equal(patron_model_new(384, &a), 0);
    assert_int_equal(patron_model_new(384, &b), 0);
    assert_int_equal(patron_model_feed(a, feed, sizeof feed), 0);
    assert_int_equal(patron_model_feed(b, lfs, sizeof lfs), 0);
    patron_model_bitmap(a, &w, &ha);
    patron_model_bitmap(b, &w, &hb);
    assert_int_equal(ha, hb);
    patron_model_free(a);
    patron_model_free(b);
}

static void virtual_printer_writes_job_files(void **state)
{
    (void)state;
    char dir[600], path[700], detail[256];
    patron_printer *p = NULL;
    unsigned status = 0;
    snprintf(dir, sizeof dir, "%s", tmp_path("virtual-XXXXXX"));
    assert_non_null(mkdtemp(dir));
    size_t len = strlen(dir);
    snprintf(dir + len, sizeof dir - len, "/prints");
    assert_int_equal(patron__virtual_open(dir, 384, &p, detail, sizeof detail), 0);
    assert_int_equal(p->ops->status(p, &status), 0);
    assert_int_equal(status, PATRON_PRINTER_ONLINE);
    const uint8_t job[] = "\x1B@Hello\n\x1DV\x42\x00";
    assert_int_equal(p->ops->send(p, "job-1", job, sizeof job - 1, detail, sizeof detail), 0);
    assert_int_not_equal(p->ops->send(p, "../x", job, 3, detail, sizeof detail), 0);
    snprintf(path, sizeof path, "%s/job-1.bin", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t back[64];
    assert_int_equal(fread(back, 1, sizeof back, f), sizeof job - 1);
    assert_memory_equal(back, job, sizeof job - 1);
    fclose(f);
    snprintf(path, sizeof path, "%s/job-1.png", dir);
    png_image img = {.version = PNG_IMAGE_VERSION};
    assert_true(png_image_begin_read_from_file(&img, path));
    assert_int_equal(img.width, 384);
    png_image_free(&img);
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' || strstr(e->d_name, ".tmp"))
            files++, assert_null(strstr(e->d_name, ".tmp"));
    closedir(d);
    assert_int_equal(files, 2);
    p->ops->close(p);
    free(p);
    *strrchr(dir, '/') = '\0';
    test_rmtree(dir);
}

/* Draws one byte in code page `page` (ESC t n) and returns the first 12 x 24 cell, row by row
 * (bit 11 = leftmost dot). */
static void draw_byte(uint8_t page, uint8_t byte, uint16_t cell[24])
{
    struct patron_model *m;
    const uint8_t job[] = {0x1b, 0x40, 0x1b, 0x74, page, byte, '\n'};
    unsigned w, h;
    assert_int_equal(patron_model_new(384, &m), 0);
    assert_int_equal(patron_model_feed(m, job, sizeof job), 0);
    assert_int_equal(patron_model_flush(m), 0);
    const uint8_t *bits = patron_model_bitmap(m, &w, &h);
    assert_true(h >= 24);
    for (unsigned r = 0; r < 24; r++) {
        const uint8_t *row = bits + (size_t)r * ((w + 7) / 8);
        cell[r] = (uint16_t)((row[0] << 4) | (row[1] >> 4));
    }
    patron_model_free(m);
}

static int cell_ink(const uint16_t cell[24])
{
    int n = 0;
    for (unsigned r = 0; r < 24; r++)
        for (unsigned c = 0; c < 12; c++)
            n += cell[r] >> c & 1;
    return n;
}

/* The model draws what a printer's font A shows: braces are not parentheses, and the CP437 and
 * CP858 glyphs a receipt can carry (AE, one half, sharp s, accented letters) are each their own
 * glyph, never a placeholder box shared by all of them. */
static void font_draws_every_code_page_glyph(void **state)
{
    (void)state;
    uint16_t a[24], b[24];
    draw_byte(0, '{', a);
    draw_byte(0, '(', b);
    assert_true(cell_ink(a) > 0 && cell_ink(b) > 0);
    assert_memory_not_equal(a, b, sizeof a);
    draw_byte(0, '}', a);
    draw_byte(0, ')', b);
    assert_memory_not_equal(a, b, sizeof a);
    /* CP437: AE 0x92, 1/2 0xAB, sharp s 0xE1, e acute 0x82; CP858 (ESC t 19): euro 0xD5 */
    static const struct {
        uint8_t page, byte;
    } glyphs[] = {{0, 0x92}, {0, 0xAB}, {0, 0xE1}, {0, 0x82}, {0, 'e'}, {19, 0xD5}, {0, 0x9C}};
    uint16_t cells[7][24];
    for (size_t i = 0; i < 7; i++) {
        draw_byte(glyphs[i].page, glyphs[i].byte, cells[i]);
        assert_true(cell_ink(cells[i]) > 8);
        for (size_t k = 0; k < i; k++)
            assert_memory_not_equal(cells[i], cells[k], sizeof cells[i]);
    }
}

/* Nothing but rules reaches the paper's edges: every row with ink in the outer character cell
 * on either side is a rule drawn across the whole width, or the mark where the knife cut. (The
 * fixture's offer terms fill a whole 58 mm line by themselves: that coupon is checked on 80 mm.) */
static void coupon_text_keeps_off_the_paper_edge(void **state)
{
    (void)state;
    static const char *const names[] = {"reward-coupon", "reward-coupon", "offer-coupon"};
    static const char *const profiles[] = {"generic-58", "epson-tm-t20", "epson-tm-t20"};
    for (size_t t = 0; t < 3; t++) {
        const struct patron_escpos_profile *prof = patron_escpos_profile_find(profiles[t]);
        patron_receipt *tpl = NULL;
        struct patron_receipt_var v[FIXTURE_MAX_VARS];
        struct patron_model *m = NULL;
        char msg[256];
        uint8_t *bytes;
        size_t len, n = fixture_vars(v, fixture_token()), ncuts;
        unsigned w, h;
        assert_int_equal(patron_receipt_load(NULL, names[t], &tpl, msg, sizeof msg), 0);
        assert_int_equal(patron_receipt_render_job(tpl, prof, v, n, &bytes, &len, msg, sizeof msg),
                         0);
        assert_int_equal(patron_model_new(prof->dots, &m), 0);
        assert_int_equal(patron_model_feed(m, bytes, len), 0);
        assert_int_equal(patron_model_flush(m), 0);
        const uint8_t *bits = patron_model_bitmap(m, &w, &h);
        const unsigned *cuts = patron_model_cuts(m, &ncuts);
        for (unsigned y = 0; y < h; y++) {
            const uint8_t *row = bits + (size_t)y * ((w + 7) / 8);
            unsigned ink = 0, edge = 0, cut = 0;
            for (unsigned x = 0; x < w; x++) {
                unsigned dot = row[x / 8] >> (7 - x % 8) & 1;
                ink += dot;
                edge += dot && (x < 12 || x >= w - 12);
            }
            for (size_t k = 0; k < ncuts; k++)
                cut |= cuts[k] == y;
            if (edge && ink != w && !cut)
                fail_msg("%s on %s: text at the paper's edge in row %u", names[t], profiles[t], y);
        }
        patron_model_free(m);
        free(bytes);
        patron_receipt_free(tpl);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(coupon_qr_reads_back_native),
        cmocka_unit_test(coupon_qr_reads_back_raster),
        cmocka_unit_test(member_card_barcode_reads_back),
        cmocka_unit_test(unknown_commands_are_reported),
        cmocka_unit_test(code128_escape_at_the_end_is_reported),
        cmocka_unit_test(esc_d_counts_the_printed_line),
        cmocka_unit_test(virtual_printer_writes_job_files),
        cmocka_unit_test(font_draws_every_code_page_glyph),
        cmocka_unit_test(coupon_text_keeps_off_the_paper_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
