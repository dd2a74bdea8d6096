/* SPDX-License-Identifier: MIT */
/* Fuzz target for the voucher decoders: the first byte picks the token or the code decoder, the
 * rest is the text. Whatever decodes must re-encode to the same record (tokens are canonical)
 * or the same id (codes), so a decoder that accepts two spellings of one token is caught. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "patron/error.h"
#include "patron/voucher.h"

#define TEXT_MAX 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void token(const char *text)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    char why[128], again[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    struct patron_voucher v;
    if (patron_voucher_token_decode(text, bytes, why, sizeof why) != 0)
        return;
    patron_voucher_token_encode(bytes, again);
    if (strcmp(again, text) != 0)
        abort();
    if (patron_voucher_unpack(bytes, &v) == 0) {
        unsigned char body[PATRON_VOUCHER_BODY];
        if (patron_voucher_pack(&v, body) != 0 || memcmp(body, bytes, sizeof body) != 0)
            abort();
    }
}

static void code(const char *text)
{
    char again[PATRON_VOUCHER_CODE_CHARS + 1];
    uint64_t id, id2;
    if (patron_voucher_code_decode(text, &id) != 0)
        return;
    patron_voucher_code_encode(id, again);
    if (patron_voucher_code_decode(again, &id2) != 0 || id2 != id)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[TEXT_MAX + 1];
    if (size < 1 || size - 1 > TEXT_MAX)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    if (data[0] & 1)
        code(text);
    else
        token(text);
    return 0;
}
