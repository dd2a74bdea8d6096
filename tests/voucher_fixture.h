/* SPDX-License-Identifier: MIT */
/* What the voucher tests share: extra stores (another store of the chain, a partner) beside the
 * test store, and one-line issue and check helpers that call the library as rewards will. */
#ifndef PATRON_VOUCHER_FIXTURE_H
#define PATRON_VOUCHER_FIXTURE_H

#include "testutil.h"

#include "patron/keyring.h"
#include "patron/voucher.h"
#include "voucher/voucher_internal.h"

/* Opens and inits a store with `store_id` in its own directory on t's clock; with chain_hex not
 * NULL it joins that chain. Its first key is made (key id = store id when free). */
void vfix_open(struct test_store *t, int store_id, const char *chain_hex);

/* Issues a voucher (inside a transaction, as rewards do) worth `value` of `kind`, valid for
 * `hours`, with spec fields from `base` when not NULL. Fails the test on error. */
void vfix_issue(struct test_store *t, const struct patron__voucher_spec *base,
                struct patron__voucher_issued *out);

/* Checks a token or code at t's store; returns the error code. */
int vfix_check(struct test_store *t, const char *token_or_code);

/* Redeems a token or code with `ref` from till "till-1"; returns the error code. */
int vfix_redeem(struct test_store *t, const char *token_or_code, const char *ref);

/* The store's chain id. */
void vfix_chain(struct test_store *t, char hex[33]);

#endif
