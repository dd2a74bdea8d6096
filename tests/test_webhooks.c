/* SPDX-License-Identifier: MIT */
/* Webhooks end to end: `patron serve` delivers to a local receiver in node
 * (tests/webhooks/receiver.js) that verifies every signature with the npm package
 * `standardwebhooks` (v1, HMAC) and node's crypto (v1a, Ed25519) and logs what it got. Signed
 * events of each kind, personal data only where allowed, key rotation; the receiver down for a
 * while then back; SIGKILL of the service while a delivery is in flight; 410 Gone; a receiver that
 * holds its answer while a sale is answered; `webhook test`, `deliveries` and `retry`. Nothing
 * here waits for the machine's speed: each step waits for the state it needs. */
#include "apiutil.h"

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 180 /* a generous bound for what must happen, never a measure of speed */

struct receiver {
    pid_t pid;
    int port;
    char dir[300];
};

static struct api_server sv;
static struct receiver rc;
static char token[64];
static char card[14];

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[400], tmp[420];
    path_in(path, sizeof path, dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static int file_exists(const char *dir, const char *name)
{
    char path[400];
    struct stat st;
    path_in(path, sizeof path, dir, name);
    return stat(path, &st) == 0;
}

static void pause_briefly(void)
{
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
}

/* Starts the receiver (on `port`, or any free port when 0) and waits for its port file. */
static void receiver_start(struct receiver *r, int port)
{
    char script[400], port_text[16], path[400];
    const char *src = getenv("PATRON_SOURCE_DIR");
    assert_non_null(src);
    snprintf(script, sizeof script, "%s/tests/webhooks/receiver.js", src);
    snprintf(port_text, sizeof port_text, "%d", port);
    path_in(path, sizeof path, r->dir, "port");
    unlink(path);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        execlp("node", "node", script, r->dir, port_text, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < WAIT_S * 20 && !file_exists(r->dir, "port"); i++) {
        int status;
        assert_int_equal(waitpid(r->pid, &status, WNOHANG), 0); /* it must not have exited */
        pause_briefly();
    }
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &r->port), 1);
    fclose(f);
}

static void receiver_stop(struct receiver *r)
{
    if (r->pid <= 0)
        return;
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    r->pid = 0;
}

/* The receiver's log: an array of the requests it got. */
static json_t *receiver_log(const struct receiver *r)
{
    char path[400], line[65536];
    json_t *all = json_array();
    path_in(path, sizeof path, r->dir, "log.jsonl");
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j) /* a line being written is read at the next look */
            json_array_append_new(all, j);
    }
    if (f)
        fclose(f);
    return all;
}

/* The requests logged for one path (and one event type, when given); every one verified. */
static size_t count_of(const struct receiver *r, const char *path, const char *type)
{
    json_t *log = receiver_log(r), *it;
    size_t i, n = 0;
    json_array_foreach(log, i, it)
    {
        const char *t = json_string_value(json_object_get(json_object_get(it, "body"), "type"));
        if (strcmp(json_string_value(json_object_get(it, "path")), path) != 0 ||
            (type && (!t || strcmp(t, type) != 0)))
            continue;
        if (!json_is_true(json_object_get(it, "verified")))
            fail_msg("a request to %s was not verified: %s", path,
                     json_string_value(json_object_get(it, "signature")));
        n++;
    }
    json_decref(log);
    return n;
}

static void wait_count(const struct receiver *r, const char *path, const char *type, size_t want)
{
    for (int i = 0; i < WAIT_S * 20 && count_of(r, path, type) < want; i++)
        pause_briefly();
    assert_true(count_of(r, path, type) >= want);
}

