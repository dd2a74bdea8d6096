/* SPDX-License-Identifier: MIT */
/* Free rewards: what an offer's reward benefit and a manager's goodwill gesture give. The reward
 * is recorded as a redemption of 0 points (the ledger does not move) and becomes a signed voucher
 * bound to the member; this is the one place such vouchers are issued. */
#include <string.h>

#include "offer_internal.h"
#include "patron/reward.h"
#include "voucher_internal.h"

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

static int link_voucher(patron_store *s, int64_t redemption_id, int key_id, uint64_t voucher_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE redemptions SET voucher_key_id = ?2, voucher_id = ?3 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, redemption_id);
    sqlite3_bind_int(st, 2, key_id);
    sqlite3_bind_int64(st, 3, (int64_t)voucher_id);
    return patron__step_done(s, st);
}

int patron__coupon_issue(patron_store *s, const struct patron__member_row *m, int64_t reward_id,
                         int64_t offer_id, struct patron__coupon *out)
{
    struct patron__coupon c = {0};
    struct patron__voucher_issued v;
    struct patron_reward rw;
    int err;
    (void)offer_id; /* the voucher names the reward; offer_uses names the offer */
    if ((err = patron_reward_get(s, reward_id, &rw)) != 0 ||
        (err = insert_redemption(s, m, reward_id, &c.redemption_id)) != 0)
        return err;
    struct patron__voucher_spec spec = {.member_id = m->member_id,
                                        .offer_id = rw.reward_id,
                                        .kind = rw.kind,
                                        .value = rw.value,
                                        .currency = rw.currency,
                                        .valid_hours = rw.valid_days * 24};
    if ((err = patron__voucher_issue(s, &spec, &v)) != 0 ||
        (err = link_voucher(s, c.redemption_id, v.key_id, v.voucher_id)) != 0)
        return err;
    c.voucher_id = v.voucher_id;
    memcpy(c.code, v.code, sizeof c.code);
    *out = c;
    return 0;
}
