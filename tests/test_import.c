/* SPDX-License-Identifier: MIT */
/* Moving in (patron_import_members): CSV files written by the test itself, in each source's
 * layout; members matched or created, opening balances against migration:BATCH with the
 * source's expiry kept, a batch imported exactly once, dry runs that write nothing, and bad rows
 * reported with their row, column and a sentence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

struct errors {
    int n;
    struct patron_import_error e[16];
};

static void collect(void *ctx, const struct patron_import_error *e)
{
    struct errors *errs = ctx;
    if (errs->n < 16)
        errs->e[errs->n] = *e;
    errs->n++;
}

static void write_file(const struct test_store *t, const char *name, const char *text, char *path)
{
    snprintf(path, 512, "%s/%s", t->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int64_t balance_of(patron_store *s, const char *card)
{
    struct patron_member m;
    assert_int_equal(patron_member_by_card(s, card, &m), 0);
    return m.points;
}

static int64_t migration_balance(patron_store *s, const char *batch)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT COALESCE((SELECT balance FROM accounts WHERE name = 'migration:%s'), -1)",
             batch);
    return test_scalar(s, sql);
}

static void import_ok(struct test_store *t, const char *path, struct patron_import_options *o,
                      struct patron_import_report *r)
{
    int err = patron_import_members(t->s, path, o, r);
    if (err != 0)
        fail_msg("import failed: %s", patron_store_detail(t->s));
}

/* BOM, semicolons, a quoted field with a newline; a Patron card kept, a national phone in
 * E.164, the source's expiry on the lot, and the migration account at minus the points. */
static void generic_file_with_bom_semicolons_and_quoted_newline(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct patron_member m;
    char path[512];
    test_store_open(&t);
    write_file(&t, "m.csv",
               "\xEF\xBB\xBF"
               "card;phone;email;name;points;expires;note\r\n"
               "2900000000018;07911 123456;ann@example.org;Ann;120;2027-03-01;\"first line\r\n"
               "second; line\"\r\n"
               ";;\"bob@example.org\";\"Bob \"\"B\"\" Jones\";50;;\r\n",
               path);
    struct patron_import_options o = {.batch = "b1", .country_code = "44"};
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.rows_read, 2);
    assert_int_equal(r.created, 2);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.file_points, 170);
    assert_int_equal(r.points_posted, 170);
    assert_int_equal(r.migration_balance, -170);
    assert_int_equal(migration_balance(t.s, "b1"), -170);
    assert_int_equal(patron_member_by_card(t.s, "2900000000018", &m), 0);
    assert_string_equal(m.name, "Ann");
    assert_string_equal(m.phone, "+447911123456");
    assert_int_equal(m.points, 120);
    assert_int_equal(test_scalar(t.s, "SELECT expires_at FROM lots WHERE points = 120"),
                     INT64_C(1803859200)); /* 2027-03-01T00:00:00Z */
    assert_int_equal(patron_member_by_phone(t.s, "+447911123456", &m), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members WHERE name = 'Bob \"B\" "
                                      "Jones' AND email = 'bob@example.org'"),
                     1);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

static void import_preset(enum patron_import_format f, const char *text, int64_t points)
{
    struct test_store t;
    struct patron_import_report r;
    char path[512];
    test_store_open(&t);
    write_file(&t, "p.csv", text, path);
    struct patron_import_options o = {.format = f, .batch = "preset"};
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.points_posted, points);
    assert_int_equal(test_scalar(t.s, "SELECT SUM(balance) FROM accounts WHERE member_id IS NOT "
                                      "NULL"),
                     points);
    assert_int_equal(migration_balance(t.s, "preset"), -points);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

static void each_preset_maps_its_columns(void **state)
{
    (void)state;
    import_preset(
        PATRON_IMPORT_SQUARE,
        "Phone_Number,Balance,Lifetime_Points,Enrolled_At\n+15551234567,42,90,2024-01-01\n", 42);
    import_preset(PATRON_IMPORT_SMILE, "email,points\ncarol@example.org,300\n", 300);
    import_preset(PATRON_IMPORT_ODOO,
                  "code,points,partner_id,expiration_date\nODOO-0007,120.0,Dan,2027-06-30\n", 120);
    import_preset(PATRON_IMPORT_OPEN_LOYALTY,
                  "customerId,loyaltyCardNumber,email,firstName,points\n"
                  "c-1,2900000000018,eve@example.org,Eve,75\n",
                  75);
}

