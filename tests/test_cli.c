/* SPDX-License-Identifier: MIT */
/* The `patron` program's contract: exit codes (0, 2, 3, 4, 64), one JSON object on stdout with
 * --json, errors as {"error", "message"}, global options before or after the command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "testutil.h"

static char dir[256], db[300], out[8192];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/patron-cli-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/patron.db", dir);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "init", (char *)NULL), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_rmtree(dir);
    return 0;
}

/* Parses out as one JSON object and returns field `key` as a string (static buffer). */
static const char *field(const char *key)
{
    static char value[512];
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    if (!o)
        fail_msg("stdout is not one JSON object: %s", out);
    json_t *v = json_object_get(o, key);
    if (json_is_string(v))
        snprintf(value, sizeof value, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(value, sizeof value, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(value, sizeof value, "%s", json_is_true(v) ? "true" : "false");
    else
        value[0] = '\0';
    json_decref(o);
    return value;
}

static void enroll_sale_scan_round_trip(void **state)
{
    (void)state;
    char card[32];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Barbara Liskov", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    assert_int_equal(strlen(card), 13);
    /* global options after the command work too */
    assert_int_equal(test_run_patron(out, sizeof out, "sale", card, "--ref", "A1", "--total",
                                     "2550", "--line", "SKU1:food:1:2550", "--db", db, "--json",
                                     (char *)NULL),
                     0);
    assert_string_equal(field("points_earned"), "25");
    assert_string_equal(field("points"), "25");
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "scan", card, (char *)NULL), 0);
    assert_string_equal(field("name"), "Barbara Liskov");
    assert_string_equal(field("points"), "25");
    assert_string_equal(field("tier"), "Member");
    assert_non_null(strstr(out, "\"offers\""));
    assert_non_null(strstr(out, "\"rewards\""));
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "ledger", "verify", (char *)NULL),
        0);
    assert_string_equal(field("ok"), "true");
    assert_string_equal(field("members_checked"), "1");
    assert_string_equal(field("outbox_gaps"), "0");
    assert_string_equal(field("outbox_missing"), "0");
    /* An outbox row gone (by hand, past the trigger) is a mismatch: exit 1, with the sentence. */
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "DROP TRIGGER outbox_no_delete;"
                                  " DELETE FROM outbox WHERE kind = 'entry';"
                                  " CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox"
                                  " BEGIN SELECT RAISE(ABORT, 'the outbox is append-only'); END;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "ledger", "verify", (char *)NULL),
        1);
    assert_string_equal(field("ok"), "false");
    assert_string_equal(field("outbox_missing"), "1");
    assert_non_null(strstr(field("problem"), "outbox"));
}

static void exit_codes_follow_the_contract(void **state)
{
    (void)state;
    char card[32];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Ken Thompson", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    /* 4: a mistyped card (bad check digit), before any look-up */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "scan", "2900000000019",
                                     (char *)NULL),
                     4);
    assert_string_equal(field("error"), "ECHECKDIGIT");
    assert_true(strlen(field("message")) > 10);
    /* 3: a valid number nobody holds */
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "scan", "2900000000018", (char *)NULL), 3);
    /* 2: not enough points */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "reward", "add", "--name", "Mug",
                                     "--cost", "100", "--kind", "item", "--value", "1",
                                     (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "reward", "redeem",
                                     card, "1", (char *)NULL),
                     2);
    assert_string_equal(field("error"), "ENOFUNDS");
    /* 4: same key, different request */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "K",
                                     "--total", "100", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "K",
                                     "--total", "200", (char *)NULL),
                     4);
    /* 3: unknown reward; 64: usage */
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "reward", "redeem", card, "99", (char *)NULL),
        3);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, (char *)NULL), 64);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "frobnicate", (char *)NULL), 64);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "X",
                                     "--total", "ten", (char *)NULL),
                     64);
}

static void fixed_clock_drives_expiry(void **state)
{
    (void)state;
    char card[32];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2026-01-01T09:00:00Z", "member", "enroll", "--name", "Ann",
                                     (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--now", "2026-01-01", "sale",
                                     card, "--ref", "E1", "--total", "5000", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2026-12-20T00:00:00Z", "scan", card, (char *)NULL),
                     0);
    assert_string_equal(field("expiring_points"), "50");
    assert_string_equal(field("expiring_on"), "2027-01-01");
    /* A year after the store last recorded anything: expiry asks for --yes and says what it
     * would take; --dry-run shows it; nothing changes until --yes. */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2027-01-02T00:00:00Z", "ledger", "expire", (char *)NULL),
                     2);
    assert_string_equal(field("error"), "ECONFIRM");
    assert_string_equal(field("points_to_expire"), "50");
    assert_string_equal(field("members_affected"), "1");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2027-01-02T00:00:00Z", "ledger", "expire", "--dry-run",
                                     (char *)NULL),
                     0);
    assert_string_equal(field("points_to_expire"), "50");
    assert_string_equal(field("last_recorded_at"), "2026-01-01T00:00:00Z");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2026-12-20T00:00:00Z", "scan", card, (char *)NULL),
                     0);
    assert_string_equal(field("points"), "50");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2027-01-02T00:00:00Z", "ledger", "expire", "--yes",
                                     (char *)NULL),
                     0);
    assert_string_equal(field("points_expired"), "50");
    /* Within a day of the last record (the expiry just written), no question is asked. */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--now",
                                     "2027-01-02T12:00:00Z", "ledger", "expire", (char *)NULL),
                     0);
    assert_string_equal(field("points_expired"), "0");
}

