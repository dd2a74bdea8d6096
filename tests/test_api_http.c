/* SPDX-License-Identifier: MIT */
/* The HTTP side of the counter service under hostile or unlucky clients: a failure's detail stays
 * with its own request (tills sharing one read handle and the writer's), slow and idle clients are
 * cut at the request deadline and cannot take every slot (a bounded flood on 127.0.0.1), TLS
 * below 1.2 is refused, and errors about HTTP itself, malformed requests included, are problem
 * documents with a code. No test depends on the machine's speed: the waits are bounds far above the
 * deadlines they check. */
#include "apiutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_BOUND_MS 30000 /* far above every deadline the tests set */

static struct fixture {
    struct api_server sv;
    char cashier[64], manager[64], admin[64];
    char card[14];
} fx;

static int setup(void **state)
{
    (void)state;
    apit_store_new(&fx.sv);
    apit_terminal(&fx.sv, "till-1", "cashier", fx.cashier);
    apit_terminal(&fx.sv, "office", "manager", fx.manager);
    apit_terminal(&fx.sv, "owner", "admin", fx.admin);
    apit_member(&fx.sv, "Ada", fx.card);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    apit_cleanup(&fx.sv);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(struct api_server *sv, const char *logname, const char *const *extra)
{
    *sv = fx.sv;
    snprintf(sv->log, sizeof sv->log, "%s/%s", fx.sv.dir, logname);
    int status = apit_try_start(sv, NULL, extra);
    if (status != -1)
        fprintf(stderr, "patron serve exited %d before listening (log: %s)\n", status, sv->log);
    assert_int_equal(status, -1);
}

/* Runs one statement with one text parameter on the store, from the test's own connection. */
static void plant(const char *sql, const char *param)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(fx.sv.db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, WAIT_BOUND_MS);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* A reply of another till (the cashier's, the owner's) that failed without a detail of its own, and
 * so must carry no detail at all: were a handle's last detail (the manager's, quoting the typed
 * number) not cleared when the request took the handle, the reply would carry it. Also fails when
 * the planted failure stops failing, or gains a detail of its own: then it proves nothing, and
 * another failure without a detail has to be planted. */
static void assert_bare_failure(const struct apit_reply *r, const char *typed, const char *what)
{
    if (strstr(r->body, typed))
        fprintf(stderr, "another till's detail in: %s\n", r->body);
    assert_null(strstr(r->body, typed));
    if (r->status < 400 || !r->json || apit_jstr(r->json, "detail"))
        fail_msg("%s was to fail without a detail, and answered %ld: %s", what, r->status, r->body);
}

/* The manager's till adjusts a mistyped card on the writer's handle: its reply quotes the
 * number. */
static void manager_typo(const struct api_server *sv, const char *typed, int round, char which)
{
    struct apit_reply r;
    char body[160], key[32];
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"points\":5,\"reason\":\"typo\"}", typed);
    snprintf(key, sizeof key, "adj-%d-%c", round, which);
    apit_call(sv->port, "POST", "/v1/adjustments", fx.manager, key, body, &r);
    assert_int_equal(r.status, 400);
    assert_non_null(strstr(r.body, typed));
    apit_reply_free(&r);
}

