/* SPDX-License-Identifier: MIT */
/* The outbox: every fact head office needs (members and cards, consent changes, erasures, sales
 * and refunds with their lines, ledger entries and lots, redemptions, vouchers issued, redeemed
 * and voided, offline acceptances, feedback, goodwill, offer uses) is written here in the same
 * transaction as the fact itself, numbered (store_id, store_seq) from 1 without gaps. A row's
 * payload is compact JSON read from the fact's own row; an erasure rewrites the payloads that held
 * the member's personal data. Rows are never deleted.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_OUTBOX_H
#define PATRON_OUTBOX_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One outbox row; the strings live until the callback returns. */
struct patron_outbox_row {
    int64_t store_seq;   /* 1, 2, 3, ... without gaps */
    int store_id;        /* the store that wrote it */
    const char *kind;    /* member, card, consent, erasure, sale, refund, entry, lot, redemption,
                            voucher_issued, voucher_redeemed, voucher_voided, offline_acceptance,
                            feedback, goodwill, offer_use */
    const char *table;   /* the store's table the fact lives in */
    const char *row_key; /* the row's key in that table (its id; a card's number) */
    int64_t member_id;   /* the member the fact is about, 0 for none */
    const char *payload; /* compact JSON */
    int64_t recorded_at; /* store time (the injected clock) */
};

/* Called once per row in store_seq order; a non-zero return stops the listing. */
typedef int (*patron_outbox_fn)(const struct patron_outbox_row *row, void *ctx);

/* Lists up to `max` rows with store_seq > after_seq, in order, of those on disk: the WAL is
 * synced first, so a row that leaves the store cannot be lost by it to a power cut. *count (may
 * be NULL) receives the number of rows given to fn. Returns 0, a PATRON_* code, or fn's non-zero
 * return. */
PATRON_EXPORT int patron_outbox_list(patron_store *s, int64_t after_seq, size_t max,
                                     patron_outbox_fn fn, void *ctx, size_t *count)
    __attribute__((warn_unused_result));

/* The newest store_seq, 0 for an empty outbox. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_outbox_last(patron_store *s, int64_t *last_seq)
    __attribute__((warn_unused_result));

/* What the store knows of its syncs with head office (`patron sync status`). */
struct patron_outbox_sync {
    int64_t acked_seq;    /* head office holds every row up to here, 0 for none */
    int64_t last_success; /* store time of the last sync that finished, 0 for never */
    int64_t last_attempt; /* store time of the last sync that ended, well or not, 0 for never */
    char last_error[512]; /* the last failure in a sentence, "" since a sync finished */
};

/* Reads the sync state. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_outbox_sync_get(patron_store *s, struct patron_outbox_sync *out)
    __attribute__((warn_unused_result));

/* Records that head office holds every row up to acked_seq; call it only once head office has
 * committed them. With `finished`, also records a success now and clears the last error.
 * PATRON_EINVAL when acked_seq is negative or past the outbox's last row. */
PATRON_EXPORT int patron_outbox_sync_ack(patron_store *s, int64_t acked_seq, int finished)
    __attribute__((warn_unused_result));

/* Records a failed sync: its sentence (cut to fit) and the time. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_outbox_sync_failed(patron_store *s, const char *sentence)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif

#endif
