/* SPDX-License-Identifier: MIT */
/* Consent and privacy: consent answers are kept with date and source; the export holds
 * everything about the member (and nothing about anyone else, and tables added later too), the
 * same copy when written to a file;
 * erasure leaves the ledger verified and the balances intact, and no byte of the erased name,
 * email, phone or birthday in the database file or its WAL; segments hold consenting members
 * only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "testutil.h"

static const char *birthday = "1985-07-21";

static void enroll_full(struct test_store *t, const char *name, const char *email,
                        const char *phone, int consent, char *card)
{
    struct patron_enrollment in = {.name = name,
                                   .email = email,
                                   .phone = phone,
                                   .birthday = birthday,
                                   .consent_marketing = consent};
    struct patron_member m;
    assert_int_equal(patron_member_enroll(t->s, &in, &m), 0);
    memcpy(card, m.card, PATRON_CARD_DIGITS + 1);
}

static void sell(struct test_store *t, const char *card, const char *ref, int64_t total)
{
    struct patron_sale_result r;
    struct patron_sale in = {
        .card = card, .ref = ref, .total_minor = total, .idempotency_key = ref};
    assert_int_equal(patron_sale_record(t->s, &in, &r), 0);
}

static void consent_changes_are_kept_with_date_and_source(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    char card[14];
    test_store_open(&t);
    enroll_full(&t, "Ada Byron", "ada@example.org", NULL, 1, card);
    t.now += TEST_DAY;
    assert_int_equal(patron_member_consent(t.s, card, 0, "email", "clerk"), 0);
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_int_equal(m.consent_marketing, 0);
    t.now += TEST_DAY;
    assert_int_equal(patron_member_consent(t.s, card, 1, "web", "website"), 0);
    assert_int_equal(patron_member_by_card(t.s, card, &m), 0);
    assert_int_equal(m.consent_marketing, 1);
    assert_int_equal(m.consent_at, TEST_EPOCH + 2 * TEST_DAY);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes"), 3);
    assert_int_equal(test_scalar(t.s, "SELECT changed_at FROM consent_changes WHERE marketing = 0"
                                      " AND source = 'email' AND changed_by = 'clerk'"),
                     TEST_EPOCH + TEST_DAY);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes WHERE marketing = 1"
                                      " AND changed_by = 'enrolment' AND changed_at = 1768471200"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT consent_source = 'web' FROM members"), 1);
    assert_int_equal(patron_member_consent(t.s, card, 2, "web", "x"), PATRON_EINVAL);
    assert_int_equal(patron_member_consent(t.s, card, 1, "web", NULL), PATRON_EINVAL);
    assert_int_equal(patron_member_consent(t.s, "2900000000018", 1, NULL, "x"), PATRON_ENOCARD);
    assert_int_equal(patron_member_erase(t.s, card, "admin"), 0);
    assert_int_equal(patron_member_consent(t.s, card, 1, NULL, "x"), PATRON_EBLOCKED);
    test_store_close(&t);
}

static size_t array_size(json_t *root, const char *key)
{
    json_t *a = json_object_get(root, key);
    assert_true(json_is_array(a));
    return json_array_size(a);
}

/* A member with a sale of two lines, a partial refund, a redemption, an adjustment and a
 * consent change, beside another member whose data must not leak in. */
