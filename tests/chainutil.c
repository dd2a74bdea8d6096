/* SPDX-License-Identifier: MIT */
/* The chain tests' shared fixture: see chainutil.h. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chainutil.h"
#include "clirun.h"
#include "hq.h"
#include "hq_internal.h"

struct pg_cluster pg;
char home[256];

int chain_group_setup(void **state)
{
    (void)state;
    return pg_suite_start(&pg, "patron-chain", home, sizeof home);
}

int chain_group_teardown(void **state)
{
    (void)state;
    pg_suite_stop(&pg, home);
    return 0;
}

int64_t chain_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

void chain_store_open(struct test_store *t, int id)
{
    const char *tmp = getenv("TMPDIR");
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "%s/patron-chain-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/patron.db", t->dir);
    assert_int_equal(patron_store_open(t->path, &t->s), 0);
    t->now = TEST_EPOCH;
    patron_store_set_clock(t->s, chain_clock, t);
    assert_int_equal(patron_store_init(t->s, id, "Chain shop"), 0);
}

void chain_store_add(const char *owner, int id, char *url, size_t len)
{
    struct clirun r = {0};
    char ids[16];
    snprintf(ids, sizeof ids, "%d", id);
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", ids, "--name",
               "Chain shop", (char *)NULL) != 0)
        fail_msg("store add %d: %s", id, r.err);
    json_t *o = json_loads(r.out, 0, NULL);
    assert_non_null(o);
    snprintf(url, len, "%s", json_string_value(json_object_get(o, "url")));
    json_decref(o);
}

void chain_make(const char *name, char *owner, char url1[1024], char url2[1024])
{
    struct clirun r = {0};
    assert_int_equal(pg_cluster_createdb(&pg, name, owner, 512), 0);
    assert_int_equal(clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL), 0);
    chain_store_add(owner, 1, url1, 1024);
    chain_store_add(owner, 2, url2, 1024);
}

void chain_sell(patron_store *s, const char *card, const char *ref, int64_t total)
{
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 1, .unit_minor = total}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = lines,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result r;
    if (patron_sale_record(s, &in, &r) != 0)
        fail_msg("sale %s: %s", ref, patron_store_detail(s));
}

void chain_sync_ok(const struct test_store *t, const char *url, const char *now)
{
    struct clirun r = {0};
    int rc = now ? clirun(&r, "--db", t->path, "--home", home, "--hq", url, "--now", now, "sync",
                          (char *)NULL)
                 : clirun(&r, "--db", t->path, "--home", home, "--hq", url, "sync", (char *)NULL);
    if (rc != 0)
        fail_msg("sync: %s", r.err);
}

const char *pg_text(const char *url, const char *sql)
{
    static char out[512];
    PGconn *conn = PQconnectdb(url);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(res));
    snprintf(out, sizeof out, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return out;
}

int64_t pg_int(const char *url, const char *sql)
{
    return strtoll(pg_text(url, sql), NULL, 10);
}

int chain_exec_as(const char *url, const char *sql)
{
    patron_hq *h = NULL;
    char detail[512];
    if (patron_hq_connect(url, &h, detail, sizeof detail) != 0)
        fail_msg("cannot connect: %s", detail);
    int rc = patron_hq_exec(h, sql, 0, NULL, detail, sizeof detail);
    patron_hq_close(h);
    return rc;
}

int chain_exit_of(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int64_t chain_lock_waiters(const char *url, const char *db, int64_t n)
{
    char sql[256];
    int64_t waiting = 0;
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'"
             " AND wait_event_type = 'Lock'",
             db);
    for (int i = 0; i < 6000 && waiting < n; i++) {
        usleep(10000);
        waiting = pg_int(url, sql);
    }
    return waiting;
}

json_t *chain_only_conflict(json_t *report, const char *type)
{
    json_t *k, *found = NULL;
    size_t i, n = 0;
    assert_non_null(report);
    json_array_foreach(json_object_get(report, "conflicts"), i, k)
    {
        if (strcmp(json_string_value(json_object_get(k, "type")), type) == 0) {
            found = k;
            n++;
        }
    }
    assert_int_equal(n, 1);
    return found;
}

static FILE *trips_trace;

void chain_trips_start(struct patron_hq *h)
{
    trips_trace = tmpfile();
    assert_non_null(trips_trace);
    PQtrace(h->conn, trips_trace);
    PQsetTraceFlags(h->conn, PQTRACE_SUPPRESS_TIMESTAMPS);
}

int chain_trips_end(struct patron_hq *h)
{
    char line[4096];
    int n = 0;
    PQuntrace(h->conn);
    rewind(trips_trace);
    while (fgets(line, sizeof line, trips_trace))
        n += strncmp(line, "F\t", 2) == 0 && (strstr(line, "\tSync") || strstr(line, "\tQuery\t"));
    fclose(trips_trace);
    trips_trace = NULL;
    return n;
}
