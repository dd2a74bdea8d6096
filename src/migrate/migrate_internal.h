/* SPDX-License-Identifier: MIT */
/* The import's streaming CSV reader (RFC 4180: quoted fields, doubled quotes, newlines inside
 * quotes, CRLF or LF; a UTF-8 BOM skipped; comma or semicolon detected from the header row) and
 * the column-to-field mapping of each source's export. Never installed. */
#ifndef PATRON_MIGRATE_INTERNAL_H
#define PATRON_MIGRATE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "patron/import.h"

#define PATRON__CSV_RECORD_MAX 65536 /* bytes of one record */
#define PATRON__CSV_FIELDS_MAX 256   /* fields of one record */

struct patron__csv {
    FILE *fp;
    char delim;
    char *buf; /* the record's fields, each NUL-terminated */
    size_t len;
    size_t offs[PATRON__CSV_FIELDS_MAX];
    const char *fields[PATRON__CSV_FIELDS_MAX];
    size_t count;   /* fields in the current record */
    int64_t record; /* 1 for the header */
    char why[128];  /* what was wrong when patron__csv_next failed */
};

/* Opens the file, skips a BOM and detects the delimiter. Returns 0 or -1 (errno set). */
int patron__csv_open(struct patron__csv *c, const char *path);

/* Reads the next record. Returns 1, 0 at the end of the file, or -1 with c->why (an unclosed
 * quote, text after a closing quote, a record too long or with too many fields). Blank lines
 * are skipped. */
int patron__csv_next(struct patron__csv *c);

void patron__csv_close(struct patron__csv *c);

/* Patron's fields a column can hold. */
enum patron__import_field {
    PATRON__F_IGNORE,
    PATRON__F_CARD,
    PATRON__F_PHONE,
    PATRON__F_EMAIL,
    PATRON__F_NAME,
    PATRON__F_BIRTHDAY,
    PATRON__F_CONSENT,
    PATRON__F_POINTS,
    PATRON__F_EXPIRES,
    PATRON__F_REF,
    PATRON__F_JOINED,
    PATRON__F_TIER,
    PATRON__F_LIFETIME,
    PATRON__F_CONSENT_DATE,
    PATRON__F_COUNT
};

/* The field a column holds under a format (PATRON__F_IGNORE for unknown ones). */
enum patron__import_field patron__import_column(enum patron_import_format f, const char *column);

/* A field's generic name ("card", ...) to its value; -1 when unknown. */
int patron__import_field_named(const char *name);

#endif
