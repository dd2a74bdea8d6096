/* SPDX-License-Identifier: MIT */
/* What the files of the counter service share: its settings, the route table, a request on its
 * way through (the call), the reply it becomes, strict body parsing, problem documents, the
 * group-commit writer and the metrics. Uses libpatron through its public headers only. */
#ifndef PATRON_API_H
#define PATRON_API_H

#include <jansson.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "patron/patron.h"
#include "patron/terminal.h"

#define API_BODY_MAX (64 * 1024)
#define API_PARAM_MAX 64
#define API_PARAMS 3 /* {param} segments a route may have */
#define API_KEY_MAX 127
#define API_DETAIL_MAX 256
#define API_QUERY_MAX 32   /* bytes of one query value */
#define API_QUERY_PARAMS 6 /* query parameters a route may name */

struct api_settings {
    const char *db_path;
    const char *listen;   /* "HOST:PORT", "[V6]:PORT" */
    const char *tls_cert; /* PEM files; both or neither */
    const char *tls_key;
    const char *port_file; /* when set, the bound port is written there */
    int has_now;
    int64_t now;
    unsigned max_connections;
    unsigned timeout_s;         /* how long a kept-alive connection waits for a request */
    unsigned request_timeout_s; /* a request's headers and body arrive within this */
    unsigned batch_max;         /* write requests per commit */
    unsigned busy_timeout_s;    /* a write waits this long for a lock another program holds */
    unsigned read_handles;
    int64_t cashier_refund_limit; /* points a cashier's till may reverse in one refund */
    int log_requests;
    /* Printing: the printer spec and profile as the `patron` program reads them, the home
     * folder (receipt templates, and the prints/ of "auto"'s virtual printer), and the program's
     * function that opens them (NULL: no printing, as with the spec "none"). */
    const char *printer_spec;
    const char *printer_profile;
    const char *home;
    int (*open_printer)(const char *spec, const char *profile_name, const char *home,
                        patron_printer **p, struct patron_escpos_profile *profile, char *detail,
                        size_t len);
    unsigned print_poll_s; /* how often queued jobs are looked at without a wake-up */
    /* Head office: its URL (the machine setting `hq`; NULL or "": no head office, no sync
     * thread), how often the outbox is shipped without a wake-up, and the program's function that
     * ships it once over a link it keeps in *link (made when NULL; a kept link head office dropped
     * is replaced within the round), and the one that closes the link. */
    const char *hq;
    unsigned sync_interval_s;
    unsigned hq_links; /* head office links the claims below keep open (the program's pool) */
    /* pull 0: ship only (patron_hq_ship); 1: the whole sync (patron_hq_sync) */
    int (*sync_run)(void **link, const char *hq, patron_store *s, int pull, char *detail,
                    size_t len);
    void (*sync_close)(void *link);
    unsigned display_idle_s;    /* customer displays return to the welcome after this (0 = 20) */
    unsigned webhook_poll_s;    /* how often due webhook deliveries are looked for unwoken */
    unsigned webhook_timeout_s; /* one webhook delivery's limit, connecting included */
    /* The wallet_* machine settings, for the members' wallet passes. */
    struct patron_wallet_apple wallet;
    struct patron_wallet_google google;
    const char *apns_url; /* Apple's push service (wallet_apns_url), for the push worker */
    /* Set by api_serve: the tills' event streams (events.h), and how often a quiet one gets a
     * heartbeat (0: the default; never more than a third of timeout_s). */
    struct patron_server *events;
    unsigned events_heartbeat_ms;
    /* The browser app: served from this folder instead of the embedded copy when set. */
    const char *web_root;
    unsigned session_ttl_s; /* how long a browser session lasts after signing in */
    const char *locale;     /* BCP 47 tag the screens format numbers and dates in */
    /* The chain: the program's look-up at head office (cfg->hq) of a card this store does not
     * know (src/hq, on libpq; NULL when built without it). It keeps the card and its member in
     * the store and returns 0, or a PATRON_* code with a sentence in detail. */
    int (*card_lookup)(const char *hq, patron_store *s, const char *card, char *detail, size_t len);
    /* And its claim of a member's points before a spend, and the giving back of a claim whose
     * spend failed (spend.c): 0 claimed, PATRON_ENOFUNDS refused (sentence in detail), another
     * code when head office could not be asked. Set by `patron serve` (a pool of kept links,
     * src/hq/link_pool.h) when a head office is set; NULL otherwise. */
    int (*spend_claim)(const char *hq, const char *member_uid, int64_t points, int64_t local_points,
                       const char *key, char *detail, size_t len);
    int (*spend_release)(const char *hq, const char *key, char *detail, size_t len);
    /* And a refund's claim of what it takes back, never refused (patron_hq_claim_refund): 0
     * with *taken what head office granted and *fresh whether this call made the claim (a
     * fresh one is given back by spend_release if the refund fails); another code when head
     * office could not be asked. */
    int (*refund_claim)(const char *hq, const char *member_uid, int64_t points,
                        int64_t local_points, int clamp, const char *key, int64_t *taken,
                        int *fresh, char *detail, size_t len);
    /* The same for a voucher before its redemption: 0 claimed, PATRON_EREDEEMED or
     * PATRON_EVOIDED refused, another code when head office could not be asked. */
    int (*voucher_claim)(const char *hq, int64_t key_id, int64_t voucher_id, const char *key,
                         char *detail, size_t len);
    int (*voucher_release)(const char *hq, const char *key, char *detail, size_t len);
    /* And the grant of a card number space to a store out of them (patron/card_space.h): 0 with
     * the space, another code with a sentence when head office could not grant one. Every store
     * handle of the service asks it when a head office is set. */
    int (*card_space_grant)(const char *hq, patron_store *s, int *space, char *detail, size_t len);
    /* And the back office's chain screen (GET /v1/chain): the chain's stores and the conflicts
     * this store is in, as head office lets a store's role read them, into *stores and
     * *conflicts (JSON arrays, the caller's): 0, or a code when head office could not be asked
     * (sentence in detail). Set with the claims; NULL otherwise. */
    int (*chain_read)(const char *hq, json_t **stores, json_t **conflicts, char *detail,
                      size_t len);
};

