/* SPDX-License-Identifier: MIT */
/* The `patron` program: global options (anywhere on the line), `help`, `--help` and `--version`,
 * machine settings from flags, environment and patron.conf in that order, and the table of
 * commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "help.h"

struct command {
    const char *name;
    cli_command_fn run;
};

/* What each command does and means is in the help table (help.c); a command missing there is
 * caught by the test that asks every command for its help. */
/* One command a line, so that commands added in parallel merge cleanly. */
/* clang-format off */
static const struct command commands[] = {
    {"init", cli_cmd_init},
    {"member", cli_cmd_member_privacy},
    {"card", cli_cmd_card},
    {"scan", cli_cmd_scan},
    {"sale", cli_cmd_sale},
    {"refund", cli_cmd_refund},
    {"reward", cli_cmd_reward},
    {"voucher", cli_cmd_voucher},
    {"key", cli_cmd_key},
    {"ledger", cli_cmd_ledger},
    {"print", cli_cmd_print},
    {"printer", cli_cmd_printer},
    {"program", cli_cmd_program},
    {"serve", cli_cmd_serve},
    {"terminal", cli_cmd_terminal},
    {"display", cli_cmd_display},
    {"scanner", cli_cmd_scanner},
    {"offer", cli_cmd_offer},
    {"goodwill", cli_cmd_goodwill},
    {"feedback", cli_cmd_feedback},
    {"referral", cli_cmd_referral},
    {"report", cli_cmd_report},
    {"hq", cli_cmd_hq},
    {"import", cli_cmd_import},
    {"sync", cli_cmd_sync},
    {"webhook", cli_cmd_webhook},
};
/* clang-format on */

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *guess = cli_help_nearest_command(name);
    fprintf(stderr, "patron: unknown command '%s'", name);
    if (guess)
        fprintf(stderr, "; did you mean '%s'?", guess);
    else
        fputc('.', stderr);
    fputs(" Run 'patron help' for the list.\n", stderr);
    return CLI_EXIT_USAGE;
}

/* `patron help [CMD]`, `patron [CMD] --help`: on stdout, exit 0. */
static int show_help(const char *topic)
{
    if (!topic) {
        cli_help_global(stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_command_help *h = cli_help_find(topic);
    if (!h || !find_command(topic))
        return unknown_command(topic);
    cli_help_command(stdout, h);
    return CLI_EXIT_OK;
}

static int take_globals(struct cli *c, struct cli_args *a, struct cli_config_flags *flags)
{
    const char *now;
    flags->db = cli_take(a, "--db");
    flags->home = cli_take(a, "--home");
    flags->printer = cli_take(a, "--printer");
    flags->printer_profile = cli_take(a, "--printer-profile");
    flags->listen = cli_take(a, "--listen");
    flags->tls_cert = cli_take(a, "--tls-cert");
    flags->tls_key = cli_take(a, "--tls-key");
    flags->hq = cli_take(a, "--hq");
    flags->wallet_pass_cert = cli_take(a, "--wallet-pass-cert");
    flags->wallet_pass_key = cli_take(a, "--wallet-pass-key");
    flags->wallet_wwdr_cert = cli_take(a, "--wallet-wwdr-cert");
    flags->wallet_pass_type_id = cli_take(a, "--wallet-pass-type-id");
    flags->wallet_team_id = cli_take(a, "--wallet-team-id");
    flags->wallet_google_issuer = cli_take(a, "--wallet-google-issuer");
    flags->wallet_google_key = cli_take(a, "--wallet-google-key");
    flags->wallet_google_email = cli_take(a, "--wallet-google-email");
    flags->public_url = cli_take(a, "--public-url");
    flags->wallet_apns_url = cli_take(a, "--wallet-apns-url");
    c->json = cli_flag(a, "--json");
    c->till = cli_take(a, "--till");
    if ((now = cli_take(a, "--now")) != NULL) {
        if (cli_parse_time(now, &c->now) != 0)
            return cli_fail(c, PATRON_EINVAL,
                            "--now takes a real UTC date and time from 2000-01-01 to "
                            "2099-12-31, as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
        c->has_now = 1;
    }
    return 0;
}

static int run(struct cli *c, struct cli_args *a, const struct cli_config_flags *flags)
{
    int help = cli_flag(a, "--help") | cli_flag(a, "-h"), status;
    const char *name = cli_positional(a);
    if (cli_flag(a, "--version") || (name && strcmp(name, "version") == 0 && a->argc == 0)) {
        printf("patron %s\n", PATRON_VERSION);
        return CLI_EXIT_OK;
    }
    if (name && strcmp(name, "help") == 0)
        return show_help(cli_positional(a));
    if (!name && !help) {
        fputs("patron: no command given.\n", stderr);
        cli_help_global(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!name || help)
        return show_help(name);
    const struct command *cmd = find_command(name);
    if (!cmd)
        return unknown_command(name);
    c->command = cli_help_find(name);
    memcpy(c->given, a->argv, (size_t)a->argc * sizeof *c->given); /* kept as typed */
    c->n_given = a->argc;
    c->args = a;
    if ((status = cli_config_load(c, flags)) != 0)
        return status;
    return cmd->run(c, a);
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    struct cli_config_flags flags = {0};
    struct cli_args a = {argc - 1, argv + 1};
    int status = take_globals(&c, &a, &flags);
    if (status == 0 && (c.given = calloc((size_t)argc, sizeof *c.given)) == NULL)
        status = CLI_EXIT_OTHER;
    if (status == 0)
        status = run(&c, &a, &flags);
    patron_store_close(c.store);
    cli_config_free(&c);
    free(c.given);
    return status;
}
