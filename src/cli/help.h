/* SPDX-License-Identifier: MIT */
/* The `patron` program's help: one table that says, for every command, what it does, its forms
 * and what each option means. `patron help`, `patron help CMD`, `patron CMD --help` print it, and
 * usage errors use it to name an unknown option and suggest the nearest one. */
#ifndef PATRON_CLI_HELP_H
#define PATRON_CLI_HELP_H

#include <stddef.h>
#include <stdio.h>

struct cli_option_help {
    const char *flag;    /* "--total MINOR", "--json" */
    const char *meaning; /* one line */
};

struct cli_command_help {
    const char *name;
    const char *summary;                   /* one line for `patron help` */
    const char *forms;                     /* the command's forms, one per line */
    const struct cli_option_help *options; /* ends with {NULL, NULL} */
};

/* The help of command `name`, or NULL. */
const struct cli_command_help *cli_help_find(const char *name);

/* `patron help`: the global options, every command's summary, the exit statuses. */
void cli_help_global(FILE *f);

/* `patron help CMD`: the forms, then each option with its meaning. */
void cli_help_command(FILE *f, const struct cli_command_help *h);

/* The command's forms alone, one per line, indented. */
void cli_help_forms(FILE *f, const struct cli_command_help *h);

/* The command name nearest to `word` (a likely typo), or NULL when none is close. */
const char *cli_help_nearest_command(const char *word);

/* Whether `flag` ("--total") is an option of command `h` or a global option. */
int cli_help_knows_option(const struct cli_command_help *h, const char *flag);

/* The word of h's forms nearest to `word` (a mistyped subcommand), into buf; NULL when `word`
 * is one of the forms' words or none is close. */
const char *cli_help_nearest_word(const struct cli_command_help *h, const char *word, char *buf,
                                  size_t len);
/* The option of `h` (or global) nearest to `flag`, or NULL when none is close. */
const char *cli_help_nearest_option(const struct cli_command_help *h, const char *flag, char *buf,
                                    size_t len);

#endif
