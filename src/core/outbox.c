/* SPDX-License-Identifier: MIT */
/* The outbox: every fact head office needs, written in the same transaction as the fact and
 * numbered (store_id, store_seq) without gaps. Each kind of fact is one cached INSERT ... SELECT
 * that reads the payload (compact JSON) from the fact's own row, so the outbox says exactly what
 * the store committed. The next number is the largest plus one, taken inside the transaction:
 * a request rolled back to its savepoint takes its numbers back with it. */
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "patron/outbox.h"

/* store_seq is left to SQLite, which gives a new rowid one more than the largest (1 in an empty
 * table): rows are never deleted, so that is the next number, read inside the transaction.
 * ?1 is the store id, ?2 the fact's key, ?3 the time. */
#define OUTBOX_INSERT                                                                              \
    "INSERT INTO outbox(store_id, kind, tbl, row_key, member_id, payload, recorded_at)"            \
    " SELECT ?1, "

static const char member_sql[] = OUTBOX_INSERT
    "'member', 'members', id, id,"
    " json_object('id', id, 'member_uid', member_uid, 'name', name, 'email', email, 'phone', phone,"
    " 'birthday', birthday, 'consent_marketing', consent_marketing, 'consent_at', consent_at,"
    " 'consent_source', consent_source, 'created_at', created_at, 'tier_id', tier_id),"
    " ?3 FROM members WHERE id = ?2";

static const char card_sql[] =
    OUTBOX_INSERT "'card', 'cards', number, member_id,"
                  " json_object('number', number, 'member_id', member_id, 'status', status,"
                  " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
                  " 'issued_at', issued_at, 'blocked_at', blocked_at, 'replaced_by', replaced_by),"
                  " ?3 FROM cards WHERE number = ?2";

static const char consent_sql[] = OUTBOX_INSERT
    "'consent', 'consent_changes', id, member_id,"
    " json_object('id', id, 'member_id', member_id, 'marketing', marketing, 'source', source,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'changed_at', changed_at, 'changed_by', changed_by),"
    " ?3 FROM consent_changes WHERE id = ?2";

static const char erasure_sql[] =
    OUTBOX_INSERT "'erasure', 'erasures', id, member_id,"
                  " json_object('id', id, 'member_id', member_id, 'erased_at', erased_at,"
                  " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
                  " 'erased_by', erased_by, 'cards_blocked', cards_blocked),"
                  " ?3 FROM erasures WHERE id = ?2";

/* The sale's balance_after is left out: offers may still move it in the same transaction, and
 * the balance is what the entries add up to. SALE_ROW is the row up to its lines, which follow
 * as the JSON array the sale's row keeps. */
#define SALE_ROW                                                                                   \
    OUTBOX_INSERT                                                                                  \
    "'sale', 'sales', s.id, s.member_id,"                                                          \
    " json_object('id', s.id, 'store_id', s.store_id, 'ref', s.ref,"                               \
    " 'member_id', s.member_id, 'card', s.card, 'total_minor', s.total_minor,"                     \
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = s.member_id),"              \
    " 'currency', s.currency, 'lines_minor', s.lines_minor,"                                       \
    " 'weight_total', s.weight_total, 'points_earned', s.points_earned,"                           \
    " 'tier_multiplier_permille', s.tier_multiplier_permille,"                                     \
    " 'created_at', s.created_at, 'lines', "
static const char sale_sql[] = SALE_ROW "json(s.lines)), ?3 FROM sales s WHERE s.id = ?2";

/* The same row as the outbox filled in migration 9's transaction read it (the backfill), when a
 * sale's lines were rows of the table sale_lines, joined in primary key order (sale, line
 * number) and aggregated in place; a sale without lines joins one empty row, which the FILTER
 * leaves out ([]). A later migration moved the lines into the sale's row. */
static const char sale_backfill_sql[] =
    SALE_ROW "json_group_array(json_array(l.line_no, l.sku, l.category, l.qty, l.unit_minor,"
             " l.weight_per_unit)) FILTER (WHERE l.sale_id IS NOT NULL)),"
             " ?3 FROM sales s LEFT JOIN sale_lines l ON l.sale_id = s.id WHERE s.id = ?2";

