/* SPDX-License-Identifier: MIT */
/* The ledger verifier: every account's balance against the sum of its entries, open lots
 * against balances, store_seq without gaps, the program balancing to zero, and the outbox
 * numbered without gaps with a row for every ledger entry. Read-only. */
#include <stdio.h>
#include <string.h>

#include "core/store_internal.h"
#include "patron/ledger.h"

static const char bad_accounts_sql[] =
    "WITH moved(account, delta) AS ("
    "  SELECT credit_account, SUM(points) FROM entries GROUP BY credit_account"
    "  UNION ALL SELECT debit_account, -SUM(points) FROM entries GROUP BY debit_account),"
    " sums(account, total) AS (SELECT account, SUM(delta) FROM moved GROUP BY account)"
    " SELECT a.id, a.member_id, a.balance, COALESCE(s.total, 0) FROM accounts a"
    " LEFT JOIN sums s ON s.account = a.id WHERE a.balance <> COALESCE(s.total, 0) ORDER BY a.id";

static int check_accounts(patron_store *s, struct patron_verify_result *r)
{
    sqlite3_stmt *st = patron__stmt(s, bad_accounts_sql);
    int rc;
    if (!st)
        return PATRON_EDB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->accounts_bad++ == 0)
            snprintf(r->first_problem, sizeof r->first_problem,
                     "account %lld (member %lld) holds %lld points but its entries sum to %lld",
                     (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
                     (long long)sqlite3_column_int64(st, 2),
                     (long long)sqlite3_column_int64(st, 3));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static const char bad_lots_sql[] =
    "SELECT a.member_id, a.balance, COALESCE(l.open, 0) FROM accounts a"
    " LEFT JOIN (SELECT member_id, SUM(remaining) open FROM lots WHERE remaining > 0"
    "  GROUP BY member_id) l ON l.member_id = a.member_id"
    " WHERE a.member_id IS NOT NULL AND MAX(a.balance, 0) <> COALESCE(l.open, 0)";

static int check_lots(patron_store *s, struct patron_verify_result *r)
{
    sqlite3_stmt *st = patron__stmt(s, bad_lots_sql);
    int rc;
    if (!st)
        return PATRON_EDB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->lots_bad++ == 0 && !r->first_problem[0])
            snprintf(r->first_problem, sizeof r->first_problem,
                     "member %lld has a balance of %lld but %lld points in open lots",
                     (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
                     (long long)sqlite3_column_int64(st, 2));
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static const char outbox_missing_sql[] =
    "SELECT COUNT(*), COALESCE(MIN(id), 0) FROM (SELECT id FROM entries"
    " EXCEPT SELECT row_key FROM outbox WHERE tbl = 'entries')";

/* The outbox is numbered 1..n by this store, and every entry has its row. */
static int check_outbox(patron_store *s, struct patron_verify_result *r)
{
    int64_t count = 0, max_seq = 0, foreign = 0, first = 0;
    int err;
    if ((err = patron__scalar(s, "SELECT COUNT(*) FROM outbox", &count)) != 0 ||
        (err = patron__scalar(s, "SELECT COALESCE(MAX(store_seq), 0) FROM outbox", &max_seq)) !=
            0 ||
        (err = patron__scalar(
             s,
             "SELECT COUNT(*) FROM outbox WHERE store_id <> (SELECT COALESCE(CAST(value"
             " AS INTEGER), 0) FROM settings WHERE key = 'store_id')",
             &foreign)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, outbox_missing_sql);
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->outbox_missing = sqlite3_column_int64(st, 0);
        first = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    r->outbox_gaps = (max_seq - count) + foreign;
    if (r->outbox_gaps != 0 && !r->first_problem[0])
        snprintf(r->first_problem, sizeof r->first_problem,
                 "%lld outbox sequence numbers are missing or not this store's",
                 (long long)r->outbox_gaps);
    if (r->outbox_missing != 0 && !r->first_problem[0])
        snprintf(r->first_problem, sizeof r->first_problem,
                 "%lld ledger entries have no outbox row (the first is entry %lld)",
                 (long long)r->outbox_missing, (long long)first);
    return 0;
}

int patron_ledger_verify(patron_store *s, struct patron_verify_result *out)
{
    struct patron_verify_result r = {0};
    int64_t count = 0, max_seq = 0, misnumbered = 0;
    int err;
    if ((err = patron__tx_begin(s)) != 0) /* one consistent snapshot */
        return err;
    if ((err = check_accounts(s, &r)) != 0 || (err = check_lots(s, &r)) != 0 ||
        (err = patron__scalar(s, "SELECT COALESCE(SUM(balance), 0) FROM accounts",
                              &r.program_sum)) != 0 ||
        (err = patron__scalar(s, "SELECT COUNT(*) FROM accounts WHERE member_id IS NOT NULL",
                              &r.members_checked)) != 0 ||
        (err = patron__scalar(s, "SELECT COUNT(*) FROM entries", &count)) != 0 ||
        (err = patron__scalar(s, "SELECT COALESCE(MAX(store_seq), 0) FROM entries", &max_seq)) !=
            0 ||
        (err = patron__scalar(s, "SELECT COUNT(*) FROM entries WHERE store_seq <> id",
                              &misnumbered)) != 0)
        goto out;
    r.seq_gaps = (max_seq - count) + misnumbered;
    if (r.program_sum != 0 && !r.first_problem[0])
        snprintf(r.first_problem, sizeof r.first_problem, "the accounts sum to %lld points, not 0",
                 (long long)r.program_sum);
    if (r.seq_gaps != 0 && !r.first_problem[0])
        snprintf(r.first_problem, sizeof r.first_problem,
                 "%lld store sequence numbers are missing or out of place", (long long)r.seq_gaps);
    if ((err = check_outbox(s, &r)) != 0)
        goto out;
    r.ok = r.accounts_bad == 0 && r.lots_bad == 0 && r.program_sum == 0 && r.seq_gaps == 0 &&
           r.outbox_gaps == 0 && r.outbox_missing == 0;
    *out = r;
out:
    patron__tx_rollback(s);
    return err;
}
