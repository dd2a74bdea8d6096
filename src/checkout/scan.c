/* SPDX-License-Identifier: MIT */
/* The checkout scan: the member behind a card with their points, tier and progress, points
 * expiring soon, the rewards they can afford now and the offers meant for them. Reads only, except
 * for a tier review when the member's tier period has ended. */
#include <string.h>

#include "market/offer_internal.h"
#include "member/member_internal.h"
#include "patron/program.h"
#include "patron/reward.h"
#include "patron/scan.h"

static int expiring(patron_store *s, int64_t member_id, int64_t notice_days,
                    struct patron_scan_result *r)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT COALESCE(SUM(remaining), 0), MIN(expires_at) FROM lots"
                        " WHERE member_id = ?1 AND remaining > 0 AND expires_at <= ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s) + notice_days * PATRON__DAY_SECONDS);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        r->expiring_points = sqlite3_column_int64(st, 0);
        r->expiring_at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int next_tier(patron_store *s, const struct patron__member_row *m,
                     struct patron_scan_result *r)
{
    int64_t earned;
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT name, threshold FROM tiers WHERE threshold > ?1 ORDER BY threshold LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, m->tier_threshold);
    int rc = sqlite3_step(st);
    int64_t threshold = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    if (rc == SQLITE_ROW)
        patron__copy(r->next_tier, sizeof r->next_tier, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
    int err = patron__earned_last_year(s, m->member_id, &earned);
    if (err == 0)
        r->points_to_next_tier = threshold > earned ? threshold - earned : 0;
    return err;
}

static int affordable_rewards(patron_store *s, int64_t points, struct patron_scan_result *r)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, name, cost FROM rewards WHERE active = 1 AND cost <= ?1"
                        " ORDER BY cost, id LIMIT ?2");
    int rc;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, points);
    sqlite3_bind_int(st, 2, PATRON_SCAN_MAX_REWARDS);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct patron_scan_reward *w = &r->rewards[r->n_rewards++];
        w->reward_id = sqlite3_column_int64(st, 0);
        patron__copy(w->name, sizeof w->name, (const char *)sqlite3_column_text(st, 1));
        w->cost = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* A lapsed tier period is settled before the cashier sees the tier. */
static int settle_tier(patron_store *s, struct patron__member_row *m)
{
    int changed, err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__tier_review(s, m, 0, &changed)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

static int tier_lapsed(patron_store *s, const struct patron__member_row *m)
{
    return m->tier_until && patron_store_now(s) >= m->tier_until;
}

/* What the cashier sees, read from one snapshot of the store. */
static int read_scan(patron_store *s, const struct patron__member_row *m,
                     struct patron_scan_result *r)
{
    struct patron_program p;
    int err;
    if ((err = patron_program_get(s, &p)) != 0 ||
        (err = expiring(s, m->member_id, p.expiry_notice_days, r)) != 0 ||
        (err = next_tier(s, m, r)) != 0 ||
        (err = affordable_rewards(s, patron__member_points(m), r)) != 0)
        return err;
    return patron__offers_scan(s, m, r);
}

/* The scan reads in one snapshot of the store (SQLite's read lock taken once). A lapsed tier
 * period is a write: the snapshot is left for it, and the member read again after. */
int patron_scan(patron_store *s, const char *card, struct patron_scan_result *out)
{
    struct patron_scan_result result, *r = &result;
    struct patron__member_row m;
    int opened, err;
    memset(r, 0, sizeof *r);
    if ((err = patron__read_begin(s, &opened)) != 0)
        return err;
    if ((err = patron__member_load(s, card, &r->member, &m)) == 0 && (m.card_blocked || m.erased))
        err = patron__fail(s, PATRON_EBLOCKED, "card %s was blocked; use the member's new card",
                           r->member.card);
    if (err == 0 && tier_lapsed(s, &m)) {
        patron__read_end(s, opened);
        if ((err = settle_tier(s, &m)) != 0 || (err = patron__read_begin(s, &opened)) != 0)
            return err;
        err = patron__member_load(s, card, &r->member, &m);
    }
    if (err == 0)
        err = read_scan(s, &m, r);
    patron__read_end(s, opened);
    if (err == 0)
        *out = result;
    return err;
}
