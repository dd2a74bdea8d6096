/* SPDX-License-Identifier: MIT */
/* The projection behind the ship (schema.c, migration_project_behind): a sync projects one batch
 * of its store's pending facts once it has shipped, and head office's own commands project all
 * that is pending before they read the chain's balances, entries and conflicts, a store at a
 * time, each in its own transaction (two stores' projections lock members in their own order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

int patron__hq_project(patron_hq *h, int store_id, int64_t most, int64_t *projected, char *detail,
                       size_t len)
{
    char id[16], rows[24];
    snprintf(id, sizeof id, "%d", store_id);
    snprintf(rows, sizeof rows, "%lld", (long long)most);
    const char *params[] = {id, most > 0 ? rows : NULL};
    PGresult *res;
    int rc = patron__hq_select(h, "SELECT hq_project_pending($1::integer, $2::bigint)", 2, params,
                               "facts to project", &res, detail, len);
    if (rc != 0)
        return rc;
    if (projected)
        *projected = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int patron__hq_project_all(patron_hq *h, char *detail, size_t len)
{
    PGresult *res;
    int rc = patron__hq_select(h, "SELECT hq_pending_stores()", 0, NULL, "facts to project", &res,
                               detail, len);
    for (int i = 0; rc == 0 && i < PQntuples(res); i++)
        rc = patron__hq_project(h, atoi(PQgetvalue(res, i, 0)), 0, NULL, detail, len);
    PQclear(res);
    return rc;
}
