/* SPDX-License-Identifier: MIT */
/* Marketing consent: the member's current answer lives on their row (with its date and source)
 * and every answer is kept in consent_changes, so the shop can show when and where consent was
 * given or withdrawn. The first answer is recorded at enrolment by a trigger (src/core/schema.c).
 */
#include <string.h>

#include "core/outbox_internal.h"
#include "member/member_internal.h"
#include "privacy/privacy_internal.h"

/* Appends one answer to the history. */
static int record(patron_store *s, int64_t member_id, int marketing, const char *source,
                  const char *who)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "INSERT INTO consent_changes(member_id, marketing, source,"
                                " changed_at, changed_by) VALUES (?1, ?2, ?3, ?4, ?5)",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int(st, 2, marketing);
    if (source)
        sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    sqlite3_bind_text(st, 5, who, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return patron__db_err(s, rc);
    return patron__outbox_add(s, PATRON__OUTBOX_CONSENT, sqlite3_last_insert_rowid(s->db));
}

static int set_current(patron_store *s, int64_t member_id, int marketing, const char *source)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db,
                                "UPDATE members SET consent_marketing = ?2, consent_at = ?3,"
                                " consent_source = ?4 WHERE id = ?1",
                                -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int(st, 2, marketing);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    sqlite3_bind_text(st, 4, source, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron_member_consent(patron_store *s, const char *card, int marketing, const char *source,
                          const char *who)
{
    struct patron__member_row m;
    int err;
    if (!source)
        source = "counter";
    if (marketing != 0 && marketing != 1)
        return patron__fail(s, PATRON_EINVAL, "marketing consent is yes (1) or no (0)");
    if ((err = patron__text_rule(s, "the consent source", source, 1, PATRON_SOURCE_MAX, 0)) != 0 ||
        (err = patron__text_rule(s, "who recorded the consent", who, 1, PATRON_LABEL_MAX, 0)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = patron__member_for_card(s, card, 0, &m)) != 0)
        goto out;
    if (m.erased) {
        err = patron__fail(s, PATRON_EBLOCKED, "member %lld was erased", (long long)m.member_id);
        goto out;
    }
    if ((err = set_current(s, m.member_id, marketing, source)) != 0 ||
        (err = record(s, m.member_id, marketing, source, who)) != 0)
        goto out;
    return patron__tx_commit(s);
out:
    patron__tx_rollback(s);
    return err;
}
