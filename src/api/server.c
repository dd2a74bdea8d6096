/* SPDX-License-Identifier: MIT */
/* The HTTP side of the counter service, on libmicrohttpd: the listening socket (loopback, or TLS
 * beyond it) handed to the front (front.c), limits (body size, header memory, timeouts,
 * connection cap, with the guard of connections.c), one thread per
 * connection so that a request may wait for its batch's commit, a small pool of read handles,
 * the printer thread woken after each commit that queued a print job, the webhook worker woken
 * after each write, and a graceful stop on
 * SIGTERM that answers what is in flight before it closes. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "display.h"
#include "events.h"
#include "handlers.h"
#include "scanners.h"
#include "session.h"
#include "web.h"

#define READ_POOL_MAX 32
/* Each read handle's page cache: reports scan tables far larger than any cache, so a larger one
 * only holds memory (SQLite's default is 2000 KiB a handle); the index pages a look-up walks
 * fit many times over. */
#define READ_CACHE_KIB 256
#define HEADER_MEMORY (32 * 1024) /* above the front's 16 KiB head: the front refuses first */
#define TLS_FILE_MAX (1024 * 1024)
#define STREAM_BLOCK (8 * 1024) /* a streamed reply's block, within the connection's memory */
#define DRAIN_WAIT_MS 10000
/* Connections accepted beyond --max-connections while the guard cuts waiting ones: a health
 * probe or a till's sale never finds every slot taken by clients that send nothing. */
#define CONNECTION_HEADROOM 16

struct read_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    patron_store *all[READ_POOL_MAX], *free[READ_POOL_MAX];
    size_t n_all, n_free;
    int ready;
};

struct server {
    const struct api_settings *cfg;
    struct MHD_Daemon *daemon;
    struct api_writer *writer;
    struct api_printer *printer;
    struct api_sync *sync;
    struct api_webhooks *webhooks;
    struct api_wallet_push *wallet_push;
    struct api_scanners *scanners;
    struct api_conns *conns;
    struct api_front *front;
    int listen_fd;
    struct read_pool pool;
    atomic_int draining;
    atomic_long inflight;
};

/* One request's state between libmicrohttpd's calls. */
struct request {
    char *buf;
    size_t len, cap;
    int too_big;
    int route;
    int status;
    int err;
    int64_t t0;
    int64_t terminal_id;
    /* POST /v1/imports: the body goes into this file (upload_fd -1 once closed or when the
     * request may not upload); upload_path "" when there is none or it failed. */
    int upload_fd;
    char upload_path[4200];
    int upload_taken;
    int upload_failed;
    unsigned wake; /* WAKE_*: the worker threads a committed write left work for */
};

/* The worker threads a committed write leaves work for (a coupon to print; outbox rows to ship,
 * events to deliver, passes to push) are woken once its reply has been handed on (on_completed),
 * not before: woken first, a coupon's rendering or a ship to head office ran ahead of the till's
 * answer on the same cores (0.7 ms of a served redemption's 4 ms went to the printer thread). */
enum { WAKE_PRINTER = 1, WAKE_WORKERS = 2 };

static void wake_workers(struct server *sv, unsigned wake)
{
    if (wake & WAKE_PRINTER)
        api_printer_wake(sv->printer); /* committed: the job is there to print */
    if (wake & WAKE_WORKERS) {
        api_sync_wake(sv->sync);               /* its outbox rows there to ship */
        api_webhooks_wake(sv->webhooks);       /* its events may be sent */
        api_wallet_push_wake(sv->wallet_push); /* and its changed passes pushed */
    }
}

/* The store handles' source of card number spaces: head office, through cfg. */
static int card_space_grant(void *arg, patron_store *s, int *space, char *detail, size_t len)
{
    const struct api_settings *cfg = arg;
    return cfg->card_space_grant(cfg->hq, s, space, detail, len);
}

int api_store_open(const struct api_settings *cfg, patron_store **out)
{
    int err = patron_store_open(cfg->db_path, out);
    if (err != 0)
        return err;
    if (cfg->has_now)
        patron_store_set_fixed_time(*out, cfg->now);
    if (cfg->busy_timeout_s)
        patron_store_set_busy_timeout(*out, cfg->busy_timeout_s);
    if (cfg->hq && cfg->hq[0] && cfg->card_space_grant)
        patron_store_set_card_space_source(*out, card_space_grant, (void *)cfg);
    return 0;
}

static int pool_open(struct read_pool *p, const struct api_settings *cfg)
{
    size_t n = cfg->read_handles ? cfg->read_handles : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    p->ready = 1;
    for (size_t i = 0; i < n && i < READ_POOL_MAX; i++) {
        int err = api_store_open(cfg, &p->all[i]);
        if (err == 0 && (err = patron_store_set_cache_kib(p->all[i], READ_CACHE_KIB)) != 0)
            patron_store_close(p->all[i]);
        if (err != 0)
            return err;
        p->free[p->n_free++] = p->all[i];
        p->n_all++;
    }
    return 0;
}

