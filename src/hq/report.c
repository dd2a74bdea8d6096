/* SPDX-License-Identifier: MIT */
/* `patron hq report NAME`: the chain's reports, read from the shipped facts by one SQL query
 * each and handed back as the store reports' own table (include/patron/report.h), so that the
 * same writer prints them as text, CSV, JSON or an SVG chart.
 *
 * Definitions (a member is `member_uid`, or "<store>-<member id>" before stores send one; its
 * home store is the number before the dash; points are the ledger entries' moves):
 * - liability: per home store and in total, the members with an account, the points outstanding
 *   (the sum of the positive chain balances), the points owed (negative balances, shown apart)
 *   and net_issued (points the store's own entries put on member accounts, less what they took
 *   off: what each store owes the chain's members for its part). Read from the projections head
 *   office keeps (chain_balances, chain_member_stores: one row per member, and per member and
 *   store), not from every entry's payload: it stays quick with millions of entries. Every
 *   report first projects the facts still pending (project.c).
 * - redemptions: per store, the reward redemptions, the points they spent (redeem entries), the
 *   vouchers redeemed there and how many of those were accepted offline.
 * - stores: per store, the members enrolled, the sales, their total (minor units), the points
 *   earned and redeemed, the facts shipped, and the last receive time.
 * - multistore: the members who bought or moved points in more than one store: the number of
 *   stores, which ones, and their sales. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

#define MEMBER_KEY "coalesce(payload->>'member_uid', store_id || '-' || (payload->>'member_id'))"

struct hq_report {
    const char *name;
    const char *title;
    const char *kinds; /* one letter per column: T text, I integer */
    enum patron_chart chart;
    size_t chart_col;
    const char *sql;
};

static const struct hq_report reports[] = {
    {"liability", "Points outstanding per home store and in total", "TIIII", PATRON_CHART_BARS, 2,
     "WITH home AS (SELECT split_part(b.member_uid, '-', 1) AS store, count(*) AS members,"
     " coalesce(sum(b.points) FILTER (WHERE b.points > 0), 0) AS points,"
     " coalesce(-sum(b.points) FILTER (WHERE b.points < 0), 0) AS owed FROM chain_balances b"
     /* a balance row a claim opened for a member with no entry yet is not an account */
     " WHERE b.points <> 0 OR b.earned <> 0 OR EXISTS (SELECT 1 FROM chain_entries e"
     " WHERE e.member_uid = b.member_uid) GROUP BY 1),"
     " issued AS (SELECT store_id, sum(points) AS net FROM chain_member_stores GROUP BY 1),"
     " per_store AS (SELECT s.store_id, s.store_id || ' ' || s.name AS label,"
     " coalesce(h.members, 0) AS members, coalesce(h.points, 0) AS points,"
     " coalesce(h.owed, 0) AS owed, coalesce(i.net, 0) AS net FROM stores s"
     " LEFT JOIN home h ON h.store = s.store_id::text LEFT JOIN issued i"
     " ON i.store_id = s.store_id)"
     " SELECT label AS store, members, points AS outstanding_points, owed AS owed_points,"
     " net AS net_issued FROM (SELECT 0 AS o, store_id AS id, label, members, points, owed, net"
     " FROM per_store UNION ALL SELECT 1, 0, 'total', coalesce(sum(members), 0),"
     " coalesce(sum(points), 0), coalesce(sum(owed), 0), coalesce(sum(net), 0) FROM per_store) x"
     " ORDER BY o, id"},
    {"redemptions", "Redemptions per store", "TIIII", PATRON_CHART_BARS, 2,
     "WITH f AS (SELECT store_id, kind, payload FROM facts WHERE kind IN"
     " ('redemption', 'entry', 'voucher_redeemed'))"
     " SELECT s.store_id || ' ' || s.name AS store,"
     " (SELECT count(*) FROM f WHERE f.store_id = s.store_id AND kind = 'redemption')"
     " AS redemptions,"
     " (SELECT coalesce(sum((payload->>'points')::bigint), 0) FROM f WHERE f.store_id = s.store_id"
     " AND kind = 'entry' AND payload->>'kind' = 'redeem') AS points_redeemed,"
     " (SELECT count(*) FROM f WHERE f.store_id = s.store_id AND kind = 'voucher_redeemed')"
     " AS vouchers_redeemed,"
     " (SELECT count(*) FROM f WHERE f.store_id = s.store_id AND kind = 'voucher_redeemed'"
     " AND coalesce((payload->>'offline')::int, 0) = 1) AS offline"
     " FROM stores s ORDER BY s.store_id"},
    {"stores", "The stores compared", "TIIIIIIT", PATRON_CHART_BARS, 3,
     "SELECT s.store_id || ' ' || s.name AS store,"
     " count(*) FILTER (WHERE f.kind = 'member') AS members,"
     " count(*) FILTER (WHERE f.kind = 'sale') AS sales,"
     " coalesce(sum((f.payload->>'total_minor')::bigint) FILTER (WHERE f.kind = 'sale'), 0)"
     " AS sales_total,"
     " coalesce(sum((f.payload->>'points')::bigint) FILTER (WHERE f.kind = 'entry' AND"
     " f.payload->>'kind' = 'earn'), 0) AS points_earned,"
     " coalesce(sum((f.payload->>'points')::bigint) FILTER (WHERE f.kind = 'entry' AND"
     " f.payload->>'kind' = 'redeem'), 0) AS points_redeemed,"
     " count(f.store_seq) AS facts,"
     " coalesce(to_char(max(f.received_at) AT TIME ZONE 'UTC',"
     " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') AS last_sync"
     " FROM stores s LEFT JOIN facts f ON f.store_id = s.store_id"
     " GROUP BY s.store_id ORDER BY s.store_id"},
    {"multistore", "Members who use several stores", "TITI", PATRON_CHART_NONE, 0,
     "WITH uses AS (SELECT " MEMBER_KEY " AS member, store_id, kind FROM facts"
     " WHERE kind IN ('sale', 'entry') AND (payload ? 'member_uid' OR"
     " payload->>'member_id' IS NOT NULL))"
     " SELECT member, count(DISTINCT store_id) AS stores,"
     " string_agg(DISTINCT store_id::text, ' ') AS store_ids,"
     " count(*) FILTER (WHERE kind = 'sale') AS sales"
     " FROM uses GROUP BY member HAVING count(DISTINCT store_id) > 1"
     " ORDER BY count(DISTINCT store_id) DESC, member"},
};
#define N_REPORTS (sizeof reports / sizeof reports[0])

