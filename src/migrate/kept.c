/* SPDX-License-Identifier: MIT */
/* What an import keeps beside the balance: another program's card number as an alias of the
 * member's Patron card (it still scans), the consent answer with the file's date and the source
 * import:BATCH, the tier, the enrolment time, and the old program's reference and lifetime
 * points (member_imports). A new member gets these at creation (apply.c); a matched one here. */
#include <stdio.h>
#include <string.h>

#include "core/outbox_internal.h"
#include "migrate/import_internal.h"

static int alias_add(struct patron__import_ctx *x, const struct patron__import_row *r,
                     int64_t member_id)
{
    sqlite3_stmt *st = patron__stmt(
        x->s, "INSERT OR IGNORE INTO card_aliases(old_number, card, batch, created_at)"
              " SELECT ?1, number, ?3, ?4 FROM cards WHERE member_id = ?2 AND status = 'active'"
              " ORDER BY issued_at DESC LIMIT 1");
    int err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, r->foreign, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, member_id);
    sqlite3_bind_text(st, 3, x->report->batch, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, x->now);
    if ((err = patron__step_done(x->s, st)) == 0 && sqlite3_changes(x->s->db) == 1)
        x->report->aliases++;
    return err;
}

/* A matched member's answer differs from the file's: the file's answer is recorded with its
 * date (or now) and becomes the current one. */
static int consent_change(struct patron__import_ctx *x, const struct patron__import_row *r,
                          int64_t member_id)
{
    int64_t at = r->consent_at ? r->consent_at : x->now;
    sqlite3_stmt *st = patron__stmt(x->s, "UPDATE members SET consent_marketing = ?2,"
                                          " consent_at = ?3, consent_source = ?4"
                                          " WHERE id = ?1 AND consent_marketing <> ?2");
    int err;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int(st, 2, r->consent);
    sqlite3_bind_int64(st, 3, at);
    sqlite3_bind_text(st, 4, x->source, -1, SQLITE_TRANSIENT);
    if ((err = patron__step_done(x->s, st)) != 0 || sqlite3_changes(x->s->db) == 0)
        return err;
    if (!(st = patron__stmt(x->s, "INSERT INTO consent_changes(member_id, marketing, source,"
                                  " changed_at, changed_by) VALUES (?1, ?2, ?3, ?4, 'import')")))
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int(st, 2, r->consent);
    sqlite3_bind_text(st, 3, x->source, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, at);
    if ((err = patron__step_done(x->s, st)) != 0)
        return err;
    return patron__outbox_add(x->s, PATRON__OUTBOX_CONSENT, sqlite3_last_insert_rowid(x->s->db));
}

/* A matched member takes the file's tier (a new 12-month period) and the earlier enrolment. */
static int member_update(struct patron__import_ctx *x, const struct patron__import_row *r,
                         int64_t member_id)
{
    sqlite3_stmt *st = patron__stmt(
        x->s, "UPDATE members SET tier_id = COALESCE(?2, tier_id),"
              " tier_until = CASE WHEN ?2 IS NULL OR ?2 = tier_id THEN tier_until ELSE ?3 END,"
              " created_at = MIN(created_at, COALESCE(?4, created_at)) WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    if (r->tier_id) {
        sqlite3_bind_int64(st, 2, r->tier_id);
        if (r->tier_threshold > 0)
            sqlite3_bind_int64(st, 3, x->now + PATRON__YEAR_SECONDS);
    }
    if (r->joined_at)
        sqlite3_bind_int64(st, 4, r->joined_at);
    return patron__step_done(x->s, st);
}

/* The old program's facts: its reference, tier name and lifetime points (added under --mode
 * add, replaced under --mode set), with the batch that brought them last. */
static int facts(struct patron__import_ctx *x, const struct patron__import_row *r,
                 int64_t member_id)
{
    sqlite3_stmt *st = patron__stmt(
        x->s, "INSERT INTO member_imports(member_id, batch, ref, lifetime_points, tier,"
              " imported_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(member_id) DO UPDATE SET"
              " batch = ?2, ref = COALESCE(?3, ref), lifetime_points = CASE WHEN ?4 IS NULL"
              " THEN lifetime_points WHEN ?7 THEN ?4 ELSE COALESCE(lifetime_points, 0) + ?4 END,"
              " tier = COALESCE(?5, tier), imported_at = ?6");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_text(st, 2, x->report->batch, -1, SQLITE_TRANSIENT);
    if (r->ref[0])
        sqlite3_bind_text(st, 3, r->ref, -1, SQLITE_TRANSIENT);
    if (r->has_lifetime)
        sqlite3_bind_int64(st, 4, r->lifetime);
    if (r->tier[0])
        sqlite3_bind_text(st, 5, r->tier, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, x->now);
    sqlite3_bind_int(st, 7, x->opt->mode == PATRON_IMPORT_SET);
    return patron__step_done(x->s, st);
}

int patron__import_keep(struct patron__import_ctx *x, const struct patron__import_row *r,
                        int64_t member_id, int created)
{
    int err = 0;
    if (r->foreign[0] && (err = alias_add(x, r, member_id)) != 0)
        return err;
    if (!created && r->has_consent && (err = consent_change(x, r, member_id)) != 0)
        return err;
    if (!created && (r->tier_id || r->joined_at) && (err = member_update(x, r, member_id)) != 0)
        return err;
    return facts(x, r, member_id);
}

static int read_aliases(patron_store *s, int64_t member_id, struct patron_import_facts *out)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT al.old_number FROM card_aliases al JOIN cards c ON c.number = al.card"
           " WHERE c.member_id = ?1 ORDER BY al.created_at, al.old_number LIMIT 4");
    int rc, n = 0;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        patron__copy(out->old_cards[n++], sizeof out->old_cards[0],
                     (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_import_member_facts(patron_store *s, int64_t member_id, struct patron_import_facts *out)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT batch, ref, lifetime_points, tier, imported_at"
                                       " FROM member_imports WHERE member_id = ?1");
    int rc;
    if (!out)
        return patron__fail(s, PATRON_EINVAL, "no place for the member's imported facts");
    memset(out, 0, sizeof *out);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        patron__copy(out->batch, sizeof out->batch, (const char *)sqlite3_column_text(st, 0));
        patron__copy(out->ref, sizeof out->ref, (const char *)sqlite3_column_text(st, 1));
        out->has_lifetime_points = sqlite3_column_type(st, 2) != SQLITE_NULL;
        out->lifetime_points = sqlite3_column_int64(st, 2);
        patron__copy(out->tier, sizeof out->tier, (const char *)sqlite3_column_text(st, 3));
        out->imported_at = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return read_aliases(s, member_id, out);
}
