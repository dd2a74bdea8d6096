/* SPDX-License-Identifier: MIT */
/* The PV1 voucher codec: the 36-byte body, the 243-digit token and the typable code with its
 * check symbol (see patron/voucher.h for the rules). Pure functions with no store and no
 * crypto, so the fuzz target can take this file alone. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "patron/error.h"
#include "patron/voucher.h"

#define GROUP_BYTES 7
#define GROUP_DIGITS 17
#define GROUPS 14 /* 14 * 7 = 98 bytes, then 2 */
#define TAIL_BYTES 2
#define TAIL_DIGITS 5
#define CODE_SYMBOLS 13 /* 64 bits in 5-bit symbols, the first holding 4 */
#define CHECK_MOD 37

_Static_assert(GROUPS *GROUP_BYTES + TAIL_BYTES == PATRON_VOUCHER_BYTES, "token groups");
_Static_assert(GROUPS *GROUP_DIGITS + TAIL_DIGITS == PATRON_VOUCHER_TOKEN_DIGITS, "digits");

/* Crockford's Base32 symbols, then the five that only the check symbol uses. */
static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int patron_voucher_pack(const struct patron_voucher *v, unsigned char body[PATRON_VOUCHER_BODY])
{
    if (v->version > 15 || v->alg > 15 || v->key_id < 1 || v->key_id > 65535 || v->member_id < 0 ||
        v->member_id >= (INT64_C(1) << 48) || (unsigned)v->kind > 3 ||
        (v->flags & ~PATRON_VOUCHER_FLAG_MASK) != 0 || v->currency > 999 || v->valid_hours < 1 ||
        v->valid_hours > 65535 || v->store_scope > 65535)
        return PATRON_EINVAL;
    body[0] = (unsigned char)(v->version << 4 | v->alg);
    put_be(body + 1, v->key_id, 2);
    put_be(body + 3, v->voucher_id, 8);
    put_be(body + 11, (uint64_t)v->member_id, 6);
    put_be(body + 17, v->offer_id, 4);
    body[21] = (unsigned char)((unsigned)v->kind | v->flags);
    put_be(body + 22, v->value, 4);
    put_be(body + 26, v->currency, 2);
    put_be(body + 28, v->issued_at, 4);
    put_be(body + 32, v->valid_hours, 2);
    put_be(body + 34, v->store_scope, 2);
    return 0;
}

int patron_voucher_unpack(const unsigned char bytes[PATRON_VOUCHER_BYTES],
                          struct patron_voucher *out)
{
    struct patron_voucher v = {0};
    v.version = bytes[0] >> 4;
    v.alg = bytes[0] & 15u;
    if (v.version != PATRON_VOUCHER_VERSION || v.alg != PATRON_VOUCHER_ALG_ED25519)
        return PATRON_EVERSION;
    v.key_id = (unsigned)get_be(bytes + 1, 2);
    v.voucher_id = get_be(bytes + 3, 8);
    v.member_id = (int64_t)get_be(bytes + 11, 6);
    v.offer_id = (uint32_t)get_be(bytes + 17, 4);
    v.kind = (enum patron_value_kind)(bytes[21] & 3u);
    v.flags = bytes[21] & ~3u;
    v.value = (uint32_t)get_be(bytes + 22, 4);
    v.currency = (unsigned)get_be(bytes + 26, 2);
    v.issued_at = (uint32_t)get_be(bytes + 28, 4);
    v.valid_hours = (unsigned)get_be(bytes + 32, 2);
    v.store_scope = (unsigned)get_be(bytes + 34, 2);
    /* Exactly what pack accepts, so every readable body is one pack could have written. */
    if ((v.flags & ~PATRON_VOUCHER_FLAG_MASK) != 0 || v.key_id == 0 || v.valid_hours == 0 ||
        v.currency > 999)
        return PATRON_EFORMAT;
    *out = v;
    return 0;
}

static void put_digits(char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        out[i] = (char)('0' + v % 10);
}

void patron_voucher_token_encode(const unsigned char bytes[PATRON_VOUCHER_BYTES],
                                 char out[PATRON_VOUCHER_TOKEN_DIGITS + 1])
{
    for (int g = 0; g < GROUPS; g++)
        put_digits(out + g * GROUP_DIGITS, get_be(bytes + g * GROUP_BYTES, GROUP_BYTES),
                   GROUP_DIGITS);
    put_digits(out + GROUPS * GROUP_DIGITS, get_be(bytes + GROUPS * GROUP_BYTES, TAIL_BYTES),
               TAIL_DIGITS);
    out[PATRON_VOUCHER_TOKEN_DIGITS] = '\0';
}

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!why || len == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* Reads n digits; returns -1 when the value needs more than `bits` bits (not canonical). */
static int get_digits(const char *in, int n, int bits, uint64_t *v)
{
    uint64_t acc = 0;
    for (int i = 0; i < n; i++)
        acc = acc * 10 + (uint64_t)(in[i] - '0'); /* 17 digits < 2^64: no overflow */
    if (acc >> bits)
        return -1;
    *v = acc;
    return 0;
}

