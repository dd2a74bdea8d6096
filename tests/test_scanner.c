/* SPDX-License-Identifier: MIT */
/* The card scanner's decoders: boot-keyboard reports (digits, Enter, held keys, rollover),
 * HID POS reports (symbology, continued reports), serial lines, and what is refused: garbage,
 * half-read scans, wrong check digits, floods. Pure; no device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#include "patron/card.h"
#include "patron/error.h"
#include "patron/scanner.h"

#define CARD "2900000000018"

static uint8_t key_of(char c)
{
    if (c >= '1' && c <= '9')
        return (uint8_t)(0x1E + (c - '1'));
    if (c == '0')
        return 0x27;
    if (c == '\n')
        return 0x28;
    return 0x04 + (uint8_t)(c - 'a');
}

/* Types `text` as a scanner does: a press report and a release report per key. */
static int type(struct patron_kbd_decoder *d, const char *text, struct patron_scan_line *out,
                char *why)
{
    int res = PATRON_SCAN_MORE;
    for (const char *p = text; *p; p++) {
        uint8_t down[8] = {0, 0, key_of(*p)}, up[8] = {0};
        int r = patron_kbd_feed(d, down, 8, out, why, 160);
        if (r != PATRON_SCAN_MORE)
            res = r;
        r = patron_kbd_feed(d, up, 8, out, why, 160);
        if (r != PATRON_SCAN_MORE)
            res = r;
    }
    return res;
}

static void keyboard_reports_make_a_scan_line(void **state)
{
    (void)state;
    struct patron_kbd_decoder d;
    struct patron_scan_line line;
    char why[160] = "";
    patron_kbd_decoder_init(&d);
    assert_int_equal(type(&d, CARD "\n", &line, why), PATRON_SCAN_LINE);
    assert_string_equal(line.data, CARD);
    assert_int_equal(line.len, 13);
    /* a held key repeats nothing; rollover: two keys down in one report, then one released */
    uint8_t r1[8] = {0, 0, 0x1F}, r2[8] = {0, 0, 0x1F, 0x20}, r3[8] = {0, 0, 0x20},
            err[8] = {0, 0, 1, 1, 1, 1, 1, 1}, enter[8] = {0, 0, 0x28};
    assert_int_equal(patron_kbd_feed(&d, r1, 8, &line, why, sizeof why), PATRON_SCAN_MORE);
    assert_int_equal(patron_kbd_feed(&d, r1, 8, &line, why, sizeof why), PATRON_SCAN_MORE);
    assert_int_equal(patron_kbd_feed(&d, r2, 8, &line, why, sizeof why), PATRON_SCAN_MORE);
    assert_int_equal(patron_kbd_feed(&d, err, 8, &line, why, sizeof why), PATRON_SCAN_MORE);
    assert_int_equal(patron_kbd_feed(&d, r3, 8, &line, why, sizeof why), PATRON_SCAN_MORE);
    assert_int_equal(patron_kbd_feed(&d, enter, 8, &line, why, sizeof why), PATRON_SCAN_LINE);
    assert_string_equal(line.data, "23");
    /* shift gives capitals */
    uint8_t shifted[8] = {0x02, 0, 0x04}, none[8] = {0};
    patron_kbd_feed(&d, shifted, 8, &line, why, sizeof why);
    patron_kbd_feed(&d, none, 8, &line, why, sizeof why);
    assert_int_equal(patron_kbd_feed(&d, enter, 8, &line, why, sizeof why), PATRON_SCAN_LINE);
    assert_string_equal(line.data, "A");
}

static void keyboard_garbage_is_refused_whole(void **state)
{
    (void)state;
    struct patron_kbd_decoder d;
    struct patron_scan_line line;
    char why[160] = "";
    patron_kbd_decoder_init(&d);
    uint8_t f1[8] = {0, 0, 0x3A}, none[8] = {0}; /* F1 in the middle of a scan */
    type(&d, "290", &line, why);
    patron_kbd_feed(&d, f1, 8, &line, why, sizeof why);
    patron_kbd_feed(&d, none, 8, &line, why, sizeof why);
    assert_int_equal(type(&d, "0000000018\n", &line, why), PATRON_SCAN_REJECTED);
    assert_non_null(strstr(why, "not a barcode"));
    /* the next scan is whole again */
    assert_int_equal(type(&d, CARD "\n", &line, why), PATRON_SCAN_LINE);
    /* too long */
    char longer[PATRON_SCAN_DATA_MAX + 10];
    memset(longer, '1', sizeof longer - 2);
    longer[sizeof longer - 2] = '\n';
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(type(&d, longer, &line, why), PATRON_SCAN_REJECTED);
    assert_non_null(strstr(why, "longer"));
    /* a short report is refused, never read past */
    uint8_t shortr[3] = {0, 0, 0x1E};
    patron_kbd_feed(&d, shortr, 3, &line, why, sizeof why);
    assert_int_equal(type(&d, "1\n", &line, why), PATRON_SCAN_REJECTED);
}