static const char refund_sql[] = OUTBOX_INSERT
    "'refund', 'refunds', id,"
    " (SELECT member_id FROM sales WHERE sales.id = refunds.sale_id),"
    " json_object('id', id, 'sale_id', sale_id, 'points_reversed', points_reversed,"
    " 'member_uid', (SELECT m.member_uid FROM sales x JOIN members m ON m.id = x.member_id"
    " WHERE x.id = refunds.sale_id),"
    " 'shortfall', shortfall, 'return_ref', return_ref, 'created_at', created_at,"
    " 'lines', json((SELECT json_group_array(json_array(line_no, qty)) FROM (SELECT *"
    " FROM refund_lines l WHERE l.refund_id = refunds.id ORDER BY l.line_no)))),"
    " ?3 FROM refunds WHERE id = ?2";

/* An entry spent while head office could not be reached says so ("offline": true, bound as ?4
 * by add(); unbound, as in the backfill, nothing is added). */
static const char entry_sql[] = OUTBOX_INSERT
    "'entry', 'entries', id, member_id,"
    " json_patch(json_object('id', id, 'store_id', store_id, 'store_seq', store_seq, 'kind', kind,"
    " 'debit', (SELECT COALESCE(name, 'member') FROM accounts WHERE id = debit_account),"
    " 'credit', (SELECT COALESCE(name, 'member') FROM accounts WHERE id = credit_account),"
    " 'points', points, 'member_id', member_id, 'created_at', created_at,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'original_entry', original_entry, 'sale_id', sale_id, 'refund_id', refund_id,"
    " 'redemption_id', redemption_id, 'note', note, 'approved_by', approved_by),"
    " coalesce(?4, '{}')),"
    " ?3 FROM entries WHERE id = ?2";

static const char lot_sql[] = OUTBOX_INSERT
    "'lot', 'lots', id, member_id,"
    " json_object('id', id, 'member_id', member_id, 'entry_id', entry_id, 'points', points,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'remaining', remaining, 'earned_at', earned_at, 'expires_at', expires_at),"
    " ?3 FROM lots WHERE id = ?2";

static const char redemption_sql[] = OUTBOX_INSERT
    "'redemption', 'redemptions', id, member_id,"
    " json_object('id', id, 'reward_id', reward_id, 'member_id', member_id, 'points', points,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'balance_after', balance_after, 'created_at', created_at,"
    " 'voucher_key_id', voucher_key_id, 'voucher_id', voucher_id),"
    " ?3 FROM redemptions WHERE id = ?2";

/* A voucher's token and code are bearer codes: they stay at the store. */
static const char voucher_issued_sql[] =
    OUTBOX_INSERT "'voucher_issued', 'vouchers', voucher_id, member_id,"
                  " json_object('key_id', key_id, 'voucher_id', voucher_id, 'member_id', member_id,"
                  " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
                  " 'offer_id', offer_id, 'kind', kind, 'flags', flags, 'value', value,"
                  " 'currency', currency, 'issued_at', issued_at, 'expires_at', expires_at,"
                  " 'store_scope', store_scope), ?3 FROM vouchers WHERE voucher_id = ?2";

static const char voucher_redeemed_sql[] = OUTBOX_INSERT
    "'voucher_redeemed', 'voucher_redemptions', id, member_id,"
    " json_object('id', id, 'key_id', key_id, 'voucher_id', voucher_id, 'kind', kind,"
    " 'value', value, 'currency', currency, 'member_id', member_id, 'store_id', store_id,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'till', till, 'ref', ref, 'offline', offline, 'redeemed_at', redeemed_at,"
    " 'record', hex(record)), ?3 FROM voucher_redemptions WHERE id = ?2";

static const char voucher_voided_sql[] =
    OUTBOX_INSERT "'voucher_voided', 'vouchers', voucher_id, member_id,"
                  " json_object('key_id', key_id, 'voucher_id', voucher_id, 'voided_at', voided_at,"
                  " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
                  " 'voided_by', voided_by, 'void_reason', void_reason),"
                  " ?3 FROM vouchers WHERE voucher_id = ?2";

static const char offline_sql[] =
    OUTBOX_INSERT "'offline_acceptance', 'offline_acceptances', id, NULL,"
                  " json_object('id', id, 'redemption_id', redemption_id, 'key_id', key_id,"
                  " 'voucher_id', voucher_id, 'kind', kind, 'value', value, 'currency', currency,"
                  " 'day', day, 'till', till, 'ref', ref, 'accepted_at', accepted_at),"
                  " ?3 FROM offline_acceptances WHERE id = ?2";

