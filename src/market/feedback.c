/* SPDX-License-Identifier: MIT */
/* Feedback and service recovery (see include/patron/feedback.h): one score per visit, and the
 * goodwill voucher a manager gives for a complaint, counted against the manager's daily limit in
 * the same transaction that issues it, so two tills cannot both take the last one. */
#include <string.h>

#include "core/idempotency.h"
#include "core/outbox_internal.h"
#include "patron/feedback.h"
#include "patron/reward.h"
#include "reward/coupon_internal.h"

static int sale_of_member(patron_store *s, const char *ref, int64_t member_id, int64_t *sale_id)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, member_id FROM sales WHERE store_id = ?1 AND ref = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int64_t owner = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    *sale_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    if (rc == SQLITE_DONE || owner != member_id)
        return patron__fail(s, PATRON_ENOSALE, "no sale with ref '%.63s' for this member", ref);
    return 0;
}

/* The feedback already given on this visit: its id, and whether it says the same. */
static int earlier(patron_store *s, const struct patron_feedback *in, int64_t member_id,
                   int64_t sale_id, int64_t *id, int *same)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT id, score = ?4 AND comment IS ?5 FROM feedback WHERE member_id = ?1 AND"
           " ((?2 <> 0 AND sale_id = ?2) OR (?2 = 0 AND sale_id IS NULL AND day = ?3))");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, sale_id);
    sqlite3_bind_int64(st, 3, PATRON__DAY_NUMBER(patron_store_now(s)));
    sqlite3_bind_int(st, 4, in->score);
    if (in->comment)
        sqlite3_bind_text(st, 5, in->comment, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *same = rc == SQLITE_ROW && sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int insert_feedback(patron_store *s, const struct patron_feedback *in, int64_t member_id,
                           int64_t sale_id, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(s, "INSERT INTO feedback(member_id, sale_id, day, score,"
                                       " comment, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    int64_t now = patron_store_now(s);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    if (sale_id)
        sqlite3_bind_int64(st, 2, sale_id);
    sqlite3_bind_int64(st, 3, PATRON__DAY_NUMBER(now));
    sqlite3_bind_int(st, 4, in->score);
    if (in->comment)
        sqlite3_bind_text(st, 5, in->comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now);
    int err = patron__step_done(s, st);
    if (err == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return err != 0 ? err : patron__outbox_add(s, PATRON__OUTBOX_FEEDBACK, *id);
}

static int record_feedback(patron_store *s, const struct patron_feedback *in, int64_t *id)
{
    struct patron__member_row m;
    int64_t sale_id = 0, first = 0;
    int same = 0, err;
    if ((err = patron__member_for_card(s, in->card, 1, &m)) != 0 ||
        (in->sale_ref && (err = sale_of_member(s, in->sale_ref, m.member_id, &sale_id)) != 0) ||
        (err = earlier(s, in, m.member_id, sale_id, &first, &same)) != 0)
        return err;
    if (first && same) {
        *id = first;
        return 0;
    }
    if (first)
        return patron__fail(s, PATRON_ERULE, "feedback on this %s was given already",
                            sale_id ? "sale" : "day's visit");
    return insert_feedback(s, in, m.member_id, sale_id, id);
}

int patron_feedback_record(patron_store *s, const struct patron_feedback *in, int64_t *feedback_id)
{
    int64_t id = 0;
    int err;
    if (in->score < 1 || in->score > 5)
        return patron__fail(s, PATRON_EINVAL, "a score is 1 to 5");
    if (in->comment && !patron__printable(in->comment, PATRON_FEEDBACK_COMMENT_MAX + 1))
        return patron__fail(s, PATRON_EINVAL,
                            "a comment is 1-%d bytes of UTF-8 without control characters",
                            PATRON_FEEDBACK_COMMENT_MAX);
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = record_feedback(s, in, &id)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) == 0)
        *feedback_id = id;
    return err;
}

static int issued_today(patron_store *s, const char *manager, int64_t *n)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT COUNT(*) FROM goodwill WHERE manager = ?1 AND day = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, manager, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, PATRON__DAY_NUMBER(patron_store_now(s)));
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int insert_goodwill(patron_store *s, const struct patron_goodwill_request *in,
                           const struct patron__coupon *c, int64_t member_id, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO goodwill(member_id, reward_id, complaint, manager, day, redemption_id,"
           " voucher_id, voucher_code, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    int64_t now = patron_store_now(s);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, in->reward_id);
    sqlite3_bind_text(st, 3, in->complaint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, in->manager, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, PATRON__DAY_NUMBER(now));
    sqlite3_bind_int64(st, 6, c->redemption_id);
    if (c->voucher_id)
        sqlite3_bind_int64(st, 7, (int64_t)c->voucher_id);
    if (c->code[0])
        sqlite3_bind_text(st, 8, c->code, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, now);
    int err = patron__step_done(s, st);
    if (err == 0)
        *id = sqlite3_last_insert_rowid(s->db);
    return err != 0 ? err : patron__outbox_add(s, PATRON__OUTBOX_GOODWILL, *id);
}

static int give(patron_store *s, const struct patron_goodwill_request *in,
                struct patron_goodwill_result *out)
{
    struct patron__member_row m;
    struct patron_reward rw;
    struct patron__coupon c;
    int64_t limit = patron__setting_int(s, "goodwill_per_manager_per_day", 5), today = 0, id;
    int err;
    if ((err = patron__member_for_card(s, in->card, 1, &m)) != 0 ||
        (err = patron_reward_get(s, in->reward_id, &rw)) != 0 ||
        (err = issued_today(s, in->manager, &today)) != 0)
        return err;
    if (!rw.active)
        return patron__fail(s, PATRON_EINACTIVE, "reward %lld was withdrawn",
                            (long long)rw.reward_id);
    if (today >= limit)
        return patron__fail(s, PATRON_ELIMIT,
                            "%s has given %lld goodwill vouchers today, the daily limit",
                            in->manager, (long long)today);
    if ((err = patron__coupon_issue(s, &m, in->reward_id, 0, &c)) != 0 ||
        (err = insert_goodwill(s, in, &c, m.member_id, &id)) != 0)
        return err;
    *out = (struct patron_goodwill_result){.goodwill_id = id,
                                           .member_id = m.member_id,
                                           .reward_id = in->reward_id,
                                           .redemption_id = c.redemption_id,
                                           .voucher_id = c.voucher_id,
                                           .print_job = c.print_job,
                                           .issued_today = today + 1,
                                           .daily_limit = limit};
    memcpy(out->code, c.code, sizeof out->code);
    return 0;
}

static int replay(patron_store *s, int64_t id, struct patron_goodwill_result *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT member_id, reward_id, redemption_id, COALESCE(voucher_id, 0), voucher_code,"
           " (SELECT COUNT(*) FROM goodwill o WHERE o.manager = g.manager AND o.day = g.day"
           "  AND o.id <= g.id), (SELECT COALESCE(print_job, 0) FROM redemptions"
           "  WHERE id = g.redemption_id) FROM goodwill g WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (struct patron_goodwill_result){
            .goodwill_id = id,
            .member_id = sqlite3_column_int64(st, 0),
            .reward_id = sqlite3_column_int64(st, 1),
            .redemption_id = sqlite3_column_int64(st, 2),
            .voucher_id = (uint64_t)sqlite3_column_int64(st, 3),
            .issued_today = sqlite3_column_int64(st, 5),
            .print_job = sqlite3_column_int64(st, 6),
            .daily_limit = patron__setting_int(s, "goodwill_per_manager_per_day", 5),
            .replayed = 1};
        patron__copy(out->code, sizeof out->code, (const char *)sqlite3_column_text(st, 4));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int record_goodwill(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    struct patron_goodwill_result *r = result;
    int err = give(s, request, r);
    if (err == 0)
        *result_id = r->goodwill_id;
    return err;
}

static int replay_goodwill(patron_store *s, int64_t goodwill_id, void *result)
{
    return replay(s, goodwill_id, result);
}

int patron_goodwill_issue(patron_store *s, const struct patron_goodwill_request *in,
                          struct patron_goodwill_result *out)
{
    struct patron_goodwill_result r = {0};
    struct patron__idem h;
    int err;
    if (!patron__printable(in->complaint, PATRON_FEEDBACK_COMMENT_MAX + 1) ||
        !patron__printable(in->manager, 64))
        return patron__fail(s, PATRON_EINVAL,
                            "goodwill needs the complaint (1-%d bytes) and the manager's name",
                            PATRON_FEEDBACK_COMMENT_MAX);
    if ((err = patron__idem_init(s, &h, "goodwill", in->idempotency_key)) != 0)
        return err;
    patron__idem_add_str(&h, in->card);
    patron__idem_add_int(&h, in->reward_id);
    patron__idem_add_str(&h, in->complaint);
    patron__idem_add_str(&h, in->manager);
    if ((err = patron__idem_run(s, &h, in, record_goodwill, replay_goodwill, &r)) == 0)
        *out = r;
    return err;
}
