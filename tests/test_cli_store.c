/* SPDX-License-Identifier: MIT */
/* Where the `patron` program keeps its store and how it treats a wrong one: only `init` creates
 * a store, the data folder follows the XDG convention, a --db that is a folder, not SQLite,
 * another program's database or read-only is refused with a sentence saying which, and nothing is
 * written to it. Also: `voucher show` by the id the replies print, and a redemption says where
 * its coupon went. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "clirun.h"
#include "testutil.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/patron-clistore-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_rmtree(dir);
    return 0;
}

static int exists(const char *fmt, const char *a)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, fmt, a);
    return stat(path, &st) == 0;
}

/* A read-only command run anywhere, with no store, creates nothing: not ./var, not the data
 * folder. */
static void read_only_commands_create_no_store(void **state)
{
    (void)state;
    char home[512];
    snprintf(home, sizeof home, "HOME=%s", dir);
    const char *env[] = {home, "XDG_DATA_HOME", "PATRON_HOME", "PATRON_DB", NULL};
    struct clirun r = {.cwd = dir, .env = env};
    assert_int_equal(clirun(&r, "scan", "2900000000018", (char *)NULL), 3);
    assert_non_null(strstr(r.err, "there is no store at"));
    assert_int_equal(clirun(&r, "reward", "list", (char *)NULL), 3);
    assert_int_equal(clirun(&r, "ledger", "verify", (char *)NULL), 3);
    assert_false(exists("%s/var", dir));
    assert_false(exists("%s/.local/share/patron/patron.db", dir));
    assert_false(exists("%s/.local/share/patron", dir));
}

/* The data folder: $PATRON_HOME, else $XDG_DATA_HOME/patron, else ~/.local/share/patron; never
 * the current folder. */
static void data_folder_follows_xdg(void **state)
{
    (void)state;
    char home[512], xdg[512], work[512];
    snprintf(home, sizeof home, "HOME=%s", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    assert_int_equal(mkdir(work, 0700), 0);
    const char *plain[] = {home, "XDG_DATA_HOME", "PATRON_HOME", "PATRON_DB", NULL};
    struct clirun r = {.cwd = work, .env = plain};
    assert_int_equal(clirun(&r, "init", (char *)NULL), 0);
    assert_true(exists("%s/.local/share/patron/patron.db", dir));
    assert_false(exists("%s/var", work));
    assert_int_equal(clirun(&r, "reward", "list", (char *)NULL), 0);

    snprintf(xdg, sizeof xdg, "XDG_DATA_HOME=%s/xdg", dir);
    const char *with_xdg[] = {home, xdg, "PATRON_HOME", "PATRON_DB", NULL};
    r.env = with_xdg;
    assert_int_equal(clirun(&r, "init", (char *)NULL), 0);
    assert_true(exists("%s/xdg/patron/patron.db", dir));
}

static void refused(const char *db, int status, const char *words)
{
    struct clirun r = {0};
    assert_int_equal(clirun(&r, "--db", db, "scan", "2900000000018", (char *)NULL), status);
    if (!strstr(r.err, words))
        fail_msg("for %s: expected \"%s\" in: %s", db, words, r.err);
    assert_int_equal(clirun(&r, "--json", "--db", db, "reward", "list", (char *)NULL), status);
    json_error_t e;
    json_t *o = json_loads(r.out, 0, &e);
    assert_non_null(o);
    assert_non_null(strstr(json_string_value(json_object_get(o, "message")), words));
    if (status == 3) /* no store there */
        assert_string_equal(json_string_value(json_object_get(o, "error")), "ENOSTORE");
    json_decref(o);
}

static void wrong_db_is_named_and_left_alone(void **state)
{
    (void)state;
    char path[512];
    sqlite3 *db;
    refused(dir, 4, "is a directory; --db takes the store's file");

    snprintf(path, sizeof path, "%s/notes.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("shopping list: beans, cake, milk, and more than a hundred bytes of plain text so "
          "that SQLite reads a header that is not its own\n",
          f);
    fclose(f);
    refused(path, 4, "is not an SQLite database");

    snprintf(path, sizeof path, "%s/other.db", dir);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE photos(id INTEGER PRIMARY KEY)", 0, 0, 0),
                     SQLITE_OK);
    sqlite3_close(db);
    refused(path, 4, "another program's SQLite database");
    struct clirun init = {0};
    assert_int_equal(clirun(&init, "--db", path, "init", (char *)NULL), 4);
    assert_non_null(strstr(init.err, "another program's SQLite database"));
    /* ... and it still holds its one table, nothing of Patron's */
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);

    snprintf(path, sizeof path, "%s/missing.db", dir);
    refused(path, 3, "there is no store at");
    assert_false(exists("%s/missing.db", dir));

    /* read-only for this user: as root, the program runs as nobody, whom root's mode bits bind */
    struct clirun r = {.as_uid = geteuid() == 0 ? 65534 : 0};
    snprintf(path, sizeof path, "%s/ro.db", dir);
    assert_int_equal(clirun(&(struct clirun){0}, "--db", path, "init", (char *)NULL), 0);
    assert_int_equal(chmod(path, 0444), 0);
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(clirun(&r, "--db", path, "scan", "2900000000018", (char *)NULL), 1);
    if (!strstr(r.err, "is read-only for this user"))
        fail_msg("expected the read-only sentence in: %s", r.err);
}

