/* SPDX-License-Identifier: MIT */
/* `patron hq verify` and `patron hq conflicts`, read from the shipped facts alone: every store's
 * store_seq gap-free, every ledger entry a positive move between two named accounts, every
 * account (the stores' program accounts and the chain's member accounts) adding up to zero, and
 * the conflicts the chain must settle: a voucher redeemed more than once chain-wide (each use with
 * its store, store time and head office's receive time) and a member whose chain balance went
 * below zero. A member is its chain identity, `member_uid`, or "<store>-<member id>" before
 * stores send one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

#define MEMBER_KEY "coalesce(payload->>'member_uid', store_id || '-' || (payload->>'member_id'))"
#define TIME_TEXT(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* Every entry's two sides: (account, signed points); a member's account is its key. */
static const char sides_sql[] =
    "WITH e AS (SELECT store_id, payload FROM facts WHERE kind = 'entry'),"
    " sides AS ("
    " SELECT CASE WHEN payload->>'credit' = 'member' THEN 'member' ELSE 'program' END AS side,"
    " CASE WHEN payload->>'credit' = 'member' THEN " MEMBER_KEY
    " ELSE store_id || ':' || (payload->>'credit') END AS account,"
    " (payload->>'points')::bigint AS points FROM e"
    " UNION ALL"
    " SELECT CASE WHEN payload->>'debit' = 'member' THEN 'member' ELSE 'program' END,"
    " CASE WHEN payload->>'debit' = 'member' THEN " MEMBER_KEY
    " ELSE store_id || ':' || (payload->>'debit') END,"
    " -(payload->>'points')::bigint FROM e)";

/* One row of numbers from `sql`, into out[0..n). */
static int numbers(patron_hq *h, const char *sql, int64_t *out, int n, char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < n)
        return patron__hq_fail(res, h->conn, "cannot verify the head office", detail, len);
    for (int i = 0; i < n; i++)
        out[i] = PQgetisnull(res, 0, i) ? 0 : strtoll(PQgetvalue(res, 0, i), NULL, 10);
    PQclear(res);
    return 0;
}

/* Marks the result failed, keeping the first problem's sentence. */
static void problem(struct patron_hq_verify *r, const char *sentence)
{
    r->ok = 0;
    if (!r->first_problem[0])
        snprintf(r->first_problem, sizeof r->first_problem, "%s", sentence);
}

/* Each store's facts are 1..max without a gap: the first store with one is named. */
static int check_sequences(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, "SELECT store_id, count(*), max(store_seq) FROM facts"
                                    " GROUP BY store_id ORDER BY store_id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot verify the head office", detail, len);
    for (int i = 0; i < PQntuples(res); i++) {
        long long id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        long long count = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        long long max = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        r->stores_checked++;
        r->facts_checked += count;
        if (count != max) {
            r->seq_gaps++;
            char text[160];
            snprintf(text, sizeof text,
                     "store %lld has %lld facts up to store_seq %lld: %lld are missing", id, count,
                     max, max - count);
            problem(r, text);
        }
    }
    PQclear(res);
    return 0;
}

/* One pass over the entries: per member (the member key; entries without a member side group on
 * theirs too but count for no member), the member account's balance, what the entries put on the
 * program accounts, how many entries and how many of them unsound. */
static const char entries_sql[] =
    "WITH e AS (SELECT " MEMBER_KEY " AS m, payload->>'debit' AS d, payload->>'credit' AS c,"
    " (payload->>'points')::bigint AS p,"
    " NOT coalesce((payload->>'points')::bigint > 0 AND payload->>'debit' IS NOT NULL AND"
    " payload->>'credit' IS NOT NULL AND payload->>'debit' <> payload->>'credit'"
    " AND (payload->>'member_id' IS NOT NULL OR payload ? 'member_uid' OR"
    " 'member' NOT IN (payload->>'debit', payload->>'credit')), false) AS bad"
    " FROM facts WHERE kind = 'entry'),"
    " per AS (SELECT bool_or('member' IN (d, c)) AS touches,"
    " sum(CASE WHEN c = 'member' THEN p ELSE 0 END - CASE WHEN d = 'member' THEN p ELSE 0 END)"
    " AS balance,"
    " sum(CASE WHEN c = 'member' THEN 0 ELSE p END - CASE WHEN d = 'member' THEN 0 ELSE p END)"
    " AS program, count(*) AS n, count(*) FILTER (WHERE bad) AS bad FROM e GROUP BY m)"
    " SELECT coalesce(sum(program), 0), coalesce(sum(balance) FILTER (WHERE touches), 0),"
    " count(*) FILTER (WHERE touches), count(*) FILTER (WHERE touches AND balance < 0),"
    " coalesce(sum(n), 0), coalesce(sum(bad), 0) FROM per";