static void run_batch(struct test_store *t, const char *text, enum patron_import_mode mode,
                      const char *batch, struct patron_import_report *r)
{
    char path[512];
    write_file(t, batch, text, path);
    struct patron_import_options o = {.mode = mode, .batch = batch};
    import_ok(t, path, &o, r);
}

/* add adds to a matched member's balance; set makes it the file's figure. */
static void add_and_set_modes(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    char card[14];
    test_store_open(&t);
    test_enroll(&t, "Fay", card);
    char row[128];
    snprintf(row, sizeof row, "card,points\n%s,100\n", card);
    run_batch(&t, row, PATRON_IMPORT_ADD, "one", &r);
    assert_int_equal(r.matched, 1);
    assert_int_equal(r.created, 0);
    assert_int_equal(r.updated, 1);
    snprintf(row, sizeof row, "card,points\n%s,30\n", card);
    run_batch(&t, row, PATRON_IMPORT_ADD, "two", &r);
    assert_int_equal(balance_of(t.s, card), 130);
    snprintf(row, sizeof row, "card,points\n%s,50\n", card);
    run_batch(&t, row, PATRON_IMPORT_SET, "three", &r);
    assert_int_equal(balance_of(t.s, card), 50);
    assert_int_equal(r.points_posted, -80);
    assert_int_equal(migration_balance(t.s, "three"), 80);
    run_batch(&t, row, PATRON_IMPORT_SET, "four", &r);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(r.updated, 0);
    assert_int_equal(balance_of(t.s, card), 50);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

/* The same batch again changes nothing; a dry run writes nothing and reports the same. */
static void rerun_and_dry_run_write_nothing(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report dry, real, again;
    char path[512];
    test_store_open(&t);
    write_file(&t, "m.csv", "email,points\ngus@example.org,10\nhal@example.org,20\n", path);
    struct patron_import_options o = {.dry_run = 1};
    import_ok(&t, path, &o, &dry);
    assert_int_equal(dry.dry_run, 1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries"), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM accounts WHERE name LIKE "
                                      "'migration:%'"),
                     0);
    o.dry_run = 0;
    import_ok(&t, path, &o, &real);
    assert_string_equal(dry.batch, real.batch); /* the batch comes from the file's hash */
    assert_int_equal(dry.created, real.created);
    assert_int_equal(dry.rows_read, real.rows_read);
    assert_int_equal(dry.file_points, real.file_points);
    assert_int_equal(dry.points_posted, real.points_posted);
    assert_int_equal(dry.migration_balance, real.migration_balance);
    assert_int_equal(real.migration_balance, -30);
    int64_t entries = test_scalar(t.s, "SELECT COUNT(*) FROM entries");
    import_ok(&t, path, &o, &again);
    assert_int_equal(again.already_imported, 1);
    assert_int_equal(again.created, 0);
    assert_int_equal(again.migration_balance, -30);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 2);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries"), entries);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

static const char bad_file[] = "card,phone,email,points\n"
                               "2900000000019,,ian@example.org,10\n" /* check digit */
                               ",,jo@example.org,ten\n"              /* not a number */
                               ",+4915112345678,kim@example.org,5\n"
                               ",,KIM@example.org,5\n"   /* duplicate e-mail */
                               ",12,lu@example.org,5\n"; /* phone */

/* Each bad row is reported with its row, column and a sentence; nothing is written. */
static void bad_rows_are_reported_and_nothing_is_written(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct errors errs = {0};
    char path[512];
    test_store_open(&t);
    write_file(&t, "bad.csv", bad_file, path);
    struct patron_import_options o = {.batch = "bad", .on_error = collect, .ctx = &errs};
    assert_int_equal(patron_import_members(t.s, path, &o, &r), PATRON_EINVAL);
    assert_int_equal(r.failed, 4);
    assert_int_equal(errs.n, 4);
    assert_int_equal(errs.e[0].row, 2);
    assert_string_equal(errs.e[0].column, "card");
    assert_non_null(strstr(errs.e[0].message, "check digit"));
    assert_int_equal(errs.e[1].row, 3);
    assert_string_equal(errs.e[1].column, "points");
    assert_int_equal(errs.e[2].row, 5);
    assert_string_equal(errs.e[2].column, "email");
    assert_non_null(strstr(errs.e[2].message, "earlier row"));
    assert_int_equal(errs.e[3].row, 6);
    assert_string_equal(errs.e[3].column, "phone");
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 0);
    assert_int_equal(migration_balance(t.s, "bad"), -1);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

