/* SPDX-License-Identifier: MIT */
/* Metrics of the counter service in Prometheus text format: requests by route and status,
 * request latencies, commits and batch sizes of the group-commit writer, its queue depth, open
 * connections, the printer: its state, the print queue's depth, jobs printed, failures, and
 * the head office sync (when the store has one): its lag, rows pending, last success.
 * Counters are relaxed atomics: any thread updates them without a lock, and a scrape reads a
 * close-enough snapshot. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define MAX_ROUTES API_MAX_ROUTES
static const int tracked_status[] = {200, 201, 400, 401, 403, 404, 405, 409,
                                     413, 414, 422, 431, 500, 503, 505};
#define N_STATUS (sizeof tracked_status / sizeof tracked_status[0])
static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,  0.1,    0.25,  1.0};
#define N_LAT (sizeof latency_bounds / sizeof latency_bounds[0])
static const unsigned batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128};
#define N_BATCH (sizeof batch_bounds / sizeof batch_bounds[0])

struct histogram_lat {
    atomic_ullong bucket[N_LAT + 1]; /* the last is +Inf */
    atomic_ullong sum_ns;
};

static struct {
    /* Route MAX_ROUTES collects requests that matched no route. */
    atomic_ullong requests[MAX_ROUTES + 1][N_STATUS + 1];
    struct histogram_lat latency[MAX_ROUTES + 1];
    atomic_ullong commits, commit_failures, commit_ns;
    atomic_ullong db_commits;
    atomic_ullong batch[N_BATCH + 1];
    atomic_ullong batch_sum;
    atomic_long queue_depth;
    atomic_long pending_writes;
    atomic_long connections;
    atomic_long reports_waiting;
    atomic_ullong printed, print_failures;
    atomic_llong print_queue;
    atomic_ullong webhook_rounds;
} m;

_Static_assert(MAX_ROUTES < 1000, "route index fits the label buffer");

static size_t status_slot(int status)
{
    for (size_t i = 0; i < N_STATUS; i++)
        if (tracked_status[i] == status)
            return i;
    return N_STATUS;
}

void api_metrics_request(int route, int status, int64_t duration_ns)
{
    size_t r = route >= 0 && (size_t)route < api_route_count && route < MAX_ROUTES ? (size_t)route
                                                                                   : MAX_ROUTES;
    atomic_fetch_add_explicit(&m.requests[r][status_slot(status)], 1, memory_order_relaxed);
    size_t b = 0;
    double secs = (double)duration_ns / 1e9;
    while (b < N_LAT && secs > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m.latency[r].bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.latency[r].sum_ns, (unsigned long long)duration_ns,
                              memory_order_relaxed);
}

