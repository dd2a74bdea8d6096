/* SPDX-License-Identifier: MIT */
/* The large store of the benchmarks that read: bench_reports runs every report over it,
 * bench_rss serves it. Generated once into DIR/reports-N.db (with a .done marker) and kept.
 * Also the stores bench_instr grows in members, and the fresh store of a few members that
 * bench_checkout and bench_instr sell in. */
#ifndef PATRON_BENCH_STORE_H
#define PATRON_BENCH_STORE_H

#include <stddef.h>

#include "patron/patron.h"

#define BENCH_STORE_NOW INT64_C(1781517600) /* 2026-06-15T10:00:00Z, the store's clock */
#define BENCH_ENTRIES_PER_MEMBER 20

/* The store of `members` members in `dir`, generated first when it is not there yet; the
 * handle runs at BENCH_STORE_NOW. Exits the program on failure. */
patron_store *bench_store_large(const char *dir, long members);

/* A store that grows in members only, for the checkout's flatness with size: `members`
 * members with a card, one sale, its entry and an open lot each, in DIR/members-N.db, generated
 * first when it is not there yet; the handle runs at BENCH_STORE_NOW. Exits on failure. */
patron_store *bench_store_members(const char *dir, long members);

/* The file bench_store_large() keeps the store in. */
void bench_store_path(const char *dir, long members, char *path, size_t cap);

/* A fresh store at `path` (any file there is replaced) with `n` members enrolled by the library,
 * their cards in cards[0..n): the store bench_checkout and bench_instr sell in. Exits on
 * failure. */
patron_store *bench_store_fresh(const char *path, char (*cards)[14], int n);

/* Member `member`'s card number (13 characters and a NUL). */
void bench_store_card(long member, char card[14]);

#endif