static void pool_close(struct read_pool *p)
{
    if (!p->ready)
        return;
    for (size_t i = 0; i < p->n_all; i++)
        patron_store_close(p->all[i]);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
}

static patron_store *pool_take(struct read_pool *p)
{
    pthread_mutex_lock(&p->lock);
    while (p->n_free == 0)
        pthread_cond_wait(&p->freed, &p->lock);
    patron_store *s = p->free[--p->n_free];
    pthread_mutex_unlock(&p->lock);
    patron_store_clear_detail(s); /* the last borrower's detail is not this request's */
    return s;
}

static void pool_give(struct read_pool *p, patron_store *s)
{
    pthread_mutex_lock(&p->lock);
    p->free[p->n_free++] = s;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}

/* The guard's entry of a connection (NULL when it could not be registered). */
static struct api_conn *guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The till token of a browser session (the cookie), checked for its CSRF header on anything
 * but a read. Returns 0, PATRON_EAUTH (no session, or expired) or PATRON_EFORBIDDEN. */
static int session_token(struct MHD_Connection *conn, struct api_call *c, const char *method,
                         char token[PATRON_TOKEN_LEN + 1])
{
    const char *id = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, API_SESSION_COOKIE);
    if (!id || !*id) {
        snprintf(c->detail, sizeof c->detail,
                 "sign in with the till token, or send Authorization: Bearer TOKEN");
        return PATRON_EAUTH;
    }
    if (api_session_get(id, token, c->session_csrf) != 0) {
        snprintf(c->detail, sizeof c->detail, "the session has ended or expired; sign in again");
        return PATRON_EAUTH;
    }
    snprintf(c->session_id, sizeof c->session_id, "%s", id);
    const char *csrf = header(conn, "X-CSRF-Token");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
        !(csrf && api_session_equal(csrf, c->session_csrf))) {
        snprintf(c->detail, sizeof c->detail,
                 "a change made with the session cookie needs the session's X-CSRF-Token header");
        return PATRON_EFORBIDDEN;
    }
    return 0;
}

/* Authenticates the bearer token, or the browser session. Returns 0, PATRON_EAUTH or
 * PATRON_EFORBIDDEN (a session's write without its CSRF token), with a sentence in c->detail. */
static int authenticate(struct server *sv, struct MHD_Connection *conn, struct api_call *c,
                        const char *method)
{
    char stored[PATRON_TOKEN_LEN + 1];
    const char *token;
    const char *h = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
    int err;
    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0) {
            snprintf(c->detail, sizeof c->detail, "send Authorization: Bearer TOKEN");
            return PATRON_EAUTH;
        }
        token = h + 7;
    } else {
        if ((err = session_token(conn, c, method, stored)) != 0)
            return err;
        token = stored;
    }
    patron_store *s = pool_take(&sv->pool);
    err = patron_terminal_authenticate(s, token, &c->terminal);
    pool_give(&sv->pool, s);
    OPENSSL_cleanse(stored, sizeof stored);
    if (err == PATRON_EAUTH && !c->detail[0])
        snprintf(c->detail, sizeof c->detail, "send Authorization: Bearer TOKEN");
    return err;
}

/* Takes the Idempotency-Key header: 1..127 printable ASCII characters. */
static int take_key(struct MHD_Connection *conn, struct api_call *c, const char *method)
{
    const char *k = header(conn, "Idempotency-Key");
    if (!k) {
        if (strcmp(method, "POST") == 0 && c->route->key_required) {
            snprintf(c->detail, sizeof c->detail, "this request needs an Idempotency-Key header");
            return PATRON_EINVAL;
        }
        return 0;
    }
    size_t n = strnlen(k, API_KEY_MAX + 1);
    for (size_t i = 0; i < n; i++)
        if (k[i] < 0x21 || k[i] > 0x7e)
            n = 0;
    if (n == 0 || n > API_KEY_MAX) {
        snprintf(c->detail, sizeof c->detail,
                 "Idempotency-Key is 1 to %d printable characters without spaces", API_KEY_MAX);
        return PATRON_EINVAL;
    }
    c->idempotency_key = k;
    return 0;
}

/* What a query string may hold: the route's parameters, each once, at most API_QUERY_MAX bytes. */
struct query_check {
    struct api_call *call;
    int bad;
};

static enum MHD_Result on_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    struct query_check *q = cls;
    struct api_call *c = q->call;
    (void)kind;
    int i = api_query_index(c->route, key);
    if (i < 0 || c->query[i] || strnlen(value ? value : "", API_QUERY_MAX + 1) > API_QUERY_MAX) {
        q->bad = 1;
        return MHD_NO;
    }
    c->query[i] = value ? value : "";
    return MHD_YES;
}

