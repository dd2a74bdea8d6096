/* SPDX-License-Identifier: MIT */
/* What the head office's files share: the connection and the turning of a libpq failure into a
 * PATRON_E* code with a sentence. */
#ifndef PATRON_HQ_INTERNAL_H
#define PATRON_HQ_INTERNAL_H

#include <libpq-fe.h>

#include "hq.h"

struct patron_hq {
    PGconn *conn;
    int staging_made; /* this session holds the sync's staging table (sync.c) */
};

/* The code and sentence for a failed result (or NULL), `what` saying what was being done; clears
 * the result. */
int patron__hq_fail(PGresult *res, PGconn *conn, const char *what, char *detail, size_t len);
/* Runs `sql` with no parameters and no rows expected; 0 or the failure as above. */
int patron__hq_run(PGconn *conn, const char *sql, const char *what, char *detail, size_t len);

/* Reads the rows of `sql` ($1 the xid8 `cursor`) and the snapshot's xmin (the next cursor, into
 * next) in one read-only snapshot; `what` names the rows in the sentences ("vouchers"). */
int patron__hq_read_since(patron_hq *h, const char *sql, const char *what, const char *cursor,
                          PGresult **out, char next[32], char *detail, size_t len);

/* The group role of this database's stores: "<database>_stores" (roles are per cluster). */
void patron__hq_group_name(PGconn *conn, char *name, size_t len);

/* Refuses, before connecting, a host off loopback without sslmode=verify-full (PATRON_EINVAL) and
 * a TLS key file others may read (PATRON_EKEYPERM); 0 when the URL may be used. */
int patron__hq_link_check(const char *url, char *detail, size_t len);
/* The sentence for a failed connection's TLS trouble (libpq's message `msg`, head office `at`,
 * the message's first line `line`): PATRON_EAUTH, or 0 when it was not about TLS. */
int patron__hq_tls_failure(const char *msg, const char *at, const char *line, char *detail,
                           size_t len);
/* Applies program publication `version` (its document `body`) to the store in one SQLite
 * transaction with the store's own calls; nothing of it stays when any part is refused (the
 * store's sentence in detail). pull_program.c. */
int patron__hq_program_apply(patron_store *s, int64_t version, const char *body, char *detail,
                             size_t len);
/* The pull's program step: the newest publication when newer than the store's, then the version
 * the store is on reported to head office (*version, 0: none). pull_program.c. */
int patron__hq_pull_program(patron_hq *h, patron_store *s, int64_t *version, char *detail,
                            size_t len);
/* The pull of vouchers redeemed or voided at other stores (vouchers.c), after patron_hq_pull's
 * own; 0 or a code with a sentence. */
int patron__hq_pull_vouchers(patron_hq *h, patron_store *s, char *detail, size_t len);
/* The pull of the chain's card number space grants (card_space.c), kept in the store. */
int patron__hq_pull_card_spaces(patron_hq *h, patron_store *s, char *detail, size_t len);

#endif
