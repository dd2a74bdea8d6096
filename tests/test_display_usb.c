/* SPDX-License-Identifier: MIT */
/* The customer display over USB: the project's own libusb code, unmodified, against an emulated
 * vendor-class display (umockdev): the bytes that reach the bulk OUT endpoint (read from the
 * descriptors) are exactly the golden ones the serial test also checks, no printer status
 * request is mixed in, and a display unplugged mid-frame is a sentence, never a crash.
 * Runs under the umockdev preload (see patron_add_usb_test in tests/CMakeLists.txt). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patron/display.h"
#include "usb_printer_emu.h"

static void frame_of(struct patron_display_frame *f, const char *l1, const char *l2)
{
    memset(f, 0, sizeof *f);
    snprintf(f->line[0], sizeof f->line[0], "%s", l1);
    snprintf(f->line[1], sizeof f->line[1], "%s", l2);
    f->brightness = 4;
}

/* The same session as test_display's serial golden test. */
static void session(patron_display *d)
{
    struct patron_display_frame f;
    char detail[200];
    frame_of(&f, "Hello Ada \xe2\x80\x94 1,240 points", "260 more to Gold \xe2\x82\xac");
    assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
    assert_int_equal(patron_display_show(d, &f, 1, detail, sizeof detail), 0);
    f.blank = 1;
    assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
}

static size_t golden(const char *name, uint8_t *buf, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/golden/%s", getenv("PATRON_SOURCE_DIR"), name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("no golden file %s (test_display writes it)", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void test_usb_golden(void **state)
{
    (void)state;
    static const char *const files[] = {"display-epson-dm-d.bin", "display-cd5220.bin"};
    for (size_t k = 0; k < 2; k++) {
        usbemu *emu = usbemu_new();
        usbemu_printer *dev = NULL;
        patron_display *d = NULL;
        struct usbemu_stats st;
        uint8_t got[4096], want[4096];
        char detail[300];
        assert_non_null(emu);
        /* a vendor-specific interface whose bulk OUT is not the usual 0x01 */
        struct usbemu_printer_config cfg = {.vid = 0x0dd4,
                                            .pid = 0x0201,
                                            .iface_class = 0xff,
                                            .ep_out = 0x03,
                                            .ep_in = 0x81,
                                            .product = "Emulated pole display"};
        assert_int_equal(usbemu_add_printer(emu, &cfg, &dev), 0);
        int rc = patron_display_open("usb:0dd4:0201", patron_display_profile_at(k), &d, detail,
                                     sizeof detail);
        if (rc != 0)
            fail_msg("usb:0dd4:0201: %s (%s)", patron_err_name(rc), detail);
        session(d);
        patron_display_close(d);
        size_t n = usbemu_printer_received(dev, got, sizeof got);
        size_t m = golden(files[k], want, sizeof want);
        assert_int_equal(n, m);
        assert_memory_equal(got, want, n);
        usbemu_printer_stats(dev, &st);
        assert_int_equal(st.status_requests, 0); /* raw: no DLE EOT among the display's bytes */
        usbemu_free(emu);
    }
}

static void test_usb_faults(void **state)
{
    (void)state;
    usbemu *emu = usbemu_new();
    usbemu_printer *dev = NULL;
    patron_display *d = NULL;
    struct patron_display_frame f;
    char detail[300] = "";
    assert_non_null(emu);
    /* nothing plugged in with that id */
    assert_int_equal(patron_display_open("usb:0dd4:0201", patron_display_profile_at(0), &d, detail,
                                         sizeof detail),
                     PATRON_EDEVICE);
    assert_true(detail[0] != '\0');
    struct usbemu_printer_config cfg = {
        .vid = 0x0dd4, .pid = 0x0201, .iface_class = 0xff, .unplug = 1, .unplug_after = 40};
    assert_int_equal(usbemu_add_printer(emu, &cfg, &dev), 0);
    assert_int_equal(patron_display_open("usb:0dd4:0201", patron_display_profile_at(0), &d, detail,
                                         sizeof detail),
                     0);
    frame_of(&f, "Hello", "World");
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = patron_display_show(d, &f, 0, detail, sizeof detail);
    assert_int_equal(rc, PATRON_EDEVICE);
    assert_non_null(strstr(detail, "unplugged"));
    patron_display_close(d);
    usbemu_free(emu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usb_golden),
        cmocka_unit_test(test_usb_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