/* Runs the service until SIGTERM or SIGINT, then finishes in-flight requests and returns 0.
 * When it cannot start it returns a PATRON_* code with a sentence in why: PATRON_EINVAL for
 * settings (a bad --listen, listening beyond loopback without TLS), others for the store. */
int api_serve(const struct api_settings *cfg, char *why, size_t cap);

/* Opens a store handle of the service's own (server.c): the reader pool's, the writer's, each
 * worker thread's. Every one runs on the service's clock (a fixed --now in tests) and waits
 * --busy-timeout for a lock another handle or program holds (else the store's own 5 s).
 * Returns 0 or the PATRON_* code of patron_store_open. */
int api_store_open(const struct api_settings *cfg, patron_store **out);

/* Where a route's handler runs. */
enum api_exec {
    API_LOCAL, /* needs no store (metrics) */
    API_READ,  /* on a pooled read handle, in the connection's thread */
    API_WRITE, /* in the writer's next batch; answered after its commit */
    /* On the writer's handle but outside any batch, after the batch before it has committed
     * (an erasure, which checkpoints the WAL); then its reply and audit line are committed. */
    API_WRITE_ALONE,
};
#define API_EXEC_WRITES(exec) ((exec) == API_WRITE || (exec) == API_WRITE_ALONE)

struct api_call;
typedef int (*api_handler_fn)(struct api_call *c, patron_store *s);

/* Strict JSON bodies: every field is described; anything else is refused. */
enum api_json_type { API_JSON_STRING, API_JSON_INT, API_JSON_BOOL, API_JSON_ARRAY };

struct api_body_spec;
struct api_field {
    const char *name;
    enum api_json_type type;
    int required;
    int64_t min, max; /* value for integers; length for strings; item count for arrays */
    const struct api_body_spec *items; /* arrays: each item is an object of this shape */
};
struct api_body_spec {
    const struct api_field *fields;
    size_t n_fields;
};

struct api_route {
    const char *method;
    const char *pattern; /* "/v1/rewards/{id}/redeem": a {name} matches one segment */
    enum patron_role role;
    enum api_exec exec;
    int key_required;                 /* Idempotency-Key must be sent */
    const struct api_body_spec *body; /* NULL: no body */
    api_handler_fn handler;
    /* The query parameters the route takes, space-separated ("from to limit"), each at most
     * once; NULL for none. */
    const char *query;
};

extern const struct api_route api_routes[];
extern const size_t api_route_count;
/* The most routes the table may hold: /metrics keeps a counter row per route (metrics.c). */
#define API_MAX_ROUTES 96

/* Finds the route for a request. Returns its index and copies the {param} segments (decoded)
 * into params; -404 when no route has this path; -405 when the path exists for another method;
 * -400 when a segment is too long or badly encoded. */
