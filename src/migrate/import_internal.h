/* SPDX-License-Identifier: MIT */
/* The state of one import run shared by its files: the header's fields, the batch's account,
 * the counts of the report, and one row's checked values. Never installed. */
#ifndef PATRON_IMPORT_INTERNAL_H
#define PATRON_IMPORT_INTERNAL_H

#include "member/member_internal.h"
#include "migrate/migrate_internal.h"

struct patron__import_ctx {
    patron_store *s;
    const struct patron_import_options *opt;
    const char *country_code;
    char country_buf[8];
    int64_t now;
    int64_t account; /* migration:BATCH */
    char note[80];   /* "import BATCH", the entries' note */
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
 * matches or creates the member and posts the points. Returns 0; -1 with r->why for a bad row;
 * or a PATRON_* code with the handle's detail. */
int patron__import_apply(struct patron__import_ctx *x, struct patron__import_row *r);

#endif