static const char feedback_sql[] =
    OUTBOX_INSERT "'feedback', 'feedback', id, member_id,"
                  " json_object('id', id, 'member_id', member_id, 'sale_id', sale_id, 'day', day,"
                  " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
                  " 'score', score, 'comment', comment, 'created_at', created_at),"
                  " ?3 FROM feedback WHERE id = ?2";

static const char goodwill_sql[] = OUTBOX_INSERT
    "'goodwill', 'goodwill', id, member_id,"
    " json_object('id', id, 'member_id', member_id, 'reward_id', reward_id,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'complaint', complaint, 'manager', manager, 'day', day,"
    " 'redemption_id', redemption_id, 'voucher_id', voucher_id, 'created_at', created_at),"
    " ?3 FROM goodwill WHERE id = ?2";

static const char offer_use_sql[] = OUTBOX_INSERT
    "'offer_use', 'offer_uses', id, member_id,"
    " json_object('id', id, 'offer_id', offer_id, 'member_id', member_id, 'sale_id', sale_id,"
    " 'member_uid', (SELECT member_uid FROM members WHERE members.id = member_id),"
    " 'day', day, 'points', points, 'entry_id', entry_id, 'redemption_id', redemption_id,"
    " 'voucher_id', voucher_id, 'why', why, 'created_at', created_at),"
    " ?3 FROM offer_uses WHERE id = ?2";

/* A sale on a card not yet known, held against the card number (patron/held.h). */
static const char held_sale_sql[] = OUTBOX_INSERT
    "'held_sale', 'held_sales', id, NULL,"
    " json_object('id', id, 'card', card, 'ref', ref, 'total_minor', total_minor,"
    " 'points', points, 'held_at', held_at, 'lines', json((SELECT json_group_array(json_array("
    " line_no, sku, category, qty, unit_minor)) FROM (SELECT * FROM held_sale_lines l"
    " WHERE l.held_id = held_sales.id ORDER BY l.line_no)))),"
    " ?3 FROM held_sales WHERE id = ?2";

static const char *const insert_sql[PATRON__OUTBOX_KIND_COUNT] = {
    [PATRON__OUTBOX_MEMBER] = member_sql,
    [PATRON__OUTBOX_CARD] = card_sql,
    [PATRON__OUTBOX_CONSENT] = consent_sql,
    [PATRON__OUTBOX_ERASURE] = erasure_sql,
    [PATRON__OUTBOX_SALE] = sale_sql,
    [PATRON__OUTBOX_REFUND] = refund_sql,
    [PATRON__OUTBOX_ENTRY] = entry_sql,
    [PATRON__OUTBOX_LOT] = lot_sql,
    [PATRON__OUTBOX_REDEMPTION] = redemption_sql,
    [PATRON__OUTBOX_VOUCHER_ISSUED] = voucher_issued_sql,
    [PATRON__OUTBOX_VOUCHER_REDEEMED] = voucher_redeemed_sql,
    [PATRON__OUTBOX_VOUCHER_VOIDED] = voucher_voided_sql,
    [PATRON__OUTBOX_OFFLINE_ACCEPTANCE] = offline_sql,
    [PATRON__OUTBOX_FEEDBACK] = feedback_sql,
    [PATRON__OUTBOX_GOODWILL] = goodwill_sql,
    [PATRON__OUTBOX_OFFER_USE] = offer_use_sql,
    [PATRON__OUTBOX_HELD_SALE] = held_sale_sql,
};

static int add(patron_store *s, enum patron__outbox_kind kind, int64_t id, const char *key)
{
    if ((unsigned)kind >= PATRON__OUTBOX_KIND_COUNT)
        return patron__fail(s, PATRON_EINVAL, "no outbox kind %d", (int)kind);
    if (s->outbox_off)
        return 0;
    if (s->tx_depth == 0)
        return patron__fail(s, PATRON_EINVAL,
                            "an outbox row is written inside its fact's "
                            "transaction");
    sqlite3_stmt *st = patron__stmt(s, insert_sql[kind]);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    if (key)
        sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    if (kind == PATRON__OUTBOX_ENTRY && s->outbox_offline)
        sqlite3_bind_text(st, 4, "{\"offline\":true}", -1, SQLITE_STATIC);
    else if (kind == PATRON__OUTBOX_ENTRY)
        sqlite3_bind_null(st, 4);
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) != 1)
        return patron__fail(s, PATRON_EDB, "the outbox found no row for its fact");
    return err;
}

