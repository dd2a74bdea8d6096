/* SPDX-License-Identifier: MIT */
/* `patron hq verify` and `patron hq conflicts`, read from the shipped facts alone: every store's
 * store_seq gap-free, every ledger entry a positive move between two named accounts, every
 * account (the stores' program accounts and the chain's member accounts) adding up to zero,
 * every entry projected once and every chain balance the sum of its projected entries, and
 * the conflicts the chain must settle: a voucher redeemed more than once chain-wide (each use with
 * its store, store time and head office's receive time), a member whose chain balance went
 * below zero, and an offline spend that overdrew it. A member is its chain identity,
 * `member_uid`, or "<store>-<member id>" before stores send one. The conflicts' SQL is head
 * office's own (hq_conflict_rows(), schema.c), which a store reads its part of through
 * hq_chain_conflicts() (the back office's chain screen); their sentences are made here. Both
 * commands first project the facts still pending (project.c): the conflicts read the entries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

#define MEMBER_KEY "coalesce(payload->>'member_uid', store_id || '-' || (payload->>'member_id'))"

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

/* The projection agrees with the facts: one chain entry per entry shipped, and every member's
 * chain balance the sum of their chain entries (a balance without entries is 0). */
static const char projection_sql[] =
    "SELECT (SELECT count(*) FROM chain_entries), (SELECT count(*) FROM chain_balances b"
    " FULL JOIN (SELECT member_uid, sum(points) AS points FROM chain_entries GROUP BY 1) e"
    " USING (member_uid) WHERE coalesce(b.points, 0) <> coalesce(e.points, 0))";

static int check_projection(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len)
{
    int64_t v[2] = {0};
    char text[200];
    int rc = numbers(h, projection_sql, v, 2, detail, len);
    if (rc != 0)
        return rc;
    r->entries_projected = v[0];
    r->balances_off = v[1];
    if (v[0] != r->entries_checked) {
        snprintf(text, sizeof text,
                 "head office projected %lld chain entries from %lld ledger entries shipped",
                 (long long)v[0], (long long)r->entries_checked);
        problem(r, text);
    }
    if (v[1] > 0) {
        snprintf(text, sizeof text,
                 "%lld members' chain balances are not the sum of their chain entries",
                 (long long)v[1]);
        problem(r, text);
    }
    return 0;
}

int patron_hq_verify(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len)
{
    int64_t v[2] = {0};
    int rc;
    memset(r, 0, sizeof *r);
    r->ok = 1;
    if ((rc = patron__hq_project_all(h, detail, len)) != 0 ||
        (rc = check_sequences(h, r, detail, len)) != 0 ||
        (rc = check_entries(h, r, detail, len)) != 0 || (rc = check_projection(h, r, detail, len)))
        return rc;
    rc = numbers(h,
                 "SELECT count(DISTINCT ref) FILTER (WHERE kind = 'double_spend'),"
                 " count(*) FILTER (WHERE kind = 'offline_overdraft') FROM hq_conflict_rows()",
                 v, 2, detail, len);
    r->double_spends = v[0];
    r->offline_overdrafts = v[1];
    return rc;
}

/* The conflicts are read from head office's own functions (schema.c, "the chain as a store may
 * read it"): hq_conflict_rows() for the whole chain, hq_chain_conflicts() for the calling store.
 * Both give one row per use, a conflict's rows together, in these columns. */
#define CONFLICT_COLUMNS                                                                           \
    "kind, ref, coalesce(member_uid, ''), coalesce(voucher, ''), value, coalesce(balance, 0),"     \
    " store_id, coalesce(store_time, ''), coalesce(received_at, ''), offline"

static const char *const conflict_types[] = {"double_spend", "overdraft", "offline_overdraft"};

/* A conflict from its first row (i), without its uses. */
static void conflict_start(PGresult *res, int i, struct patron_hq_conflict *c)
{
    memset(c, 0, sizeof *c);
    c->type = "conflict";
    for (size_t t = 0; t < sizeof conflict_types / sizeof conflict_types[0]; t++)
        if (strcmp(PQgetvalue(res, i, 0), conflict_types[t]) == 0)
            c->type = conflict_types[t];
    snprintf(c->member_uid, sizeof c->member_uid, "%s", PQgetvalue(res, i, 2));
    snprintf(c->voucher, sizeof c->voucher, "%s", PQgetvalue(res, i, 3));
    c->value = strtoll(PQgetvalue(res, i, 4), NULL, 10);
    c->balance = strtoll(PQgetvalue(res, i, 5), NULL, 10);
}

