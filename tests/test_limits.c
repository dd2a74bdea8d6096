/* SPDX-License-Identifier: MIT */
/* The one table of limits and the text rules: UTF-8 and control characters refused at every
 * entry point (library, `patron`), bad bytes already in a row never failing a scan, times parsed
 * strictly, the limits the issue found wrong, and docs/openapi.yaml stating the table's numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "patron/json.h"
#include "testutil.h"

static void text_rules_are_utf8_without_controls(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t min, max;
        int flags;
        enum patron_text_fault want;
    } cases[] = {
        {"Ada", 1, 127, 0, PATRON_TEXT_OK},
        {"Zo\xc3\xab \xe5\xb1\xb1\xe7\x94\xb0 \xf0\x9f\x98\x80", 1, 127, 0, PATRON_TEXT_OK},
        {"", 1, 127, 0, PATRON_TEXT_SHORT},
        {"abcd", 1, 3, 0, PATRON_TEXT_LONG},
        {"\xc3\xab\xc3\xab", 1, 3, 0, PATRON_TEXT_LONG}, /* 2 characters, 4 bytes */
        {"A\xff"
         "B",
         1, 127, 0, PATRON_TEXT_ENCODING},
        {"\xc3", 1, 127, 0, PATRON_TEXT_ENCODING},             /* cut short */
        {"\xc0\xaf", 1, 127, 0, PATRON_TEXT_ENCODING},         /* overlong '/' */
        {"\xe0\x80\xaf", 1, 127, 0, PATRON_TEXT_ENCODING},     /* overlong, 3 bytes */
        {"\xed\xa0\x80", 1, 127, 0, PATRON_TEXT_ENCODING},     /* a surrogate */
        {"\xf4\x90\x80\x80", 1, 127, 0, PATRON_TEXT_ENCODING}, /* above U+10FFFF */
        {"Tab\there", 1, 127, 0, PATRON_TEXT_CONTROL},
        {"del\x7f", 1, 127, 0, PATRON_TEXT_CONTROL},
        {"nel\xc2\x85", 1, 127, 0, PATRON_TEXT_CONTROL}, /* U+0085, a C1 control */
        {"T 1", 1, 63, PATRON_TEXT_NO_SPACE, PATRON_TEXT_CONTROL},
        {"T 1", 1, 63, 0, PATRON_TEXT_OK},
        {NULL, 1, 63, 0, PATRON_TEXT_MISSING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum patron_text_fault got =
            patron_text_check(cases[i].text, cases[i].min, cases[i].max, cases[i].flags);
        if (got != cases[i].want)
            fail_msg("case %zu: %s, expected %s", i, patron_text_fault_str(got),
                     patron_text_fault_str(cases[i].want));
    }
}

static void repair_makes_valid_text(void **state)
{
    (void)state;
    char out[16];
    assert_string_equal(patron_text_repair(out, sizeof out,
                                           "A\xff"
                                           "B"),
                        "A\xef\xbf\xbd"
                        "B");
    assert_string_equal(patron_text_repair(out, sizeof out, "Tab\there"), "Tab?here");
    assert_string_equal(patron_text_repair(out, sizeof out, NULL), "");
    /* Cut between whole characters only. */
    assert_string_equal(patron_text_repair(out, 6, "ab\xe5\xb1\xb1\xe7\x94\xb0"), "ab\xe5\xb1\xb1");
    assert_int_equal(patron_text_check(out, 0, 16, 0), PATRON_TEXT_OK);
}

