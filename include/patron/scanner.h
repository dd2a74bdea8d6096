/* SPDX-License-Identifier: MIT */
/* Card scanners: what a scanner's reports mean, and the devices that send them. The decoders are
 * pure: HID boot-keyboard reports (a scanner in keyboard mode), HID POS reports (usage page 0x8C,
 * the barcode scanner page) and serial lines each become whole scans; a half-read barcode,
 * garbage or a flood becomes a sentence, never a scan. A scan is then classified: a 13-digit
 * card number (its GS1 check digit right) or a 243-digit voucher QR.
 *
 * The device side opens the spec a till is bound to (patron/terminal.h): "auto" or "usb" (the
 * first USB HID device that looks like a scanner), "usb:VID:PID", "file:DEV" (a serial scanner,
 * /dev/ttyACM0), and reads scans from it.
 *
 * Thread-safety: a decoder or a device is used by one thread at a time. */
#ifndef PATRON_SCANNER_H
#define PATRON_SCANNER_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_SCAN_DATA_MAX 300 /* a voucher QR is 243 digits */
#define PATRON_SCAN_WHY_MAX 160

struct patron_scan_line {
    char data[PATRON_SCAN_DATA_MAX + 1]; /* printable ASCII, NUL-terminated */
    size_t len;
    char symbology[8]; /* the AIM identifier the device gave ("]E0", "]Q1"), else "" */
};

/* What a decoder's feed answers. */
enum patron_scan_feed {
    PATRON_SCAN_MORE = 0,     /* nothing whole yet */
    PATRON_SCAN_LINE = 1,     /* *out holds a whole scan */
    PATRON_SCAN_REJECTED = 2, /* a scan was dropped; why holds the sentence */
};

/* A keyboard-mode scanner: 8-byte boot-keyboard reports (modifier, reserved, six key codes).
 * A key counts when it appears in a report and was not held in the one before (so a held key
 * and rollover do not repeat it); digits are 0x1E..0x27, letters 0x04..0x1D (shift for capitals),
 * Enter (0x28 or keypad 0x58) ends the scan. Rollover errors (0x01) are ignored. */
struct patron_kbd_decoder {
    uint8_t held[6];
    char line[PATRON_SCAN_DATA_MAX + 1];
    size_t len;
    int bad; /* 0, or why the line under way is refused: 1 a key that is not text, 2 too long */
};
PATRON_EXPORT void patron_kbd_decoder_init(struct patron_kbd_decoder *d);
PATRON_EXPORT enum patron_scan_feed patron_kbd_feed(struct patron_kbd_decoder *d,
                                                    const uint8_t *report, size_t n,
                                                    struct patron_scan_line *out, char *why,
                                                    size_t cap);

/* An HID POS scanner (usage page 0x8C): 64-byte input reports, report ID 0x02, byte 1 the
 * count of data bytes in this report (at most 56), bytes 2..4 the AIM symbology identifier,
 * bytes 5..60 the data, byte 63 bit 0 set when more reports of the same scan follow. */
#define PATRON_HIDPOS_REPORT 64
#define PATRON_HIDPOS_DATA 56
struct patron_hidpos_decoder {
    struct patron_scan_line line;
    int bad;
};
PATRON_EXPORT void patron_hidpos_decoder_init(struct patron_hidpos_decoder *d);
PATRON_EXPORT enum patron_scan_feed patron_hidpos_feed(struct patron_hidpos_decoder *d,
                                                       const uint8_t *report, size_t n,
                                                       struct patron_scan_line *out, char *why,
                                                       size_t cap);

/* A serial scanner: bytes, a scan per line (CR, LF or CRLF ends it). */
struct patron_serial_decoder {
    char line[PATRON_SCAN_DATA_MAX + 1];
    size_t len;
    int bad;
    int after_cr;
};
PATRON_EXPORT void patron_serial_decoder_init(struct patron_serial_decoder *d);
/* Takes one byte. */
PATRON_EXPORT enum patron_scan_feed patron_serial_feed(struct patron_serial_decoder *d,
                                                       uint8_t byte, struct patron_scan_line *out,
                                                       char *why, size_t cap);

/* A flood guard: at most `max_per_s` scans in any one-second window; beyond, scans are dropped
 * (patron_scan_limit_take answers 0) until the window passes. */
struct patron_scan_limit {
    unsigned max_per_s;
    int64_t window_start_ms;
    unsigned taken;
    unsigned dropped;
};
PATRON_EXPORT int patron_scan_limit_take(struct patron_scan_limit *l, int64_t now_ms);

/* What a scan is. */
enum patron_scan_kind {
    PATRON_SCAN_INVALID = 0, /* why says what is wrong with it */
    PATRON_SCAN_CARD = 1,    /* 13 digits, GS1 check digit right */
    PATRON_SCAN_VOUCHER = 2, /* 243 digits: a voucher's QR */
};
PATRON_EXPORT enum patron_scan_kind patron_scan_classify(const struct patron_scan_line *line,
                                                         char *why, size_t cap);

/* The device side. */
typedef struct patron_scanner patron_scanner;
struct patron_scanner_info {
    char kind[8];          /* "usb", "serial" */
    char protocol[12];     /* "keyboard", "hidpos", "serial" */
    char description[128]; /* "0c2e:0b61 bus 1 dev 3", a path */
    uint16_t vendor_id, product_id;
};
/* Opens `spec` (see above; "none" is PATRON_EINVAL). For USB: finds the HID interface from the
 * descriptors (boot keyboard, or an HID POS report descriptor), detaches the kernel driver and
 * claims it. For a serial device: raw mode, 9600 baud 8N1 (CDC-ACM ignores the speed). Returns 0,
 * PATRON_EDEVICE with a sentence when nothing is there, PATRON_EINVAL for a bad spec. */
PATRON_EXPORT int patron_scanner_open(const char *spec, patron_scanner **out, char *detail,
                                      size_t len) __attribute__((warn_unused_result));
PATRON_EXPORT void patron_scanner_close(patron_scanner *sc);
PATRON_EXPORT void patron_scanner_describe(const patron_scanner *sc,
                                           struct patron_scanner_info *out);
/* Waits up to timeout_ms for a whole scan. Returns PATRON_SCAN_LINE with *out filled,
 * PATRON_SCAN_REJECTED with a sentence in why (half-read, garbage, flood), PATRON_SCAN_MORE on
 * timeout, or a negative PATRON_EDEVICE when the device went away (close and open again). */
PATRON_EXPORT int patron_scanner_read(patron_scanner *sc, int timeout_ms,
                                      struct patron_scan_line *out, char *why, size_t cap);
/* Lists attached USB HID devices that may be scanners. */
PATRON_EXPORT int patron_scanner_list(struct patron_scanner_info *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
