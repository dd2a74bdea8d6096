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

/* The code and sentence for a failed result (or NULL), `what` saying what head office refused;
 * a link that broke instead is said to be lost, with head office's address. Clears the result. */
int patron__hq_fail(PGresult *res, PGconn *conn, const char *what, char *detail, size_t len);
/* Runs `sql` with no parameters and no rows expected; 0 or the failure as above. */
int patron__hq_run(PGconn *conn, const char *sql, const char *what, char *detail, size_t len);

/* Runs the query `sql` with its n text parameters into *out; 0, or the failure as above with
 * `what` naming the rows in the sentence ("vouchers") and *out NULL. */
int patron__hq_select(patron_hq *h, const char *sql, int n, const char *const *params,
                      const char *what, PGresult **out, char *detail, size_t len);

/* Projects store_id's oldest pending facts at head office, at most `most` (0: all), in one
 * transaction; how many in *projected (may be NULL). project.c. */
int patron__hq_project(patron_hq *h, int store_id, int64_t most, int64_t *projected, char *detail,
                       size_t len);
/* Projects every store's pending facts, a store per transaction: what head office's own commands
 * do before they read what the projection keeps. */
int patron__hq_project_all(patron_hq *h, char *detail, size_t len);

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
/* The parts of the pull (pull.c reads them all in one snapshot, then keeps them at the store).
 * The newest publication newer than version `have` (no row: none), pull_program.c. */
int patron__hq_program_read(patron_hq *h, int64_t have, PGresult **out, char *detail, size_t len);
/* Applies the publication read above, if any (*version: the one the store is on afterwards), then
 * reports that version to head office unless head office holds it already (`reported`). */
int patron__hq_program_take(patron_hq *h, patron_store *s, const PGresult *newest, int64_t reported,
                            int64_t *version, char *detail, size_t len);
/* Vouchers redeemed or voided at other stores since `cursor` (vouchers.c), and their keeping at
 * the store with the next cursor `next`. */
int patron__hq_vouchers_read(patron_hq *h, const char *cursor, PGresult **out, char *detail,
                             size_t len);
int patron__hq_vouchers_keep(patron_store *s, const PGresult *res, const char *next, char *detail,
                             size_t len);
/* The chain's card number space grants (card_space.c), and their keeping at the store. */
/* A store joining the chain reports the spaces it took for itself without a head office
 * (patron_card_spaces_self_taken): head office records them as granted to it, and the store keeps
 * that; PATRON_EDUPLICATE with a sentence when head office holds one for another store. Nothing
 * asked when there is nothing to report. patron_hq_ship runs it before shipping. */
int patron__hq_card_space_join(patron_hq *h, patron_store *s, char *detail, size_t len);
int patron__hq_card_spaces_read(patron_hq *h, PGresult **out, char *detail, size_t len);
int patron__hq_card_spaces_keep(patron_store *s, const PGresult *res, char *detail, size_t len);
/* Members erased anywhere since `cursor` (pull_erasure.c), and their erasure at the store. */
int patron__hq_erasures_read(patron_hq *h, const char *cursor, PGresult **out, char *detail,
                             size_t len);
int patron__hq_erasures_keep(patron_store *s, const PGresult *res, const char *next,
                             int64_t *erased, char *detail, size_t len);
/* The pull's end at the store (pull_local.c): the erasures read, then the held sales whose cards
 * are known now. */
int patron__hq_pull_local(patron_store *s, const PGresult *erasures, const char *next,
                          struct patron_hq_pull_result *r, char *detail, size_t len);

#endif