static int take_query(struct MHD_Connection *conn, struct api_call *c)
{
    struct query_check q = {c, 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_query_arg, &q);
    if (!q.bad)
        return 0;
    memset(c->query, 0, sizeof c->query);
    if (c->route->query)
        snprintf(c->detail, sizeof c->detail,
                 "the query parameters here are '%s', each at most once and %d bytes",
                 c->route->query, API_QUERY_MAX);
    else
        snprintf(c->detail, sizeof c->detail, "this request takes no query parameters");
    return PATRON_EINVAL;
}

/* A report or an export has freed what it held: the heap's wholly free pages go back to the
 * system. glibc returns only the top of a heap by itself; the tills' small allocations, made
 * meanwhile and still held, land above a report's freed ones, so without this the heap kept
 * every report's high-water mark and, report after report under a steady load, grew past it
 * (the figures: README, "What grew with the checkouts"). Costs a walk of the free lists once a
 * report. */
static void return_freed_memory(void)
{
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

/* Reports run one at a time, the others queued here before they take a read handle: a report
 * holds lists that grow with the members (the churn list, RFM's buyers) from its run until the
 * last byte of its reply is sent, so two at once (one sent while the next ran) held two lists.
 * A member's export takes its turn too: it reads every table that names the member, some of
 * them whole (a second at 1,000,000 members), and long reads one after another, in turns, leave
 * the WAL the moments it needs to start again (api_writer_settle_wal).
 * A report's turn passes when the reply's stream is freed (sent, cut or never started); an
 * export's as soon as it is read, since its reply is sent from a temporary file; a queued
 * report costs a waiting thread, and a client that stops reading holds the turn no longer than
 * the connection's timeout. The look-ups of tills keep the read handles meanwhile. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int busy;
} report_turn = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static void report_turn_take(void)
{
    pthread_mutex_lock(&report_turn.lock);
    if (report_turn.busy) {
        api_metrics_reports_waiting(1);
        while (report_turn.busy)
            pthread_cond_wait(&report_turn.freed, &report_turn.lock);
        api_metrics_reports_waiting(-1);
    }
    report_turn.busy = 1;
    pthread_mutex_unlock(&report_turn.lock);
}

static void report_turn_give(void)
{
    pthread_mutex_lock(&report_turn.lock);
    report_turn.busy = 0;
    pthread_cond_signal(&report_turn.freed);
    pthread_mutex_unlock(&report_turn.lock);
}

/* A report's reply stream, which gives the turn back when it is freed. */
static long turn_stream_read(void *cls, char *buf, size_t max)
{
    struct api_stream *inner = cls;
    return inner->read(inner->cls, buf, max);
}

static void turn_stream_free(void *cls)
{
    api_stream_drop(cls);
    free(cls);
    return_freed_memory();
    report_turn_give();
}

/* Hands the turn to the call's reply stream, or gives it back at once when there is none. */
static int report_turn_pass(struct api_call *c)
{
    struct api_stream *inner = c->stream.read ? malloc(sizeof *inner) : NULL;
    if (!inner) {
        int err = c->stream.read ? PATRON_ENOMEM : 0;
        api_stream_drop(&c->stream);
        report_turn_give();
        return err;
    }
    *inner = c->stream;
    c->stream = (struct api_stream){turn_stream_read, turn_stream_free, inner};
    return 0;
}

/* How long a read holds the reports' turn: not at all; while it reads (a member's export, whose
 * reply is sent from a temporary file); or until its reply is sent (a report, whose lists are
 * held meanwhile). */
enum turn_hold { TURN_NONE, TURN_WHILE_READ, TURN_UNTIL_SENT };

static enum turn_hold turn_of(const struct api_call *c)
{
    if (c->route->handler == api_h_report)
        return TURN_UNTIL_SENT;
    return c->route->handler == api_h_export ? TURN_WHILE_READ : TURN_NONE;
}

static int run_read(struct server *sv, struct api_call *c)
{
    enum turn_hold hold = turn_of(c);
    if (hold != TURN_NONE) {
        report_turn_take();
        api_writer_settle_wal(sv->writer);
    }
    patron_store *s = pool_take(&sv->pool);
    int err = c->route->handler(c, s);
    if (err != 0 && !c->detail[0])
        snprintf(c->detail, sizeof c->detail, "%s", patron_store_detail(s));
    pool_give(&sv->pool, s);
    if (hold == TURN_WHILE_READ) {
        report_turn_give();
        return_freed_memory();
    } else if (hold == TURN_UNTIL_SENT) {
        int passed = report_turn_pass(c);
        if (err == 0)
            err = passed;
    }
    return err;
}

static int run_call(struct server *sv, struct api_call *c, struct api_response *r, unsigned *wake)
{
    int err = 0;
    if (API_EXEC_WRITES(c->route->exec)) {
        struct api_claim claim = {0};
        if (c->cfg->hq && c->cfg->hq[0] && api_spend_route(c)) { /* claimed at head office */
            patron_store *s = pool_take(&sv->pool);
            err = api_spend_claim(c, s, &claim);
            pool_give(&sv->pool, s);
            if (err != 0)
                return api_call_respond(c, err, r);
        }
        if (api_writer_submit(sv->writer, c, 0, r) != 0) {
            api_spend_end(c, &claim, 503);
            return api_problem(-ESHUTDOWN, "the service is stopping; retry shortly", NULL, r);
        }
        api_spend_end(c, &claim, r->status);
        if (r->status >= 200 && r->status < 300 && !r->replayed && r->body)
            patron__events_after_write(sv->cfg->events, c, r->body, r->len); /* committed */
        api_display_after(c, r);
        *wake = WAKE_WORKERS | (c->print_queued ? WAKE_PRINTER : 0);
        return 0;
    }
    if (c->route->exec == API_READ) {
        err = run_read(sv, c);
    } else {
        err = c->route->handler(c, NULL);
    }
    err = api_call_respond(c, err, r);
    if (err == 0)
        api_display_after(c, r);
    return err;
}

/* Everything between the full request and its response. */
static void dispatch(struct server *sv, struct MHD_Connection *conn, struct request *rq,
                     const char *url, const char *method, struct api_call *c,
                     struct api_response *r)
{
    int err;
    if (atomic_load(&sv->draining)) {
        api_problem_http(503, "eshutdown", "Service is stopping", "ESHUTDOWN",
                         "the service is stopping; retry shortly", r);
        return;
    }
    rq->route = api_route_match(method, url, c->params);
    if (rq->route == -405) {
        api_problem_http(405, "emethod", "Method not allowed", "EMETHOD",
                         "this path does not take that method", r);
        return;
    }
    if (rq->route < 0) {
        api_problem(rq->route == -404 ? PATRON_ENOTFOUND : PATRON_EINVAL,
                    rq->route == -404 ? "no such route" : "a path segment is too long", NULL, r);
        return;
    }
    c->route = &api_routes[rq->route];
    c->authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
    if (rq->too_big) {
        api_problem(PATRON_ETOOBIG, "the body is larger than 64 KiB", NULL, r);
        return;
    }
    if (c->route->role > PATRON_ROLE_NONE) {
        if ((err = authenticate(sv, conn, c, method)) != 0) {
            api_problem(err, c->detail, NULL, r);
            return;
        }
        rq->terminal_id = c->terminal.terminal_id;
        if (c->terminal.role < c->route->role) {
            snprintf(c->detail, sizeof c->detail, "this needs a %s's till; this till is a %s",
                     patron_role_name(c->route->role), patron_role_name(c->terminal.role));
            if (!API_EXEC_WRITES(c->route->exec) ||
                api_writer_submit(sv->writer, c, PATRON_EFORBIDDEN, r) != 0)
                api_call_respond(c, PATRON_EFORBIDDEN, r);
            return;
        }
    }
    if ((err = take_query(conn, c)) != 0 || (err = take_key(conn, c, method)) != 0 ||
        (err = api_body_parse(rq->buf ? rq->buf : "", rq->len, c->route->body, &c->body, c->detail,
                              sizeof c->detail)) != 0 ||
        (c->idempotency_key && API_EXEC_WRITES(c->route->exec) &&
         (err = api_request_hash(method, url, c->body, c->request_hash)) != 0)) {
        api_call_respond(c, err, r);
        return;
    }
    if (run_call(sv, c, r, &rq->wake) != 0)
        api_problem(PATRON_ENOMEM, NULL, NULL, r);
}

/* Every reply, the app's files and the API's alike: no framing, no sniffing, no referrer, and
 * scripts, styles and pictures from this origin only (no inline script). */
static void security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
                            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

/* A GET or HEAD of one of the app's files: answered here, with an ETag to revalidate against
 * (Cache-Control: no-cache, so a new build's files are seen at once and unchanged ones cost a
 * 304). Returns -1 when the path is not a file of the app: the routes answer it. */
static int send_web(struct server *sv, struct MHD_Connection *conn, const char *url,
                    const char *method, struct request *rq, enum MHD_Result *ret)
{
    struct api_web_reply w;
    static const char left_out[] = "The browser app was left out of this build (no web/ folder "
                                   "when it was built); the API is at /v1/.\n";
    if ((strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) || strncmp(url, "/v1/", 4) == 0)
        return -1;
    if (api_web_find(sv->cfg->web_root, url, &w) != 0) {
        if (strcmp(url, "/") != 0 || sv->cfg->web_root || api_web_embedded())
            return -1;
        w = (struct api_web_reply){"text/plain; charset=utf-8", (const unsigned char *)left_out,
                                   sizeof left_out - 1, NULL, NULL};
    }
    const char *inm = header(conn, MHD_HTTP_HEADER_IF_NONE_MATCH);
    int fresh = w.etag && inm && strcmp(inm, w.etag) == 0;
    struct MHD_Response *resp =
        fresh     ? MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT)
        : w.owned ? MHD_create_response_from_buffer(w.len, w.owned, MHD_RESPMEM_MUST_FREE)
                  : MHD_create_response_from_buffer(w.len, (void *)w.data, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(w.owned);
        *ret = MHD_NO;
        return 0;
    }
    if (fresh)
        free(w.owned);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, w.type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, w.etag ? "no-cache" : "no-store");
    if (w.etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, w.etag);
    security_headers(resp);
    rq->status = fresh ? 304 : 200;
    *ret = MHD_queue_response(conn, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    return 0;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct api_stream *st = cls;
    (void)pos;
    long n = st->read(st->cls, buf, max);
    return n > 0    ? (ssize_t)n
           : n == 0 ? MHD_CONTENT_READER_END_OF_STREAM
                    : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    api_stream_drop(cls);
    free(cls);
}