int patron__outbox_add(patron_store *s, enum patron__outbox_kind kind, int64_t id)
{
    return add(s, kind, id, NULL);
}

int patron__outbox_add_card(patron_store *s, const char *number)
{
    return add(s, PATRON__OUTBOX_CARD, 0, number);
}

int patron__outbox_erase(patron_store *s, int64_t member_id)
{
    /* The WHERE repeats the partial index's condition word for word (schema.c, version 11) so
     * that the index serves it. */
    static const char *const sql =
        "UPDATE outbox SET payload = CASE tbl"
        " WHEN 'members' THEN json_set(payload, '$.name', 'erased', '$.email', NULL,"
        "  '$.phone', NULL, '$.birthday', NULL, '$.consent_source', NULL)"
        " WHEN 'consent_changes' THEN json_set(payload, '$.source', NULL)"
        " WHEN 'feedback' THEN json_set(payload, '$.comment', NULL)"
        " ELSE json_set(payload, '$.complaint', 'erased') END"
        " WHERE member_id = ?1 AND (tbl = 'members' OR tbl = 'consent_changes' OR tbl = 'feedback'"
        " OR tbl = 'goodwill')";
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    return patron__step_done(s, st);
}

int patron__outbox_member_uid(patron_store *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        s->db, "SELECT count(*) FROM pragma_table_info('members') WHERE name = 'member_uid'", -1,
        &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    rc = sqlite3_step(st);
    int have = rc == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if (have)
        return 0;
    return patron__exec(s, "ALTER TABLE members ADD COLUMN member_uid TEXT;"
                           "UPDATE members SET member_uid ="
                           " COALESCE((SELECT value FROM settings WHERE key = 'store_id'), '0')"
                           " || '-' || id;");
}

/* The facts a store held before the outbox, in an order head office can apply: who and which
 * cards first, then what they did, erasures last. Each kind's statement is read without its
 * `WHERE key = ?2` (and what follows it) and with this tail instead. */
static const struct {
    enum patron__outbox_kind kind;
    const char *tail;
} backfill_order[] = {
    {PATRON__OUTBOX_MEMBER, " ORDER BY id"},
    {PATRON__OUTBOX_CONSENT, " ORDER BY id"},
    {PATRON__OUTBOX_CARD, " ORDER BY issued_at, number"},
    {PATRON__OUTBOX_SALE, " GROUP BY s.id ORDER BY s.id"},
    {PATRON__OUTBOX_REFUND, " ORDER BY id"},
    {PATRON__OUTBOX_VOUCHER_ISSUED, " ORDER BY issued_at, voucher_id"},
    {PATRON__OUTBOX_REDEMPTION, " ORDER BY id"},
    {PATRON__OUTBOX_ENTRY, " ORDER BY id"},
    {PATRON__OUTBOX_LOT, " ORDER BY id"},
    {PATRON__OUTBOX_VOUCHER_REDEEMED, " ORDER BY id"},
    {PATRON__OUTBOX_OFFLINE_ACCEPTANCE, " ORDER BY id"},
    {PATRON__OUTBOX_VOUCHER_VOIDED, " WHERE voided_at IS NOT NULL ORDER BY voided_at, voucher_id"},
    {PATRON__OUTBOX_FEEDBACK, " ORDER BY id"},
    {PATRON__OUTBOX_GOODWILL, " ORDER BY id"},
    {PATRON__OUTBOX_OFFER_USE, " ORDER BY id"},
    {PATRON__OUTBOX_ERASURE, " ORDER BY id"},
};

