/* SPDX-License-Identifier: MIT */
/* Free rewards: what an offer's reward benefit and a manager's goodwill gesture give. The reward
 * is recorded as a redemption of 0 points (the ledger does not move) and becomes a voucher; this
 * is the one place such vouchers are issued. */
#include <string.h>

#include "offer_internal.h"

static int insert_redemption(patron_store *s, const struct patron__member_row *m, int64_t reward_id,
                             int64_t *redemption_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO redemptions(reward_id, member_id, points, balance_after, created_at)"
           " VALUES (?1, ?2, 0, ?3, ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, reward_id);
    sqlite3_bind_int64(st, 2, m->member_id);
    sqlite3_bind_int64(st, 3, m->balance);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0)
        *redemption_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

int patron__coupon_issue(patron_store *s, const struct patron__member_row *m, int64_t reward_id,
                         int64_t offer_id, struct patron__coupon *out)
{
    struct patron__coupon c = {0};
    int err = insert_redemption(s, m, reward_id, &c.redemption_id);
    if (err != 0)
        return err;
    (void)offer_id;
    /* VOUCHER ISSUE POINT. Once main has patron__voucher_issue (src/voucher_internal.h), issue
     * the reward's voucher here, bound to the member, in the caller's transaction:
     *     spec = {.member_id = m->member_id, .offer_id = reward_id, .kind = reward kind,
     *             .value = reward value, .currency = reward currency,
     *             .valid_hours = reward valid_days * 24};
     *     patron__voucher_issue(s, &spec, &issued);
     *     c.voucher_id = issued.voucher_id; memcpy(c.code, issued.code, sizeof c.code);
     * Until then the 0-point redemption is the record of the free reward. */
    *out = c;
    return 0;
}