/* The body: the buffer, or the stream read as libmicrohttpd sends (chunked, in blocks of
 * STREAM_BLOCK, so a large reply is never held whole). */
static struct MHD_Response *response_of(struct api_response *r)
{
    struct MHD_Response *resp = NULL;
    if (r->stream.read) {
        struct api_stream *st = malloc(sizeof *st);
        if (st && (resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                            stream_read, st, stream_free))) {
            *st = r->stream;
            r->stream = (struct api_stream){0}; /* the response owns it now */
        } else
            free(st);
    } else if (r->body &&
               (resp = MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_FREE)))
        r->body = NULL; /* the response owns it now */
    if (!resp)
        api_response_cleanup(r);
    return resp;
}

static enum MHD_Result send_response(struct server *sv, struct MHD_Connection *conn,
                                     const char *url, struct request *rq, struct api_response *r)
{
    struct MHD_Response *resp = response_of(r);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    security_headers(resp);
    if (r->set_cookie[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->set_cookie);
    if (r->replayed)
        MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"patron\"");
    if (r->status == 405) {
        char allow[64];
        api_route_allow(url, allow, sizeof allow);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    }
    if (atomic_load(&sv->draining) || r->status == 413)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    rq->status = r->status;
    rq->err = r->err;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* GET /v1/events: the till's stream, or a problem when it cannot have one more. */
static enum MHD_Result send_events(struct server *sv, struct MHD_Connection *conn,
                                   struct request *rq, struct api_call *c, struct api_response *r)
{
    int err = 0;
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    struct MHD_Response *resp = patron__events_response(sv->cfg->events, c->terminal.terminal_id,
                                                        fd ? fd->connect_fd : -1, &err);
    json_decref(c->body);
    json_decref(c->reply);
    json_decref(c->problem_extra);
    free(c->text);
    api_stream_drop(&c->stream);
    api_response_cleanup(r);
    if (!resp) {
        api_problem(
            err, err == PATRON_ELIMIT ? "this till has as many event streams open as it may" : NULL,
            NULL, r);
        return send_response(sv, conn, "/v1/events", rq, r);
    }
    rq->status = 200;
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An import's body goes to a file under the store's folder as it arrives, once the request's
 * till is known to be an admin's (others are read and dropped, then refused by dispatch). */
static void upload_start(struct server *sv, struct MHD_Connection *conn, struct request *rq,
                         const char *url, const char *method)
{
    struct api_call c = {.cfg = sv->cfg};
    rq->upload_fd = -1;
    if (strcmp(method, "POST") != 0 || strcmp(url, "/v1/imports") != 0 ||
        authenticate(sv, conn, &c, method) != 0 || c.terminal.role < PATRON_ROLE_ADMIN)
        return;
    rq->upload_fd = api_import_upload_open(sv->cfg, rq->upload_path, sizeof rq->upload_path);
    if (rq->upload_fd < 0) {
        api_log("event=import_upload_failed error=\"%s\"", strerror(errno));
        rq->upload_path[0] = '\0';
    }
}

static void upload_end(struct request *rq, int keep)
{
    if (rq->upload_fd >= 0 && close(rq->upload_fd) != 0)
        keep = 0;
    rq->upload_fd = -1;
    if (!keep && rq->upload_path[0]) {
        unlink(rq->upload_path);
        rq->upload_path[0] = '\0';
    }
}

static void upload_write(struct request *rq, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(rq->upload_fd, data, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            api_log("event=import_upload_failed error=\"%s\"", strerror(errno));
            upload_end(rq, 0);
            rq->upload_failed = 1; /* the rest is dropped; the handler finds no file */
            return;
        }
        data += w;
        n -= (size_t)w;
    }
}

/* Keeps at most API_BODY_MAX bytes; a larger body is read to its end and refused. */
static void take_upload(struct request *rq, const char *data, size_t n)
{
    if (rq->upload_fd >= 0) {
        upload_write(rq, data, n);
        return;
    }
    if (rq->upload_failed || rq->too_big)
        return;
    if (rq->len + n > API_BODY_MAX) {
        rq->too_big = 1;
        free(rq->buf);
        rq->buf = NULL;
        rq->len = rq->cap = 0;
        return;
    }
    if (rq->len + n + 1 > rq->cap) {
        size_t cap = rq->cap ? rq->cap : 1024;
        while (cap < rq->len + n + 1)
            cap *= 2;
        char *nb = realloc(rq->buf, cap);
        if (!nb) {
            rq->too_big = 1; /* refused rather than half-read */
            return;
        }
        rq->buf = nb;
        rq->cap = cap;
    }
    memcpy(rq->buf + rq->len, data, n);
    rq->len += n;
    rq->buf[rq->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct server *sv = cls;
    struct request *rq = *con_cls;
    (void)version;
    if (!rq) {
        if (!(rq = calloc(1, sizeof *rq)))
            return MHD_NO;
        api_conn_receiving(sv->conns, guard_of(conn));
        rq->t0 = api_monotonic_ns();
        rq->route = -404;
        atomic_fetch_add(&sv->inflight, 1);
        *con_cls = rq;
        upload_start(sv, conn, rq, url, method);
        return MHD_YES;
    }
    if (*upload_size) {
        take_upload(rq, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    struct api_call c = {.cfg = sv->cfg};
    struct api_response r = {0};
    enum MHD_Result web_ret;
    api_conn_handling(sv->conns, guard_of(conn));
    if (rq->upload_fd >= 0)
        upload_end(rq, 1);
    c.upload_path = rq->upload_path[0] ? rq->upload_path : NULL;
    if (!atomic_load(&sv->draining) && send_web(sv, conn, url, method, rq, &web_ret) == 0)
        return web_ret;
    dispatch(sv, conn, rq, url, method, &c, &r);
    rq->upload_taken = c.upload_taken;
    if (c.events_stream && r.status == 200)
        return send_events(sv, conn, rq, &c, &r);
    json_decref(c.body);
    json_decref(c.reply);
    json_decref(c.problem_extra);
    free(c.text);
    api_stream_drop(&c.stream);
    return send_response(sv, conn, url, rq, &r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *sv = cls;
    struct request *rq = *con_cls;
    if (!rq)
        return;
    api_conn_answered(sv->conns, guard_of(conn));
    wake_workers(sv, rq->wake);
    int64_t ns = api_monotonic_ns() - rq->t0;
    api_metrics_request(rq->route, rq->status, ns);
    if (sv->cfg->log_requests || rq->status >= 500 || toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        /* The route pattern, never the path: paths carry card numbers. */
        const char *route = rq->route >= 0 ? api_routes[rq->route].pattern : "unmatched";
        const char *method = rq->route >= 0 ? api_routes[rq->route].method : "-";
        api_log("event=request method=%s route=%s status=%d ms=%.3f till=%lld error=%s%s", method,
                route, rq->status, (double)ns / 1e6, (long long)rq->terminal_id,
                rq->err ? patron_err_name(rq->err) : "none",
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
    }
    upload_end(rq, rq->upload_taken);
    free(rq->buf);
    free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&sv->inflight, 1);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
    struct server *sv = cls;
    api_metrics_connections(code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_ctx = fd ? api_conn_open(sv->conns, fd->connect_fd) : NULL;
    } else {
        /* Before libmicrohttpd closes the socket: the guard never touches a closed one. */
        api_conn_close(sv->conns, *socket_ctx);
        *socket_ctx = NULL;
    }
    /* Each connection has its own thread, which ends after this: give back OpenSSL's state of
     * the thread now, so none is left for a thread still ending when the service exits. */
    if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        OPENSSL_thread_stop();
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[256];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    /* Behind the front, libmicrohttpd's sockets are a Unix socket pair: TCP options do not
     * apply there (the front's TCP socket sends at once), and saying so on every reply is noise. */
    if (strstr(msg, "TCP_NODELAY") || strstr(msg, "TCP_CORK") || strstr(msg, "push the data"))
        return;
    api_log("event=http_error message=\"%s\"", msg);
}

struct listen_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } u;
    int is_v6;
    int loopback;
    char host[64];
};

/* "HOST:PORT" or "[V6]:PORT", HOST a literal address or "localhost". */
static int parse_listen(const char *spec, struct listen_addr *la, char *why, size_t cap)
{
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    char *end;
    memset(la, 0, sizeof *la);
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof la->host)
        goto bad;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
        goto bad;
    size_t n = (size_t)(colon - spec);
    if (spec[0] == '[') {
        if (n < 3 || spec[n - 1] != ']')
            goto bad;
        memcpy(la->host, spec + 1, n - 2);
        la->is_v6 = 1;
    } else {
        memcpy(la->host, spec, n);
    }
    if (strcmp(la->host, "localhost") == 0)
        snprintf(la->host, sizeof la->host, "%s", "127.0.0.1");
    if (la->is_v6) {
        la->u.v6.sin6_family = AF_INET6;
        la->u.v6.sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, la->host, &la->u.v6.sin6_addr) != 1)
            goto bad;
        la->loopback = IN6_IS_ADDR_LOOPBACK(&la->u.v6.sin6_addr);
    } else {
        la->u.v4.sin_family = AF_INET;
        la->u.v4.sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, la->host, &la->u.v4.sin_addr) != 1)
            goto bad;
        la->loopback = (ntohl(la->u.v4.sin_addr.s_addr) >> 24) == 127;
    }
    return 0;