int patron_voucher_token_decode(const char *token, unsigned char out[PATRON_VOUCHER_BYTES],
                                char *why, size_t why_len)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    size_t n = strnlen(token, PATRON_VOUCHER_TOKEN_DIGITS + 1);
    uint64_t v;
    if (n < PATRON_VOUCHER_TOKEN_DIGITS) {
        say(why, why_len, "the token has %zu characters, not 243 (cut short?)", n);
        return PATRON_EFORMAT;
    }
    if (n > PATRON_VOUCHER_TOKEN_DIGITS) {
        say(why, why_len, "the token is longer than 243 characters (something appended?)");
        return PATRON_EFORMAT;
    }
    for (size_t i = 0; i < n; i++) {
        if (token[i] < '0' || token[i] > '9') {
            say(why, why_len, "the token has a non-digit (byte 0x%02x) at position %zu",
                (unsigned)(unsigned char)token[i], i + 1);
            return PATRON_EFORMAT;
        }
    }
    for (int g = 0; g <= GROUPS; g++) {
        int last = g == GROUPS;
        if (get_digits(token + g * GROUP_DIGITS, last ? TAIL_DIGITS : GROUP_DIGITS,
                       last ? 8 * TAIL_BYTES : 8 * GROUP_BYTES, &v) != 0) {
            say(why, why_len, "the token's digit group %d is out of range", g + 1);
            return PATRON_EFORMAT;
        }
        put_be(bytes + g * GROUP_BYTES, v, last ? TAIL_BYTES : GROUP_BYTES);
    }
    memcpy(out, bytes, sizeof bytes);
    return 0;
}

void patron_voucher_code_encode(uint64_t voucher_id, char out[PATRON_VOUCHER_CODE_CHARS + 1])
{
    char sym[CODE_SYMBOLS + 1];
    for (int i = CODE_SYMBOLS - 1; i >= 0; i--)
        sym[i] = alphabet[(voucher_id >> (5 * (CODE_SYMBOLS - 1 - i))) & 31u];
    sym[CODE_SYMBOLS] = alphabet[voucher_id % CHECK_MOD];
    int o = 0;
    for (int i = 0; i <= CODE_SYMBOLS; i++) {
        if (i == 4 || i == 8 || i == 12)
            out[o++] = '-';
        out[o++] = sym[i];
    }
    out[o] = '\0';
}

/* The value of a typed symbol, reading the confusable letters as digits; -1 when none. */
static int symbol_value(int c)
{
    c = toupper(c);
    if (c == 'O')
        return 0;
    if (c == 'I' || c == 'L')
        return 1;
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

int patron_voucher_code_decode(const char *code, uint64_t *voucher_id)
{
    int sym[CODE_SYMBOLS + 1], n = 0;
    for (size_t i = 0; code[i] != '\0'; i++) {
        if (code[i] == '-' || code[i] == ' ')
            continue;
        if (n > CODE_SYMBOLS)
            return PATRON_EFORMAT;
        if ((sym[n++] = symbol_value((unsigned char)code[i])) < 0)
            return PATRON_EFORMAT;
    }
    if (n != CODE_SYMBOLS + 1 || sym[0] > 15)
        return PATRON_EFORMAT;
    uint64_t id = 0;
    for (int i = 0; i < CODE_SYMBOLS; i++) {
        if (sym[i] > 31)
            return PATRON_EFORMAT;
        id = id << 5 | (uint64_t)sym[i];
    }
    if ((uint64_t)sym[CODE_SYMBOLS] != id % CHECK_MOD)
        return PATRON_ECHECKDIGIT;
    *voucher_id = id;
    return 0;
}

static const struct {
    char code[4];
    unsigned number;
} currencies[] = {
    {"AUD", 36},  {"BGN", 975}, {"BRL", 986}, {"CAD", 124}, {"CHF", 756}, {"CNY", 156},
    {"CZK", 203}, {"DKK", 208}, {"EUR", 978}, {"GBP", 826}, {"HKD", 344}, {"HUF", 348},
    {"INR", 356}, {"ISK", 352}, {"JPY", 392}, {"KRW", 410}, {"MXN", 484}, {"NOK", 578},
    {"NZD", 554}, {"PLN", 985}, {"RON", 946}, {"SEK", 752}, {"SGD", 702}, {"TRY", 949},
    {"USD", 840}, {"ZAR", 710},
};

int patron_currency_number(const char *code, unsigned *number)
{
    for (size_t i = 0; code && i < sizeof currencies / sizeof currencies[0]; i++) {
        if (strcmp(currencies[i].code, code) == 0) {
            *number = currencies[i].number;
            return 0;
        }
    }
    return PATRON_EINVAL;
}

const char *patron_currency_code(unsigned number)
{
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++)
        if (currencies[i].number == number)
            return currencies[i].code;
    return NULL;
}