static void export_holds_everything_about_the_member(void **state)
{
    (void)state;
    struct test_store t;
    char card[14], other[14], *text = NULL;
    int64_t reward;
    test_store_open(&t);
    enroll_full(&t, "Grace Hopper", "grace@example.org", "+1 555 0100 123", 1, card);
    enroll_full(&t, "Somebody Else", "else@example.org", NULL, 0, other);
    struct patron_sale_line lines[] = {{"BOOK", "books", 2, 1500}, {"PEN", "general", 1, 500}};
    struct patron_sale sale = {.card = card,
                               .ref = "R-100",
                               .total_minor = 3500,
                               .lines = lines,
                               .n_lines = 2,
                               .idempotency_key = "k1"};
    struct patron_sale_result sr;
    assert_int_equal(patron_sale_record(t.s, &sale, &sr), 0);
    sell(&t, other, "R-OTHER", 9900);
    struct patron_refund_line rl = {"PEN", 1};
    struct patron_refund rf = {.ref = "R-100", .lines = &rl, .n_lines = 1, .idempotency_key = "k2"};
    struct patron_refund_result rr;
    assert_int_equal(patron_refund_record(t.s, &rf, &rr), 0);
    struct patron_reward_def def = {.name = "Bookmark", .cost = 10, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(t.s, &def, &reward), 0);
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = "k3"};
    struct patron_redeem_result rd;
    assert_int_equal(patron_reward_redeem(t.s, &rq, &rd), 0);
    struct patron_adjustment adj = {
        .card = card, .points = 5, .reason = "goodwill", .manager = "Mo", .idempotency_key = "k4"};
    struct patron_adjust_result ar;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &ar), 0);
    assert_int_equal(patron_member_consent(t.s, card, 0, "web", "website"), 0);
    /* A table a later migration might add: found at run time by its member_id column. */
    assert_int_equal(
        sqlite3_exec(patron_store_sqlite(t.s),
                     "CREATE TABLE future_notes(id INTEGER PRIMARY KEY, member_id INTEGER,"
                     " comment TEXT); INSERT INTO future_notes(member_id, comment)"
                     " VALUES (1, 'lovely shop'), (2, 'not mine');"
                     " CREATE TABLE \"odd \"\"name\"\"\"(member_id INTEGER);"
                     " INSERT INTO \"odd \"\"name\"\"\" VALUES (1)",
                     NULL, NULL, NULL),
        SQLITE_OK);

    assert_int_equal(patron_member_export(t.s, card, &text), 0);
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    assert_non_null(root);
    json_t *member = json_object_get(root, "member");
    assert_string_equal(json_string_value(json_object_get(member, "name")), "Grace Hopper");
    assert_string_equal(json_string_value(json_object_get(member, "email")), "grace@example.org");
    assert_string_equal(json_string_value(json_object_get(member, "birthday")), "1985-07-21");
    assert_int_equal(array_size(root, "cards"), 1);
    assert_int_equal(array_size(root, "accounts"), 1);
    assert_int_equal(array_size(root, "sales"), 1);
    assert_int_equal(array_size(root, "sale_lines"), 2);
    assert_int_equal(array_size(root, "refunds"), 1);
    assert_int_equal(array_size(root, "refund_lines"), 1);
    assert_int_equal(array_size(root, "redemptions"), 1);
    assert_int_equal(array_size(root, "entries"), 4); /* earn, reverse, redeem, adjust */
    assert_int_equal(array_size(root, "lots"), 2);    /* the earn and the adjustment */
    assert_int_equal(array_size(root, "consent_changes"), 2);
    assert_int_equal(array_size(root, "future_notes"), 1);
    json_t *acct = json_array_get(json_object_get(root, "accounts"), 0);
    assert_int_equal(json_integer_value(json_object_get(acct, "balance")),
                     sr.points_earned - rr.points_reversed - 10 + 5);
    assert_null(strstr(text, "R-OTHER"));
    assert_null(strstr(text, "Somebody Else"));
    assert_null(strstr(text, "not mine"));
    assert_non_null(strstr(text, "lovely shop"));
    assert_int_equal(array_size(root, "odd \"name\""), 1);
    /* Written a row at a time, the text is still the compact JSON of one object, byte for byte
     * what the JSON library writes for the document it parses to. */
    char *again = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(again, text);
    free(again);
    json_decref(root);
    free(text);
    test_store_close(&t);
}

/* The export to a file is the same copy, read back from disk from its start; with no place for
 * the file (TMPDIR names no directory) it fails, saying where, and hands back nothing. */
static void export_file_is_the_same_copy_on_disk(void **state)
{
    (void)state;
    struct test_store t;
    char card[14], *text = NULL;
    test_store_open(&t);
    enroll_full(&t, "Ada Lovelace", "ada@example.org", NULL, 1, card);
    for (int i = 0; i < 40; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "F-%d", i);
        sell(&t, card, ref, 1000 + i);
    }
    assert_int_equal(patron_member_export(t.s, card, &text), 0);
    FILE *f = NULL;
    assert_int_equal(patron_member_export_file(t.s, card, &f), 0);
    assert_non_null(f);
    size_t len = strlen(text);
    char *back = malloc(len + 2);
    assert_non_null(back);
    assert_int_equal(fread(back, 1, len + 1, f), len); /* all of it, and no byte more */
    back[len] = '\0';
    assert_string_equal(back, text);
    fclose(f);
    free(back);
    free(text);
    char *saved = test_tmpdir_unusable();
    f = NULL;
    int err = patron_member_export_file(t.s, card, &f);
    test_tmpdir_restore(saved);
    assert_int_equal(err, -ENOENT);
    assert_null(f);
    assert_non_null(strstr(patron_store_detail(t.s), "/nonexistent/patron"));
    test_store_close(&t);
}

