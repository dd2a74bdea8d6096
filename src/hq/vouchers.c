/* SPDX-License-Identifier: MIT */
/* Vouchers single-use per chain (issue 11): before a store redeems a voucher online it claims it
 * at head office (hq_voucher_claim, schema.c), one row per (key id, voucher id); a voucher another
 * store redeemed or voided is refused with where and when. A claim whose redemption then fails
 * at the store is given back. And the pull-down: redemptions and voids at other stores, into the
 * store's register (patron/chain.h), so it refuses them offline too. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/chain.h"
#include "patron/error.h"

int patron_hq_voucher_claim(patron_hq *h, int64_t key_id, int64_t voucher_id, const char *key,
                            char *detail, size_t len)
{
    char kid[24], vid[24];
    snprintf(kid, sizeof kid, "%" PRId64, key_id);
    snprintf(vid, sizeof vid, "%" PRId64, voucher_id);
    const char *params[] = {kid, vid, key};
    PGresult *res = PQexecParams(h->conn, "SELECT hq_voucher_claim($1::bigint, $2::bigint, $3)", 3,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "head office could not take the voucher's claim",
                               detail, len);
    int rc = 0;
    if (!PQgetisnull(res, 0, 0)) {
        const char *why = PQgetvalue(res, 0, 0);
        rc = strncmp(why, "voided", 6) == 0 ? PATRON_EVOIDED : PATRON_EREDEEMED;
        snprintf(detail, len, "head office refused the voucher: %s", why);
    }
    PQclear(res);
    return rc;
}

int patron_hq_voucher_release(patron_hq *h, const char *key, char *detail, size_t len)
{
    const char *params[] = {key};
    PGresult *res =
        PQexecParams(h->conn, "SELECT hq_voucher_release($1)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "head office could not give the voucher's claim back",
                               detail, len);
    PQclear(res);
    return 0;
}

/* Redeemed (confirmed by the redemption's arrival) or voided at other stores since the cursor. */
static const char vouchers_sql[] =
    "SELECT key_id, voucher_id, store_id, extract(epoch FROM redeemed_at)::bigint, 0"
    " FROM voucher_claims WHERE redeemed_at IS NOT NULL AND store_id <> (SELECT hq_my_store())"
    " AND changed_xid >= $1::xid8"
    " UNION ALL SELECT key_id, voucher_id, 0, 0,"
    " greatest(coalesce(extract(epoch FROM voided_at)::bigint, 1), 1) FROM voucher_voids"
    " WHERE store_id <> (SELECT hq_my_store()) AND changed_xid >= $1::xid8";

int patron__hq_vouchers_read(patron_hq *h, const char *cursor, PGresult **out, char *detail,
                             size_t len)
{
    const char *params[] = {cursor};
    return patron__hq_select(h, vouchers_sql, 1, params, "vouchers", out, detail, len);
}

int patron__hq_vouchers_keep(patron_store *s, const PGresult *res, const char *next, char *detail,
                             size_t len)
{
    int rc;
    /* none changed: no write at the store (the cursor stays, the next read is as empty) */
    if (PQntuples(res) == 0)
        return 0;
    if ((rc = patron_chain_begin(s)) == 0) {
        for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
            struct patron_chain_voucher v = {
                .key_id = strtoll(PQgetvalue(res, i, 0), NULL, 10),
                .voucher_id = strtoll(PQgetvalue(res, i, 1), NULL, 10),
                .store_id = (int)strtol(PQgetvalue(res, i, 2), NULL, 10),
                .redeemed_at = strtoll(PQgetvalue(res, i, 3), NULL, 10),
                .voided_at = strtoll(PQgetvalue(res, i, 4), NULL, 10)};
            rc = patron_chain_put_voucher(s, &v);
        }
        if (rc == 0)
            rc = patron_chain_set_voucher_cursor(s, next);
        if (rc != 0)
            patron_chain_rollback(s);
        else
            rc = patron_chain_commit(s, NULL);
    }
    if (rc != 0)
        snprintf(detail, len, "cannot keep the chain's vouchers: %s", patron_store_detail(s));
    return rc;
}
