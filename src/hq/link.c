/* SPDX-License-Identifier: MIT */
/* The link to head office before and after connecting: a host off loopback is reached only with
 * `sslmode=verify-full` (else the password would cross the network in plain text) and a key
 * file nobody else may read; a TLS failure (head office's certificate not from the chain's CA or
 * for another host name, a client certificate refused) is named in a sentence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hq_internal.h"
#include "patron/error.h"

/* The value of `key` in parsed options, else the environment variable, else "". */
static const char *option(const PQconninfoOption *opts, const char *key, const char *env)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, key) == 0 && o->val && o->val[0])
            return o->val;
    const char *e = getenv(env);
    return e ? e : "";
}

/* The first host of a comma-separated list that is off loopback into out ("" when none). */
static void first_remote(const char *list, char *out, size_t len)
{
    char one[256];
    out[0] = '\0';
    while (list && *list) {
        size_t n = strcspn(list, ",");
        snprintf(one, sizeof one, "%.*s", (int)(n < 255 ? n : 255), list);
        if (!patron_hq_host_is_local(one)) {
            snprintf(out, len, "%s", one);
            return;
        }
        list += n + (list[n] == ',');
    }
}

static int key_file_check(const char *key, char *detail, size_t len)
{
    struct stat st;
    if (!key[0] || stat(key, &st) != 0 || (st.st_mode & 077) == 0)
        return 0;
    snprintf(detail, len,
             "the store's TLS key file %s may be read by group or others (mode %04o): run "
             "`chmod 600 %s`",
             key, (unsigned)(st.st_mode & 07777), key);
    return PATRON_EKEYPERM;
}

int patron__hq_link_check(const char *url, char *detail, size_t len)
{
    char remote[256];
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    if (!opts)
        return 0;
    const char *addr = option(opts, "hostaddr", "PGHOSTADDR");
    first_remote(addr[0] ? addr : option(opts, "host", "PGHOST"), remote, sizeof remote);
    int rc = key_file_check(option(opts, "sslkey", "PGSSLKEY"), detail, len);
    if (rc == 0 && remote[0] && strcmp(option(opts, "sslmode", "PGSSLMODE"), "verify-full") != 0) {
        snprintf(detail, len,
                 "the head office at %s is off loopback and the URL does not ask for "
                 "sslmode=verify-full: the password would cross the network in plain text; use "
                 "the URL `patron hq store add ... --host NAME` printed (with its certificate)",
                 remote);
        rc = PATRON_EINVAL;
    }
    PQconninfoFree(opts);
    return rc;
}

int patron__hq_tls_failure(const char *msg, const char *at, const char *line, char *detail,
                           size_t len)
{
    if (strstr(msg, "does not match host name")) {
        snprintf(detail, len,
                 "the head office at %s failed TLS verification: its certificate is for another "
                 "host name (%s)",
                 at, line);
        return PATRON_EAUTH;
    }
    if (strstr(msg, "certificate verify failed") || strstr(msg, "root certificate file")) {
        snprintf(detail, len,
                 "the head office at %s failed TLS verification: its certificate is not signed by "
                 "the chain's CA in sslrootcert (%s)",
                 at, line);
        return PATRON_EAUTH;
    }
    if (strstr(msg, "client certificate") || strstr(msg, "SSL error") ||
        strstr(msg, "certificate file") || strstr(msg, "private key") ||
        strstr(msg, "clientcert") || strstr(msg, "certificate authentication")) {
        snprintf(detail, len,
                 "the head office at %s refused this store's client certificate: missing, or not "
                 "issued by the chain's CA for this store's role (%s)",
                 at, line);
        return PATRON_EAUTH;
    }
    return 0;
}

void patron_hq_tls_hba(const char *url, char *out, size_t len)
{
    PQconninfoOption *opts = url ? PQconninfoParse(url, NULL) : NULL;
    const char *db = option(opts, "dbname", "PGDATABASE");
    char group[128];
    snprintf(group, sizeof group, "%.56s_stores", db[0] ? db : "DB");
    snprintf(out, len,
             "hostssl   %s  +%s  all  scram-sha-256 clientcert=verify-full\n"
             "hostnossl %s  +%s  all  reject\n",
             db[0] ? db : "DB", group, db[0] ? db : "DB", group);
    PQconninfoFree(opts);
}
