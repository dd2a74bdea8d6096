/* SPDX-License-Identifier: MIT */
/* The `patron` program's help and usage errors: help on stdout with exit 0 however it is asked
 * for, a version, every option of every command explained in its help, and usage errors that
 * name the unknown option, the bad value or the missing option, and suggest the nearest name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clirun.h"
#include "testutil.h"

static const char *const commands[] = {
    "init",     "member",   "card",     "scan",    "sale",    "refund", "reward",   "voucher",
    "key",      "ledger",   "print",    "printer", "program", "serve",  "terminal", "offer",
    "goodwill", "feedback", "referral", "report",  "hq",      "import", "sync",
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void help_is_on_stdout_with_exit_0(void **state)
{
    (void)state;
    struct clirun r = {0};
    assert_int_equal(clirun(&r, "--help", (char *)NULL), 0);
    assert_string_equal(r.err, "");
    for (size_t i = 0; i < N_COMMANDS; i++)
        assert_non_null(strstr(r.out, commands[i]));
    assert_non_null(strstr(r.out, "--db PATH"));
    assert_int_equal(clirun(&r, "help", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "commands:"));
    assert_int_equal(clirun(&r, "-h", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "commands:"));
    /* nothing at all is a usage error, but it still shows the way */
    assert_int_equal(clirun(&r, (char *)NULL), 64);
    assert_non_null(strstr(r.err, "commands:"));
}

static void version_is_printed(void **state)
{
    (void)state;
    struct clirun r = {0};
    assert_int_equal(clirun(&r, "--version", (char *)NULL), 0);
    assert_int_equal(strncmp(r.out, "patron ", 7), 0);
    assert_true(r.out[7] >= '0' && r.out[7] <= '9');
    assert_int_equal(clirun(&r, "version", (char *)NULL), 0);
    assert_int_equal(strncmp(r.out, "patron ", 7), 0);
}

/* `patron help CMD`, `patron CMD --help` and `patron CMD -h` print the same command help, which
 * is not the global help. */
static void every_command_has_its_own_help(void **state)
{
    (void)state;
    static char first[16384];
    struct clirun r = {0};
    for (size_t i = 0; i < N_COMMANDS; i++) {
        assert_int_equal(clirun(&r, "help", commands[i], (char *)NULL), 0);
        snprintf(first, sizeof first, "%s", r.out);
        assert_null(strstr(first, "commands:"));
        char title[64];
        snprintf(title, sizeof title, "patron %s: ", commands[i]);
        assert_int_equal(strncmp(first, title, strlen(title)), 0);
        assert_int_equal(clirun(&r, commands[i], "--help", (char *)NULL), 0);
        assert_string_equal(r.out, first);
        assert_int_equal(clirun(&r, commands[i], "-h", (char *)NULL), 0);
        assert_string_equal(r.out, first);
    }
    assert_int_equal(clirun(&r, "serve", "--help", (char *)NULL), 0);
    assert_non_null(strstr(r.out, "--max-connections N"));
    assert_int_equal(clirun(&r, "help", "frobnicate", (char *)NULL), 64);
}

static void member_help_lists_every_subcommand(void **state)
{
    (void)state;
    static const char *const subs[] = {"enroll", "show",  "find",          "consent",
                                       "export", "erase", "export-segment"};
    struct clirun r = {0};
    char form[64];
    assert_int_equal(clirun(&r, "member", "--help", (char *)NULL), 0);
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        snprintf(form, sizeof form, "patron member %s ", subs[i]);
        if (!strstr(r.out, form))
            fail_msg("'patron member --help' does not show %s", subs[i]);
    }
}

/* The commands each source file implements, whose help must explain its options. */
static const struct {
    const char *file;
    const char *commands[4];
} sources[] = {
    {"cmd_checkout.c", {"sale", "refund", "scan"}},
    {"cmd_import.c", {"import"}},
    {"cmd_key.c", {"key"}},
    {"cmd_ledger.c", {"ledger"}},
    {"cmd_member.c", {"member", "card"}},
    {"cmd_offer.c", {"offer", "goodwill", "feedback", "referral"}},
    {"cmd_privacy.c", {"member"}},
    {"cmd_printer.c", {"printer"}},
    {"cmd_report.c", {"report"}},
    {"cmd_reward.c", {"reward"}},
    {"cmd_serve.c", {"serve"}},
    {"cmd_store.c", {"init", "program"}},
    {"cmd_terminal.c", {"terminal"}},
    {"cmd_voucher.c", {"voucher"}},
    {"cmd_hq.c", {"hq"}},
    {"cmd_hq_program.c", {"hq"}},
    {"cmd_sync.c", {"sync"}},
    {"print.c", {"print"}},
};