static void detail_stays_with_its_request(void **state)
{
    struct api_server sv;
    char typed[14], path[64], broken[14], erased[14], body[160], consent[64], erase[64];
    const char *const args[] = {"--read-handles", "1", NULL};
    (void)state;
    apit_member(&fx.sv, "Bea", broken);
    /* Bea has points, so her scan lists the rewards she can afford, among them one whose stored
     * name is not UTF-8 (written by hand): the scan still answers, with the name repaired. No
     * read route fails without a detail of its own once bad bytes are repaired, so the read
     * handle's clearing has no failure to show here; the writer's handle has two below. */
    json_decref(
        apit_patron(&fx.sv, "sale", broken, "--ref", "BEA-1", "--total", "5000", (char *)NULL));
    json_t *j = apit_patron(&fx.sv, "reward", "add", "--name", "Tea", "--cost", "1", "--kind",
                            "item", "--value", "1", (char *)NULL);
    char reward[24];
    snprintf(reward, sizeof reward, "%lld", (long long)apit_jint(j, "reward_id"));
    json_decref(j);
    plant("UPDATE rewards SET name = CAST(X'546561FF' AS TEXT) WHERE id = CAST(?1 AS INTEGER)",
          reward);
    /* The manager's till types a card with a wrong last digit: its reply quotes the number. */
    snprintf(typed, sizeof typed, "%s", fx.card);
    typed[12] = typed[12] == '9' ? '0' : (char)(typed[12] + 1);
    snprintf(consent, sizeof consent, "/v1/members/%s/consent", broken);
    apit_member(&fx.sv, "Cy", erased);
    snprintf(erase, sizeof erase, "/v1/members/%s/erase", erased);
    start(&sv, "detail.log", args);
    /* The cashier's consent is answered once and its reply kept for its key; the kept reply is
     * then made longer than the reply register ever keeps (PATRON_REPLY_MAX), so the same
     * request again fails on the writer's handle while reading it back (413), with no detail. */
    struct apit_reply r;
    apit_call(sv.port, "POST", consent, fx.cashier, "consent-kept", "{\"marketing\":true}", &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    plant("UPDATE api_replies SET body = hex(zeroblob(20000)) WHERE key = ?1", "consent-kept");
    /* The same for the owner's erasure, which the writer runs outside any batch. */
    apit_call(sv.port, "POST", erase, fx.admin, "erase-kept", NULL, &r);
    apit_assert_status(&r, 200, NULL);
    apit_reply_free(&r);
    plant("UPDATE api_replies SET body = hex(zeroblob(20000)) WHERE key = ?1", "erase-kept");
    for (int round = 0; round < 6; round++) {
        snprintf(path, sizeof path, "/v1/members/%s", typed);
        apit_call(sv.port, "GET", path, fx.manager, NULL, NULL, &r);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, typed)); /* the manager's own detail */
        apit_reply_free(&r);
        /* Another till reads on the same handle: its answer is its own, the bad name repaired. */
        snprintf(body, sizeof body, "{\"card\":\"%s\"}", broken);
        apit_call(sv.port, "POST", "/v1/scan", fx.cashier, NULL, body, &r);
        apit_assert_status(&r, 200, NULL);
        assert_null(strstr(r.body, typed));
        assert_true(strstr(r.body, "Tea\xef\xbf\xbd") || strstr(r.body, "Tea\\ufffd"));
        apit_reply_free(&r);
        /* The same on the writer's handle, in a batch and alone, each right after the manager's
         * mistyped adjustment. */
        manager_typo(&sv, typed, round, 'a');
        apit_call(sv.port, "POST", consent, fx.cashier, "consent-kept", "{\"marketing\":true}", &r);
        assert_bare_failure(&r, typed, "the consent replayed on the writer's handle");
        apit_reply_free(&r);
        manager_typo(&sv, typed, round, 'b');
        apit_call(sv.port, "POST", erase, fx.admin, "erase-kept", NULL, &r);
        assert_bare_failure(&r, typed, "the erasure replayed on the writer's handle");
        apit_reply_free(&r);
    }
    assert_int_equal(apit_stop(&sv), 0);
    plant("UPDATE rewards SET active = 0 WHERE id = CAST(?1 AS INTEGER)", reward);
}

/* A TCP connection to the service, or -1. */
static int raw_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 when the service has closed the connection (end of stream or reset), without waiting. */
static int closed_by_server(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[512];
    if (poll(&p, 1, 0) <= 0)
        return 0;
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static size_t count_closed(const int *fds, size_t n, int *closed)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!closed[i] && fds[i] >= 0 && closed_by_server(fds[i]))
            closed[i] = 1;
        total += (size_t)closed[i];
    }
    return total;
}

#define SLOW_CLIENTS 8

/* Clients that send a header line now and then: each is cut at the request deadline although
 * it never falls idle. */
