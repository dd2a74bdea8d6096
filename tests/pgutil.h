/* SPDX-License-Identifier: MIT */
/* A throwaway PostgreSQL for the tests labelled `pg`: initdb into a fresh folder under /tmp (as
 * the postgres user when run as root), a server on a free loopback port with its socket in that
 * folder, and databases made on it. Logins: the superuser `postgres` without a password; every
 * other role with its password (SCRAM), over TCP and the socket alike. Never a server the test
 * did not start. */
#ifndef PATRON_TEST_PGUTIL_H
#define PATRON_TEST_PGUTIL_H

#include <stddef.h>

struct pg_cluster {
    char base[256]; /* the folder: data/, server.log and the socket */
    char bin[256];  /* the server's programs (initdb, pg_ctl) */
    int port;
    int running;
    int ssl; /* started by pg_cluster_start_tls */
};

/* Starts a cluster (fsync off: for functional tests only). Returns 0, or -1 with the reason on
 * stderr (no server installed: scripts/install-deps.sh installs it). */
int pg_cluster_start(struct pg_cluster *pg);
/* The same with ssl=on: server.crt, server.key and ca.crt (the CA its clients' certificates are
 * verified against) copied from folder `tls` into the cluster's folder. Nothing else changes:
 * pg_hba.conf is the same (a test adds its own hostssl lines and reloads). */
int pg_cluster_start_tls(struct pg_cluster *pg, const char *tls);
/* Stops the server (fast) and removes the folder. */
void pg_cluster_stop(struct pg_cluster *pg);
/* Stops the server only (`-m fast` or `-m immediate`) / starts it again on the same port. */
int pg_cluster_halt(struct pg_cluster *pg, const char *mode);
int pg_cluster_resume(struct pg_cluster *pg);

/* A test group's set-up and tear-down: a folder `PREFIX-XXXXXX` under $TMPDIR (or /tmp) into
 * home, then a cluster; and both removed. 0 or -1. */
int pg_suite_start(struct pg_cluster *pg, const char *prefix, char *home, size_t len);
void pg_suite_stop(struct pg_cluster *pg, const char *home);

/* Creates database `name` and writes the superuser's URL to it (over TCP) into url. 0 or -1. */
int pg_cluster_createdb(struct pg_cluster *pg, const char *name, char *url, size_t len);
/* The URL of database `name` as role `user` with `password` (NULL: none) over TCP. */
void pg_cluster_url(const struct pg_cluster *pg, const char *name, const char *user,
                    const char *password, char *url, size_t len);

#endif
