/* SPDX-License-Identifier: MIT */
/* The handle's copy of the rules it reads on every sale: settings and category multipliers, kept
 * by key, and the tiers, kept whole, so that a checkout reads none of them from the database. A
 * copy is forgotten when this handle writes one of those tables (SQLite's update hook names the
 * table), when a transaction or savepoint rolls back (it may have held a change of its own), and
 * when another connection has committed anything since (PRAGMA data_version, asked once per
 * transaction, or on every read outside one). */
#include <string.h>

#include "core/store_internal.h"

void patron__rules_forget(patron_store *s)
{
    s->rule_count = 0;
    s->tiers_read = 0;
    s->rules_checked = 0;
}

static void on_write(void *ctx, int op, const char *db, const char *table, sqlite3_int64 rowid)
{
    (void)op;
    (void)db;
    (void)rowid;
    if (strcmp(table, "settings") == 0 || strcmp(table, "categories") == 0 ||
        strcmp(table, "tiers") == 0)
        patron__rules_forget(ctx);
}

void patron__rules_watch(patron_store *s)
{
    sqlite3_update_hook(s->db, on_write, s);
}

/* 1 when the copies may be used: nothing was committed by another connection since they were
 * read. Inside a transaction the write lock keeps others out, so one look suffices. */
static int fresh(patron_store *s)
{
    if (s->tx_depth > 0 && s->rules_checked)
        return 1;
    sqlite3_stmt *st = patron__stmt(s, "PRAGMA data_version");
    if (!st || sqlite3_step(st) != SQLITE_ROW) {
        if (st)
            sqlite3_reset(st);
        patron__rules_forget(s);
        return 0;
    }
    int64_t version = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (version != s->data_version) {
        patron__rules_forget(s);
        s->data_version = version;
    }
    s->rules_checked = s->tx_depth > 0;
    return 1;
}

static struct patron__rule_slot *find(patron_store *s, char kind, const char *key)
{
    for (size_t i = 0; i < s->rule_count; i++)
        if (s->rules[i].key[0] == kind && strcmp(s->rules[i].key + 1, key) == 0)
            return &s->rules[i];
    return NULL;
}

int patron__rules_lookup(patron_store *s, char kind, const char *key, const char **value)
{
    if (!fresh(s))
        return 0;
    struct patron__rule_slot *slot = find(s, kind, key);
    if (!slot)
        return 0;
    *value = slot->found ? slot->value : NULL;
    return 1;
}

void patron__rules_keep(patron_store *s, char kind, const char *key, const char *value)
{
    size_t klen = strlen(key), vlen = value ? strlen(value) : 0;
    if (s->rule_count >= PATRON__RULE_SLOTS || klen + 2 > sizeof s->rules[0].key ||
        vlen + 1 > sizeof s->rules[0].value || find(s, kind, key))
        return; /* not kept: read from the database each time */
    struct patron__rule_slot *slot = &s->rules[s->rule_count++];
    slot->key[0] = kind;
    memcpy(slot->key + 1, key, klen + 1);
    slot->found = value != NULL;
    memcpy(slot->value, value ? value : "", vlen + 1);
}

/* Reads every tier into s->tiers; more than the slots hold keeps none (tier_count 0). */
static int read_tiers(patron_store *s)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT id, threshold, name FROM tiers ORDER BY threshold");
    int rc;
    if (!st)
        return -1;
    s->tier_count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 2);
        size_t n = name ? strlen(name) : 0;
        if (s->tier_count == PATRON__TIER_SLOTS || n + 1 > sizeof s->tiers[0].name) {
            s->tier_count = 0;
            rc = SQLITE_DONE;
            break;
        }
        struct patron__tier_slot *t = &s->tiers[s->tier_count++];
        t->id = sqlite3_column_int64(st, 0);
        t->threshold = sqlite3_column_int64(st, 1);
        memcpy(t->name, name ? name : "", n + 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        s->tier_count = 0;
        return -1;
    }
    s->tiers_read = 1;
    return 0;
}

size_t patron__tiers_kept(patron_store *s, const struct patron__tier_slot **tiers)
{
    if (!fresh(s) || (!s->tiers_read && read_tiers(s) != 0))
        return 0;
    *tiers = s->tiers;
    return s->tier_count;
}
