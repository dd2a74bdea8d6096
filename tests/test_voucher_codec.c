/* SPDX-License-Identifier: MIT */
/* The PV1 codec without a store: body packing, the strict 243-digit token, and the typable code
 * whose check symbol must catch every single wrong symbol and every neighbour swap (checked
 * exhaustively over many ids). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "patron/voucher.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

static struct patron_voucher sample(void)
{
    return (struct patron_voucher){.version = 1,
                                   .alg = 1,
                                   .key_id = 0xBEEF,
                                   .voucher_id = UINT64_C(0x0123456789ABCDEF),
                                   .member_id = INT64_C(0xFFFFFFFFFFFF),
                                   .offer_id = 0xDEADBEEF,
                                   .kind = PATRON_VALUE_PERCENT,
                                   .flags = PATRON_VOUCHER_ONLINE_ONLY | PATRON_VOUCHER_STACKABLE,
                                   .value = 0xFFFFFFFF,
                                   .currency = 978,
                                   .issued_at = 0xFFFFFFFE,
                                   .valid_hours = 65535,
                                   .store_scope = 65535};
}

static void test_pack_unpack_round_trip(void **state)
{
    (void)state;
    struct patron_voucher v = sample(), back;
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    memset(bytes, 0xA5, sizeof bytes);
    assert_int_equal(patron_voucher_pack(&v, bytes), 0);
    assert_int_equal(bytes[0], 0x11);
    assert_int_equal(bytes[1], 0xBE);
    assert_int_equal(bytes[2], 0xEF);
    assert_int_equal(bytes[3], 0x01);
    assert_int_equal(bytes[21], PATRON_VALUE_PERCENT | 0x14);
    assert_int_equal(patron_voucher_unpack(bytes, &back), 0);
    assert_int_equal(back.version, v.version);
    assert_int_equal(back.alg, v.alg);
    assert_int_equal(back.key_id, v.key_id);
    assert_true(back.voucher_id == v.voucher_id);
    assert_true(back.member_id == v.member_id);
    assert_int_equal(back.offer_id, v.offer_id);
    assert_int_equal(back.kind, v.kind);
    assert_int_equal(back.flags, v.flags);
    assert_int_equal(back.value, v.value);
    assert_int_equal(back.currency, v.currency);
    assert_int_equal(back.issued_at, v.issued_at);
    assert_int_equal(back.valid_hours, v.valid_hours);
    assert_int_equal(back.store_scope, v.store_scope);
}

static void test_pack_refuses_fields_that_do_not_fit(void **state)
{
    (void)state;
    unsigned char body[PATRON_VOUCHER_BODY];
    struct patron_voucher v = sample();
    v.member_id = INT64_C(1) << 48;
    assert_int_equal(patron_voucher_pack(&v, body), PATRON_EINVAL);
    v = sample();
    v.key_id = 0;
    assert_int_equal(patron_voucher_pack(&v, body), PATRON_EINVAL);
    v = sample();
    v.flags = 0x80;
    assert_int_equal(patron_voucher_pack(&v, body), PATRON_EINVAL);
    v = sample();
    v.valid_hours = 0;
    assert_int_equal(patron_voucher_pack(&v, body), PATRON_EINVAL);
}

static void test_unpack_refuses_other_versions_and_reserved_bits(void **state)
{
    (void)state;
    struct patron_voucher v = sample(), out;
    unsigned char bytes[PATRON_VOUCHER_BYTES] = {0};
    assert_int_equal(patron_voucher_pack(&v, bytes), 0);
    bytes[0] = 0x21;
    assert_int_equal(patron_voucher_unpack(bytes, &out), PATRON_EVERSION);
    bytes[0] = 0x12;
    assert_int_equal(patron_voucher_unpack(bytes, &out), PATRON_EVERSION);
    bytes[0] = 0x11;
    bytes[21] |= 0x20;
    assert_int_equal(patron_voucher_unpack(bytes, &out), PATRON_EFORMAT);
    bytes[21] &= 0x1f;
    bytes[26] = 0x03; /* currency 1000: no ISO 4217 number, and pack could not write it */
    bytes[27] = 0xe8;
    assert_int_equal(patron_voucher_unpack(bytes, &out), PATRON_EFORMAT);
}