static void slow_clients_are_cut_at_the_request_deadline(void **state)
{
    struct api_server sv;
    int fds[SLOW_CLIENTS], closed[SLOW_CLIENTS] = {0};
    const char *const args[] = {"--request-timeout", "1", "--timeout", "600", NULL};
    (void)state;
    start(&sv, "slow.log", args);
    for (int i = 0; i < SLOW_CLIENTS; i++) {
        assert_true((fds[i] = raw_connect(sv.port)) >= 0);
        const char *head = "GET /v1/health HTTP/1.1\r\nHost: x\r\n";
        assert_true(send(fds[i], head, strlen(head), MSG_NOSIGNAL) > 0);
    }
    int64_t t0 = now_ms();
    while (count_closed(fds, SLOW_CLIENTS, closed) < SLOW_CLIENTS &&
           now_ms() - t0 < WAIT_BOUND_MS) {
        for (int i = 0; i < SLOW_CLIENTS; i++)
            if (!closed[i])
                send(fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL | MSG_DONTWAIT);
        usleep(200 * 1000);
    }
    assert_int_equal(count_closed(fds, SLOW_CLIENTS, closed), SLOW_CLIENTS);
    for (int i = 0; i < SLOW_CLIENTS; i++)
        close(fds[i]);
    /* A request sent whole is still answered. */
    struct apit_reply r;
    apit_call(sv.port, "GET", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
}

#define KEEP 8
#define FLOOD 40

/* A request that must be answered while the flood's connections are still open: a connection
 * cut by the service may take a moment to leave its slot, so a refused connection is retried
 * (an idempotent request, with its key) until the bound. */
static void answered(int port, const char *method, const char *path, const char *token,
                     const char *key, const char *body, struct apit_reply *r)
{
    int64_t t0 = now_ms();
    int rc;
    while ((rc = apit_request(NULL, port, method, path, token, key, body, r)) != CURLE_OK &&
           now_ms() - t0 < WAIT_BOUND_MS) {
        apit_reply_free(r);
        usleep(100 * 1000);
    }
    if (rc != CURLE_OK) {
        fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror((CURLcode)rc));
        if (getenv("PATRON_TEST_VERBOSE")) {
            char cmd[400];
            snprintf(cmd, sizeof cmd, "grep -v connection_cut %s/flood.log | tail -20 >&2",
                     fx.sv.dir);
            if (system(cmd) != 0)
                fprintf(stderr, "no log\n");
        }
    }
    assert_int_equal(rc, CURLE_OK);
}

/* More idle connections than the service keeps, with a deadline far away: the ones waiting
 * longest are cut to make room, and a health probe and a sale still get through. */
static void a_flood_of_idle_connections_leaves_room(void **state)
{
    struct api_server sv;
    int fds[FLOOD], closed[FLOOD] = {0};
    char body[160];
    const char *const args[] = {
        "--max-connections", "8", "--request-timeout", "600", "--timeout", "600", NULL};
    (void)state;
    start(&sv, "flood.log", args);
    for (int i = 0; i < FLOOD; i++) {
        assert_true((fds[i] = raw_connect(sv.port)) >= 0);
        if (i % 2) /* half of them slow clients, half silent */
            send(fds[i], "GET /v1/health HTTP/1.1\r\n", 25, MSG_NOSIGNAL);
    }
    /* Every connection beyond the kept ones is cut, by the service and not by a deadline. */
    int64_t t0 = now_ms();
    while (count_closed(fds, FLOOD, closed) < FLOOD - KEEP && now_ms() - t0 < WAIT_BOUND_MS)
        usleep(50 * 1000);
    assert_true(count_closed(fds, FLOOD, closed) >= FLOOD - KEEP);
    struct apit_reply r;
    answered(sv.port, "GET", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    apit_reply_free(&r);
    snprintf(body, sizeof body, "{\"card\":\"%s\",\"ref\":\"FLOOD-1\",\"total\":1000}", fx.card);
    answered(sv.port, "POST", "/v1/sales", fx.cashier, "flood-sale-1", body, &r);
    assert_int_equal(r.status, 201);
    apit_reply_free(&r);
    for (int i = 0; i < FLOOD; i++)
        close(fds[i]);
    assert_int_equal(apit_stop(&sv), 0);
}

/* Runs openssl s_client with `options` (a protocol, maybe a cipher list of its own) against the
 * port; returns 1 when the handshake ended with a negotiated protocol. The client side allows
 * every old protocol and cipher (SECLEVEL=0), so a refusal is the server's. */
static int handshake(int port, const char *options)
{
    char cmd[512], out[8192];
    snprintf(cmd, sizeof cmd,
             "openssl s_client -connect 127.0.0.1:%d -cipher 'DEFAULT@SECLEVEL=0' %s "
             "</dev/null 2>&1",
             port, options);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    int ok = status == 0 && strstr(out, "Cipher is (NONE)") == NULL &&
             (strstr(out, "New, TLSv1") != NULL || strstr(out, "Protocol  : TLSv1") != NULL);
    if (!ok && getenv("PATRON_TEST_VERBOSE"))
        fprintf(stderr, "%s: %s\n", options, out);
    return ok;
}

/* Sends a request (printf's escapes) over TLS with openssl s_client; returns what came back,
 * until the service closed. */
static const char *tls_exchange(int port, const char *request)
{
    static char out[4096];
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "printf '%s' | openssl s_client -connect 127.0.0.1:%d -quiet 2>/dev/null", request,
             port);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    pclose(p);
    return out;
}

