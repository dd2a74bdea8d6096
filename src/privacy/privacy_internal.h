/* SPDX-License-Identifier: MIT */
/* What consent, export, erasure and the segment export share. Never installed. */
#ifndef PATRON_PRIVACY_INTERNAL_H
#define PATRON_PRIVACY_INTERNAL_H

#include "core/store_internal.h"
#include "patron/privacy.h"

/* Erases the member's personal data and blocks their cards, in the caller's transaction, and
 * writes the erasure (and its outbox row). */
int patron__member_erase_rows(patron_store *s, int64_t member_id, const char *who);
/* Copies every page of the WAL into the file and truncates the WAL: 0, or -EBUSY when another
 * connection kept it. */
int patron__erase_checkpoint(patron_store *s);

#endif