/* --now takes a real calendar date and time within 2000-2099, or exits 4 before touching the
 * store. */
static void now_is_parsed_strictly(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "bogus",
        "2026-02-30",
        "2026-02-29T00:00:00Z",
        "2026-04-31",
        "2026-06-01T23:59:60Z",
        "2026-06-01T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "2100-01-01",
        "2026-6-1",
        "2026-06-01T10:00:00+01:00",
        "2026-06-01T10:00",
        "2026-06-01 10:00:00",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int status = test_run_patron(out, sizeof out, "--db", db, "--json", "--now", bad[i],
                                     "ledger", "expire", (char *)NULL);
        if (status != 4)
            fail_msg("--now '%s' gave exit %d, not 4", bad[i], status);
        assert_string_equal(field("error"), "EINVAL");
    }
    static const char *const good[] = {"2028-02-29T23:59:59Z", "2000-01-01", "2099-12-31T23:59:59"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (test_run_patron(out, sizeof out, "--db", db, "--now", good[i], "ledger", "verify",
                            (char *)NULL) != 0)
            fail_msg("--now '%s' was refused", good[i]);
}

/* A sale's ref is recorded once: the same ref under another key is refused as a business rule
 * (exit 2), naming the first sale, not reported as a misused key. */
static void duplicate_sale_ref_is_refused_naming_the_first(void **state)
{
    (void)state;
    char card[32], first[32];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Frances Allen", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "sale", card, "--ref",
                                     "T-1001", "--total", "1000", (char *)NULL),
                     0);
    snprintf(first, sizeof first, "(sale %s)", field("sale_id"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "sale", card, "--ref",
                                     "T-1001", "--total", "1000", "--key", "till-2/77",
                                     (char *)NULL),
                     2);
    assert_string_equal(field("error"), "EDUPLICATE");
    assert_non_null(strstr(field("message"), "sale ref T-1001 was already recorded"));
    assert_non_null(strstr(field("message"), first));
    /* --till names a till that exists */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "--till", "nosuch",
                                     "sale", card, "--ref", "T-1002", "--total", "1000",
                                     (char *)NULL),
                     3);
}

/* `patron ledger adjust` run again with the same key prints what it printed the first time (its
 * entry and the points then), with --json and without, though a sale moved the balance since. */
static void adjustment_run_again_prints_its_first_answer(void **state)
{
    (void)state;
    char card[32], entry[32], human[sizeof out];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Kathleen Booth", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "ledger", "adjust", card,
                                     "--points", "25", "--reason", "goodwill", "--manager", "Mia",
                                     "--key", "adj-h", (char *)NULL),
                     0);
    snprintf(human, sizeof human, "%s", out);
    assert_non_null(strstr(human, "balance 25."));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "ledger", "adjust",
                                     card, "--points", "30", "--reason", "goodwill", "--manager",
                                     "Mia", "--key", "adj-j", (char *)NULL),
                     0);
    assert_string_equal(field("points"), "55");
    assert_string_equal(field("replayed"), "false");
    snprintf(entry, sizeof entry, "%s", field("entry_id"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "A1",
                                     "--total", "5000", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "ledger", "adjust", card,
                                     "--points", "25", "--reason", "goodwill", "--manager", "Mia",
                                     "--key", "adj-h", (char *)NULL),
                     0);
    assert_string_equal(out, human);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "ledger", "adjust",
                                     card, "--points", "30", "--reason", "goodwill", "--manager",
                                     "Mia", "--key", "adj-j", (char *)NULL),
                     0);
    assert_string_equal(field("points"), "55");
    assert_string_equal(field("entry_id"), entry);
    assert_string_equal(field("replayed"), "true");
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "scan", card, (char *)NULL), 0);
    assert_string_equal(field("points"), "105");
}

/* Two refund commands are two refunds (a cake returned today, another tomorrow); the same
 * --return-ref again answers the first; more than was sold is refused. */
