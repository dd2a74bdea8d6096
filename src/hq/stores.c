/* SPDX-License-Identifier: MIT */
/* The stores of the chain at head office: registering one with a login role of its own (random
 * password, hashed before it is sent), the URL it connects with, and the list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hq_internal.h"
#include "patron/error.h"

static int need_latest(patron_hq *h, char *detail, size_t len)
{
    int version = 0, rc;
    if ((rc = patron_hq_schema_version(h, &version, detail, len)) != 0)
        return rc;
    if (version == patron_hq_schema_latest())
        return 0;
    if (version < patron_hq_schema_latest())
        snprintf(detail, len,
                 "the head office database is at schema version %d, not %d: run `patron hq "
                 "init` first",
                 version, patron_hq_schema_latest());
    else
        snprintf(detail, len,
                 "the head office database is at schema version %d, newer than this program "
                 "knows (%d): upgrade patron before using it",
                 version, patron_hq_schema_latest());
    return PATRON_ESCHEMA;
}

int patron_hq_password_new(char out[65])
{
    unsigned char raw[32];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return PATRON_EDB;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

/* Inserts the stores row; says so when the id is taken. */
static int insert_store(patron_hq *h, int64_t store_id, const char *name, const char *role,
                        char *detail, size_t len)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)store_id);
    const char *params[] = {id, name, role};
    PGresult *res = PQexecParams(h->conn,
                                 "INSERT INTO stores (store_id, name, role_name) VALUES "
                                 "($1::integer, $2, $3)",
                                 3, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return 0;
    }
    const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
    int granted = constraint && strcmp(constraint, "card_spaces_granted") == 0;
    int rc = patron__hq_fail(res, h->conn, "cannot register the store", detail, len);
    if (rc == PATRON_EDUPLICATE && granted)
        snprintf(detail, len,
                 "store id %lld cannot be registered: head office granted card number space "
                 "%lld to another store, and a store's id is its own space; choose another id",
                 (long long)store_id, (long long)store_id);
    else if (rc == PATRON_EDUPLICATE)
        snprintf(detail, len,
                 "store %lld is already registered at head office: choose another id (see "
                 "`patron hq stores`)",
                 (long long)store_id);
    return rc;
}

/* CREATE ROLE with the password hashed here (SCRAM), so that it never reaches the server's logs. */
static int create_role(patron_hq *h, const struct patron_hq_login *login, char *detail, size_t len)
{
    char group[64], sql[1024];
    patron__hq_group_name(h->conn, group, sizeof group);
    char *hash = PQencryptPasswordConn(h->conn, login->password, login->role, NULL);
    char *role = PQescapeIdentifier(h->conn, login->role, strlen(login->role));
    char *grp = PQescapeIdentifier(h->conn, group, strlen(group));
    char *lit = hash ? PQescapeLiteral(h->conn, hash, strlen(hash)) : NULL;
    int rc = PATRON_ENOMEM;
    if (hash && role && grp && lit) {
        snprintf(sql, sizeof sql, "CREATE ROLE %s LOGIN PASSWORD %s IN ROLE %s", role, lit, grp);
        rc = patron__hq_run(h->conn, sql, "cannot create the store's login role", detail, len);
    }
    if (hash)
        OPENSSL_cleanse(hash, strlen(hash));
    PQfreemem(hash);
    PQfreemem(role);
    PQfreemem(grp);
    PQfreemem(lit);
    return rc;
}

void patron_hq_store_role(patron_hq *h, int64_t store_id, char *out, size_t len)
{
    snprintf(out, len, "%.40s_store_%lld", PQdb(h->conn), (long long)store_id);
}

int patron_hq_store_add(patron_hq *h, int64_t store_id, const char *name,
                        struct patron_hq_login *login, char *detail, size_t len)
{
    int rc;
    if (store_id < 1 || store_id > 65535 || !name || !name[0]) {
        snprintf(detail, len, "a store id is 1 to 65535 and a store has a name");
        return PATRON_EINVAL;
    }
    patron_hq_store_role(h, store_id, login->role, sizeof login->role);
    if (strlen(login->password) < 16) {
        snprintf(detail, len, "a store's password has at least 16 characters");
        return PATRON_EINVAL;
    }
    if ((rc = patron__hq_run(h->conn, "BEGIN", "cannot start", detail, len)) != 0)
        return rc;
    if ((rc = need_latest(h, detail, len)) == 0 &&
        (rc = insert_store(h, store_id, name, login->role, detail, len)) == 0 &&
        (rc = create_role(h, login, detail, len)) == 0)
        rc = patron__hq_run(h->conn, "COMMIT", "cannot commit the store", detail, len);
    if (rc != 0)
        PQclear(PQexec(h->conn, "ROLLBACK"));
    return rc;
}

