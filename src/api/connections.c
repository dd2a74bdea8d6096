/* SPDX-License-Identifier: MIT */
/* The connection guard of the counter service: every open connection is registered with the
 * phase it is in, so that slow or idle clients cannot hold the service's slots. A request must
 * arrive in full (headers and body) within the request deadline of its connection's opening or
 * of the answer before it; a connection past its deadline is shut down by the guard's thread.
 * When more connections are open than the service keeps, the one waiting longest without a
 * request in hand is shut down first (an idle keep-alive before one that never sent a request),
 * so that a new till, or a health probe, always finds a slot. A connection whose request is being
 * answered is never cut. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"

#define TICK_MS 100

enum phase {
    PHASE_NEW,      /* open, no full request yet */
    PHASE_IDLE,     /* answered at least once, waiting for the next request */
    PHASE_RECEIVE,  /* headers in, body arriving */
    PHASE_HANDLING, /* the request is in hand: never cut */
};

struct api_conn {
    int fd;
    enum phase phase;
    int cut; /* shut down by the guard; its thread closes it */
    int64_t deadline_ns;
    int64_t since_ns;
    struct api_conn *prev, *next;
};

struct api_conns {
    unsigned keep;      /* connections kept before the waiting ones are cut */
    int64_t request_ns; /* the request deadline */
    int64_t idle_ns;    /* how long a kept-alive connection waits for its next request */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    struct api_conn *head;
    int stopping;
};

static void cut(struct api_conn *c, const char *why)
{
    if (c->cut)
        return;
    c->cut = 1;
    shutdown(c->fd, SHUT_RDWR); /* the fd is still open: it closes only after api_conn_close */
    api_log("event=connection_cut reason=%s", why);
}

/* The connection waiting longest without a request in hand: an idle one first. */
static struct api_conn *victim(struct api_conns *cs, const struct api_conn *except)
{
    struct api_conn *best = NULL;
    for (struct api_conn *c = cs->head; c; c = c->next) {
        if (c == except || c->cut || (c->phase != PHASE_IDLE && c->phase != PHASE_NEW))
            continue;
        if (!best || (c->phase == PHASE_IDLE && best->phase == PHASE_NEW) ||
            (c->phase == best->phase && c->since_ns < best->since_ns))
            best = c;
    }
    return best;
}

static void *guard_main(void *arg)
{
    struct api_conns *cs = arg;
    pthread_setname_np(pthread_self(), "guard"); /* as ps, top and perf show it */
    pthread_mutex_lock(&cs->lock);
    while (!cs->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&cs->wake, &cs->lock, &ts);
        int64_t now = api_monotonic_ns();
        for (struct api_conn *c = cs->head; c; c = c->next)
            if (c->phase != PHASE_HANDLING && now > c->deadline_ns)
                cut(c, c->phase == PHASE_IDLE ? "idle" : "request_deadline");
    }
    pthread_mutex_unlock(&cs->lock);
    return NULL;
}

int api_conns_start(unsigned keep, unsigned request_s, unsigned idle_s, struct api_conns **out)
{
    struct api_conns *cs = calloc(1, sizeof *cs);
    pthread_condattr_t attr;
    if (!cs)
        return PATRON_ENOMEM;
    cs->keep = keep ? keep : 1;
    cs->request_ns = (int64_t)(request_s ? request_s : 1) * 1000000000;
    cs->idle_ns = (int64_t)(idle_s ? idle_s : 1) * 1000000000;
    pthread_mutex_init(&cs->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cs->wake, &attr);
    pthread_condattr_destroy(&attr);
    int err = pthread_create(&cs->thread, NULL, guard_main, cs);
    if (err != 0) {
        pthread_cond_destroy(&cs->wake);
        pthread_mutex_destroy(&cs->lock);
        free(cs);
        return -err;
    }
    *out = cs;
    return 0;
}

void api_conns_stop(struct api_conns *cs)
{
    if (!cs)
        return;
    pthread_mutex_lock(&cs->lock);
    cs->stopping = 1;
    pthread_cond_signal(&cs->wake);
    pthread_mutex_unlock(&cs->lock);
    pthread_join(cs->thread, NULL);
    while (cs->head) {
        struct api_conn *c = cs->head;
        cs->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&cs->wake);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

struct api_conn *api_conn_open(struct api_conns *cs, int fd)
{
    struct api_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    c->phase = PHASE_NEW;
    c->since_ns = api_monotonic_ns();
    c->deadline_ns = c->since_ns + cs->request_ns;
    pthread_mutex_lock(&cs->lock);
    c->next = cs->head;
    if (cs->head)
        cs->head->prev = c;
    cs->head = c;
    unsigned waiting = 0;
    for (struct api_conn *o = cs->head; o; o = o->next)
        waiting += !o->cut;
    for (; waiting > cs->keep; waiting--) {
        struct api_conn *v = victim(cs, c);
        if (!v)
            break;
        cut(v, v->phase == PHASE_IDLE ? "slots_full_idle" : "slots_full_waiting");
    }
    pthread_mutex_unlock(&cs->lock);
    return c;
}

void api_conn_close(struct api_conns *cs, struct api_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&cs->lock);
    free(c);
}

static void set_phase(struct api_conns *cs, struct api_conn *c, enum phase p)
{
    if (!c)
        return;
    pthread_mutex_lock(&cs->lock);
    if (p == PHASE_IDLE) {
        c->since_ns = api_monotonic_ns();
        c->deadline_ns = c->since_ns + cs->idle_ns;
    } else if (p == PHASE_RECEIVE && c->phase == PHASE_IDLE) {
        /* A kept-alive connection's headers came within its idle wait; its body gets the
         * request deadline from now. */
        c->deadline_ns = api_monotonic_ns() + cs->request_ns;
    }
    c->phase = p;
    pthread_mutex_unlock(&cs->lock);
}

void api_conn_receiving(struct api_conns *cs, struct api_conn *c)
{
    set_phase(cs, c, PHASE_RECEIVE);
}

void api_conn_handling(struct api_conns *cs, struct api_conn *c)
{
    set_phase(cs, c, PHASE_HANDLING);
}

void api_conn_answered(struct api_conns *cs, struct api_conn *c)
{
    set_phase(cs, c, PHASE_IDLE);
}