const char *const patron_hq_report_names[] = {"liability", "redemptions", "stores", "multistore",
                                              NULL};

enum patron_chart patron_hq_report_chart_of(const char *name)
{
    for (size_t i = 0; i < N_REPORTS; i++)
        if (strcmp(reports[i].name, name) == 0)
            return reports[i].chart;
    return PATRON_CHART_NONE;
}

static int fill_cell(struct patron_cell *cell, char kind, PGresult *res, int row, int col)
{
    const char *v = PQgetvalue(res, row, col);
    if (PQgetisnull(res, row, col))
        return 0;
    if (kind == 'I') {
        cell->kind = PATRON_CELL_INT;
        cell->i = strtoll(v, NULL, 10);
        return 0;
    }
    cell->kind = PATRON_CELL_TEXT;
    cell->text = strdup(v);
    return cell->text ? 0 : PATRON_ENOMEM;
}

/* The query's result as a report table (freed with patron_report_free). */
static int to_table(const struct hq_report *r, PGresult *res, struct patron_report_table **out)
{
    size_t cols = strlen(r->kinds), rows = (size_t)PQntuples(res);
    struct patron_report_table *t = calloc(1, sizeof *t);
    if (!t || cols == 0 || (size_t)PQnfields(res) != cols || cols > PATRON_REPORT_MAX_COLS ||
        rows > PATRON_REPORT_MAX_ROWS) {
        free(t);
        return t ? PATRON_ETOOBIG : PATRON_ENOMEM;
    }
    snprintf(t->name, sizeof t->name, "%s", r->name);
    snprintf(t->title, sizeof t->title, "%s", r->title);
    t->n_cols = cols;
    for (size_t c = 0; c < cols; c++)
        snprintf(t->cols[c], sizeof t->cols[c], "%s", PQfname(res, (int)c));
    t->chart = r->chart;
    t->chart_col = r->chart_col;
    t->cells = calloc(rows ? rows : 1, cols * sizeof *t->cells);
    if (!t->cells) {
        free(t);
        return PATRON_ENOMEM;
    }
    t->n_rows = t->cap_rows = rows;
    int rc = 0;
    for (size_t i = 0; i < rows && rc == 0; i++)
        for (size_t c = 0; c < cols && rc == 0; c++)
            rc = fill_cell(&t->cells[i * cols + c], r->kinds[c], res, (int)i, (int)c);
    if (rc != 0) {
        patron_report_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int patron_hq_report(patron_hq *h, const char *name, struct patron_report_table **out, char *detail,
                     size_t len)
{
    *out = NULL;
    for (size_t i = 0; i < N_REPORTS; i++) {
        if (strcmp(reports[i].name, name) != 0)
            continue;
        int rc = patron__hq_project_all(h, detail, len);
        if (rc != 0)
            return rc;
        PGresult *res = PQexec(h->conn, reports[i].sql);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            return patron__hq_fail(res, h->conn, "cannot make the report", detail, len);
        rc = to_table(&reports[i], res, out);
        PQclear(res);
        if (rc != 0)
            snprintf(detail, len, "cannot make the report: %s", patron_strerror(rc));
        return rc;
    }
    snprintf(detail, len,
             "no head office report is called %s (liability, redemptions, stores, "
             "multistore)",
             name);
    return PATRON_ENOTFOUND;
}
