/* SPDX-License-Identifier: MIT */
/* The pull-down of `patron sync`, after shipping: members and cards enrolled at other stores,
 * every member's chain balance less this store's part, the program, vouchers redeemed or voided
 * elsewhere, card number space grants and erasures, read at head office in ONE read-only snapshot
 * and then kept at the store (patron/chain.h), without outbox rows. The snapshot's first question
 * (probe_sql, one round trip) says which parts moved since this store's cursors, and only those
 * are read: a pull when little changed is a few round trips through indexes, and when nothing
 * changed nothing is written, at the store or at head office. The cursor is the snapshot's xmin:
 * every projected row at head office keeps the transaction that last changed it, and a
 * transaction at or after xmin may not have been visible yet, so the next pull reads from there
 * again (what it reads twice it writes the same); a part that did not move keeps its cursor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/card_space.h"
#include "patron/chain.h"
#include "patron/error.h"
#include "patron/program.h"

static const char members_sql[] =
    "SELECT member_uid, name, email, phone, birthday, consent_marketing::integer,"
    " coalesce(extract(epoch FROM consent_at)::bigint, 0),"
    " coalesce(extract(epoch FROM enrolled_at)::bigint, 0), (erased_at IS NOT NULL)::integer"
    " FROM members WHERE home_store_id <> (SELECT hq_my_store()) AND changed_xid >= $1::xid8"
    " ORDER BY member_uid";

static const char cards_sql[] =
    "SELECT card_number, member_uid, blocked::integer,"
    " coalesce(extract(epoch FROM issued_at)::bigint, 0) FROM cards"
    " WHERE store_id <> (SELECT hq_my_store()) AND changed_xid >= $1::xid8 ORDER BY card_number";

static const char balances_sql[] =
    "SELECT b.member_uid, b.points - coalesce(m.points, 0), b.earned - coalesce(m.earned, 0)"
    " FROM chain_balances b LEFT JOIN chain_member_stores m ON m.member_uid = b.member_uid"
    " AND m.store_id = (SELECT hq_my_store()) WHERE b.changed_xid >= $1::xid8 ORDER BY "
    "b.member_uid";

/* $1 the chain cursor, $2 the vouchers', $3 the erasures'. One row: the snapshot's xmin; whether
 * members, cards, balances, vouchers and erasures moved (0/1 each); the newest publication and
 * the one head office holds for this store; head office's grants as count and sum (as
 * patron_card_space_grants_sum). Each EXISTS is one index probe on changed_xid. */
static const char probe_sql[] =
    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text,"
    " EXISTS (SELECT FROM members WHERE changed_xid >= $1::xid8"
    "  AND home_store_id <> (SELECT hq_my_store()))::integer,"
    " EXISTS (SELECT FROM cards WHERE changed_xid >= $1::xid8"
    "  AND store_id <> (SELECT hq_my_store()))::integer,"
    " EXISTS (SELECT FROM chain_balances WHERE changed_xid >= $1::xid8)::integer,"
    " (EXISTS (SELECT FROM voucher_claims WHERE changed_xid >= $2::xid8"
    "  AND redeemed_at IS NOT NULL AND store_id <> (SELECT hq_my_store()))"
    "  OR EXISTS (SELECT FROM voucher_voids WHERE changed_xid >= $2::xid8"
    "  AND store_id <> (SELECT hq_my_store())))::integer,"
    " EXISTS (SELECT FROM erasures WHERE changed_xid >= $3::xid8)::integer,"
    " coalesce((SELECT max(version) FROM program_versions), 0),"
    " coalesce((SELECT version FROM store_programs WHERE store_id = hq_my_store()), 0),"
    " (SELECT count(*) FROM card_spaces),"
    " (SELECT coalesce(sum(space::bigint * 65536 + store_id), 0) FROM card_spaces)";

enum {
    P_NEXT,
    P_MEMBERS,
    P_CARDS,
    P_BALANCES,
    P_VOUCHERS,
    P_ERASURES,
    P_NEWEST,
    P_REPORTED,
    P_SPACES,
    P_SPACES_SUM
};

/* Where the store stands: its cursors, program version and what it knows of the grants. */
struct pull_from {
    char chain[32], vouchers[32], erasures[32];
    int64_t program, spaces, spaces_sum;
};

/* What one pull read at head office; a part not read is NULL (PQntuples(NULL) is 0). */
struct pull_read {
    char next[32];
    int64_t reported;
    PGresult *sets[3], *program, *vouchers, *spaces, *erasures;
};

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

static int store_side(patron_store *s, struct pull_from *f, char *detail, size_t len)
{
    int rc;
    if ((rc = patron_chain_cursor(s, f->chain, sizeof f->chain)) != 0 ||
        (rc = patron_chain_voucher_cursor(s, f->vouchers, sizeof f->vouchers)) != 0 ||
        (rc = patron_chain_erasure_cursor(s, f->erasures, sizeof f->erasures)) != 0)
        snprintf(detail, len, "cannot read where the last pull ended");
    else if ((rc = patron_program_version(s, &f->program)) != 0)
        snprintf(detail, len, "cannot read the store's program version");
    else if ((rc = patron_card_space_grants_sum(s, &f->spaces, &f->spaces_sum)) != 0)
        snprintf(detail, len, "cannot read the card number spaces: %s", patron_store_detail(s));
    return rc;
}

