/* SPDX-License-Identifier: MIT */
/* The points ledger's mechanics: double-entry posting with gap-free store sequence numbers,
 * first-in-first-out lots, manual adjustments, expiry and the verifier that proves balances
 * equal their entries. Sales and refunds live in sale.c and refund.c. */
#include <stdio.h>
#include <string.h>

#include "core/idempotency.h"
#include "core/outbox_internal.h"
#include "ledger/ledger_internal.h"
#include "patron/ledger.h"
#include "patron/program.h"

static int next_store_seq(patron_store *s, int64_t *seq)
{
    /* Entries are append-only and written one transaction at a time, so the next rowid is
     * the next number of the store's gap-free sequence. */
    return patron__scalar(s, "SELECT COALESCE(MAX(id), 0) + 1 FROM entries", seq);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

/* What the posting does to the member's balance. */
static int64_t member_delta(const struct patron__posting *p)
{
    return p->to_member ? p->points : -p->points;
}

static int insert_entry(patron_store *s, const struct patron__member_row *m,
                        const struct patron__posting *p, int64_t seq, int64_t now,
                        int64_t *entry_id)
{
    static const char *const sql =
        "INSERT INTO entries(id, store_id, store_seq, kind, debit_account, credit_account, points,"
        " member_id, created_at, original_entry, sale_id, refund_id, redemption_id, note,"
        " approved_by, balance_after)"
        " VALUES (?2, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
    int64_t program = p->account ? p->account : s->program_accounts[p->program];
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    sqlite3_bind_int64(st, 2, seq);
    sqlite3_bind_text(st, 3, p->kind, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, p->to_member ? program : m->account_id);
    sqlite3_bind_int64(st, 5, p->to_member ? m->account_id : program);
    sqlite3_bind_int64(st, 6, p->points);
    sqlite3_bind_int64(st, 7, m->member_id);
    sqlite3_bind_int64(st, 8, now);
    bind_id(st, 9, p->original_entry);
    bind_id(st, 10, p->sale_id);
    bind_id(st, 11, p->refund_id);
    bind_id(st, 12, p->redemption_id);
    if (p->note)
        sqlite3_bind_text(st, 13, p->note, -1, SQLITE_STATIC);
    if (p->approved_by)
        sqlite3_bind_text(st, 14, p->approved_by, -1, SQLITE_STATIC);
    if (p->keeps_answer)
        sqlite3_bind_int64(st, 15, patron__member_points(m) + member_delta(p));
    int err = patron__step_done(s, st);
    if (err == 0)
        *entry_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

/* A spend made offline (s->spend_offline) is allowed within the program's caps between syncs:
 * chain_offline_member_cap for this member, chain_offline_store_cap for the store's members
 * together; it is recorded in offline_spends (its entry then ships with "offline": true). */
static int offline_spend(patron_store *s, int64_t member_id, int64_t points, int64_t entry_id)
{
    static const char *const q =
        "SELECT coalesce(sum(points) FILTER (WHERE member_id = ?1), 0), coalesce(sum(points), 0)"
        " FROM offline_spends WHERE entry_id > (SELECT offline_settled FROM chain_voucher_pull)";
    int64_t member_cap = patron__setting_int(s, "chain_offline_member_cap", 500);
    int64_t store_cap = patron__setting_int(s, "chain_offline_store_cap", 5000);
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    int rc = sqlite3_step(st);
    int64_t member = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    int64_t store = rc == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if (member + points > member_cap)
        return patron__fail(s, PATRON_ELIMIT,
                            "head office cannot be reached, and offline a member may spend at "
                            "most %lld points between syncs (chain_offline_member_cap): %lld "
                            "spent since the last sync, %lld more asked",
                            (long long)member_cap, (long long)member, (long long)points);
    if (store + points > store_cap)
        return patron__fail(s, PATRON_ELIMIT,
                            "head office cannot be reached, and offline this store may spend at "
                            "most %lld points between syncs, all members together "
                            "(chain_offline_store_cap): %lld spent since the last sync, %lld "
                            "more asked",
                            (long long)store_cap, (long long)store, (long long)points);
    st = patron__stmt(s, "INSERT INTO offline_spends(entry_id, member_id, points, spent_at)"
                         " VALUES (?1, ?2, ?3, ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, entry_id);
    sqlite3_bind_int64(st, 2, member_id);
    sqlite3_bind_int64(st, 3, points);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    return patron__step_done(s, st);
}

static int outbox_entry(patron_store *s, int64_t entry_id, int offline)
{
    s->outbox_offline = offline;
    int err = patron__outbox_add(s, PATRON__OUTBOX_ENTRY, entry_id);
    s->outbox_offline = 0;
    return err;
}

/* The entry's outbox row from the values just written, as outbox.c's entry statement would read
 * them back; an entry against another named account whose name the caller did not give, or a
 * spend made offline (its payload says "offline": true), goes that way. */
static int entry_outbox(patron_store *s, const struct patron__member_row *m,
                        const struct patron__posting *p, int64_t entry_id, int64_t now, int offline)
{
    const char *program = p->account ? p->account_name : patron__program_account_name(p->program);
    if (!program || offline)
        return outbox_entry(s, entry_id, offline);
    struct patron__jw w;
    patron__jw_init(&w);
    patron__jw_raw(&w, "{\"id\":");
    patron__jw_int(&w, entry_id);
    patron__jw_int_field(&w, "store_id", s->store_id);
    patron__jw_int_field(&w, "store_seq", entry_id);
    patron__jw_str_field(&w, "kind", p->kind);
    patron__jw_str_field(&w, "debit", p->to_member ? program : "member");
    patron__jw_str_field(&w, "credit", p->to_member ? "member" : program);
    patron__jw_int_field(&w, "points", p->points);
    patron__jw_int_field(&w, "member_id", m->member_id);
    patron__jw_int_field(&w, "created_at", now);
    patron__jw_member_uid_field(&w, m->member_uid);
    patron__jw_id_field(&w, "original_entry", p->original_entry);
    patron__jw_id_field(&w, "sale_id", p->sale_id);
    patron__jw_id_field(&w, "refund_id", p->refund_id);
    patron__jw_id_field(&w, "redemption_id", p->redemption_id);
    patron__jw_str_field(&w, "note", p->note);
    patron__jw_str_field(&w, "approved_by", p->approved_by);
    patron__jw_raw(&w, "}");
    int err = patron__outbox_add_json(s, "entry", "entries", entry_id, m->member_id, &w);
    patron__jw_free(&w);
    return err;
}

static int move_balance(patron_store *s, int64_t account_id, int64_t delta)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE accounts SET balance = balance + ?2 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, delta);
    return patron__step_done(s, st);
}

/* The opened lot's outbox row from the values just written (outbox.c's lot statement). */
static int lot_outbox(patron_store *s, const struct patron__member_row *m, int64_t lot_id,
                      int64_t entry_id, int64_t lot, int64_t now, int64_t expires_at)
{
    struct patron__jw w;
    patron__jw_init(&w);
    patron__jw_raw(&w, "{\"id\":");
    patron__jw_int(&w, lot_id);
    patron__jw_int_field(&w, "member_id", m->member_id);
    patron__jw_int_field(&w, "entry_id", entry_id);
    patron__jw_int_field(&w, "points", lot);
    patron__jw_member_uid_field(&w, m->member_uid);
    patron__jw_int_field(&w, "remaining", lot);
    patron__jw_int_field(&w, "earned_at", now);
    patron__jw_id_field(&w, "expires_at", expires_at);
    patron__jw_raw(&w, "}");
    int err = patron__outbox_add_json(s, "lot", "lots", lot_id, m->member_id, &w);
    patron__jw_free(&w);
    return err;
}

/* A credit opens a lot for the part that lifts the balance above zero (a deficit left by a
 * negative-balance refund is covered first). */
static int open_lot(patron_store *s, const struct patron__member_row *m, int64_t entry_id,
                    const struct patron__posting *p, int64_t balance_before, int64_t now)
{
    int64_t points = p->points, after = balance_before + points;
    int64_t lot = after <= 0 ? 0 : (balance_before < 0 ? after : points);
    int64_t expiry_days, expires_at = 0;
    if (lot == 0)
        return 0;
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO lots(member_id, entry_id, points, remaining, earned_at, expires_at)"
           " VALUES (?1, ?2, ?3, ?3, ?4, ?5)");
    if (!st)
        return PATRON_EDB;
    if (p->expires_at > 0)
        expires_at = p->expires_at;
    else if ((expiry_days = patron__setting_int(s, "expiry_days", 365)) > 0)
        expires_at = now + expiry_days * PATRON__DAY_SECONDS;
    sqlite3_bind_int64(st, 1, m->member_id);
    sqlite3_bind_int64(st, 2, entry_id);
    sqlite3_bind_int64(st, 3, lot);
    sqlite3_bind_int64(st, 4, now);
    bind_id(st, 5, expires_at);
    int err = patron__step_done(s, st);
    if (err != 0)
        return err;
    return lot_outbox(s, m, sqlite3_last_insert_rowid(s->db), entry_id, lot, now, expires_at);
}