static void tls_below_1_2_is_refused(void **state)
{
    struct api_server sv;
    char cert[300], key[300];
    (void)state;
    if (apit_tls_files(&fx.sv, cert, key) != 0)
        skip();
    const char *const args[] = {"--tls-cert", cert, "--tls-key", key, NULL};
    start(&sv, "tls.log", args);
    assert_true(handshake(sv.port, "-tls1_2"));
    assert_true(handshake(sv.port, "-tls1_3"));
    assert_false(handshake(sv.port, "-tls1"));
    assert_false(handshake(sv.port, "-tls1_1"));
    /* TLS 1.2 with a cipher without forward secrecy or AEAD is refused too. */
    assert_false(handshake(sv.port, "-tls1_2 -cipher 'AES128-SHA@SECLEVEL=0'"));
    /* Behind TLS too, a malformed request is a problem document. */
    const char *out = tls_exchange(sv.port, "GET /v1/health HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n");
    assert_non_null(strstr(out, "HTTP/1.1 505 "));
    assert_non_null(strstr(out, "application/problem+json"));
    assert_int_equal(apit_stop(&sv), 0);
}

/* One thread moves every connection's bytes, TLS handshakes included: clients that connect and
 * say nothing, or stop halfway through their ClientHello, hold no other client up. */
static void a_stalled_handshake_holds_no_one(void **state)
{
    struct api_server sv;
    char cert[300], key[300];
    int fds[6];
    (void)state;
    if (apit_tls_files(&fx.sv, cert, key) != 0)
        skip();
    /* Deadlines far away: a loop that waited on a stalled client would hold the others for a
     * minute each. */
    const char *const args[] = {"--tls-cert",        cert, "--tls-key", key, "--timeout", "60",
                                "--request-timeout", "60", NULL};
    start(&sv, "stalled.log", args);
    /* a handshake record's header that promises 512 bytes, and 3 of them */
    static const char half_hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01";
    for (int i = 0; i < 6; i++) {
        assert_true((fds[i] = raw_connect(sv.port)) >= 0);
        if (i % 2)
            assert_int_equal(send(fds[i], half_hello, sizeof half_hello - 1, MSG_NOSIGNAL),
                             (ssize_t)sizeof half_hello - 1);
    }
    int64_t t0 = now_ms();
    assert_true(handshake(sv.port, "-tls1_3"));
    const char *out = tls_exchange(
        sv.port, "GET /v1/health HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n");
    assert_non_null(strstr(out, "HTTP/1.1 200 "));
    assert_true(now_ms() - t0 < WAIT_BOUND_MS / 2);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    assert_int_equal(apit_stop(&sv), 0);
}

/* Sends raw bytes and reads until the service closes (bounded); returns what came back. */
static char *raw_exchange(int port, const char *req, size_t len)
{
    static char buf[16384];
    size_t n = 0;
    int fd = raw_connect(port);
    assert_true(fd >= 0);
    assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
    int64_t t0 = now_ms();
    while (n + 1 < sizeof buf && now_ms() - t0 < WAIT_BOUND_MS) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        ssize_t k = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    close(fd);
    buf[n] = '\0';
    return buf;
}

