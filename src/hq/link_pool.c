/* SPDX-License-Identifier: MIT */
/* The pool of head office links of a long-running process (link_pool.h). Idle links wait on a
 * stack (the last given back is the first taken, so a quiet service keeps few links warm and the
 * others age out after idle_s). A link whose connection is gone after a call, or that is left
 * inside a transaction, is closed rather than given back. After a kept link fails, every idle
 * link is closed as well (a restarted head office broke them all) and the call is retried once
 * on a link made for it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hq_internal.h"
#include "link_pool.h"
#include "patron/error.h"

/* How long a call waits for a link when max_links are all in use. */
#define POOL_WAIT_S 10

struct idle_link {
    patron_hq *h;
    time_t since; /* given back at (monotonic seconds) */
};

struct patron_hq_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed; /* a link was given back or closed */
    char *url;
    unsigned max_links, idle_s;
    unsigned open; /* links open: idle, in use, or being made */
    unsigned n_idle;
    struct idle_link *idle; /* max_links of them */
    struct patron_hq_pool_stats stats;
};

static time_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

int patron_hq_pool_open(const char *url, unsigned max_links, unsigned idle_s, patron_hq_pool **out)
{
    *out = NULL;
    if (!url || !url[0] || max_links == 0)
        return PATRON_EINVAL;
    patron_hq_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->url = strdup(url)) || !(p->idle = calloc(max_links, sizeof *p->idle))) {
        if (p)
            free(p->url);
        free(p);
        return PATRON_ENOMEM;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->freed, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    p->max_links = max_links;
    p->idle_s = idle_s;
    *out = p;
    return 0;
}

void patron_hq_pool_close(patron_hq_pool *p)
{
    if (!p)
        return;
    for (unsigned i = 0; i < p->n_idle; i++)
        patron_hq_close(p->idle[i].h);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p->idle);
    free(p->url);
    free(p);
}

void patron_hq_pool_stats(patron_hq_pool *p, struct patron_hq_pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    out->open = p->open;
    pthread_mutex_unlock(&p->lock);
}

/* Moves the idle links to close into `gone` (all of them, or those idle too long), under the
 * lock; the caller closes them after unlocking (closing says goodbye over the network). */
static unsigned idle_take_out(patron_hq_pool *p, int all, struct idle_link *gone)
{
    unsigned n = 0, kept = 0;
    time_t now = mono_now();
    for (unsigned i = 0; i < p->n_idle; i++) {
        if (all || (p->idle_s && now - p->idle[i].since > (time_t)p->idle_s))
            gone[n++] = p->idle[i];
        else
            p->idle[kept++] = p->idle[i];
    }
    p->n_idle = kept;
    p->open -= n;
    if (n)
        pthread_cond_broadcast(&p->freed);
    return n;
}

static void close_all(struct idle_link *gone, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        patron_hq_close(gone[i].h);
    free(gone);
}

/* Waits for a link to be given back or closed; PATRON_EDB when none was within POOL_WAIT_S. */
static int wait_freed(patron_hq_pool *p, const struct timespec *until, char *detail, size_t len)
{
    if (pthread_cond_timedwait(&p->freed, &p->lock, until) != ETIMEDOUT)
        return 0;
    snprintf(detail, len, "all %u links to head office stayed busy for %d s", p->max_links,
             POOL_WAIT_S);
    return PATRON_EDB;
}

/* Reserves a link under the lock: an idle one into *h (unless `fresh`), or a place for a new
 * one (*h NULL). */
static int reserve(patron_hq_pool *p, int fresh, patron_hq **h, char *detail, size_t len)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += POOL_WAIT_S;
    for (int rc = 0; rc == 0; rc = wait_freed(p, &until, detail, len)) {
        if (!fresh && p->n_idle > 0) {
            *h = p->idle[--p->n_idle].h;
            p->stats.reuses++;
            return 0;
        }
        if (p->open < p->max_links) {
            p->open++;
            return 0;
        }
        if (fresh && p->n_idle > 0) /* a place for the fresh one: the oldest idle link goes */
            return 1;
    }
    return PATRON_EDB;
}

