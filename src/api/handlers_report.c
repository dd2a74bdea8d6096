/* SPDX-License-Identifier: MIT */
/* The owner's reports over HTTP: GET /v1/reports/{name} with the options of `patron report`
 * as query parameters, answered with the library's own JSON of the table (the same bytes as
 * `patron report NAME --json`) or, with ?format=csv, its CSV, sent as it is written a few rows
 * at a time (a churn list of a million members is never held whole as text). Reports read one
 * snapshot on a read handle and never take the write lock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* An integer query value within [min, max]; absent leaves *out as it is. */
static int query_int(struct api_call *c, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const char *q = api_query(c, name);
    char *end;
    if (!q)
        return 0;
    errno = 0;
    long long v = strtoll(q, &end, 10);
    if (q[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
        snprintf(c->detail, sizeof c->detail, "'%s' takes a whole number from %lld to %lld", name,
                 (long long)min, (long long)max);
        return PATRON_EINVAL;
    }
    *out = v;
    return 0;
}

static int query_time(struct api_call *c, const char *name, int64_t *out)
{
    const char *q = api_query(c, name);
    if (!q || patron_json_time_parse(q, out) == 0)
        return 0;
    snprintf(c->detail, sizeof c->detail, "'%s' takes YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", name);
    return PATRON_EINVAL;
}

/* The options as `patron report` takes them: --to is exclusive, months and cohorts 1..120. */
static int take_options(struct api_call *c, struct patron_report_options *o,
                        enum patron_report_format *fmt)
{
    const char *format = api_query(c, "format");
    int64_t months = 0, cohorts = 0;
    int err;
    if ((err = query_time(c, "from", &o->from)) != 0 || (err = query_time(c, "to", &o->to)) != 0 ||
        (err = query_int(c, "months", 1, 120, &months)) != 0 ||
        (err = query_int(c, "cohorts", 1, 120, &cohorts)) != 0 ||
        (err = query_int(c, "limit", 1, PATRON_REPORT_MAX_ROWS, &o->limit)) != 0)
        return err;
    o->months = (int)months;
    o->cohorts = (int)cohorts;
    *fmt = PATRON_REPORT_JSON;
    if (format && strcmp(format, "csv") == 0)
        *fmt = PATRON_REPORT_CSV;
    else if (format && strcmp(format, "svg") == 0)
        *fmt = PATRON_REPORT_SVG;
    else if (format && strcmp(format, "json") != 0) {
        snprintf(c->detail, sizeof c->detail, "'format' takes json, csv or svg");
        return PATRON_EINVAL;
    }
    /* The chart is known before the report runs: refuse one there is none of first. */
    if (*fmt == PATRON_REPORT_SVG && patron_report_chart_of(c->params[0]) == PATRON_CHART_NONE) {
        snprintf(c->detail, sizeof c->detail, "the report '%s' has no chart; take json or csv",
                 c->params[0]);
        return PATRON_EINVAL;
    }
    return 0;
}

/* A report on its way out: the table, written a few rows at a time into `piece` as the
 * connection sends. Only the table and one piece are held, never the whole text. */
struct report_stream {
    struct patron_report_table *t;
    enum patron_report_format format;
    size_t next; /* patron_report_write_part's cursor */
    int done;
    char *piece;
    size_t len, off;
};

#define ROWS_PER_PIECE 64

static int next_piece(struct report_stream *rs)
{
    free(rs->piece);
    rs->piece = NULL;
    rs->len = rs->off = 0;
    FILE *f = open_memstream(&rs->piece, &rs->len);
    if (!f)
        return PATRON_ENOMEM;
    int rc = patron_report_write_part(rs->t, rs->format, ROWS_PER_PIECE, &rs->next, f);
    if (fclose(f) != 0 && rc >= 0)
        rc = PATRON_ENOMEM;
    rs->done = rc == 0;
    return rc < 0 ? rc : 0;
}

static long report_read(void *cls, char *buf, size_t max)
{
    struct report_stream *rs = cls;
    while (rs->off == rs->len && !rs->done)
        if (next_piece(rs) != 0)
            return -1;
    size_t n = rs->len - rs->off < max ? rs->len - rs->off : max;
    memcpy(buf, rs->piece + rs->off, n);
    rs->off += n;
    return (long)n;
}

static void report_free(void *cls)
{
    struct report_stream *rs = cls;
    patron_report_free(rs->t);
    free(rs->piece);
    free(rs);
}

/* The reply: the table (stolen) streamed in `format`. The first piece is written here, so that
 * a failure there (no chart to draw) is still a problem reply rather than a cut one. */
static int reply_stream(struct api_call *c, struct patron_report_table *t,
                        enum patron_report_format format)
{
    struct report_stream *rs = calloc(1, sizeof *rs);
    int err;
    if (!rs) {
        patron_report_free(t);
        return PATRON_ENOMEM;
    }
    *rs = (struct report_stream){.t = t, .format = format};
    if ((err = next_piece(rs)) != 0) {
        report_free(rs);
        return err;
    }
    return api_reply_stream(c, (struct api_stream){report_read, report_free, rs},
                            format == PATRON_REPORT_CSV   ? "text/csv; charset=utf-8"
                            : format == PATRON_REPORT_SVG ? "image/svg+xml"
                                                          : "application/json");
}

int api_h_report(struct api_call *c, patron_store *s)
{
    struct patron_report_options o = {0};
    struct patron_report_table *t = NULL;
    enum patron_report_format fmt = PATRON_REPORT_JSON;
    int err = take_options(c, &o, &fmt);
    if (err == 0 && (err = patron_report_run(s, c->params[0], &o, &t)) == 0)
        return reply_stream(c, t, fmt);
    return err;
}
