/* SPDX-License-Identifier: MIT */
/* What consent, export, erasure and the segment export share. Never installed. */
#ifndef PATRON_PRIVACY_INTERNAL_H
#define PATRON_PRIVACY_INTERNAL_H

#include "core/store_internal.h"
#include "patron/privacy.h"

#endif