static int64_t db_int(const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    assert_int_equal(sqlite3_open_v2(sv.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void wait_db(const char *sql, int64_t want)
{
    for (int i = 0; i < WAIT_S * 20 && db_int(sql) != want; i++)
        pause_briefly();
    assert_int_equal(db_int(sql), want);
}

/* `patron webhook add http://127.0.0.1:PORT/PATH ...`: the new id, and the key in key[128]. */
static int64_t add_endpoint(const char *path, const char *events, const char *extra, char *key)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", rc.port, path);
    json_t *j =
        extra ? apit_patron(&sv, "webhook", "add", url, "--events", events, extra, (char *)NULL)
              : apit_patron(&sv, "webhook", "add", url, "--events", events, (char *)NULL);
    const char *k = apit_jstr(j, "secret") ? apit_jstr(j, "secret") : apit_jstr(j, "public_key");
    assert_non_null(k);
    snprintf(key, 128, "%s", k);
    int64_t id = apit_jint(j, "webhook_id");
    json_decref(j);
    return id;
}

static void sale(const char *ref, long total)
{
    char body[200];
    struct apit_reply r;
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"%s\",\"total\":%ld}", card, ref, total);
    apit_call(sv.port, "POST", "/v1/sales", token, ref, body, &r);
    apit_assert_status(&r, 201, NULL);
    apit_reply_free(&r);
}

static int setup(void **state)
{
    (void)state;
    apit_store_new(&sv);
    snprintf(rc.dir, sizeof rc.dir, "%s/receiver", sv.dir);
    assert_int_equal(mkdir(rc.dir, 0700), 0);
    write_file(rc.dir, "keys.json", "{}");
    write_file(rc.dir, "mode.json", "{}");
    receiver_start(&rc, 0);
    apit_terminal(&sv, "till", "cashier", token);
    apit_member(&sv, "Grace Hopper", card);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    receiver_stop(&rc);
    apit_cleanup(&sv);
    return 0;
}

static void start_serve(const char *timeout)
{
    apit_start(&sv, "--webhook-poll", "1", "--webhook-timeout", timeout, (char *)NULL);
}

/* Each event signed and verified; personal data only where the endpoint is marked for it; a
 * rotation signs with both keys. */
static void signed_events_and_personal_data(void **state)
{
    char hmac[128], ed[128], personal[128], keys[1024], second[128];
    (void)state;
    add_endpoint("/hmac", "*", NULL, hmac);
    add_endpoint("/ed", "member.enrolled,points.earned", "--ed25519", ed);
    add_endpoint("/personal", "member.enrolled", "--personal", personal);
    snprintf(keys, sizeof keys,
             "{\"/hmac\":{\"secrets\":[\"%s\"]},\"/ed\":{\"public_keys\":[\"%s\"]},"
             "\"/personal\":{\"secrets\":[\"%s\"]}}",
             hmac, ed, personal);
    write_file(rc.dir, "keys.json", keys);
    start_serve("10");
    apit_member(&sv, "Ada Lovelace", card);
    sale("S-1", 2500);
    wait_count(&rc, "/hmac", "points.earned", 1);
    wait_count(&rc, "/hmac", "member.enrolled", 1);
    wait_count(&rc, "/ed", "points.earned", 1);
    wait_count(&rc, "/ed", "member.enrolled", 1);
    wait_count(&rc, "/personal", "member.enrolled", 1);
    json_t *log = receiver_log(&rc), *it;
    size_t i;
    json_array_foreach(log, i, it)
    {
        json_t *data = json_object_get(json_object_get(it, "body"), "data");
        const char *type = json_string_value(json_object_get(json_object_get(it, "body"), "type"));
        assert_true(json_is_true(json_object_get(it, "verified")));
        const char *path = json_string_value(json_object_get(it, "path"));
        if (strcmp(type, "member.enrolled") == 0 && strcmp(path, "/personal") == 0)
            assert_string_equal(json_string_value(json_object_get(data, "name")), "Ada Lovelace");
        else if (strcmp(type, "member.enrolled") == 0) /* not marked for personal data */
            assert_null(json_object_get(data, "name"));
        if (strcmp(json_string_value(json_object_get(it, "path")), "/ed") == 0)
            assert_int_equal(json_integer_value(json_object_get(it, "v1a")), 1);
    }
    json_decref(log);
    /* A rotation: both keys sign until the overlap ends; each verifies. */
    json_t *j = apit_patron(&sv, "webhook", "rotate", "1", "--overlap", "3600", (char *)NULL);
    snprintf(second, sizeof second, "%s", apit_jstr(j, "secret"));
    json_decref(j);
    snprintf(keys, sizeof keys,
             "{\"/hmac\":{\"secrets\":[\"%s\",\"%s\"]},\"/ed\":{\"public_keys\":[\"%s\"]},"
             "\"/personal\":{\"secrets\":[\"%s\"]}}",
             hmac, second, ed, personal);
    write_file(rc.dir, "keys.json", keys);
    sale("S-2", 1000);
    wait_count(&rc, "/hmac", "points.earned", 2);
    log = receiver_log(&rc);
    size_t both = 0;
    json_array_foreach(log, i, it) both += json_integer_value(json_object_get(it, "v1")) == 2;
    json_decref(log);
    assert_true(both >= 1);
    assert_int_equal(apit_stop(&sv), 0);
}

/* The receiver is down for a while, then back on the same port: everything arrives. */
static void receiver_down_then_back(void **state)
{
    char key[128], keys[300];
    (void)state;
    int64_t id = add_endpoint("/down", "points.earned", NULL, key);
    snprintf(keys, sizeof keys, "{\"/down\":{\"secrets\":[\"%s\"]}}", key);
    write_file(rc.dir, "keys.json", keys);
    int port = rc.port;
    receiver_stop(&rc);
    start_serve("10");
    sale("D-1", 1000);
    sale("D-2", 1000);
    sale("D-3", 1000);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %lld AND attempts >= 1"
             " AND status = 'queued' AND last_error <> ''",
             (long long)id);
    wait_db(sql, 3); /* each tried, refused, and waiting for its next attempt */
    receiver_start(&rc, port);
    wait_count(&rc, "/down", "points.earned", 3);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %lld"
             " AND status = 'delivered'",
             (long long)id);
    wait_db(sql, 3);
    assert_int_equal(apit_stop(&sv), 0);
}

