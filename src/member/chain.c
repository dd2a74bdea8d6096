/* SPDX-License-Identifier: MIT */
/* The chain as a store keeps it: members and cards of other stores and each member's balance
 * held elsewhere, written as head office gives them (src/hq pulls them), in one transaction and
 * without outbox rows. A member of another store gets an account here like any member, so that
 * what they earn here is this store's ledger; their chain_points say what they hold elsewhere. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "member/member_internal.h"
#include "patron/chain.h"

/* "<store>-<id>", both positive decimal numbers: the home store into *home. */
static int parse_uid(const char *uid, int *home)
{
    char *end = NULL;
    if (!uid || uid[0] < '1' || uid[0] > '9')
        return -1;
    long store = strtol(uid, &end, 10);
    if (*end != '-' || store < 1 || store > 65535 || end[1] < '1' || end[1] > '9')
        return -1;
    const char *p = end + 1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p || p - end > 19)
        return -1;
    *home = (int)store;
    return 0;
}

/* The local id of the member with this member_uid, 0 for none. */
static int member_by_uid(patron_store *s, const char *uid, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT id FROM members WHERE member_uid = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v && *v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* ?1 id, ?2 name, ?3 email, ?4 phone, ?5 birthday, ?6 consent, ?7 consent_at */
static void bind_person(sqlite3_stmt *st, const struct patron_chain_member *m, char *fallback,
                        size_t len)
{
    snprintf(fallback, len, "Member %s", m->member_uid);
    sqlite3_bind_text(st, 2, m->name && *m->name ? m->name : fallback, -1, SQLITE_TRANSIENT);
    bind_text(st, 3, m->email);
    bind_text(st, 4, m->phone);
    bind_text(st, 5, m->birthday);
    sqlite3_bind_int(st, 6, m->consent_marketing ? 1 : 0);
    if (m->consent_marketing && m->consent_at)
        sqlite3_bind_int64(st, 7, m->consent_at);
    else
        sqlite3_bind_null(st, 7);
}

static int insert_member(patron_store *s, const struct patron_chain_member *m)
{
    static const char *const sql =
        "INSERT INTO members(member_uid, name, email, phone, birthday, consent_marketing,"
        " consent_at, consent_source, created_at, tier_id)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?6 THEN 'chain' END, ?8,"
        " (SELECT id FROM tiers WHERE threshold = 0))";
    char fallback[64];
    sqlite3_stmt *st = patron__stmt(s, sql);
    int err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, m->member_uid, -1, SQLITE_TRANSIENT);
    bind_person(st, m, fallback, sizeof fallback);
    sqlite3_bind_int64(st, 8, m->created_at ? m->created_at : patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    if (!(st = patron__stmt(s, "INSERT INTO accounts(member_id) VALUES (?1)")))
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    return patron__step_done(s, st);
}

static int update_member(patron_store *s, int64_t id, const struct patron_chain_member *m)
{
    static const char *const sql =
        "UPDATE members SET name = ?2, email = ?3, phone = ?4, birthday = ?5,"
        " consent_marketing = ?6, consent_at = ?7 WHERE id = ?1 AND erased_at IS NULL";
    char fallback[64];
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, id);
    bind_person(st, m, fallback, sizeof fallback);
    return patron__step_done(s, st);
}

/* The member was erased at head office: no personal data stays here, their cards are blocked. */
static int erase_copy(patron_store *s, int64_t id)
{
    static const char *const member_sql =
        "UPDATE members SET name = 'erased', email = NULL, phone = NULL, birthday = NULL,"
        " consent_marketing = 0, consent_at = NULL, consent_source = NULL, erased_at = ?2"
        " WHERE id = ?1 AND erased_at IS NULL";
    static const char *const card_sql =
        "UPDATE cards SET status = 'blocked', blocked_at = ?2 WHERE member_id = ?1"
        " AND status = 'active'";
    int err = 0;
    for (int i = 0; i < 2 && err == 0; i++) {
        sqlite3_stmt *st = patron__stmt(s, i == 0 ? member_sql : card_sql);
        if (!st)
            return PATRON_EDB;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, patron_store_now(s));
        err = patron__step_done(s, st);
    }
    return err;
}

int patron_chain_begin(patron_store *s)
{
    return patron__tx_begin(s);
}

int patron_chain_put_member(patron_store *s, const struct patron_chain_member *m)
{
    int home = 0;
    int64_t id = 0;
    if (!m || parse_uid(m->member_uid, &home) != 0)
        return patron__fail(s, PATRON_EINVAL, "a chain member_uid is \"<store>-<id>\", not '%.40s'",
                            m && m->member_uid ? m->member_uid : "");
    if (home == s->store_id)
        return 0; /* this store's own member: the store is the truth */
    int err = member_by_uid(s, m->member_uid, &id);
    if (err != 0)
        return err;
    if (m->erased)
        return id ? erase_copy(s, id) : 0;
    return id ? update_member(s, id, m) : insert_member(s, m);
}

