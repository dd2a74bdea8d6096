/* SPDX-License-Identifier: MIT */
/* `patron report NAME`: the owner's reports as aligned text, `--json`, `--csv`, and an SVG chart
 * with `--svg FILE` for the reports a picture says better. `patron report` alone lists them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char report_usage[] =
    "patron report NAME [--csv] [--svg FILE] [--from DATE] [--to DATE] [--months N] "
    "[--cohorts N] [--limit N]   (NAME: liability expiring redemption repeat retention clv rfm "
    "churn offers partners satisfaction; --to is exclusive)";

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

static int write_svg(struct cli *c, const struct patron_report_table *t, const char *path)
{
    FILE *f = fopen(path, "w");
    int err;
    if (!f) {
        fprintf(stderr, "patron: cannot write %s: %s.\n", path, strerror(errno));
        return CLI_EXIT_OTHER;
    }
    err = patron_report_write(t, PATRON_REPORT_SVG, f);
    if (fclose(f) != 0 && err == 0)
        err = -EIO;
    if (err == PATRON_EINVAL)
        return cli_usage(c, "--svg draws expiring, redemption, retention, rfm and satisfaction");
    return err != 0 ? cli_fail(c, err, "cannot write the chart") : 0;
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
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (!name)
        return list_reports(c);
    int err = patron_report_run(c->store, name, &o, &t);
    if (err != 0)
        return cli_fail(c, err, "cannot make the report");
    if (svg && (status = write_svg(c, t, svg)) != 0) {
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
