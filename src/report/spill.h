/* SPDX-License-Identifier: MIT */
/* A list of fixed-size records sorted in bounded memory: a report's list that grows with the
 * members (the churn list, RFM's buyers) is kept in memory up to a chunk; past it every chunk is
 * sorted and set aside in an unnamed temporary file, and the sorted whole is read back by merging
 * them, in order, a few records of each chunk at a time. */
#ifndef PATRON_REPORT_SPILL_H
#define PATRON_REPORT_SPILL_H

#include <stddef.h>

/* Records kept in memory before a chunk is set aside (the tests make it small). */
#define PATRON__SPILL_CHUNK_BYTES (2u << 20)

struct patron__spill;

/* A new, empty list of records of `size` bytes, ordered by `cmp` (a total order). `chunk_bytes`
 * 0 is PATRON__SPILL_CHUNK_BYTES. Returns 0 or PATRON_ENOMEM. */
int patron__spill_new(size_t size, int (*cmp)(const void *, const void *), size_t chunk_bytes,
                      struct patron__spill **out);

/* The directory the temporary file is made in: $TMPDIR, else /tmp. */
const char *patron__spill_dir(void);

/* An unnamed temporary file there, open for reading and writing (gone once closed), or -errno.
 * The library's one way of setting data aside on disk: the spilled lists, a member's export. */
int patron__temp_fd(void);

/* Adds a record (copied). Returns 0, PATRON_ENOMEM, or -errno when a chunk could not be set
 * aside in the temporary file (-ENOSPC: the disk is full). */
int patron__spill_add(struct patron__spill *sp, const void *rec);

/* Ends the adding and sorts. Returns 0, PATRON_ENOMEM or -errno (as above). */
int patron__spill_sort(struct patron__spill *sp);

size_t patron__spill_count(const struct patron__spill *sp);

/* How many chunks were set aside (0: the list stayed in memory). */
size_t patron__spill_chunks(const struct patron__spill *sp);

/* The record of rank i (from 0) of the sorted list. Reading forwards is one merge; a rank before
 * the last one read starts the merge again. NULL when the temporary file could not be read. */
const void *patron__spill_at(struct patron__spill *sp, size_t i);

void patron__spill_free(struct patron__spill *sp);

#endif