/* SIGKILL while a delivery is in flight (the receiver holds it): after the restart everything
 * arrives, and the one sent twice carries the same webhook-id and body. */
static void sigkill_during_delivery(void **state)
{
    char key[128], keys[300], sql[200];
    (void)state;
    int64_t id = add_endpoint("/kill", "points.earned", NULL, key);
    snprintf(keys, sizeof keys, "{\"/kill\":{\"secrets\":[\"%s\"]}}", key);
    write_file(rc.dir, "keys.json", keys);
    write_file(rc.dir, "mode.json", "{\"/kill\":\"hold\"}");
    start_serve("300");
    for (int i = 0; i < 5; i++) {
        char ref[16];
        snprintf(ref, sizeof ref, "K-%d", i);
        sale(ref, 1000);
    }
    for (int i = 0; i < WAIT_S * 20 && !file_exists(rc.dir, "holding"); i++)
        pause_briefly();
    assert_true(file_exists(rc.dir, "holding"));
    apit_kill(&sv);
    write_file(rc.dir, "mode.json", "{}");
    write_file(rc.dir, "release", "1");
    start_serve("10");
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %lld"
             " AND status = 'delivered'",
             (long long)id);
    wait_db(sql, 5);
    wait_count(&rc, "/kill", "points.earned", 6); /* five, one of them twice */
    json_t *log = receiver_log(&rc), *it, *jt;
    size_t i, k, dup = 0, distinct = 0;
    json_array_foreach(log, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "path")), "/kill") != 0)
            continue;
        int seen = 0;
        json_array_foreach(log, k, jt) if (k < i && json_equal(json_object_get(jt, "id"),
                                                               json_object_get(it, "id")))
        {
            assert_string_equal(json_string_value(json_object_get(jt, "raw")),
                                json_string_value(json_object_get(it, "raw")));
            seen = 1;
        }
        dup += seen;
        distinct += !seen;
    }
    json_decref(log);
    assert_int_equal(distinct, 5);
    assert_true(dup >= 1);
    assert_int_equal(apit_stop(&sv), 0);
}

