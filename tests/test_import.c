/* SPDX-License-Identifier: MIT */
/* Moving in (patron_import_members): CSV files written by the test itself, in each source's
 * layout; members matched or created, opening balances against migration:BATCH with the
 * source's expiry kept, a batch imported exactly once, dry runs that write nothing, and bad rows
 * reported with their row, column and a sentence. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "migrate/import_internal.h"
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

/* A file of `rows` members by e-mail only ("<letter><i>@example.org"), row i with
 * base + i % cycle points, into t's folder; returns the file's total points. */
static int64_t write_members(const struct test_store *t, const char *name, char letter, int rows,
                             int base, int cycle, char *path)
{
    int64_t sum = 0;
    snprintf(path, 512, "%s/%s", t->dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("email,points\n", f);
    for (int i = 0; i < rows; i++) {
        fprintf(f, "%c%d@example.org,%d\n", letter, i, base + i % cycle);
        sum += base + i % cycle;
    }
    assert_int_equal(fclose(f), 0);
    return sum;
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

/* Every entry's outbox row says what its entry holds, as outbox.c's entry statement reads it
 * back from the row (the import writes the payload from the values it posted). */
static void entries_outbox_as_read_back(patron_store *s)
{
    assert_int_equal(
        test_scalar(s, "SELECT COUNT(*) FROM entries e LEFT JOIN outbox o ON o.tbl = 'entries'"
                       " AND o.row_key = e.id WHERE o.payload IS NOT json_object('id', e.id,"
                       " 'store_id', e.store_id, 'store_seq', e.store_seq, 'kind', e.kind,"
                       " 'debit', (SELECT COALESCE(name, 'member') FROM accounts"
                       " WHERE id = e.debit_account),"
                       " 'credit', (SELECT COALESCE(name, 'member') FROM accounts"
                       " WHERE id = e.credit_account),"
                       " 'points', e.points, 'member_id', e.member_id, 'created_at', e.created_at,"
                       " 'member_uid', (SELECT member_uid FROM members WHERE id = e.member_id),"
                       " 'original_entry', e.original_entry, 'sale_id', e.sale_id,"
                       " 'refund_id', e.refund_id, 'redemption_id', e.redemption_id,"
                       " 'note', e.note, 'approved_by', e.approved_by)"),
        0);
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
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'adjust'"), 3);
    entries_outbox_as_read_back(t.s);
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

/* A dry run under --mode set, on members with balances, a new one and one left as it is,
 * reports what the real run then does: the points posted and the migration account. */
static void a_dry_run_reports_what_set_mode_posts(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report dry, real;
    char card[14], path[512], text[256];
    test_store_open(&t);
    test_enroll(&t, "Ola", card);
    snprintf(text, sizeof text, "card,points\n%s,100\n", card);
    run_batch(&t, text, PATRON_IMPORT_ADD, "first", &real);
    run_batch(&t, "email,points\npia@example.org,7\n", PATRON_IMPORT_ADD, "second", &real);
    snprintf(text, sizeof text,
             "card,email,points\n%s,,40\n,pia@example.org,7\n,qin@example.org,25\n", card);
    write_file(&t, "set.csv", text, path);
    struct patron_import_options o = {.mode = PATRON_IMPORT_SET, .batch = "set", .dry_run = 1};
    import_ok(&t, path, &o, &dry);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE note = 'import set'"), 0);
    o.dry_run = 0;
    import_ok(&t, path, &o, &real);
    assert_int_equal(real.points_posted, -60 + 25);
    assert_int_equal(real.migration_balance, 35);
    assert_int_equal(real.updated, 1);
    assert_int_equal(real.skipped, 1);
    assert_int_equal(real.created, 1);
    assert_int_equal(dry.points_posted, real.points_posted);
    assert_int_equal(dry.migration_balance, real.migration_balance);
    assert_int_equal(dry.updated, real.updated);
    assert_int_equal(dry.skipped, real.skipped);
    assert_int_equal(dry.created, real.created);
    assert_int_equal(balance_of(t.s, card), 40);
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

/* Another program's number that is not a valid in-store number becomes an alias: the member
 * gets a Patron card, and the old number still scans, shows the member and matches the next
 * batch's row; a number nobody imported is still refused. */
static void old_card_numbers_become_aliases_that_scan(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct patron_scan_result sr;
    struct patron_member m;
    static char out[65536];
    char path[512];
    test_store_open(&t);
    run_batch(&t, "card,email,points\nODOO-0007,gus@example.org,40\n", PATRON_IMPORT_ADD, "al", &r);
    assert_int_equal(r.created, 1);
    assert_int_equal(r.aliases, 1);
    assert_int_equal(patron_scan(t.s, "ODOO-0007", &sr), 0);
    assert_int_equal(sr.member.points, 40);
    assert_int_equal(strlen(sr.member.card), PATRON_CARD_DIGITS);
    assert_int_equal(patron_member_by_card(t.s, sr.member.card, &m), 0);
    assert_int_equal(m.member_id, sr.member.member_id);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM card_aliases WHERE old_number ="
                                      " 'ODOO-0007' AND batch = 'al'"),
                     1);
    run_batch(&t, "card,points\nODOO-0007,5\n", PATRON_IMPORT_ADD, "al2", &r);
    assert_int_equal(r.matched, 1);
    assert_int_equal(r.created, 0);
    assert_int_equal(r.aliases, 0);
    assert_int_equal(balance_of(t.s, "ODOO-0007"), 45);
    assert_int_not_equal(patron_member_by_card(t.s, "ODOO-0008", &m), 0);
    write_file(&t, "long.csv", "card,points\nX123456789012345678901234567890123,1\n", path);
    struct patron_import_options o = {.batch = "long"};
    assert_int_equal(patron_import_members(t.s, path, &o, &r), PATRON_EINVAL);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "member", "show",
                                     "ODOO-0007", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"old_cards\":[\"ODOO-0007\"]"));
    assert_non_null(strstr(out, sr.member.card));
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", t.path, "scan", "ODOO-0007", (char *)NULL), 0);
    test_assert_ledger_verifies(t.s);
    /* an erasure drops the old numbers: they no longer find anyone */
    assert_int_equal(patron_member_erase(t.s, "ODOO-0007", "test"), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM card_aliases"), 0);
    assert_int_not_equal(patron_member_by_card(t.s, "ODOO-0007", &m), 0);
    test_store_close(&t);
}

/* Tier, joined date, lifetime points, the member's reference and the consent with its date and
 * the source import:BATCH are kept for a new member and shown by `member show --json`; a matched
 * member whose answer differs gets a consent change with the file's date. */
static void stored_fields_are_kept(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct patron_member m;
    struct patron_import_facts f;
    static char out[65536];
    char path[512];
    test_store_open(&t);
    assert_int_equal(patron_tier_set(t.s, "Gold", 500, 1500, "test"), 0);
    write_file(&t, "kept.csv",
               "ref,card,email,tier,joined,lifetime_points,consent,consent_date,points\n"
               "c-9,2900000000018,hal@example.org,gold,2019-05-04,12000,yes,2020-02-03,300\n",
               path);
    struct patron_import_options o = {.batch = "kept"};
    import_ok(&t, path, &o, &r);
    assert_int_equal(patron_member_by_card(t.s, "2900000000018", &m), 0);
    assert_string_equal(m.tier, "Gold");
    assert_int_equal(m.tier_until, TEST_EPOCH + 365 * 86400);
    assert_int_equal(m.created_at, 1556928000); /* 2019-05-04 */
    assert_int_equal(m.consent_marketing, 1);
    assert_int_equal(m.consent_at, 1580688000); /* 2020-02-03 */
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes WHERE marketing = 1"
                                      " AND source = 'import:kept' AND changed_at = 1580688000"),
                     1);
    assert_int_equal(patron_import_member_facts(t.s, m.member_id, &f), 0);
    assert_string_equal(f.batch, "kept");
    assert_string_equal(f.ref, "c-9");
    assert_int_equal(f.has_lifetime_points, 1);
    assert_int_equal(f.lifetime_points, 12000);
    assert_string_equal(f.tier, "Gold");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "member", "show",
                                     "2900000000018", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"lifetime_points\":12000"));
    assert_non_null(strstr(out, "\"ref\":\"c-9\""));
    assert_non_null(strstr(out, "\"member_since\":\"2019-05-04T00:00:00Z\""));
    assert_non_null(strstr(out, "\"tier\":\"Gold\""));
    /* the member withdrew in the old program later: a change dated by the file */
    write_file(&t, "kept2.csv", "card,consent,consent_date\n2900000000018,no,2021-01-01\n", path);
    o.batch = "kept2";
    import_ok(&t, path, &o, &r);
    assert_int_equal(patron_member_by_card(t.s, "2900000000018", &m), 0);
    assert_int_equal(m.consent_marketing, 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes WHERE marketing = 0"
                                      " AND source = 'import:kept2' AND changed_at = 1609459200"),
                     1);
    struct errors errs = {0};
    write_file(&t, "bad.csv", "card,tier\n2900000000025,Platinum\n", path);
    o = (struct patron_import_options){.batch = "bad", .on_error = collect, .ctx = &errs};
    assert_int_equal(patron_import_members(t.s, path, &o, &r), PATRON_EINVAL);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.e[0].column, "tier");
    test_store_close(&t);
}

