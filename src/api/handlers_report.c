/* SPDX-License-Identifier: MIT */
/* The owner's reports over HTTP: GET /v1/reports/{name} with the options of `patron report`
 * as query parameters, answered with the library's own JSON of the table (the same bytes as
 * `patron report NAME --json`) or, with ?format=csv, its CSV. Reports read one snapshot on a
 * read handle and never take the write lock. */
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

/* The table written by the library into a malloc'd string. */
static int render(const struct patron_report_table *t, enum patron_report_format format, char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return PATRON_ENOMEM;
    int err = patron_report_write(t, format, f);
    if (fclose(f) != 0 && err == 0)
        err = PATRON_ENOMEM;
    if (err != 0) {
        free(buf);
        return err;
    }
    *out = buf;
    return 0;
}

int api_h_report(struct api_call *c, patron_store *s)
{
    struct patron_report_options o = {0};
    struct patron_report_table *t = NULL;
    char *text = NULL;
    enum patron_report_format fmt = PATRON_REPORT_JSON;
    int err = take_options(c, &o, &fmt);
    if (err == 0 && (err = patron_report_run(s, c->params[0], &o, &t)) == 0)
        err = render(t, fmt, &text);
    patron_report_free(t);
    if (err != 0)
        return err;
    return api_reply_text(c, 200, text,
                          fmt == PATRON_REPORT_CSV   ? "text/csv; charset=utf-8"
                          : fmt == PATRON_REPORT_SVG ? "image/svg+xml"
                                                     : "application/json");
}
