/* SPDX-License-Identifier: MIT */
/* The printer model's font A: a 12 x 24 dot glyph for every byte of CP437 and CP858, regular
 * and bold, taken from Debian's Terminus console font at build time (firmware-host/font_gen.c
 * writes font_table.c into the build directory). */
#ifndef PATRON_FONT_H
#define PATRON_FONT_H

#include <stdint.h>

/* [0 = regular, 1 = bold][0 = CP437, 1 = CP858][byte][row]: bit 11 = leftmost of 12 dots.
 * Bytes below 0x20 are control codes and have no glyph. */
extern const uint16_t patron__font[2][2][256][24];

#endif