int api_route_match(const char *method, const char *path,
                    char params[API_PARAMS][API_PARAM_MAX + 1]);

/* Writes the methods allowed on `path` ("GET, POST") into buf, for a 405's Allow header. */
void api_route_allow(const char *path, char *buf, size_t cap);

/* Prints "METHOD PATH" lines, one per route, in table order. */
void api_routes_print(FILE *f);

/* A reply written while it is sent (a large report), never held whole: `read` writes up to
 * `max` bytes into buf and returns how many, 0 at the end, or -1 when it failed (the connection
 * is then closed, the reply cut short); `free` frees cls. read NULL: no stream. */
struct api_stream {
    long (*read)(void *cls, char *buf, size_t max);
    void (*free)(void *cls);
    void *cls;
};

/* Frees a stream not handed over to a response (nothing when there is none). */
void api_stream_drop(struct api_stream *st);

/* A request on its way through; lives on the connection thread's stack. */
struct api_call {
    const struct api_route *route;
    const struct api_settings *cfg;
    char params[API_PARAMS][API_PARAM_MAX + 1];
    const char *authorization; /* the Authorization header, for routes that check their own */
    json_t *body;              /* validated against route->body; NULL when the route takes none */
    /* The values of route->query's parameters, in their order, NULL when not sent. */
    const char *query[API_QUERY_PARAMS];
    struct patron_terminal terminal; /* terminal_id 0 for open routes */
    const char *idempotency_key;     /* NULL when not sent */
    uint8_t request_hash[32];        /* digest of method, path and canonical body */
    /* What the handler leaves on success: */
    int status;      /* 200 unless set */
    json_t *reply;   /* owned by the call */
    char *text;      /* a non-JSON reply (metrics), malloc'd, owned by the call */
    size_t text_len; /* its length when it is bytes rather than text (a wallet pass); else 0 */
    const char *text_type;
    struct api_stream stream; /* a reply sent as it is written, of type text_type; owned */
    int print_queued;  /* the call queued print jobs: the printer is woken after the commit */
    int keep_on_error; /* the writer keeps what a failed call wrote (the wrong-code log) */
    int events_stream; /* GET /v1/events: the answer is the till's event stream */
    /* A problem to answer although the call's work stands (committed), e.g. a reprint queued
     * while the printer is down: 0, or the PATRON_* code of the problem. */
    int soft_err;
    json_t *problem_extra; /* fields added to a problem document; owned by the call */
    /* The till's customer display hears of the call once its work stands: "scan", "sale",
     * "redemption" or NULL; display_note carries a redemption's reward name, or a scan's next
     * reward. */
    const char *display_event;
    char display_note[128];
    int64_t display_number; /* a scan's points still needed for the reward in display_note */
    /* Head office was set but could not be asked before the write: the spend is offline. */
    int hq_offline;
    /* A refund's claim at head office (spend.c): what it may take back, for the handler. */
    int refund_claimed;
    int64_t refund_claimed_points;
    /* On failure the handler may say more; else the store's detail is taken. */
    char detail[API_DETAIL_MAX];
    /* A browser session the call came with ("" for a bearer token), and its CSRF token. */
    char session_id[65];
    char session_csrf[65];
    char set_cookie[256]; /* a Set-Cookie header to send with the reply, or "" */
    /* POST /v1/imports: the file the body was streamed into (NULL when none was kept), and
     * whether the handler took it (else it is removed after the answer). */
    const char *upload_path;
    int upload_taken;
};

/* A spend claimed at head office before the write (spend.c). */
struct api_claim {
    int held;    /* claimed: given back unless the spend succeeds */
    int voucher; /* a voucher's claim rather than points' */
    int offline; /* head office could not be asked */
    char key[API_KEY_MAX + 32];
};

/* Whether the call's route may spend points or a voucher (and so is claimed first). */
int api_spend_route(const struct api_call *c);
/* Claims at head office what the call would spend (points, or a voucher), when cfg->hq is set
 * (s: a read handle). Returns 0 (claimed, nothing to claim, or head office unreachable: then
 * c->hq_offline is set) or head office's refusal (PATRON_ENOFUNDS, PATRON_EREDEEMED,
 * PATRON_EVOIDED) with its sentence in c->detail. */
int api_spend_claim(struct api_call *c, patron_store *s, struct api_claim *cl);
/* After the write: a claim whose request did not succeed (`status` not 2xx) is given back. */
void api_spend_end(struct api_call *c, struct api_claim *cl, int status);