static void times_are_parsed_strictly(void **state)
{
    (void)state;
    int64_t t = 0;
    static const char *const bad[] = {
        "2026-02-30",
        "2026-02-29T00:00:00Z",
        "2026-06-01T23:59:60Z",
        "2026-06-01T24:00:00Z",
        "0000-01-01",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "2100-01-01",
        "2026-13-01",
        "2026-00-10",
        "2026-6-1",
        "2026-06-01T10:00",
        "2026-06-01T10:00:00+01:00",
        "2026-06-01 10:00:00",
        "2026-06-01Tx",
        "",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (patron_time_parse(bad[i], &t) != PATRON_EINVAL)
            fail_msg("'%s' was accepted", bad[i] ? bad[i] : "(null)");
    assert_int_equal(t, 0); /* nothing written on refusal */
    assert_int_equal(patron_time_parse("2028-02-29T23:59:59Z", &t), 0);
    assert_int_equal(t, INT64_C(1835481599));
    assert_int_equal(patron_time_parse("2000-01-01", &t), 0);
    assert_int_equal(t, PATRON_TIME_MIN);
    assert_int_equal(patron_time_parse("2099-12-31T23:59:59", &t), 0);
    assert_int_equal(t, PATRON_TIME_MAX);
    assert_int_equal(patron_json_time_parse("2026-02-30", &t), PATRON_EINVAL);
}

/* The end of a window: a date alone means through that day (the next midnight, exclusive); a
 * full time is taken as is; what patron_time_parse refuses is refused, nothing written. */
static void until_a_date_means_through_that_day(void **state)
{
    int64_t t = 0;
    (void)state;
    assert_int_equal(patron_time_parse_until("2026-03-31", &t), 0);
    assert_int_equal(t, INT64_C(1775001600)); /* 2026-04-01T00:00:00Z */
    assert_int_equal(patron_time_parse_until("2028-02-28", &t), 0);
    assert_int_equal(t, INT64_C(1835395200)); /* 2028-02-29T00:00:00Z, a leap day */
    assert_int_equal(patron_time_parse_until("2026-03-31T10:00:00Z", &t), 0);
    assert_int_equal(t, INT64_C(1774951200));
    assert_int_equal(patron_time_parse_until("2026-03-31T00:00:00", &t), 0);
    assert_int_equal(t, INT64_C(1774915200)); /* a midnight written out is that midnight */
    t = 0;
    assert_int_equal(patron_time_parse_until("2026-02-30", &t), PATRON_EINVAL);
    assert_int_equal(patron_time_parse_until("2026-03-31T10:00", &t), PATRON_EINVAL);
    assert_int_equal(patron_time_parse_until("", &t), PATRON_EINVAL);
    assert_int_equal(patron_time_parse_until(NULL, &t), PATRON_EINVAL);
    assert_int_equal(t, 0);
}

/* The numbers docs/openapi.yaml gives a property: minLength/maxLength, minimum/maximum or
 * maxItems, from the first line `field: {...}` after the line `where:`. */
static int openapi_bounds(const char *where, const char *field, long long *min, long long *max)
{
    char path[512], line[1024], anchor[256], prop[128];
    snprintf(path, sizeof path, "%s/docs/openapi.yaml", getenv("PATRON_SOURCE_DIR"));
    snprintf(anchor, sizeof anchor, "%s:", where);
    snprintf(prop, sizeof prop, "%s: {", field);
    FILE *f = fopen(path, "r");
    int found = 0, rc = -1;
    if (!f)
        fail_msg("cannot read %s", path);
    while (rc != 0 && fgets(line, sizeof line, f)) {
        const char *p = line + strspn(line, " ");
        line[strcspn(line, "\n")] = '\0';
        if (!found) {
            found = strcmp(p, anchor) == 0;
            continue;
        }
        if (strncmp(p, prop, strlen(prop)) != 0)
            continue;
        const char *lo =
            strstr(p, "minLength: ") ? strstr(p, "minLength: ") : strstr(p, "minimum: ");
        const char *hi = strstr(p, "maxLength: ") ? strstr(p, "maxLength: ")
                         : strstr(p, "maximum: ") ? strstr(p, "maximum: ")
                                                  : strstr(p, "maxItems: ");
        *min = lo ? strtoll(strchr(lo, ' ') + 1, NULL, 10) : 0;
        *max = hi ? strtoll(strchr(hi, ' ') + 1, NULL, 10) : -1;
        rc = 0;
    }
    fclose(f);
    return rc;
}

static void openapi_states_the_table_of_limits(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < PATRON_LIMIT_COUNT; i++) {
        const struct patron_limit *l = &patron_limits[i];
        long long min, max;
        if (!l->where)
            continue;
        if (openapi_bounds(l->where, l->field, &min, &max) != 0)
            fail_msg("docs/openapi.yaml has no '%s' under '%s'", l->field, l->where);
        if (min != l->min || max != l->max)
            fail_msg("'%s' under '%s': openapi says %lld..%lld, the table %lld..%lld %s", l->field,
                     l->where, min, max, (long long)l->min, (long long)l->max, l->unit);
        checked++;
    }
    assert_true(checked >= 20);
}

