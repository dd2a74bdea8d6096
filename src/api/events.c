/* SPDX-License-Identifier: MIT */
/* The tills' event streams: see events.h. Each stream is a ring of formatted events under the
 * bus's lock; libmicrohttpd's connection thread waits in the content reader for the next one
 * or the heartbeat. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "api.h"
#include "events.h"
#include "patron/json.h"

#define HANGUP_CHECK_MS 250

struct patron_stream {
    struct patron_server *srv;
    struct patron_stream *next;
    int64_t till_id;
    int fd; /* the connection's socket, watched for the client hanging up; -1 when unknown */
    char *ring[EVENTS_QUEUE];
    unsigned head, count; /* oldest at head */
    unsigned long long lost;
    char *out; /* what is being written, out_off bytes of it already */
    size_t out_len, out_off;
};

struct patron_server {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct patron_stream *streams;
    unsigned n_streams;
    unsigned heartbeat_ms;
    unsigned long long seq;
    int closed;
};

struct patron_server *patron__events_new(unsigned heartbeat_ms)
{
    struct patron_server *srv = calloc(1, sizeof *srv);
    pthread_condattr_t attr;
    if (!srv)
        return NULL;
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->wake, &attr);
    pthread_condattr_destroy(&attr);
    srv->heartbeat_ms = heartbeat_ms ? heartbeat_ms : EVENTS_HEARTBEAT_MS;
    return srv;
}

void patron__events_close(struct patron_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->closed = 1;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

void patron__events_free(struct patron_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    while (srv->n_streams > 0) /* the daemon stopped: their free callbacks have run */
        pthread_cond_wait(&srv->wake, &srv->lock);
    pthread_mutex_unlock(&srv->lock);
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

/* "event: TYPE\nid: N\ndata: JSON\n\n", malloc'd. */
static char *format_event(struct patron_server *srv, int64_t till_id, const char *type,
                          const json_t *data)
{
    json_t *o = json_is_object(data) ? json_deep_copy(data) : json_object();
    char *text = NULL, *json;
    if (!o)
        return NULL;
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "till_id", json_integer(till_id));
    json_object_set_new(o, "at", patron_json_time((int64_t)time(NULL)));
    json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!json)
        return NULL;
    size_t cap = strlen(json) + strlen(type) + 64;
    if ((text = malloc(cap)))
        snprintf(text, cap, "event: %s\nid: %llu\ndata: %s\n\n", type, ++srv->seq, json);
    free(json);
    return text;
}

static void push(struct patron_stream *st, char *text)
{
    if (st->count == EVENTS_QUEUE) { /* a slow reader: its oldest event goes */
        free(st->ring[st->head]);
        st->head = (st->head + 1) % EVENTS_QUEUE;
        st->count--;
        st->lost++;
    }
    st->ring[(st->head + st->count) % EVENTS_QUEUE] = text;
    st->count++;
}

void patron__events_publish(struct patron_server *srv, int64_t till_id, const char *type,
                            const json_t *data)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    for (struct patron_stream *st = srv->streams; st && !srv->closed; st = st->next) {
        if (till_id != 0 && st->till_id != till_id)
            continue;
        char *text = format_event(srv, st->till_id, type, data);
        if (text)
            push(st, text);
    }
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
}

/* The next thing to write, under the lock: a note of lost events, an event, or nothing. */
static char *next_text(struct patron_stream *st)
{
    char *text;
    if (st->lost) {
        size_t cap = 96;
        if ((text = malloc(cap)))
            snprintf(text, cap, "event: lost\ndata: {\"lost\":%llu}\n\n", st->lost);
        st->lost = 0;
        return text;
    }
    if (st->count == 0)
        return NULL;
    text = st->ring[st->head];
    st->head = (st->head + 1) % EVENTS_QUEUE;
    st->count--;
    return text;
}

