/* SPDX-License-Identifier: MIT */
/* A small streaming CSV reader for imports: one record in memory at a time (at most
 * PATRON__CSV_RECORD_MAX bytes), whatever the file's size. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/migrate_internal.h"

/* The header row decides: more semicolons than commas outside quotes means semicolons. */
static void detect_delimiter(struct patron__csv *c)
{
    long start = ftell(c->fp);
    size_t commas = 0, semis = 0;
    int ch, quoted = 0;
    while ((ch = getc(c->fp)) != EOF && (quoted || ch != '\n')) {
        if (ch == '"')
            quoted = !quoted;
        else if (!quoted && ch == ',')
            commas++;
        else if (!quoted && ch == ';')
            semis++;
    }
    c->delim = semis > commas ? ';' : ',';
    fseek(c->fp, start, SEEK_SET);
}

int patron__csv_open(struct patron__csv *c, const char *path)
{
    unsigned char bom[3];
    memset(c, 0, sizeof *c);
    if (!(c->fp = fopen(path, "rb")))
        return -1;
    if (!(c->buf = malloc(PATRON__CSV_RECORD_MAX + 1))) {
        fclose(c->fp);
        errno = ENOMEM;
        return -1;
    }
    if (fread(bom, 1, 3, c->fp) != 3 || memcmp(bom, "\xEF\xBB\xBF", 3) != 0)
        fseek(c->fp, 0, SEEK_SET);
    detect_delimiter(c);
    return 0;
}

void patron__csv_close(struct patron__csv *c)
{
    if (c->fp)
        fclose(c->fp);
    free(c->buf);
    memset(c, 0, sizeof *c);
}

static int put(struct patron__csv *c, int ch)
{
    if (c->len >= PATRON__CSV_RECORD_MAX) {
        snprintf(c->why, sizeof c->why, "the record is longer than %d bytes",
                 PATRON__CSV_RECORD_MAX);
        return -1;
    }
    c->buf[c->len++] = (char)ch;
    return 0;
}

static int end_field(struct patron__csv *c, size_t start)
{
    if (c->count >= PATRON__CSV_FIELDS_MAX) {
        snprintf(c->why, sizeof c->why, "the record has more than %d fields",
                 PATRON__CSV_FIELDS_MAX);
        return -1;
    }
    if (put(c, '\0') != 0)
        return -1;
    c->offs[c->count++] = start;
    return 0;
}

/* A quoted field, from after its opening quote to the character after its closing one. */
static int read_quoted(struct patron__csv *c, int *next)
{
    int ch;
    for (;;) {
        if ((ch = getc(c->fp)) == EOF) {
            snprintf(c->why, sizeof c->why, "a quoted field is not closed before the file ends");
            return -1;
        }
        if (ch == '"' && (ch = getc(c->fp)) != '"')
            break;
        if (put(c, ch) != 0)
            return -1;
    }
    if (ch == '\r')
        ch = getc(c->fp);
    if (ch != EOF && ch != '\n' && ch != c->delim) {
        snprintf(c->why, sizeof c->why, "text follows a closing quote");
        return -1;
    }
    *next = ch;
    return 0;
}

/* One record; *any is 0 for a blank line. */
static int read_record(struct patron__csv *c, int *any)
{
    int ch = getc(c->fp);
    size_t start = 0;
    if (ch == EOF)
        return 0;
    for (*any = 0;; ch = getc(c->fp)) {
        if (start == c->len && ch == '"') {
            *any = 1;
            if (read_quoted(c, &ch) != 0)
                return -1;
        } else if (ch == '\r') {
            int after = getc(c->fp);
            if (after != '\n' && after != EOF)
                ungetc(after, c->fp);
            ch = '\n';
        }
        if (ch == c->delim || ch == '\n' || ch == EOF) {
            *any |= ch == c->delim || c->len > start;
            if (end_field(c, start) != 0)
                return -1;
            start = c->len;
            if (ch != c->delim)
                return 1;
            continue;
        }
        if (put(c, ch) != 0)
            return -1;
    }
}

int patron__csv_next(struct patron__csv *c)
{
    for (;;) {
        int any = 0, rc;
        c->len = 0;
        c->count = 0;
        c->why[0] = '\0';
        if ((rc = read_record(c, &any)) <= 0)
            return rc;
        c->record++;
        if (!any)
            continue; /* a blank line */
        for (size_t i = 0; i < c->count; i++)
            c->fields[i] = c->buf + c->offs[i];
        return 1;
    }
}