/* The export names its format and gives every time as ISO 8601 UTC (null when unset) and day
 * numbers as dates, as every other reply does, never as Unix numbers. */
static void export_times_are_iso8601(void **state)
{
    (void)state;
    struct test_store t;
    char card[14], *text = NULL;
    test_store_open(&t);
    enroll_full(&t, "Grace Hopper", "grace@example.org", NULL, 1, card);
    sell(&t, card, "R-1", 2500);
    struct patron_feedback fb = {.card = card, .score = 5};
    int64_t fid;
    assert_int_equal(patron_feedback_record(t.s, &fb, &fid), 0);
    t.now += TEST_DAY;
    /* A later table whose day no calendar holds: the number is kept, nothing overflows. */
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s),
                                  "CREATE TABLE future_visits(member_id INTEGER, day INTEGER);"
                                  " INSERT INTO future_visits VALUES (1, 9000000000000000000)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(patron_member_export(t.s, card, &text), 0);
    json_t *root = json_loads(text, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "format")),
                        "patron-member-export/2");
    assert_string_equal(json_string_value(json_object_get(root, "exported_at")),
                        "2026-01-16T10:00:00Z");
    json_t *member = json_object_get(root, "member");
    assert_string_equal(json_string_value(json_object_get(member, "created_at")),
                        "2026-01-15T10:00:00Z");
    assert_true(json_is_null(json_object_get(member, "erased_at")));
    json_t *sale = json_array_get(json_object_get(root, "sales"), 0);
    assert_string_equal(json_string_value(json_object_get(sale, "created_at")),
                        "2026-01-15T10:00:00Z");
    json_t *lot = json_array_get(json_object_get(root, "lots"), 0);
    assert_string_equal(json_string_value(json_object_get(lot, "earned_at")),
                        "2026-01-15T10:00:00Z");
    json_t *card_row = json_array_get(json_object_get(root, "cards"), 0);
    assert_string_equal(json_string_value(json_object_get(card_row, "issued_at")),
                        "2026-01-15T10:00:00Z");
    json_t *feedback = json_array_get(json_object_get(root, "feedback"), 0);
    assert_string_equal(json_string_value(json_object_get(feedback, "day")), "2026-01-15");
    json_t *visit = json_array_get(json_object_get(root, "future_visits"), 0);
    assert_int_equal(json_integer_value(json_object_get(visit, "day")), 9000000000000000000);
    /* Counts and ids stay integers. */
    assert_true(json_is_integer(json_object_get(sale, "total_minor")));
    assert_true(json_is_integer(json_object_get(member, "id")));
    json_decref(root);
    free(text);
    assert_int_equal(patron_member_export(t.s, "2900000000018", &text), PATRON_ENOCARD);
    test_store_close(&t);
}

static int file_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0; /* no WAL file: nothing in it */
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    int found = memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
    free(buf);
    return found;
}

static int store_holds(const struct test_store *t, const char *needle)
{
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", t->path);
    return file_holds(t->path, needle) || file_holds(wal, needle);
}

static const char *const personal[] = {"Zebediah Quenby-Marchbanks", "zq.marchbanks@example.org",
                                       "+447700900123", "1961-02-28"};

