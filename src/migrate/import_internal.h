/* SPDX-License-Identifier: MIT */
/* The state of one import run shared by its files: the header's fields, the batch's account,
 * the counts of the report, and one row's checked values. Never installed. */
#ifndef PATRON_IMPORT_INTERNAL_H
#define PATRON_IMPORT_INTERNAL_H

#include "member/member_internal.h"
#include "migrate/migrate_internal.h"

#define PATRON__ALIAS_MAX 32 /* bytes of an old card number kept as an alias (what scans take) */

struct patron__import_ctx {
    patron_store *s;
    const struct patron_import_options *opt;
    const char *country_code;
    char country_buf[8];
    int64_t now;
    int64_t account;  /* migration:BATCH */
    int64_t unposted; /* a dry run: the points its rows would have moved to members */
    char account_name[80];
    char note[80];   /* "import BATCH", the entries' note */
    char source[80]; /* "import:BATCH", the consent answers' source */
    size_t columns;
    enum patron__import_field field_of[PATRON__CSV_FIELDS_MAX];
    int column_of[PATRON__F_COUNT]; /* the first column of each field, or -1 */
    struct patron_import_report *report;
};

struct patron__import_row {
    char card[PATRON_CARD_DIGITS + 1]; /* a Patron card, or "" */
    char foreign[64];                  /* another program's card number, or "" */
    char phone[17];
    char email[128];
    char name[128];
    char birthday[11];
    int consent;
    int has_consent;
    int64_t consent_at; /* the consent's date, or 0 */
    char ref[64];       /* the member's reference in the old program, or "" */
    int64_t joined_at;  /* the member's enrolment, or 0 */
    int64_t tier_id;    /* 0: none in the file */
    int64_t tier_threshold;
    char tier[64];
    int has_lifetime;
    int64_t lifetime;
    int has_points;
    int64_t points;
    int64_t expires_at;
    int bad_field; /* the field a failure is about, -1 for the row */
    char why[200];
};

/* Reads and checks one record. Returns 0, or -1 with r->bad_field and r->why. */
int patron__import_read_row(const struct patron__import_ctx *x, const struct patron__csv *c,
                            struct patron__import_row *r);

/* Applies a checked row inside the caller's transaction: refuses a duplicate of an earlier row,
 * matches or creates the member and posts the points. Returns 0; -1 with r->why for a bad row
 * (found before anything of the row is written but the file's own register of keys seen);
 * or a PATRON_* code with the handle's detail. */
int patron__import_apply(struct patron__import_ctx *x, struct patron__import_row *r);

/* Keeps what the row says beside the balance (kept.c): the alias of an old card number, and for
 * a matched member the consent answer, tier and enrolment; then the old program's reference and
 * lifetime points. Returns 0 or a PATRON_* code. */
int patron__import_keep(struct patron__import_ctx *x, const struct patron__import_row *r,
                        int64_t member_id, int created);

/* The clock that sizes the import's chunks (import.c): monotonic milliseconds. Tests put a clock
 * of their own here to make the chunks' boundaries exact. */
extern int64_t (*patron__import_clock_ms)(void);

#endif