/* What goes back on the wire. */
struct api_response {
    int status;
    char *body; /* malloc'd */
    size_t len;
    const char *content_type;
    int replayed;
    int err;                  /* 0, or the PATRON_* code the problem document is about */
    char set_cookie[256];     /* "" or a Set-Cookie header */
    struct api_stream stream; /* instead of body: the call's streamed reply, owned */
};

/* Turns the outcome of a call into a response: the JSON reply when err and c->soft_err are 0,
 * else a problem document (with c->problem_extra's fields). Frees nothing of the call. Returns 0
 * or PATRON_ENOMEM. */
int api_call_respond(struct api_call *c, int err, struct api_response *r);
void api_response_cleanup(struct api_response *r);

/* Problem documents (RFC 9457). The status of a PATRON_* code comes from one table. */
int api_problem_status(int err);
/* Fills r with a problem about `err`; `detail` may be NULL or "". */
int api_problem(int err, const char *detail, const char *instance, struct api_response *r);
/* A problem that is about HTTP itself rather than a PATRON_* code (405, 503 while stopping),
 * with a `code` of its own ("EMETHOD") as every problem has. */
int api_problem_http(int status, const char *slug, const char *title, const char *code,
                     const char *detail, struct api_response *r);

/* Parses and checks a body: `len` bytes at buf, which need not end with a NUL. Returns 0 and sets
 * *out (the caller decrefs); PATRON_EINVAL with a sentence in detail for malformed JSON, unknown
 * fields, wrong types, out-of-range values. */
int api_body_parse(const char *buf, size_t len, const struct api_body_spec *spec, json_t **out,
                   char *detail, size_t cap);

/* The request digest the reply register compares: SHA-256 over method, path and the body
 * re-serialised with sorted keys (so that a retry that orders fields differently matches). */
int api_request_hash(const char *method, const char *path, json_t *body, uint8_t out[32]);

/* The canonical form of an object or array (json_canon.c): the bytes of
 * json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS), written without building them with jansson.
 * api_json_canon hands them to sink in blocks (a sink returns nonzero to stop; then, or for a
 * value jansson would not write, it returns PATRON_EINVAL); api_json_dump returns them as a
 * string to free, its length in *len (len may be NULL), or NULL. */
typedef int (*api_json_sink)(void *cls, const char *buf, size_t len);
int api_json_canon(json_t *v, api_json_sink sink, void *cls);
char *api_json_dump(json_t *v, size_t *len);

/* The group-commit writer. */
struct api_writer;
int api_writer_start(const struct api_settings *cfg, struct api_writer **out);
/* Queues the call, waits until its batch is committed, and fills r. A call whose `preset_err`
 * is not 0 is not run, only audited with that outcome. Returns 0, or -ESHUTDOWN when the writer
 * is stopping (r untouched). */
int api_writer_submit(struct api_writer *w, struct api_call *c, int preset_err,
                      struct api_response *r);
/* Called by a report or an export before it takes its snapshot: while the WAL is long and sales
 * keep coming, waits a while for it to start again from its beginning (see writer.c). */
void api_writer_settle_wal(struct api_writer *w);
/* Finishes the queued work and stops the thread; NULL does nothing. */
void api_writer_stop(struct api_writer *w);

/* Metrics: counters updated from any thread, read as Prometheus text. */
void api_metrics_request(int route, int status, int64_t duration_ns);
void api_metrics_batch(size_t size, int committed, int64_t commit_ns);
/* Commits made on the writer's connection (patron_store_commits), added as they happen. */
void api_metrics_db_commits(unsigned long long n);
void api_metrics_queue_depth(long delta);
void api_metrics_pending_writes(long delta);
void api_metrics_connections(long delta);
/* Reports waiting for their turn (server.c runs and sends one at a time). */
void api_metrics_reports_waiting(long delta);
/* A webhook round that looked for events to queue and deliveries due (a store with endpoints). */
void api_metrics_webhook_round(void);
/* Renders the metrics; returns a malloc'd string or NULL. */
char *api_metrics_render(void);

/* Printing metrics: jobs sent in full, print runs that stopped on a failure, and the number of
 * jobs not yet printed. */
void api_metrics_print(int64_t printed, int failed, int64_t queue_depth);

/* The printer thread: owns the printer and a store handle of its own; sends the due jobs of the
 * print queue when woken after a commit that queued one, and every print_poll_s seconds. */