bad:
    snprintf(why, cap, "--listen takes HOST:PORT with a numeric address, e.g. 127.0.0.1:8420");
    return PATRON_EINVAL;
}

static char *read_small_file(const char *path, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    if (!f) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    if ((buf = malloc(TLS_FILE_MAX + 1)) != NULL) {
        n = fread(buf, 1, TLS_FILE_MAX + 1, f);
        if (n == 0 || n > TLS_FILE_MAX) {
            snprintf(why, cap, "%s is empty or larger than 1 MiB", path);
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

/* Checks the listen address against the TLS rule and loads the TLS files. */
static int prepare_listen(const struct api_settings *cfg, struct listen_addr *la, char **cert,
                          char **key, char *why, size_t cap)
{
    int err = parse_listen(cfg->listen, la, why, cap);
    if (err != 0)
        return err;
    if (!cfg->tls_cert != !cfg->tls_key) {
        snprintf(why, cap, "TLS needs both --tls-cert and --tls-key");
        return PATRON_EINVAL;
    }
    if (!la->loopback && !cfg->tls_cert) {
        snprintf(why, cap,
                 "listening on %s (beyond loopback) needs TLS: give --tls-cert FILE and "
                 "--tls-key FILE, or listen on 127.0.0.1",
                 cfg->listen);
        return PATRON_EINVAL;
    }
    if (!cfg->tls_cert)
        return 0;
    if (!(*cert = read_small_file(cfg->tls_cert, why, cap)) ||
        !(*key = read_small_file(cfg->tls_key, why, cap)))
        return PATRON_EINVAL;
    return 0;
}

/* The listening socket of the front. Returns it, or -1 with errno set. */
static int open_listener(struct listen_addr *la)
{
    int one = 1, fd = socket(la->is_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    socklen_t len = la->is_v6 ? sizeof la->u.v6 : sizeof la->u.v4;
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (la->is_v6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, &la->u.sa, len) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, &la->u.sa, &len) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* libmicrohttpd listens on nothing: the front hands it each connection, TLS ended. */
static struct MHD_Daemon *start_daemon(struct server *sv, const struct listen_addr *la)
{
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    if (la->is_v6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, NULL}, /* first, to catch all */
        /* The front caps connections; this cap, never reached, only bounds a mistake (with
         * connections added from outside, libmicrohttpd 0.9.75 can hang at its own cap). */
        {MHD_OPTION_CONNECTION_LIMIT, 4 * (sv->cfg->max_connections + CONNECTION_HEADROOM), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, sv->cfg->timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, sv},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, sv},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

static void announce(const struct api_settings *cfg, const struct listen_addr *la, unsigned port,
                     int tls)
{
    const char *scheme = tls ? "https" : "http";
    if (la->is_v6)
        printf("listening on %s://[%s]:%u\n", scheme, la->host, port);
    else
        printf("listening on %s://%s:%u\n", scheme, la->host, port);
    fflush(stdout);
    if (cfg->port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", cfg->port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%u\n", port);
            if (fclose(f) == 0)
                rename(tmp, cfg->port_file); /* readers never see a half-written file */
        }
    }
    api_log("event=listening port=%u tls=%d", port, tls);
}

/* Stops taking work, answers what is in flight, then closes. */
static void drain(struct server *sv)
{
    atomic_store(&sv->draining, 1);
    api_front_quiesce(sv->front);
    MHD_socket lsock = MHD_quiesce_daemon(sv->daemon);
    if (lsock != MHD_INVALID_SOCKET)
        close(lsock);
    for (int waited = 0; atomic_load(&sv->inflight) > 0 && waited < DRAIN_WAIT_MS; waited += 10)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    MHD_stop_daemon(sv->daemon);
    sv->daemon = NULL;
}

/* glibc's allocator, bounded for a service of many threads: a block of 256 KiB or more (a long
 * report's table) is mapped apart and unmapped when freed, rather than left in a heap after
 * the threshold grows past it; and a few arenas, not eight per core, hold what threads free. */
static void bound_allocator(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_ARENA_MAX)
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_ARENA_MAX, 2);
#endif
}

