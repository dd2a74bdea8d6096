/* SPDX-License-Identifier: MIT */
/* Loyalty card numbers: 13 digits in the GS1 in-store range (prefix "29"), the last one a GS1
 * mod-10 check digit, so a card prints as an EAN-13 barcode and a mistyped number is refused
 * before any look-up. Pure functions; thread-safe. */
#ifndef PATRON_CARD_H
#define PATRON_CARD_H

#include "patron/export.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_CARD_DIGITS 13
#define PATRON_CARD_PREFIX "29"

/* Normalises `in` (spaces and dashes dropped) into out[PATRON_CARD_DIGITS + 1] and checks it.
 * Returns 0; PATRON_EINVAL when it is not 13 digits with the card prefix; PATRON_ECHECKDIGIT
 * when the check digit is wrong. out is written only on success. */
PATRON_EXPORT int patron_card_parse(const char *in, char out[PATRON_CARD_DIGITS + 1])
    __attribute__((warn_unused_result));

/* The GS1 mod-10 check digit ('0'..'9') of the first 12 digits of `digits`. */
PATRON_EXPORT char patron_card_check_digit(const char *digits);

#ifdef __cplusplus
}
#endif
#endif
