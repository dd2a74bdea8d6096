/* SPDX-License-Identifier: MIT */
/* The head office schema as ordered migrations, like the store's: each runs once, in its own
 * transaction, under an advisory lock, and hq_schema_version remembers the last one applied. A
 * database newer than the program is refused, never touched.
 *
 * Each registered store logs in as a role of its own, a member of the database's group role of
 * stores (created per database: roles are shared by every database of a cluster). Row-level
 * security keys every row on the store the logged-in role belongs to (stores.role_name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

/* Migration 1: stores, the shipped facts, chain-wide members and cards, redemptions, and the
 * policies that confine a store's role to its own rows. "@STORES@" is the group role. */
static const char migration_1[] =
    "CREATE TABLE hq_schema_version (version integer NOT NULL);"
    "INSERT INTO hq_schema_version VALUES (0);"
    "CREATE TABLE stores ("
    " store_id integer PRIMARY KEY CHECK (store_id BETWEEN 1 AND 65535),"
    " name text NOT NULL CHECK (name <> ''),"
    " role_name text NOT NULL UNIQUE,"
    " created_at timestamptz NOT NULL DEFAULT now());"
    /* every fact a store ships, once: (store_id, store_seq) is its identity; the store's own
     * clock and head office's receive time are both kept, store clocks may be wrong */
    "CREATE TABLE facts ("
    " store_id integer NOT NULL REFERENCES stores,"
    " store_seq bigint NOT NULL CHECK (store_seq > 0),"
    " kind text NOT NULL,"
    " payload jsonb NOT NULL,"
    " store_time timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, store_seq));"
    "CREATE TABLE members ("
    " member_uid text PRIMARY KEY,"
    " home_store_id integer NOT NULL REFERENCES stores,"
    " enrolled_at timestamptz,"
    " erased_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE cards ("
    " card_number text PRIMARY KEY,"
    " member_uid text NOT NULL REFERENCES members,"
    " store_id integer NOT NULL REFERENCES stores,"
    " issued_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX cards_member ON cards (member_uid);"
    "CREATE TABLE redemptions ("
    " store_id integer NOT NULL REFERENCES stores,"
    " store_seq bigint NOT NULL CHECK (store_seq > 0),"
    " member_uid text REFERENCES members,"
    " voucher_id text,"
    " points bigint NOT NULL CHECK (points >= 0),"
    " redeemed_at timestamptz,"
    " received_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (store_id, store_seq));"
    "CREATE INDEX redemptions_voucher ON redemptions (voucher_id);"
    /* the store the logged-in role belongs to (NULL for head office's own roles) */
    "CREATE FUNCTION hq_my_store() RETURNS integer LANGUAGE sql STABLE AS"
    " $$SELECT store_id FROM stores WHERE role_name = current_user$$;"
    "GRANT USAGE ON SCHEMA public TO @STORES@;"
    "GRANT SELECT ON stores, hq_schema_version TO @STORES@;"
    "GRANT SELECT, INSERT ON facts, members, cards, redemptions TO @STORES@;"
    "GRANT EXECUTE ON FUNCTION hq_my_store() TO @STORES@;"
    "ALTER TABLE stores ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE facts ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE members ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE cards ENABLE ROW LEVEL SECURITY;"
    "ALTER TABLE redemptions ENABLE ROW LEVEL SECURITY;"
    /* a store sees its own row of stores and its own facts... */
    "CREATE POLICY stores_own ON stores FOR SELECT TO @STORES@ USING (role_name = current_user);"
    "CREATE POLICY facts_read ON facts FOR SELECT TO @STORES@ USING (store_id = hq_my_store());"
    "CREATE POLICY facts_write ON facts FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());"
    /* ...and every member, card and redemption of the chain, but writes only its own */
    "CREATE POLICY members_read ON members FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY members_write ON members FOR INSERT TO @STORES@"
    " WITH CHECK (home_store_id = hq_my_store());"
    "CREATE POLICY cards_read ON cards FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY cards_write ON cards FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());"
    "CREATE POLICY redemptions_read ON redemptions FOR SELECT TO @STORES@ USING (true);"
    "CREATE POLICY redemptions_write ON redemptions FOR INSERT TO @STORES@"
    " WITH CHECK (store_id = hq_my_store());";

/* Migration: the facts policies ask hq_my_store() once per statement (an initplan), not once per
 * row: a batch of 10,000 rows went through the per-row function call in twice the time. Same
 * rule: a store reads and writes only its own facts. */
