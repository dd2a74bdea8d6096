/* SPDX-License-Identifier: MIT */
/* Usage errors of the `patron` program: they say what is wrong (the bad value and what it should
 * be, the unknown option and the nearest known one, the missing option), then the command's forms
 * from the help table, so a cashier or a script never has to guess. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "help.h"

#define TAKEN_MAX 64

static struct {
    const char *name, *value;
} taken[TAKEN_MAX];
static size_t n_taken;
static char problem[512];

/* Options whose values are money in minor units: a decimal point there is a common slip. */
static const char *const money_options[] = {"--total", "--min-basket"};

void cli_note_taken(const char *name, const char *value)
{
    if (n_taken < TAKEN_MAX) {
        taken[n_taken].name = name;
        taken[n_taken].value = value;
        n_taken++;
    }
}

void cli_note_clear(void)
{
    problem[0] = '\0';
}

static const char *option_of(const char *value)
{
    for (size_t i = 0; i < n_taken; i++)
        if (taken[i].value == value)
            return taken[i].name;
    return NULL;
}

static int is_money(const char *option)
{
    for (size_t i = 0; option && i < sizeof money_options / sizeof money_options[0]; i++)
        if (strcmp(option, money_options[i]) == 0)
            return 1;
    return 0;
}

/* "46.50" or "46,5" as minor units (4650), or -1. */
static long long as_minor_units(const char *text)
{
    size_t whole = strspn(text, "0123456789");
    if (whole == 0 || whole > 15 || (text[whole] != '.' && text[whole] != ','))
        return -1;
    const char *frac = text + whole + 1;
    size_t n = strspn(frac, "0123456789");
    if (n < 1 || n > 2 || frac[n] != '\0')
        return -1;
    long long v = strtoll(text, NULL, 10) * 100 + strtoll(frac, NULL, 10) * (n == 1 ? 10 : 1);
    return v;
}

void cli_note_bad_number(const char *text, int64_t min, int64_t max)
{
    const char *option = option_of(text);
    char who[80] = "", range[96];
    long long minor = is_money(option) ? as_minor_units(text) : -1;
    if (option)
        snprintf(who, sizeof who, "%s ", option);
    if (max == INT64_MAX)
        snprintf(range, sizeof range, "a whole number of at least %" PRId64, min);
    else
        snprintf(range, sizeof range, "a whole number from %" PRId64 " to %" PRId64, min, max);
    if (minor >= 0)
        snprintf(problem, sizeof problem,
                 "%stakes the amount in minor units (cents) as a whole number: '%s' is %lld", who,
                 text, minor);
    else if (!option)
        snprintf(problem, sizeof problem, "expected %s, not '%s'", range, text);
    else if (text[strspn(text, "-0123456789")] == '\0' && text[0] != '\0')
        snprintf(problem, sizeof problem, "%stakes %s; %s is out of range", who, range, text);
    else
        snprintf(problem, sizeof problem, "%stakes %s in decimal digits; '%s' is not one", who,
                 range, text);
}

static int was_given(const struct cli *c, const char *flag)
{
    size_t n = strlen(flag);
    for (int i = 0; i < c->n_given; i++)
        if (strncmp(c->given[i], flag, n) == 0 && (c->given[i][n] == '\0' || c->given[i][n] == '='))
            return 1;
    return 0;
}

/* The first word typed after the command that is not an option: its subcommand. */
static const char *first_word(const struct cli *c)
{
    for (int i = 0; i < c->n_given; i++)
        if (c->given[i][0] != '-')
            return c->given[i];
    return "";
}

/* The subcommand word of a form ("enroll" in "patron member enroll --name N"), or "". */
static void form_sub(const char *form, char *sub, size_t cap)
{
    const char *w = form + strcspn(form, " "); /* past "patron" */
    w += strspn(w, " ");
    w += strcspn(w, " \n"); /* past the command */
    w += strspn(w, " ");
    size_t n = strspn(w, "abcdefghijklmnopqrstuvwxyz-");
    if (n >= cap || (w[n] != ' ' && w[n] != '\n' && w[n] != '\0'))
        n = 0;
    memcpy(sub, w, n);
    sub[n] = '\0';
}

/* The form (lines of the help's forms, a form's continuation lines indented) that the typed
 * words pick: the one whose third word (the subcommand) was typed, or the only one. */
static int pick_form(const struct cli *c, const char *forms, const char **start, size_t *len)
{
    int count = 0;
    for (const char *p = forms; *p;) {
        const char *end = p;
        do { /* a form runs on over the indented lines after it */
            end += strcspn(end, "\n");
            if (*end == '\n')
                end++;
        } while (*end == ' ');
        char sub[48];
        form_sub(p, sub, sizeof sub);
        count++;
        if (sub[0] && strcmp(first_word(c), sub) == 0) {
            *start = p;
            *len = (size_t)(end - p);
            return 1;
        }
        if (count == 1) {
            *start = p;
            *len = (size_t)(end - p);
        }
        p = end;
    }
    return count == 1;
}

