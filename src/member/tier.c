/* SPDX-License-Identifier: MIT */
/* Tiers: a member qualifies by points earned (earnings less reversals, never the balance) over
 * the last 12 months here, plus what head office says they earned in the chain's other stores
 * (members.chain_earned, as of the last pull): tiers qualify on chain-wide earnings. The earn that
 * crosses a threshold upgrades at once and starts a 12-month period; when a period ends the tier is
 * set again from the last 12 months, which may lower it. */
#include "member/member_internal.h"

int patron__earned_last_year(patron_store *s, int64_t member_id, int64_t *out)
{
    static const char *const sql =
        "SELECT COALESCE(SUM(CASE kind WHEN 'earn' THEN points ELSE -points END), 0)"
        " + (SELECT COALESCE(chain_earned, 0) FROM members WHERE id = ?1)"
        " FROM entries WHERE member_id = ?1 AND kind IN ('earn', 'reverse') AND created_at > ?2";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s) - PATRON__YEAR_SECONDS);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

/* The highest tier whose threshold `earned` reaches. */
static int tier_for(patron_store *s, int64_t earned, int64_t *tier_id, int64_t *threshold,
                    int64_t *multiplier)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, threshold, multiplier_permille FROM tiers WHERE threshold <= ?1"
                        " ORDER BY threshold DESC LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, earned < 0 ? 0 : earned);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *tier_id = sqlite3_column_int64(st, 0);
        *threshold = sqlite3_column_int64(st, 1);
        *multiplier = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_EDB, "the program has no base tier (threshold 0)");
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int store_tier(patron_store *s, struct patron__member_row *m)
{
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE members SET tier_id = ?2, tier_until = ?3 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, m->member_id);
    sqlite3_bind_int64(st, 2, m->tier_id);
    if (m->tier_until)
        sqlite3_bind_int64(st, 3, m->tier_until);
    else
        sqlite3_bind_null(st, 3);
    return patron__step_done(s, st);
}

/* Whether any tier sits above `threshold`: an earn can only lift a member who is not at the top,
 * and most programs have few tiers, so this spares summing the member's year of entries. */
static int higher_tier_exists(patron_store *s, int64_t threshold, int *exists)
{
    const struct patron__tier_slot *tiers;
    size_t n = patron__tiers_kept(s, &tiers);
    if (n > 0) {
        *exists = tiers[n - 1].threshold > threshold;
        return 0;
    }
    sqlite3_stmt *st = patron__stmt(s, "SELECT EXISTS (SELECT 1 FROM tiers WHERE threshold > ?1)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, threshold);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *exists = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron__tier_review(patron_store *s, struct patron__member_row *m, int on_earn, int *changed)
{
    int64_t now = patron_store_now(s), earned = 0, tier_id = 0, threshold = 0, multiplier = 0;
    int period_over = m->tier_until != 0 && now >= m->tier_until;
    int err;
    *changed = 0;
    int higher = 1;
    if (!on_earn && !period_over)
        return 0;
    if (!period_over && ((err = higher_tier_exists(s, m->tier_threshold, &higher)) != 0 || !higher))
        return err;
    if ((err = patron__earned_last_year(s, m->member_id, &earned)) != 0 ||
        (err = tier_for(s, earned, &tier_id, &threshold, &multiplier)) != 0)
        return err;
    if (!period_over && threshold <= m->tier_threshold)
        return 0; /* an earn only ever lifts the tier */
    if (tier_id == m->tier_id && !period_over)
        return 0;
    *changed = tier_id != m->tier_id;
    m->tier_id = tier_id;
    m->tier_threshold = threshold;
    m->tier_multiplier_permille = multiplier;
    m->tier_until = threshold > 0 ? now + PATRON__YEAR_SECONDS : 0;
    return store_tier(s, m);
}