/* A reply that is a problem document with this status and code, and nothing of HTML. */
static void assert_raw_problem(const char *reply, int status, const char *code)
{
    char line[64], field[64];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    snprintf(field, sizeof field, "\"code\":\"%s\"", code);
    if (strncmp(reply, line, strlen(line)) != 0 || !strstr(reply, field))
        fprintf(stderr, "expected %d %s, got: %.300s\n", status, code, reply);
    assert_int_equal(strncmp(reply, line, strlen(line)), 0);
    assert_non_null(strstr(reply, "Content-Type: application/problem+json\r\n"));
    assert_non_null(strstr(reply, field));
    assert_null(strstr(reply, "<html>"));
}

/* What libmicrohttpd would refuse on its own, with a page of HTML, is refused before it: too long
 * a request line or header block, an HTTP version other than 1.x, a bad Content-Length or
 * Transfer-Encoding, an HTTP/1.1 request without Host. A bad request after a good one on the
 * same connection is answered after the good one's reply. */
static void malformed_requests_get_problem_documents(void **state)
{
    struct api_server sv;
    static char big[40000];
    (void)state;
    start(&sv, "malformed.log", NULL);
    const char *const version = "GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n";
    assert_raw_problem(raw_exchange(sv.port, version, strlen(version)), 505, "EHTTPVERSION");
    int n = snprintf(big, sizeof big, "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', 30000);
    memcpy(big + n + 30000, "\r\n\r\n", 4);
    assert_raw_problem(raw_exchange(sv.port, big, (size_t)n + 30004), 431, "ETOOBIG");
    /* A head just under the front's 16 KiB, in 40 fields, fits the service's memory for a
     * connection (libmicrohttpd keeps the head and its parsed fields there). */
    n = snprintf(big, sizeof big, "GET /v1/health HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 40; i++) {
        n += snprintf(big + n, sizeof big - (size_t)n, "X-Fill-%02d: ", i);
        memset(big + n, 'a', 387);
        n += 387;
        n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    }
    n += snprintf(big + n, sizeof big - (size_t)n, "\r\n");
    assert_true(n > 16000 && n < 16 * 1024);
    const char *fits = raw_exchange(sv.port, big, (size_t)n);
    assert_int_equal(strncmp(fits, "HTTP/1.1 200 ", 13), 0);
    n = snprintf(big, sizeof big, "GET /v1/");
    memset(big + n, 'a', 10000);
    n += 10000;
    n += snprintf(big + n, sizeof big - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_raw_problem(raw_exchange(sv.port, big, (size_t)n), 414, "ETOOBIG");
    const char *const length = "POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n";
    assert_raw_problem(raw_exchange(sv.port, length, strlen(length)), 400, "EINVAL");
    const char *const both = "POST /v1/scan HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assert_raw_problem(raw_exchange(sv.port, both, strlen(both)), 400, "EINVAL");
    const char *const nohost = "GET /v1/health HTTP/1.1\r\n\r\n";
    assert_raw_problem(raw_exchange(sv.port, nohost, strlen(nohost)), 400, "EINVAL");
    const char *const pipelined = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                                  "GET /v1/health HTTP/3.0\r\nHost: x\r\n\r\n";
    const char *reply = raw_exchange(sv.port, pipelined, strlen(pipelined));
    assert_int_equal(strncmp(reply, "HTTP/1.1 200 ", 13), 0);
    const char *second = strstr(reply + 1, "HTTP/1.1 505 ");
    assert_non_null(second);
    assert_raw_problem(second, 505, "EHTTPVERSION");
    /* A chunked body still reaches the route. */
    const char *const chunked =
        "POST /v1/scan HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    assert_raw_problem(raw_exchange(sv.port, chunked, strlen(chunked)), 401, "EAUTH");
    assert_int_equal(apit_stop(&sv), 0);
}

#define KEPT_ONE_BY_ONE 200
#define KEPT_PIPELINED 3000 /* 111 KB of requests: more than the front holds at once */

/* Sends `len` bytes as the socket takes them while it counts the replies with status 200 that
 * come back (a reply's first line may span two reads), until `want` came, the service closed,
 * or the bound. */
static size_t kept_exchange(int fd, const char *out, size_t len, size_t want)
{
    static const char mark[] = "HTTP/1.1 200 ";
    const size_t m = sizeof mark - 1;
    char buf[8192];
    size_t sent = 0, got = 0, keep = 0;
    int64_t t0 = now_ms();
    while (got < want && now_ms() - t0 < WAIT_BOUND_MS) {
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < len ? POLLOUT : 0))};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t k = send(fd, out + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            sent += k > 0 ? (size_t)k : 0;
        }
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t k = recv(fd, buf + keep, sizeof buf - 1 - keep, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            break;
        if (k < 0)
            continue;
        size_t n = keep + (size_t)k;
        buf[n] = '\0';
        for (const char *q = buf; (q = strstr(q, mark)) != NULL; q += m)
            got++;
        keep = n < m - 1 ? n : m - 1; /* a first line cut short stays for the next read */
        memmove(buf, buf + n - keep, keep);
    }
    return got;
}

