/* SPDX-License-Identifier: MIT */
/* `patron member consent|export|erase|export-segment`: a member's marketing consent, their copy
 * of everything held about them, erasure of their personal data, and the CSV of a marketing
 * segment (consenting members only). Other `member` subcommands go on to cli_cmd_member. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"

static const char privacy_usage[] =
    "patron member consent CARD --marketing yes|no [--source S] [--by WHO] | export CARD | "
    "erase CARD [--by WHO] | export-segment --consenting --csv [--tier T] [--lapsed-days D]";

static int member_consent(struct cli *c, struct cli_args *a)
{
    const char *marketing = cli_take(a, "--marketing"), *source = cli_take(a, "--source");
    const char *by = cli_take(a, "--by"), *card = cli_positional(a);
    struct patron_member m;
    char human[256], at[32];
    json_t *o;
    int err, yes;
    if (!card || !marketing || a->argc != 0 ||
        (strcmp(marketing, "yes") != 0 && strcmp(marketing, "no") != 0))
        return cli_usage(c, privacy_usage);
    yes = strcmp(marketing, "yes") == 0;
    if ((err = patron_member_consent(c->store, card, yes, source, by ? by : "cli")) != 0 ||
        (err = patron_member_by_card(c->store, card, &m)) != 0 ||
        (err = patron_json_consent(&m, source, &o)) != 0)
        return cli_fail(c, err, "cannot record the consent");
    cli_format_time(m.consent_at, at, sizeof at);
    snprintf(human, sizeof human, "Marketing consent %s for member %lld (%s, %s).\n",
             yes ? "given" : "withdrawn", (long long)m.member_id, source ? source : "counter", at);
    return cli_emit(c, o, human);
}

/* Copies the export's file to stdout; 0 or -errno. */
static int copy_out(FILE *f)
{
    char buf[64 * 1024];
    size_t n;
    errno = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            return errno ? -errno : -EIO;
    if (ferror(f))
        return errno ? -errno : -EIO;
    return fputc('\n', stdout) == EOF || fflush(stdout) != 0 ? (errno ? -errno : -EIO) : 0;
}

static int member_export(struct cli *c, struct cli_args *a)
{
    const char *card = cli_positional(a);
    FILE *f = NULL;
    int err;
    if (!card || a->argc != 0)
        return cli_usage(c, privacy_usage);
    /* The whole copy is on disk before a byte of it is printed: a failure prints nothing. */
    if ((err = patron_member_export_file(c->store, card, &f)) != 0)
        return cli_fail(c, err, "cannot export the member");
    /* The export is JSON whichever output was asked for: it is the member's copy. */
    err = copy_out(f);
    fclose(f);
    return err ? cli_fail(c, err, "cannot write the export") : CLI_EXIT_OK;
}

static int member_erase(struct cli *c, struct cli_args *a)
{
    const char *by = cli_take(a, "--by"), *card = cli_positional(a);
    struct patron_member m;
    char human[160];
    json_t *o;
    int err;
    if (!card || a->argc != 0)
        return cli_usage(c, privacy_usage);
    if ((err = patron_member_by_card(c->store, card, &m)) != 0 ||
        (err = patron_member_erase(c->store, card, by ? by : "cli")) != 0 ||
        (err = patron_json_erasure(m.member_id, &o)) != 0)
        return cli_fail(c, err, "cannot erase the member");
    snprintf(human, sizeof human,
             "Member %lld erased: personal data removed, cards blocked, ledger kept.\n",
             (long long)m.member_id);
    return cli_emit(c, o, human);
}

static int member_segment(struct cli *c, struct cli_args *a)
{
    struct patron_segment_query q = {0};
    const char *lapsed = cli_take(a, "--lapsed-days");
    int consenting = cli_flag(a, "--consenting"), csv = cli_flag(a, "--csv");
    int64_t count = 0;
    int err;
    q.tier = cli_take(a, "--tier");
    /* --consenting is required so that the command line says what the file holds. */
    if (!consenting || !csv || a->argc != 0 ||
        (lapsed && cli_parse_int(lapsed, 1, 36500, &q.lapsed_days) != 0))
        return cli_usage(c, privacy_usage);
    if ((err = patron_segment_export(c->store, &q, stdout, &count)) != 0)
        return cli_fail(c, err, "cannot export the segment");
    fprintf(stderr, "patron: %lld consenting members exported.\n", (long long)count);
    return CLI_EXIT_OK;
}

int cli_cmd_member_privacy(struct cli *c, struct cli_args *a)
{
    static const struct {
        const char *name;
        int (*run)(struct cli *, struct cli_args *);
    } subs[] = {{"consent", member_consent},
                {"export", member_export},
                {"erase", member_erase},
                {"export-segment", member_segment}};
    const char *sub = a->argc > 0 ? a->argv[0] : NULL;
    for (size_t i = 0; sub && i < sizeof subs / sizeof subs[0]; i++) {
        if (strcmp(sub, subs[i].name) != 0)
            continue;
        int status = cli_open_store(c);
        cli_positional(a);
        return status != 0 ? status : subs[i].run(c, a);
    }
    return cli_cmd_member(c, a);
}
