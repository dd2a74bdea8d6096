/* SPDX-License-Identifier: MIT */
/* Manual adjustments: a correction of a member's points, credited or debited against the
 * program's adjustment account, always with a reason and the manager who approved it. */
#include <stdlib.h>
#include <string.h>

#include "core/idempotency.h"
#include "ledger/ledger_internal.h"
#include "patron/ledger.h"

static int validate(patron_store *s, const struct patron_adjustment *in)
{
    int err;
    if (in->points == 0 || in->points < -PATRON_ADJUST_POINTS_MAX ||
        in->points > PATRON_ADJUST_POINTS_MAX)
        return patron__fail(s, PATRON_EINVAL, "an adjustment moves 1 to %lld points either way",
                            (long long)PATRON_ADJUST_POINTS_MAX);
    if ((err = patron__text_rule(s, "the adjustment's reason", in->reason, 1, PATRON_REASON_MAX,
                                 0)) != 0 ||
        (err = patron__text_rule(s, "the approving manager's name", in->manager, 1,
                                 PATRON_LABEL_MAX, 0)) != 0)
        return err;
    return 0;
}

static int post_adjustment(patron_store *s, const struct patron_adjustment *in,
                           struct patron__member_row *m, int64_t *entry_id)
{
    struct patron__posting p = {
        .kind = "adjust",
        .points = llabs(in->points),
        .to_member = in->points > 0,
        .program = PATRON__ACCT_ADJUST,
        .note = in->reason,
        .approved_by = in->manager,
        .keeps_answer = 1,
    };
    int err = patron__member_for_card(s, in->card, 1, m);
    if (err != 0)
        return err;
    if (in->points < 0 && patron__member_points(m) + in->points < 0)
        return patron__fail(s, PATRON_ENOFUNDS, "the balance is %lld points; cannot take %lld",
                            (long long)patron__member_points(m), (long long)-in->points);
    return patron__ledger_post(s, m, &p, entry_id);
}

/* The first answer again: the points the entry kept. An adjustment written before the entries
 * kept them (schema 27) has none, and answers the member's points as they are now. */
static int replay(patron_store *s, int64_t entry_id, struct patron_adjust_result *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT coalesce(e.balance_after, a.balance + m.chain_points) FROM entries e"
           " JOIN accounts a ON a.member_id = e.member_id JOIN members m ON m.id = e.member_id"
           " WHERE e.id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, entry_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->entry_id = entry_id;
        out->points = sqlite3_column_int64(st, 0);
        out->replayed = 1;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

static int record_adjustment(patron_store *s, const void *request, void *result, int64_t *result_id)
{
    struct patron_adjust_result *r = result;
    struct patron__member_row m;
    int err = post_adjustment(s, request, &m, result_id);
    if (err == 0)
        *r = (struct patron_adjust_result){.entry_id = *result_id,
                                           .points = patron__member_points(&m)};
    return err;
}

static int replay_adjustment(patron_store *s, int64_t entry_id, void *result)
{
    return replay(s, entry_id, result);
}

int patron_ledger_adjust(patron_store *s, const struct patron_adjustment *in,
                         struct patron_adjust_result *out)
{
    struct patron_adjust_result r = {0};
    struct patron__idem h;
    int err = validate(s, in);
    if (err != 0 || (err = patron__idem_init(s, &h, "adjust", in->idempotency_key)) != 0)
        return err;
    patron__idem_add_str(&h, in->card);
    patron__idem_add_int(&h, in->points);
    patron__idem_add_str(&h, in->reason);
    patron__idem_add_str(&h, in->manager);
    if ((err = patron__idem_run(s, &h, in, record_adjustment, replay_adjustment, &r)) == 0)
        *out = r;
    return err;
}