/* A kept connection answers request after request through the front: one at a time, then a
 * burst of pipelined requests larger than the front's buffer, every one answered, and the
 * connection still open. */
static void a_kept_connection_answers_many_requests(void **state)
{
    static const char req[] = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
    static char burst[KEPT_PIPELINED * sizeof req];
    struct api_server sv;
    size_t n = 0;
    (void)state;
    start(&sv, "kept.log", NULL);
    int fd = raw_connect(sv.port);
    assert_true(fd >= 0);
    for (int i = 0; i < KEPT_ONE_BY_ONE; i++)
        assert_int_equal(kept_exchange(fd, req, sizeof req - 1, 1), 1);
    for (int i = 0; i < KEPT_PIPELINED; i++, n += sizeof req - 1)
        memcpy(burst + n, req, sizeof req - 1);
    assert_int_equal(kept_exchange(fd, burst, n, KEPT_PIPELINED), KEPT_PIPELINED);
    assert_false(closed_by_server(fd));
    close(fd);
    assert_int_equal(apit_stop(&sv), 0);
}

/* The method is not the path's: a problem with its code, and the metrics label it. */
static void http_errors_are_problems_with_a_code(void **state)
{
    struct api_server sv;
    struct apit_reply r;
    (void)state;
    start(&sv, "http.log", NULL);
    apit_call(sv.port, "DELETE", "/v1/health", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(r.type, "application/problem+json");
    assert_string_equal(apit_jstr(r.json, "code"), "EMETHOD");
    assert_string_equal(apit_jstr(r.json, "type"), "https://patron.invalid/problems/emethod");
    apit_reply_free(&r);
    apit_call(sv.port, "GET", "/v1/no-such-route", NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 404);
    apit_reply_free(&r);
    /* A request is counted once its connection is done with it, which may be just after the
     * client has its reply: the scrape is repeated until both are counted (bounded). */
    const char *want404 = "method=\"other\",route=\"unmatched\",code=\"404\"";
    const char *want405 = "method=\"other\",route=\"unmatched\",code=\"405\"";
    for (int64_t t0 = now_ms();; usleep(50 * 1000)) {
        apit_call(sv.port, "GET", "/metrics", NULL, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        assert_null(strstr(r.body, "method=\"\""));
        if ((strstr(r.body, want404) && strstr(r.body, want405)) || now_ms() - t0 > WAIT_BOUND_MS)
            break;
        apit_reply_free(&r);
    }
    assert_non_null(strstr(r.body, want404));
    assert_non_null(strstr(r.body, want405));
    apit_reply_free(&r);
    assert_int_equal(apit_stop(&sv), 0);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detail_stays_with_its_request),
        cmocka_unit_test(slow_clients_are_cut_at_the_request_deadline),
        cmocka_unit_test(a_flood_of_idle_connections_leaves_room),
        cmocka_unit_test(tls_below_1_2_is_refused),
        cmocka_unit_test(a_stalled_handshake_holds_no_one),
        cmocka_unit_test(http_errors_are_problems_with_a_code),
        cmocka_unit_test(malformed_requests_get_problem_documents),
        cmocka_unit_test(a_kept_connection_answers_many_requests),
    };
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
