/* SPDX-License-Identifier: MIT */
/* A worker thread's bell: rung to ask for a round now (after a commit), stopped to end the
 * thread, and waited on for at most a given number of seconds on the monotonic clock (so a wall
 * clock that jumps neither hurries nor stalls a worker). Shared by the sync, webhook and wallet
 * push workers. */
#ifndef PATRON_API_BELL_H
#define PATRON_API_BELL_H

#include <pthread.h>
#include <stdatomic.h>

struct api_bell {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int rung;
    atomic_int stopping; /* read without the lock too (a transfer in progress polls it) */
};

/* Returns 0 or PATRON_ENOMEM. */
int api_bell_init(struct api_bell *b);
/* Inits the bell and starts the worker thread `run(arg)` into *thread; 0, else the bell is
 * destroyed again and the code returned (PATRON_ENOMEM, or the negated pthread_create error). */
int api_bell_start(struct api_bell *b, pthread_t *thread, void *(*run)(void *), void *arg);
/* Stops the worker api_bell_start started, waits for its thread and destroys the bell. */
void api_bell_end(struct api_bell *b, pthread_t thread);
void api_bell_destroy(struct api_bell *b);
/* Asks for a round soon. Thread-safe. */
void api_bell_ring(struct api_bell *b);
/* Asks the worker to end. Thread-safe. */
void api_bell_stop(struct api_bell *b);
/* 1 once api_bell_stop was called. */
int api_bell_stopping(struct api_bell *b);
/* Waits until the bell rings, stops, or `seconds` (0: 5) pass; returns 1 when stopping. */
int api_bell_wait(struct api_bell *b, unsigned seconds);

#endif
