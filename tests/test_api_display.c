/* SPDX-License-Identifier: MIT */
/* The customer display under `patron serve`: a till bound to a virtual display shows the shop's
 * welcome, then moves with the scans, sales and redemptions made over HTTP with its token
 * (greeting by first name only a member who agreed), and goes back to the welcome after the idle
 * time; a till without a display and a display that cannot open change nothing for the sale. */
#include "apiutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define WAIT_S 60

static struct {
    struct api_server sv;
    char till1[64], till2[64], ada[14], bob[14];
    char pole[400];
    int64_t reward_id;
} fx;

static int read_frame(unsigned n, char *text, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/frame-%06u.txt", fx.pole, n);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t got = fread(text, 1, cap - 1, f);
    text[got] = '\0';
    fclose(f);
    return 0;
}

/* The number of the first frame after `after` whose text starts with `prefix`; fails the test
 * when none comes within WAIT_S seconds. */
static unsigned wait_frame(unsigned after, const char *prefix)
{
    char text[256];
    unsigned n = after + 1;
    for (int tries = 0; tries < WAIT_S * 50; tries++) {
        while (read_frame(n, text, sizeof text) == 0) {
            if (strncmp(text, prefix, strlen(prefix)) == 0)
                return n;
            n++;
        }
        usleep(20 * 1000);
    }
    fail_msg("no display frame after %u starts with \"%s\" (last read %u)", after, prefix, n - 1);
    return 0;
}

/* Fails when any frame up to `last` holds `word`. */
static void assert_never_shown(unsigned last, const char *word)
{
    char text[256];
    for (unsigned n = 1; n <= last; n++)
        if (read_frame(n, text, sizeof text) == 0 && strstr(text, word))
            fail_msg("frame %u shows \"%s\": %s", n, word, text);
}

static void post(const char *path, const char *token, const char *key, const char *body,
                 long status)
{
    struct apit_reply r;
    apit_call(fx.sv.port, "POST", path, token, key, body, &r);
    apit_assert_status(&r, status, NULL);
    apit_reply_free(&r);
}

static int setup(void **state)
{
    (void)state;
    char spec[420];
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.till1);
    apit_terminal(&fx.sv, "till-2", "cashier", fx.till2);
    json_t *j = apit_patron(&fx.sv, "member", "enroll", "--name", "Ada Lovelace", "--greet-by-name",
                            (char *)NULL);
    snprintf(fx.ada, sizeof fx.ada, "%s", apit_jstr(j, "card"));
    json_decref(j);
    apit_member(&fx.sv, "Bob Stone", fx.bob);
    json_decref(apit_patron(&fx.sv, "ledger", "adjust", fx.ada, "--points", "1240", "--reason",
                            "opening", "--manager", "test", (char *)NULL));
    j = apit_patron(&fx.sv, "reward", "add", "--name", "Coffee", "--cost", "100", "--kind", "item",
                    "--value", "1", (char *)NULL);
    fx.reward_id = apit_jint(j, "reward_id");
    json_decref(j);
    snprintf(fx.pole, sizeof fx.pole, "%s/pole", fx.sv.dir);
    snprintf(spec, sizeof spec, "virtual:%s", fx.pole);
    json_decref(apit_patron(&fx.sv, "terminal", "display", "till-1", spec, (char *)NULL));
    /* till-2's display is not there: a sentence in the log, and its sales go on */
    snprintf(spec, sizeof spec, "file:%s/no-such-tty", fx.sv.dir);
    json_decref(apit_patron(&fx.sv, "terminal", "display", "till-2", spec, (char *)NULL));
    apit_start(&fx.sv, "--display-idle", "2", (char *)NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    int status = apit_stop(&fx.sv);
    test_rmtree(fx.sv.dir);
    return status == 0 ? 0 : -1;
}

static void display_follows_the_till(void **state)
{
    (void)state;
    char body[128], key[64];
    unsigned n = wait_frame(0, "Welcome to\nPatron shop\n");
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    post("/v1/scan", fx.till1, NULL, body, 200);
    n = wait_frame(n, "Hello Ada - 1,240 po"); /* CP858 has no em dash: the printer's '-' */

    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.bob);
    post("/v1/scan", fx.till1, NULL, body, 200);
    n = wait_frame(n, "0 points\n100 more to Coffee\n"); /* no tier above: the next reward */

    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"R1\",\"total\":500}", fx.ada);
    post("/v1/sales", fx.till1, "sale-1", body, 201);
    n = wait_frame(n, "+");

    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    snprintf(key, sizeof key, "/v1/rewards/%lld/redeem", (long long)fx.reward_id);
    post(key, fx.till1, "redeem-1", body, 201);
    n = wait_frame(n, "Redeemed Coffee\n100 points used\n");

    /* quiet for the idle time: cleared and dimmed, then the welcome */
    n = wait_frame(n, "\n\n");
    n = wait_frame(n - 1, "Welcome to\nPatron shop\n");

    /* a till whose display cannot open scans and sells as before; the log says why */
    snprintf(body, sizeof body, "{\"card\":\"%s\"}", fx.ada);
    post("/v1/scan", fx.till2, NULL, body, 200);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"R2\",\"total\":500}", fx.ada);
    post("/v1/sales", fx.till2, "sale-2", body, 201);
    char log[8192] = "";
    FILE *f = fopen(fx.sv.log, "r");
    assert_non_null(f);
    log[fread(log, 1, sizeof log - 1, f)] = '\0';
    fclose(f);
    assert_non_null(strstr(log, "event=display_failed till=2"));
    assert_non_null(strstr(log, "no-such-tty"));

    /* Bob never agreed: his name is never on the glass; Ada's surname never is */
    assert_never_shown(n, "Bob");
    assert_never_shown(n, "Stone");
    assert_never_shown(n, "Lovelace");
}

/* The enrolment's question over HTTP: off unless the member says yes. */
static void enroll_asks_to_greet(void **state)
{
    (void)state;
    struct apit_reply r;
    char path[64];
    const char *bodies[] = {"{\"name\":\"Cy Young\",\"greet_by_name\":true}",
                            "{\"name\":\"Di Prince\"}"};
    for (int i = 0; i < 2; i++) {
        char key[16];
        snprintf(key, sizeof key, "enrol-%d", i);
        apit_call(fx.sv.port, "POST", "/v1/members", fx.till1, key, bodies[i], &r);
        apit_assert_status(&r, 201, NULL);
        snprintf(path, sizeof path, "/v1/members/%s", apit_jstr(r.json, "card"));
        apit_reply_free(&r);
        apit_call(fx.sv.port, "GET", path, fx.till1, NULL, NULL, &r);
        apit_assert_status(&r, 200, NULL);
        assert_int_equal(json_is_true(json_object_get(r.json, "greet_by_name")), i == 0);
        apit_reply_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(display_follows_the_till),
        cmocka_unit_test(enroll_asks_to_greet),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