static int set_lot_remaining(patron_store *s, int64_t lot_id, int64_t remaining)
{
    sqlite3_stmt *st = patron__stmt(s, "UPDATE lots SET remaining = ?2 WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, lot_id);
    sqlite3_bind_int64(st, 2, remaining);
    int err = patron__step_done(s, st);
    return err != 0 ? err : patron__outbox_add(s, PATRON__OUTBOX_LOT, lot_id);
}

/* A debit takes points from the oldest open lots first. */
static int consume_lots(patron_store *s, int64_t member_id, int64_t points)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, remaining FROM lots WHERE member_id = ?1 AND remaining > 0"
                        " ORDER BY earned_at, id LIMIT 1");
    int err = 0;
    if (!st)
        return PATRON_EDB;
    while (points > 0) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, member_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break; /* nothing left: the balance goes below zero, as the policy allowed */
        if (rc != SQLITE_ROW) {
            err = patron__db_err(s, rc);
            break;
        }
        int64_t lot_id = sqlite3_column_int64(st, 0), remaining = sqlite3_column_int64(st, 1);
        sqlite3_reset(st);
        int64_t take = remaining < points ? remaining : points;
        if ((err = set_lot_remaining(s, lot_id, remaining - take)) != 0)
            break;
        points -= take;
    }
    sqlite3_reset(st);
    return err;
}