static void hidpos_reports_carry_symbology_and_continue(void **state)
{
    (void)state;
    struct patron_hidpos_decoder d;
    struct patron_scan_line line;
    char why[160] = "", voucher[244];
    patron_hidpos_decoder_init(&d);
    uint8_t r[PATRON_HIDPOS_REPORT] = {0x02, 13, ']', 'E', '0'};
    memcpy(r + 5, CARD, 13);
    assert_int_equal(patron_hidpos_feed(&d, r, sizeof r, &line, why, sizeof why), PATRON_SCAN_LINE);
    assert_string_equal(line.data, CARD);
    assert_string_equal(line.symbology, "]E0");
    /* a 243-digit QR in five reports */
    for (int i = 0; i < 243; i++)
        voucher[i] = (char)('0' + i % 10);
    voucher[243] = '\0';
    int res = PATRON_SCAN_MORE;
    for (int off = 0; off < 243; off += PATRON_HIDPOS_DATA) {
        uint8_t q[PATRON_HIDPOS_REPORT] = {0x02, 0, ']', 'Q', '1'};
        int n = 243 - off < PATRON_HIDPOS_DATA ? 243 - off : PATRON_HIDPOS_DATA;
        q[1] = (uint8_t)n;
        memcpy(q + 5, voucher + off, (size_t)n);
        q[63] = off + n < 243;
        res = patron_hidpos_feed(&d, q, sizeof q, &line, why, sizeof why);
        assert_int_equal(res, off + n < 243 ? PATRON_SCAN_MORE : PATRON_SCAN_LINE);
    }
    assert_string_equal(line.data, voucher);
    assert_string_equal(line.symbology, "]Q1");
    assert_int_equal(patron_scan_classify(&line, why, sizeof why), PATRON_SCAN_VOUCHER);
    /* a count beyond the report, and binary bytes, are refused */
    uint8_t bad[PATRON_HIDPOS_REPORT] = {0x02, 60, ']', 'E', '0'};
    assert_int_equal(patron_hidpos_feed(&d, bad, sizeof bad, &line, why, sizeof why),
                     PATRON_SCAN_REJECTED);
    uint8_t bin[PATRON_HIDPOS_REPORT] = {0x02, 2, ']', 'E', '0', 0xFF, 0x01};
    assert_int_equal(patron_hidpos_feed(&d, bin, sizeof bin, &line, why, sizeof why),
                     PATRON_SCAN_REJECTED);
}

static void serial_lines_end_with_cr_lf_or_crlf(void **state)
{
    (void)state;
    struct patron_serial_decoder d;
    struct patron_scan_line line;
    char why[160] = "";
    const char *in = CARD "\r\n" CARD "\n"
                          "12\x01"
                          "3\r" CARD "\r";
    int lines = 0, rejected = 0;
    patron_serial_decoder_init(&d);
    for (const char *p = in; *p; p++) {
        int r = patron_serial_feed(&d, (uint8_t)*p, &line, why, sizeof why);
        if (r == PATRON_SCAN_LINE) {
            assert_string_equal(line.data, CARD);
            lines++;
        }
        rejected += r == PATRON_SCAN_REJECTED;
    }
    assert_int_equal(lines, 3);
    assert_int_equal(rejected, 1);
}

static void scans_are_classified_with_a_sentence(void **state)
{
    (void)state;
    struct patron_scan_line line = {.data = CARD, .len = 13};
    char why[160] = "";
    assert_int_equal(patron_scan_classify(&line, why, sizeof why), PATRON_SCAN_CARD);
    line.data[12] = '9';
    assert_int_equal(patron_scan_classify(&line, why, sizeof why), PATRON_SCAN_INVALID);
    assert_non_null(strstr(why, "check digit"));
    memset(line.data, '7', 100);
    line.data[100] = '\0';
    line.len = 100;
    assert_int_equal(patron_scan_classify(&line, why, sizeof why), PATRON_SCAN_INVALID);
    assert_non_null(strstr(why, "part of a voucher"));
    snprintf(line.data, sizeof line.data, "hello");
    line.len = 5;
    assert_int_equal(patron_scan_classify(&line, why, sizeof why), PATRON_SCAN_INVALID);
}

static void a_flood_is_limited(void **state)
{
    (void)state;
    struct patron_scan_limit l = {.max_per_s = 3};
    int taken = 0;
    for (int i = 0; i < 10; i++)
        taken += patron_scan_limit_take(&l, 5000 + i);
    assert_int_equal(taken, 3);
    assert_int_equal(l.dropped, 7);
    assert_int_equal(patron_scan_limit_take(&l, 6000), 1); /* the next second */
}

/* A pseudo-terminal pair stands for a serial scanner (/dev/ttyACM0). */
static int pty_open(char *spec, size_t cap)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(m >= 0);
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    snprintf(spec, cap, "file:%s", ptsname(m));
    return m;
}

