/* SPDX-License-Identifier: MIT */
/* The admin import job over HTTP: a CSV larger than any JSON body the service takes is streamed
 * into a file beside the store and imported by a job whose progress and report GET
 * /v1/imports/{id} gives; the same batch again changes nothing; a bad row fails the job with
 * nothing written; only an admin's till may import; sales go on while a job writes. */
#include "apiutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROWS 2000 /* about 90 KB: more than the 64 KiB a JSON body may have */

static char *members_csv(void)
{
    size_t cap = 64 + (size_t)ROWS * 64, n;
    char *csv = malloc(cap);
    assert_non_null(csv);
    n = (size_t)snprintf(csv, cap, "email,phone,name,points\n");
    for (int i = 0; i < ROWS; i++)
        n += (size_t)snprintf(csv + n, cap - n, "m%05d@example.org,+4479110%05d,Member %d,%d\n", i,
                              i, i, 1 + i % 7);
    return csv;
}

/* Polls the job until it finished; returns its last status document. */
static json_t *wait_job(struct api_server *sv, const char *token, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/imports/%s", id);
    for (int i = 0; i < 1200; i++) {
        struct apit_reply r;
        apit_call(sv->port, "GET", path, token, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        const char *st = apit_jstr(r.json, "state");
        assert_non_null(st);
        if (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0) {
            json_t *j = json_incref(r.json);
            apit_reply_free(&r);
            return j;
        }
        assert_true(strcmp(st, "queued") == 0 || strcmp(st, "running") == 0);
        apit_reply_free(&r);
        usleep(100 * 1000);
    }
    fail_msg("the import job did not finish");
    return NULL;
}

static json_t *start_job(struct api_server *sv, const char *token, const char *query,
                         const char *body, char id[16])
{
    char path[160];
    struct apit_reply r;
    snprintf(path, sizeof path, "/v1/imports%s", query);
    apit_call(sv->port, "POST", path, token, NULL, body, &r);
    if (r.status != 202)
        fail_msg("POST %s: %ld %s", path, r.status, r.body);
    snprintf(id, 16, "%s", apit_jstr(r.json, "id"));
    apit_reply_free(&r);
    return wait_job(sv, token, id);
}

static json_int_t num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void an_admin_imports_a_streamed_file_as_a_job(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char admin[64], cashier[64], id[16], path[512];
    struct stat st;
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    apit_terminal(&sv, "till1", "cashier", cashier);
    apit_start(&sv, NULL);
    char *csv = members_csv();

    json_t *job = start_job(&sv, admin, "?batch=api1&mode=add", csv, id);
    assert_string_equal(apit_jstr(job, "state"), "done");
    assert_int_equal(num(job, "rows"), ROWS);
    assert_int_equal(num(job, "bytes"), (json_int_t)strlen(csv));
    json_t *rep = json_object_get(job, "report");
    assert_int_equal(num(rep, "rows_read"), ROWS);
    assert_int_equal(num(rep, "created"), ROWS);
    assert_int_equal(num(rep, "failed"), 0);
    assert_int_equal(num(rep, "migration_balance"), -num(rep, "file_points"));
    assert_int_equal(num(rep, "points_posted"), num(rep, "file_points"));
    assert_string_equal(apit_jstr(rep, "account"), "migration:api1");
    json_decref(job);
    /* The body was kept as a file beside the store, not in memory. */
    snprintf(path, sizeof path, "%s/imports/upload-%s.csv", sv.dir, id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (off_t)strlen(csv));

    /* The same batch again: already imported, nothing changes. */
    job = start_job(&sv, admin, "?batch=api1", csv, id);
    assert_string_equal(apit_jstr(job, "state"), "done");
    assert_true(json_is_true(json_object_get(json_object_get(job, "report"), "already_imported")));
    json_decref(job);
    json_t *v = apit_patron(&sv, "ledger", "verify", (char *)NULL);
    assert_true(json_is_true(json_object_get(v, "ok")));
    json_decref(v);

    /* A bad row: the job fails, the report names the row, nothing is written. */
    job = start_job(&sv, admin, "?batch=bad",
                    "email,points\nnew1@example.org,5\nnew1@example.org,5\n", id);
    assert_string_equal(apit_jstr(job, "state"), "failed");
    assert_string_equal(apit_jstr(job, "code"), "EINVAL");
    rep = json_object_get(job, "report");
    assert_int_equal(num(rep, "failed"), 1);
    assert_int_equal(num(json_array_get(json_object_get(rep, "errors"), 0), "row"), 3);
    json_decref(job);

    /* A cashier's till may not import; an unknown job is 404; a bad option is 400. */
    apit_call(sv.port, "POST", "/v1/imports", cashier, NULL, "email,points\nx@example.org,1\n", &r);
    assert_int_equal(r.status, 403);
    apit_reply_free(&r);
    apit_call(sv.port, "GET", "/v1/imports/nosuch", admin, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    apit_reply_free(&r);
    apit_call(sv.port, "POST", "/v1/imports?mode=double", admin, NULL, csv, &r);
    assert_int_equal(r.status, 400);
    apit_reply_free(&r);
    apit_call(sv.port, "POST", "/v1/imports", admin, NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    apit_reply_free(&r);

    free(csv);
    assert_int_equal(apit_stop(&sv), 0);
    apit_cleanup(&sv);
}

/* The service stopping while a job imports: the job stops too, and nothing of it is written. */
static int64_t members_in(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM members", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t count = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return count;
}

static char *big_csv(int rows)
{
    size_t cap = 64 + (size_t)rows * 40, n;
    char *csv = malloc(cap);
    assert_non_null(csv);
    n = (size_t)snprintf(csv, cap, "email,points\n");
    for (int i = 0; i < rows; i++)
        n += (size_t)snprintf(csv + n, cap - n, "s%06d@example.org,2\n", i);
    return csv;
}

/* A job of many chunks writing: a sale goes through (it waits for one chunk at most, not for the
 * whole job, which before took the write lock for all its rows and every sale got 503). */
static void a_sale_goes_through_while_a_job_writes(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char admin[64], cashier[64], card[16], body[160], job[64];
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    apit_terminal(&sv, "till1", "cashier", cashier);
    apit_member(&sv, "Sam", card);
    apit_start(&sv, NULL);
    char *csv = big_csv(20000);
    apit_call(sv.port, "POST", "/v1/imports?batch=flow", admin, NULL, csv, &r);
    assert_int_equal(r.status, 202);
    snprintf(job, sizeof job, "/v1/imports/%s", apit_jstr(r.json, "id"));
    apit_reply_free(&r);
    free(csv);
    for (int i = 0; i < 6000 && members_in(sv.db) < 2; i++) /* the first chunk is in */
        usleep(50 * 1000);
    assert_true(members_in(sv.db) >= 2);
    apit_call(sv.port, "GET", job, admin, NULL, NULL, &r); /* and the job still writes */
    assert_int_equal(r.status, 200);
    assert_string_equal(apit_jstr(r.json, "state"), "running");
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"F-1\",\"total\":1000}", card);
    apit_call(sv.port, "POST", "/v1/sales", cashier, "flow-sale-1", body, &r);
    if (r.status != 201)
        fail_msg("a sale during the import: %ld %s", r.status, r.body);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
    json_t *m = apit_patron(&sv, "ledger", "verify", (char *)NULL);
    assert_true(json_is_true(json_object_get(m, "ok")));
    json_decref(m);
    apit_cleanup(&sv);
}

/* Stopping the service stops a job: what it committed is whole chunks (the same batch posted
 * again continues after them), and the ledger verifies. */
static void stopping_the_service_stops_the_job_between_chunks(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    char admin[64];
    (void)state;
    apit_store_new(&sv);
    apit_terminal(&sv, "owner", "admin", admin);
    apit_start(&sv, NULL);
    char *csv = big_csv(50000);
    apit_call(sv.port, "POST", "/v1/imports?batch=big", admin, NULL, csv, &r);
    assert_int_equal(r.status, 202);
    apit_reply_free(&r);
    free(csv);
    assert_int_equal(apit_stop(&sv), 0);
    json_t *m = apit_patron(&sv, "ledger", "verify", (char *)NULL);
    assert_true(json_is_true(json_object_get(m, "ok")));
    json_decref(m);
    assert_int_equal(members_in(sv.db) % 500, 0);
    apit_cleanup(&sv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_admin_imports_a_streamed_file_as_a_job),
        cmocka_unit_test(stopping_the_service_stops_the_job_between_chunks),
        cmocka_unit_test(a_sale_goes_through_while_a_job_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
