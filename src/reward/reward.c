/* SPDX-License-Identifier: MIT */
/* The rewards catalogue and redemption: a reward costs points; redeeming it spends them in the
 * ledger and issues the voucher the member takes away, in one transaction. */
#include <stdio.h>
#include <string.h>

#include "core/idempotency.h"
#include "ledger/ledger_internal.h"
#include "patron/program.h"
#include "patron/reward.h"
#include "reward/coupon_internal.h"
#include "voucher/voucher_internal.h"

/* A voucher carries its validity in hours in 16 bits: 2730 days at most. */
#define MAX_VALID_DAYS 2730

static const char *const kind_names[] = {
    [PATRON_VALUE_AMOUNT] = "amount",
    [PATRON_VALUE_PERCENT] = "percent",
    [PATRON_VALUE_ITEM] = "item",
    [PATRON_VALUE_POINTS] = "points",
};

int patron_value_kind_parse(const char *name, enum patron_value_kind *out)
{
    for (size_t i = 0; name && i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *out = (enum patron_value_kind)i;
            return 0;
        }
    }
    return PATRON_EINVAL;
}

const char *patron_value_kind_name(enum patron_value_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

static int validate_def(patron_store *s, const struct patron_reward_def *d)
{
    int err = patron__text_rule(s, "the reward's name", d->name, 1, PATRON_NAME_MAX, 0);
    if (err != 0)
        return err;
    if (d->cost < 1 || d->cost > 100000000)
        return patron__fail(s, PATRON_EINVAL, "a reward costs 1 to 10^8 points");
    if ((unsigned)d->kind > PATRON_VALUE_POINTS)
        return patron__fail(s, PATRON_EINVAL, "kind must be amount, percent, item or points");
    if (d->kind == PATRON_VALUE_PERCENT ? (d->value < 1 || d->value > 100)
                                        : (d->value < 0 || d->value > 100000000))
        return patron__fail(s, PATRON_EINVAL,
                            d->kind == PATRON_VALUE_PERCENT ? "a percent reward is worth 1-100"
                                                            : "a reward's value is 0 to 10^8");
    if (d->valid_days < 0 || d->valid_days > MAX_VALID_DAYS)
        return patron__fail(s, PATRON_EINVAL, "a voucher is valid 1-%d days", MAX_VALID_DAYS);
    return 0;
}

/* The rule change of a reward: key "reward:ID" and its terms in words (or "ended"). */
static int audit(patron_store *s, int64_t id, const struct patron_reward_def *d, const char *who)
{
    char key[48], value[PATRON_NAME_MAX + 96];
    snprintf(key, sizeof key, "reward:%lld", (long long)id);
    if (d)
        snprintf(value, sizeof value, "%s: %lld points for %s %lld, valid %lld days", d->name,
                 (long long)d->cost, kind_names[d->kind], (long long)d->value,
                 (long long)(d->valid_days ? d->valid_days : 30));
    else
        snprintf(value, sizeof value, "ended");
    return patron__setting_set(s, key, value, who);
}

int patron_reward_add(patron_store *s, const struct patron_reward_def *def, int64_t *reward_id)
{
    return patron_reward_add_by(s, def, NULL, reward_id);
}

int patron_reward_add_by(patron_store *s, const struct patron_reward_def *def, const char *who,
                         int64_t *reward_id)
{
    struct patron_program p;
    int64_t id;
    int err = validate_def(s, def);
    if (err != 0 || (err = patron_program_get(s, &p)) != 0 || (err = patron__tx_begin(s)) != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO rewards(name, cost, kind, value, currency, valid_days, created_at)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, def->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, def->cost);
    sqlite3_bind_text(st, 3, kind_names[def->kind], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, def->value);
    sqlite3_bind_text(st, 5, p.currency, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, def->valid_days ? def->valid_days : 30);
    sqlite3_bind_int64(st, 7, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        goto out;
    id = sqlite3_last_insert_rowid(s->db);
    if ((err = audit(s, id, def, who)) != 0 || (err = patron__tx_commit(s)) != 0)
        goto out;
    *reward_id = id;
    return 0;
out:
    patron__tx_rollback(s);
    return err;
}

/* The reward must exist and still be in the catalogue; runs inside the transaction. */
static int still_active(patron_store *s, int64_t reward_id)
{
    struct patron_reward r;
    memset(&r, 0, sizeof r);
    int err = patron_reward_get(s, reward_id, &r);
    if (err == 0 && !r.active)
        err = patron__fail(s, PATRON_EINACTIVE, "reward %lld was ended", (long long)reward_id);
    return err;
}

int patron_reward_change(patron_store *s, int64_t reward_id, const struct patron_reward_def *def,
                         const char *who)
{
    int err = validate_def(s, def);
    if (err != 0 || (err = patron__tx_begin(s)) != 0)
        return err;
    sqlite3_stmt *st = NULL;
    if ((err = still_active(s, reward_id)) != 0)
        goto out;
    if (!(st = patron__stmt(s, "UPDATE rewards SET name = ?2, cost = ?3, kind = ?4, value = ?5,"
                               " valid_days = ?6 WHERE id = ?1"))) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_int64(st, 1, reward_id);
    sqlite3_bind_text(st, 2, def->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, def->cost);
    sqlite3_bind_text(st, 4, kind_names[def->kind], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, def->value);
    sqlite3_bind_int64(st, 6, def->valid_days ? def->valid_days : 30);
    if ((err = patron__step_done(s, st)) != 0 || (err = audit(s, reward_id, def, who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

int patron_reward_end(patron_store *s, int64_t reward_id, const char *who)
{
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if ((err = still_active(s, reward_id)) != 0 ||
        (err = patron_reward_retire(s, reward_id)) != 0 ||
        (err = audit(s, reward_id, NULL, who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}

#define REWARD_COLUMNS                                                                             \
    "SELECT id, name, cost, kind, value, currency, valid_days, active FROM rewards"

static void read_reward(sqlite3_stmt *st, void *row)
{
    struct patron_reward *r = row;
    memset(r, 0, sizeof *r);
    r->reward_id = sqlite3_column_int64(st, 0);
    patron__copy(r->name, sizeof r->name, (const char *)sqlite3_column_text(st, 1));
    r->cost = sqlite3_column_int64(st, 2);
    patron_value_kind_parse((const char *)sqlite3_column_text(st, 3), &r->kind);
    r->value = sqlite3_column_int64(st, 4);
    patron__copy(r->currency, sizeof r->currency, (const char *)sqlite3_column_text(st, 5));
    r->valid_days = sqlite3_column_int64(st, 6);
    r->active = sqlite3_column_int(st, 7);
}

int patron_reward_get(patron_store *s, int64_t reward_id, struct patron_reward *out)
{
    sqlite3_stmt *st = patron__stmt(s, REWARD_COLUMNS " WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, reward_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_reward(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOREWARD, "no reward %lld", (long long)reward_id);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_reward_list(patron_store *s, struct patron_reward *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, REWARD_COLUMNS " WHERE active = 1 ORDER BY cost, id");
    if (!st)
        return PATRON_EDB;
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_reward);
}

int patron_reward_retire(patron_store *s, int64_t reward_id)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE rewards SET active = 0 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, reward_id);
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) == 0)
        return patron__fail(s, PATRON_ENOREWARD, "no reward %lld", (long long)reward_id);
    return err;
}

static int insert_redemption(patron_store *s, const struct patron_reward *rw,
                             const struct patron__member_row *m, int64_t *redemption_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO redemptions(reward_id, member_id, points, balance_after, created_at)"
           " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, rw->reward_id);
    sqlite3_bind_int64(st, 2, m->member_id);
    sqlite3_bind_int64(st, 3, rw->cost);
    sqlite3_bind_int64(st, 4, patron__member_points(m) - rw->cost);
    sqlite3_bind_int64(st, 5, patron_store_now(s));
    int err = patron__step_done(s, st);
    if (err == 0)
        *redemption_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

/* The reward becomes a signed voucher, and its coupon joins the print queue. */
static int issue_coupon(patron_store *s, const struct patron_reward *rw, int64_t member_id,
                        struct patron_redeem_result *out)
{
    struct patron__coupon c;
    int err = patron__coupon_for_redemption(s, member_id, rw, out->redemption_id, &c);
    if (err != 0)
        return err;
    out->voucher_id = c.voucher_id;
    memcpy(out->token, c.token, sizeof out->token);
    memcpy(out->code, c.code, sizeof out->code);
    out->expires_at = c.expires_at;
    out->print_job = c.print_job;
    return 0;
}

static int record(patron_store *s, const struct patron_redeem_request *in,
                  struct patron_redeem_result *out)
{
    struct patron_reward rw = {0};
    struct patron__member_row m;
    int64_t redemption_id, entry_id;
    int err;
    if ((err = patron_reward_get(s, in->reward_id, &rw)) != 0 ||
        (err = patron__member_for_card(s, in->card, 1, &m)) != 0)
        return err;
    if (!rw.active)
        return patron__fail(s, PATRON_EINACTIVE, "reward %lld was withdrawn",
                            (long long)rw.reward_id);
    /* what the member may spend: this store's balance and what the chain holds elsewhere */
    if (patron__member_points(&m) < rw.cost)
        return patron__fail(s, PATRON_ENOFUNDS, "the member has %lld points; %s costs %lld",
                            (long long)patron__member_points(&m), rw.name, (long long)rw.cost);
    if ((err = insert_redemption(s, &rw, &m, &redemption_id)) != 0)
        return err;
    struct patron__posting p = {.kind = "redeem",
                                .points = rw.cost,
                                .to_member = 0,
                                .program = PATRON__ACCT_REDEEMED,
                                .redemption_id = redemption_id};
    if ((err = patron__ledger_post(s, &m, &p, &entry_id)) != 0)
        return err;
    memset(out, 0, sizeof *out);
    out->redemption_id = redemption_id;
    out->member_id = m.member_id;
    out->points_spent = rw.cost;
    out->points = patron__member_points(&m);
    return issue_coupon(s, &rw, m.member_id, out);
}

static int replay(patron_store *s, int64_t redemption_id, struct patron_redeem_result *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT r.member_id, r.points, r.balance_after, COALESCE(r.voucher_id, 0),"
           " COALESCE(r.print_job, 0), v.token, v.expires_at FROM redemptions r"
           " LEFT JOIN vouchers v ON v.key_id = r.voucher_key_id AND v.voucher_id = r.voucher_id"
           " WHERE r.id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, redemption_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->redemption_id = redemption_id;
        out->member_id = sqlite3_column_int64(st, 0);
        out->points_spent = sqlite3_column_int64(st, 1);
        out->points = sqlite3_column_int64(st, 2);
        out->voucher_id = (uint64_t)sqlite3_column_int64(st, 3);
        out->print_job = sqlite3_column_int64(st, 4);
        patron__copy(out->token, sizeof out->token, (const char *)sqlite3_column_text(st, 5));
        out->expires_at = sqlite3_column_int64(st, 6);
        if (out->voucher_id)
            patron_voucher_code_encode(out->voucher_id, out->code);
        out->replayed = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int record_redemption(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    struct patron_redeem_result *r = result;
    int err = record(s, request, r);
    if (err == 0)
        *result_id = r->redemption_id;
    return err;
}

static int replay_redemption(patron_store *s, int64_t redemption_id, void *result)
{
    return replay(s, redemption_id, result);
}

int patron_reward_redeem(patron_store *s, const struct patron_redeem_request *in,
                         struct patron_redeem_result *out)
{
    struct patron_redeem_result r = {0};
    struct patron__idem h;
    int err = patron__idem_init(s, &h, "reward-redeem", in->idempotency_key);
    if (err != 0)
        return err;
    patron__idem_add_str(&h, in->card);
    patron__idem_add_int(&h, in->reward_id);
    if ((err = patron__idem_run(s, &h, in, record_redemption, replay_redemption, &r)) == 0)
        *out = r;
    return err;
}