static void serial_device_reads_scans_and_drops_half_reads(void **state)
{
    (void)state;
    char spec[128], why[160] = "";
    struct patron_scan_line line;
    patron_scanner *sc = NULL;
    int m = pty_open(spec, sizeof spec);
    assert_int_equal(patron_scanner_open(spec, &sc, why, sizeof why), 0);
    struct patron_scanner_info info;
    patron_scanner_describe(sc, &info);
    assert_string_equal(info.protocol, "serial");
    assert_int_equal(write(m, CARD "\r\n" CARD "\r\n", 30), 30);
    for (int i = 0; i < 2; i++) {
        int r;
        while ((r = patron_scanner_read(sc, 1000, &line, why, sizeof why)) == PATRON_SCAN_MORE)
            ;
        assert_int_equal(r, PATRON_SCAN_LINE);
        assert_string_equal(line.data, CARD);
    }
    /* half a scan, then silence: dropped with a sentence, never handed on */
    assert_int_equal(write(m, "29000", 5), 5);
    int r;
    while ((r = patron_scanner_read(sc, 1000, &line, why, sizeof why)) == PATRON_SCAN_MORE)
        ;
    assert_int_equal(r, PATRON_SCAN_REJECTED);
    assert_non_null(strstr(why, "half-way"));
    /* the other end goes away: the device is gone */
    close(m);
    while ((r = patron_scanner_read(sc, 1000, &line, why, sizeof why)) == PATRON_SCAN_MORE)
        ;
    assert_int_equal(r, PATRON_EDEVICE);
    patron_scanner_close(sc);
    assert_int_equal(patron_scanner_open("file:/nonexistent/tty", &sc, why, sizeof why),
                     PATRON_EDEVICE);
    assert_int_equal(patron_scanner_open("none", &sc, why, sizeof why), PATRON_EINVAL);
}

/* A scanner that floods: beyond 20 scans a second they are dropped, and the flood is said once
 * per second, not once per dropped scan. */
static void a_flooding_serial_scanner_is_held_back(void **state)
{
    (void)state;
    char spec[128], why[160] = "", burst[15 * 60 + 1] = "";
    struct patron_scan_line line;
    patron_scanner *sc = NULL;
    int m = pty_open(spec, sizeof spec), lines = 0, said = 0, r;
    assert_int_equal(patron_scanner_open(spec, &sc, why, sizeof why), 0);
    for (int i = 0; i < 60; i++)
        memcpy(burst + 15 * i, CARD "\r\n", 15);
    time_t t0 = time(NULL);
    assert_int_equal(write(m, burst, 15 * 60), 15 * 60);
    while (lines + said < 60 &&
           (r = patron_scanner_read(sc, 1500, &line, why, sizeof why)) != PATRON_SCAN_MORE) {
        lines += r == PATRON_SCAN_LINE;
        if (r == PATRON_SCAN_REJECTED) {
            assert_non_null(strstr(why, "more than 20 scans a second"));
            said++;
        }
    }
    long windows = (long)(time(NULL) - t0) + 2; /* the seconds the reading spanned, at most */
    assert_true(said >= 1);
    assert_true(said <= windows);
    assert_true(lines <= 20 * windows);
    assert_true(lines < 60);
    patron_scanner_close(sc);
    close(m);
}

struct feeder {
    int fd;
    atomic_int stop;
};

/* Sends a card scan every 50 ms until told to stop (the command flushes what came before it
 * opened the line, so one sent early may be lost). */
static void *feed_main(void *arg)
{
    struct feeder *f = arg;
    while (!atomic_load(&f->stop)) {
        if (write(f->fd, CARD "\r\n", 15) != 15)
            break;
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    }
    return NULL;
}

static void scanner_test_command_prints_decoded_scans(void **state)
{
    (void)state;
    static char out[16384];
    char spec[128];
    struct feeder f = {0};
    pthread_t t;
    f.fd = pty_open(spec, sizeof spec);
    assert_int_equal(pthread_create(&t, NULL, feed_main, &f), 0);
    int status = test_run_patron(out, sizeof out, "--json", "scanner", "test", spec, "--count", "2",
                                 (char *)NULL);
    atomic_store(&f.stop, 1);
    pthread_join(t, NULL);
    close(f.fd);
    assert_int_equal(status, 0);
    assert_true(strstr(out, "\"count\": 2") || strstr(out, "\"count\":2"));
    assert_non_null(strstr(out, "card"));
    assert_non_null(strstr(out, CARD));
    assert_int_equal(test_run_patron(out, sizeof out, "scanner", "list", (char *)NULL), 0);
    assert_int_not_equal(
        test_run_patron(out, sizeof out, "scanner", "test", "usb:zz", (char *)NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keyboard_reports_make_a_scan_line),
        cmocka_unit_test(keyboard_garbage_is_refused_whole),
        cmocka_unit_test(hidpos_reports_carry_symbology_and_continue),
        cmocka_unit_test(serial_lines_end_with_cr_lf_or_crlf),
        cmocka_unit_test(scans_are_classified_with_a_sentence),
        cmocka_unit_test(a_flood_is_limited),
        cmocka_unit_test(serial_device_reads_scans_and_drops_half_reads),
        cmocka_unit_test(a_flooding_serial_scanner_is_held_back),
        cmocka_unit_test(scanner_test_command_prints_decoded_scans),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