static void enrolment_refuses_bad_text(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char name[PATRON_NAME_MAX + 2];
    test_store_open(&t);
    struct patron_enrollment bad[] = {
        {.name = "A\xff"
                 "B"},
        {.name = "\xc0\xaf"},
        {.name = "nel\xc2\x85"},
        {.name = "A", .email = "a\xff@example.org"},
        {.name = "A", .email = "a@ex\x01.org"},
        {.name = "A", .consent_source = "0123456789012345678901234567890123"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (patron_member_enroll(t.s, &bad[i], &m) != PATRON_EINVAL)
            fail_msg("enrolment %zu was accepted", i);
    /* 63 two-byte characters (126 bytes) fit; one more byte does not, and the message says
     * bytes. */
    for (size_t i = 0; i < 63; i++)
        memcpy(name + 2 * i, "\xc3\xab", 2);
    name[126] = '\0';
    struct patron_enrollment ok = {.name = name};
    assert_int_equal(patron_member_enroll(t.s, &ok, &m), 0);
    assert_string_equal(m.name, name);
    /* Consent sources follow the same rule and the same limit as at enrolment. */
    assert_int_equal(patron_member_consent(t.s, m.card, 1, "web\xc2\x85", "clerk"), PATRON_EINVAL);
    assert_int_equal(
        patron_member_consent(t.s, m.card, 1, "0123456789012345678901234567890123", "clerk"),
        PATRON_EINVAL);
    assert_int_equal(patron_member_consent(t.s, m.card, 1, "web", "clerk"), 0);
    memcpy(name + 126, "xy", 3);
    assert_int_equal(patron_member_enroll(t.s, &ok, &m), PATRON_EINVAL);
    assert_non_null(strstr(patron_store_detail(t.s), "bytes"));
    test_store_close(&t);
}

static void bad_bytes_in_a_row_never_fail_the_scan(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_scan_result r;
    struct patron_member m;
    char card[14];
    json_t *o;
    test_store_open(&t);
    test_enroll(&t, "Ann", card);
    /* As an old store or a hand edit might hold it. */
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "UPDATE members SET name = CAST(x'41ff420a43' AS TEXT),"
                                  " email = CAST(x'61c0af40782e6f7267' AS TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_scan(t.s, card, &r), 0);
    assert_string_equal(r.member.name, "A\xef\xbf\xbd"
                                       "B?C");
    assert_int_equal(patron_json_scan(&r, &o), 0);
    json_decref(o);
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_int_equal(patron_json_member(&m, &o), 0);
    assert_string_equal(json_string_value(json_object_get(o, "name")), "A\xef\xbf\xbd"
                                                                       "B?C");
    json_decref(o);
    /* Sales still go through, and the member still sees them. */
    struct patron_sale in = {
        .card = card, .ref = "B-1", .total_minor = 1000, .idempotency_key = "B-1"};
    struct patron_sale_result sr;
    assert_int_equal(patron_sale_record(t.s, &in, &sr), 0);
    assert_int_equal(patron_scan(t.s, card, &r), 0);
    assert_int_equal(r.member.points, sr.points);
    test_store_close(&t);
}

/* A line's bad SKU or category is refused with the line's number and the field named. */
static void a_bad_line_is_named_in_the_refusal(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    struct patron_sale_result sr;
    test_store_open(&t);
    test_enroll(&t, "Ann", card);
    struct patron_sale_line lines[3] = {
        {"TEA", "drinks", 1, 100}, {"CAKE", "bake ry", 1, 200}, {"", "food", 1, 300}};
    struct patron_sale sale = {.card = card,
                               .ref = "N-1",
                               .total_minor = 600,
                               .lines = lines,
                               .n_lines = 3,
                               .idempotency_key = "N-1"};
    assert_int_equal(patron_sale_record(t.s, &sale, &sr), PATRON_EINVAL);
    assert_non_null(strstr(patron_store_detail(t.s), "line 2's category"));
    lines[1].category = "bakery";
    assert_int_equal(patron_sale_record(t.s, &sale, &sr), PATRON_EINVAL);
    assert_non_null(strstr(patron_store_detail(t.s), "line 3's SKU"));
    lines[2].sku = "BUN";
    assert_int_equal(patron_sale_record(t.s, &sale, &sr), 0);
    test_store_close(&t);
}

static void sale_and_adjustment_limits_follow_the_table(void **state)
{
    (void)state;
    struct test_store t;
    char card[14];
    struct patron_sale_result sr;
    struct patron_adjust_result ar;
    test_store_open(&t);
    test_enroll(&t, "Ann", card);
    /* A sale without lines is a total, up to PATRON_TOTAL_MAX, never "line 1". */
    struct patron_sale big = {
        .card = card, .ref = "L-1", .total_minor = INT64_C(2000000000), .idempotency_key = "L-1"};
    assert_int_equal(patron_sale_record(t.s, &big, &sr), 0);
    struct patron_sale over = {
        .card = card, .ref = "L-2", .total_minor = PATRON_TOTAL_MAX + 1, .idempotency_key = "L-2"};
    assert_int_equal(patron_sale_record(t.s, &over, &sr), PATRON_EINVAL);
    assert_null(strstr(patron_store_detail(t.s), "line"));
    assert_non_null(strstr(patron_store_detail(t.s), "total"));
    struct patron_sale_line line = {"SKU", "food", 1, PATRON_UNIT_PRICE_MAX + 1};
    struct patron_sale priced = {.card = card,
                                 .ref = "L-3",
                                 .total_minor = 100,
                                 .lines = &line,
                                 .n_lines = 1,
                                 .idempotency_key = "L-3"};
    assert_int_equal(patron_sale_record(t.s, &priced, &sr), PATRON_EINVAL);
    assert_non_null(strstr(patron_store_detail(t.s), "line 1"));
    struct patron_sale spaced = {
        .card = card, .ref = "L 4", .total_minor = 100, .idempotency_key = "L-4"};
    assert_int_equal(patron_sale_record(t.s, &spaced, &sr), PATRON_EINVAL);
    /* Adjustments reach PATRON_ADJUST_POINTS_MAX (10^9), as the API and its spec say. */
    struct patron_adjustment adj = {.card = card,
                                    .points = PATRON_ADJUST_POINTS_MAX,
                                    .reason = "migration",
                                    .manager = "Mo",
                                    .idempotency_key = "A-1"};
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    adj.points = PATRON_ADJUST_POINTS_MAX + 1;
    adj.idempotency_key = "A-2";
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), PATRON_EINVAL);
    adj.points = 5;
    adj.reason = "bad\xff";
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), PATRON_EINVAL);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