static void random_bytes(unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(rand() & 0xff);
}

static void test_token_round_trip_extremes_and_random(void **state)
{
    (void)state;
    unsigned char in[PATRON_VOUCHER_BYTES], out[PATRON_VOUCHER_BYTES];
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    for (int round = 0; round < 1000; round++) {
        if (round == 0)
            memset(in, 0, sizeof in);
        else if (round == 1)
            memset(in, 0xff, sizeof in);
        else
            random_bytes(in, sizeof in);
        patron_voucher_token_encode(in, token);
        assert_int_equal(strlen(token), 243);
        assert_int_equal(strspn(token, "0123456789"), 243);
        assert_int_equal(patron_voucher_token_decode(token, out, NULL, 0), 0);
        assert_memory_equal(in, out, sizeof in);
    }
    memset(in, 0xff, sizeof in);
    patron_voucher_token_encode(in, token);
    /* 2^56 - 1 and 2^16 - 1: the largest groups. */
    assert_memory_equal(token, "72057594037927935", 17);
    assert_string_equal(token + 238, "65535");
}

static void test_token_decode_is_strict(void **state)
{
    (void)state;
    unsigned char in[PATRON_VOUCHER_BYTES] = {0}, out[PATRON_VOUCHER_BYTES];
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 2], why[128];
    patron_voucher_token_encode(in, token);
    token[242] = '\0';
    assert_int_equal(patron_voucher_token_decode(token, out, why, sizeof why), PATRON_EFORMAT);
    assert_non_null(strstr(why, "242 characters"));
    patron_voucher_token_encode(in, token);
    memcpy(token + strlen(token), "0", 2); /* one character too many */
    assert_int_equal(patron_voucher_token_decode(token, out, why, sizeof why), PATRON_EFORMAT);
    assert_non_null(strstr(why, "longer than 243"));
    patron_voucher_token_encode(in, token);
    token[100] = 'x';
    assert_int_equal(patron_voucher_token_decode(token, out, why, sizeof why), PATRON_EFORMAT);
    assert_non_null(strstr(why, "non-digit (byte 0x78) at position 101"));
    /* A group of 2^56 does not fit 7 bytes: two tokens must never name one record. */
    patron_voucher_token_encode(in, token);
    memcpy(token + 17, "72057594037927936", 17);
    assert_int_equal(patron_voucher_token_decode(token, out, why, sizeof why), PATRON_EFORMAT);
    assert_non_null(strstr(why, "group 2 is out of range"));
    patron_voucher_token_encode(in, token);
    memcpy(token + 238, "65536", 5);
    assert_int_equal(patron_voucher_token_decode(token, out, why, sizeof why), PATRON_EFORMAT);
    assert_non_null(strstr(why, "group 15"));
}

static uint64_t random_id(void)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (uint64_t)(rand() & 0xff);
    return v;
}

