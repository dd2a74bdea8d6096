/* SPDX-License-Identifier: MIT */
/* What the shop holds about a member and their rights over it: marketing consent with its date
 * and source (every change kept), an export of everything held about one member, erasure of
 * their personal data with the ledger left balanced and anonymous, and the CSV export of a
 * marketing segment that only ever holds consenting members.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_PRIVACY_H
#define PATRON_PRIVACY_H

#include "patron/export.h"

#include <stdint.h>
#include <stdio.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most an export may hold; a member with more history gets PATRON_ETOOBIG. */
#define PATRON_EXPORT_MAX_BYTES (64u * 1024u * 1024u)
/* The export's "format": version 2 gives times as ISO 8601 UTC (version 1 gave Unix seconds). */
#define PATRON_EXPORT_FORMAT "patron-member-export/2"

/* Records the member's answer to marketing: `marketing` 1 gives consent, 0 withdraws it;
 * `source` says where ("counter", "web", "email"; NULL = "counter"; 1..31 bytes); `who` who
 * recorded it (required, 1..63 bytes). The members row holds the current answer with its date and
 * source; the table consent_changes keeps every answer until an erasure. Returns 0; PATRON_EINVAL /
 * PATRON_ECHECKDIGIT for bad input; PATRON_ENOCARD; PATRON_EBLOCKED for an erased member. Durable
 * on return. */
PATRON_EXPORT int patron_member_consent(patron_store *s, const char *card, int marketing,
                                        const char *source, const char *who)
    __attribute__((warn_unused_result));

/* Everything held about the member of `card`, as one JSON object: "format"
 * (PATRON_EXPORT_FORMAT), "exported_at" (the store's clock), "member", and one array per
 * table that refers to the member ("cards", "accounts", "sales", "sale_lines", "entries",
 * "lots", "refunds", "refund_lines", "redemptions", "consent_changes", "erasures", and any
 * other table with a member_id column, such as vouchers, found at run time), each row an object
 * of its columns (blobs as hex; times, the columns `at`, `*_at`, `*_until`,
 * `valid_from` and `valid_to`, as ISO 8601 UTC or null; day numbers, `day`, as YYYY-MM-DD).
 * Returns 0 and sets *json (NUL-terminated, the caller frees it
 * with free()); PATRON_ENOCARD; PATRON_ETOOBIG past PATRON_EXPORT_MAX_BYTES; PATRON_ENOMEM. */
PATRON_EXPORT int patron_member_export(patron_store *s, const char *card, char **json)
    __attribute__((warn_unused_result));

/* The same copy, written a row at a time to an unnamed temporary file ($TMPDIR, else /tmp) and
 * handed back open at its start, so that a member's years of history are sent from disk, never
 * held in memory whole. Returns 0 and sets *file (the caller reads it and closes it with fclose;
 * the file is gone then); the codes of patron_member_export, or -errno when the file could not
 * be made or written (-ENOSPC: the disk is full), and nothing is handed back. */
PATRON_EXPORT int patron_member_export_file(patron_store *s, const char *card, FILE **file)
    __attribute__((warn_unused_result));

/* Erases the personal data of the member of `card`: name becomes "erased", email, phone,
 * birthday, consent date and consent source become NULL, the consent history is replaced by the
 * one withdrawal the erasure records, erased_at is set and every card is blocked. Ledger rows,
 * sales and balances stay (they carry no personal data), so the ledger still verifies and the
 * program still balances. `who` (required, e.g. the admin terminal's name) is written to the
 * erasure log with the member id, the time and nothing personal. Afterwards the WAL is checkpointed
 * and truncated, and with secure_delete the old bytes are overwritten, so no copy stays in the
 * database file or its WAL.
 *
 * Must not be called inside a batch. Erasing an erased member only finishes the checkpoint.
 * Returns 0; PATRON_EINVAL without `who` or inside a batch; PATRON_ENOCARD; -EBUSY when the
 * erasure is committed but another connection kept the WAL from being truncated (call again
 * once it is idle). */
PATRON_EXPORT int patron_member_erase(patron_store *s, const char *card, const char *who)
    __attribute__((warn_unused_result));

/* Which consenting members a segment holds. Members without marketing consent, and erased
 * members, are never in a segment, whatever the query. */
struct patron_segment_query {
    const char *tier;    /* only members of this tier (by name); NULL = every tier */
    int64_t lapsed_days; /* only members with no sale in the last this many days (members who
                            never bought count when enrolled before then); 0 = everyone */
};

/* Writes the segment as CSV (RFC 4180, CRLF line ends) to `out`: a header line, then
 * member_id, card, name, email, phone, tier, consent_at, consent_source, last_sale (ISO 8601,
 * UTC; empty when none). *count receives the number of members written. Returns 0;
 * PATRON_EINVAL for a negative lapsed_days; PATRON_ENOTFOUND for an unknown tier; -errno when
 * writing failed. */
PATRON_EXPORT int patron_segment_export(patron_store *s, const struct patron_segment_query *q,
                                        FILE *out, int64_t *count)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