/* Runs `sh -c SCRIPT` with PATRON_BIN and the files in the environment; stdout to out. */
static int run_shell(char *out, size_t cap, const char *script)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    return test_run(out, cap, argv);
}

/* Progress: with --json, progress lines (one object a line, the last one done) and then the
 * report; on a terminal a bar on stderr with rows, rows per second and time left; nothing of
 * the kind when stderr is not a terminal and there is no --json. */
static void progress_on_a_terminal_and_as_json_lines(void **state)
{
    (void)state;
    struct test_store t;
    static char out[65536];
    char path[512], cmd[2048];
    test_store_open(&t);
    write_file(&t, "p.csv", "email,points\npia@example.org,5\nray@example.org,6\n", path);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "import", "members",
                                     path, "--batch", "p1", "--dry-run", (char *)NULL),
                     0);
    assert_memory_equal(out, "{\"progress\":{", 13);
    char *report = strstr(out, "\n{\"account\"");
    assert_non_null(report);
    assert_non_null(strstr(out, "\"done\":true,\"rows\":2,"));
    assert_non_null(strstr(out, "\"aliases\":0"));
    assert_true(strstr(out, "\"done\":true") < report);
    assert_null(strstr(report, "progress"));
    snprintf(cmd, sizeof cmd, "\"$PATRON_BIN\" --db %s import members %s --batch p2 --dry-run 2>&1",
             t.path, path);
    assert_int_equal(run_shell(out, sizeof out, cmd), 0);
    assert_null(strstr(out, "rows/s"));
    assert_null(strstr(out, "progress"));
    snprintf(cmd, sizeof cmd,
             "script -qec '\"$PATRON_BIN\" --db %s import members %s --batch p3 --dry-run'"
             " /dev/null",
             t.path, path);
    assert_int_equal(run_shell(out, sizeof out, cmd), 0);
    assert_non_null(strstr(out, "[##############################] 2 rows, "));
    assert_non_null(strstr(out, " rows/s, 0:00 left"));
    test_store_close(&t);
}

