/* SPDX-License-Identifier: MIT */
/* A worker thread's bell: see bell.h. */
#include "bell.h"

#include <time.h>

#include "patron/error.h"

int api_bell_init(struct api_bell *b)
{
    pthread_condattr_t attr;
    b->rung = 0;
    atomic_init(&b->stopping, 0);
    if (pthread_condattr_init(&attr) != 0)
        return PATRON_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&b->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return PATRON_ENOMEM;
    if (pthread_mutex_init(&b->lock, NULL) != 0) {
        pthread_cond_destroy(&b->cond);
        return PATRON_ENOMEM;
    }
    return 0;
}

int api_bell_start(struct api_bell *b, pthread_t *thread, void *(*run)(void *), void *arg)
{
    int err = api_bell_init(b);
    if (err != 0)
        return err;
    if ((err = pthread_create(thread, NULL, run, arg)) != 0) {
        api_bell_destroy(b);
        return -err;
    }
    return 0;
}

void api_bell_end(struct api_bell *b, pthread_t thread)
{
    api_bell_stop(b);
    pthread_join(thread, NULL);
    api_bell_destroy(b);
}

void api_bell_destroy(struct api_bell *b)
{
    pthread_cond_destroy(&b->cond);
    pthread_mutex_destroy(&b->lock);
}

void api_bell_ring(struct api_bell *b)
{
    pthread_mutex_lock(&b->lock);
    b->rung = 1;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

void api_bell_stop(struct api_bell *b)
{
    pthread_mutex_lock(&b->lock);
    atomic_store(&b->stopping, 1);
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&b->lock);
}

int api_bell_stopping(struct api_bell *b)
{
    return atomic_load(&b->stopping);
}

int api_bell_wait(struct api_bell *b, unsigned seconds)
{
    struct timespec until;
    pthread_mutex_lock(&b->lock);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += seconds ? seconds : 5;
    while (!b->rung && !atomic_load(&b->stopping))
        if (pthread_cond_timedwait(&b->cond, &b->lock, &until) != 0)
            break; /* the time is up: a round anyway */
    b->rung = 0;
    int stop = atomic_load(&b->stopping);
    pthread_mutex_unlock(&b->lock);
    return stop;
}
