/* SPDX-License-Identifier: MIT */
/* `patron import members FILE`: members and opening balances from another loyalty program's CSV
 * export, with the reconciliation report (and each bad row with its row, column and why). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "patron/json.h"

#define MAPS_MAX 64
#define ERRORS_KEPT 1000

static const char import_usage[] =
    "patron import members FILE [--format generic|square|smile|odoo|open-loyalty] "
    "[--map COL=FIELD]... [--mode add|set] [--batch ID] [--dry-run] [--skip-errors]";

#define PROGRESS_EVERY 0.25 /* seconds between two progress lines or redraws of the bar */
#define BAR_WIDTH 30

struct import_cli {
    json_t *errors; /* the bad rows, for --json */
    int json;
    double started, shown; /* monotonic seconds: the start, the last progress shown */
    int drawn;             /* the bar is on the terminal's last line */
};

static double monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Rows per second so far and the seconds left, from the share of the file read. */
static void pace(const struct import_cli *ic, const struct patron_import_progress *p, double now,
                 double *rate, double *left)
{
    double elapsed = now - ic->started;
    *rate = elapsed > 0 ? (double)p->rows / elapsed : 0;
    *left = p->done || p->bytes <= 0 || p->total_bytes <= p->bytes
                ? 0
                : elapsed * (double)(p->total_bytes - p->bytes) / (double)p->bytes;
}

static void draw_bar(struct import_cli *ic, const struct patron_import_progress *p, double rate,
                     double left)
{
    char bar[BAR_WIDTH + 1];
    int filled = p->total_bytes > 0 ? (int)(BAR_WIDTH * p->bytes / p->total_bytes) : 0;
    if (filled > BAR_WIDTH)
        filled = BAR_WIDTH;
    memset(bar, '#', (size_t)filled);
    memset(bar + filled, '.', (size_t)(BAR_WIDTH - filled));
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %lld rows, %.0f rows/s, %d:%02d left ", bar, (long long)p->rows, rate,
            (int)left / 60, (int)left % 60);
    if (p->done)
        fputc('\n', stderr);
    fflush(stderr);
    ic->drawn = !p->done;
}

/* On a terminal a bar on stderr; with --json a progress line on stdout; at most every
 * PROGRESS_EVERY seconds, and always at the end. */
static void on_progress(void *ctx, const struct patron_import_progress *p)
{
    struct import_cli *ic = ctx;
    double now = monotonic(), rate, left;
    if (!p->done && now - ic->shown < PROGRESS_EVERY)
        return;
    ic->shown = now;
    pace(ic, p, now, &rate, &left);
    if (!ic->json) {
        draw_bar(ic, p, rate, left);
        return;
    }
    json_t *o = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:b}}", "progress", "rows",
                          (json_int_t)p->rows, "bytes", (json_int_t)p->bytes, "total_bytes",
                          (json_int_t)p->total_bytes, "rows_per_second", (json_int_t)rate,
                          "seconds_left", (json_int_t)left, "done", p->done);
    json_dumpf(o, stdout, JSON_COMPACT | JSON_SORT_KEYS);
    fputc('\n', stdout);
    fflush(stdout);
    json_decref(o);
}

static void on_error(void *ctx, const struct patron_import_error *e)
{
    struct import_cli *ic = ctx;
    if (!ic->json) {
        if (ic->drawn)
            fputc('\n', stderr), ic->drawn = 0;
        fprintf(stderr, "row %lld%s%s: %s\n", (long long)e->row, e->column[0] ? ", column " : "",
                e->column, e->message);
        return;
    }
    if (json_array_size(ic->errors) < ERRORS_KEPT)
        json_array_append_new(ic->errors, json_pack("{s:I, s:s, s:s}", "row", (json_int_t)e->row,
                                                    "column", e->column, "message", e->message));
}