enum api_printer_state {
    API_PRINTER_UNKNOWN = 0,
    API_PRINTER_ONLINE,
    API_PRINTER_PAPER_END,
    API_PRINTER_COVER_OPEN,
    API_PRINTER_OFFLINE,
};
#define API_PRINTER_STATES 5
struct api_printer;
/* Opens the store handle and starts the thread. Returns 0 or a PATRON_* code. */
int api_printer_start(const struct api_settings *cfg, struct api_printer **out);
/* Asks the thread to look at the queue now; NULL does nothing. Thread-safe. */
void api_printer_wake(struct api_printer *p);
/* Lets the job being sent finish, stops the thread and closes the printer; NULL does nothing. */
void api_printer_stop(struct api_printer *p);
/* The printer's last known state (any thread), and its metric label. */
enum api_printer_state api_printer_state(void);
const char *api_printer_state_name(enum api_printer_state state);
/* Why the printer is the virtual one although "auto" looked for a USB printer ("" when it is
 * not a fallback), copied into out (any thread). */
void api_printer_fallback(char *out, size_t len);
/* 1 when jobs cannot print now: no printer configured, or it is known to be down. */
int api_printer_down(void);

/* The sync thread (sync.c): when cfg->hq is set, ships the outbox to head office soon after a
 * commit and runs the whole sync (ship and pull) every sync_interval_s seconds (every round while
 * failing), with a store handle of its own and never
 * inside a sale's transaction; records each failure in the store (`patron sync status`). */
struct api_sync;
/* Starts the thread, or does nothing (*out NULL) without a head office. 0 or a PATRON_* code. */
int api_sync_start(const struct api_settings *cfg, struct api_sync **out);
/* Asks for a round soon (after a commit); NULL does nothing. Thread-safe. */
void api_sync_wake(struct api_sync *sy);
/* Lets the round under way finish, stops the thread and closes the link; NULL does nothing. */
void api_sync_stop(struct api_sync *sy);
/* What the last round saw, for /metrics and /v1/health (any thread). */
struct api_sync_state {
    int enabled;          /* a head office is set and the thread runs */
    int failing;          /* the last round failed */
    int64_t pending;      /* outbox rows head office does not hold yet */
    int64_t acked_seq;    /* head office holds every row up to here */
    int64_t lag_s;        /* age of the oldest row not shipped, 0 when none */
    int64_t last_success; /* store time of the last round that finished, 0 for never */
    int64_t rounds, failures;
    int64_t pulls;        /* whole syncs (ship and pull) that finished */
    char last_error[512]; /* "" unless failing */
};
void api_sync_state(struct api_sync_state *out);
/* The webhook worker (webhooks.c): a thread with a store handle of its own that queues the
 * deliveries of committed events and sends the due ones, outside the writer's batches. */
struct api_webhooks;
/* Opens the store handle and starts the thread. Returns 0 or a PATRON_* code. */
int api_webhooks_start(const struct api_settings *cfg, struct api_webhooks **out);
/* Asks the thread to look for new events now, when its last round saw an endpoint; NULL does
 * nothing. Thread-safe. */
void api_webhooks_wake(struct api_webhooks *w);
/* Cuts a delivery in progress short (it stays queued), stops the thread; NULL does nothing. */
void api_webhooks_stop(struct api_webhooks *w);
/* Sends one signed request with libcurl (the global set-up done): *status the HTTP status, 0 when
 * none came (why says what happened), *retry_after_s the Retry-After header's seconds (0: none).
 * A non-zero *stop aborts the transfer. Returns 0, or PATRON_ENOMEM. */
struct patron_webhook_request;
int api_webhook_post(const struct patron_webhook_request *r, unsigned timeout_s, atomic_int *stop,
                     int *status, int64_t *retry_after_s, char *why, size_t cap);

/* The wallet push worker (wallet_push.c): with the wallet push settings (wallet_pass_type_id,
 * and the pass certificate and key when apns_url is https), a thread with a store handle of its
 * own queues the pushes of changed passes and delivers them, after each write and every minute.
 * Starts it, or does nothing (*out NULL) without those settings. 0 or a PATRON_* code. */
/* Apple's push service (wallet_push.c), one sender for the worker and `patron card push`:
 * POST URL/3/device/PUSH_TOKEN with the pass type id as the topic and an empty payload, over
 * HTTP/2, with the pass type certificate as the client certificate; the phone then asks the
 * pass web service which passes changed. A patron_wallet_push_fn with a struct api_apns as ctx;
 * a ringing `bell` (NULL: none) aborts the transfer and the push stays queued. */
