/* SPDX-License-Identifier: MIT */
/* Writing to the outbox from inside a write's transaction: each fact head office needs gets one
 * row, numbered (store_id, store_seq) without gaps, whose payload is read from the fact's own row
 * by one cached INSERT ... SELECT. Never installed. */
#ifndef PATRON_OUTBOX_INTERNAL_H
#define PATRON_OUTBOX_INTERNAL_H

#include <string.h>

#include "core/store_internal.h"

/* The kinds of fact, each read from one table by its key. */
enum patron__outbox_kind {
    PATRON__OUTBOX_MEMBER,             /* members, by id: enrolment */
    PATRON__OUTBOX_CARD,               /* cards, by number (patron__outbox_add_card) */
    PATRON__OUTBOX_CONSENT,            /* consent_changes, by id */
    PATRON__OUTBOX_ERASURE,            /* erasures, by id */
    PATRON__OUTBOX_SALE,               /* sales with their lines, by id */
    PATRON__OUTBOX_REFUND,             /* refunds with their lines, by id */
    PATRON__OUTBOX_ENTRY,              /* entries, by id */
    PATRON__OUTBOX_LOT,                /* lots, by id: opened, consumed or expired */
    PATRON__OUTBOX_REDEMPTION,         /* redemptions, by id, once linked to its voucher */
    PATRON__OUTBOX_VOUCHER_ISSUED,     /* vouchers, by voucher_id */
    PATRON__OUTBOX_VOUCHER_REDEEMED,   /* voucher_redemptions, by id */
    PATRON__OUTBOX_VOUCHER_VOIDED,     /* vouchers, by voucher_id */
    PATRON__OUTBOX_OFFLINE_ACCEPTANCE, /* offline_acceptances, by id */
    PATRON__OUTBOX_FEEDBACK,           /* feedback, by id */
    PATRON__OUTBOX_GOODWILL,           /* goodwill, by id */
    PATRON__OUTBOX_OFFER_USE,          /* offer_uses, by id */
    PATRON__OUTBOX_HELD_SALE,          /* held_sales with their lines, by id */
    PATRON__OUTBOX_KIND_COUNT
};

/* Appends the outbox row of the fact `kind` whose row has the integer key `id`, in the caller's
 * transaction. Returns 0 or a PATRON_* code (PATRON_EDB also when the row does not exist). */
int patron__outbox_add(patron_store *s, enum patron__outbox_kind kind, int64_t id);

/* The same for a card, whose key is its number. */
int patron__outbox_add_card(patron_store *s, const char *number);

/* A payload written from values the caller holds (outbox_json.c), byte for byte what
 * json_object() gives for the same row, into one buffer. Keys and raw pieces are string literals,
 * copied with their length known at compile time; patron__jw_key writes the comma before a key
 * when one is due (not first, nor after '{', '[' or ','). The member's member_uid is written where
 * patron__jw_member_uid is called, or, when the caller does not hold it, read there by the
 * row's INSERT. Every writer call is a no-op once memory ran out (oom), which the insert
 * reports. */
struct patron__jw {
    char *p;
    size_t len, cap;
    size_t uid_at; /* where the INSERT puts the member_uid it reads; PATRON__JW_NO_UID when none */
    int oom;
    char stack[2048];
};
#define PATRON__JW_NO_UID ((size_t)-1)
void patron__jw_init(struct patron__jw *w);
void patron__jw_free(struct patron__jw *w);
int patron__jw_grow(struct patron__jw *w, size_t more); /* 0, or -1 with oom set */
void patron__jw_int(struct patron__jw *w, int64_t v);
void patron__jw_id(struct patron__jw *w, int64_t v);      /* 0 writes null */
void patron__jw_str(struct patron__jw *w, const char *v); /* NULL writes null */
void patron__jw_member_uid(struct patron__jw *w,
                           const char *member_uid); /* NULL, "": the INSERT's */

static inline void patron__jw_mem(struct patron__jw *w, const char *text, size_t n)
{
    if (w->len + n + 1 > w->cap && patron__jw_grow(w, n) != 0)
        return;
    memcpy(w->p + w->len, text, n + 1);
    w->len += n;
}

/* `quoted` is ",\"key\":" of length n; its comma is left out where none is due. */
static inline void patron__jw_key_quoted(struct patron__jw *w, const char *quoted, size_t n)
{
    char last = w->len > 0 ? w->p[w->len - 1] : ',';
    if (last == '{' || last == '[' || last == ',')
        patron__jw_mem(w, quoted + 1, n - 1);
    else
        patron__jw_mem(w, quoted, n);
}

#define patron__jw_raw(w, literal) patron__jw_mem((w), "" literal, sizeof(literal) - 1)
#define patron__jw_key(w, literal)                                                                 \
    patron__jw_key_quoted((w), ",\"" literal "\":", sizeof(",\"" literal "\":") - 1)

/* A key and its value in one call. */
#define patron__jw_int_field(w, literal, v) (patron__jw_key((w), literal), patron__jw_int((w), (v)))
#define patron__jw_id_field(w, literal, v) (patron__jw_key((w), literal), patron__jw_id((w), (v)))
#define patron__jw_str_field(w, literal, v) (patron__jw_key((w), literal), patron__jw_str((w), (v)))
#define patron__jw_member_uid_field(w, v)                                                          \
    (patron__jw_key((w), "member_uid"), patron__jw_member_uid((w), (v)))

/* Appends an outbox row whose payload `w` holds. */
int patron__outbox_add_json(patron_store *s, const char *kind, const char *tbl, int64_t row_key,
                            int64_t member_id, const struct patron__jw *w);

/* Rewrites the payloads that hold the member's personal data (their enrolment, consent changes,
 * feedback comments and complaints) so that no copy stays in the outbox. */
int patron__outbox_erase(patron_store *s, int64_t member_id);

/* Gives members their chain-wide identity, member_uid = "<store id>-<member id>", adding the
 * column when it is missing: the outbox's payloads carry it, so a store from before the outbox
 * gets it before the backfill (version 9) and every other store with the chain's migration. */
int patron__outbox_member_uid(patron_store *s);

/* Writes the outbox rows of every fact already in the store, as the migration that adds the
 * outbox does (schema.c), so that a store from before it ships everything it holds. */
int patron__outbox_backfill(patron_store *s);

#endif