static int check_entries(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len)
{
    int64_t v[6] = {0};
    char text[200];
    int rc = numbers(h, entries_sql, v, 6, detail, len);
    if (rc != 0)
        return rc;
    r->program_sum = v[0];
    r->member_sum = v[1];
    r->members_checked = v[2];
    r->overdrafts = v[3];
    r->entries_checked = v[4];
    r->entries_bad = v[5];
    if (v[5] > 0) {
        snprintf(text, sizeof text,
                 "%lld ledger entries do not move a positive number of points between two "
                 "accounts",
                 (long long)v[5]);
        problem(r, text);
    }
    if (v[0] + v[1] != 0) {
        snprintf(text, sizeof text,
                 "the program accounts (%lld) and the member accounts (%lld) add up to %lld, "
                 "not 0",
                 (long long)v[0], (long long)v[1], (long long)v[0] + (long long)v[1]);
        problem(r, text);
    }
    return 0;
}

static int offline_overdrafts(patron_hq *h, patron_hq_conflict_fn fn, void *arg, int *stop,
                              int64_t *count, char *detail, size_t len);

int patron_hq_verify(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len)
{
    int64_t v[1] = {0};
    int rc;
    memset(r, 0, sizeof *r);
    r->ok = 1;
    if ((rc = check_sequences(h, r, detail, len)) != 0 || (rc = check_entries(h, r, detail, len)))
        return rc;
    rc = numbers(h,
                 "SELECT count(*) FROM (SELECT 1 FROM facts WHERE kind = 'voucher_redeemed'"
                 " GROUP BY payload->>'key_id', payload->>'voucher_id' HAVING count(*) > 1) d",
                 v, 1, detail, len);
    r->double_spends = v[0];
    int stop = 0;
    if (rc == 0)
        rc = offline_overdrafts(h, NULL, NULL, &stop, &r->offline_overdrafts, detail, len);
    return rc;
}

/* Voucher double spends: every use of each voucher redeemed more than once. */
static int double_spends(patron_hq *h, patron_hq_conflict_fn fn, void *arg, int *stop, char *detail,
                         size_t len)
{
    PGresult *res =
        PQexec(h->conn,
               "WITH r AS (SELECT store_id, store_time, received_at, payload FROM facts"
               " WHERE kind = 'voucher_redeemed'),"
               " d AS (SELECT payload->>'key_id' AS k, payload->>'voucher_id' AS v FROM r"
               " GROUP BY 1, 2 HAVING count(*) > 1)"
               " SELECT d.k, d.v, r.store_id, " TIME_TEXT("r.store_time") ", " TIME_TEXT(
                   "r.received_at") ", coalesce((r.payload->>'offline')::int, 0),"
                                    " coalesce((r.payload->>'value')::bigint, 0)"
                                    " FROM d JOIN r ON r.payload->>'key_id' = d.k AND"
                                    " r.payload->>'voucher_id' = d.v"
                                    " ORDER BY d.k, d.v, r.store_time, r.received_at, r.store_id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot list the conflicts", detail, len);
    struct patron_hq_conflict c;
    int n = PQntuples(res);
    for (int i = 0; i < n && !*stop;) {
        const char *k = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 1);
        memset(&c, 0, sizeof c);
        c.type = "double_spend";
        snprintf(c.voucher, sizeof c.voucher, "%s/%s", k, v);
        c.value = strtoll(PQgetvalue(res, i, 6), NULL, 10);
        for (; i < n && strcmp(PQgetvalue(res, i, 0), k) == 0 &&
               strcmp(PQgetvalue(res, i, 1), v) == 0;
             i++) {
            if (c.n_uses++ >= PATRON_HQ_CONFLICT_USES)
                continue;
            struct patron_hq_use *u = &c.uses[c.n_uses - 1];
            u->store_id = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
            snprintf(u->store_time, sizeof u->store_time, "%s", PQgetvalue(res, i, 3));
            snprintf(u->received_at, sizeof u->received_at, "%s", PQgetvalue(res, i, 4));
            u->offline = atoi(PQgetvalue(res, i, 5));
        }
        *stop = fn(&c, arg);
    }
    PQclear(res);
    return 0;
}