static void deadline_in(struct timespec *ts, unsigned ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* 1 when the client hung up (a quiet stream learns it here, not at its next heartbeat). */
static int hung_up(const struct patron_stream *st)
{
    struct pollfd p = {.fd = st->fd, .events = POLLRDHUP};
    return st->fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Waits under the lock for something to write, the heartbeat, or the end. Returns 1 when the
 * client hung up. */
static int wait_for_event(struct patron_stream *st)
{
    struct patron_server *srv = st->srv;
    struct timespec until, slice;
    deadline_in(&until, srv->heartbeat_ms);
    while (!srv->closed && !st->lost && st->count == 0) {
        deadline_in(&slice, HANGUP_CHECK_MS);
        if (slice.tv_sec > until.tv_sec ||
            (slice.tv_sec == until.tv_sec && slice.tv_nsec > until.tv_nsec))
            slice = until;
        if (pthread_cond_timedwait(&srv->wake, &srv->lock, &slice) == ETIMEDOUT) {
            if (hung_up(st))
                return 1;
            if (slice.tv_sec == until.tv_sec && slice.tv_nsec == until.tv_nsec)
                break; /* heartbeat time */
        }
    }
    return 0;
}

ssize_t patron__events_read(struct patron_stream *st, char *buf, size_t max)
{
    struct patron_server *srv = st->srv;
    if (!st->out) {
        pthread_mutex_lock(&srv->lock);
        if (wait_for_event(st)) {
            pthread_mutex_unlock(&srv->lock);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        int closed = srv->closed;
        st->out = closed ? NULL : next_text(st);
        pthread_mutex_unlock(&srv->lock);
        if (closed)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (!st->out && !(st->out = strdup(": heartbeat\n\n")))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        st->out_len = strlen(st->out);
        st->out_off = 0;
    }
    size_t n = st->out_len - st->out_off < max ? st->out_len - st->out_off : max;
    memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        free(st->out);
        st->out = NULL;
    }
    return (ssize_t)n;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    return patron__events_read(cls, buf, max);
}

void patron__events_unsubscribe(struct patron_stream *st)
{
    struct patron_server *srv = st->srv;
    pthread_mutex_lock(&srv->lock);
    for (struct patron_stream **p = &srv->streams; *p; p = &(*p)->next) {
        if (*p == st) {
            *p = st->next;
            break;
        }
    }
    srv->n_streams--;
    while (st->count > 0) {
        free(st->ring[st->head]);
        st->head = (st->head + 1) % EVENTS_QUEUE;
        st->count--;
    }
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
    free(st->out);
    free(st);
}

static void stream_free(void *cls)
{
    patron__events_unsubscribe(cls);
}

static int stream_add(struct patron_server *srv, int64_t till_id, struct patron_stream **out)
{
    unsigned mine = 0;
    int err = 0;
    struct patron_stream *st = calloc(1, sizeof *st);
    if (!st)
        return PATRON_ENOMEM;
    st->srv = srv;
    st->till_id = till_id;
    pthread_mutex_lock(&srv->lock);
    for (struct patron_stream *o = srv->streams; o; o = o->next)
        mine += o->till_id == till_id;
    if (srv->closed)
        err = -ESHUTDOWN;
    else if (mine >= EVENTS_PER_TILL)
        err = PATRON_ELIMIT;
    if (err == 0) {
        st->next = srv->streams;
        srv->streams = st;
        srv->n_streams++;
    }
    pthread_mutex_unlock(&srv->lock);
    if (err != 0)
        free(st);
    else
        *out = st;
    return err;
}

int patron__events_subscribe(struct patron_server *srv, int64_t till_id, int fd,
                             struct patron_stream **out)
{
    struct patron_stream *st = NULL;
    int err = srv ? stream_add(srv, till_id, &st) : -ESHUTDOWN;
    if (err != 0)
        return err;
    st->fd = fd;
    *out = st;
    return 0;
}

struct MHD_Response *patron__events_response(struct patron_server *srv, int64_t till_id, int fd,
                                             int *err)
{
    struct patron_stream *st = NULL;
    if ((*err = patron__events_subscribe(srv, till_id, fd, &st)) != 0)
        return NULL;
    /* The first write says the stream is open, so a client knows it will see what follows. */
    if (!(st->out = strdup(": open\n\n"))) {
        stream_free(st);
        *err = PATRON_ENOMEM;
        return NULL;
    }
    st->out_len = strlen(st->out);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, reader, st, stream_free);
    if (!resp) {
        stream_free(st);
        *err = PATRON_ENOMEM;
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return resp;
}

unsigned patron__events_streams(struct patron_server *srv)
{
    pthread_mutex_lock(&srv->lock);
    unsigned n = srv->n_streams;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

int api_h_events(struct api_call *c, patron_store *s)
{
    (void)s;
    c->events_stream = 1;
    c->reply = json_object();
    return c->reply ? 0 : PATRON_ENOMEM;
}

void patron__events_after_write(struct patron_server *srv, const struct api_call *c,
                                const char *body, size_t len)
{
    static const struct {
        const char *pattern, *type;
    } kinds[] = {
        {"/v1/sales", "sale"},
        {"/v1/refunds", "refund"},
        {"/v1/rewards/{id}/redeem", "redemption"},
        {"/v1/vouchers/redeem", "redemption"},
    };
    for (size_t i = 0; srv && i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strcmp(c->route->pattern, kinds[i].pattern) != 0)
            continue;
        /* the reply the body was written from; parsed again only when the call had none */
        json_t *o = c->reply ? json_incref(c->reply) : json_loadb(body, len, 0, NULL);
        if (json_is_object(o))
            patron__events_publish(srv, c->terminal.terminal_id, kinds[i].type, o);
        json_decref(o);
        return;
    }
}
