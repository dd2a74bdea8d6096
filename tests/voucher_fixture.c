/* SPDX-License-Identifier: MIT */
/* Shared helpers of the voucher tests (see voucher_fixture.h). */
#include "voucher_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t fixture_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

void vfix_open(struct test_store *t, int store_id, const char *chain_hex)
{
    const char *tmp = getenv("TMPDIR");
    int key_id = 0;
    snprintf(t->dir, sizeof t->dir, "%s/patron-vtest-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/patron.db", t->dir);
    assert_int_equal(patron_store_open(t->path, &t->s), 0);
    if (t->now == 0)
        t->now = TEST_EPOCH;
    patron_store_set_clock(t->s, fixture_clock, t);
    assert_int_equal(patron_store_init(t->s, store_id, "Voucher test shop"), 0);
    if (chain_hex) {
        /* Reopen, so that nothing cached the chain id store init made. */
        assert_int_equal(patron__setting_set(t->s, "chain_id", chain_hex, "test"), 0);
        patron_store_close(t->s);
        assert_int_equal(patron_store_open(t->path, &t->s), 0);
        patron_store_set_clock(t->s, fixture_clock, t);
    }
    assert_int_equal(patron__tx_begin(t->s), 0);
    assert_int_equal(patron__keyring_ensure(t->s, &key_id), 0);
    assert_int_equal(patron__tx_commit(t->s), 0);
    assert_true(key_id > 0);
}

void vfix_issue(struct test_store *t, const struct patron__voucher_spec *base,
                struct patron__voucher_issued *out)
{
    struct patron__voucher_spec spec = {.kind = PATRON_VALUE_AMOUNT,
                                        .value = 500,
                                        .currency = "EUR",
                                        .valid_hours = 24 * 30,
                                        .offer_id = 7};
    if (base)
        spec = *base;
    assert_int_equal(patron__tx_begin(t->s), 0);
    int err = patron__voucher_issue(t->s, &spec, out);
    if (err != 0)
        fail_msg("issue: %s: %s", patron_strerror(err), patron_store_detail(t->s));
    assert_int_equal(patron__tx_commit(t->s), 0);
}

int vfix_check(struct test_store *t, const char *token_or_code)
{
    struct patron_voucher_request req = {.token_or_code = token_or_code, .till = "till-1"};
    struct patron_voucher_result res;
    return patron_voucher_check(t->s, &req, &res);
}

int vfix_redeem(struct test_store *t, const char *token_or_code, const char *ref)
{
    struct patron_voucher_request req = {
        .token_or_code = token_or_code, .till = "till-1", .ref = ref};
    struct patron_voucher_result res;
    return patron_voucher_redeem(t->s, &req, &res);
}

void vfix_chain(struct test_store *t, char hex[33])
{
    assert_int_equal(patron__setting_get(t->s, "chain_id", hex, 33), 0);
}
