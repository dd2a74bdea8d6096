/* SPDX-License-Identifier: MIT */
/* Fuzz target for card numbers: patron_card_parse must agree with a reference parser written
 * here from the rule alone (spaces and dashes dropped, 13 digits, prefix 29, GS1 check digit
 * weighted 3 from the right), must give back a number with those properties, and must leave
 * its out-parameter untouched when it refuses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patron/card.h"
#include "patron/error.h"

#define TEXT_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The check digit from the right: the last data digit weighs 3, the one before it 1, ... */
static char reference_check(const char *d)
{
    unsigned sum = 0;
    for (int j = 0; j < 12; j++)
        sum += (unsigned)(d[11 - j] - '0') * (j % 2 == 0 ? 3u : 1u);
    return (char)('0' + (10 - sum % 10) % 10);
}

static int reference_parse(const char *in, char digits[PATRON_CARD_DIGITS + 1])
{
    size_t n = 0;
    for (; *in; in++) {
        if (*in == ' ' || *in == '-')
            continue;
        if (*in < '0' || *in > '9' || n == PATRON_CARD_DIGITS)
            return PATRON_EINVAL;
        digits[n++] = *in;
    }
    digits[n] = '\0';
    if (n != PATRON_CARD_DIGITS || digits[0] != '2' || digits[1] != '9')
        return PATRON_EINVAL;
    return reference_check(digits) == digits[12] ? 0 : PATRON_ECHECKDIGIT;
}

static void check_number(const char *out)
{
    if (strnlen(out, PATRON_CARD_DIGITS + 1) != PATRON_CARD_DIGITS)
        abort();
    for (int i = 0; i < PATRON_CARD_DIGITS; i++)
        if (out[i] < '0' || out[i] > '9')
            abort();
    if (out[0] != '2' || out[1] != '9' || reference_check(out) != out[12])
        abort();
    if (patron_card_check_digit(out) != out[12])
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[TEXT_MAX + 1], out[PATRON_CARD_DIGITS + 1], want[PATRON_CARD_DIGITS + 1];
    if (size > TEXT_MAX)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    memset(out, 'x', sizeof out);
    int rc = patron_card_parse(text, out);
    if (rc != reference_parse(text, want))
        abort();
    if (rc != 0) {
        for (size_t i = 0; i < sizeof out; i++)
            if (out[i] != 'x')
                abort(); /* written on failure */
        return 0;
    }
    check_number(out);
    if (strcmp(out, want) != 0)
        abort();
    /* A parsed number is canonical: it parses again to itself. */
    char again[PATRON_CARD_DIGITS + 1];
    if (patron_card_parse(out, again) != 0 || strcmp(again, out) != 0)
        abort();
    return 0;
}
