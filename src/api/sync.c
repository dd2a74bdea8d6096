/* SPDX-License-Identifier: MIT */
/* The counter service's sync thread: when the store has a head office (the machine setting
 * `hq`), one thread with a store handle of its own keeps its link open and runs two schedules.
 * Soon after a commit it ships the outbox (patron_hq_ship: what head office does not hold yet,
 * nothing else, and nothing at all when nothing is pending), so a sale reaches head office
 * without waiting for a pull. Every --sync-interval seconds, and at every round while the last
 * one failed, it runs the whole sync (ship, then the pull of what the chain changed, then the
 * finished sync recorded). A sale never waits for it: the shipping happens outside any of the
 * writer's transactions, and the store records only what head office acknowledged. After each
 * round it publishes what it saw (rows pending, the oldest one's store time, the last success
 * and the last failure in a sentence, how many rounds and pulls) for /metrics and /v1/health; a
 * failure is also kept in the store for `patron sync status`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bell.h"

/* One service per process: the published state is process-wide, like the metrics. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct api_sync_state published;
static int64_t oldest_at; /* store time of the oldest row not shipped, 0 when none */
static int has_fixed_now;
static int64_t fixed_now;

struct api_sync {
    const struct api_settings *cfg;
    patron_store *store;
    void *link;
    pthread_t thread;
    struct api_bell bell;
    int said_failing; /* the last round's outcome was logged as a failure */
    int pulled;       /* a whole sync (with its pull) finished since the last failure */
    double pulled_at; /* when it began, monotonic seconds */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int first_row(const struct patron_outbox_row *row, void *ctx)
{
    *(int64_t *)ctx = row->recorded_at;
    return 0;
}

/* Reads what the store knows and publishes it. */
static void publish(struct api_sync *sy, int pulled, int failing, const char *error)
{
    struct patron_outbox_sync st;
    int64_t last = 0, first = 0;
    if (patron_outbox_sync_get(sy->store, &st) != 0 || patron_outbox_last(sy->store, &last) != 0)
        return;
    if (last > st.acked_seq &&
        patron_outbox_list(sy->store, st.acked_seq, 1, first_row, &first, NULL) != 0)
        return;
    pthread_mutex_lock(&state_lock);
    published.failing = failing;
    published.pending = last - st.acked_seq;
    published.acked_seq = st.acked_seq;
    published.last_success = st.last_success;
    published.rounds++;
    published.pulls += pulled ? 1 : 0;
    published.failures += failing ? 1 : 0;
    snprintf(published.last_error, sizeof published.last_error, "%s", failing ? error : "");
    oldest_at = last > st.acked_seq ? first : 0;
    pthread_mutex_unlock(&state_lock);
}

void api_sync_state(struct api_sync_state *out)
{
    pthread_mutex_lock(&state_lock);
    *out = published;
    int64_t now = has_fixed_now ? fixed_now : (int64_t)time(NULL);
    out->lag_s = oldest_at && now > oldest_at ? now - oldest_at : 0;
    pthread_mutex_unlock(&state_lock);
}

/* Whether the outbox holds a row head office has not acknowledged; 1 when unsure. */
static int pending(struct api_sync *sy)
{
    struct patron_outbox_sync st;
    int64_t last = 0;
    if (patron_outbox_sync_get(sy->store, &st) != 0 || patron_outbox_last(sy->store, &last) != 0)
        return 1;
    return last > st.acked_seq;
}

/* Seconds until the next whole sync is due (0: now). */
static unsigned pull_due_in(const struct api_sync *sy)
{
    unsigned every = sy->cfg->sync_interval_s ? sy->cfg->sync_interval_s : 5;
    double left = sy->pulled ? sy->pulled_at + every - mono_s() : 0;
    return left <= 0 ? 0 : (unsigned)left + 1;
}

/* How long the thread sleeps unless a commit rings: until the next whole sync is due, at least
 * a second; after a failure, the interval (each round then retries the whole sync). */
static unsigned wait_s(const struct api_sync *sy)
{
    unsigned due = pull_due_in(sy);
    if (!sy->pulled)
        return sy->cfg->sync_interval_s ? sy->cfg->sync_interval_s : 5;
    return due ? due : 1;
}

/* One round: the whole sync when due, else the shipping of what is pending (none: no round). A
 * failure is kept in the store; a link it left unfit is closed. */
static void sync_round(struct api_sync *sy)
{
    char detail[512] = "";
    int pull = pull_due_in(sy) == 0;
    double began = mono_s();
    if (!pull && !pending(sy))
        return;
    int err = sy->cfg->sync_run(&sy->link, sy->cfg->hq, sy->store, pull, detail, sizeof detail);
    if (pull && err == 0) {
        sy->pulled = 1;
        sy->pulled_at = began;
    } else if (err != 0) {
        sy->pulled = 0; /* the next round is a whole sync again */
    }
    if (err != 0) {
        if (!detail[0])
            snprintf(detail, sizeof detail, "%s", patron_strerror(err));
        if (patron_outbox_sync_failed(sy->store, detail) != 0)
            api_log("event=sync_state_unrecorded");
        if (!sy->said_failing)
            api_log("event=sync state=failing error=%s detail=\"%.300s\"", patron_err_name(err),
                    detail);
    } else if (sy->said_failing) {
        api_log("event=sync state=ok");
    }
    sy->said_failing = err != 0;
    publish(sy, pull && err == 0, err != 0, detail);
}

static void *sync_main(void *arg)
{
    struct api_sync *sy = arg;
    do
        sync_round(sy);
    while (!api_bell_wait(&sy->bell, wait_s(sy)));
    return NULL;
}

int api_sync_start(const struct api_settings *cfg, struct api_sync **out)
{
    *out = NULL;
    if (!cfg->hq || !cfg->hq[0])
        return 0;
    if (!cfg->sync_run) {
        api_log("event=sync state=off detail=\"this patron was built without libpq\"");
        return 0;
    }
    struct api_sync *sy = calloc(1, sizeof *sy);
    int err;
    if (!sy)
        return PATRON_ENOMEM;
    sy->cfg = cfg;
    if ((err = api_store_open(cfg, &sy->store)) != 0)
        goto out;
    pthread_mutex_lock(&state_lock);
    memset(&published, 0, sizeof published);
    published.enabled = 1;
    has_fixed_now = cfg->has_now;
    fixed_now = cfg->now;
    pthread_mutex_unlock(&state_lock);
    if ((err = api_bell_start(&sy->bell, &sy->thread, sync_main, sy)) != 0)
        goto out;
    *out = sy;
    return 0;
out:
    patron_store_close(sy->store);
    free(sy);
    return err;
}

void api_sync_wake(struct api_sync *sy)
{
    if (!sy)
        return;
    api_bell_ring(&sy->bell);
}

void api_sync_stop(struct api_sync *sy)
{
    if (!sy)
        return;
    api_bell_end(&sy->bell, sy->thread);
    if (sy->link && sy->cfg->sync_close)
        sy->cfg->sync_close(sy->link);
    patron_store_close(sy->store);
    free(sy);
}
