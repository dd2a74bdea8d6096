/* SPDX-License-Identifier: MIT */
/* Receipt templates: markup errors come back with their line and column, placeholders are
 * filled from the caller's values (a missing one is named), values are never parsed as markup
 * or printer commands, columns align by position, and a file in $PATRON_HOME/receipts wins
 * over the shipped template. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "patron/receipt.h"

static void parse_error_at(const char *text, unsigned line, unsigned col, const char *words)
{
    patron_receipt *t = NULL;
    unsigned l = 0, c = 0;
    char msg[256] = "";
    assert_int_equal(patron_receipt_parse(text, &t, &l, &c, msg, sizeof msg), PATRON_EINVAL);
    assert_null(t);
    if (l != line || c != col)
        fail_msg("\"%s\": fault at %u:%u, expected %u:%u (%s)", text, l, c, line, col, msg);
    if (!strstr(msg, words))
        fail_msg("message \"%s\" lacks \"%s\"", msg, words);
}

static void markup_errors_name_line_and_column(void **state)
{
    (void)state;
    parse_error_at("Hello\n  Bad \\q escape", 2, 7, "unknown escape");
    parse_error_at("a\nb\nName: {{member.name", 3, 7, "closing");
    parse_error_at("Total | {x}", 1, 9, "alone");
    parse_error_at("{colour: red}", 1, 2, "unknown property");
    parse_error_at("{code: 123; option: upc}", 1, 21, "not supported");
    parse_error_at("Price {", 1, 7, "\\{");
    parse_error_at("{{bad name}}", 1, 6, "placeholder name");
    parse_error_at("ok\n\xC3\xA9t\xC3 broken", 2, 3, "UTF-8");
    parse_error_at("{align: middle}", 1, 9, "left, center or right");
}

static char *render(const char *text, const char *profile, const struct patron_receipt_var *v,
                    size_t n, size_t *len, int *rc, char *msg)
{
    patron_receipt *t = NULL;
    uint8_t *out = NULL;
    assert_int_equal(patron_receipt_parse(text, &t, NULL, NULL, msg, 256), 0);
    *rc = patron_receipt_render_job(t, patron_escpos_profile_find(profile), v, n, &out, len, msg,
                                    256);
    patron_receipt_free(t);
    return (char *)out;
}

static void missing_placeholder_is_named(void **state)
{
    (void)state;
    struct patron_receipt_var v[] = {{"member.name", "Ada"}};
    char msg[256];
    size_t len;
    int rc;
    char *out = render("Hi {{member.name}}\n\n{code:{{voucher.token}}; option:qrcode,q}",
                       "generic-58", v, 1, &len, &rc, msg);
    assert_int_equal(rc, PATRON_EINVAL);
    assert_null(out);
    assert_non_null(strstr(msg, "{{voucher.token}}"));
    assert_non_null(strstr(msg, "line 3"));
}

static void values_are_text_not_markup_or_commands(void **state)
{
    (void)state;
    struct patron_receipt_var v[] = {{"x", "^{{y}} | \"q\x1B@"}};
    char msg[256];
    size_t len;
    int rc;
    char *out = render("|{{x}}", "generic-58", v, 1, &len, &rc, msg);
    assert_int_equal(rc, 0);
    /* after ESC @ ESC t 0: the value as it is, the ESC turned into '?' */
    const char want[] = "\x1B@\x1Bt\x00"
                        "^{{y}} | \"q?@\n";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    free(out);
}

static void columns_align_by_position(void **state)
{
    (void)state;
    char msg[256];
    size_t len;
    int rc;
    /* 32 columns: two of 15 with one space between; label left, value right */
    char *out =
        render("Balance | 120\n|Left\nRight|\nCentre", "generic-58", NULL, 0, &len, &rc, msg);
    assert_int_equal(rc, 0);
    const char want[] = "\x1B@\x1Bt\x00"
                        "Balance                      120\n"
                        "Left\n"
                        "\x1B\x61\x02Right\n"
                        "\x1B\x61\x01"
                        "Centre\n"
                        "\x1B\x61\x00";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    free(out);
}

static void styles_rules_and_cuts(void **state)
{
    (void)state;
    char msg[256];
    size_t len;
    int rc;
    char *out = render("|\"Bold\" ^^^Big\n---\n=", "epson-tm-t20", NULL, 0, &len, &rc, msg);
    assert_int_equal(rc, 0);
    const char head[] = "\x1B@\x1Bt\x13"
                        "\x1B\x45\x01"
                        "Bold"
                        "\x1B\x45\x00"
                        " "
                        "\x1D!\x11"
                        "Big\n"
                        "\x1D!\x00";
    assert_memory_equal(out, head, sizeof head - 1);
    size_t at = sizeof head - 1;
    for (int i = 0; i < 48; i++)
        assert_int_equal((uint8_t)out[at + i], 0xC4);
    assert_memory_equal(out + at + 48, "\n\x1DV\x42\x00", 5);
    assert_int_equal(len, at + 53);
    free(out);
}

static void long_text_wraps_inside_its_column(void **state)
{
    (void)state;
    struct patron_receipt_var v[] = {{"n", "abcdefghijklmnopqrstuvwxyz0123456789"}};
    char msg[256];
    size_t len;
    int rc;
    char *out = render("|{{n}}", "generic-58", v, 1, &len, &rc, msg);
    assert_int_equal(rc, 0);
    const char want[] = "\x1B@\x1Bt\x00"
                        "abcdefghijklmnopqrstuvwxyz012345\n"
                        "6789\n";
    assert_int_equal(len, sizeof want - 1);
    assert_memory_equal(out, want, len);
    free(out);
}

static void home_directory_template_wins(void **state)
{
    (void)state;
    char home[256], dir[300], path[400], msg[256];
    const char *tmp = getenv("TMPDIR");
    patron_receipt *t = NULL;
    snprintf(home, sizeof home, "%s/patron-receipt-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(home));
    snprintf(dir, sizeof dir, "%s/receipts", home);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/test-page.receipt", dir);
    FILE *f = fopen(path, "w");
    fputs("Own test page\n{oops}\n", f);
    fclose(f);
    /* the shop's file is the one read: its fault is reported with its path */
    assert_int_equal(patron_receipt_load(home, "test-page", &t, msg, sizeof msg), PATRON_EINVAL);
    assert_non_null(strstr(msg, path));
    assert_non_null(strstr(msg, ":2:2:"));
    f = fopen(path, "w");
    fputs("Own test page\n", f);
    fclose(f);
    assert_int_equal(patron_receipt_load(home, "test-page", &t, msg, sizeof msg), 0);
    patron_receipt_free(t);
    /* without a home copy the shipped template loads */
    assert_int_equal(patron_receipt_load(NULL, "reward-coupon", &t, msg, sizeof msg), 0);
    patron_receipt_free(t);
    assert_int_equal(patron_receipt_load(home, "../etc/passwd", &t, msg, sizeof msg),
                     PATRON_EINVAL);
    assert_int_equal(patron_receipt_load(home, "no-such", &t, msg, sizeof msg), PATRON_ENOTFOUND);
    test_rmtree(home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(markup_errors_name_line_and_column),
        cmocka_unit_test(missing_placeholder_is_named),
        cmocka_unit_test(values_are_text_not_markup_or_commands),
        cmocka_unit_test(columns_align_by_position),
        cmocka_unit_test(styles_rules_and_cuts),
        cmocka_unit_test(long_text_wraps_inside_its_column),
        cmocka_unit_test(home_directory_template_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