static int backfill_kind(patron_store *s, enum patron__outbox_kind kind, const char *tail,
                         int64_t store_id)
{
    const char *sql = kind == PATRON__OUTBOX_SALE ? sale_backfill_sql : insert_sql[kind];
    size_t keep = strlen(sql);
    for (const char *p = strstr(sql, " WHERE "); p; p = strstr(p + 1, " WHERE "))
        keep = (size_t)(p - sql); /* the last one is the statement's own */
    char *text = sqlite3_mprintf("%.*s%s", (int)keep, sql, tail);
    sqlite3_stmt *st;
    if (!text)
        return patron__fail(s, PATRON_ENOMEM, "no memory to fill the outbox");
    int rc = sqlite3_prepare_v2(s->db, text, -1, &st, NULL);
    sqlite3_free(text);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, store_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron__outbox_backfill(patron_store *s)
{
    int64_t store_id = patron__setting_int(s, "store_id", 0);
    int err = 0;
    for (size_t i = 0; i < sizeof backfill_order / sizeof backfill_order[0] && err == 0; i++)
        err = backfill_kind(s, backfill_order[i].kind, backfill_order[i].tail, store_id);
    return err;
}

static void read_row(sqlite3_stmt *st, struct patron_outbox_row *r)
{
    r->store_seq = sqlite3_column_int64(st, 0);
    r->store_id = sqlite3_column_int(st, 1);
    r->kind = (const char *)sqlite3_column_text(st, 2);
    r->table = (const char *)sqlite3_column_text(st, 3);
    r->row_key = (const char *)sqlite3_column_text(st, 4);
    r->member_id = sqlite3_column_int64(st, 5);
    r->payload = (const char *)sqlite3_column_text(st, 6);
    r->recorded_at = sqlite3_column_int64(st, 7);
}

int patron_outbox_list(patron_store *s, int64_t after_seq, size_t max, patron_outbox_fn fn,
                       void *ctx, size_t *count)
{
    sqlite3_stmt *st;
    size_t n = 0;
    int64_t last;
    int rc, err = 0;
    if (!fn || after_seq < 0)
        return patron__fail(s, PATRON_EINVAL, "list the outbox with a callback, after a seq >= 0");
    /* Rows leave the store from here (head office): only those already on disk. */
    if ((err = patron_outbox_last(s, &last)) != 0 || (err = patron__log_durable(s)) != 0)
        return err;
    rc = sqlite3_prepare_v2(s->db,
                            "SELECT store_seq, store_id, kind, tbl, CAST(row_key AS TEXT),"
                            " COALESCE(member_id, 0), payload, recorded_at FROM outbox"
                            " WHERE store_seq > ?1 AND store_seq <= ?3 ORDER BY store_seq LIMIT ?2",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, max > INT64_MAX ? INT64_MAX : (int64_t)max);
    sqlite3_bind_int64(st, 3, last);
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct patron_outbox_row r;
        read_row(st, &r);
        n++;
        err = fn(&r, ctx);
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_finalize(st);
    if (count)
        *count = n;
    return err;
}

int patron_outbox_last(patron_store *s, int64_t *last_seq)
{
    return patron__scalar(s, "SELECT COALESCE(MAX(store_seq), 0) FROM outbox", last_seq);
}

int patron_outbox_sync_get(patron_store *s, struct patron_outbox_sync *out)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = patron__stmt(s, "SELECT acked_seq, last_success, last_attempt, last_error"
                                       " FROM sync_state WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW) {
        out->acked_seq = sqlite3_column_int64(st, 0);
        out->last_success = sqlite3_column_int64(st, 1);
        out->last_attempt = sqlite3_column_int64(st, 2);
        snprintf(out->last_error, sizeof out->last_error, "%s",
                 (const char *)sqlite3_column_text(st, 3));
    } else if (rc != SQLITE_DONE) {
        err = patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    return err;
}

int patron_outbox_sync_ack(patron_store *s, int64_t acked_seq, int finished)
{
    int64_t last = 0;
    int err = patron_outbox_last(s, &last);
    if (err != 0)
        return err;
    if (acked_seq < 0 || acked_seq > last)
        return patron__fail(s, PATRON_EINVAL,
                            "head office acknowledged store_seq %lld but the outbox ends at %lld",
                            (long long)acked_seq, (long long)last);
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE sync_state SET acked_seq = ?1,"
                        " last_success = CASE WHEN ?2 THEN ?3 ELSE last_success END,"
                        " last_attempt = CASE WHEN ?2 THEN ?3 ELSE last_attempt END,"
                        " last_error = CASE WHEN ?2 THEN '' ELSE last_error END WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, acked_seq);
    sqlite3_bind_int(st, 2, finished != 0);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    return patron__step_done(s, st);
}

int patron_outbox_sync_failed(patron_store *s, const char *sentence)
{
    char text[512];
    snprintf(text, sizeof text, "%s", sentence ? sentence : "");
    sqlite3_stmt *st = patron__stmt(s, "UPDATE sync_state SET last_error = ?1, last_attempt = ?2"
                                       " WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    return patron__step_done(s, st);
}