/* Overdrafts: members whose chain balance is below zero. */
static int overdrafts(patron_hq *h, patron_hq_conflict_fn fn, void *arg, int *stop, char *detail,
                      size_t len)
{
    char sql[2048];
    snprintf(sql, sizeof sql,
             "%s SELECT account, sum(points) FROM sides WHERE side = 'member'"
             " GROUP BY account HAVING sum(points) < 0 ORDER BY account",
             sides_sql);
    PGresult *res = PQexec(h->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot list the conflicts", detail, len);
    struct patron_hq_conflict c;
    for (int i = 0; i < PQntuples(res) && !*stop; i++) {
        memset(&c, 0, sizeof c);
        c.type = "overdraft";
        snprintf(c.member_uid, sizeof c.member_uid, "%s", PQgetvalue(res, i, 0));
        c.balance = strtoll(PQgetvalue(res, i, 1), NULL, 10);
        *stop = fn(&c, arg);
    }
    PQclear(res);
    return 0;
}

/* Offline spends that overdrew the chain balance: each member's entries in the order head office
 * received them (a batch's in store order), and the spends marked offline after which the
 * running balance was below zero. The rule that settles them: the negative balance is carried,
 * and later earnings cover it first (README, "The rules, stated once"). */
#define OFFLINE_ENTRY(e)                                                                           \
    "EXISTS (SELECT 1 FROM facts f WHERE f.store_id = " e ".store_id AND f.store_seq = " e         \
    ".store_seq AND f.kind = 'entry' AND f.payload @> '{\"offline\": true}')"
static const char offline_overdrafts_sql[] =
    "WITH m AS (SELECT DISTINCT e.member_uid FROM chain_entries e"
    " WHERE e.points < 0 AND " OFFLINE_ENTRY(
        "e") "),"
             " r AS (SELECT e.*, sum(e.points) OVER (PARTITION BY e.member_uid"
             " ORDER BY e.received_at, e.store_id, e.store_seq) AS after"
             " FROM chain_entries e JOIN m USING (member_uid))"
             " SELECT r.member_uid, r.store_id, -r.points, coalesce(" TIME_TEXT(
                 "r.store_time") ", ''), " TIME_TEXT("r.received_at") ", r.after FROM r WHERE "
                                                                      "r.points < 0 AND r.after < 0"
                                                                      " AND " OFFLINE_ENTRY(
                                                                          "r") " ORDER BY "
                                                                               "r.member_uid, "
                                                                               "r.received_at, "
                                                                               "r.store_id, "
                                                                               "r.store_seq";

static int offline_overdrafts(patron_hq *h, patron_hq_conflict_fn fn, void *arg, int *stop,
                              int64_t *count, char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, offline_overdrafts_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot list the offline overdrafts", detail, len);
    struct patron_hq_conflict c;
    if (count)
        *count = PQntuples(res);
    for (int i = 0; fn && i < PQntuples(res) && !*stop; i++) {
        memset(&c, 0, sizeof c);
        c.type = "offline_overdraft";
        snprintf(c.member_uid, sizeof c.member_uid, "%s", PQgetvalue(res, i, 0));
        c.value = strtoll(PQgetvalue(res, i, 2), NULL, 10);
        c.balance = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        c.n_uses = 1;
        c.uses[0].store_id = (int)strtol(PQgetvalue(res, i, 1), NULL, 10);
        snprintf(c.uses[0].store_time, sizeof c.uses[0].store_time, "%s", PQgetvalue(res, i, 3));
        snprintf(c.uses[0].received_at, sizeof c.uses[0].received_at, "%s", PQgetvalue(res, i, 4));
        c.uses[0].offline = 1;
        *stop = fn(&c, arg);
    }
    PQclear(res);
    return 0;
}

int patron_hq_conflicts_each(patron_hq *h, patron_hq_conflict_fn fn, void *arg, char *detail,
                             size_t len)
{
    int stop = 0, rc = double_spends(h, fn, arg, &stop, detail, len);
    if (rc == 0 && !stop)
        rc = overdrafts(h, fn, arg, &stop, detail, len);
    if (rc == 0 && !stop)
        rc = offline_overdrafts(h, fn, arg, &stop, NULL, detail, len);
    return rc;
}
