/* SPDX-License-Identifier: MIT */
/* `patron display test TILL`: opens the customer display bound to the till (`patron terminal
 * display`) and shows a test pattern (a column ruler and letters the code page holds or
 * replaces), so the shop sees the cable, the speed and the command set are right. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "patron/display.h"
#include "patron/terminal.h"

static const char usage[] = "display test TILL";

/* The id of the till named `name`, or 0. */
static int64_t till_id(struct cli *c, const char *name)
{
    enum { CAP = 256 };
    static struct patron_terminal list[CAP];
    size_t count = 0;
    if (patron_terminal_list(c->store, list, CAP, &count) != 0)
        return 0;
    for (size_t i = 0; i < count && i < CAP; i++)
        if (strcmp(list[i].name, name) == 0)
            return list[i].terminal_id;
    return 0;
}

static int display_test(struct cli *c, struct cli_args *a)
{
    const char *name = cli_positional(a);
    struct patron_display_binding b;
    struct patron_display_frame f;
    patron_display *d = NULL;
    char detail[300], human[1024];
    int status, err;
    if (!name)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if ((status = cli_open_store(c)) != 0)
        return status;
    int64_t id = till_id(c, name);
    if (!id)
        return cli_fail(c, PATRON_ENOTFOUND, "no till of that name");
    if ((err = patron_terminal_display_get(c->store, id, &b)) != 0)
        return cli_fail(c, err, "cannot read the till's display");
    const struct patron_display_profile *p = patron_display_profile_find(b.profile);
    if (!p || strcmp(b.spec, "none") == 0)
        return cli_fail(c, PATRON_EDEVICE,
                        "the till has no display: bind one with `patron terminal display`");
    /* the templates the service will show are checked here too */
    patron_display_templates *t = NULL;
    if ((err = patron_display_templates_load(c->home, &t, detail, sizeof detail)) != 0) {
        fprintf(stderr, "patron: %s\n", detail);
        return cli_fail(c, err, "a display template is wrong");
    }
    patron_display_templates_free(t);
    patron_display_test_frame(&f);
    detail[0] = '\0';
    if ((err = patron_display_open(b.spec, p, &d, detail, sizeof detail)) == 0)
        err = patron_display_show(d, &f, 0, detail, sizeof detail);
    patron_display_close(d);
    if (err != 0) {
        fprintf(stderr, "patron: %s\n", detail);
        return cli_fail(c, err, "the display test failed");
    }
    snprintf(human, sizeof human, "test pattern sent to %s (%s)\n%s\n%s\n", b.spec, p->name,
             f.line[0], f.line[1]);
    return cli_emit(c,
                    json_pack("{s:s, s:s, s:s, s:[s,s]}", "till", name, "display", b.spec,
                              "profile", p->name, "lines", f.line[0], f.line[1]),
                    human);
}

int cli_cmd_display(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "test") == 0)
        return display_test(c, a);
    return cli_usage(c, usage);
}
