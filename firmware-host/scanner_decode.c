/* SPDX-License-Identifier: MIT */
/* Card scanner decoders: boot-keyboard reports, HID POS reports and serial bytes into whole
 * scans, a flood guard, and what a scan is (a card, a voucher, or neither, with why). Pure. */
#include <stdio.h>
#include <string.h>

#include "patron/card.h"
#include "patron/scanner.h"

#define KEY_ROLLOVER 0x01
#define KEY_A 0x04
#define KEY_Z 0x1D
#define KEY_1 0x1E
#define KEY_0 0x27
#define KEY_ENTER 0x28
#define KEY_KP_ENTER 0x58
#define KEY_MINUS 0x2D
#define KEY_SPACE 0x2C
#define MOD_SHIFT 0x22 /* left or right shift */
#define VOUCHER_DIGITS 243

static void say(char *why, size_t cap, const char *sentence)
{
    if (why && cap)
        snprintf(why, cap, "%s", sentence);
}

void patron_kbd_decoder_init(struct patron_kbd_decoder *d)
{
    memset(d, 0, sizeof *d);
}

/* The character of a key code, or 0 when it is not text a scanner sends. */
static char key_char(uint8_t code, uint8_t mods)
{
    if (code >= KEY_1 && code <= KEY_0)
        return code == KEY_0 ? '0' : (char)('1' + (code - KEY_1));
    if (code >= KEY_A && code <= KEY_Z)
        return (char)(((mods & MOD_SHIFT) ? 'A' : 'a') + (code - KEY_A));
    if (code == KEY_MINUS)
        return '-';
    if (code == KEY_SPACE)
        return ' ';
    return 0;
}

static int was_held(const struct patron_kbd_decoder *d, uint8_t code)
{
    for (int i = 0; i < 6; i++)
        if (d->held[i] == code)
            return 1;
    return 0;
}

/* Ends the line under way: a scan, or the sentence why not. */
static enum patron_scan_feed line_end(char *line, size_t *len, int *bad,
                                      struct patron_scan_line *out, char *why, size_t cap)
{
    int was_bad = *bad;
    size_t n = *len;
    *len = 0;
    *bad = 0;
    if (was_bad == 1) {
        say(why, cap, "the scanner sent bytes that are not a barcode's text; scan dropped");
        return PATRON_SCAN_REJECTED;
    }
    if (was_bad == 2) {
        say(why, cap, "the scan is longer than any card or voucher; scan dropped");
        return PATRON_SCAN_REJECTED;
    }
    if (n == 0)
        return PATRON_SCAN_MORE; /* an empty line: nothing scanned */
    memset(out, 0, sizeof *out);
    memcpy(out->data, line, n);
    out->len = n;
    return PATRON_SCAN_LINE;
}

static void line_put(char *line, size_t *len, int *bad, char c)
{
    if (*bad)
        return;
    if (*len >= PATRON_SCAN_DATA_MAX) {
        *bad = 2;
        return;
    }
    line[(*len)++] = c;
}

enum patron_scan_feed patron_kbd_feed(struct patron_kbd_decoder *d, const uint8_t *report, size_t n,
                                      struct patron_scan_line *out, char *why, size_t cap)
{
    enum patron_scan_feed res = PATRON_SCAN_MORE;
    if (n < 8) {
        d->bad = d->bad ? d->bad : 1;
        return PATRON_SCAN_MORE;
    }
    if (report[2] == KEY_ROLLOVER)
        return PATRON_SCAN_MORE; /* phantom state: keep what was held */
    for (int i = 2; i < 8; i++) {
        uint8_t code = report[i];
        if (code == 0 || was_held(d, code))
            continue;
        if (code == KEY_ENTER || code == KEY_KP_ENTER) {
            res = line_end(d->line, &d->len, &d->bad, out, why, cap);
            continue;
        }
        char c = key_char(code, report[0]);
        if (c)
            line_put(d->line, &d->len, &d->bad, c);
        else
            d->bad = d->bad ? d->bad : 1;
    }
    memcpy(d->held, report + 2, 6);
    return res;
}

