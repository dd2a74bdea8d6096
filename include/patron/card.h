/* SPDX-License-Identifier: MIT */
/* Loyalty card numbers: 13 digits in the GS1 in-store range (prefix "29"), the last one a GS1
 * mod-10 check digit, so a card prints as an EAN-13 barcode and a mistyped number is refused
 * before any look-up. Pure functions; thread-safe. */
#ifndef PATRON_CARD_H
#define PATRON_CARD_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_CARD_DIGITS 13
#define PATRON_CARD_PREFIX "29"

/* Card numbers are unique chain-wide by construction: the 10 digits between the prefix and the
 * check digit are a fixed permutation (a decimal Feistel network, so numbers look random) of
 * serial * 65535 + (space - 1). Every store (1..65535) thus owns its own space of
 * PATRON_CARD_SERIALS numbers (space = its store id) that no other store can mint, and takes or is
 * granted more spaces, no store's own, as it fills them (patron/card_space.h). */
#define PATRON_CARD_SERIALS UINT64_C(152590)

/* Normalises `in` (spaces and dashes dropped) into out[PATRON_CARD_DIGITS + 1] and checks it.
 * Returns 0; PATRON_EINVAL when it is not 13 digits with the card prefix; PATRON_ECHECKDIGIT
 * when the check digit is wrong. out is written only on success. */
PATRON_EXPORT int patron_card_parse(const char *in, char out[PATRON_CARD_DIGITS + 1])
    __attribute__((warn_unused_result));

/* The card number of `serial` (< PATRON_CARD_SERIALS) in store `store_id`'s space, with its
 * check digit, into out. Returns 0 or PATRON_EINVAL for a store or serial out of range. */
PATRON_EXPORT int patron_card_mint(int store_id, uint64_t serial, char out[PATRON_CARD_DIGITS + 1])
    __attribute__((warn_unused_result));

/* The space (1..65535) that holds a parsed card number, and the serial there (serial may be
 * NULL); 0 for a number outside every space (a card minted before the spaces, at random). The
 * space is a store's id unless head office granted it, or a store without one took it:
 * patron_card_owner (card_space.h) says which store. */
PATRON_EXPORT int patron_card_store(const char *digits, uint64_t *serial);

/* The GS1 mod-10 check digit ('0'..'9') of the first 12 digits of `digits`. */
PATRON_EXPORT char patron_card_check_digit(const char *digits);

#ifdef __cplusplus
}
#endif
#endif
