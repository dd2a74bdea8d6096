/* SPDX-License-Identifier: MIT */
/* Coupons: a redeemed reward becomes a signed voucher bound to the member, and its coupon joins
 * the print queue in the same transaction. This is the one place it happens, for rewards bought
 * with points, for rewards an offer gives, and for a manager's goodwill gesture (recorded as a
 * redemption of 0 points: the ledger does not move). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/outbox_internal.h"
#include "patron/print.h"
#include "patron/reward.h"
#include "reward/coupon_internal.h"
#include "voucher/voucher_internal.h"

static void format_value(const struct patron_reward *rw, char *buf, size_t len)
{
    switch (rw->kind) {
    case PATRON_VALUE_AMOUNT:
        snprintf(buf, len, "%lld.%02lld %s", (long long)(rw->value / 100),
                 (long long)(rw->value % 100), rw->currency);
        break;
    case PATRON_VALUE_PERCENT:
        snprintf(buf, len, "%lld%% off", (long long)rw->value);
        break;
    case PATRON_VALUE_ITEM:
        snprintf(buf, len, "1 free item"); /* the value is the till's SKU: not for the customer */
        break;
    default:
        snprintf(buf, len, "%lld bonus points", (long long)rw->value);
        break;
    }
}

static int queue_print(patron_store *s, const struct patron_reward *rw, int64_t member_id,
                       const struct patron__coupon *c, int64_t *job_id)
{
    char value[64], expires[16], store[128] = "", name[128] = "";
    struct patron_member m;
    time_t t = (time_t)c->expires_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(expires, sizeof expires, "%Y-%m-%d", &tm);
    format_value(rw, value, sizeof value);
    patron__setting_get(s, "store_name", store, sizeof store);
    if (patron_member_by_id(s, member_id, &m) == 0)
        snprintf(name, sizeof name, "%s", m.name);
    struct patron_receipt_var vars[] = {
        {"store.name", store},        {"reward.name", rw->name},   {"voucher.value", value},
        {"member.name", name},        {"voucher.token", c->token}, {"voucher.code", c->code},
        {"voucher.expires", expires},
    };
    return patron_print_enqueue(s, "reward-coupon", vars, sizeof vars / sizeof vars[0], job_id);
}

static int link_redemption(patron_store *s, const struct patron__coupon *c, int key_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE redemptions SET voucher_key_id = ?2, voucher_id = ?3, print_job = ?4"
           " WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, c->redemption_id);
    sqlite3_bind_int(st, 2, key_id);
    sqlite3_bind_int64(st, 3, (int64_t)c->voucher_id);
    sqlite3_bind_int64(st, 4, c->print_job);
    int err = patron__step_done(s, st);
    return err != 0 ? err : patron__outbox_add(s, PATRON__OUTBOX_REDEMPTION, c->redemption_id);
}

int patron__coupon_for_redemption(patron_store *s, int64_t member_id,
                                  const struct patron_reward *rw, int64_t redemption_id,
                                  struct patron__coupon *out)
{
    struct patron__coupon c = {.redemption_id = redemption_id};
    struct patron__voucher_spec spec = {.member_id = member_id,
                                        .offer_id = rw->reward_id,
                                        .kind = rw->kind,
                                        .value = rw->value,
                                        .currency = rw->currency,
                                        .valid_hours = rw->valid_days * 24};
    struct patron__voucher_issued v;
    int err = patron__voucher_issue(s, &spec, &v);
    if (err != 0)
        return err;
    c.voucher_id = v.voucher_id;
    c.expires_at = v.expires_at;
    memcpy(c.token, v.token, sizeof c.token);
    memcpy(c.code, v.code, sizeof c.code);
    if ((err = queue_print(s, rw, member_id, &c, &c.print_job)) != 0 ||
        (err = link_redemption(s, &c, v.key_id)) != 0)
        return err;
    *out = c;
    return 0;
}

static int insert_free_redemption(patron_store *s, const struct patron__member_row *m,
                                  int64_t reward_id, int64_t *redemption_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO redemptions(reward_id, member_id, points, balance_after, created_at)"
           " VALUES (?1, ?2, 0, ?3, ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, reward_id);
    sqlite3_bind_int64(st, 2, m->member_id);
    sqlite3_bind_int64(st, 3, patron__member_points(m));
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0)
        *redemption_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

int patron__coupon_issue(patron_store *s, const struct patron__member_row *m, int64_t reward_id,
                         int64_t offer_id, struct patron__coupon *out)
{
    struct patron_reward rw;
    int64_t redemption_id;
    int err;
    (void)offer_id; /* the voucher names the reward; offer_uses names the offer */
    if ((err = patron_reward_get(s, reward_id, &rw)) != 0 ||
        (err = insert_free_redemption(s, m, reward_id, &redemption_id)) != 0)
        return err;
    return patron__coupon_for_redemption(s, m->member_id, &rw, redemption_id, out);
}