/* Two rows that reach the same member, even by different keys (the first by its card, the
 * second by the e-mail the store holds for it), are one member twice: the second is refused. */
static void a_member_reached_twice_in_a_file_is_refused(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct patron_member m;
    struct errors errs = {0};
    char path[512], text[200];
    test_store_open(&t);
    struct patron_enrollment e = {.name = "Gus", .email = "gus@example.org"};
    assert_int_equal(patron_member_enroll(t.s, &e, &m), 0);
    snprintf(text, sizeof text, "card,email,points\n%s,,10\n,GUS@example.org,10\n", m.card);
    write_file(&t, "twice.csv", text, path);
    struct patron_import_options o = {.batch = "twice", .on_error = collect, .ctx = &errs};
    assert_int_equal(patron_import_members(t.s, path, &o, &r), PATRON_EINVAL);
    assert_int_equal(errs.n, 1);
    assert_int_equal(errs.e[0].row, 3);
    assert_string_equal(errs.e[0].column, "email");
    assert_non_null(strstr(errs.e[0].message, "earlier row"));
    assert_int_equal(balance_of(t.s, m.card), 0);
    o.skip_errors = 1;
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.matched, 1);
    assert_int_equal(balance_of(t.s, m.card), 10);
    test_assert_ledger_verifies(t.s);
    test_store_close(&t);
}

