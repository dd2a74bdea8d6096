/* SPDX-License-Identifier: MIT */
/* Erasures made at other stores of the chain, pulled down from head office (src/hq/
 * pull_erasure.c): each member this store knows is erased with the store's own erasure code, so
 * the result is the same as `patron member erase` here, and the pull's cursor is kept in the same
 * transaction: a crash leaves either both or neither, and a pull read twice erases nothing
 * twice. */
#include <stdio.h>

#include "member/member_internal.h"
#include "patron/chain.h"
#include "privacy/privacy_internal.h"

/* The local member with this member_uid that this store has not erased itself: *id, or 0. */
static int to_erase(patron_store *s, const char *uid, int64_t *id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT m.id FROM members m WHERE m.member_uid = ?1"
                                       " AND NOT EXISTS (SELECT 1 FROM erasures e"
                                       " WHERE e.member_id = m.id)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int keep_cursor(patron_store *s, const char *cursor)
{
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE chain_erasure_pull SET cursor = ?1, last_pull = ?2 WHERE id = 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, cursor, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    return patron__step_done(s, st);
}

static int erase_all(patron_store *s, const struct patron_chain_erasure *e, size_t n,
                     int64_t *erased)
{
    char who[64];
    int64_t id = 0;
    int err = 0;
    for (size_t i = 0; i < n && err == 0; i++) {
        if (!e[i].member_uid)
            return patron__fail(s, PATRON_EINVAL, "a chain erasure names its member");
        if ((err = to_erase(s, e[i].member_uid, &id)) != 0 || id == 0)
            continue;
        snprintf(who, sizeof who, "head office (erased at store %d)", e[i].store_id);
        if ((err = patron__member_erase_rows(s, id, who)) == 0)
            (*erased)++;
    }
    return err;
}

int patron_chain_erase(patron_store *s, const struct patron_chain_erasure *e, size_t n,
                       const char *cursor, int64_t *erased)
{
    int64_t count = 0;
    int err;
    if (erased)
        *erased = 0;
    if (!cursor || (n > 0 && !e))
        return patron__fail(s, PATRON_EINVAL, "a pull of erasures has a cursor");
    if (s->tx_depth != 0)
        return patron__fail(s, PATRON_EINVAL, "an erasure cannot run inside a batch");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = erase_all(s, e, n, &count)) != 0 || (err = keep_cursor(s, cursor)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    if (erased)
        *erased = count;
    /* busy: another connection holds the WAL; SQLite's next checkpoint copies it */
    if (count > 0)
        (void)patron__erase_checkpoint(s);
    return 0;
}

int patron_chain_erasure_cursor(patron_store *s, char *out, size_t len)
{
    return patron__chain_cursor_read(s, "SELECT cursor FROM chain_erasure_pull WHERE id = 1", out,
                                     len);
}