int patron_chain_put_card(patron_store *s, const struct patron_chain_card *c, int *kept)
{
    char number[PATRON_CARD_DIGITS + 1];
    int64_t id = 0;
    int err;
    if (kept)
        *kept = 0;
    if (!c || patron_card_parse(c->number, number) != 0)
        return patron__fail(s, PATRON_EINVAL, "a chain card number '%.32s'",
                            c && c->number ? c->number : "");
    if ((err = member_by_uid(s, c->member_uid, &id)) != 0 || id == 0)
        return err;
    sqlite3_stmt *st =
        patron__stmt(s, "INSERT INTO cards(number, member_id, status, issued_at, blocked_at)"
                        " VALUES (?1, ?2, CASE WHEN ?3 THEN 'blocked' ELSE 'active' END, ?4,"
                        " CASE WHEN ?3 THEN ?5 END)"
                        " ON CONFLICT(number) DO UPDATE SET status = 'blocked', blocked_at = ?5"
                        " WHERE ?3 AND cards.member_id = ?2 AND cards.status = 'active'");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, number, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    sqlite3_bind_int(st, 3, c->blocked ? 1 : 0);
    sqlite3_bind_int64(st, 4, c->issued_at ? c->issued_at : patron_store_now(s));
    sqlite3_bind_int64(st, 5, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    if (kept) {
        sqlite3_stmt *q = patron__stmt(s, "SELECT member_id = ?2 FROM cards WHERE number = ?1");
        if (!q)
            return PATRON_EDB;
        sqlite3_bind_text(q, 1, number, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, id);
        *kept = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0);
        sqlite3_reset(q);
    }
    return 0;
}

/* What the member earned elsewhere may lift their tier here, as an earn would. */
static int review_tier(patron_store *s, const char *uid)
{
    struct patron__member_row row;
    int64_t id = 0;
    int changed = 0, err = member_by_uid(s, uid, &id);
    if (err != 0 || id == 0)
        return err;
    if ((err = patron__member_row_by_id(s, id, &row)) != 0)
        return err;
    return row.erased ? 0 : patron__tier_review(s, &row, 1, &changed);
}

int patron_chain_put_balance(patron_store *s, const struct patron_chain_balance *b)
{
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE members SET chain_points = ?2, chain_earned = ?3 WHERE member_uid = ?1");
    int err;
    if (!b || !b->member_uid)
        return patron__fail(s, PATRON_EINVAL, "a chain balance names its member");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, b->member_uid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, b->points);
    sqlite3_bind_int64(st, 3, b->earned);
    if ((err = patron__step_done(s, st)) != 0)
        return err;
    return review_tier(s, b->member_uid);
}

int patron_chain_commit(patron_store *s, const char *cursor)
{
    int err = 0;
    if (cursor) {
        sqlite3_stmt *st = patron__stmt(s, "UPDATE chain_pull SET cursor = ?1, last_pull = ?2");
        if (!st) {
            err = PATRON_EDB;
        } else {
            sqlite3_bind_text(st, 1, cursor, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 2, patron_store_now(s));
            err = patron__step_done(s, st);
        }
    }
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

void patron_chain_rollback(patron_store *s)
{
    patron__tx_rollback(s);
}

int patron__chain_cursor_read(patron_store *s, const char *sql, char *out, size_t len)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    patron__copy(out, len, rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "0");
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_chain_cursor(patron_store *s, char *out, size_t len)
{
    return patron__chain_cursor_read(s, "SELECT cursor FROM chain_pull WHERE id = 1", out, len);
}

int patron_chain_member_of_card(patron_store *s, const char *card, char *uid, size_t len,
                                int64_t *local_points)
{
    struct patron__member_row m;
    int err = patron__member_for_card(s, card, 0, &m);
    if (err != 0)
        return err;
    sqlite3_stmt *st = patron__stmt(s, "SELECT member_uid FROM members WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, m.member_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        patron__copy(uid, len, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    *local_points = m.balance;
    return 0;
}

int patron_chain_put_voucher(patron_store *s, const struct patron_chain_voucher *v)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO chain_vouchers(key_id, voucher_id, redeemed_store, redeemed_at, voided_at)"
           " VALUES (?1, ?2, nullif(?3, 0), nullif(?4, 0), nullif(?5, 0))"
           " ON CONFLICT(key_id, voucher_id) DO UPDATE SET"
           " redeemed_store = coalesce(redeemed_store, excluded.redeemed_store),"
           " redeemed_at = coalesce(redeemed_at, excluded.redeemed_at),"
           " voided_at = coalesce(voided_at, excluded.voided_at)");
    if (!v)
        return patron__fail(s, PATRON_EINVAL, "a chain voucher names its key and id");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, v->key_id);
    sqlite3_bind_int64(st, 2, v->voucher_id);
    sqlite3_bind_int(st, 3, v->redeemed_at ? v->store_id : 0);
    sqlite3_bind_int64(st, 4, v->redeemed_at);
    sqlite3_bind_int64(st, 5, v->voided_at);
    return patron__step_done(s, st);
}

int patron_chain_voucher_cursor(patron_store *s, char *out, size_t len)
{
    return patron__chain_cursor_read(s, "SELECT cursor FROM chain_voucher_pull WHERE id = 1", out,
                                     len);
}

int patron_chain_set_voucher_cursor(patron_store *s, const char *cursor)
{
    /* a successful sync shipped the offline spends so far: they no longer count */
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE chain_voucher_pull SET cursor = ?1,"
           " offline_settled = (SELECT coalesce(max(entry_id), 0) FROM offline_spends)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, cursor, -1, SQLITE_TRANSIENT);
    return patron__step_done(s, st);
}