static void test_code_round_trip_and_tolerant_reading(void **state)
{
    (void)state;
    char code[PATRON_VOUCHER_CODE_CHARS + 1], typed[64];
    uint64_t id;
    patron_voucher_code_encode(0, code);
    assert_string_equal(code, "0000-0000-0000-00");
    patron_voucher_code_encode(UINT64_MAX, code);
    assert_memory_equal(code, "FZZZ-ZZZZ-ZZZZ-Z", 16);
    assert_int_equal(code[16], alphabet[UINT64_MAX % 37]);
    patron_voucher_code_encode(UINT64_C(0x0123456789ABCDEF), code);
    assert_int_equal(patron_voucher_code_decode(code, &id), 0);
    assert_true(id == UINT64_C(0x0123456789ABCDEF));
    /* Lower case, no dashes, spaces, O for 0 and I, L for 1. */
    for (size_t i = 0, o = 0; i <= strlen(code); i++) {
        char c = code[i];
        if (c == '-')
            continue;
        typed[o++] = c == '0' ? 'o' : c == '1' ? 'l' : (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        if (o == 5)
            typed[o++] = ' ';
    }
    assert_int_equal(patron_voucher_code_decode(typed, &id), 0);
    assert_true(id == UINT64_C(0x0123456789ABCDEF));
    for (int i = 0; i < 10000; i++) {
        uint64_t want = random_id();
        patron_voucher_code_encode(want, code);
        assert_int_equal(patron_voucher_code_decode(code, &id), 0);
        assert_true(id == want);
    }
}

static void test_code_refuses_malformed(void **state)
{
    (void)state;
    uint64_t id;
    assert_int_equal(patron_voucher_code_decode("", &id), PATRON_EFORMAT);
    assert_int_equal(patron_voucher_code_decode("0000-0000-0000-0", &id), PATRON_EFORMAT);
    assert_int_equal(patron_voucher_code_decode("0000-0000-0000-000", &id), PATRON_EFORMAT);
    assert_int_equal(patron_voucher_code_decode("0000-0000-0U00-00", &id), PATRON_EFORMAT);
    assert_int_equal(patron_voucher_code_decode("0000-0000-0000-0!", &id), PATRON_EFORMAT);
    /* The first symbol carries only 4 bits. */
    assert_int_equal(patron_voucher_code_decode("G000-0000-0000-00", &id), PATRON_EFORMAT);
    assert_int_equal(patron_voucher_code_decode("0000-0000-0000-01", &id), PATRON_ECHECKDIGIT);
}

/* The 14 symbols of a code without dashes. */
static void symbols(uint64_t id, char out[15])
{
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    patron_voucher_code_encode(id, code);
    for (size_t i = 0, o = 0; code[i]; i++)
        if (code[i] != '-')
            out[o++] = code[i], out[o] = '\0';
}

static void test_check_symbol_catches_every_single_substitution(void **state)
{
    (void)state;
    char sym[15], bad[15];
    uint64_t id;
    srand(7);
    for (int round = 0; round < 2000; round++) {
        uint64_t want = round == 0 ? 0 : round == 1 ? UINT64_MAX : random_id();
        symbols(want, sym);
        for (int pos = 0; pos < 14; pos++) {
            int symbols_at = pos == 13 ? 37 : 32;
            for (int k = 0; k < symbols_at; k++) {
                if (alphabet[k] == sym[pos])
                    continue;
                memcpy(bad, sym, sizeof bad);
                bad[pos] = alphabet[k];
                int err = patron_voucher_code_decode(bad, &id);
                if (err == 0)
                    fail_msg("%s (from %s) was accepted as %llx", bad, sym, (unsigned long long)id);
            }
        }
    }
}

static void test_check_symbol_catches_every_adjacent_swap(void **state)
{
    (void)state;
    char sym[15], bad[15];
    uint64_t id;
    int swaps = 0;
    srand(11);
    for (int round = 0; round < 20000; round++) {
        symbols(random_id(), sym);
        for (int pos = 0; pos < 13; pos++) {
            if (sym[pos] == sym[pos + 1])
                continue;
            memcpy(bad, sym, sizeof bad);
            bad[pos] = sym[pos + 1];
            bad[pos + 1] = sym[pos];
            swaps++;
            if (patron_voucher_code_decode(bad, &id) == 0)
                fail_msg("swap at %d: %s (from %s) was accepted", pos, bad, sym);
        }
    }
    assert_true(swaps > 200000);
}

static void test_currency_table(void **state)
{
    (void)state;
    unsigned n = 0;
    assert_int_equal(patron_currency_number("EUR", &n), 0);
    assert_int_equal(n, 978);
    assert_int_equal(patron_currency_number("USD", &n), 0);
    assert_int_equal(n, 840);
    assert_string_equal(patron_currency_code(826), "GBP");
    assert_int_equal(patron_currency_number("XXX", &n), PATRON_EINVAL);
    assert_null(patron_currency_code(1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_unpack_round_trip),
        cmocka_unit_test(test_pack_refuses_fields_that_do_not_fit),
        cmocka_unit_test(test_unpack_refuses_other_versions_and_reserved_bits),
        cmocka_unit_test(test_token_round_trip_extremes_and_random),
        cmocka_unit_test(test_token_decode_is_strict),
        cmocka_unit_test(test_code_round_trip_and_tolerant_reading),
        cmocka_unit_test(test_code_refuses_malformed),
        cmocka_unit_test(test_check_symbol_catches_every_single_substitution),
        cmocka_unit_test(test_check_symbol_catches_every_adjacent_swap),
        cmocka_unit_test(test_currency_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