static void report_human(const struct patron_import_report *r, char *buf, size_t len)
{
    snprintf(buf, len,
             "%sBatch %s%s: %lld rows read, %lld created, %lld matched, %lld updated, "
             "%lld skipped, %lld failed.\n"
             "Points in the file: %lld; posted: %lld; account migration:%s: %lld.\n%s%s%s",
             r->dry_run ? "Dry run (nothing written). " : "", r->batch,
             r->already_imported ? " was imported before; nothing changed" : "",
             (long long)r->rows_read, (long long)r->created, (long long)r->matched,
             (long long)r->updated, (long long)r->skipped, (long long)r->failed,
             (long long)r->file_points, (long long)r->points_posted, r->batch,
             (long long)r->migration_balance, r->rejects_path[0] ? "Bad rows written to " : "",
             r->rejects_path, r->rejects_path[0] ? "\n" : "");
}

static int take_options(struct cli *c, struct cli_args *a, struct patron_import_options *o,
                        struct patron_import_map *maps, char (*texts)[256])
{
    const char *format = cli_take(a, "--format"), *mode = cli_take(a, "--mode"), *m;
    o->batch = cli_take(a, "--batch");
    o->dry_run = cli_flag(a, "--dry-run");
    o->skip_errors = cli_flag(a, "--skip-errors");
    if (format && patron_import_format_parse(format, &o->format) != 0)
        return cli_usage(c, import_usage);
    if (mode && strcmp(mode, "add") != 0 && strcmp(mode, "set") != 0)
        return cli_usage(c, import_usage);
    o->mode = mode && strcmp(mode, "set") == 0 ? PATRON_IMPORT_SET : PATRON_IMPORT_ADD;
    for (o->maps = maps; (m = cli_take(a, "--map")) != NULL; o->map_count++) {
        char *eq;
        if (o->map_count == MAPS_MAX || snprintf(texts[o->map_count], 256, "%s", m) >= 256 ||
            !(eq = strchr(texts[o->map_count], '=')) || eq == texts[o->map_count])
            return cli_usage(c, import_usage);
        *eq = '\0';
        maps[o->map_count] = (struct patron_import_map){texts[o->map_count], eq + 1};
    }
    return 0;
}

static int import_members(struct cli *c, struct cli_args *a)
{
    static struct patron_import_map maps[MAPS_MAX];
    static char texts[MAPS_MAX][256];
    struct patron_import_options o = {0};
    struct patron_import_report r;
    struct import_cli ic = {.errors = json_array(), .json = c->json};
    char human[8192];
    int status = take_options(c, a, &o, maps, texts), err;
    const char *file = status ? NULL : cli_positional(a);
    if (status || !file || a->argc)
        return json_decref(ic.errors), status ? status : cli_usage(c, import_usage);
    if ((status = cli_open_store(c)) != 0)
        return json_decref(ic.errors), status;
    o.on_error = on_error;
    o.ctx = &ic;
    if (c->json || isatty(STDERR_FILENO))
        o.on_progress = on_progress;
    ic.started = ic.shown = monotonic();
    err = patron_import_members(c->store, file, &o, &r);
    if (err != 0 && r.failed == 0) {
        json_decref(ic.errors);
        return cli_fail(c, err, "nothing was imported");
    }
    report_human(&r, human, sizeof human);
    json_t *obj = NULL;
    if (patron_json_import_report(&r, ic.errors, &obj) != 0)
        obj = NULL;
    json_decref(ic.errors);
    if (err == 0)
        return cli_emit(c, obj, human);
    json_object_set_new(obj, "error", json_string(patron_err_name(err)));
    json_object_set_new(obj, "message", json_string(patron_store_detail(c->store)));
    if (!c->json)
        fputs(human, stdout);
    cli_emit(c, obj, NULL);
    fprintf(stderr, "patron: %s.\n", patron_store_detail(c->store));
    return cli_exit_status(err);
}

int cli_cmd_import(struct cli *c, struct cli_args *a)
{
    const char *what = cli_positional(a);
    if (!what || strcmp(what, "members") != 0)
        return cli_usage(c, import_usage);
    return import_members(c, a);
}
