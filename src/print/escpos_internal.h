/* SPDX-License-Identifier: MIT */
/* What the ESC/POS encoder shares with the receipt renderer: UTF-8 decoding, which both use to
 * measure and convert text the same way. Never installed. */
#ifndef PATRON_ESCPOS_INTERNAL_H
#define PATRON_ESCPOS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence of s[0..n) (n >= 1) into *cp; returns the bytes used (>= 1).
 * A malformed, overlong or surrogate sequence yields U+FFFD and consumes one byte. */
size_t patron__utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

#include "patron/escpos.h"

/* Appends bytes already in the job's code page as printed text (the line is no longer empty).
 * Returns 0 or the job's error. */
int patron__escpos_cells(patron_escpos *j, const uint8_t *bytes, size_t len);

#endif