static const char migration_facts_policy_once[] =
    "ALTER POLICY facts_read ON facts USING (store_id = (SELECT hq_my_store()));"
    "ALTER POLICY facts_write ON facts WITH CHECK (store_id = (SELECT hq_my_store()));";

static const char *const migrations[] = {migration_1, migration_facts_policy_once};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int patron_hq_schema_latest(void)
{
    return N_MIGRATIONS;
}

int patron_hq_schema_version(patron_hq *h, int *version, char *detail, size_t len)
{
    *version = 0;
    PGresult *res = PQexec(h->conn, "SELECT to_regclass('hq_schema_version') IS NOT NULL");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot read the schema version", detail, len);
    int exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    if (!exists)
        return 0;
    res = PQexec(h->conn, "SELECT max(version) FROM hq_schema_version");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot read the schema version", detail, len);
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* migration text with @STORES@ replaced by the group role; malloc'd */
static char *expand(const char *sql, const char *group)
{
    size_t n = 1, glen = strlen(group);
    for (const char *p = strstr(sql, "@STORES@"); p; p = strstr(p + 1, "@STORES@"))
        n += glen;
    char *out = malloc(strlen(sql) + n), *w = out;
    if (!out)
        return NULL;
    for (const char *p = sql, *at; *p; p = at + 8) {
        if (!(at = strstr(p, "@STORES@"))) {
            memcpy(w, p, strlen(p) + 1);
            return out;
        }
        memcpy(w, p, (size_t)(at - p));
        w += at - p;
        memcpy(w, group, glen);
        w += glen;
    }
    *w = '\0';
    return out;
}

/* Creates the group role unless it exists (roles are per cluster, not per database). */
static int ensure_group(PGconn *conn, const char *name, const char *ident, char *detail, size_t len)
{
    char sql[512];
    char *literal = PQescapeLiteral(conn, name, strlen(name));
    if (!literal)
        return PATRON_ENOMEM;
    snprintf(sql, sizeof sql,
             "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)"
             " THEN CREATE ROLE %s NOLOGIN; END IF; END$$",
             literal, ident);
    PQfreemem(literal);
    return patron__hq_run(conn, sql, "cannot create the stores' group role", detail, len);
}

static int apply(PGconn *conn, int i, const char *group, char *detail, size_t len)
{
    char *sql = expand(migrations[i], group), bump[96];
    if (!sql)
        return PATRON_ENOMEM;
    int rc = patron__hq_run(conn, sql, "a head office migration failed", detail, len);
    free(sql);
    snprintf(bump, sizeof bump, "UPDATE hq_schema_version SET version = %d", i + 1);
    return rc ? rc : patron__hq_run(conn, bump, "cannot record the schema version", detail, len);
}

static int migrate_locked(patron_hq *h, int *from, char *detail, size_t len)
{
    int version = 0, rc;
    if ((rc = patron_hq_schema_version(h, &version, detail, len)) != 0)
        return rc;
    *from = version;
    if (version > N_MIGRATIONS) {
        snprintf(detail, len,
                 "the head office database is at schema version %d, newer than this program "
                 "knows (%d): upgrade patron before using it",
                 version, N_MIGRATIONS);
        return PATRON_ESCHEMA;
    }
    char name[64];
    patron__hq_group_name(h->conn, name, sizeof name);
    char *group = PQescapeIdentifier(h->conn, name, strlen(name));
    if (!group)
        return PATRON_ENOMEM;
    rc = version < N_MIGRATIONS ? ensure_group(h->conn, name, group, detail, len) : 0;
    for (int i = version; rc == 0 && i < N_MIGRATIONS; i++)
        rc = apply(h->conn, i, group, detail, len);
    PQfreemem(group);
    return rc;
}

int patron_hq_init(patron_hq *h, int *from, int *to, char *detail, size_t len)
{
    int found = 0, rc;
    /* one lock for every migrating program, whatever the database */
    if ((rc = patron__hq_run(h->conn, "BEGIN; SELECT pg_advisory_xact_lock(7429300411)",
                             "cannot lock the head office schema", detail, len)) != 0)
        return rc;
    rc = migrate_locked(h, &found, detail, len);
    if (rc == 0)
        rc = patron__hq_run(h->conn, "COMMIT", "cannot commit the schema", detail, len);
    else
        PQclear(PQexec(h->conn, "ROLLBACK"));
    if (from)
        *from = found;
    if (to)
        *to = rc == 0 ? N_MIGRATIONS : found;
    return rc;
}
