/* SPDX-License-Identifier: MIT */
/* The card number spaces a store mints from (card.h): its own (space = its store id) first, then
 * one more whenever those it holds are 90% full, so a store never runs out of card numbers. A
 * store without a head office takes the highest space it does not hold, counting down from
 * 65535, by itself; a chain store is granted one by head office (at `patron sync` when its spaces
 * are 80% used, or when it runs out while head office can be reached: the source set with
 * patron_store_set_card_space_source). Calls on one handle are not thread-safe, like the
 * handle's. */
#ifndef PATRON_CARD_SPACE_H
#define PATRON_CARD_SPACE_H

#include "patron/card.h"
#include "patron/export.h"
#include "patron/store.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A space is full for minting at 90% of its numbers (a random serial then still lands on a
 * free one in about 10 tries), and low at 80% (a chain store asks head office for another). */
#define PATRON_CARD_SPACE_FULL (PATRON_CARD_SERIALS * 9 / 10)
#define PATRON_CARD_SPACE_LOW (PATRON_CARD_SERIALS * 8 / 10)

struct patron_card_space {
    int space;
    char source[8]; /* "own", "granted" (by head office) or "self" (taken without one) */
    int64_t minted; /* cards minted in it */
    int64_t taken_at;
};

/* The spaces the store holds, in the order it took them, into out (up to cap); *count gets how
 * many there are (it may exceed cap). Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_card_spaces(patron_store *s, struct patron_card_space *out, size_t cap,
                                     size_t *count);

/* *low = 1 when every space the store holds is 80% used (time to ask head office for another),
 * else 0. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_card_spaces_low(patron_store *s, int *low);

/* Keeps head office's grant of `space` to store `store_id` (1..65535): when that is this store,
 * the space becomes one it mints from (source "granted"); either way a number in it is then said
 * to be store_id's (patron_card_owner). Kept twice it changes nothing. Returns 0,
 * PATRON_EINVAL for a space or store out of range, or a PATRON_* code. */
PATRON_EXPORT int patron_card_space_grant_keep(patron_store *s, int space, int store_id);

/* What the store knows of head office's grants, in two numbers a pull compares with head office's
 * before reading them: *count grants and *sum the sum of space * 65536 + store_id over them.
 * Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_card_space_grants_sum(patron_store *s, int64_t *count, int64_t *sum);

/* The spaces the store took for itself while it ran without a head office (source "self") that
 * head office does not hold as granted to it yet, highest first, into out (up to cap; *count says
 * how many there are): a store joining a chain reports them (patron sync) so that head office
 * never grants them to another store. Returns 0 or a PATRON_* code. */
PATRON_EXPORT int patron_card_spaces_self_taken(patron_store *s, int *out, size_t cap,
                                                size_t *count);

/* Where a chain store's next space comes from when those it holds are full: 0 with the space
 * head office granted it into *space, or a negative PATRON_* code with a sentence in detail
 * (head office cannot be reached). Called inside the enrolment's transaction; it must not use
 * the store handle beyond reading it. */
typedef int (*patron_card_space_source_fn)(void *arg, patron_store *s, int *space, char *detail,
                                           size_t len);

/* Sets (fn NULL: clears) the handle's source of granted spaces; `arg` is borrowed. A chain store
 * (one that holds a granted space or has pulled from head office) with no source refuses an
 * enrolment once its spaces are full (PATRON_ELIMIT with a sentence), never taking one itself. */
PATRON_EXPORT void patron_store_set_card_space_source(patron_store *s,
                                                      patron_card_space_source_fn fn, void *arg);

/* The store a parsed card number belongs to: this store's id when its space is one this store
 * holds, the store head office granted the space to when a pull said so, else the space itself
 * (a store's own space); 0 for a number outside every space. */
PATRON_EXPORT int patron_card_owner(patron_store *s, const char *digits);

#ifdef __cplusplus
}
#endif
#endif