/* Row i's use (a row without a store has none: an overdraft's). */
static void conflict_use(PGresult *res, int i, struct patron_hq_conflict *c)
{
    if (PQgetisnull(res, i, 6) || c->n_uses++ >= PATRON_HQ_CONFLICT_USES)
        return;
    struct patron_hq_use *u = &c->uses[c->n_uses - 1];
    u->store_id = (int)strtol(PQgetvalue(res, i, 6), NULL, 10);
    snprintf(u->store_time, sizeof u->store_time, "%s", PQgetvalue(res, i, 7));
    snprintf(u->received_at, sizeof u->received_at, "%s", PQgetvalue(res, i, 8));
    u->offline = strcmp(PQgetvalue(res, i, 9), "t") == 0;
}

/* Calls fn for each conflict `sql` reads (CONFLICT_COLUMNS, a conflict's rows together). */
static int conflicts_of(patron_hq *h, const char *sql, patron_hq_conflict_fn fn, void *arg,
                        char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot list the conflicts", detail, len);
    struct patron_hq_conflict c;
    int n = PQntuples(res), stop = 0;
    for (int i = 0; i < n && !stop;) {
        const char *kind = PQgetvalue(res, i, 0), *ref = PQgetvalue(res, i, 1);
        conflict_start(res, i, &c);
        for (; i < n && strcmp(PQgetvalue(res, i, 0), kind) == 0 &&
               strcmp(PQgetvalue(res, i, 1), ref) == 0;
             i++)
            conflict_use(res, i, &c);
        stop = fn(&c, arg);
    }
    PQclear(res);
    return 0;
}

int patron_hq_conflicts_each(patron_hq *h, patron_hq_conflict_fn fn, void *arg, char *detail,
                             size_t len)
{
    int rc = patron__hq_project_all(h, detail, len);
    if (rc != 0)
        return rc;
    return conflicts_of(h, "SELECT " CONFLICT_COLUMNS " FROM hq_conflict_rows() ORDER BY part, ord",
                        fn, arg, detail, len);
}

int patron_hq_chain_conflicts_each(patron_hq *h, patron_hq_conflict_fn fn, void *arg, char *detail,
                                   size_t len)
{
    return conflicts_of(h,
                        "SELECT " CONFLICT_COLUMNS " FROM hq_chain_conflicts()"
                        " ORDER BY newest DESC, kind, ref, ord",
                        fn, arg, detail, len);
}

/* "; store 2 at TIME (store clock), received TIME, offline" for each use, appended to out. */
static void uses_sentence(const struct patron_hq_conflict *c, char *out, size_t len)
{
    for (int i = 0; i < c->n_uses && i < PATRON_HQ_CONFLICT_USES; i++) {
        const struct patron_hq_use *u = &c->uses[i];
        size_t n = strlen(out);
        if (n + 1 >= len)
            return;
        snprintf(out + n, len - n, "%sstore %d at %s (store clock), received %s%s", i ? "; " : ": ",
                 u->store_id, u->store_time[0] ? u->store_time : "?", u->received_at,
                 u->offline ? ", offline" : "");
    }
}

void patron_hq_conflict_sentence(const struct patron_hq_conflict *c, char *out, size_t len)
{
    if (strcmp(c->type, "offline_overdraft") == 0) {
        const struct patron_hq_use *u = &c->uses[0];
        snprintf(out, len,
                 "offline overdraft: member %s spent %lld points offline at store %d at %s "
                 "(store clock), received %s, leaving a chain balance of %lld (carried; later "
                 "earnings cover it first)",
                 c->member_uid, (long long)c->value, u->store_id, u->store_time, u->received_at,
                 (long long)c->balance);
    } else if (strcmp(c->type, "overdraft") == 0) {
        snprintf(out, len, "overdraft: member %s has a chain balance of %lld points", c->member_uid,
                 (long long)c->balance);
    } else {
        snprintf(out, len, "double spend: voucher %s (value %lld) redeemed %d times", c->voucher,
                 (long long)c->value, c->n_uses);
        uses_sentence(c, out, len);
    }
}