/* The first option the picked form requires (outside brackets) that was not typed. */
static int find_missing(const struct cli *c, char *out, size_t cap)
{
    const char *form;
    size_t len;
    int depth = 0;
    if (!c->command || !pick_form(c, c->command->forms, &form, &len))
        return 0;
    for (size_t i = 0; i < len; i++) {
        depth += form[i] == '[';
        depth -= form[i] == ']';
        if (depth != 0 || form[i] != '-' || form[i + 1] != '-' || (i > 0 && form[i - 1] != ' '))
            continue;
        size_t n = strcspn(form + i, " \n]|");
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", (int)(n < 63 ? n : 63), form + i);
        if (!was_given(c, flag)) {
            const char *sub = first_word(c);
            int has_sub = strncmp(form + strlen("patron ") + strlen(c->command->name) + 1, sub,
                                  strlen(sub)) == 0 &&
                          sub[0];
            snprintf(out, cap, "'patron %s%s%s' needs %s", c->command->name, has_sub ? " " : "",
                     has_sub ? sub : "", flag);
            return 1;
        }
        i += n;
    }
    return 0;
}

/* What is wrong with the words left over, or 0 when nothing is. */
static int leftover_problem(const struct cli *c, const struct cli_args *a, char *out, size_t cap)
{
    char near[64];
    for (int i = 0; a && i < a->argc; i++) {
        const char *w = a->argv[i];
        if (strcmp(w, "--") == 0)
            continue;
        if (strncmp(w, "--", 2) != 0) {
            snprintf(out, cap, "unexpected argument '%s'", w);
            return 1;
        }
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", (int)strcspn(w, "="), w);
        if (cli_help_knows_option(c->command, flag)) {
            snprintf(out, cap, "%s %s", flag,
                     i + 1 == a->argc && !strchr(w, '=') ? "needs a value"
                                                         : "does not belong in this form");
            return 1;
        }
        const char *guess = cli_help_nearest_option(c->command, flag, near, sizeof near);
        snprintf(out, cap, "unknown option '%s'%s%s%s", flag, guess ? "; did you mean '" : "",
                 guess ? guess : "", guess ? "'?" : "");
        return 1;
    }
    return 0;
}

/* A typed word that is none of the command's forms' words but close to one ("patron hq progam"):
 * names it and the word meant. Values of options are skipped. */
static int mistyped_word(const struct cli *c, char *out, size_t cap)
{
    char near[64];
    for (int i = 0; i < c->n_given; i++) {
        const char *w = c->given[i];
        if (w[0] == '-' || (i > 0 && c->given[i - 1][0] == '-' && !strchr(c->given[i - 1], '=')))
            continue;
        const char *guess = cli_help_nearest_word(c->command, w, near, sizeof near);
        if (guess) {
            snprintf(out, cap, "unknown word '%s'; did you mean '%s'?", w, guess);
            return 1;
        }
    }
    return 0;
}

int cli_usage(struct cli *c, const char *usage)
{
    char what[640];
    const char *name = c->command ? c->command->name : NULL;
    int is_form = strncmp(usage, "patron ", 7) == 0 ||
                  (name && strncmp(usage, name, strlen(name)) == 0 && usage[strlen(name)] == ' ');
    if (problem[0])
        snprintf(what, sizeof what, "%s", problem);
    else if (mistyped_word(c, what, sizeof what))
        ;
    else if (leftover_problem(c, c->args, what, sizeof what))
        ;
    else if (!is_form)
        snprintf(what, sizeof what, "%s", usage);
    else if (!find_missing(c, what, sizeof what))
        snprintf(what, sizeof what, "wrong arguments for 'patron %s'", name ? name : "");
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", "EUSAGE", "message", what);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    size_t n = strlen(what);
    fprintf(stderr, "patron: %s%s\n", what, n && what[n - 1] == '?' ? "" : ".");
    if (c->command) {
        fputs("usage:\n", stderr);
        cli_help_forms(stderr, c->command);
        fprintf(stderr, "Run 'patron help %s' for what each option means.\n", name);
    } else if (is_form) {
        fprintf(stderr, "usage: %s\n", usage);
    }
    return CLI_EXIT_USAGE;
}

int cli_no_leftovers(struct cli *c, const struct cli_args *a, const char *usage)
{
    if (a->argc == 0)
        return 0;
    return cli_usage(c, usage);
}