/* The program refuses the same input with exit 4, by the library's rules and limits. */
static void cli_refuses_bad_input_with_exit_4(void **state)
{
    (void)state;
    struct test_store t;
    char out[4096], card[14];
    test_store_open(&t);
    test_enroll(&t, "Ann", card);
    patron_store_close(t.s);
    t.s = NULL;
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "member", "enroll",
                                     "--name",
                                     "A\xff"
                                     "B",
                                     (char *)NULL),
                     4);
    assert_non_null(strstr(out, "EINVAL"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "sale", card, "--ref", "C-1",
                                     "--total", "100", "--line", "SKU:food:1:1000000001",
                                     (char *)NULL),
                     4);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "sale", card, "--ref", "C-2",
                                     "--total", "2000000000", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "ledger", "adjust", card,
                                     "--points", "500000000", "--reason", "r", "--manager", "Mo",
                                     (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "ledger", "adjust", card,
                                     "--points", "1000000001", "--reason", "r", "--manager", "Mo",
                                     (char *)NULL),
                     4);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", t.path, "--json", "scan", card, (char *)NULL), 0);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_rules_are_utf8_without_controls),
        cmocka_unit_test(repair_makes_valid_text),
        cmocka_unit_test(times_are_parsed_strictly),
        cmocka_unit_test(until_a_date_means_through_that_day),
        cmocka_unit_test(openapi_states_the_table_of_limits),
        cmocka_unit_test(enrolment_refuses_bad_text),
        cmocka_unit_test(bad_bytes_in_a_row_never_fail_the_scan),
        cmocka_unit_test(sale_and_adjustment_limits_follow_the_table),
        cmocka_unit_test(a_bad_line_is_named_in_the_refusal),
        cmocka_unit_test(cli_refuses_bad_input_with_exit_4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
