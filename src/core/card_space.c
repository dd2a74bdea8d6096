/* SPDX-License-Identifier: MIT */
/* The card number spaces a store mints from (patron/card_space.h): the space of the next card,
 * a new one taken when those held are 90% full (by the store itself without a head office,
 * granted by head office in a chain), the count of cards minted in each, and which store a
 * number belongs to now that a store may hold several spaces. */
#include <stdio.h>
#include <string.h>

#include "core/store_internal.h"

#define SPACES 65535

void patron_store_set_card_space_source(patron_store *s, patron_card_space_source_fn fn, void *arg)
{
    if (!s)
        return;
    s->space_source = fn;
    s->space_source_arg = fn ? arg : NULL;
}

/* 1 when the store holds `space`, 0 when not, or a negative code. */
static int held(patron_store *s, int space)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT 1 FROM card_spaces WHERE space = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, space);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int keep_space(patron_store *s, int space, const char *source, int64_t minted)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT OR IGNORE INTO card_spaces(space, taken_seq, taken_at, source, minted)"
           " VALUES (?1, (SELECT COALESCE(MAX(taken_seq), 0) + 1 FROM card_spaces), ?2, ?3, ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, space);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, minted);
    return patron__step_done(s, st);
}

/* The cards of the own space already minted (a store older than the spaces). */
static int count_own(patron_store *s, int store_id, int64_t *minted)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->db, "SELECT number FROM cards", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return patron__db_err(s, rc);
    *minted = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *number = (const char *)sqlite3_column_text(st, 0);
        if (number && strlen(number) == PATRON_CARD_DIGITS &&
            patron_card_store(number, NULL) == store_id)
            (*minted)++;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron__card_spaces_seed(patron_store *s)
{
    int store_id = (int)patron__setting_int(s, "store_id", 0);
    int64_t minted = 0;
    int err;
    if (store_id < 1 || store_id > SPACES)
        return 0; /* not a store yet: init seeds it */
    if ((err = count_own(s, store_id, &minted)) != 0)
        return err;
    return keep_space(s, store_id, "own", minted);
}

/* A chain store: it holds a granted space, or has pulled from head office. */
static int in_chain(patron_store *s, int *chain)
{
    int64_t yes = 0;
    int err = patron__scalar(s,
                             "SELECT EXISTS(SELECT 1 FROM card_spaces WHERE source = 'granted')"
                             " OR EXISTS(SELECT 1 FROM card_space_grants)"
                             " OR EXISTS(SELECT 1 FROM chain_pull WHERE last_pull > 0)",
                             &yes);
    *chain = yes != 0;
    return err;
}

/* The highest space the store does not hold, counting down from 65535. */
static int take_self(patron_store *s, int *space)
{
    for (int candidate = SPACES; candidate >= 1; candidate--) {
        int h = held(s, candidate);
        if (h < 0)
            return h;
        if (h == 0) {
            *space = candidate;
            return keep_space(s, candidate, "self", 0);
        }
    }
    return patron__fail(s, PATRON_ELIMIT, "every card number space is taken");
}

static int take_granted(patron_store *s, int *space)
{
    char why[256] = "";
    int granted = 0;
    int err = s->space_source(s->space_source_arg, s, &granted, why, sizeof why);
    if (err == 0 && (granted < 1 || granted > SPACES || held(s, granted) != 0))
        err = PATRON_EINVAL, snprintf(why, sizeof why, "head office granted space %d", granted);
    if (err != 0)
        return patron__fail(s, PATRON_ELIMIT,
                            "this store has given out the card numbers of its spaces and head "
                            "office did not grant another (%s); nothing was written: enrol "
                            "again once head office can be reached",
                            why);
    *space = granted;
    return patron_card_space_grant_keep(s, granted, s->store_id);
}

/* Every space held is full: the own one if not held yet, else one more. */
static int take_space(patron_store *s, int *space)
{
    int chain = 0, err, own = held(s, s->store_id);
    if (own < 0)
        return own;
    if (own == 0) {
        *space = s->store_id;
        return keep_space(s, s->store_id, "own", 0);
    }
    if (s->space_source)
        return take_granted(s, space);
    if ((err = in_chain(s, &chain)) != 0)
        return err;
    if (chain)
        return patron__fail(s, PATRON_ELIMIT,
                            "this store has given out the card numbers of its spaces and head "
                            "office cannot be reached for another; nothing was written: a "
                            "`patron sync` brings one, then enrol again");
    return take_self(s, space);
}

