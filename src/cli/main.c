/* SPDX-License-Identifier: MIT */
/* The `patron` program: global options (anywhere on the line), machine settings from flags,
 * environment and patron.conf in that order, and the table of commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

struct command {
    const char *name;
    cli_command_fn run;
    const char *summary;
};

static const struct command commands[] = {
    {"init", cli_cmd_init, "init [--store-id N] [--store-name S]   create the store (safe twice)"},
    {"member", cli_cmd_member_privacy,
     "member enroll|show|find|consent|export|erase|export-segment ...  members and their data"},
    {"card", cli_cmd_card, "card replace|print CARD              block a lost card / print a card"},
    {"scan", cli_cmd_scan, "scan CARD                            what the cashier sees"},
    {"sale", cli_cmd_sale, "sale CARD --ref R --total MINOR ...   earn points for a sale"},
    {"refund", cli_cmd_refund, "refund --ref R [--return-ref RR] ...  reverse a sale's points"},
    {"reward", cli_cmd_reward, "reward add|list|redeem|retire ...     the rewards catalogue"},
    {"voucher", cli_cmd_voucher,
     "voucher check|redeem|show|list|void ... signed vouchers, spent once"},
    {"key", cli_cmd_key, "key list|rotate|retire|trust|export ...  the voucher keyring"},
    {"ledger", cli_cmd_ledger, "ledger verify|expire|adjust ...       the points ledger"},
    {"print", cli_cmd_print, "print queue [--all] | reprint JOB | run   the print queue"},
    {"printer", cli_cmd_printer, "printer list | status | test          the receipt printer"},
    {"program", cli_cmd_program, "program show|set|category|tier ...    the program's rules"},
    {"serve", cli_cmd_serve,
     "serve [--listen 127.0.0.1:8420] [--demo] the counter service (HTTP/JSON API)"},
    {"terminal", cli_cmd_terminal,
     "terminal add NAME --role cashier|manager|admin   a till's API token"},
    {"offer", cli_cmd_offer, "offer add|list|show|end|segment ...   targeted offers"},
    {"goodwill", cli_cmd_goodwill, "goodwill issue CARD --reward ID ...   a manager's apology"},
    {"feedback", cli_cmd_feedback, "feedback CARD --score 1-5 ...         the member's verdict"},
    {"referral", cli_cmd_referral, "referral show|link CARD ...           referral codes"},
    {"report", cli_cmd_report,
     "report [NAME] [--csv] [--svg FILE] ...  liability, retention, churn..."},
};

static void print_help(FILE *f)
{
    fputs("usage: patron [--db PATH] [--json] [--now ISO8601] [--printer SPEC] [--till NAME] "
          "COMMAND ...\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].summary);
    fputs("\nexit status: 0 done, 2 refused by a rule, 3 not found, 4 invalid input, "
          "5 printer error, 64 usage, 1 other\n",
          f);
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

int main(int argc, char **argv)
{
    struct cli c = {0};
    struct cli_args a = {argc - 1, argv + 1};
    struct cli_config_flags flags = {0};
    int status = take_globals(&c, &a, &flags);
    if (status != 0)
        return status;
    const char *name = cli_positional(&a);
    if (!name || strcmp(name, "help") == 0 || strcmp(name, "--help") == 0) {
        print_help(name ? stdout : stderr);
        return name ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    if ((status = cli_config_load(&c, &flags)) != 0)
        return status;
    /* The printer's "auto" spec finds the virtual printer's folder through PATRON_HOME. */
    setenv("PATRON_HOME", c.home, 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            status = commands[i].run(&c, &a);
            patron_store_close(c.store);
            cli_config_free(&c);
            return status;
        }
    }
    fprintf(stderr, "patron: unknown command '%s'; try 'patron help'\n", name);
    cli_config_free(&c);
    return CLI_EXIT_USAGE;
}
