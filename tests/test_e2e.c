/* SPDX-License-Identifier: MIT */
/* End to end, as at the counter: a reward is redeemed with `patron`, its coupon printed (on the
 * virtual printer, and through the emulated USB printer with the project's libusb code), the QR
 * read back from the paper image by zbar, and the voucher it holds accepted exactly once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "escpos_model.h"
#include "testutil.h"
#include "zbar_util.h"

static char dir[256], db[300], out[16384], card[16];

static const char *json_field(const char *key)
{
    static char value[512];
    json_t *o = json_loads(out, 0, NULL);
    if (!o)
        fail_msg("not one JSON object: %s", out);
    json_t *v = json_object_get(o, key);
    snprintf(value, sizeof value, "%s", json_is_string(v) ? json_string_value(v) : "");
    json_decref(o);
    return value;
}

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/patron-e2e-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/patron.db", dir);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "init", (char *)NULL), 0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "reward", "add", "--name",
                                     "Free coffee", "--cost", "50", "--kind", "item", "--value",
                                     "1001", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Ada Lovelace", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", json_field("card"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "S1",
                                     "--total", "20000", (char *)NULL),
                     0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_rmtree(dir);
    return 0;
}

/* The scanned token redeems once; the second time it is refused as already redeemed. */
static void redeem_scanned_once(const char *scanned, const char *issued)
{
    assert_non_null(scanned);
    assert_string_equal(scanned, issued);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "voucher", "redeem", scanned,
                                     "--ref", "S2", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "voucher", "redeem", scanned,
                                     "--ref", "S3", (char *)NULL),
                     2);
}

static void virtual_printer_coupon_scans_and_redeems_once(void **state)
{
    (void)state;
    char spec[300], png[320], token[256];
    snprintf(spec, sizeof spec, "virtual:%s/prints", dir);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--printer", spec,
                                     "reward", "redeem", card, "1", (char *)NULL),
                     0);
    snprintf(token, sizeof token, "%s", json_field("token"));
    assert_string_equal(json_field("print_status"), "printed");
    snprintf(png, sizeof png, "%s/prints/job-1.png", dir);
    char *scanned = test_decode_png(png, ZBAR_QRCODE);
    redeem_scanned_once(scanned, token);
    free(scanned);
}

/* The bytes the emulated printer received, drawn by the printer model, as the paper would be. */
static void draw(const char *bin, const char *png, unsigned dots)
{
    static uint8_t bytes[1 << 20];
    struct patron_model *m;
    FILE *f = fopen(bin, "rb");
    assert_non_null(f);
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(n > 0);
    assert_int_equal(patron_model_new(dots, &m), 0);
    assert_int_equal(patron_model_feed(m, bytes, n), 0);
    assert_int_equal(patron_model_flush(m), 0);
    assert_int_equal(patron_model_write_png(m, png), 0);
    patron_model_free(m);
}

static void usb_printer_coupon_scans_and_redeems_once(void **state)
{
    (void)state;
    char bin[320], png[320], token[256];
    const char *emu = getenv("PATRON_USB_EMU");
    assert_non_null(emu);
    snprintf(bin, sizeof bin, "%s/usb.bin", dir);
    snprintf(png, sizeof png, "%s/usb.png", dir);
    /* a 58 mm clone without native QR: the coupon's QR goes out as a raster image */
    const char *argv[] = {emu,      "--out",  bin,      "--",        getenv("PATRON_BIN"),
                          "--db",   db,       "--json", "--printer", "usb",
                          "reward", "redeem", card,     "1",         NULL};
    assert_int_equal(test_run(out, sizeof out, argv), 0);
    snprintf(token, sizeof token, "%s", json_field("token"));
    assert_string_equal(json_field("print_status"), "printed");
    draw(bin, png, 384);
    char *scanned = test_decode_png(png, ZBAR_QRCODE);
    redeem_scanned_once(scanned, token);
    free(scanned);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(virtual_printer_coupon_scans_and_redeems_once),
        T(usb_printer_coupon_scans_and_redeems_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