static void erase_keeps_the_ledger_and_leaves_no_copy(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_verify_result v;
    struct patron_member before, after;
    char card[14], keep[14];
    test_store_open(&t);
    birthday = personal[3];
    enroll_full(&t, personal[0], personal[1], "+44 7700 900123", 1, card);
    birthday = "1985-07-21";
    enroll_full(&t, "Kept Member", "kept@example.org", NULL, 1, keep);
    sell(&t, card, "E-1", 4200);
    sell(&t, keep, "E-2", 1000);
    /* Copies in the file itself (checkpointed) and in the WAL (changes since). */
    assert_int_equal(
        sqlite3_exec(patron_store_sqlite(t.s), "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL),
        SQLITE_OK);
    t.now += TEST_DAY;
    assert_int_equal(patron_member_consent(t.s, card, 1, "web", "website"), 0);
    sell(&t, card, "E-3", 1800);
    /* Copies outside the members row: the name on a coupon's print job, the member's own words
     * in feedback and in a complaint. */
    int64_t reward;
    struct patron_reward_def def = {.name = "Tea", .cost = 10, .kind = PATRON_VALUE_ITEM};
    assert_int_equal(patron_reward_add(t.s, &def, &reward), 0);
    struct patron_redeem_request rq = {.card = card, .reward_id = reward, .idempotency_key = "E-r"};
    struct patron_redeem_result rd;
    assert_int_equal(patron_reward_redeem(t.s, &rq, &rd), 0);
    int64_t feedback_id;
    struct patron_feedback fb = {.card = card,
                                 .score = 2,
                                 .sale_ref = "E-3",
                                 .comment = "zq.marchbanks@example.org: tea was cold"};
    assert_int_equal(patron_feedback_record(t.s, &fb, &feedback_id), 0);
    struct patron_goodwill_request gw = {.card = card,
                                         .reward_id = reward,
                                         .manager = "Mo",
                                         .complaint = "Call +447700900123 about the cold tea",
                                         .idempotency_key = "E-g"};
    struct patron_goodwill_result gr;
    assert_int_equal(patron_goodwill_issue(t.s, &gw, &gr), 0);
    /* A reply the counter service keeps for replays (planted: the API is not linked here). */
    char reply[512];
    snprintf(reply, sizeof reply,
             "INSERT INTO api_replies(key, request_hash, status, body, created_at) VALUES"
             " ('till-1/42', x'00', 200, '{\"card\":\"%s\",\"name\":\"%s\"}', 0),"
             " ('till-1/43', x'00', 200, '{\"name\":\"Kept Member\"}', 0)",
             card, personal[0]);
    assert_int_equal(sqlite3_exec(patron_store_sqlite(t.s), reply, NULL, NULL, NULL), SQLITE_OK);
    assert_true(test_scalar(t.s, "SELECT COUNT(*) FROM print_jobs WHERE vars LIKE"
                                 " '%Zebediah Quenby-Marchbanks%'") >= 1);
    for (size_t i = 0; i < 4; i++)
        assert_true(store_holds(&t, personal[i])); /* the check can see what it looks for */
    assert_int_equal(patron_member_by_card(t.s, card, &before), 0);

    assert_int_equal(patron_member_erase(t.s, card, "admin-terminal"), 0);

    for (size_t i = 0; i < 4; i++)
        assert_false(store_holds(&t, personal[i]));
    assert_true(store_holds(&t, "Kept Member"));
    assert_int_equal(patron_ledger_verify(t.s, &v), 0);
    assert_true(v.ok);
    assert_int_equal(v.program_sum, 0);
    assert_int_equal(patron_member_by_card(t.s, card, &after), 0);
    assert_int_equal(after.points, before.points);
    assert_string_equal(after.name, "erased");
    assert_string_equal(after.email, "");
    assert_int_equal(after.consent_marketing, 0);
    assert_true(after.card_blocked);
    struct patron_sale_result r;
    struct patron_sale in = {
        .card = card, .ref = "E-4", .total_minor = 100, .idempotency_key = "E-4"};
    assert_int_equal(patron_sale_record(t.s, &in, &r), PATRON_EBLOCKED);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM erasures WHERE member_id = 1 AND"
                                      " erased_by = 'admin-terminal' AND cards_blocked = 1"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM sales WHERE member_id = 1"), 2);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes WHERE member_id = 1"
                                      " AND marketing = 0 AND source = 'erasure'"),
                     1);
    /* No date or source of the member's consent survives: only the erasure's withdrawal. */
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM members WHERE id = 1 AND"
                                      " consent_at IS NULL AND consent_source IS NULL"),
                     1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM consent_changes WHERE member_id = 1"),
                     1);
    /* Again: harmless. Refused without who, inside a batch, and for an unknown card. */
    assert_int_equal(patron_member_erase(t.s, card, "admin-terminal"), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM erasures"), 1);
    assert_int_equal(patron_member_erase(t.s, keep, NULL), PATRON_EINVAL);
    assert_int_equal(patron_store_batch_begin(t.s), 0);
    assert_int_equal(patron_member_erase(t.s, keep, "admin"), PATRON_EINVAL);
    patron_store_batch_rollback(t.s);
    assert_int_equal(patron_member_erase(t.s, "2900000000018", "admin"), PATRON_ENOCARD);
    test_store_close(&t);
}

static int csv_lines(const char *csv)
{
    int n = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")) != NULL; p += 2)
        n++;
    return n;
}

