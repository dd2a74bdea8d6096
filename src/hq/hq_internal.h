/* SPDX-License-Identifier: MIT */
/* What the head office's files share: the connection and the turning of a libpq failure into a
 * PATRON_E* code with a sentence. */
#ifndef PATRON_HQ_INTERNAL_H
#define PATRON_HQ_INTERNAL_H

#include <libpq-fe.h>

#include "hq.h"

struct patron_hq {
    PGconn *conn;
};

/* The code and sentence for a failed result (or NULL), `what` saying what was being done; clears
 * the result. */
int patron__hq_fail(PGresult *res, PGconn *conn, const char *what, char *detail, size_t len);
/* Runs `sql` with no parameters and no rows expected; 0 or the failure as above. */
int patron__hq_run(PGconn *conn, const char *sql, const char *what, char *detail, size_t len);

/* The group role of this database's stores: "<database>_stores" (roles are per cluster). */
void patron__hq_group_name(PGconn *conn, char *name, size_t len);

/* The pull of vouchers redeemed or voided at other stores (vouchers.c), after patron_hq_pull's
 * own; 0 or a code with a sentence. */
int patron__hq_pull_vouchers(patron_hq *h, patron_store *s, char *detail, size_t len);

#endif