struct api_bell;
struct api_apns {
    void *curl; /* CURL *, reused from push to push */
    const char *url, *cert, *key;
    struct api_bell *bell;
};
int api_apns_send(void *ctx, const char *push_token, const char *pass_type, char *why,
                  size_t why_len);

struct api_wallet_push;
int api_wallet_push_start(const struct api_settings *cfg, struct api_wallet_push **out);
/* Asks for a round soon (after a commit); NULL does nothing. Thread-safe. */
void api_wallet_push_wake(struct api_wallet_push *w);
/* Cuts a push in progress short (it stays queued) and stops the thread; NULL does nothing. */
void api_wallet_push_stop(struct api_wallet_push *w);

/* The import jobs (imports.c). Makes the store's imports/ folder and a new file in it for an
 * upload (its name in path[cap]); returns the open descriptor, or -1 (errno set). */
int api_import_upload_open(const struct api_settings *cfg, char *path, size_t cap);
/* Stops the import under way (it writes nothing) and the queued ones, waits for the jobs'
 * threads and forgets the jobs. */
void api_imports_stop(void);

/* The connection guard (connections.c): a register of open connections and a thread that shuts
 * down those past their deadline. A request must arrive in full within request_s of its
 * connection's opening (or, on a kept-alive connection, idle_s of the answer before it, and
 * then request_s for its body). When more than `keep` connections are open, opening one shuts
 * down the connection waiting longest without a request in hand (an idle one first). Every call
 * is thread-safe. */
struct api_conns;
struct api_conn;
int api_conns_start(unsigned keep, unsigned request_s, unsigned idle_s, struct api_conns **out);
/* Stops the thread and frees the register; call after the HTTP daemon stopped. NULL: nothing. */
void api_conns_stop(struct api_conns *cs);
/* Registers a connection (its socket); NULL when out of memory (it then runs unguarded). */
struct api_conn *api_conn_open(struct api_conns *cs, int fd);
/* Unregisters it, before its socket is closed; NULL does nothing. */
void api_conn_close(struct api_conns *cs, struct api_conn *c);
/* Its phases: headers in; the whole request in (never cut then); answered (waiting again). */
void api_conn_receiving(struct api_conns *cs, struct api_conn *c);
void api_conn_handling(struct api_conns *cs, struct api_conn *c);
void api_conn_answered(struct api_conns *cs, struct api_conn *c);

/* The front (front.c): accepts on listen_fd (which it does not close), ends TLS when given a
 * context, passes each connection to the daemon (started with MHD_USE_NO_LISTEN_SOCKET) through
 * a socket pair, all of them from one thread's epoll loop, and answers a request whose head is
 * too long or malformed itself, with a problem document. idle_s bounds how long a connection
 * is kept when its client neither sends nor reads. */
struct MHD_Daemon;
struct api_front;
struct ssl_ctx_st;
/* A TLS context from PEM text: TLS 1.2 minimum, ECDHE with AEAD ciphers. Returns 0, or
 * PATRON_EINVAL when the certificate or key cannot be used, PATRON_ECRYPTO. */
int api_front_tls_new(const char *cert, const char *key, struct ssl_ctx_st **out);
void api_front_tls_free(struct ssl_ctx_st *ctx);
/* tls: NULL for plain HTTP; borrowed until api_front_stop. Beyond max_connections open at once,
 * a new connection is answered 503 (code EBUSY) and closed. */
int api_front_start(struct MHD_Daemon *daemon, int listen_fd, unsigned max_connections,
                    unsigned idle_s, struct ssl_ctx_st *tls, struct api_front **out);
/* Stops accepting; connections already taken go on. NULL does nothing. */
void api_front_quiesce(struct api_front *f);
/* Stops accepting, closes the clients still open, waits for their relays, frees. Call after
 * the daemon stopped. NULL does nothing. */
void api_front_stop(struct api_front *f);

/* Monotonic clock in nanoseconds, for latencies. */
int64_t api_monotonic_ns(void);

/* The position of `name` among the route's query parameters, or -1 when it takes no such. */
int api_query_index(const struct api_route *r, const char *name);
/* The value of the query parameter `name` of the call's route, or NULL when not sent. */
const char *api_query(const struct api_call *c, const char *name);

/* One event a line on stderr, "patron[serve]: key=value ...": never card numbers, tokens,
 * voucher codes or personal data. */
void api_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
