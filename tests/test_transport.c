/* SPDX-License-Identifier: MIT */
/* The printer transport front: which specs open which back-end, which are refused and how, the
 * `none` back-end, and the argument checks every back-end relies on. Needs no USB. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backend_internal.h"

static void test_none_accepts_and_discards(void **state)
{
    patron_printer *p = NULL;
    struct patron_printer_info info;
    unsigned s = 0;
    (void)state;
    assert_int_equal(patron_printer_open("none", 0, &p, NULL, 0), 0);
    assert_int_equal(patron_printer_send(p, "coupon-1", (const uint8_t *)"\x1b@", 2, NULL, 0), 0);
    assert_int_equal(patron_printer_send(p, "empty", NULL, 0, NULL, 0), 0);
    assert_int_equal(patron_printer_status(p, &s), 0);
    assert_int_equal(s, PATRON_PRINTER_STATUS_UNKNOWN);
    patron_printer_describe(p, &info);
    assert_string_equal(info.kind, "none");
    patron_printer_close(p);
    patron_printer_close(NULL);
}

static void assert_bad_spec(const char *spec, const char *says)
{
    patron_printer *p = NULL;
    char detail[256] = "";
    assert_int_equal(patron_printer_open(spec, 0, &p, detail, sizeof detail), PATRON_EINVAL);
    assert_null(p);
    if (!strstr(detail, says))
        fail_msg("spec \"%s\": detail \"%s\" lacks \"%s\"", spec, detail, says);
}

static void test_bad_specs_are_einval_with_a_hint(void **state)
{
    (void)state;
    assert_bad_spec("bogus", "use auto, usb, usb:VID:PID, file:PATH, virtual:DIR or none");
    assert_bad_spec("usb:", "use auto");
    assert_bad_spec("file:", "use auto");
    assert_bad_spec("virtual:", "use auto");
    assert_bad_spec("USB", "use auto");
    assert_bad_spec("nonesuch", "use auto");
    assert_bad_spec("usb:04b8", "usb:VID:PID in hex");
    assert_bad_spec("usb:04b8:", "usb:VID:PID in hex");
    assert_bad_spec("usb:xyz:0e28", "usb:VID:PID in hex");
    assert_bad_spec("usb:104b8:0e28", "usb:VID:PID in hex");
    assert_bad_spec("usb:04b8:0e28:1", "usb:VID:PID in hex");
    assert_bad_spec("usb:-1:0e28", "usb:VID:PID in hex");
    assert_bad_spec("usb: 4b8:0e28", "usb:VID:PID in hex");
}

static void test_overlong_spec_and_bad_arguments(void **state)
{
    patron_printer *p = NULL;
    char spec[2000];
    (void)state;
    memset(spec, 'a', sizeof spec - 1);
    memcpy(spec, "file:", 5);
    spec[sizeof spec - 1] = '\0';
    assert_int_equal(patron_printer_open(spec, 0, &p, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_open("none", 0, NULL, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_open("none", 100000, &p, NULL, 0), PATRON_EINVAL);
    assert_null(p);
}

static void test_send_checks_job_name_and_size(void **state)
{
    patron_printer *p = NULL;
    char detail[128];
    const uint8_t b[1] = {0};
    unsigned s = 7;
    (void)state;
    assert_int_equal(patron_printer_open("none", 384, &p, NULL, 0), 0);
    assert_int_equal(patron_printer_send(p, "../etc/passwd", b, 1, detail, sizeof detail),
                     PATRON_EINVAL);
    assert_non_null(strstr(detail, "job name"));
    assert_int_equal(patron_printer_send(p, ".hidden", b, 1, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_send(p, "", b, 1, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_send(p, "a b", b, 1, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_send(p, NULL, b, 1, NULL, 0), 0); /* "job" */
    assert_int_equal(patron_printer_send(p, "x", NULL, 5, NULL, 0), PATRON_EINVAL);
    /* refused on the length alone: the buffer is never read */
    assert_int_equal(patron_printer_send(p, "x", b, (size_t)1 << 40, NULL, 0), PATRON_ETOOBIG);
    assert_int_equal(patron_printer_send(NULL, "x", b, 1, NULL, 0), PATRON_EINVAL);
    assert_int_equal(patron_printer_status(NULL, &s), PATRON_EINVAL);
    assert_int_equal(patron_printer_status(p, NULL), PATRON_EINVAL);
    assert_int_equal(s, 7); /* untouched on failure */
    patron_printer_close(p);
}

static void test_list_checks_arguments(void **state)
{
    size_t n = 5;
    (void)state;
    assert_int_equal(patron_printer_list(NULL, 3, &n), PATRON_EINVAL);
    assert_int_equal(patron_printer_list(NULL, 0, NULL), PATRON_EINVAL);
    assert_int_equal(n, 5);
}

static void test_tuning_refuses_other_backends(void **state)
{
    patron_printer *p = NULL;
    (void)state;
    assert_int_equal(patron_printer_open("none", 0, &p, NULL, 0), 0);
    assert_int_equal(patron__usb_set_timeouts(p, 10, 10), PATRON_EINVAL);
    assert_int_equal(patron__file_set_timeout(p, 10), PATRON_EINVAL);
    patron_printer_close(p);
}

/* "auto" without a USB printer prints into the data folder it is given, whatever PATRON_HOME
 * says: the `patron` program passes its --home and sets no environment. */
static void test_auto_prints_into_the_given_home(void **state)
{
    char home[64], decoy[64], want[128];
    patron_printer *p = NULL;
    struct patron_printer_info info;
    struct stat st;
    (void)state;
    snprintf(home, sizeof home, "/tmp/patron-home-XXXXXX");
    snprintf(decoy, sizeof decoy, "/tmp/patron-decoy-XXXXXX");
    assert_non_null(mkdtemp(home));
    assert_non_null(mkdtemp(decoy));
    setenv("PATRON_HOME", decoy, 1);
    assert_int_equal(patron_printer_open_in("auto", 384, home, &p, NULL, 0), 0);
    patron_printer_describe(p, &info);
    if (strcmp(info.kind, "virtual") == 0) { /* a real USB printer here takes "auto" */
        snprintf(want, sizeof want, "%s/prints", home);
        assert_string_equal(info.description, want);
        assert_int_equal(patron_printer_send(p, "job-1", (const uint8_t *)"\x1b@", 2, NULL, 0), 0);
        snprintf(want, sizeof want, "%s/prints/job-1.bin", home);
        assert_int_equal(stat(want, &st), 0);
        snprintf(want, sizeof want, "%s/prints", decoy);
        assert_int_not_equal(stat(want, &st), 0);
    }
    patron_printer_close(p);
    unsetenv("PATRON_HOME");
    test_rmtree(home);
    test_rmtree(decoy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_accepts_and_discards),
        cmocka_unit_test(test_bad_specs_are_einval_with_a_hint),
        cmocka_unit_test(test_overlong_spec_and_bad_arguments),
        cmocka_unit_test(test_send_checks_job_name_and_size),
        cmocka_unit_test(test_list_checks_arguments),
        cmocka_unit_test(test_tuning_refuses_other_backends),
        cmocka_unit_test(test_auto_prints_into_the_given_home),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
