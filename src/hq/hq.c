/* SPDX-License-Identifier: MIT */
/* The head office connection: connecting with a sentence that says what went wrong (the address,
 * the password, the database), and running statements with their failures as PATRON_E* codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hq_internal.h"
#include "patron/error.h"

/* The first line of libpq's message, without its trailing newline. */
static void first_line(const char *msg, char *out, size_t len)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    if (n >= len)
        n = len - 1;
    memcpy(out, msg ? msg : "", n);
    out[n] = '\0';
}

static void where(PGconn *conn, char *out, size_t len)
{
    const char *host = PQhost(conn), *port = PQport(conn);
    snprintf(out, len, "%s%s%s", host && host[0] ? host : "localhost", port && port[0] ? ":" : "",
             port ? port : "");
}

/* Classifies a failed connection. */
static int connect_failure(PGconn *conn, char *detail, size_t len)
{
    const char *msg = PQerrorMessage(conn);
    const char *user = PQuser(conn), *db = PQdb(conn);
    char at[300], line[256];
    where(conn, at, sizeof at);
    const char *text = strstr(msg, "failed: ") ? strstr(msg, "failed: ") + 8 : msg;
    if (strncmp(text, "FATAL:  ", 8) == 0)
        text += 8;
    first_line(text, line, sizeof line);
    int tls = patron__hq_tls_failure(msg, at, line, detail, len);
    if (tls != 0)
        return tls;
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
        strstr(msg, "role \"")) {
        snprintf(detail, len,
                 "the head office at %s refused the login of role %s: wrong password or unknown "
                 "role (%s)",
                 at, user ? user : "?", line);
        return PATRON_EAUTH;
    }
    if (strstr(msg, "database \"") && strstr(msg, "does not exist")) {
        snprintf(detail, len, "the head office at %s has no database %s", at, db ? db : "?");
        return PATRON_ENOTFOUND;
    }
    snprintf(detail, len, "cannot reach the head office at %s: wrong address or server down (%s)",
             at, line);
    return PATRON_EDB;
}

int patron_hq_connect(const char *url, patron_hq **out, char *detail, size_t len)
{
    char *err = NULL;
    int rc;
    *out = NULL;
    PQconninfoOption *opts = PQconninfoParse(url ? url : "", &err);
    if (!url || !url[0] || !opts) {
        snprintf(detail, len, "the head office URL is not one libpq understands (%s)",
                 err ? err : "none given");
        PQfreemem(err);
        return PATRON_EINVAL;
    }
    PQconninfoFree(opts);
    if ((rc = patron__hq_link_check(url, detail, len)) != 0)
        return rc;
    patron_hq *h = calloc(1, sizeof *h);
    if (!h)
        return PATRON_ENOMEM;
    /* A link that answers nothing fails within 10 s to connect, and a link that goes silent
     * while in use (a cut cable, a stopped host) within about 30 s, instead of hanging the sync
     * thread for good; the URL's own values win. */
    const char *const keys[] = {"connect_timeout",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "tcp_user_timeout",
                                "dbname",
                                NULL};
    const char *const values[] = {"10", "10", "5", "3", "30000", url, NULL};
    h->conn = PQconnectdbParams(keys, values, 1);
    if (!h->conn || PQstatus(h->conn) != CONNECTION_OK) {
        rc = h->conn ? connect_failure(h->conn, detail, len) : PATRON_ENOMEM;
        patron_hq_close(h);
        return rc;
    }
    *out = h;
    return 0;
}

void patron_hq_close(patron_hq *h)
{
    if (!h)
        return;
    PQfinish(h->conn);
    free(h);
}

int patron__hq_fail(PGresult *res, PGconn *conn, const char *what, char *detail, size_t len)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[300];
    first_line(primary ? primary
               : res   ? PQresultErrorMessage(res)
                       : PQerrorMessage(conn),
               line, sizeof line);
    int rc = PATRON_EDB;
    if (conn && PQstatus(conn) == CONNECTION_BAD) {
        /* head office did not refuse anything: the link broke (a restart, a cut) */
        snprintf(detail, len,
                 "the link to the head office at %s:%s was lost before it answered (%s)",
                 PQhost(conn), PQport(conn), line);
        PQclear(res);
        return rc;
    }
    /* 42501: insufficient privilege, which is also how row-level security refuses a row */
    if (state && strcmp(state, "42501") == 0)
        rc = PATRON_EFORBIDDEN;
    else if (state && strcmp(state, "23505") == 0)
        rc = PATRON_EDUPLICATE;
    snprintf(detail, len, "%s: %s", what, line);
    PQclear(res);
    return rc;
}

int patron__hq_run(PGconn *conn, const char *sql, const char *what, char *detail, size_t len)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, conn, what, detail, len);
    PQclear(res);
    return 0;
}

int patron__hq_select(patron_hq *h, const char *sql, int n, const char *const *params,
                      const char *what, PGresult **out, char *detail, size_t len)
{
    char sentence[128];
    *out = PQexecParams(h->conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(*out) == PGRES_TUPLES_OK)
        return 0;
    snprintf(sentence, sizeof sentence, "cannot read the chain's %s at head office", what);
    int rc = patron__hq_fail(*out, h->conn, sentence, detail, len);
    *out = NULL;
    return rc;
}

int patron_hq_exec(patron_hq *h, const char *sql, int n_params, const char *const *params,
                   char *detail, size_t len)
{
    PGresult *res = PQexecParams(h->conn, sql, n_params, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "the head office refused the statement", detail, len);
    PQclear(res);
    return 0;
}

void patron__hq_group_name(PGconn *conn, char *name, size_t len)
{
    snprintf(name, len, "%.56s_stores", PQdb(conn));
}
