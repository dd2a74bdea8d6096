/* SPDX-License-Identifier: MIT */
/* Card numbers: parsing with the GS1 mod-10 check digit (what EAN-13 scanners also check), and
 * the number spaces of the chain's stores in the in-store range: each store mints from its own,
 * so no two stores can give out the same number. */
#include <stdio.h>
#include <string.h>

#include "patron/card.h"
#include "patron/error.h"

char patron_card_check_digit(const char *digits)
{
    int sum = 0;
    /* GS1: from the right of the 12 data digits, weights 3,1,3,1... */
    for (int i = 0; i < PATRON_CARD_DIGITS - 1; i++)
        sum += (digits[i] - '0') * ((i % 2) ? 3 : 1);
    return (char)('0' + (10 - sum % 10) % 10);
}

int patron_card_parse(const char *in, char out[PATRON_CARD_DIGITS + 1])
{
    char digits[PATRON_CARD_DIGITS + 1];
    size_t n = 0;
    if (!in)
        return PATRON_EINVAL;
    for (const char *p = in; *p; p++) {
        if (*p == ' ' || *p == '-')
            continue;
        if (*p < '0' || *p > '9' || n == PATRON_CARD_DIGITS)
            return PATRON_EINVAL;
        digits[n++] = *p;
    }
    digits[n] = '\0';
    if (n != PATRON_CARD_DIGITS || strncmp(digits, PATRON_CARD_PREFIX, 2) != 0)
        return PATRON_EINVAL;
    if (patron_card_check_digit(digits) != digits[PATRON_CARD_DIGITS - 1])
        return PATRON_ECHECKDIGIT;
    memcpy(out, digits, sizeof digits);
    return 0;
}

#define HALF UINT64_C(100000) /* the 10 digits as two halves of 5 */
#define STORES UINT64_C(65535)
#define ROUNDS 4

/* The round function: splitmix64's finaliser on the half and the round, reduced to a half. */
static uint64_t round_fn(uint64_t x, int round)
{
    uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(round + 1);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return (z ^ (z >> 31)) % HALF;
}

/* A permutation of 0..10^10-1 (balanced Feistel on two decimal halves) and its inverse. */
static uint64_t permute(uint64_t n)
{
    uint64_t l = n / HALF, r = n % HALF;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t = (l + round_fn(r, i)) % HALF;
        l = r;
        r = t;
    }
    return l * HALF + r;
}

static uint64_t unpermute(uint64_t n)
{
    uint64_t l = n / HALF, r = n % HALF;
    for (int i = ROUNDS - 1; i >= 0; i--) {
        uint64_t t = (r + HALF - round_fn(l, i)) % HALF;
        r = l;
        l = t;
    }
    return l * HALF + r;
}

int patron_card_mint(int store_id, uint64_t serial, char out[PATRON_CARD_DIGITS + 1])
{
    if (store_id < 1 || (uint64_t)store_id > STORES || serial >= PATRON_CARD_SERIALS)
        return PATRON_EINVAL;
    uint64_t n = permute(serial * STORES + (uint64_t)(store_id - 1));
    snprintf(out, PATRON_CARD_DIGITS + 1, "%s%010llu0", PATRON_CARD_PREFIX, (unsigned long long)n);
    out[PATRON_CARD_DIGITS - 1] = patron_card_check_digit(out);
    return 0;
}

int patron_card_store(const char *digits, uint64_t *serial)
{
    uint64_t n = 0;
    for (int i = 2; i < PATRON_CARD_DIGITS - 1; i++) {
        if (!digits || digits[i] < '0' || digits[i] > '9')
            return 0;
        n = n * 10 + (uint64_t)(digits[i] - '0');
    }
    n = unpermute(n);
    if (n / STORES >= PATRON_CARD_SERIALS)
        return 0;
    if (serial)
        *serial = n / STORES;
    return (int)(n % STORES) + 1;
}