static char *read_source(const char *name)
{
    char path[1024];
    const char *root = getenv("PATRON_SOURCE_DIR");
    assert_non_null(root);
    snprintf(path, sizeof path, "%s/src/cli/%s", root, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Every option a command's source names ("--x" in quotes) appears, with a meaning, in the help
 * of one of the commands that file implements. */
static void help_explains_every_option_the_code_takes(void **state)
{
    (void)state;
    struct clirun r = {0};
    static char helps[65536];
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        helps[0] = '\0';
        for (size_t k = 0; k < 4 && sources[i].commands[k]; k++) {
            assert_int_equal(clirun(&r, "help", sources[i].commands[k], (char *)NULL), 0);
            size_t used = strlen(helps);
            snprintf(helps + used, sizeof helps - used, "%s", r.out);
        }
        const char *text = read_source(sources[i].file);
        for (const char *p = strstr(text, "\"--"); p; p = strstr(p + 1, "\"--")) {
            size_t n = strspn(p + 3, "abcdefghijklmnopqrstuvwxyz-");
            if (n == 0 || p[3 + n] != '"')
                continue;
            char line[96];
            /* in the options list: two spaces, the flag, then its placeholder or its meaning */
            snprintf(line, sizeof line, "\n  --%.*s", (int)n, p + 3);
            const char *at = strstr(helps, line);
            while (at && at[strlen(line)] != ' ' && at[strlen(line)] != ',' &&
                   at[strlen(line)] != '\n')
                at = strstr(at + 1, line);
            if (!at)
                fail_msg("%s takes --%.*s but the help of '%s' does not explain it",
                         sources[i].file, (int)n, p + 3, sources[i].commands[0]);
        }
    }
}

static void usage_errors_say_what_is_wrong(void **state)
{
    (void)state;
    struct clirun r = {0};
    const char *card = "2900000000018";
    /* no store is needed to be told the arguments are wrong */
    assert_int_equal(clirun(&r, "--db", "/nonexistent/p.db", "sale", card, "--ref", "T1", "--totl",
                            "4650", (char *)NULL),
                     64);
    assert_non_null(strstr(r.err, "unknown option '--totl'"));
    assert_non_null(strstr(r.err, "did you mean '--total'"));
    assert_non_null(strstr(r.err, "patron help sale"));
    assert_int_equal(clirun(&r, "--db", "/nonexistent/p.db", "sale", card, "--ref", "T1", "--total",
                            "46.50", (char *)NULL),
                     64);
    assert_non_null(strstr(r.err, "--total"));
    assert_non_null(strstr(r.err, "'46.50' is 4650"));
    assert_int_equal(clirun(&r, "--db", "/nonexistent/p.db", "sale", card, "--ref", "T1", "--total",
                            "0x100", (char *)NULL),
                     64);
    assert_non_null(strstr(r.err, "--total takes a whole number"));
    assert_non_null(strstr(r.err, "'0x100' is not one"));
    assert_int_equal(
        clirun(&r, "--db", "/nonexistent/p.db", "sale", card, "--ref", "T1", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "needs --total"));
    assert_int_equal(clirun(&r, "salr", card, (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown command 'salr'; did you mean 'sale'?"));
    char dir[256], db[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/patron-help-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/patron.db", dir);
    assert_int_equal(clirun(&r, "--db", db, "init", (char *)NULL), 0);
    assert_int_equal(
        clirun(&r, "--json", "--db", db, "voucher", "list", "--limit", "5000", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "--limit takes a whole number from 1 to 1000; 5000 is out"));
    assert_non_null(strstr(r.out, "\"EUSAGE\""));
    assert_int_equal(clirun(&r, "--db", db, "voucher", "list", "--bogus", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown option '--bogus'"));
    /* a mistyped subcommand, at any depth, is named with the word meant */
    assert_int_equal(clirun(&r, "--db", db, "member", "enrol", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown word 'enrol'; did you mean 'enroll'?"));
    assert_int_equal(clirun(&r, "hq", "program", "sett", "x", "1", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown word 'sett'; did you mean 'set'?"));
    assert_int_equal(clirun(&r, "hq", "store", "ad", "3", "--name", "North", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown word 'ad'; did you mean 'add'?"));
    /* an option's value is never taken for a mistyped word */
    assert_int_equal(clirun(&r, "hq", "store", "add", "--name", "ad", (char *)NULL), 64);
    assert_null(strstr(r.err, "unknown word"));
    assert_int_equal(clirun(&r, "tills", (char *)NULL), 64);
    assert_non_null(strstr(r.err, "unknown command 'tills'. Run 'patron help'"));
    test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_is_on_stdout_with_exit_0),
        cmocka_unit_test(version_is_printed),
        cmocka_unit_test(every_command_has_its_own_help),
        cmocka_unit_test(member_help_lists_every_subcommand),
        cmocka_unit_test(help_explains_every_option_the_code_takes),
        cmocka_unit_test(usage_errors_say_what_is_wrong),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
