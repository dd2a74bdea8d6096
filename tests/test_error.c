/* SPDX-License-Identifier: MIT */
/* Error codes keep their numbers. Each code's number is pinned here as released, so removing,
 * moving or renumbering a code fails this test instead of silently changing what numbers kept by
 * callers and logs mean; every code has its own number, name and message, inside the library's
 * range and away from -errno. */
#include <errno.h>
#include <string.h>

#include "testutil.h"

static const struct {
    int code;
    int number;
    const char *name;
} pinned[] = {
    {PATRON_EINVAL, -1098, "EINVAL"},
    {PATRON_ECHECKDIGIT, -1097, "ECHECKDIGIT"},
    {PATRON_EIDEMPOTENCY, -1096, "EIDEMPOTENCY"},
    {PATRON_EBADSIG, -1095, "EBADSIG"},
    {PATRON_EFORMAT, -1094, "EFORMAT"},
    {PATRON_EVERSION, -1093, "EVERSION"},
    {PATRON_EUNKNOWNKEY, -1092, "EUNKNOWNKEY"},
    {PATRON_ERETIRED, -1091, "ERETIRED"},
    {PATRON_ENOTFOUND, -1090, "ENOTFOUND"},
    {PATRON_ENOCARD, -1089, "ENOCARD"},
    {PATRON_ENOREWARD, -1088, "ENOREWARD"},
    {PATRON_ENOVOUCHER, -1087, "ENOVOUCHER"},
    {PATRON_ENOSALE, -1086, "ENOSALE"},
    {PATRON_ENOFUNDS, -1085, "ENOFUNDS"},
    {PATRON_EREDEEMED, -1084, "EREDEEMED"},
    {PATRON_EEXPIRED, -1083, "EEXPIRED"},
    {PATRON_EVOIDED, -1082, "EVOIDED"},
    {PATRON_ESCOPE, -1081, "ESCOPE"},
    {PATRON_EMEMBER, -1080, "EMEMBER"},
    {PATRON_EONLINE, -1079, "EONLINE"},
    {PATRON_ELIMIT, -1078, "ELIMIT"},
    {PATRON_ELOCKED, -1077, "ELOCKED"},
    {PATRON_EBLOCKED, -1076, "EBLOCKED"},
    {PATRON_EREFUND, -1075, "EREFUND"},
    {PATRON_EINACTIVE, -1074, "EINACTIVE"},
    {PATRON_ERULE, -1073, "ERULE"},
    {PATRON_EDEVICE, -1072, "EDEVICE"},
    {PATRON_EPAPER, -1071, "EPAPER"},
    {PATRON_ECOVER, -1070, "ECOVER"},
    {PATRON_EPRINTBUSY, -1069, "EPRINTBUSY"},
    {PATRON_EPRINTACCESS, -1068, "EPRINTACCESS"},
    {PATRON_ETIMEOUT, -1067, "ETIMEOUT"},
    {PATRON_EAUTH, -1066, "EAUTH"},
    {PATRON_EFORBIDDEN, -1065, "EFORBIDDEN"},
    {PATRON_ESCHEMA, -1064, "ESCHEMA"},
    {PATRON_EDB, -1063, "EDB"},
    {PATRON_EFULL, -1062, "EFULL"},
    {PATRON_ECRYPTO, -1061, "ECRYPTO"},
    {PATRON_EKEYPERM, -1060, "EKEYPERM"},
    {PATRON_ENOMEM, -1059, "ENOMEM"},
    {PATRON_ETOOBIG, -1058, "ETOOBIG"},
    {PATRON_EDUPLICATE, -1057, "EDUPLICATE"},
};

#define N_PINNED (sizeof pinned / sizeof pinned[0])

static void codes_keep_their_numbers(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_PINNED; i++) {
        assert_int_equal(pinned[i].code, pinned[i].number);
        assert_string_equal(patron_err_name(pinned[i].code), pinned[i].name);
    }
}

static void every_code_is_pinned_and_distinct(void **state)
{
    size_t n = 0;
    (void)state;
#define PATRON_XX(name, num, kind, msg)                                                            \
    do {                                                                                           \
        assert_int_equal(PATRON_##name, (num));                                                    \
        assert_true((num) >= PATRON__ERRNO_MIN && (num) <= PATRON__ERRNO_MAX);                     \
        n++;                                                                                       \
    } while (0);
    PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
    assert_int_equal(n, N_PINNED); /* a new code gets a pinned line here too */
    for (size_t i = 0; i < N_PINNED; i++)
        for (size_t j = i + 1; j < N_PINNED; j++) {
            assert_int_not_equal(pinned[i].number, pinned[j].number);
            assert_string_not_equal(patron_strerror(pinned[i].code),
                                    patron_strerror(pinned[j].code));
        }
}

static void errno_codes_stay_outside_the_range(void **state)
{
    (void)state;
    assert_string_equal(patron_err_name(-ENOENT), "ENOENT");
    assert_int_equal(patron_err_kind(-ENOENT), PATRON_KIND_INTERNAL);
    assert_string_equal(patron_strerror(-ENOSPC), "disk is full; nothing was written");
    assert_string_equal(patron_err_name(PATRON__ERRNO_MAX + 1), "EUNKNOWN");
    assert_string_equal(patron_strerror(PATRON__ERRNO_MIN), "unknown error");
    assert_true(-EHWPOISON > PATRON__ERRNO_MAX); /* the highest errno of Linux */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes_keep_their_numbers),
        cmocka_unit_test(every_code_is_pinned_and_distinct),
        cmocka_unit_test(errno_codes_stay_outside_the_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