/* --skip-errors imports the good rows and writes the bad ones beside the input. */
static void skip_errors_writes_the_bad_rows_beside_the_input(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    char path[512], rejected[600], text[2048];
    test_store_open(&t);
    write_file(&t, "bad.csv", bad_file, path);
    struct patron_import_options o = {.batch = "skip", .skip_errors = 1};
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.rows_read, 5);
    assert_int_equal(r.failed, 4);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.migration_balance, -5);
    snprintf(rejected, sizeof rejected, "%s.rejected.csv", path);
    assert_string_equal(r.rejects_path, rejected);
    FILE *f = fopen(rejected, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "card,phone,email,points,error\r\n"));
    assert_non_null(strstr(text, "2900000000019,,ian@example.org,10,\"row 2, card: "));
    assert_non_null(strstr(text, ",,jo@example.org,ten,\"row 3, points: "));
    assert_non_null(strstr(text, ",,KIM@example.org,5,\"row 5, email: "));
    assert_non_null(strstr(text, ",12,lu@example.org,5,\"row 6, phone: "));
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 1);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

static void map_names_a_column(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    char path[512];
    test_store_open(&t);
    write_file(&t, "m.csv", "Kundenkarte,Punkte\n2900000000018,7\n", path);
    struct patron_import_map maps[] = {{"kundenkarte", "card"}, {"Punkte", "points"}};
    struct patron_import_options o = {.batch = "de", .maps = maps, .map_count = 2};
    import_ok(&t, path, &o, &r);
    assert_int_equal(balance_of(t.s, "2900000000018"), 7);
    maps[1].field = "pointz";
    assert_int_equal(patron_import_members(t.s, path, &o, &r), PATRON_EINVAL);
    test_store_close(&t);
}

static void phones_are_normalised_to_e164(void **state)
{
    (void)state;
    char out[17];
    assert_int_equal(patron_import_phone_e164("+44 7911 123456", NULL, out), 0);
    assert_string_equal(out, "+447911123456");
    assert_int_equal(patron_import_phone_e164("0049 151 12345678", NULL, out), 0);
    assert_string_equal(out, "+4915112345678");
    assert_int_equal(patron_import_phone_e164("030 1234567", "49", out), 0);
    assert_string_equal(out, "+49301234567");
    assert_int_equal(patron_import_phone_e164("030 1234567", NULL, out), PATRON_EINVAL);
    assert_int_equal(patron_import_phone_e164("+1234", NULL, out), PATRON_EINVAL);
    assert_int_equal(patron_import_phone_e164("+1234567890123456", NULL, out), PATRON_EINVAL);
    assert_int_equal(patron_import_phone_e164("call me", "44", out), PATRON_EINVAL);
}

/* The command: --json gives the report (with the bad rows), exit 4 when nothing was imported. */
static void the_command_reports_as_json(void **state)
{
    (void)state;
    struct test_store t;
    static char out[65536];
    char path[512];
    test_store_open(&t);
    write_file(&t, "cli.csv", "email;points\nzoe@example.org;25\nnobody;x\n", path);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "import", "members",
                                     path, "--batch", "cli", (char *)NULL),
                     4);
    assert_non_null(strstr(out, "\"column\":\"email\""));
    assert_non_null(strstr(out, "\"row\":3"));
    assert_non_null(strstr(out, "\"failed\":1"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "import", "members",
                                     path, "--batch", "cli", "--skip-errors", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"created\":1"));
    assert_non_null(strstr(out, "\"file_points\":25"));
    assert_non_null(strstr(out, "\"points_posted\":25"));
    assert_non_null(strstr(out, "\"migration_balance\":-25"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "import", "members",
                                     path, "--batch", "cli", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"already_imported\":true"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "import", "members", path,
                                     "--format", "excel", (char *)NULL),
                     64);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", t.path, "ledger", "verify", (char *)NULL), 0);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generic_file_with_bom_semicolons_and_quoted_newline),
        cmocka_unit_test(each_preset_maps_its_columns),
        cmocka_unit_test(add_and_set_modes),
        cmocka_unit_test(rerun_and_dry_run_write_nothing),
        cmocka_unit_test(bad_rows_are_reported_and_nothing_is_written),
        cmocka_unit_test(skip_errors_writes_the_bad_rows_beside_the_input),
        cmocka_unit_test(map_names_a_column),
        cmocka_unit_test(phones_are_normalised_to_e164),
        cmocka_unit_test(the_command_reports_as_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
