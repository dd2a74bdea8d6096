/* SPDX-License-Identifier: MIT */
/* Voucher throughput against its ceiling measured in the same run: vouchers issued per second
 * (pack, sign, token and code) against raw OpenSSL Ed25519 EVP_DigestSign, and vouchers verified
 * per second (token decode, keyring look-up, verify) against raw EVP_DigestVerify. The goal is a
 * ratio of at least 0.9 for each. Also prints the full check and issue (with the register). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "voucher/voucher_internal.h"

#define ROUNDS 5

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned char msg[17 + 16 + 36];
static unsigned char sig[64];

static int raw_sign(EVP_PKEY *pkey)
{
    size_t len = sizeof sig;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestSign(md, sig, &len, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static int raw_verify(EVP_PKEY *pkey)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestVerify(md, sig, sizeof sig, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

struct ctx {
    patron_store *s;
    struct patron__key key;
    struct patron_voucher v;
    char token[PATRON_VOUCHER_TOKEN_DIGITS + 1];
    EVP_PKEY *raw;
};

static int issue_core(struct ctx *c)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    c->v.voucher_id++;
    if (patron_voucher_pack(&c->v, bytes) != 0 || patron__voucher_sign(&c->key, bytes) != 0)
        return -1;
    patron_voucher_token_encode(bytes, c->token);
    patron_voucher_code_encode(c->v.voucher_id, code);
    return 0;
}

static int verify_core(struct ctx *c)
{
    unsigned char bytes[PATRON_VOUCHER_BYTES];
    struct patron_voucher v;
    struct patron__key key;
    return patron__voucher_open(c->s, c->token, bytes, &v, &key);
}

static int check_full(struct ctx *c)
{
    struct patron_voucher_request req = {.token_or_code = c->token};
    struct patron_voucher_result res;
    return patron_voucher_check(c->s, &req, &res);
}

static int issue_full(struct ctx *c)
{
    struct patron__voucher_spec spec = {
        .kind = PATRON_VALUE_AMOUNT, .value = 500, .currency = "EUR", .valid_hours = 720};
    struct patron__voucher_issued out;
    return patron__voucher_issue(c->s, &spec, &out);
}

static double rate_once(struct ctx *c, int (*fn)(struct ctx *), int n)
{
    double t0 = seconds();
    for (int i = 0; i < n; i++)
        if (fn(c) != 0) {
            fprintf(stderr, "bench: call failed: %s\n", patron_store_detail(c->s));
            exit(1);
        }
    return n / (seconds() - t0);
}

/* Best rates of a and b over ROUNDS runs, alternating, so that both see the same machine (the
 * cores are shared and their speed drifts). */
static void rates(struct ctx *c, int (*a)(struct ctx *), int (*b)(struct ctx *), int n, double *ra,
                  double *rb)
{
    *ra = *rb = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double x = rate_once(c, a, n), y = rate_once(c, b, n);
        *ra = x > *ra ? x : *ra;
        *rb = y > *rb ? y : *rb;
    }
}

static int raw_sign_c(struct ctx *c)
{
    return raw_sign(c->raw);
}

static int raw_verify_c(struct ctx *c)
{
    return raw_verify(c->raw);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/patron-bench-XXXXXX", path[64];
    struct ctx c = {0};
    int n = argc > 1 ? atoi(argv[1]) : 4000, key_id;
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof path, "%s/patron.db", dir);
    if (patron_store_open(path, &c.s) != 0 || patron_store_init(c.s, 1, "Bench") != 0 ||
        patron__keyring_ensure(c.s, &key_id) != 0 || patron__keyring_signer(c.s, &c.key) != 0)
        return 1;
    c.v = (struct patron_voucher){.version = 1,
                                  .alg = 1,
                                  .key_id = (unsigned)key_id,
                                  .kind = PATRON_VALUE_AMOUNT,
                                  .value = 500,
                                  .currency = 978,
                                  .issued_at = (uint32_t)patron_store_now(c.s),
                                  .valid_hours = 720};
    c.raw = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    raw_sign(c.raw);
    issue_core(&c);
    double rs, is, rv, vs, rv2, cf, rs2, ifull;
    rates(&c, raw_sign_c, issue_core, n, &rs, &is);
    rates(&c, raw_verify_c, verify_core, n, &rv, &vs);
    rates(&c, raw_verify_c, check_full, n, &rv2, &cf);
    if (patron_store_batch_begin(c.s) != 0)
        return 1;
    rates(&c, raw_sign_c, issue_full, n / 4, &rs2, &ifull);
    patron_store_batch_rollback(c.s);
    printf("raw Ed25519 sign      %10.0f /s\n", rs);
    printf("vouchers issued       %10.0f /s   ratio %.2f (sign + token + code; goal >= 0.90)\n", is,
           is / rs);
    printf("raw Ed25519 verify    %10.0f /s\n", rv);
    printf("vouchers verified     %10.0f /s   ratio %.2f (decode + keyring + verify; goal >= 0.90)"
           "\n",
           vs, vs / rv);
    printf("full check            %10.0f /s   ratio %.2f (with the register's rules)\n", cf,
           cf / rv);
    printf("full issue, recorded  %10.0f /s   ratio %.2f (inside one batch)\n", ifull, ifull / rs);
    EVP_PKEY_free(c.raw);
    patron_store_close(c.s);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