static const char *field(const char *out, const char *key, char *buf, size_t len)
{
    json_error_t e;
    json_t *o = json_loads(out, 0, &e);
    if (!o)
        fail_msg("not one JSON object: %s", out);
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, len, "%s", json_is_string(v) ? json_string_value(v) : "");
    json_decref(o);
    return buf;
}

/* A member with 500 points and a coupon reward, in dir/patron.db. Returns the card in card. */
static void store_with_points(char *db, size_t len, char *card)
{
    struct clirun r = {0};
    snprintf(db, len, "%s/patron.db", dir);
    assert_int_equal(clirun(&r, "--db", db, "init", (char *)NULL), 0);
    assert_int_equal(clirun(&r, "--db", db, "reward", "add", "--name", "Five off", "--cost", "100",
                            "--kind", "amount", "--value", "500", (char *)NULL),
                     0);
    assert_int_equal(
        clirun(&r, "--db", db, "--json", "member", "enroll", "--name", "Ada", (char *)NULL), 0);
    field(r.out, "card", card, 32);
    assert_int_equal(
        clirun(&r, "--db", db, "sale", card, "--ref", "S1", "--total", "50000", (char *)NULL), 0);
}

static void voucher_show_takes_the_hex_id(void **state)
{
    (void)state;
    char db[512], card[32], id[32], code[32], shown[32];
    struct clirun r = {0};
    store_with_points(db, sizeof db, card);
    assert_int_equal(clirun(&r, "--db", db, "--json", "--printer", "none", "reward", "redeem", card,
                            "1", (char *)NULL),
                     0);
    field(r.out, "voucher_id", id, sizeof id);
    field(r.out, "code", code, sizeof code);
    assert_int_equal(strlen(id), 16);
    assert_int_equal(clirun(&r, "--db", db, "--json", "voucher", "show", id, (char *)NULL), 0);
    assert_string_equal(field(r.out, "code", shown, sizeof shown), code);
    assert_string_equal(field(r.out, "voucher_id", shown, sizeof shown), id);
}

static void redemption_says_where_the_coupon_went(void **state)
{
    (void)state;
    char db[512], card[32], spec[600], png[700], expected[700];
    struct clirun r = {0};
    store_with_points(db, sizeof db, card);
    snprintf(spec, sizeof spec, "virtual:%s/prints", dir);
    assert_int_equal(
        clirun(&r, "--db", db, "--printer", spec, "reward", "redeem", card, "1", (char *)NULL), 0);
    snprintf(expected, sizeof expected, "The coupon is in %s/prints/job-", dir);
    const char *at = strstr(r.out, expected);
    if (!at)
        fail_msg("the answer does not say where the coupon is: %s", r.out);
    snprintf(png, sizeof png, "%.*s", (int)strcspn(at + strlen("The coupon is in "), "\n") - 1,
             at + strlen("The coupon is in "));
    struct stat st;
    if (stat(png, &st) != 0)
        fail_msg("the answer names %s, which is not there", png);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(read_only_commands_create_no_store),    T(data_folder_follows_xdg),
        T(wrong_db_is_named_and_left_alone),      T(voucher_show_takes_the_hex_id),
        T(redemption_says_where_the_coupon_went),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
