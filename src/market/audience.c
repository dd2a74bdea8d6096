/* SPDX-License-Identifier: MIT */
/* Who an offer's targets reach (patron_offer_audience): every member with an active card checked
 * with the scan's own target test (patron__offer_targets_met, offer_eval.c), counted, and a few
 * named as a sample, for the back office's live count while an offer is being written. */
#include <string.h>

#include "market/offer_internal.h"

/* Adds the member of the current row to the audience when the targets hold for them. */
static int audience_consider(patron_store *s, const struct patron_offer *o, sqlite3_stmt *st,
                             size_t sample, struct patron_offer_audience *out)
{
    struct patron__member_row m;
    int met = 0;
    int err = patron__member_row_by_id(s, sqlite3_column_int64(st, 0), &m);
    if (err != 0 || (err = patron__offer_targets_met(s, o, &m, &met)) != 0 || !met)
        return err;
    if (out->n_sample < sample) {
        patron__copy(out->sample[out->n_sample].card, sizeof out->sample[0].card,
                     (const char *)sqlite3_column_text(st, 1));
        patron__copy(out->sample[out->n_sample].name, sizeof out->sample[0].name,
                     (const char *)sqlite3_column_text(st, 2));
        out->n_sample++;
    }
    out->count++;
    return 0;
}

int patron_offer_audience(patron_store *s, const struct patron_offer_def *def, size_t sample,
                          struct patron_offer_audience *out)
{
    /* one statement stepped to the end: every read below shares its snapshot */
    static const char sql[] =
        "SELECT m.id, (SELECT MIN(c.number) FROM cards c WHERE c.member_id = m.id"
        " AND c.status = 'active') AS card, m.name FROM members m"
        " WHERE m.erased_at IS NULL AND card IS NOT NULL ORDER BY m.id";
    struct patron_offer o;
    sqlite3_stmt *st;
    int rc, err;
    memset(out, 0, sizeof *out);
    memset(&o, 0, sizeof o);
    if (sample > PATRON_OFFER_SAMPLE_MAX)
        sample = PATRON_OFFER_SAMPLE_MAX;
    if ((err = patron__offer_audience_target(s, def, &o)) != 0)
        return err;
    if (!(st = patron__stmt(s, sql)))
        return PATRON_EDB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        out->members++;
        if ((err = audience_consider(s, &o, st, sample, out)) != 0)
            goto out;
    }
    err = rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
out:
    sqlite3_reset(st);
    return err;
}
