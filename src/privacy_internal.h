/* SPDX-License-Identifier: MIT */
/* What consent, export, erasure and the segment export share. Never installed. */
#ifndef PATRON_PRIVACY_INTERNAL_H
#define PATRON_PRIVACY_INTERNAL_H

#include "patron/privacy.h"
#include "store_internal.h"

/* 1 when v is 1..cap-1 bytes of UTF-8 without control characters (defined in offer.c). */
int patron__printable(const char *v, size_t cap);

#endif
