/* SPDX-License-Identifier: MIT */
/* Erasure (the right to be forgotten): the member's personal data is overwritten, their cards
 * blocked and the ledger left as it is (its rows name a member id, never a person), so balances
 * and the program still add up. With secure_delete on, SQLite zeroes what it frees; the WAL,
 * which still holds old page images, is then checkpointed into the file and truncated. */
#include <errno.h>

#include "core/outbox_internal.h"
#include "member/member_internal.h"
#include "privacy/privacy_internal.h"

static int run(patron_store *s, const char *sql, int64_t member_id, const char *text,
               int64_t *changes)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    if (text)
        sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (changes)
        *changes = sqlite3_changes(s->db);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* Copies of personal data outside the members row: the name on queued and printed coupons and
 * cards (print_jobs.vars, found by the member's name, cards or redemptions while the row still
 * holds the name), replies kept by the counter service, the member's own words in feedback and
 * complaints, the stated preferences and segment memberships that only served to market to
 * them, and the phones registered for their wallet pass. */
static const char *const scrub_sql[] = {
    ("UPDATE print_jobs SET vars = json_set(vars, '$.\"member.name\"', 'erased')"
     " WHERE json_valid(vars) AND ("
     " json_extract(vars, '$.\"member.name\"') = (SELECT name FROM members WHERE id = ?1)"
     " OR json_extract(vars, '$.\"card.number\"') IN (SELECT number FROM cards"
     " WHERE member_id = ?1) OR id IN (SELECT print_job FROM redemptions WHERE member_id = ?1))"),
    "UPDATE feedback SET comment = NULL WHERE member_id = ?1 AND comment IS NOT NULL",
    "UPDATE goodwill SET complaint = 'erased' WHERE member_id = ?1",
    /* The counter service keeps replies for idempotent replays; a reply about this member
     * (scan, sale, enrolment) carries their name. */
    ("UPDATE api_replies SET body = '{\"erased\":true}' WHERE json_valid(body) AND ("
     " json_extract(body, '$.member_id') = ?1 OR json_extract(body, '$.card') IN (SELECT number"
     " FROM cards WHERE member_id = ?1) OR instr(body, json_quote((SELECT name FROM members"
     " WHERE id = ?1))) > 0)"),
    "DELETE FROM preferences WHERE member_id = ?1",
    "DELETE FROM segment_members WHERE member_id = ?1",
    /* An imported member's old card numbers and the old program's reference for them. */
    "DELETE FROM card_aliases WHERE card IN (SELECT number FROM cards WHERE member_id = ?1)",
    "UPDATE member_imports SET ref = NULL WHERE member_id = ?1",
    /* The consent history dates when (and where) the member said yes; only the withdrawal the
     * erasure itself records stays. */
    "DELETE FROM consent_changes WHERE member_id = ?1",
    /* The phones that asked for updates of the member's wallet pass. */
    ("DELETE FROM wallet_registrations WHERE serial IN"
     " (SELECT number FROM cards WHERE member_id = ?1)"),
};

static int scrub_copies(patron_store *s, int64_t member_id)
{
    int err = 0;
    for (size_t i = 0; i < sizeof scrub_sql / sizeof scrub_sql[0] && err == 0; i++)
        err = run(s, scrub_sql[i], member_id, NULL, NULL);
    return err;
}

/* The withdrawal goes into the (now empty) history while the row still says consent was given;
 * it dates the erasure, not the consent. */
static int record_withdrawal(patron_store *s, int64_t member_id, const char *who)
{
    int64_t added = 0;
    int err = run(s,
                  "INSERT INTO consent_changes(member_id, marketing, source, changed_at,"
                  " changed_by) SELECT id, 0, 'erasure', ?2, ?3 FROM members"
                  " WHERE id = ?1 AND consent_marketing = 1",
                  member_id, who, &added);
    if (err != 0 || added == 0)
        return err;
    return patron__outbox_add(s, PATRON__OUTBOX_CONSENT, sqlite3_last_insert_rowid(s->db));
}

int patron__member_erase_rows(patron_store *s, int64_t member_id, const char *who)
{
    int64_t blocked = 0;
    int err;
    if ((err = patron__outbox_erase(s, member_id)) != 0 ||
        (err = scrub_copies(s, member_id)) != 0 ||
        (err = record_withdrawal(s, member_id, who)) != 0)
        return err;
    if ((err = run(s,
                   "UPDATE members SET name = 'erased', email = NULL, phone = NULL,"
                   " birthday = NULL, consent_marketing = 0, consent_at = NULL,"
                   " consent_source = NULL, greet_by_name = 0, erased_at = ?2 WHERE id = ?1",
                   member_id, NULL, NULL)) != 0 ||
        (err = run(s,
                   "UPDATE cards SET status = 'blocked', blocked_at = ?2"
                   " WHERE member_id = ?1 AND status = 'active'",
                   member_id, NULL, &blocked)) != 0)
        return err;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO erasures(member_id, erased_at, erased_by,"
                                " cards_blocked) VALUES (?1, ?2, ?3, ?4)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, who, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, blocked);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return patron__outbox_add(s, PATRON__OUTBOX_ERASURE, sqlite3_last_insert_rowid(s->db));
}

/* Copies every page of the WAL into the file and truncates the WAL to nothing. */
int patron__erase_checkpoint(patron_store *s)
{
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log, &done);
    if (rc == SQLITE_BUSY || (rc == SQLITE_OK && log > 0 && done < log))
        return patron__fail(s, -EBUSY,
                            "the erasure is committed but another connection kept the WAL from "
                            "being truncated; erase again when the store is idle");
    return rc == SQLITE_OK ? 0 : patron__db_err(s, rc);
}

int patron_member_erase(patron_store *s, const char *card, const char *who)
{
    struct patron__member_row m;
    int err;
    if (!patron__printable(who, 64))
        return patron__fail(s, PATRON_EINVAL, "say who erases (1-63 printable bytes)");
    if (s->tx_depth != 0)
        return patron__fail(s, PATRON_EINVAL, "an erasure cannot run inside a batch");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__member_for_card(s, card, 0, &m)) != 0 ||
        (!m.erased && (err = patron__member_erase_rows(s, m.member_id, who)) != 0)) {
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    return patron__erase_checkpoint(s);
}
