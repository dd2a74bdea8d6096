/* SPDX-License-Identifier: MIT */
/* The floor of a checkout: the rows a 5-line checkout writes, written by SQLite alone with
 * prepared statements into the store's own schema (its keys, indexes, checks and foreign keys),
 * one durable transaction each. bench_instr counts its instructions, bench_checkout times it
 * beside the checkout and the raw commit: the most any checkout writing today's rows could reach
 * on the disk of the run. */
#ifndef PATRON_BENCH_FLOOR_H
#define PATRON_BENCH_FLOOR_H

struct bench_floor;

/* Opens the store at `path` (made by the library, with a member for each of the `ncards` cards,
 * and closed) by SQLite alone with the store's settings (WAL, synchronous=FULL, foreign keys,
 * secure delete) and its VFS (the WAL's frames of a commit in one write), and prepares the floor's
 * statements. PATRON_FLOOR_WITHOUT lists parts left out, of "outbox" (the three outbox rows), "key"
 * (the idempotency key), "flows" (the entries_flows index), "fk" (foreign keys not enforced). Exits
 * the program on failure. */
struct bench_floor *bench_floor_open(const char *path, const char (*cards)[14], int ncards);

/* One checkout's rows, on the card of `serial` (round robin), under the sale reference `ref`
 * (unique in the store), in one durable transaction. Exits the program on failure. */
void bench_floor_sale(struct bench_floor *f, const char *ref, long serial);

void bench_floor_close(struct bench_floor *f);

#endif
