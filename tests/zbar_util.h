/* SPDX-License-Identifier: MIT */
/* Reading printed codes back, as a scanner at the till would: zbar over a PNG. */
#ifndef PATRON_ZBAR_UTIL_H
#define PATRON_ZBAR_UTIL_H

#include <zbar.h>

/* The data of the first symbol of `type` zbar finds in the PNG at `png` (malloc'd; the caller
 * frees it), or NULL when there is none. Fails the test when the file cannot be read. */
char *test_decode_png(const char *png, zbar_symbol_type_t type);

#endif
