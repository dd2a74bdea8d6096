/* SPDX-License-Identifier: MIT */
/* A USB card scanner in keyboard mode, emulated with umockdev (the project's own libusb code
 * unmodified, in `patron serve`): its boot-keyboard reports carry a card number, garbage, a
 * voucher-sized code; the till's event stream shows what Patron did with each; the kernel's
 * usbhid driver is detached so the keystrokes go nowhere else; unplugging it mid-scan is a
 * sentence on the stream, never a half scan acted on. The HID POS scanner (usage page 0x8C)
 * sends a card with its symbology. */
#include "apistream.h"
#include "apiutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "usb_printer_emu.h"

#define NOW "2026-03-10T12:00:00Z"
#define WAIT_S APIT_STREAM_WAIT_S

static struct fixture {
    struct api_server sv;
    char cashier[64], pos_till[64];
    char ada[14];
    usbemu *emu;
    usbemu_printer *kbd, *pos;
} fx;

static uint8_t key_of(char c)
{
    if (c >= '1' && c <= '9')
        return (uint8_t)(0x1E + (c - '1'));
    return c == '0' ? 0x27 : c == '\n' ? 0x28 : (uint8_t)(0x04 + (c - 'a'));
}

/* Types `text` as a keyboard-mode scanner does: a press and a release report per key. */
static void kbd_types(const char *text)
{
    for (const char *p = text; *p; p++) {
        uint8_t down[8] = {0, 0, key_of(*p)}, up[8] = {0};
        assert_int_equal(usbemu_scanner_send(fx.kbd, down, 8), 0);
        assert_int_equal(usbemu_scanner_send(fx.kbd, up, 8), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    fx.emu = usbemu_new(); /* before any libusb_init, in this process and the service */
    assert_non_null(fx.emu);
    struct usbemu_printer_config k = {
        .vid = 0x0c2e, .pid = 0x0b61, .kind = USBEMU_SCANNER_KEYBOARD, .usblp_bound = 1};
    struct usbemu_printer_config p = {.vid = 0x05e0, .pid = 0x1200, .kind = USBEMU_SCANNER_HIDPOS};
    assert_int_equal(usbemu_add_printer(fx.emu, &k, &fx.kbd), 0);
    assert_int_equal(usbemu_add_printer(fx.emu, &p, &fx.pos), 0);
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "till-2", "cashier", fx.pos_till);
    json_t *j =
        apit_patron(&fx.sv, "--now", NOW, "member", "enroll", "--name", "Ada", (char *)NULL);
    snprintf(fx.ada, sizeof fx.ada, "%s", apit_jstr(j, "card"));
    json_decref(j);
    json_decref(apit_patron(&fx.sv, "--now", NOW, "--printer", "none", "sale", fx.ada, "--ref",
                            "SEED", "--total", "12400", (char *)NULL));
    json_decref(
        apit_patron(&fx.sv, "terminal", "scanner", "till-1", "usb:0c2e:0b61", (char *)NULL));
    json_decref(
        apit_patron(&fx.sv, "terminal", "scanner", "till-2", "usb:05e0:1200", (char *)NULL));
    apit_start(&fx.sv, "--now", NOW, "--printer", "none", (char *)NULL);
    for (time_t end = time(NULL) + WAIT_S;
         !apit_file_has(fx.sv.log,
                        "event=scanner till=till-1 state=open kind=usb protocol=keyboard") ||
         !apit_file_has(fx.sv.log, "event=scanner till=till-2 state=open kind=usb protocol=hidpos");
         apit_nap())
        if (time(NULL) > end)
            fail_msg("the service never opened the USB scanners");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    usbemu_free(fx.emu);
    return status == 0 ? 0 : -1;
}

static void keyboard_scanner_scans_reach_the_event_stream(void **state)
{
    (void)state;
    struct apit_stream st;
    struct usbemu_stats stats;
    char line[32], voucher[250];
    usbemu_printer_stats(fx.kbd, &stats);
    assert_int_equal(stats.claimed, 1);
    assert_int_equal(stats.usblp_bound, 0); /* usbhid let go: keystrokes land nowhere else */
    assert_true(stats.detaches >= 1);
    apit_stream_open_surely(&st, fx.sv.port, fx.cashier);
    snprintf(line, sizeof line, "%s\n", fx.ada);
    kbd_types(line);
    apit_stream_wait(&st, "\"kind\":\"card\"");
    apit_stream_wait(&st, "\"name\":\"Ada\"");
    apit_stream_wait(&st, "\"points\":124");
    /* garbage: an F1 key in the middle */
    uint8_t f1[8] = {0, 0, 0x3A}, none[8] = {0};
    kbd_types("290");
    usbemu_scanner_send(fx.kbd, f1, 8);
    usbemu_scanner_send(fx.kbd, none, 8);
    kbd_types("0000000018\n");
    apit_stream_wait(&st, "not a barcode");
    memset(voucher, '3', 243);
    snprintf(voucher + 243, sizeof voucher - 243, "\n");
    kbd_types(voucher);
    apit_stream_wait(&st, "\"kind\":\"voucher\"");
    /* unplugged half-way through a card: a sentence, and no scan of the half */
    snprintf(line, sizeof line, "%.6s", fx.ada);
    kbd_types(line);
    for (time_t end = time(NULL) + WAIT_S;; apit_nap()) {
        usbemu_printer_stats(fx.kbd, &stats);
        if (stats.in_urbs > 2 * 13 * 2 + 2 * 243 + 12) /* every report above was taken */
            break;
        if (time(NULL) > end)
            fail_msg("the scanner's reports were not read");
    }
    usbemu_unplug(fx.kbd);
    apit_stream_wait(&st, "unplugged in the middle of a scan");
    assert_true(apit_file_has(fx.sv.log, "event=scan till=till-1 kind=card outcome=ok"));
    assert_false(apit_file_has(fx.sv.log, fx.ada));
    apit_stream_close(&st);
}

static void hidpos_scanner_sends_symbology_and_data(void **state)
{
    (void)state;
    struct apit_stream st;
    apit_stream_open_surely(&st, fx.sv.port, fx.pos_till);
    uint8_t r[64] = {0x02, 13, ']', 'E', '0'};
    memcpy(r + 5, fx.ada, 13);
    assert_int_equal(usbemu_scanner_send(fx.pos, r, sizeof r), 0);
    apit_stream_wait(&st, "\"symbology\":\"]E0\"");
    apit_stream_wait(&st, "\"name\":\"Ada\"");
    apit_stream_close(&st);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyboard_scanner_scans_reach_the_event_stream),
        cmocka_unit_test(hidpos_scanner_sends_symbology_and_data),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
