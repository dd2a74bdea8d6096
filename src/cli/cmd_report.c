/* SPDX-License-Identifier: MIT */
/* `patron report NAME`: the owner's reports as aligned text, `--json`, `--csv`, and an SVG chart
 * with `--svg FILE` for the reports a picture says better. `patron report` alone lists them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char report_usage[] =
    "patron report NAME [--csv] [--svg FILE] [--from DATE] [--to DATE] [--months N] "
    "[--cohorts N] [--limit N]   (NAME: liability expiring redemption repeat retention clv rfm "
    "churn offers partners satisfaction; --to is exclusive)";

static const char svg_usage[] =
    "--svg draws a chart for expiring, redemption, retention, rfm and satisfaction only";

static int list_reports(struct cli *c)
{
    json_t *names = json_array();
    char human[512] = "reports:";
    size_t len = strlen(human);
    for (size_t i = 0; patron_report_names[i]; i++) {
        json_array_append_new(names, json_string(patron_report_names[i]));
        int n = snprintf(human + len, sizeof human - len, " %s", patron_report_names[i]);
        if (n > 0)
            len = len + (size_t)n < sizeof human ? len + (size_t)n : sizeof human - 1;
    }
    if (len + 1 < sizeof human)
        memcpy(human + len, "\n", 2);
    return cli_emit(c, json_pack("{s:o}", "reports", names), human);
}

static int known(const char *name)
{
    for (size_t i = 0; patron_report_names[i]; i++)
        if (strcmp(patron_report_names[i], name) == 0)
            return 1;
    return 0;
}

static int take_options(struct cli *c, struct cli_args *a, struct patron_report_options *o)
{
    const char *from = cli_take(a, "--from"), *to = cli_take(a, "--to");
    const char *months = cli_take(a, "--months"), *cohorts = cli_take(a, "--cohorts");
    const char *limit = cli_take(a, "--limit");
    int64_t v;
    if ((from && cli_parse_time(from, &o->from) != 0) || (to && cli_parse_time(to, &o->to) != 0))
        return cli_usage(c, report_usage);
    if (months) {
        if (cli_parse_int(months, 1, 120, &v) != 0)
            return cli_usage(c, report_usage);
        o->months = (int)v;
    }
    if (cohorts) {
        if (cli_parse_int(cohorts, 1, 120, &v) != 0)
            return cli_usage(c, report_usage);
        o->cohorts = (int)v;
    }
    if (limit && cli_parse_int(limit, 1, PATRON_REPORT_MAX_ROWS, &o->limit) != 0)
        return cli_usage(c, report_usage);
    return 0;
}

/* The mode of a new chart file: the old file's, else what umask leaves of 0666. */
static mode_t chart_mode(const struct stat *old, int exists)
{
    if (exists)
        return old->st_mode & 07777;
    mode_t mask = umask(0);
    umask(mask);
    return 0666 & ~mask;
}

/* Writes the chart to `tmp` (already created as `fd`), flushed to disk. Returns 0 or -errno. */
static int write_chart(const struct patron_report_table *t, int fd, mode_t mode)
{
    FILE *f = fchmod(fd, mode) == 0 ? fdopen(fd, "w") : NULL;
    int err;
    if (!f) {
        err = -errno;
        close(fd);
        return err;
    }
    err = patron_report_write(t, PATRON_REPORT_SVG, f);
    if (err == 0 && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        err = -errno;
    if (fclose(f) != 0 && err == 0)
        err = -errno;
    return err;
}

/* The chart goes to a temporary file beside `path` and is renamed over it only once whole, so a
 * failed write leaves `path` as it was. A path that is not a regular file (a terminal,
 * /dev/stdout, a pipe) is written in place: there is nothing there to keep. */
int cli_report_write_svg(struct cli *c, const struct patron_report_table *t, const char *path)
{
    struct stat st;
    char tmp[4096];
    int exists = stat(path, &st) == 0, err;
    if (exists && !S_ISREG(st.st_mode)) {
        FILE *f = fopen(path, "w");
        err = f ? patron_report_write(t, PATRON_REPORT_SVG, f) : -errno;
        if (f && fclose(f) != 0 && err == 0)
            err = -errno;
    } else if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        err = -ENAMETOOLONG;
    } else {
        int fd = mkstemp(tmp);
        err = fd < 0 ? -errno : write_chart(t, fd, chart_mode(&st, exists));
        if (fd >= 0 && err == 0 && rename(tmp, path) != 0)
            err = -errno;
        if (fd >= 0 && err != 0)
            unlink(tmp);
    }
    if (err == 0)
        return 0;
    snprintf(tmp, sizeof tmp, "cannot write the chart to %.200s", path);
    return cli_fail(c, err, tmp);
}

int cli_cmd_report(struct cli *c, struct cli_args *a)
{
    struct patron_report_options o = {0};
    struct patron_report_table *t = NULL;
    const char *svg = cli_take(a, "--svg");
    int csv = cli_flag(a, "--csv"), status;
    if ((status = take_options(c, a, &o)) != 0)
        return status;
    const char *name = cli_positional(a);
    if (a->argc != 0 || (csv && c->json))
        return cli_usage(c, report_usage);
    /* Refused before the store is opened or any file touched. */
    if (svg && name && known(name) && patron_report_chart_of(name) == PATRON_CHART_NONE)
        return cli_usage(c, svg_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (!name)
        return list_reports(c);
    int err = patron_report_run(c->store, name, &o, &t);
    if (err != 0)
        return cli_fail(c, err, "cannot make the report");
    if (svg && (status = cli_report_write_svg(c, t, svg)) != 0) {
        patron_report_free(t);
        return status;
    }
    err = patron_report_write(t,
                              c->json ? PATRON_REPORT_JSON
                              : csv   ? PATRON_REPORT_CSV
                                      : PATRON_REPORT_TEXT,
                              stdout);
    patron_report_free(t);
    return err != 0 ? cli_fail(c, err, "cannot write the report") : CLI_EXIT_OK;
}
