/* SPDX-License-Identifier: MIT */
/* Shared plumbing of the `patron` commands: taking options, opening the store, and the single
 * table that turns error kinds into exit statuses, with the contract's error output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "patron/json.h"
#include "patron/terminal.h"

static void remove_at(struct cli_args *a, int i, int n)
{
    memmove(&a->argv[i], &a->argv[i + n], (size_t)(a->argc - i - n) * sizeof a->argv[0]);
    a->argc -= n;
}

const char *cli_take(struct cli_args *a, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--") == 0)
            return NULL;
        if (strncmp(a->argv[i], name, n) == 0 && a->argv[i][n] == '=') {
            const char *value = a->argv[i] + n + 1;
            remove_at(a, i, 1);
            cli_note_taken(name, value);
            return value;
        }
        if (strcmp(a->argv[i], name) == 0 && i + 1 < a->argc) {
            const char *value = a->argv[i + 1];
            remove_at(a, i, 2);
            cli_note_taken(name, value);
            return value;
        }
    }
    return NULL;
}

int cli_flag(struct cli_args *a, const char *name)
{
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], name) == 0) {
            remove_at(a, i, 1);
            return 1;
        }
    }
    return 0;
}

const char *cli_positional(struct cli_args *a)
{
    for (int i = 0; i < a->argc; i++) {
        if (strcmp(a->argv[i], "--") == 0 && i + 1 < a->argc) {
            const char *value = a->argv[i + 1];
            remove_at(a, i + 1, 1);
            return value;
        }
        if (a->argv[i][0] != '-' || a->argv[i][1] == '\0' ||
            (a->argv[i][1] >= '0' && a->argv[i][1] <= '9')) {
            const char *value = a->argv[i];
            remove_at(a, i, 1);
            return value;
        }
    }
    return NULL;
}

int cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    char *end = NULL;
    long long v = 0;
    int ok = text && *text;
    if (ok) {
        errno = 0;
        v = strtoll(text, &end, 10);
        ok = errno == 0 && *end == '\0' && v >= min && v <= max;
    }
    if (!ok) {
        cli_note_bad_number(text ? text : "", min, max);
        return -1;
    }
    cli_note_clear();
    *out = v;
    return 0;
}

/* Error kinds to exit statuses: the one table of the program. */
static const int exit_by_kind[] = {
    [PATRON_KIND_OK] = CLI_EXIT_OK,
    [PATRON_KIND_REFUSED] = CLI_EXIT_REFUSED,
    [PATRON_KIND_NOTFOUND] = CLI_EXIT_NOTFOUND,
    [PATRON_KIND_INVALID] = CLI_EXIT_INVALID,
    [PATRON_KIND_DEVICE] = CLI_EXIT_DEVICE,
    [PATRON_KIND_AUTH] = CLI_EXIT_REFUSED,
    [PATRON_KIND_FORBIDDEN] = CLI_EXIT_REFUSED,
    [PATRON_KIND_INTERNAL] = CLI_EXIT_OTHER,
};

int cli_exit_status(int err)
{
    return exit_by_kind[patron_err_kind(err)];
}

int cli_fail(struct cli *c, int err, const char *what)
{
    char message[512];
    const char *detail = c->store ? patron_store_detail(c->store) : "";
    if (detail[0])
        snprintf(message, sizeof message, "%s%s%s: %s", what ? what : "", what ? ": " : "",
                 patron_strerror(err), detail);
    else
        snprintf(message, sizeof message, "%s%s%s", what ? what : "", what ? ": " : "",
                 patron_strerror(err));
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", message);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", message);
    return cli_exit_status(err);
}

int cli_emit(struct cli *c, json_t *obj, const char *human)
{
    if (c->json) {
        json_dumpf(obj, stdout, JSON_COMPACT | JSON_SORT_KEYS);
        fputc('\n', stdout);
    } else if (human) {
        fputs(human, stdout);
    }
    json_decref(obj);
    return CLI_EXIT_OK;
}

/* Makes the folders above `path` (like mkdir -p), for `patron init` only. */
static void make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(dir, 0750);
        *p = '/';
    }
    mkdir(dir, 0750);
}

/* --till NAME: the program writes as that till, with its idempotency keys (to finish, from the
 * back office, a request the till sent and did not hear the answer to). */
static int act_for_till(struct cli *c)
{
    static struct patron_terminal tills[256];
    char what[96];
    size_t n = 0;
    int err = patron_terminal_list(c->store, tills, 256, &n);
    for (size_t i = 0; err == 0 && i < n && i < 256; i++) {
        if (strcmp(tills[i].name, c->till) == 0) {
            patron_store_set_till(c->store, tills[i].terminal_id);
            return 0;
        }
    }
    snprintf(what, sizeof what, "no till named %.63s", c->till);
    return cli_fail(c, err ? err : PATRON_ENOTFOUND, what);
}

static int open_failed(struct cli *c, int err, const char *name, const char *why)
{
    fprintf(stderr, "patron: %s.\n", why);
    if (c->json) {
        json_t *o =
            json_pack("{s:s, s:s}", "error", name ? name : patron_err_name(err), "message", why);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    return cli_exit_status(err);
}

int cli_open_store(struct cli *c)
{
    char why[1024];
    int err;
    if (c->store)
        return 0;
    /* Only `patron init` (and the demo) make a store; any other command opens an existing one
     * and leaves a wrong --db, a folder or another program's file untouched. */
    err = patron_store_open_existing(c->db_path, &c->store, why, sizeof why);
    if (err == PATRON_ENOTFOUND && c->opening_for_init) {
        /* nothing there (or an empty file): `init` makes the store; anything else it refuses too */
        make_parent_dirs(c->db_path);
        if ((err = patron_store_open(c->db_path, &c->store)) != 0)
            snprintf(why, sizeof why, "cannot open %s: %s", c->db_path, patron_strerror(err));
    }
    if (err != 0) /* no store there: the same name as "not a store yet" below */
        return open_failed(c, err, err == PATRON_ENOTFOUND ? "ENOSTORE" : NULL, why);
    if (c->has_now)
        patron_store_set_fixed_time(c->store, c->now);
    cli_card_space_source(c);
    struct patron_store_info info;
    if (!c->opening_for_init && (patron_store_info(c->store, &info) != 0 || info.store_id == 0)) {
        snprintf(why, sizeof why, "%s is not a store yet; run 'patron init' first", c->db_path);
        return open_failed(c, PATRON_ENOTFOUND, "ENOSTORE", why);
    }
    return c->till ? act_for_till(c) : 0;
}

int cli_parse_time(const char *text, int64_t *out)
{
    return patron_json_time_parse(text, out) == 0 ? 0 : -1;
}

void cli_format_time(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void cli_format_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}