int patron__card_space_pick(patron_store *s, int *space)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT space FROM card_spaces WHERE minted < ?1"
                                       " ORDER BY taken_seq LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)PATRON_CARD_SPACE_FULL);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *space = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? take_space(s, space) : patron__db_err(s, rc);
}

int patron__card_space_minted(patron_store *s, int space)
{
    sqlite3_stmt *st =
        patron__stmt(s, "UPDATE card_spaces SET minted = minted + 1 WHERE space = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, space);
    return patron__step_done(s, st);
}

static void read_space(sqlite3_stmt *st, void *row)
{
    struct patron_card_space *c = row;
    c->space = sqlite3_column_int(st, 0);
    snprintf(c->source, sizeof c->source, "%s", (const char *)sqlite3_column_text(st, 1));
    c->minted = sqlite3_column_int64(st, 2);
    c->taken_at = sqlite3_column_int64(st, 3);
}

int patron_card_spaces(patron_store *s, struct patron_card_space *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT space, source, minted, taken_at FROM card_spaces"
                                       " ORDER BY taken_seq");
    if (!st)
        return PATRON_EDB;
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_space);
}

int patron_card_spaces_low(patron_store *s, int *low)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT EXISTS(SELECT 1 FROM card_spaces)"
                        " AND NOT EXISTS(SELECT 1 FROM card_spaces WHERE minted < ?1)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)PATRON_CARD_SPACE_LOW);
    int64_t yes = 0;
    int err = patron__step_int(s, st, &yes);
    *low = yes != 0;
    return err;
}

int patron_card_space_grant_keep(patron_store *s, int space, int store_id)
{
    if (space < 1 || space > SPACES || store_id < 1 || store_id > SPACES)
        return patron__fail(s, PATRON_EINVAL, "a card number space and a store are 1-65535");
    sqlite3_stmt *st =
        patron__stmt(s, "INSERT INTO card_space_grants(space, store_id) VALUES (?1, ?2)"
                        " ON CONFLICT(space) DO UPDATE SET store_id = excluded.store_id"
                        " WHERE store_id <> excluded.store_id");
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if (!st) {
        patron__tx_rollback(s);
        return PATRON_EDB;
    }
    sqlite3_bind_int(st, 1, space);
    sqlite3_bind_int(st, 2, store_id);
    if ((err = patron__step_done(s, st)) == 0 && store_id == s->store_id)
        err = keep_space(s, space, "granted", 0);
    if (err != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

int patron_card_space_grants_sum(patron_store *s, int64_t *count, int64_t *sum)
{
    int err = patron__scalar(s, "SELECT count(*) FROM card_space_grants", count);
    if (err == 0)
        err = patron__scalar(s,
                             "SELECT coalesce(sum(space * 65536 + store_id), 0)"
                             " FROM card_space_grants",
                             sum);
    return err;
}

static void read_space_only(sqlite3_stmt *st, void *row)
{
    *(int *)row = sqlite3_column_int(st, 0);
}

int patron_card_spaces_self_taken(patron_store *s, int *out, size_t cap, size_t *count)
{
    sqlite3_stmt *st = patron__stmt(
        s, "SELECT space FROM card_spaces WHERE source = 'self' AND space NOT IN"
           " (SELECT space FROM card_space_grants WHERE store_id = ?1) ORDER BY space DESC");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, s->store_id);
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_space_only);
}

int patron_card_owner(patron_store *s, const char *digits)
{
    int space = patron_card_store(digits, NULL), owner = space;
    if (space <= 0)
        return 0;
    if (held(s, space) == 1)
        return s->store_id;
    sqlite3_stmt *st = patron__stmt(s, "SELECT store_id FROM card_space_grants WHERE space = ?1");
    if (!st)
        return space;
    sqlite3_bind_int(st, 1, space);
    if (sqlite3_step(st) == SQLITE_ROW)
        owner = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return owner;
}
