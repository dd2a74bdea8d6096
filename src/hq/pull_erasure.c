/* SPDX-License-Identifier: MIT */
/* The pull of erasures, the last step of `patron sync`'s pull-down: every member erased at any
 * store since this store's erasure cursor, read at head office in the pull's one read-only
 * snapshot (pull.c, whose xmin is the next cursor), and erased here with the store's own erasure
 * code (patron_chain_erase), in one SQLite transaction with the cursor. The store's own erasure
 * ships like any other; head office keeps the first erasure of a member and ignores the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/chain.h"
#include "patron/error.h"

static const char erasures_sql[] =
    "SELECT member_uid, store_id, extract(epoch FROM erased_at)::bigint FROM erasures"
    " WHERE changed_xid >= $1::xid8 ORDER BY member_uid";

int patron__hq_erasures_read(patron_hq *h, const char *cursor, PGresult **out, char *detail,
                             size_t len)
{
    const char *params[] = {cursor};
    return patron__hq_select(h, erasures_sql, 1, params, "erasures", out, detail, len);
}

int patron__hq_erasures_keep(patron_store *s, const PGresult *res, const char *next,
                             int64_t *erased, char *detail, size_t len)
{
    int n = PQntuples(res);
    *erased = 0;
    if (n == 0) /* none: no write at the store (the cursor stays, the next read is as empty) */
        return 0;
    struct patron_chain_erasure *e = calloc((size_t)n, sizeof *e);
    if (!e) {
        snprintf(detail, len, "no memory for the chain's erasures");
        return PATRON_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        e[i] = (struct patron_chain_erasure){.member_uid = PQgetvalue(res, i, 0),
                                             .store_id = atoi(PQgetvalue(res, i, 1)),
                                             .erased_at = strtoll(PQgetvalue(res, i, 2), NULL, 10)};
    int rc = patron_chain_erase(s, e, (size_t)n, next, erased);
    if (rc != 0)
        snprintf(detail, len, "cannot erase what head office erased: %s", patron_store_detail(s));
    free(e);
    return rc;
}
