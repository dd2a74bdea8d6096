/* SPDX-License-Identifier: MIT */
/* `patron terminal`: the tills allowed to call the counter service. Adding or rotating a till
 * prints its bearer token once; the store keeps only its hash, so a lost token is replaced,
 * never recovered. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "patron/display.h"
#include "patron/terminal.h"

static const char usage[] = "terminal add NAME --role cashier|manager|admin | terminal list | "
                            "terminal rotate NAME | terminal revoke NAME | "
                            "terminal display NAME SPEC [--profile epson-dm-d|cd5220] | "
                            "terminal scanner NAME auto|usb|usb:VID:PID|file:DEV|none";

static int show_token(struct cli *c, const struct patron_terminal *t, char *token)
{
    char human[256];
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "terminal_id", (json_int_t)t->terminal_id, "name",
                          t->name, "role", patron_role_name(t->role), "token", token);
    snprintf(human, sizeof human,
             "till %s (%s), id %lld\ntoken: %s\n(shown once: put it in the till's settings now)\n",
             t->name, patron_role_name(t->role), (long long)t->terminal_id, token);
    int status = cli_emit(c, o, human);
    OPENSSL_cleanse(human, sizeof human);
    OPENSSL_cleanse(token, PATRON_TOKEN_LEN + 1);
    return status;
}

static int terminal_add(struct cli *c, struct cli_args *a)
{
    const char *role_name = cli_take(a, "--role");
    const char *name = cli_positional(a);
    enum patron_role role;
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    int status, err;
    if (!name || !role_name)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if (patron_role_parse(role_name, &role) != 0)
        return cli_usage(c, "--role is cashier, manager or admin");
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_add(c->store, name, role, &t, token)) != 0)
        return cli_fail(c, err, "cannot add the till");
    return show_token(c, &t, token);
}

static int terminal_rotate(struct cli *c, struct cli_args *a)
{
    const char *name = cli_positional(a);
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    int status, err;
    if (!name)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_rotate(c->store, name, &t, token)) != 0)
        return cli_fail(c, err, "cannot rotate the till's token");
    return show_token(c, &t, token);
}

static int terminal_revoke(struct cli *c, struct cli_args *a)
{
    const char *name = cli_positional(a);
    int status, err;
    if (!name)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_revoke(c->store, name)) != 0)
        return cli_fail(c, err, "cannot revoke the till");
    return cli_emit(c, json_pack("{s:s, s:b}", "name", name, "revoked", 1), "revoked\n");
}

/* `terminal display NAME SPEC [--profile P]`: binds the till's customer display. */
static int terminal_display(struct cli *c, struct cli_args *a)
{
    const char *profile = cli_take(a, "--profile");
    const char *name = cli_positional(a), *spec = cli_positional(a);
    char human[400];
    int status, err;
    if (!name || !spec)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if (patron_display_spec_check(spec) != 0)
        return cli_usage(c, "a display is usb:VID:PID, file:DEVICE, virtual:DIR or none");
    if (profile && !patron_display_profile_find(profile))
        return cli_usage(c, "--profile is epson-dm-d or cd5220");
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_display_set(c->store, name, spec, profile)) != 0)
        return cli_fail(c, err, "cannot bind the display");
    snprintf(human, sizeof human, "till %s: display %s%s%s\n", name, spec,
             profile ? ", profile " : "", profile ? profile : "");
    return cli_emit(c, json_pack("{s:s, s:s}", "name", name, "display", spec), human);
}

/* The till's display binding as JSON, and a few words for the listing. */
static json_t *display_of(struct cli *c, int64_t id, char *words, size_t cap)
{
    struct patron_display_binding b;
    if (patron_terminal_display_get(c->store, id, &b) != 0)
        snprintf(b.spec, sizeof b.spec, "none"), snprintf(b.profile, sizeof b.profile, "-");
    if (strcmp(b.spec, "none") == 0)
        snprintf(words, cap, "%s", "");
    else
        snprintf(words, cap, " display %s (%s)", b.spec, b.profile);
    return json_pack("{s:s, s:s}", "spec", b.spec, "profile", b.profile);
}

/* `terminal scanner NAME SPEC`: binds the till's card scanner. */
static int terminal_scanner(struct cli *c, struct cli_args *a)
{
    const char *name = cli_positional(a);
    const char *spec = cli_positional(a);
    char human[256];
    int status, err;
    if (!name || !spec)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_set_scanner(c->store, name, spec)) != 0)
        return cli_fail(c, err, "cannot bind the scanner");
    snprintf(human, sizeof human, "till %s: scanner %s (patron serve opens it when it starts)\n",
             name, spec);
    return cli_emit(c, json_pack("{s:s, s:s}", "name", name, "scanner", spec), human);
}

static int terminal_list(struct cli *c, struct cli_args *a)
{
    enum { CAP = 256 };
    static struct patron_terminal list[CAP];
    size_t count = 0;
    static char human[CAP * 400 + 1];
    char when[32], shown[300];
    int status, err;
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_terminal_list(c->store, list, CAP, &count)) != 0)
        return cli_fail(c, err, "cannot list the tills");
    json_t *arr = json_array();
    size_t len = 0;
    human[0] = '\0';
    for (size_t i = 0; i < count && i < CAP; i++) {
        const struct patron_terminal *t = &list[i];
        cli_format_time(t->created_at, when, sizeof when);
        json_t *display = display_of(c, t->terminal_id, shown, sizeof shown);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:s, s:b, s:o, s:s}", "terminal_id",
                                             (json_int_t)t->terminal_id, "name", t->name, "role",
                                             patron_role_name(t->role), "created_at", when,
                                             "revoked", t->revoked_at != 0, "display", display,
                                             "scanner", t->scanner));
        int n = snprintf(human + len, sizeof human - len, "%-6lld %-24s %-8s %s scanner=%s%s%s\n",
                         (long long)t->terminal_id, t->name, patron_role_name(t->role), when,
                         t->scanner, t->revoked_at ? " revoked" : "", shown);
        if (n > 0 && (size_t)n < sizeof human - len)
            len += (size_t)n;
    }
    return cli_emit(c, json_pack("{s:o, s:I}", "terminals", arr, "count", (json_int_t)count),
                    human);
}

int cli_cmd_terminal(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "add") == 0)
        return terminal_add(c, a);
    if (sub && strcmp(sub, "list") == 0)
        return terminal_list(c, a);
    if (sub && strcmp(sub, "rotate") == 0)
        return terminal_rotate(c, a);
    if (sub && strcmp(sub, "revoke") == 0)
        return terminal_revoke(c, a);
    if (sub && strcmp(sub, "display") == 0)
        return terminal_display(c, a);
    if (sub && strcmp(sub, "scanner") == 0)
        return terminal_scanner(c, a);
    return cli_usage(c, usage);
}