void api_metrics_batch(size_t size, int committed, int64_t commit_ns)
{
    size_t b = 0;
    while (b < N_BATCH && size > batch_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m.batch[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.batch_sum, size, memory_order_relaxed);
    atomic_fetch_add_explicit(committed ? &m.commits : &m.commit_failures, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.commit_ns, (unsigned long long)commit_ns, memory_order_relaxed);
}

void api_metrics_db_commits(unsigned long long n)
{
    atomic_fetch_add_explicit(&m.db_commits, n, memory_order_relaxed);
}

void api_metrics_queue_depth(long delta)
{
    atomic_fetch_add_explicit(&m.queue_depth, delta, memory_order_relaxed);
}

void api_metrics_pending_writes(long delta)
{
    atomic_fetch_add_explicit(&m.pending_writes, delta, memory_order_relaxed);
}

void api_metrics_connections(long delta)
{
    atomic_fetch_add_explicit(&m.connections, delta, memory_order_relaxed);
}

void api_metrics_reports_waiting(long delta)
{
    atomic_fetch_add_explicit(&m.reports_waiting, delta, memory_order_relaxed);
}

void api_metrics_webhook_round(void)
{
    atomic_fetch_add_explicit(&m.webhook_rounds, 1, memory_order_relaxed);
}

void api_metrics_print(int64_t printed, int failed, int64_t queue_depth)
{
    atomic_fetch_add_explicit(&m.printed, (unsigned long long)printed, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.print_failures, failed ? 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&m.print_queue, queue_depth, memory_order_relaxed);
}

/* A bounded text buffer: the rendering stops growing at its maximum. */
struct text {
    char *buf;
    size_t len, cap;
    int failed;
};
#define TEXT_MAX (1024 * 1024)

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        if (t->failed)
            return;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2;
        char *nb = cap <= TEXT_MAX ? realloc(t->buf, cap) : NULL;
        if (!nb) {
            t->failed = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
}

static unsigned long long get(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void route_label(size_t r, char *buf, size_t cap)
{
    if (r < api_route_count)
        snprintf(buf, cap, "method=\"%s\",route=\"%s\"", api_routes[r].method,
                 api_routes[r].pattern);
    else
        snprintf(buf, cap, "method=\"other\",route=\"unmatched\"");
}

static void render_requests(struct text *t)
{
    char label[160];
    put(t, "# HELP patron_http_requests_total HTTP requests answered, by route and status.\n"
           "# TYPE patron_http_requests_total counter\n");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        if (r >= api_route_count && r != MAX_ROUTES)
            continue;
        route_label(r, label, sizeof label);
        for (size_t s = 0; s <= N_STATUS; s++) {
            unsigned long long v = get(&m.requests[r][s]);
            if (v == 0)
                continue;
            if (s < N_STATUS)
                put(t, "patron_http_requests_total{%s,code=\"%d\"} %llu\n", label,
                    tracked_status[s], v);
            else
                put(t, "patron_http_requests_total{%s,code=\"other\"} %llu\n", label, v);
        }
    }
}

static void render_latency(struct text *t)
{
    char label[160];
    put(t, "# HELP patron_http_request_duration_seconds Time from request to answer.\n"
           "# TYPE patron_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        if (r >= api_route_count && r != MAX_ROUTES)
            continue;
        struct histogram_lat *h = &m.latency[r];
        unsigned long long cum = 0;
        route_label(r, label, sizeof label);
        for (size_t b = 0; b <= N_LAT; b++) {
            cum += get(&h->bucket[b]);
            if (b < N_LAT)
                put(t, "patron_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", label,
                    latency_bounds[b], cum);
            else
                put(t, "patron_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", label,
                    cum);
        }
        put(t, "patron_http_request_duration_seconds_sum{%s} %.6f\n", label,
            (double)get(&h->sum_ns) / 1e9);
        put(t, "patron_http_request_duration_seconds_count{%s} %llu\n", label, cum);
    }
}

static void render_writer(struct text *t)
{
    unsigned long long cum = 0;
    put(t,
        "# HELP patron_commits_total Batches committed by the writer (on disk before answered).\n"
        "# TYPE patron_commits_total counter\npatron_commits_total %llu\n"
        "# HELP patron_commit_failures_total Batches whose commit failed (none acknowledged).\n"
        "# TYPE patron_commit_failures_total counter\npatron_commit_failures_total %llu\n"
        "# HELP patron_commit_seconds_total Time spent running and committing batches.\n"
        "# TYPE patron_commit_seconds_total counter\npatron_commit_seconds_total %.6f\n",
        get(&m.commits), get(&m.commit_failures), (double)get(&m.commit_ns) / 1e9);
    put(t,
        "# HELP patron_db_commits_total Commits on the writer's connection, counted by SQLite.\n"
        "# TYPE patron_db_commits_total counter\npatron_db_commits_total %llu\n",
        get(&m.db_commits));
    put(t, "# HELP patron_batch_size Write requests per committed batch.\n"
           "# TYPE patron_batch_size histogram\n");
    for (size_t b = 0; b <= N_BATCH; b++) {
        cum += get(&m.batch[b]);
        if (b < N_BATCH)
            put(t, "patron_batch_size_bucket{le=\"%u\"} %llu\n", batch_bounds[b], cum);
        else
            put(t, "patron_batch_size_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    put(t, "patron_batch_size_sum %llu\npatron_batch_size_count %llu\n", get(&m.batch_sum), cum);
    put(t,
        "# HELP patron_write_queue_depth Write requests waiting for the writer.\n"
        "# TYPE patron_write_queue_depth gauge\npatron_write_queue_depth %ld\n"
        "# HELP patron_write_requests_pending Write requests taken in and not yet answered "
        "(queued, or in the batch being written).\n"
        "# TYPE patron_write_requests_pending gauge\npatron_write_requests_pending %ld\n"
        "# HELP patron_http_connections Open client connections.\n"
        "# TYPE patron_http_connections gauge\npatron_http_connections %ld\n"
        "# HELP patron_reports_waiting Reports and members' exports waiting for their turn: one "
        "at a time is run and sent.\n"
        "# TYPE patron_reports_waiting gauge\npatron_reports_waiting %ld\n",
        atomic_load_explicit(&m.queue_depth, memory_order_relaxed),
        atomic_load_explicit(&m.pending_writes, memory_order_relaxed),
        atomic_load_explicit(&m.connections, memory_order_relaxed),
        atomic_load_explicit(&m.reports_waiting, memory_order_relaxed));
    put(t,
        "# HELP patron_webhook_rounds_total Rounds of the webhook worker that looked for events "
        "and due deliveries (none while the store has no endpoint).\n"
        "# TYPE patron_webhook_rounds_total counter\npatron_webhook_rounds_total %llu\n",
        get(&m.webhook_rounds));
}

static void render_printer(struct text *t)
{
    enum api_printer_state now = api_printer_state();
    put(t, "# HELP patron_printer_state Printer state (1 for the current state).\n"
           "# TYPE patron_printer_state gauge\n");
    for (int st = 0; st < API_PRINTER_STATES; st++)
        put(t, "patron_printer_state{state=\"%s\"} %d\n",
            api_printer_state_name((enum api_printer_state)st), (int)now == st);
    put(t,
        "# HELP patron_print_queue_depth Print jobs not yet printed.\n"
        "# TYPE patron_print_queue_depth gauge\npatron_print_queue_depth %lld\n"
        "# HELP patron_print_jobs_printed_total Print jobs the printer accepted in full.\n"
        "# TYPE patron_print_jobs_printed_total counter\npatron_print_jobs_printed_total %llu\n"
        "# HELP patron_print_failures_total Print runs that stopped on a failure (the job stays "
        "queued).\n"
        "# TYPE patron_print_failures_total counter\npatron_print_failures_total %llu\n",
        (long long)atomic_load_explicit(&m.print_queue, memory_order_relaxed), get(&m.printed),
        get(&m.print_failures));
}

/* Head office sync, only when the store has a head office. */
static void render_sync(struct text *t)
{
    struct api_sync_state st;
    api_sync_state(&st);
    if (!st.enabled)
        return;
    put(t,
        "# HELP patron_sync_lag_seconds Age of the oldest outbox row head office does not hold "
        "yet (0 when none).\n"
        "# TYPE patron_sync_lag_seconds gauge\npatron_sync_lag_seconds %lld\n"
        "# HELP patron_sync_pending_rows Outbox rows head office does not hold yet.\n"
        "# TYPE patron_sync_pending_rows gauge\npatron_sync_pending_rows %lld\n"
        "# HELP patron_sync_last_success_timestamp_seconds When a sync last finished (0: never).\n"
        "# TYPE patron_sync_last_success_timestamp_seconds gauge\n"
        "patron_sync_last_success_timestamp_seconds %lld\n"
        "# HELP patron_sync_failing 1 when the last sync failed (its sentence is in /v1/health).\n"
        "# TYPE patron_sync_failing gauge\npatron_sync_failing %d\n"
        "# HELP patron_sync_failures_total Sync rounds that failed.\n"
        "# TYPE patron_sync_failures_total counter\npatron_sync_failures_total %lld\n"
        "# HELP patron_sync_rounds_total Sync rounds run (shipping soon after commits, or whole).\n"
        "# TYPE patron_sync_rounds_total counter\npatron_sync_rounds_total %lld\n"
        "# HELP patron_sync_pulls_total Whole syncs (ship, then pull from head office) that "
        "finished.\n"
        "# TYPE patron_sync_pulls_total counter\npatron_sync_pulls_total %lld\n",
        (long long)st.lag_s, (long long)st.pending, (long long)st.last_success, st.failing,
        (long long)st.failures, (long long)st.rounds, (long long)st.pulls);
}

char *api_metrics_render(void)
{
    struct text t = {malloc(8192), 0, 8192, 0};
    if (!t.buf)
        return NULL;
    render_requests(&t);
    render_latency(&t);
    render_writer(&t);
    render_printer(&t);
    render_sync(&t);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}
