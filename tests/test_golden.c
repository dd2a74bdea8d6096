/* SPDX-License-Identifier: MIT */
/* Golden bytes: every template in receipts/ rendered on a 58 mm and an 80 mm profile must give
 * exactly the bytes in tests/golden/NAME-58.bin / NAME-80.bin. To accept a change on purpose:
 * PATRON_UPDATE_GOLDEN=1 ctest --test-dir build -R golden (see tests/golden/README.md). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patron/receipt.h"
#include "print_fixture.h"

static const char *const templates[] = {"reward-coupon", "offer-coupon", "receipt-footer",
                                        "member-card", "test-page"};

static void check_golden(const char *name, const char *profile, const char *suffix)
{
    patron_receipt *t = NULL;
    struct patron_receipt_var v[FIXTURE_MAX_VARS];
    char msg[256], path[1024];
    uint8_t *bytes = NULL;
    size_t len = 0, n = fixture_vars(v, fixture_token());
    const char *src = getenv("PATRON_SOURCE_DIR");
    assert_non_null(src);
    assert_int_equal(patron_receipt_load(NULL, name, &t, msg, sizeof msg), 0);
    assert_int_equal(patron_receipt_render_job(t, patron_escpos_profile_find(profile), v, n, &bytes,
                                               &len, msg, sizeof msg),
                     0);
    snprintf(path, sizeof path, "%s/tests/golden/%s-%s.bin", src, name, suffix);
    if (getenv("PATRON_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(bytes, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
    }
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("no golden file %s: run PATRON_UPDATE_GOLDEN=1 ctest -R golden", path);
    uint8_t *want = malloc(len + 1);
    size_t got = fread(want, 1, len + 1, f);
    fclose(f);
    if (got != len || memcmp(want, bytes, len) != 0) {
        size_t at = 0;
        while (at < len && at < got && want[at] == bytes[at])
            at++;
        fail_msg("%s on %s differs from %s at byte %zu (%zu bytes, golden %zu)", name, profile,
                 path, at, len, got);
    }
    free(want);
    free(bytes);
    patron_receipt_free(t);
}

static void golden_templates_58mm(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        check_golden(templates[i], "generic-58", "58");
}

static void golden_templates_80mm(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof templates / sizeof templates[0]; i++)
        check_golden(templates[i], "epson-tm-t20", "80");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_templates_58mm),
        cmocka_unit_test(golden_templates_80mm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