/* Takes a link: *reused says whether it was kept open from an earlier call. */
static int take(patron_hq_pool *p, int fresh, patron_hq **h, int *reused, char *detail, size_t len)
{
    /* the idle links that aged out, and the one a fresh link may replace */
    struct idle_link *gone = calloc(p->max_links + 1, sizeof *gone);
    if (!gone)
        return PATRON_ENOMEM;
    *h = NULL;
    pthread_mutex_lock(&p->lock);
    unsigned n = idle_take_out(p, 0, gone);
    int rc = reserve(p, fresh, h, detail, len);
    if (rc == 1) { /* the oldest idle link makes room for the fresh one */
        gone[n++] = p->idle[0];
        p->n_idle--;
        memmove(p->idle, p->idle + 1, p->n_idle * sizeof *p->idle);
        rc = 0;
    }
    pthread_mutex_unlock(&p->lock);
    close_all(gone, n);
    *reused = *h != NULL;
    if (rc != 0 || *h)
        return rc;
    rc = patron_hq_connect(p->url, h, detail, len);
    pthread_mutex_lock(&p->lock);
    if (rc == 0) {
        p->stats.connects++;
    } else {
        p->open--;
        pthread_cond_signal(&p->freed);
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* A link fit to be used again: connected and outside any transaction. */
static int link_sound(const patron_hq *h)
{
    return PQstatus(h->conn) == CONNECTION_OK && PQtransactionStatus(h->conn) == PQTRANS_IDLE;
}

/* Gives a link back, or closes it (and, when `purge`, every idle link too). */
static void give(patron_hq_pool *p, patron_hq *h, int purge)
{
    int sound = link_sound(h);
    struct idle_link *gone = purge ? calloc(p->max_links, sizeof *gone) : NULL;
    unsigned n = 0;
    pthread_mutex_lock(&p->lock);
    if (sound) {
        p->idle[p->n_idle].h = h;
        p->idle[p->n_idle++].since = mono_now();
    } else {
        p->open--;
        p->stats.dropped++;
    }
    if (gone)
        n = idle_take_out(p, 1, gone);
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
    if (!sound)
        patron_hq_close(h);
    if (gone)
        close_all(gone, n);
}

int patron_hq_pool_run(patron_hq_pool *p, patron_hq_pool_fn fn, void *arg, char *detail, size_t len)
{
    for (int attempt = 0;; attempt++) {
        patron_hq *h = NULL;
        int reused = 0;
        int rc = take(p, attempt > 0, &h, &reused, detail, len);
        if (rc != 0)
            return rc;
        rc = fn(h, arg, detail, len);
        /* a kept link that broke: head office restarted or the link was cut since its last use */
        int stale = rc != 0 && reused && attempt == 0 && PQstatus(h->conn) != CONNECTION_OK;
        give(p, h, stale);
        if (!stale)
            return rc;
        pthread_mutex_lock(&p->lock);
        p->stats.retries++;
        pthread_mutex_unlock(&p->lock);
    }
}

struct claim_args {
    const char *member_uid, *key;
    int64_t points, local_points, key_id, voucher_id;
    int clamp;      /* a refund's: take what the chain holds, up to points */
    int64_t *taken; /* a refund's: what head office took */
    int *fresh;     /* a refund's: 1 when this call made the claim */
};

static int claim_fn(patron_hq *h, void *arg, char *detail, size_t len)
{
    const struct claim_args *a = arg;
    return patron_hq_claim(h, a->member_uid, a->points, a->local_points, a->key, NULL, detail, len);
}

static int release_fn(patron_hq *h, void *arg, char *detail, size_t len)
{
    return patron_hq_claim_release(h, ((const struct claim_args *)arg)->key, detail, len);
}

static int refund_claim_fn(patron_hq *h, void *arg, char *detail, size_t len)
{
    const struct claim_args *a = arg;
    return patron_hq_claim_refund(h, a->member_uid, a->points, a->local_points, a->clamp, a->key,
                                  a->taken, a->fresh, detail, len);
}

static int voucher_claim_fn(patron_hq *h, void *arg, char *detail, size_t len)
{
    const struct claim_args *a = arg;
    return patron_hq_voucher_claim(h, a->key_id, a->voucher_id, a->key, detail, len);
}

static int voucher_release_fn(patron_hq *h, void *arg, char *detail, size_t len)
{
    return patron_hq_voucher_release(h, ((const struct claim_args *)arg)->key, detail, len);
}

int patron_hq_pool_claim(patron_hq_pool *p, const char *member_uid, int64_t points,
                         int64_t local_points, const char *key, char *detail, size_t len)
{
    struct claim_args a = {
        .member_uid = member_uid, .key = key, .points = points, .local_points = local_points};
    return patron_hq_pool_run(p, claim_fn, &a, detail, len);
}

int patron_hq_pool_claim_release(patron_hq_pool *p, const char *key, char *detail, size_t len)
{
    struct claim_args a = {.key = key};
    return patron_hq_pool_run(p, release_fn, &a, detail, len);
}

int patron_hq_pool_claim_refund(patron_hq_pool *p, const char *member_uid, int64_t points,
                                int64_t local_points, int clamp, const char *key, int64_t *taken,
                                int *fresh, char *detail, size_t len)
{
    struct claim_args a = {.member_uid = member_uid,
                           .key = key,
                           .points = points,
                           .local_points = local_points,
                           .clamp = clamp,
                           .taken = taken,
                           .fresh = fresh};
    return patron_hq_pool_run(p, refund_claim_fn, &a, detail, len);
}

int patron_hq_pool_voucher_claim(patron_hq_pool *p, int64_t key_id, int64_t voucher_id,
                                 const char *key, char *detail, size_t len)
{
    struct claim_args a = {.key = key, .key_id = key_id, .voucher_id = voucher_id};
    return patron_hq_pool_run(p, voucher_claim_fn, &a, detail, len);
}

int patron_hq_pool_voucher_release(patron_hq_pool *p, const char *key, char *detail, size_t len)
{
    struct claim_args a = {.key = key};
    return patron_hq_pool_run(p, voucher_release_fn, &a, detail, len);
}
