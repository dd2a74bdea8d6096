/* SPDX-License-Identifier: MIT */
/* Printing as a new user meets it: a redemption whose coupon cannot be rendered has still spent
 * the points and says so with exit 5 (job queued), never 4, and a retry does not spend twice; a
 * template with a markup mistake stops the printing commands and `patron serve` before they do
 * anything, naming the file, line and column; `--printer-profile` takes the documented
 * name=...,dots=...,columns=...,native_qr=... form; the queue count is the truth; "auto" that
 * falls back to the virtual printer says so on stderr and in /v1/health; the receipt footer
 * leaves out the lines that have nothing to say (no tiers, nothing expiring). */
#include "apiutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static char out[65536];

/* A store with a member holding 100 points and a reward of 60 (id 1). */
static void shop_new(struct api_server *sv, char card[14])
{
    apit_store_new(sv);
    apit_member(sv, "Ada", card);
    json_decref(apit_patron(sv, "sale", card, "--ref", "SEED", "--total", "10000", (char *)NULL));
    json_decref(apit_patron(sv, "reward", "add", "--name", "Free coffee", "--cost", "60", "--kind",
                            "item", "--value", "1001", (char *)NULL));
}

static void write_template(struct api_server *sv, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/receipts", sv->dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/receipts/%s.receipt", sv->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int64_t balance(struct api_server *sv, const char *card)
{
    json_t *j = apit_patron(sv, "scan", card, (char *)NULL);
    int64_t points = apit_jint(j, "points");
    json_decref(j);
    return points;
}

/* Runs `patron --db DB --home DIR --printer PRINTER --json ARGS...` into out. */
static int run(struct api_server *sv, const char *printer, const char *a1, const char *a2,
               const char *a3, const char *a4, const char *a5)
{
    return test_run_patron(out, sizeof out, "--db", sv->db, "--home", sv->dir, "--printer", printer,
                           "--json", a1, a2, a3, a4, a5, (char *)NULL);
}

static const char *jstr(const char *key)
{
    static char value[1024];
    json_t *j = json_loads(out, 0, NULL);
    if (!j)
        fail_msg("stdout is not one JSON object: %s", out);
    snprintf(value, sizeof value, "%s", apit_jstr(j, key) ? apit_jstr(j, key) : "");
    json_decref(j);
    return value;
}

static void unrenderable_coupon_after_the_spend_exits_5(void **state)
{
    struct api_server sv;
    char card[14], printer[400];
    (void)state;
    shop_new(&sv, card);
    snprintf(printer, sizeof printer, "virtual:%s/prints", sv.dir);
    /* markup that parses, but names a value no coupon has: it fails only when printed */
    write_template(&sv, "reward-coupon", "Coupon {{no.such.value}}\n");
    assert_int_equal(run(&sv, printer, "reward", "redeem", card, "1", "--key=r-1"), 5);
    assert_string_equal(jstr("print_status"), "queued");
    assert_non_null(strstr(jstr("print_error"), "no.such.value"));
    assert_int_equal(balance(&sv, card), 40);
    /* the till retries as told: the first answer, not a second spend */
    assert_int_equal(run(&sv, printer, "reward", "redeem", card, "1", "--key=r-1"), 0);
    assert_int_equal(balance(&sv, card), 40);
    apit_cleanup(&sv);
}

static void broken_markup_stops_printing_commands_first(void **state)
{
    struct api_server sv;
    char card[14], why[256];
    (void)state;
    shop_new(&sv, card);
    write_template(&sv, "offer-coupon", "Just for you\n{oops}\n");
    assert_int_equal(run(&sv, "none", "reward", "redeem", card, "1", NULL), 4);
    assert_non_null(strstr(jstr("message"), "offer-coupon.receipt:2:2:"));
    assert_int_equal(balance(&sv, card), 100); /* nothing was spent */
    assert_int_equal(run(&sv, "none", "sale", card, "--ref", "T-2", "--total=500"), 4);
    assert_int_equal(balance(&sv, card), 100);
    assert_int_equal(run(&sv, "none", "refund", "--ref", "SEED", NULL, NULL), 4);
    assert_int_equal(balance(&sv, card), 100);
    /* the service does not start on it either, and says where the mistake is */
    const char *const extra[] = {"--printer", "none", NULL};
    assert_int_equal(apit_try_start(&sv, why, extra), 4);
    assert_non_null(strstr(why, "offer-coupon.receipt:2:2:"));
    apit_cleanup(&sv);
}

static void documented_profile_spec_is_accepted(void **state)
{
    struct api_server sv;
    char card[14], printer[400], png[400];
    (void)state;
    shop_new(&sv, card);
    snprintf(printer, sizeof printer, "virtual:%s/prints", sv.dir);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", sv.db, "--home", sv.dir, "--printer",
                                     printer, "--printer-profile",
                                     "name=shop-58,dots=384,columns=32,native_qr=0", "--json",
                                     "printer", "test", (char *)NULL),
                     0);
    assert_string_equal(jstr("print_status"), "printed");
    snprintf(png, sizeof png, "%s/prints/job-1.png", sv.dir);
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    /* an unknown profile still says so, and the queue count is what the queue holds */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", sv.db, "--home", sv.dir, "--printer",
                                     printer, "--printer-profile", "no-such", "reward", "redeem",
                                     card, "1", (char *)NULL),
                     5);
    assert_non_null(strstr(out, "1 print job(s) still queued"));
    assert_non_null(strstr(out, "unknown printer profile 'no-such'"));
    assert_int_equal(run(&sv, "none", "print", "queue", NULL, NULL, NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_int_equal(apit_jint(j, "count"), 1);
    json_decref(j);
    apit_cleanup(&sv);
}

/* Whether the folder holds a PNG. */
static int has_png(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        found = n > 4 && strcmp(e->d_name + n - 4, ".png") == 0;
    }
    if (d)
        closedir(d);
    return found;
}