int patron__ledger_post(patron_store *s, struct patron__member_row *m,
                        const struct patron__posting *p, int64_t *entry_id)
{
    int64_t seq = 0, delta = member_delta(p), now = patron_store_now(s);
    int64_t program = p->account ? p->account : s->program_accounts[p->program];
    int err;
    if (p->points <= 0)
        return patron__fail(s, PATRON_EINVAL, "a ledger entry moves a positive number of points");
    int offline = s->spend_offline && !p->to_member;
    if ((err = next_store_seq(s, &seq)) != 0 ||
        (err = insert_entry(s, m, p, seq, now, entry_id)) != 0 ||
        (offline && !p->uncapped &&
         (err = offline_spend(s, m->member_id, p->points, *entry_id)) != 0) ||
        (err = entry_outbox(s, m, p, *entry_id, now, offline)) != 0 ||
        (err = move_balance(s, m->account_id, delta)) != 0 ||
        (err = move_balance(s, program, -delta)) != 0)
        return err;
    int64_t before = m->balance;
    m->balance += delta;
    if (p->to_member)
        return open_lot(s, m, *entry_id, p, before, now);
    if (strcmp(p->kind, "expire") == 0)
        return 0; /* expiry empties the lot itself */
    return consume_lots(s, m->member_id, p->points);
}
