/* SPDX-License-Identifier: MIT */
/* Expiry by lots: every lot whose expiry time has passed loses what remains of it, oldest
 * first, as one expire entry each; tiers whose period ended are reviewed. Running it again at
 * the same time finds nothing left to do. */
#include "core/outbox_internal.h"
#include "ledger/ledger_internal.h"
#include "patron/ledger.h"

#define EXPIRY_BATCH 500

struct due_lot {
    int64_t lot_id, member_id, remaining, entry_id;
};

static int due_lots(patron_store *s, struct due_lot *lots, size_t *n)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id, member_id, remaining, entry_id FROM lots"
           " WHERE remaining > 0 AND expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2");
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    sqlite3_bind_int(st, 2, EXPIRY_BATCH);
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        lots[(*n)++] = (struct due_lot){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                        sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3)};
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int member_by_id(patron_store *s, int64_t member_id, struct patron__member_row *m)
{
    static const char *const sql =
        "SELECT a.id, a.balance, m.tier_id, COALESCE(m.tier_until, 0), t.threshold,"
        " t.multiplier_permille FROM members m JOIN accounts a ON a.member_id = m.id"
        " JOIN tiers t ON t.id = m.tier_id WHERE m.id = ?1";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *m = (struct patron__member_row){.member_id = member_id,
                                         .account_id = sqlite3_column_int64(st, 0),
                                         .balance = sqlite3_column_int64(st, 1),
                                         .tier_id = sqlite3_column_int64(st, 2),
                                         .tier_until = sqlite3_column_int64(st, 3),
                                         .tier_threshold = sqlite3_column_int64(st, 4),
                                         .tier_multiplier_permille = sqlite3_column_int64(st, 5)};
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int expire_lot(patron_store *s, const struct due_lot *lot)
{
    struct patron__member_row m;
    int64_t entry_id;
    int err = member_by_id(s, lot->member_id, &m);
    if (err != 0)
        return err;
    struct patron__posting p = {.kind = "expire",
                                .points = lot->remaining,
                                .to_member = 0,
                                .program = PATRON__ACCT_EXPIRED,
                                .original_entry = lot->entry_id,
                                .note = "lot expired"};
    if ((err = patron__ledger_post(s, &m, &p, &entry_id)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, "UPDATE lots SET remaining = 0 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, lot->lot_id);
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    return patron__outbox_add(s, PATRON__OUTBOX_LOT, lot->lot_id);
}

static int review_lapsed_tiers(patron_store *s, int64_t *reviewed)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id FROM members WHERE tier_until IS NOT NULL AND tier_until <= ?1 LIMIT 500");
    int64_t ids[500];
    size_t n = 0;
    int rc, err = 0, changed;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    for (size_t i = 0; i < n && err == 0; i++) {
        struct patron__member_row m;
        if ((err = member_by_id(s, ids[i], &m)) == 0 &&
            (err = patron__tier_review(s, &m, 0, &changed)) == 0)
            *reviewed += 1;
    }
    return err != 0 ? err : (n == 500 ? 1 : 0);
}

/* One transaction per batch so a large run neither holds the write lock for long nor
 * redoes finished work after an interruption. */
static int expire_batch(patron_store *s, struct patron_expiry_result *r, int *more)
{
    struct due_lot lots[EXPIRY_BATCH];
    size_t n = 0;
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if ((err = due_lots(s, lots, &n)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if ((err = expire_lot(s, &lots[i])) != 0)
            goto out;
        r->lots_expired++;
        r->points_expired += lots[i].remaining;
    }
    int lapsed = review_lapsed_tiers(s, &r->members_downgraded);
    if (lapsed < 0) {
        err = lapsed;
        goto out;
    }
    *more = n == EXPIRY_BATCH || lapsed;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

int patron_ledger_expire(patron_store *s, struct patron_expiry_result *out)
{
    struct patron_expiry_result r = {0};
    int more = 1, err = 0;
    while (more && err == 0)
        err = expire_batch(s, &r, &more);
    if (err == 0)
        *out = r;
    return err;
}

/* The newest entry and sale by id: rows are appended in time order, so this costs one look-up
 * each, even with millions of rows. */
static int last_recorded(patron_store *s, int64_t *out)
{
    return patron__scalar(
        s,
        "SELECT max(coalesce((SELECT created_at FROM entries ORDER BY id DESC LIMIT 1), 0),"
        " coalesce((SELECT created_at FROM sales ORDER BY id DESC LIMIT 1), 0))",
        out);
}

int patron_ledger_expire_preview(patron_store *s, struct patron_expiry_preview *out)
{
    struct patron_expiry_preview p = {.now = patron_store_now(s)};
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT coalesce(sum(remaining), 0), count(*), count(DISTINCT member_id) FROM lots"
           " WHERE remaining > 0 AND expires_at <= ?1");
    int rc, err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, p.now);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        p.points = sqlite3_column_int64(st, 0);
        p.lots = sqlite3_column_int64(st, 1);
        p.members = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if ((err = last_recorded(s, &p.last_recorded_at)) != 0)
        return err;
    p.clock_ahead = p.last_recorded_at > 0 && p.now > p.last_recorded_at + PATRON_CLOCK_AHEAD_MAX;
    *out = p;
    return 0;
}