static int moved(const PGresult *probe, int col)
{
    return strtoll(PQgetvalue(probe, 0, col), NULL, 10) != 0;
}

/* The snapshot's first question, then each part that moved. */
static int read_moved(patron_hq *h, const struct pull_from *f, struct pull_read *p, char *detail,
                      size_t len)
{
    const char *cursors[] = {f->chain, f->vouchers, f->erasures};
    static const char *const sqls[] = {members_sql, cards_sql, balances_sql};
    static const char *const names[] = {"members", "cards", "balances"};
    PGresult *probe = NULL;
    int rc = patron__hq_select(h, probe_sql, 3, cursors, "changes", &probe, detail, len);
    if (rc != 0)
        return rc;
    snprintf(p->next, sizeof p->next, "%s", PQgetvalue(probe, 0, P_NEXT));
    p->reported = strtoll(PQgetvalue(probe, 0, P_REPORTED), NULL, 10);
    for (int i = 0; i < 3 && rc == 0; i++)
        if (moved(probe, P_MEMBERS + i))
            rc = patron__hq_select(h, sqls[i], 1, cursors, names[i], &p->sets[i], detail, len);
    if (rc == 0 && strtoll(PQgetvalue(probe, 0, P_NEWEST), NULL, 10) > f->program)
        rc = patron__hq_program_read(h, f->program, &p->program, detail, len);
    if (rc == 0 && moved(probe, P_VOUCHERS))
        rc = patron__hq_vouchers_read(h, f->vouchers, &p->vouchers, detail, len);
    if (rc == 0 && (strtoll(PQgetvalue(probe, 0, P_SPACES), NULL, 10) != f->spaces ||
                    strtoll(PQgetvalue(probe, 0, P_SPACES_SUM), NULL, 10) != f->spaces_sum))
        rc = patron__hq_card_spaces_read(h, &p->spaces, detail, len);
    if (rc == 0 && moved(probe, P_ERASURES))
        rc = patron__hq_erasures_read(h, f->erasures, &p->erasures, detail, len);
    PQclear(probe);
    return rc;
}

/* Everything the pull needs from head office, in one read-only snapshot. */
static int read_all(patron_hq *h, const struct pull_from *f, struct pull_read *p, char *detail,
                    size_t len)
{
    int rc = patron__hq_run(h->conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                            "cannot start the pull at head office", detail, len);
    if (rc != 0)
        return rc;
    rc = read_moved(h, f, p, detail, len);
    PQclear(PQexec(h->conn, rc == 0 ? "COMMIT" : "ROLLBACK"));
    return rc;
}

/* Members, cards and balances, when any moved, with the next cursor. */
static int keep_moved_chain(patron_store *s, struct pull_read *p, struct patron_hq_pull_result *r,
                            char *detail, size_t len)
{
    r->members = PQntuples(p->sets[0]);
    r->cards = PQntuples(p->sets[1]);
    r->balances = PQntuples(p->sets[2]);
    /* nothing changed: no write at the store (the cursor stays, the next read is as empty) */
    if (r->members + r->cards + r->balances == 0)
        return 0;
    int rc = keep_chain(s, p->sets, p->next);
    if (rc == -EBUSY)
        snprintf(detail, len,
                 "the store was busy; what head office sent is kept at the next "
                 "sync");
    else if (rc != 0)
        snprintf(detail, len, "cannot keep what head office sent: %s", patron_store_detail(s));
    return rc;
}

int patron_hq_pull(patron_hq *h, patron_store *s, struct patron_hq_pull_result *r, char *detail,
                   size_t len)
{
    struct pull_from f;
    struct pull_read p = {.next = ""};
    int rc;
    memset(r, 0, sizeof *r);
    if ((rc = store_side(s, &f, detail, len)) != 0)
        return rc;
    if ((rc = read_all(h, &f, &p, detail, len)) == 0)
        rc = keep_moved_chain(s, &p, r, detail, len);
    if (rc == 0)
        rc = patron__hq_program_take(h, s, p.program, p.reported, &r->program_version, detail, len);
    if (rc == 0)
        rc = patron__hq_vouchers_keep(s, p.vouchers, p.next, detail, len);
    if (rc == 0)
        rc = patron__hq_card_spaces_keep(s, p.spaces, detail, len);
    if (rc == 0)
        rc = patron__hq_pull_local(s, p.erasures, p.next, r, detail, len);
    PGresult *all[] = {p.sets[0],  p.sets[1], p.sets[2], p.program,
                       p.vouchers, p.spaces,  p.erasures};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        PQclear(all[i]);
    return rc;
}