static int stop_now(void *ctx)
{
    return ++*(int *)ctx >= 2; /* at the second time it is asked: row 2,000 */
}

/* An import asked to stop (a service stopping) stops within PATRON_IMPORT_PROGRESS_ROWS rows,
 * writes nothing and says so. */
static void an_import_asked_to_stop_writes_nothing(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    char path[512];
    int asked = 0;
    test_store_open(&t);
    write_members(&t, "many.csv", 's', 2500, 3, 1, path);
    struct patron_import_options o = {.batch = "stop", .should_stop = stop_now, .ctx = &asked};
    assert_int_equal(patron_import_members(t.s, path, &o, &r), -ECANCELED);
    assert_int_equal(asked, 2);
    assert_int_equal(r.rows_read, 2 * PATRON_IMPORT_PROGRESS_ROWS);
    assert_non_null(strstr(patron_store_detail(t.s), "nothing was imported"));
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 0);
    assert_int_equal(migration_balance(t.s, "stop"), -1);
    test_store_close(&t);
}

static void die_in_the_write(void *ctx, const struct patron_import_progress *p)
{
    /* the check reports rows 1,000 and 2,000; the write's first report comes at its row 1,000,
     * after its chunks up to row 994 committed: the process dies there, as in a crash */
    if (!p->done && ++*(int *)ctx == 3)
        _exit(0);
}

/* A clock that moves 15 ms each time the import reads it (once a row, once as the chunk
 * begins): a chunk of about 100 ms of work is then exactly 7 rows, whatever the machine. */
static int64_t fifteen_ms_a_row(void)
{
    static int64_t ms;
    return ms += 15;
}

/* An import commits in chunks sized by time and records how far it got with each: killed
 * between chunks, it leaves whole chunks in; the same batch run again continues after them,
 * posts every row once, and reports the whole batch; run once more, it changes nothing. */
static void a_crashed_import_continues_where_it_stopped(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    struct patron_verify_result v;
    char path[512];
    int status = 0;
    test_store_open(&t);
    int64_t sum = write_members(&t, "crash.csv", 'c', 2500, 1, 5, path);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        patron_store *s = NULL;
        int calls = 0;
        struct patron_import_options o = {
            .batch = "crash", .on_progress = die_in_the_write, .ctx = &calls};
        if (patron_store_open(t.path, &s) != 0)
            _exit(2);
        patron_store_set_fixed_time(s, t.now);
        patron__import_clock_ms = fifteen_ms_a_row;
        _exit(patron_import_members(s, path, &o, &r) == 0 ? 3 : 4);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 994); /* 142 x 7 */
    assert_int_equal(test_scalar(t.s, "SELECT done_row FROM import_batches WHERE batch = 'crash'"),
                     995);
    assert_int_equal(test_scalar(t.s, "SELECT finished FROM import_batches WHERE batch = 'crash'"),
                     0);
    struct patron_import_options o = {.batch = "crash", .dry_run = 1};
    import_ok(&t, path, &o, &r); /* a dry run of the rest reports the whole batch too */
    assert_int_equal(r.rows_read, 2500);
    assert_int_equal(r.points_posted, sum);
    assert_int_equal(r.migration_balance, -sum);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 994);
    o.dry_run = 0;
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.already_imported, 0);
    assert_int_equal(r.rows_read, 2500);
    assert_int_equal(r.created, 2500);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.file_points, sum);
    assert_int_equal(r.points_posted, sum);
    assert_int_equal(r.migration_balance, -sum);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members"), 2500);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(DISTINCT lower(email)) FROM members"), 2500);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'adjust'"), 2500);
    assert_int_equal(
        test_scalar(t.s, "SELECT SUM(balance) FROM accounts WHERE member_id IS NOT NULL"), sum);
    assert_int_equal(migration_balance(t.s, "crash"), -sum);
    assert_int_equal(patron_ledger_verify(t.s, &v), 0);
    assert_true(v.ok);
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.already_imported, 1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM entries WHERE kind = 'adjust'"), 2500);
    assert_int_equal(migration_balance(t.s, "crash"), -sum);
    test_store_close(&t);
}

