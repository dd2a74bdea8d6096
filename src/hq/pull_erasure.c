/* SPDX-License-Identifier: MIT */
/* The pull of erasures, the last step of `patron sync`'s pull-down: every member erased at any
 * store since this store's erasure cursor, read at head office in one read-only snapshot with its
 * xmin as the next cursor (as pull.c does), and erased here with the store's own erasure code
 * (patron_chain_erase), in one SQLite transaction with the cursor. The store's own erasure ships
 * like any other; head office keeps the first erasure of a member and ignores the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/chain.h"
#include "patron/error.h"

static const char erasures_sql[] =
    "SELECT member_uid, store_id, extract(epoch FROM erased_at)::bigint FROM erasures"
    " WHERE changed_xid >= $1::xid8 ORDER BY member_uid";

int patron_hq_pull_erasures(patron_hq *h, patron_store *s, int64_t *erased, char *detail,
                            size_t len)
{
    char cursor[32], next[32];
    PGresult *res = NULL;
    int rc;
    *erased = 0;
    if ((rc = patron_chain_erasure_cursor(s, cursor, sizeof cursor)) != 0) {
        snprintf(detail, len, "cannot read where the last pull of erasures ended");
        return rc;
    }
    if ((rc = patron__hq_read_since(h, erasures_sql, "erasures", cursor, &res, next, detail,
                                    len)) != 0)
        return rc;
    int n = PQntuples(res);
    if (n == 0) { /* none: no write at the store (the cursor stays, the next read is as empty) */
        PQclear(res);
        return 0;
    }
    struct patron_chain_erasure *e = calloc(n > 0 ? (size_t)n : 1, sizeof *e);
    if (!e) {
        PQclear(res);
        snprintf(detail, len, "no memory for the chain's erasures");
        return PATRON_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        e[i] = (struct patron_chain_erasure){.member_uid = PQgetvalue(res, i, 0),
                                             .store_id = atoi(PQgetvalue(res, i, 1)),
                                             .erased_at = strtoll(PQgetvalue(res, i, 2), NULL, 10)};
    rc = patron_chain_erase(s, e, (size_t)n, next, erased);
    if (rc != 0)
        snprintf(detail, len, "cannot erase what head office erased: %s", patron_store_detail(s));
    free(e);
    PQclear(res);
    return rc;
}