static void segment_holds_only_consenting_members(void **state)
{
    (void)state;
    struct test_store t;
    char yes_recent[14], yes_lapsed[14], yes_never[14], no_lapsed[14], yes_erased[14], tmp[14];
    char *csv = NULL;
    size_t len = 0;
    int64_t count = -1;
    test_store_open(&t);
    enroll_full(&t, "Lapsed, \"Lou\"", "lou@example.org", NULL, 1, yes_lapsed);
    enroll_full(&t, "Never Bought", "nb@example.org", NULL, 1, yes_never);
    enroll_full(&t, "No Consent", "nc@example.org", NULL, 0, no_lapsed);
    enroll_full(&t, "Gone Away", "gone@example.org", NULL, 1, yes_erased);
    enroll_full(&t, "Withdrew", "w@example.org", NULL, 1, tmp);
    assert_int_equal(patron_member_consent(t.s, tmp, 0, "email", "clerk"), 0);
    sell(&t, yes_lapsed, "G-1", 1000);
    sell(&t, no_lapsed, "G-2", 1000);
    t.now += 100 * TEST_DAY;
    enroll_full(&t, "Recent Buyer", "rb@example.org", NULL, 1, yes_recent);
    t.now += 80 * TEST_DAY;
    sell(&t, yes_recent, "G-3", 1000);
    assert_int_equal(patron_member_erase(t.s, yes_erased, "admin"), 0);
    t.now += 10 * TEST_DAY; /* day 190: lapsed >= 90 days are Lou (190) and Never (190) */

    struct patron_segment_query all = {0}, lapsed = {.lapsed_days = 90};
    FILE *f = open_memstream(&csv, &len);
    assert_int_equal(patron_segment_export(t.s, &all, f, &count), 0);
    fclose(f);
    assert_int_equal(count, 3);
    assert_int_equal(csv_lines(csv), 4);
    assert_memory_equal(csv,
                        "member_id,card,name,email,phone,tier,consent_at,consent_source,"
                        "last_sale\r\n",
                        71);
    assert_non_null(strstr(csv, ",\"Lapsed, \"\"Lou\"\"\",lou@example.org,,Member,"));
    assert_non_null(strstr(csv, "Never Bought"));
    assert_non_null(strstr(csv, "Recent Buyer"));
    assert_null(strstr(csv, "No Consent"));
    assert_null(strstr(csv, "Withdrew"));
    assert_null(strstr(csv, "Gone Away"));
    free(csv);

    f = open_memstream(&csv, &len);
    assert_int_equal(patron_segment_export(t.s, &lapsed, f, &count), 0);
    fclose(f);
    assert_int_equal(count, 2);
    assert_non_null(strstr(csv, "Lou"));
    assert_non_null(strstr(csv, "Never Bought"));
    assert_null(strstr(csv, "Recent Buyer"));
    free(csv);

    struct patron_segment_query gold = {.tier = "Gold"}, member = {.tier = "Member"};
    f = open_memstream(&csv, &len);
    assert_int_equal(patron_segment_export(t.s, &gold, f, &count), PATRON_ENOTFOUND);
    assert_int_equal(patron_segment_export(t.s, &member, f, &count), 0);
    fclose(f);
    assert_int_equal(count, 3);
    free(csv);
    test_store_close(&t);
}

static void cli_consent_export_erase_and_segment(void **state)
{
    (void)state;
    struct test_store t;
    char card[14], out[16384];
    test_store_open(&t);
    enroll_full(&t, "Cli Person", "cli@example.org", NULL, 0, card);
    sell(&t, card, "C-1", 2500);
    patron_store_close(t.s);
    t.s = NULL;
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "member", "consent",
                                     card, "--marketing", "yes", "--source", "web", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"consent_marketing\":true"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "member", "export-segment",
                                     "--consenting", "--csv", (char *)NULL),
                     0);
    assert_int_equal(csv_lines(out), 2);
    assert_non_null(strstr(out, "Cli Person"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "member", "export-segment",
                                     "--csv", (char *)NULL),
                     64);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", t.path, "member", "export", card, (char *)NULL),
        0);
    json_t *root = json_loads(out, 0, NULL);
    assert_non_null(root);
    assert_int_equal(array_size(root, "sales"), 1);
    json_decref(root);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "member", "erase",
                                     card, "--by", "admin", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "\"erased\":true"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "--json", "ledger", "verify",
                                     (char *)NULL),
                     0);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", t.path, "member", "show", card, (char *)NULL), 0);
    assert_non_null(strstr(out, "erased"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", t.path, "member", "erase",
                                     "2900000000018", (char *)NULL),
                     3);
    test_rmtree(t.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consent_changes_are_kept_with_date_and_source),
        cmocka_unit_test(export_holds_everything_about_the_member),
        cmocka_unit_test(export_file_is_the_same_copy_on_disk),
        cmocka_unit_test(export_times_are_iso8601),
        cmocka_unit_test(erase_keeps_the_ledger_and_leaves_no_copy),
        cmocka_unit_test(segment_holds_only_consenting_members),
        cmocka_unit_test(cli_consent_export_erase_and_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