/* 410 Gone disables the endpoint: nothing more is sent to it, while the others go on. */
static void gone_disables_the_endpoint(void **state)
{
    char key[128], ok[128], keys[400];
    (void)state;
    int64_t gone = add_endpoint("/gone", "points.earned", NULL, key);
    add_endpoint("/ok", "points.earned", NULL, ok);
    snprintf(keys, sizeof keys, "{\"/gone\":{\"secrets\":[\"%s\"]},\"/ok\":{\"secrets\":[\"%s\"]}}",
             key, ok);
    write_file(rc.dir, "keys.json", keys);
    write_file(rc.dir, "mode.json", "{\"/gone\":\"gone\"}");
    start_serve("10");
    sale("G-1", 1000);
    wait_count(&rc, "/ok", "points.earned", 1);
    assert_int_equal(count_of(&rc, "/gone", NULL), 1);
    sale("G-2", 1000);
    wait_count(&rc, "/ok", "points.earned", 2); /* sent after /gone's would have been */
    assert_int_equal(count_of(&rc, "/gone", NULL), 1);
    json_t *list = apit_patron(&sv, "webhook", "list", (char *)NULL), *it;
    size_t i;
    json_array_foreach(json_object_get(list, "webhooks"), i,
                       it) if (apit_jint(it, "webhook_id") == gone)
    {
        assert_true(json_is_false(json_object_get(it, "enabled")));
        assert_non_null(strstr(apit_jstr(it, "disabled_reason"), "410"));
    }
    json_decref(list);
    /* `retry --webhook` enables it again and sends what waited. */
    write_file(rc.dir, "mode.json", "{}");
    char id_text[24];
    snprintf(id_text, sizeof id_text, "%lld", (long long)gone);
    json_decref(apit_patron(&sv, "webhook", "retry", "--webhook", id_text, (char *)NULL));
    wait_count(&rc, "/gone", "points.earned", 3);
    assert_int_equal(apit_stop(&sv), 0);
}

/* A receiver that holds its answer does not hold a sale: the second sale is answered while the
 * first sale's delivery is still waiting for the receiver. */
static void slow_receiver_does_not_slow_a_sale(void **state)
{
    char key[128], keys[300];
    (void)state;
    add_endpoint("/slow", "points.earned", NULL, key);
    snprintf(keys, sizeof keys, "{\"/slow\":{\"secrets\":[\"%s\"]}}", key);
    write_file(rc.dir, "keys.json", keys);
    write_file(rc.dir, "mode.json", "{\"/slow\":\"hold\"}");
    start_serve("300");
    sale("W-1", 1000);
    for (int i = 0; i < WAIT_S * 20 && !file_exists(rc.dir, "holding"); i++)
        pause_briefly();
    assert_true(file_exists(rc.dir, "holding"));
    sale("W-2", 1000); /* answered 201 although the receiver still holds */
    assert_false(file_exists(rc.dir, "release"));
    assert_int_equal(count_of(&rc, "/slow", NULL), 1);
    write_file(rc.dir, "release", "1");
    wait_count(&rc, "/slow", "points.earned", 2);
    assert_int_equal(apit_stop(&sv), 0);
}

/* `webhook test` sends a signed test event; `deliveries` lists; a failing receiver is retried no
 * sooner than its Retry-After; `retry ID` sends a delivered one again with the same id. */