/* The settings the service runs with: the caller's, with the event bus of this run. */
static int with_events(const struct api_settings *cfg, struct api_settings *out)
{
    unsigned beat = cfg->events_heartbeat_ms ? cfg->events_heartbeat_ms : EVENTS_HEARTBEAT_MS;
    unsigned third = cfg->timeout_s ? cfg->timeout_s * 1000u / 3u : beat;
    *out = *cfg;
    out->events_heartbeat_ms = beat < third ? beat : (third ? third : 1);
    out->events = patron__events_new(out->events_heartbeat_ms);
    return out->events ? 0 : PATRON_ENOMEM;
}

int api_serve(const struct api_settings *caller_cfg, char *why, size_t cap)
{
    struct api_settings run_cfg;
    const struct api_settings *cfg = &run_cfg;
    struct server sv = {.cfg = cfg, .listen_fd = -1};
    struct listen_addr la;
    char *cert = NULL, *key = NULL;
    struct ssl_ctx_st *tls = NULL;
    sigset_t sigs;
    int sig = 0, err;
    why[0] = '\0';
    bound_allocator(); /* before any thread starts */
    if (with_events(caller_cfg, &run_cfg) != 0) {
        snprintf(why, cap, "out of memory");
        return PATRON_ENOMEM;
    }
    /* OpenSSL initialises itself on first use; doing it here, on the main thread before any
     * other starts, keeps its one-time set-up out of the connection threads' races. */
    OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* likewise, for the webhook worker */
    if ((err = prepare_listen(cfg, &la, &cert, &key, why, cap)) != 0)
        goto out;
    /* Every thread started from here on inherits the mask: only sigwait below sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((err = pool_open(&sv.pool, cfg)) != 0 || (err = api_writer_start(cfg, &sv.writer)) != 0 ||
        (err = api_printer_start(cfg, &sv.printer)) != 0 ||
        (err = api_sync_start(cfg, &sv.sync)) != 0 ||
        (err = api_webhooks_start(cfg, &sv.webhooks)) != 0 ||
        (err = api_wallet_push_start(cfg, &sv.wallet_push)) != 0 ||
        (err = api_scanners_start(cfg, &sv.scanners)) != 0 ||
        (err = api_conns_start(cfg->max_connections, cfg->request_timeout_s, cfg->timeout_s,
                               &sv.conns)) != 0) {
        snprintf(why, cap, "cannot open %s: %s", cfg->db_path, patron_strerror(err));
        goto out;
    }
    if (cert && (err = api_front_tls_new(cert, key, &tls)) != 0) {
        snprintf(why, cap, "cannot use %s and %s as a TLS certificate and its key", cfg->tls_cert,
                 cfg->tls_key);
        err = PATRON_EINVAL;
        goto out;
    }
    if ((sv.listen_fd = open_listener(&la)) < 0 || !(sv.daemon = start_daemon(&sv, &la)) ||
        api_front_start(sv.daemon, sv.listen_fd, cfg->max_connections + CONNECTION_HEADROOM,
                        cfg->timeout_s, tls, &sv.front) != 0) {
        snprintf(why, cap, "cannot listen on %s: %s", cfg->listen, strerror(errno));
        err = -EADDRINUSE;
        goto out;
    }
    api_display_start(cfg); /* after the store is known good; never stops the service */
    announce(cfg, &la, ntohs(la.is_v6 ? la.u.v6.sin6_port : la.u.v4.sin_port), cert != NULL);
    while (sigwait(&sigs, &sig) != 0)
        ;
    api_log("event=stopping signal=%s inflight=%ld", sig == SIGTERM ? "TERM" : "INT",
            atomic_load(&sv.inflight));
    patron__events_close(cfg->events); /* the streams end, so draining does not wait on them */
    drain(&sv);
    api_log("event=stopped");
out:
    patron__events_close(cfg->events);
    api_scanners_stop(sv.scanners);
    api_front_quiesce(sv.front);
    if (sv.daemon)
        MHD_stop_daemon(sv.daemon);
    api_front_stop(sv.front);
    api_front_tls_free(tls);
    if (sv.listen_fd >= 0)
        close(sv.listen_fd);
    api_conns_stop(sv.conns);
    api_writer_stop(sv.writer);
    api_printer_stop(sv.printer);
    api_sync_stop(sv.sync);
    api_display_stop();
    api_webhooks_stop(sv.webhooks);
    api_wallet_push_stop(sv.wallet_push);
    api_imports_stop();
    pool_close(&sv.pool);
    patron__events_free(cfg->events);
    if (key)
        OPENSSL_cleanse(key, strlen(key)); /* private key material */
    free(cert);
    free(key);
    return err;
}