static void each_refund_command_is_a_refund_of_its_own(void **state)
{
    (void)state;
    char card[32], first[32];
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Niklaus Wirth", (char *)NULL),
                     0);
    snprintf(card, sizeof card, "%s", field("card"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "sale", card, "--ref", "R1",
                                     "--total", "3000", "--line", "SKU1:food:2:1000", "--line",
                                     "SKU2:food:1:1000", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--line", "SKU1:1", (char *)NULL),
                     0);
    assert_string_equal(field("replayed"), "false");
    assert_string_equal(field("points_reversed"), "10");
    snprintf(first, sizeof first, "%s", field("refund_id"));
    assert_int_equal(strncmp(field("return_ref"), "RET-", 4), 0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--line", "SKU1:1", (char *)NULL),
                     0);
    assert_string_equal(field("replayed"), "false");
    assert_string_equal(field("points_reversed"), "10");
    assert_string_equal(field("points"), "10");
    assert_string_not_equal(field("refund_id"), first);
    /* a third cake was never sold */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--line", "SKU1:1", (char *)NULL),
                     2);
    assert_string_equal(field("error"), "EREFUND");
    /* a return with its receipt number, retried: the first result again */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--return-ref", "RET-9", "--line", "SKU2:1", (char *)NULL),
                     0);
    snprintf(first, sizeof first, "%s", field("refund_id"));
    assert_string_equal(field("return_ref"), "RET-9");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--return-ref", "RET-9", "--line", "SKU2:1", (char *)NULL),
                     0);
    assert_string_equal(field("replayed"), "true");
    assert_string_equal(field("refund_id"), first);
    assert_string_equal(field("points"), "0");
    /* the same return reference for another return is refused by the rule */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "refund", "--ref", "R1",
                                     "--return-ref", "RET-9", "--line", "SKU1:1", (char *)NULL),
                     2);
    assert_string_equal(field("error"), "EDUPLICATE");
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "ledger", "verify", (char *)NULL),
        0);
    assert_string_equal(field("ok"), "true");
}

/* The key list's times are ISO 8601 UTC like every other time in a JSON reply, null when unset. */
static void key_list_times_are_iso8601(void **state)
{
    (void)state;
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--now", "2026-03-01T12:00:00Z",
                                     "key", "rotate", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--now", "2026-03-02T08:30:00Z",
                                     "key", "retire", "1", (char *)NULL),
                     0);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "key", "list", (char *)NULL), 0);
    json_t *o = json_loads(out, 0, NULL), *keys = json_object_get(o, "keys");
    assert_int_equal(json_array_size(keys), 2);
    for (size_t i = 0; i < 2; i++) {
        json_t *k = json_array_get(keys, i);
        int id = (int)json_integer_value(json_object_get(k, "key_id"));
        const char *created = json_string_value(json_object_get(k, "created_at"));
        json_t *retired = json_object_get(k, "retired_at");
        assert_non_null(created);
        assert_int_equal(strlen(created), 20); /* YYYY-MM-DDTHH:MM:SSZ */
        assert_int_equal(created[10], 'T');
        assert_int_equal(created[19], 'Z');
        if (id == 1) {
            assert_string_equal(json_string_value(retired), "2026-03-02T08:30:00Z");
        } else {
            assert_string_equal(created, "2026-03-01T12:00:00Z");
            assert_true(json_is_null(retired));
        }
    }
    json_decref(o);
}

/* `patron terminal scanner TILL SPEC` keeps the scanner with the till; `terminal list` shows
 * it; a bad spec or an unknown till is refused and changes nothing. */
static void terminal_scanner_is_kept_and_listed(void **state)
{
    (void)state;
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "add", "till-1",
                                     "--role", "cashier", (char *)NULL),
                     0);
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "--json", "terminal", "list", (char *)NULL),
        0);
    assert_true(strstr(out, "\"scanner\": \"none\"") || strstr(out, "\"scanner\":\"none\""));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "terminal", "scanner",
                                     "till-1", "usb:0c2e:0b61", (char *)NULL),
                     0);
    assert_string_equal(field("scanner"), "usb:0c2e:0b61");
    assert_int_not_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "scanner",
                                         "till-1", "usb:zz:1", (char *)NULL),
                         0);
    assert_int_not_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "scanner",
                                         "till-9", "auto", (char *)NULL),
                         0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "list", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "scanner=usb:0c2e:0b61"));
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "scanner", "till-1",
                                     "file:/dev/ttyACM0", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "list", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "scanner=file:/dev/ttyACM0"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(enroll_sale_scan_round_trip),
        T(exit_codes_follow_the_contract),
        T(fixed_clock_drives_expiry),
        T(duplicate_sale_ref_is_refused_naming_the_first),
        T(adjustment_run_again_prints_its_first_answer),
        T(each_refund_command_is_a_refund_of_its_own),
        T(key_list_times_are_iso8601),
        T(now_is_parsed_strictly),
        T(terminal_scanner_is_kept_and_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
