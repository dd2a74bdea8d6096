/* SPDX-License-Identifier: MIT */
/* Segments, both kinds. Saved segments are named lists of members that offers can target
 * (patron_segment_add, include/patron/offer.h). The segment export is a query, not a list:
 * consenting members only, whatever the query asks, optionally of one tier or lapsed for some
 * days, as CSV with their contact data and last sale (include/patron/privacy.h). The last sale
 * comes from the per-member facts (one pass over the sales) rather than an index on sales. */
#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "member/member_internal.h"
#include "patron/offer.h"
#include "privacy/privacy_internal.h"
#include "report/report_internal.h"

static const char segment_sql[] =
    "SELECT m.id, (SELECT number FROM cards WHERE member_id = m.id AND status = 'active'"
    "  ORDER BY issued_at DESC LIMIT 1), m.name, m.email, m.phone, t.name, m.consent_at,"
    " m.consent_source FROM members m JOIN tiers t ON t.id = m.tier_id"
    " WHERE m.consent_marketing = 1 AND m.erased_at IS NULL AND (?1 IS NULL OR t.name = ?1)"
    " ORDER BY m.id";

static void iso_time(int64_t t, char buf[24])
{
    time_t tt = (time_t)t;
    struct tm tm;
    buf[0] = '\0';
    if (t > 0 && gmtime_r(&tt, &tm))
        strftime(buf, 24, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int write_row(FILE *out, sqlite3_stmt *st, int64_t last_sale)
{
    char consent_at[24], last[24], id[24];
    iso_time(sqlite3_column_int64(st, 6), consent_at);
    iso_time(last_sale, last);
    snprintf(id, sizeof id, "%lld", (long long)sqlite3_column_int64(st, 0));
    const char *fields[] = {id,
                            (const char *)sqlite3_column_text(st, 1),
                            (const char *)sqlite3_column_text(st, 2),
                            (const char *)sqlite3_column_text(st, 3),
                            (const char *)sqlite3_column_text(st, 4),
                            (const char *)sqlite3_column_text(st, 5),
                            consent_at,
                            (const char *)sqlite3_column_text(st, 7),
                            last};
    int err = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && err == 0; i++)
        if ((err = patron_csv_field(out, fields[i])) == 0)
            err =
                fputs(i + 1 < sizeof fields / sizeof fields[0] ? "," : "\r\n", out) < 0 ? -EIO : 0;
    return err;
}

static int write_segment(patron_store *s, const struct patron_segment_query *q,
                         const struct patron__facts *f, FILE *out, int64_t *count)
{
    int64_t cutoff = patron_store_now(s) - q->lapsed_days * PATRON__DAY_SECONDS, n = 0;
    sqlite3_stmt *st;
    int rc, err = patron__prepare(s, segment_sql, &st);
    if (err != 0)
        return err;
    if (q->tier)
        sqlite3_bind_text(st, 1, q->tier, -1, SQLITE_STATIC);
    err = fputs("member_id,card,name,email,phone,tier,consent_at,consent_source,last_sale\r\n",
                out) < 0
              ? -EIO
              : 0;
    while (err == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        const struct patron__fact *m = id > 0 && id < f->n ? &f->m[id] : NULL;
        int64_t last = m ? m->last_sale : 0;
        if (q->lapsed_days > 0 && (!m || (last ? last : m->created_at) >= cutoff))
            continue;
        if ((err = write_row(out, st, last)) == 0)
            n++;
    }
    if (err == 0 && rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_finalize(st);
    if (err == 0)
        *count = n;
    return err;
}

static int tier_exists(patron_store *s, const char *tier)
{
    sqlite3_stmt *st;
    int err = patron__prepare(s, "SELECT 1 FROM tiers WHERE name = ?1", &st);
    if (err != 0)
        return err;
    sqlite3_bind_text(st, 1, tier, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no tier named '%.60s'", tier);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_segment_export(patron_store *s, const struct patron_segment_query *q, FILE *out,
                          int64_t *count)
{
    struct patron__facts f = {0};
    int opened, err;
    if (q->lapsed_days < 0 || q->lapsed_days > 36500)
        return patron__fail(s, PATRON_EINVAL, "lapsed days must be 0 to 36500");
    if ((err = patron__read_begin(s, &opened)) != 0)
        return err;
    if ((q->tier == NULL || (err = tier_exists(s, q->tier)) == 0) &&
        (err = patron__facts_load(s, patron_store_now(s) + 1, &f)) == 0)
        err = write_segment(s, q, &f, out, count);
    patron__facts_cleanup(&f);
    patron__read_end(s, opened);
    return err;
}

int patron_segment_add(patron_store *s, const char *name, const char *card)
{
    struct patron__member_row m;
    int err;
    if (!patron__printable(name, 64))
        return patron__fail(s, PATRON_EINVAL, "a segment name is 1-63 printable bytes");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__member_for_card(s, card, 0, &m)) != 0)
        goto out;
    sqlite3_stmt *st = patron__stmt(s, "INSERT OR IGNORE INTO segments(name, created_at)"
                                       " VALUES (?1, ?2)");
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        goto out;
    if (!(st = patron__stmt(s, "INSERT OR IGNORE INTO segment_members(segment_id, member_id,"
                               " added_at) SELECT id, ?2, ?3 FROM segments WHERE name = ?1"))) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, m.member_id);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}