struct sync_seen {
    patron_store *s;
    int64_t level[8];
    int n;
};

static void note_sync(void *ctx, const struct patron_import_progress *p)
{
    struct sync_seen *seen = ctx;
    if (!p->done && seen->n < 8)
        seen->level[seen->n++] = test_scalar(seen->s, "PRAGMA main.synchronous");
}

/* Every chunk commits durably: the import's handle stays at its own synchronous=FULL (2) while
 * it writes the chunks (their outbox rows may be shipped as soon as they commit); the finished
 * batch is in the register. */
static void chunks_commit_durably(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_import_report r;
    char path[512];
    test_store_open(&t);
    struct sync_seen seen = {.s = t.s};
    write_members(&t, "sync.csv", 'y', 2500, 2, 1, path);
    assert_int_equal(test_scalar(t.s, "PRAGMA main.synchronous"), 2);
    struct patron_import_options o = {.batch = "sync", .on_progress = note_sync, .ctx = &seen};
    import_ok(&t, path, &o, &r);
    assert_int_equal(r.created, 2500);
    /* the check on the copy reports rows 1,000 and 2,000, then the write the same rows */
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.level[2], 2);
    assert_int_equal(seen.level[3], 2);
    assert_int_equal(test_scalar(t.s, "PRAGMA main.synchronous"), 2);
    assert_int_equal(test_scalar(t.s, "SELECT finished FROM import_batches WHERE batch = 'sync'"),
                     1);
    assert_int_equal(migration_balance(t.s, "sync"), -5000);
    /* each member's uid is written with the row, as the trigger members_uid would write it */
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members WHERE member_uid IS NOT"
                                      " (SELECT value FROM settings WHERE key = 'store_id')"
                                      " || '-' || id"),
                     0);
    assert_int_equal(test_scalar(t.s, "SELECT MAX(id) - MIN(id) + 1 FROM members"), 2500);
    test_store_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generic_file_with_bom_semicolons_and_quoted_newline),
        cmocka_unit_test(each_preset_maps_its_columns),
        cmocka_unit_test(add_and_set_modes),
        cmocka_unit_test(rerun_and_dry_run_write_nothing),
        cmocka_unit_test(a_dry_run_reports_what_set_mode_posts),
        cmocka_unit_test(bad_rows_are_reported_and_nothing_is_written),
        cmocka_unit_test(skip_errors_writes_the_bad_rows_beside_the_input),
        cmocka_unit_test(map_names_a_column),
        cmocka_unit_test(phones_are_normalised_to_e164),
        cmocka_unit_test(the_command_reports_as_json),
        cmocka_unit_test(old_card_numbers_become_aliases_that_scan),
        cmocka_unit_test(stored_fields_are_kept),
        cmocka_unit_test(progress_on_a_terminal_and_as_json_lines),
        cmocka_unit_test(a_member_reached_twice_in_a_file_is_refused),
        cmocka_unit_test(an_import_asked_to_stop_writes_nothing),
        cmocka_unit_test(a_crashed_import_continues_where_it_stopped),
        cmocka_unit_test(chunks_commit_durably),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
