/* SPDX-License-Identifier: MIT */
/* The pull-down of `patron sync`, after shipping: members and cards enrolled at other stores and
 * every member's chain balance less this store's part, read at head office in one read-only
 * snapshot and written to the store in one SQLite transaction (patron/chain.h), without outbox
 * rows; when nothing changed, nothing is written. The cursor is the snapshot's xmin: every
 * projected row at head office keeps the transaction that last changed it, and a transaction at or
 * after xmin may not have been visible yet, so the next pull reads from there again (what it reads
 * twice it writes the same). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/chain.h"
#include "patron/error.h"

static const char members_sql[] =
    "SELECT member_uid, name, email, phone, birthday, consent_marketing::integer,"
    " coalesce(extract(epoch FROM consent_at)::bigint, 0),"
    " coalesce(extract(epoch FROM enrolled_at)::bigint, 0), (erased_at IS NOT NULL)::integer"
    " FROM members WHERE home_store_id <> hq_my_store() AND changed_xid >= $1::xid8"
    " ORDER BY member_uid";

static const char cards_sql[] =
    "SELECT card_number, member_uid, blocked::integer,"
    " coalesce(extract(epoch FROM issued_at)::bigint, 0) FROM cards"
    " WHERE store_id <> hq_my_store() AND changed_xid >= $1::xid8 ORDER BY card_number";

static const char balances_sql[] =
    "SELECT b.member_uid, b.points - coalesce(m.points, 0), b.earned - coalesce(m.earned, 0)"
    " FROM chain_balances b LEFT JOIN chain_member_stores m ON m.member_uid = b.member_uid"
    " AND m.store_id = hq_my_store() WHERE b.changed_xid >= $1::xid8 ORDER BY b.member_uid";

static const char *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t int_at(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static int put_members(patron_store *s, const PGresult *res)
{
    int err = 0;
    for (int i = 0; i < PQntuples(res) && err == 0; i++) {
        struct patron_chain_member m = {.member_uid = PQgetvalue(res, i, 0),
                                        .name = text_or_null(res, i, 1),
                                        .email = text_or_null(res, i, 2),
                                        .phone = text_or_null(res, i, 3),
                                        .birthday = text_or_null(res, i, 4),
                                        .consent_marketing = (int)int_at(res, i, 5),
                                        .consent_at = int_at(res, i, 6),
                                        .created_at = int_at(res, i, 7),
                                        .erased = (int)int_at(res, i, 8)};
        err = patron_chain_put_member(s, &m);
    }
    return err;
}

static int put_cards(patron_store *s, const PGresult *res)
{
    int err = 0;
    for (int i = 0; i < PQntuples(res) && err == 0; i++) {
        struct patron_chain_card c = {.number = PQgetvalue(res, i, 0),
                                      .member_uid = PQgetvalue(res, i, 1),
                                      .blocked = (int)int_at(res, i, 2),
                                      .issued_at = int_at(res, i, 3)};
        err = patron_chain_put_card(s, &c, NULL);
    }
    return err;
}

static int put_balances(patron_store *s, const PGresult *res)
{
    int err = 0;
    for (int i = 0; i < PQntuples(res) && err == 0; i++) {
        struct patron_chain_balance b = {.member_uid = PQgetvalue(res, i, 0),
                                         .points = int_at(res, i, 1),
                                         .earned = int_at(res, i, 2)};
        err = patron_chain_put_balance(s, &b);
    }
    return err;
}

/* Writes members, cards and balances and the next cursor in one store transaction. */
static int keep_chain(patron_store *s, PGresult *sets[3], const char *next)
{
    int rc = patron_chain_begin(s);
    if (rc != 0)
        return rc;
    if ((rc = put_members(s, sets[0])) != 0 || (rc = put_cards(s, sets[1])) != 0 ||
        (rc = put_balances(s, sets[2])) != 0) {
        patron_chain_rollback(s);
        return rc;
    }
    return patron_chain_commit(s, next);
}

/* Reads one set of rows changed since the cursor. */
static int read_set(patron_hq *h, const char *sql, const char *cursor, PGresult **out, char *detail,
                    size_t len)
{
    const char *params[] = {cursor};
    *out = PQexecParams(h->conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(*out) == PGRES_TUPLES_OK)
        return 0;
    int rc = patron__hq_fail(*out, h->conn, "cannot read the chain at head office", detail, len);
    *out = NULL;
    return rc;
}

/* Reads members, cards and balances in one snapshot, and that snapshot's xmin. */
static int read_chain(patron_hq *h, const char *cursor, PGresult *sets[3], char next[32],
                      char *detail, size_t len)
{
    int rc = patron__hq_run(h->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                            "cannot start the pull at head office", detail, len);
    if (rc != 0)
        return rc;
    PGresult *res = PQexec(h->conn, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = patron__hq_fail(res, h->conn, "cannot read head office's snapshot", detail, len);
    else {
        snprintf(next, 32, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
    }
    if (rc == 0)
        rc = read_set(h, members_sql, cursor, &sets[0], detail, len);
    if (rc == 0)
        rc = read_set(h, cards_sql, cursor, &sets[1], detail, len);
    if (rc == 0)
        rc = read_set(h, balances_sql, cursor, &sets[2], detail, len);
    PQclear(PQexec(h->conn, rc == 0 ? "COMMIT" : "ROLLBACK"));
    return rc;
}

int patron_hq_pull(patron_hq *h, patron_store *s, struct patron_hq_pull_result *r, char *detail,
                   size_t len)
{
    PGresult *sets[3] = {NULL, NULL, NULL};
    char cursor[32], next[32];
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = patron_chain_cursor(s, cursor, sizeof cursor)) != 0) {
        snprintf(detail, len, "cannot read where the last pull ended");
        return rc;
    }
    if ((rc = read_chain(h, cursor, sets, next, detail, len)) == 0) {
        r->members = PQntuples(sets[0]);
        r->cards = PQntuples(sets[1]);
        r->balances = PQntuples(sets[2]);
        /* nothing changed: no write at the store (the cursor stays, the next read is as empty) */
        if (r->members + r->cards + r->balances > 0)
            rc = keep_chain(s, sets, next);
        if (rc == -EBUSY)
            snprintf(detail, len,
                     "the store was busy; what head office sent is kept at the next "
                     "sync");
        else if (rc != 0)
            snprintf(detail, len, "cannot keep what head office sent: %s", patron_store_detail(s));
    }
    if (rc == 0)
        rc = patron__hq_pull_program(h, s, &r->program_version, detail, len);
    for (int i = 0; i < 3; i++)
        PQclear(sets[i]);
    if (rc == 0)
        rc = patron__hq_pull_vouchers(h, s, detail, len);
    if (rc == 0)
        rc = patron__hq_pull_card_spaces(h, s, detail, len);
    if (rc == 0)
        rc = patron_hq_pull_local(h, s, r, detail, len);
    return rc;
}
