/* SPDX-License-Identifier: MIT */
/* The end of `patron sync`'s pull, at the store, once members, cards and balances are in: the
 * chain's erasures (pull_erasure.c), then the sales held on cards not yet known that are known
 * now (patron/held.h), each posted exactly once. */
#include <stdio.h>

#include "hq_internal.h"
#include "patron/error.h"
#include "patron/held.h"

int patron__hq_pull_local(patron_store *s, const PGresult *erasures, const char *next,
                          struct patron_hq_pull_result *r, char *detail, size_t len)
{
    int rc = patron__hq_erasures_keep(s, erasures, next, &r->erased, detail, len);
    if (rc == 0 && (rc = patron_held_post(s, &r->held_posted)) != 0)
        snprintf(detail, len, "cannot post the sales held on cards now known: %s",
                 patron_store_detail(s));
    return rc;
}
