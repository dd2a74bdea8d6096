/* SPDX-License-Identifier: MIT */
/* A checked row put into the store: a duplicate of an earlier row refused, the member matched
 * by card, then phone, then e-mail (or created), and the balance moved by a ledger entry
 * against the batch's account migration:BATCH, the credit's lot keeping the source's expiry. */
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_internal.h"
#include "migrate/import_internal.h"

/* The file's register of keys is the store's own indexes: a member found by a row's card, old
 * number, phone or e-mail whose member_imports row already names this batch was brought by an
 * earlier row of the file (the batch's account did not exist when the run began, so no earlier
 * run of the batch left it). Returns 0, -1 with r->why for a duplicate, or a PATRON_* code. */
static int duplicate(struct patron__import_ctx *x, struct patron__import_row *r, int64_t member_id,
                     int by)
{
    static const char *const what[PATRON__F_COUNT] = {[PATRON__F_CARD] = "this card",
                                                      [PATRON__F_PHONE] = "this phone",
                                                      [PATRON__F_EMAIL] = "this e-mail"};
    sqlite3_stmt *st =
        patron__stmt(x->s, "SELECT 1 FROM member_imports WHERE member_id = ?1 AND batch = ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_text(st, 2, x->report->batch, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return patron__db_err(x->s, rc);
    r->bad_field = by;
    snprintf(r->why, sizeof r->why, "%s appears in an earlier row of the file",
             by == PATRON__F_CARD && !r->card[0] ? "this card number" : what[by]);
    return -1;
}

static int find_one(patron_store *s, const char *sql, const char *value, int64_t *member_id)
{
    sqlite3_stmt *st = patron__stmt(s, sql);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *member_id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

/* Finds the member by card, old number, phone, then e-mail; *by is the field that found it. */
static int match(patron_store *s, const struct patron__import_row *r, int64_t *member_id, int *by)
{
    int err = 0;
    *member_id = 0;
    *by = PATRON__F_CARD;
    if (r->card[0])
        err = find_one(s, "SELECT member_id FROM cards WHERE number = ?1", r->card, member_id);
    if (!err && !*member_id && r->foreign[0])
        err = find_one(s,
                       "SELECT c.member_id FROM card_aliases al JOIN cards c ON c.number = al.card"
                       " WHERE al.old_number = ?1",
                       r->foreign, member_id);
    if (!err && !*member_id && r->phone[0])
        *by = PATRON__F_PHONE,
        err = find_one(s,
                       "SELECT id FROM members WHERE phone = ?1 AND erased_at IS NULL"
                       " ORDER BY id LIMIT 1",
                       r->phone, member_id);
    if (!err && !*member_id && r->email[0])
        *by = PATRON__F_EMAIL,
        err = find_one(s,
                       "SELECT id FROM members WHERE lower(email) = lower(?1) AND erased_at IS NULL"
                       " ORDER BY id LIMIT 1",
                       r->email, member_id);
    return err;
}

static int create(struct patron__import_ctx *x, struct patron__import_row *r, int64_t *member_id,
                  char minted[PATRON_CARD_DIGITS + 1])
{
    struct patron_enrollment e = {
        .name = r->name[0] ? r->name : "(imported)",
        .email = r->email[0] ? r->email : NULL,
        .phone = r->phone[0] ? r->phone : NULL,
        .birthday = r->birthday[0] ? r->birthday : NULL,
        .consent_marketing = r->consent,
    };
    struct patron__member_origin o = {
        .joined_at = r->joined_at,
        .consent_at = r->consent_at ? r->consent_at : r->joined_at,
        .consent_source = x->source,
        .tier_id = r->tier_id,
        .tier_until = r->tier_id && r->tier_threshold > 0 ? x->now + PATRON__YEAR_SECONDS : 0,
    };
    int err = patron__member_create(x->s, &e, r->card[0] ? r->card : NULL, &o, member_id, minted);
    if (err == PATRON_EINVAL) { /* the enrolment's own rules: a bad row, not a failed import */
        snprintf(r->why, sizeof r->why, "%s", patron_store_detail(x->s));
        return -1;
    }
    return err;
}

static int post(struct patron__import_ctx *x, const struct patron__import_row *r,
                struct patron__member_row *m, int64_t delta)
{
    struct patron__posting p = {
        .kind = "adjust",
        .points = delta > 0 ? delta : -delta,
        .to_member = delta > 0,
        .program = PATRON__ACCT_ADJUST,
        .note = x->note,
        .approved_by = "import",
        .account = x->account,
        .account_name = x->account_name,
        .expires_at = r->expires_at,
    };
    int64_t entry_id;
    return patron__ledger_post(x->s, m, &p, &entry_id);
}

int patron__import_apply(struct patron__import_ctx *x, struct patron__import_row *r)
{
    struct patron__member_row m;
    struct patron_import_report *rep = x->report;
    int64_t member_id = 0, delta;
    int err, found, by;
    if ((err = match(x->s, r, &member_id, &by)) != 0)
        return err;
    found = member_id != 0;
    if (found && (err = duplicate(x, r, member_id, by)) != 0)
        return err;
    if (!found && (err = create(x, r, &member_id, NULL)) != 0)
        return err;
    if ((err = patron__member_row_by_id(x->s, member_id, &m)) != 0)
        return err;
    if (m.erased)
        return snprintf(r->why, sizeof r->why, "the matching member was erased"), -1;
    if ((err = patron__import_keep(x, r, member_id, !found)) != 0)
        return err;
    delta = x->opt->mode == PATRON_IMPORT_SET && r->has_points ? r->points - m.balance : r->points;
    /* A dry run (the check on a copy) posts nothing: a batch reaches a member once, so no later
     * row reads this balance, and the migration account's is counted (import.c). */
    if (delta != 0 && x->opt->dry_run)
        x->unposted += delta;
    else if (delta != 0 && (err = post(x, r, &m, delta)) != 0)
        return err;
    rep->file_points += r->points;
    rep->points_posted += delta;
    if (!found)
        rep->created++;
    else if (rep->matched++, delta != 0)
        rep->updated++;
    else
        rep->skipped++;
    return 0;
}