static void test_deliveries_and_retry(void **state)
{
    char key[128], keys[300], id_text[24];
    (void)state;
    int64_t id = add_endpoint("/cli", "points.earned", NULL, key);
    snprintf(keys, sizeof keys, "{\"/cli\":{\"secrets\":[\"%s\"]}}", key);
    write_file(rc.dir, "keys.json", keys);
    snprintf(id_text, sizeof id_text, "%lld", (long long)id);
    json_t *j = apit_patron(&sv, "webhook", "test", id_text, (char *)NULL);
    assert_true(json_is_true(json_object_get(j, "delivered")));
    json_decref(j);
    assert_int_equal(count_of(&rc, "/cli", "webhook.test"), 1);

    write_file(rc.dir, "mode.json", "{\"/cli\":\"retry-after\"}");
    start_serve("10");
    sale("R-1", 1000);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %lld AND attempts = 1"
             " AND last_status = 503 AND next_attempt >= unixepoch() + 3000",
             (long long)id);
    wait_db(sql, 1); /* Retry-After: 3600 beats the 5 s back-off */
    j = apit_patron(&sv, "webhook", "deliveries", "--webhook", id_text, (char *)NULL);
    json_t *d = json_array_get(json_object_get(j, "deliveries"), 0);
    assert_string_equal(apit_jstr(d, "status"), "queued");
    assert_string_equal(apit_jstr(d, "event"), "points.earned");
    char delivery[24];
    snprintf(delivery, sizeof delivery, "%lld", (long long)apit_jint(d, "delivery_id"));
    json_decref(j);
    write_file(rc.dir, "mode.json", "{}");
    json_decref(apit_patron(&sv, "webhook", "retry", delivery, (char *)NULL));
    wait_count(&rc, "/cli", "points.earned", 2);
    snprintf(sql, sizeof sql,
             "SELECT COUNT(*) FROM webhook_deliveries WHERE id = %s"
             " AND status = 'delivered'",
             delivery);
    wait_db(sql, 1);
    /* Sent again on request: the same webhook-id. */
    json_decref(apit_patron(&sv, "webhook", "retry", delivery, (char *)NULL));
    wait_count(&rc, "/cli", "points.earned", 3);
    json_t *log = receiver_log(&rc), *it;
    size_t i;
    const char *first = NULL;
    json_array_foreach(
        log, i,
        it) if (strcmp(json_string_value(json_object_get(it, "path")), "/cli") == 0 &&
                json_object_get(json_object_get(it, "body"), "data") &&
                strcmp(json_string_value(json_object_get(json_object_get(it, "body"), "type")),
                       "points.earned") == 0)
    {
        const char *one = json_string_value(json_object_get(it, "id"));
        if (!first)
            first = one;
        assert_string_equal(one, first);
    }
    json_decref(log);
    assert_int_equal(apit_stop(&sv), 0);
}

/* patron_webhook_rounds_total from /metrics. */
static long long webhook_rounds(void)
{
    static const char name[] = "\npatron_webhook_rounds_total ";
    struct apit_reply r;
    apit_call(sv.port, "GET", "/metrics", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    const char *p = strstr(r.body, name);
    assert_non_null(p);
    long long v = strtoll(p + strlen(name), NULL, 10);
    apit_reply_free(&r);
    return v;
}

/* A service started without endpoints runs no webhook round for its sales; an endpoint added
 * meanwhile by another process is seen at the next timed round (--webhook-poll 1), and a sale
 * made after it reaches it. */
static void endpoint_added_while_serving(void **state)
{
    char key[128], keys[300];
    (void)state;
    start_serve("10");
    sale("L-1", 1000);
    sale("L-2", 1000);
    assert_int_equal(webhook_rounds(), 0);
    add_endpoint("/late", "points.earned", NULL, key);
    snprintf(keys, sizeof keys, "{\"/late\":{\"secrets\":[\"%s\"]}}", key);
    write_file(rc.dir, "keys.json", keys);
    sale("L-3", 1000);
    wait_count(&rc, "/late", "points.earned", 1);
    assert_true(webhook_rounds() > 0);
    assert_int_equal(apit_stop(&sv), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(signed_events_and_personal_data, setup, teardown),
        cmocka_unit_test_setup_teardown(receiver_down_then_back, setup, teardown),
        cmocka_unit_test_setup_teardown(sigkill_during_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(gone_disables_the_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_receiver_does_not_slow_a_sale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deliveries_and_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(endpoint_added_while_serving, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
