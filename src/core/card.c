/* SPDX-License-Identifier: MIT */
/* Card numbers: parsing with the GS1 mod-10 check digit (what EAN-13 scanners also check), and
 * minting new random numbers in the in-store range. */
#include <string.h>

#include "patron/card.h"
#include "patron/error.h"

char patron_card_check_digit(const char *digits)
{
    int sum = 0;
    /* GS1: from the right of the 12 data digits, weights 3,1,3,1... */
    for (int i = 0; i < PATRON_CARD_DIGITS - 1; i++)
        sum += (digits[i] - '0') * ((i % 2) ? 3 : 1);
    return (char)('0' + (10 - sum % 10) % 10);
}

int patron_card_parse(const char *in, char out[PATRON_CARD_DIGITS + 1])
{
    char digits[PATRON_CARD_DIGITS + 1];
    size_t n = 0;
    if (!in)
        return PATRON_EINVAL;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9' || n == PATRON_CARD_DIGITS)
            return PATRON_EINVAL;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    if (n != PATRON_CARD_DIGITS || strncmp(digits, PATRON_CARD_PREFIX, 2) != 0)
        return PATRON_EINVAL;
    if (patron_card_check_digit(digits) != digits[PATRON_CARD_DIGITS - 1])
        return PATRON_ECHECKDIGIT;
    memcpy(out, digits, sizeof digits);
    return 0;
}