void patron_hidpos_decoder_init(struct patron_hidpos_decoder *d)
{
    memset(d, 0, sizeof *d);
}

enum patron_scan_feed patron_hidpos_feed(struct patron_hidpos_decoder *d, const uint8_t *report,
                                         size_t n, struct patron_scan_line *out, char *why,
                                         size_t cap)
{
    if (n < PATRON_HIDPOS_REPORT || report[0] != 0x02)
        return PATRON_SCAN_MORE; /* another report of the device (status, feature) */
    size_t count = report[1];
    if (count > PATRON_HIDPOS_DATA)
        d->bad = 1;
    if (d->line.len == 0 && !d->bad)
        memcpy(d->line.symbology, report + 2, 3);
    for (size_t i = 0; i < count && !d->bad; i++) {
        uint8_t c = report[5 + i];
        if (c < 0x20 || c > 0x7E)
            d->bad = 1;
        else
            line_put(d->line.data, &d->line.len, &d->bad, (char)c);
    }
    if (report[63] & 1)
        return PATRON_SCAN_MORE;
    char sym[8];
    memcpy(sym, d->line.symbology, sizeof sym);
    enum patron_scan_feed res = line_end(d->line.data, &d->line.len, &d->bad, out, why, cap);
    if (res == PATRON_SCAN_LINE)
        memcpy(out->symbology, sym, sizeof out->symbology);
    memset(&d->line, 0, sizeof d->line);
    return res;
}

void patron_serial_decoder_init(struct patron_serial_decoder *d)
{
    memset(d, 0, sizeof *d);
}

enum patron_scan_feed patron_serial_feed(struct patron_serial_decoder *d, uint8_t byte,
                                         struct patron_scan_line *out, char *why, size_t cap)
{
    int after_cr = d->after_cr;
    d->after_cr = byte == '\r';
    if (byte == '\n' && after_cr)
        return PATRON_SCAN_MORE; /* the LF of a CRLF */
    if (byte == '\r' || byte == '\n')
        return line_end(d->line, &d->len, &d->bad, out, why, cap);
    if (byte < 0x20 || byte > 0x7E)
        d->bad = d->bad ? d->bad : 1;
    else
        line_put(d->line, &d->len, &d->bad, (char)byte);
    return PATRON_SCAN_MORE;
}

int patron_scan_limit_take(struct patron_scan_limit *l, int64_t now_ms)
{
    if (now_ms - l->window_start_ms >= 1000 || now_ms < l->window_start_ms) {
        l->window_start_ms = now_ms;
        l->taken = 0;
    }
    if (l->taken >= l->max_per_s) {
        l->dropped++;
        return 0;
    }
    l->taken++;
    return 1;
}

static int all_digits(const struct patron_scan_line *line)
{
    for (size_t i = 0; i < line->len; i++)
        if (line->data[i] < '0' || line->data[i] > '9')
            return 0;
    return line->len > 0;
}

enum patron_scan_kind patron_scan_classify(const struct patron_scan_line *line, char *why,
                                           size_t cap)
{
    if (all_digits(line) && line->len == PATRON_CARD_DIGITS) {
        if (patron_card_check_digit(line->data) != line->data[PATRON_CARD_DIGITS - 1]) {
            say(why, cap, "the card number's check digit is wrong (a misread?); scan again");
            return PATRON_SCAN_INVALID;
        }
        return PATRON_SCAN_CARD;
    }
    if (all_digits(line) && line->len == VOUCHER_DIGITS)
        return PATRON_SCAN_VOUCHER;
    if (all_digits(line) && line->len < VOUCHER_DIGITS && line->len > PATRON_CARD_DIGITS)
        say(why, cap, "a part of a voucher's code was read; scan it again");
    else
        say(why, cap, "the barcode is neither a loyalty card nor a voucher");
    return PATRON_SCAN_INVALID;
}
