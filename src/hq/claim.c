/* SPDX-License-Identifier: MIT */
/* Online spend claims: before a store spends a member's points it claims them at head office in
 * one PostgreSQL transaction (hq_claim, schema.c), which locks the member's chain balance row;
 * two stores spending the same last points at once are taken one after the other, and the second
 * is refused. A refund that takes points back claims them too (hq_claim_refund): never refused,
 * it is told how much it may take. A claim whose spend then fails at the store is released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

int patron_hq_claim(patron_hq *h, const char *member_uid, int64_t points, int64_t local_points,
                    const char *key, int64_t *left, char *detail, size_t len)
{
    char pts[24], local[24];
    snprintf(pts, sizeof pts, "%lld", (long long)points);
    snprintf(local, sizeof local, "%lld", (long long)local_points);
    const char *params[] = {member_uid, pts, local, key};
    PGresult *res = PQexecParams(h->conn, "SELECT hq_claim($1, $2::bigint, $3::bigint, $4)", 4,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "head office could not take the claim", detail, len);
    int64_t after = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    if (left)
        *left = after;
    if (after >= 0)
        return 0;
    snprintf(detail, len,
             "head office refused the claim: member %s has %lld points to spend in the chain "
             "now, %lld are needed (another store may have spent them a moment ago)",
             member_uid, (long long)after + (long long)points, (long long)points);
    return PATRON_ENOFUNDS;
}

int patron_hq_claim_release(patron_hq *h, const char *key, char *detail, size_t len)
{
    const char *params[] = {key};
    PGresult *res =
        PQexecParams(h->conn, "SELECT hq_claim_release($1)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "head office could not release the claim", detail,
                               len);
    PQclear(res);
    return 0;
}

int patron_hq_claim_refund(patron_hq *h, const char *member_uid, int64_t points,
                           int64_t local_points, int clamp, const char *key, int64_t *taken,
                           int *fresh, char *detail, size_t len)
{
    char pts[24], local[24];
    snprintf(pts, sizeof pts, "%lld", (long long)points);
    snprintf(local, sizeof local, "%lld", (long long)local_points);
    const char *params[] = {member_uid, pts, local, key, clamp ? "true" : "false"};
    PGresult *res = PQexecParams(h->conn,
                                 "SELECT taken, fresh FROM hq_claim_refund($1, $2::bigint,"
                                 " $3::bigint, $4, $5::boolean)",
                                 5, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        return patron__hq_fail(res, h->conn, "head office could not take the refund's claim",
                               detail, len);
    *taken = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    *fresh = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    PQclear(res);
    return 0;
}
