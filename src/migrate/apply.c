/* SPDX-License-Identifier: MIT */
/* A checked row put into the store: a duplicate of an earlier row refused, the member matched
 * by card, then phone, then e-mail (or created), and the balance moved by a ledger entry
 * against the batch's account migration:BATCH, the credit's lot keeping the source's expiry. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ledger/ledger_internal.h"
#include "migrate/import_internal.h"

/* 1 when the key was already seen in this file (it is remembered otherwise). */
static int seen(patron_store *s, const char *kind, const char *value, int *err)
{
    char key[200];
    snprintf(key, sizeof key, "%s:%s", kind, value);
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    sqlite3_stmt *st = patron__stmt(s, "INSERT OR IGNORE INTO temp.import_seen(key) VALUES (?1)");
    if (!st)
        return *err = PATRON_EDB, 0;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    if ((*err = patron__step_done(s, st)) != 0)
        return 0;
    return sqlite3_changes(s->db) == 0;
}

static int duplicate(struct patron__import_ctx *x, struct patron__import_row *r)
{
    static const char fmt[] = "%s appears in an earlier row of the file";
    int err = 0;
    if (r->card[0] && seen(x->s, "card", r->card, &err))
        r->bad_field = PATRON__F_CARD, snprintf(r->why, sizeof r->why, fmt, "this card");
    else if (!err && r->foreign[0] && seen(x->s, "old", r->foreign, &err))
        r->bad_field = PATRON__F_CARD, snprintf(r->why, sizeof r->why, fmt, "this card number");
    else if (!err && r->phone[0] && seen(x->s, "phone", r->phone, &err))
        r->bad_field = PATRON__F_PHONE, snprintf(r->why, sizeof r->why, fmt, "this phone");
    else if (!err && r->email[0] && seen(x->s, "email", r->email, &err))
        r->bad_field = PATRON__F_EMAIL, snprintf(r->why, sizeof r->why, fmt, "this e-mail");
    else
        return err;
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

static int match(patron_store *s, const struct patron__import_row *r, int64_t *member_id)
{
    int err = 0;
    *member_id = 0;
    if (r->card[0])
        err = find_one(s, "SELECT member_id FROM cards WHERE number = ?1", r->card, member_id);
    if (!err && r->foreign[0])
        err = find_one(s,
                       "SELECT c.member_id FROM card_aliases al JOIN cards c ON c.number = al.card"
                       " WHERE al.old_number = ?1",
                       r->foreign, member_id);
    if (!err && !*member_id && r->phone[0])
        err = find_one(s,
                       "SELECT id FROM members WHERE phone = ?1 AND erased_at IS NULL"
                       " ORDER BY id LIMIT 1",
                       r->phone, member_id);
    if (!err && !*member_id && r->email[0])
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
    int err, found;
    if ((err = duplicate(x, r)) != 0 || (err = match(x->s, r, &member_id)) != 0)
        return err;
    found = member_id != 0;
    if (!found && (err = create(x, r, &member_id, NULL)) != 0)
        return err;
    if ((err = patron__member_row_by_id(x->s, member_id, &m)) != 0)
        return err;
    if (m.erased)
        return snprintf(r->why, sizeof r->why, "the matching member was erased"), -1;
    if ((err = patron__import_keep(x, r, member_id, !found)) != 0)
        return err;
    delta = x->opt->mode == PATRON_IMPORT_SET && r->has_points ? r->points - m.balance : r->points;
    if (delta != 0 && (err = post(x, r, &m, delta)) != 0)
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