/* Appends `s` percent-encoded for a URL's host or path part. */
static void encode(char *out, size_t len, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~", ch))
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

/* Appends "&key=" and `value` encoded. */
static void param(char *buf, size_t len, const char *key, const char *value)
{
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "&%s=", key);
    encode(buf, len, value);
}

int patron_hq_store_url_tls(patron_hq *h, const char *role, const char *passfile,
                            const struct patron_hq_store_tls *tls, char *url, size_t len)
{
    char buf[8192] = "postgresql://";
    const char *host = tls && tls->host ? tls->host : PQhost(h->conn), *port = PQport(h->conn);
    encode(buf, sizeof buf, role);
    size_t n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, "@");
    encode(buf, sizeof buf, host && host[0] ? host : "localhost");
    n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, ":%s/", port && port[0] ? port : "5432");
    encode(buf, sizeof buf, PQdb(h->conn));
    n = strlen(buf);
    snprintf(buf + n, sizeof buf - n, "?passfile=");
    encode(buf, sizeof buf, passfile);
    if (tls && tls->cert) {
        param(buf, sizeof buf, "sslmode", "verify-full");
        param(buf, sizeof buf, "sslrootcert", tls->rootcert);
        param(buf, sizeof buf, "sslcert", tls->cert);
        param(buf, sizeof buf, "sslkey", tls->key);
    }
    if (strlen(buf) + 1 > len || strlen(buf) + 8 > sizeof buf)
        return PATRON_EINVAL;
    memcpy(url, buf, strlen(buf) + 1);
    return 0;
}

int patron_hq_store_url(patron_hq *h, const char *role, const char *passfile, char *url, size_t len)
{
    return patron_hq_store_url_tls(h, role, passfile, NULL, url, len);
}

/* One store of a row of `patron hq stores`'s columns. */
static void fill_store(PGresult *res, int row, struct patron_hq_store *st)
{
    memset(st, 0, sizeof *st);
    st->store_id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
    snprintf(st->name, sizeof st->name, "%s", PQgetvalue(res, row, 1));
    snprintf(st->role, sizeof st->role, "%s", PQgetvalue(res, row, 2));
    snprintf(st->created_at, sizeof st->created_at, "%s", PQgetvalue(res, row, 3));
    st->facts = strtoll(PQgetvalue(res, row, 4), NULL, 10);
    st->last_seq = strtoll(PQgetvalue(res, row, 5), NULL, 10);
    snprintf(st->last_sync, sizeof st->last_sync, "%s", PQgetvalue(res, row, 6));
    st->lag_s = PQgetisnull(res, row, 7) ? -1 : strtoll(PQgetvalue(res, row, 7), NULL, 10);
    snprintf(st->program_version, sizeof st->program_version, "%s",
             PQgetisnull(res, row, 8) ? "none" : PQgetvalue(res, row, 8));
    st->projected_seq = strtoll(PQgetvalue(res, row, 9), NULL, 10);
}

/* Calls fn for each store `sql` reads (fill_store's columns); stops at fn's first non-zero. */
static int stores_of(patron_hq *h, const char *sql,
                     int (*fn)(const struct patron_hq_store *, void *), void *arg, char *detail,
                     size_t len)
{
    int rc;
    if ((rc = need_latest(h, detail, len)) != 0)
        return rc;
    PGresult *res = PQexec(h->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot list the stores", detail, len);
    struct patron_hq_store st;
    for (int i = 0; i < PQntuples(res); i++) {
        fill_store(res, i, &st);
        if (fn(&st, arg) != 0)
            break;
    }
    PQclear(res);
    return 0;
}

/* What `patron hq stores` shows: head office's hq_chain_stores() (what a store may read of every
 * store, schema.c) with the owner's columns, the role, when the store was registered and how far
 * its facts are projected. */
int patron_hq_stores_each(patron_hq *h, int (*fn)(const struct patron_hq_store *, void *),
                          void *arg, char *detail, size_t len)
{
    return stores_of(h,
                     "SELECT c.store_id, c.name, s.role_name,"
                     " to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                     " c.facts, c.last_seq, coalesce(c.last_sync, ''), c.lag_s, c.program_version,"
                     " coalesce(p.seq, 0) FROM hq_chain_stores() c"
                     " JOIN stores s ON s.store_id = c.store_id"
                     " LEFT JOIN hq_projected p ON p.store_id = c.store_id"
                     " ORDER BY c.store_id",
                     fn, arg, detail, len);
}

/* The same as a store reads it: no role, no registration time, no projection (-1). */
int patron_hq_chain_stores_each(patron_hq *h, int (*fn)(const struct patron_hq_store *, void *),
                                void *arg, char *detail, size_t len)
{
    return stores_of(h,
                     "SELECT store_id, name, '', '', facts, last_seq, coalesce(last_sync, ''),"
                     " lag_s, program_version, -1 FROM hq_chain_stores() ORDER BY store_id",
                     fn, arg, detail, len);
}
