/* SPDX-License-Identifier: MIT */
/* Moving in: members and their opening balances imported from another loyalty program's CSV
 * export. The file is read as a stream (RFC 4180, UTF-8 with or without a BOM, comma or
 * semicolon detected from the header row, quoted fields with newlines). Members are matched by
 * card, then phone, then e-mail; the points are posted against the program account
 * `migration:BATCH`, whose balance is therefore minus the points imported, and a batch is
 * imported exactly once. The whole file is checked first (a dry run on a copy of the store);
 * then the rows are written in chunks of 500, each its own transaction, so that sales on the
 * same store wait for one chunk at most; the batch's register (import_batches) records with each
 * chunk the last row written, so the same batch run again after a crash continues after it.
 *
 * All functions take a store handle and follow its thread-safety rule (one thread at a time). */
#ifndef PATRON_IMPORT_H
#define PATRON_IMPORT_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which program wrote the file: its own column names are mapped to Patron's fields.
 * generic: card, phone, email, name, birthday, consent, consent_date, points, expires, ref,
 *          joined, tier, lifetime_points;
 * square: phone_number, balance, lifetime_points, enrolled_at, given_name, email_address, id;
 * smile: email, points, first_name;
 * odoo: code, points (a whole number, "120.0" accepted), partner_id, expiration_date;
 * open-loyalty: loyaltyCardNumber, phone, email, firstName, points, customerId.
 * Column names are compared without regard to case.
 *
 * What is kept: a valid in-store card number stays the member's card; any other old number
 * becomes an alias (up to 32 bytes) that scans as the member's new Patron card. A new member
 * takes the joined date as their enrolment time, the tier (a name of this program's tiers; a
 * new 12-month period), and the consent answer with its date (consent_date, else joined) and
 * the source "import:BATCH" in their consent history; a matched member whose answer differs
 * gets a consent change with that date and source, the file's tier and the earlier enrolment.
 * The reference and lifetime points are kept in member_imports (patron_import_member_facts). */
enum patron_import_format {
    PATRON_IMPORT_GENERIC,
    PATRON_IMPORT_SQUARE,
    PATRON_IMPORT_SMILE,
    PATRON_IMPORT_ODOO,
    PATRON_IMPORT_OPEN_LOYALTY,
};

/* add: the file's points are added to a matched member's balance; set: a matched member's
 * balance becomes the file's figure. A new member starts with the file's figure either way. */
enum patron_import_mode { PATRON_IMPORT_ADD, PATRON_IMPORT_SET };

/* One --map COLUMN=FIELD: the file's column `column` holds Patron's field `field` (one of the
 * generic names above, or "ignore"). Applied after the preset. */
struct patron_import_map {
    const char *column;
    const char *field;
};

/* A bad row: its number in the file (the header is row 1; a record with a quoted newline counts
 * once), the column's name as the header gives it ("" for the row as a whole), and a sentence. */
struct patron_import_error {
    int64_t row;
    char column[64];
    char message[256];
};

/* How far an import has come: rows read so far, the bytes of the file read and its size. */
struct patron_import_progress {
    int64_t rows;
    int64_t bytes, total_bytes;
    int done; /* the last call: every row was read */
};

struct patron_import_options {
    enum patron_import_format format;
    enum patron_import_mode mode;
    const char *batch; /* 1..63 bytes without spaces; NULL: "file-" and 16 hex digits of the
                          file's SHA-256, so the same file is the same batch */
    const struct patron_import_map *maps;
    size_t map_count;
    int dry_run;     /* only the check: the import run on a copy of the store, same report */
    int skip_errors; /* import the good rows; bad ones go to FILE.rejected.csv */
    /* Digits of the country calling code used for national numbers ("0" trunk prefix or no
     * prefix); NULL: the store setting phone_country_code; when neither is set, a phone without
     * '+' or "00" is a bad row. */
    const char *country_code;
    /* Called for each bad row (may be NULL). */
    void (*on_error)(void *ctx, const struct patron_import_error *e);
    void *ctx;
    /* Called every PATRON_IMPORT_PROGRESS_ROWS rows and once at the end (may be NULL); it gets
     * `ctx` too, and decides itself how often to show anything. */
    void (*on_progress)(void *ctx, const struct patron_import_progress *p);
    /* Asked every PATRON_IMPORT_PROGRESS_ROWS rows (may be NULL; it gets `ctx`): non-zero stops
     * the import, which returns -ECANCELED (a service stopping): the chunks committed before
     * stay, and the same batch run again continues after them. */
    int (*should_stop)(void *ctx);
};

#define PATRON_IMPORT_PROGRESS_ROWS 1000

/* The reconciliation report. file_points is the sum of the good rows' points; points_posted the
 * net points moved onto members; migration_balance the balance of migration:BATCH after the
 * import, which equals -points_posted (and, for an import of new members, -file_points). */
struct patron_import_report {
    char batch[64];
    int already_imported; /* the batch was imported before: nothing was read or written */
    int dry_run;
    int64_t rows_read, created, matched, updated, skipped, failed;
    int64_t file_points, points_posted, migration_balance;
    int64_t aliases;         /* old card numbers kept as aliases */
    char rejects_path[4096]; /* the file the bad rows were written to, or "" */
};

/* Parses a format's name (generic, square, smile, odoo, open-loyalty). Returns 0 or
 * PATRON_EINVAL. */
PATRON_EXPORT int patron_import_format_parse(const char *name, enum patron_import_format *out)
    __attribute__((warn_unused_result));

/* Normalises a phone number to E.164 ("+" and 8..15 digits): spaces, dashes, dots and brackets
 * are dropped; "+CC..." and "00CC..." are international; "0..." (trunk prefix) and bare national
 * numbers take `country_code` (digits; NULL or "" refuses them). Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_import_phone_e164(const char *in, const char *country_code, char out[17])
    __attribute__((warn_unused_result));

/* Imports the members of the CSV file at `path`. Returns 0 with *out filled when the batch was
 * imported (or dry-run, or already imported; the counts of a batch continued after a crash
 * cover the whole batch); when rows were bad and skip_errors is off, nothing is written, *out is
 * filled and PATRON_EINVAL is returned (each bad row went to on_error, once).
 * Other PATRON_* codes for an unreadable file, a file without a header or without a column to
 * match members by, or a database error. */
PATRON_EXPORT int patron_import_members(patron_store *s, const char *path,
                                        const struct patron_import_options *opt,
                                        struct patron_import_report *out)
    __attribute__((warn_unused_result));

/* What a member brought from the program they were imported from. */
struct patron_import_facts {
    char batch[64]; /* "" when the member was never imported */
    char ref[64];
    int has_lifetime_points;
    int64_t lifetime_points;
    char tier[64];
    int64_t imported_at;
    char old_cards[4][33]; /* the aliases of their cards (the first four), "" past the last */
};

/* Reads what member `member_id` brought. Returns 0 (batch "" when never imported) or a PATRON_*
 * code. */
PATRON_EXPORT int patron_import_member_facts(patron_store *s, int64_t member_id,
                                             struct patron_import_facts *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