static void auto_fallback_shows_in_health(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char card[14];
    (void)state;
    shop_new(&sv, card);
    /* no USB printer here: "auto" prints to the virtual printer and says so */
    assert_int_equal(test_run_patron(out, sizeof out, "--db", sv.db, "--home", sv.dir, "--printer",
                                     "auto", "--json", "printer", "test", (char *)NULL),
                     0);
    assert_string_equal(jstr("print_status"), "printed");
    char cmd[1200];
    /* With PATRON_HOME unset, --home alone says where the virtual printer's PNGs go. */
    char prints[600];
    snprintf(prints, sizeof prints, "%s/prints", sv.dir);
    test_rmtree(prints);
    snprintf(cmd, sizeof cmd,
             "unset PATRON_HOME; '%s' --db '%s' --home '%s' --printer auto printer test 2>&1",
             getenv("PATRON_BIN"), sv.db, sv.dir);
    const char *const sh[] = {"/bin/sh", "-c", cmd, NULL};
    assert_int_equal(test_run(out, sizeof out, sh), 0);
    assert_non_null(strstr(out, "printing to the virtual printer in"));
    assert_true(has_png(prints));
    apit_start(&sv, "--printer", "auto", (char *)NULL);
    int seen = 0;
    for (int i = 0; i < 1500 && !seen; i++) { /* the printer thread opens it: up to 30 s */
        apit_call(sv.port, "GET", "/v1/health", NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        json_t *p = json_object_get(r.json, "printer");
        assert_non_null(p);
        seen = json_is_true(json_object_get(p, "virtual_fallback"));
        if (seen)
            assert_non_null(strstr(apit_jstr(p, "detail"), "virtual printer"));
        apit_reply_free(&r);
        if (!seen)
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
    }
    assert_true(seen);
    assert_int_equal(apit_stop(&sv), 0);
    FILE *f = fopen(sv.log, "r");
    char line[512];
    int logged = 0;
    while (f && fgets(line, sizeof line, f))
        logged |= strstr(line, "event=printer_fallback") != NULL;
    if (f)
        fclose(f);
    assert_true(logged);
    apit_cleanup(&sv);
}

/* Reads a whole file into out (NUL-terminated; bytes after a NUL are lost to strstr, which the
 * checks below do not need: ESC/POS text has none). */
static size_t slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return n;
}

static void footer_leaves_out_lines_with_nothing_to_say(void **state)
{
    struct api_server sv;
    char card[14], printer[400], path[512];
    static char job[65536];
    (void)state;
    shop_new(&sv, card);
    snprintf(printer, sizeof printer, "virtual:%s/prints", sv.dir);
    /* no tiers but the base one, nothing expiring soon */
    assert_int_equal(run(&sv, printer, "sale", card, "--ref=T-3", "--total=500", "--footer"), 0);
    snprintf(path, sizeof path, "%s/prints/job-1.bin", sv.dir);
    slurp(path, job, sizeof job);
    assert_non_null(strstr(job, "Points earned"));
    assert_null(strstr(job, "Tier"));
    assert_null(strstr(job, "Top tier"));
    assert_null(strstr(job, "Expiring"));
    /* with tiers, the tier lines are there */
    json_decref(
        apit_patron(&sv, "program", "tier", "Gold", "1000", "1500", "--by", "test", (char *)NULL));
    assert_int_equal(run(&sv, printer, "sale", card, "--ref=T-4", "--total=500", "--footer"), 0);
    snprintf(path, sizeof path, "%s/prints/job-2.bin", sv.dir);
    slurp(path, job, sizeof job);
    assert_non_null(strstr(job, "Tier"));
    assert_non_null(strstr(job, "to Gold"));
    assert_null(strstr(job, "Expiring"));
    apit_cleanup(&sv);
}

/* The markup rule behind it: a line made only of placeholders (and spaces) whose values are all
 * empty is left out; an empty line, a line with literal text, or a placeholder with a value
 * still prints. */
static void empty_placeholder_lines_are_left_out(void **state)
{
    static const char text[] = "A\n{{x}}\n{{x}} {{y}}\n\nB {{x}}\n{{z}}\n";
    struct patron_receipt_var v[] = {{"x", ""}, {"y", " "}, {"z", "C"}};
    patron_receipt *t = NULL;
    char msg[256];
    uint8_t *bytes = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(patron_receipt_parse(text, &t, NULL, NULL, msg, sizeof msg), 0);
    assert_int_equal(patron_receipt_render_job(t, patron_escpos_profile_find("generic-58"), v, 3,
                                               &bytes, &len, msg, sizeof msg),
                     0);
    /* A, the empty line, "B " and C: the two lines of empty placeholders are gone */
    static const char want[] = "A\n\nB\nC\n";
    size_t at = 0;
    for (size_t i = 0; i < len; i++)
        if ((bytes[i] >= 'A' && bytes[i] <= 'C') || bytes[i] == '\n')
            if (at < sizeof want - 1 && bytes[i] == (uint8_t)want[at])
                at++;
    assert_int_equal(at, sizeof want - 1);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += bytes[i] == '\n';
    assert_int_equal(lines, 4);
    free(bytes);
    patron_receipt_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unrenderable_coupon_after_the_spend_exits_5),
        cmocka_unit_test(broken_markup_stops_printing_commands_first),
        cmocka_unit_test(documented_profile_spec_is_accepted),
        cmocka_unit_test(auto_fallback_shows_in_health),
        cmocka_unit_test(footer_leaves_out_lines_with_nothing_to_say),
        cmocka_unit_test(empty_placeholder_lines_are_left_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
