/* SPDX-License-Identifier: MIT */
/* The group-commit writer: one thread owns the write handle, takes every write request queued
 * meanwhile (up to batch_max), runs each in its own savepoint inside one transaction (a failing
 * request undoes only itself), commits once (one fsync for the batch), and only then answers
 * each. If the commit fails, no request of the batch is acknowledged: each gets the error.
 * A request that cannot run inside a transaction (an erasure, which checkpoints the WAL) runs
 * alone, after the batch before it has committed, and before the next batch begins.
 * The disk: the writer's commits do not wait for it (patron_store_defer_sync). A thread of the
 * writer's, the syncer, takes the batches committed meanwhile, syncs the WAL once for all of
 * them, and only then answers their requests: nobody is told of a commit before it is on disk,
 * and the next batch runs while the disk works. Should the disk refuse a sync, those requests
 * are told so, and no write runs any more until the service is started again.
 * Wake-ups: a request rings the writer only when it sleeps (one futex call a batch, not a
 * request), and each waiter is woken by its own semaphore, outside the queue's lock, so a
 * woken thread never sleeps again on that lock while the writer answers the rest.
 * Checkpoints: a thread of the writer's with a handle of its own copies the WAL into the
 * database once it has grown past CHECKPOINT_PAGES, so that no batch's commit does it (it reads
 * and writes every page of the WAL and syncs the database: a pause for every till). */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bell.h"

/* The WAL's growth (pages) after which the checkpointer is rung. SQLite's own threshold, 1,000,
 * which a commit on the writer's handle no longer acts on (see patron_store_defer_checkpoints),
 * cost every checkout dear under a steady load: each copy syncs the database beside the
 * syncer's WAL syncs, and a page that every checkout touches (a balance's, an index's last
 * leaf) is copied once a copy, however often it changed since the last. */
#define CHECKPOINT_PAGES 4000
#define CHECKPOINT_POLL_S 60
/* Past this many pages (256 MiB of 4 KiB pages; its index, 16 blocks of 32 KiB for 4,096
 * frames each) the WAL is made to start again (restart_wal_due), and a report waits for it to
 * (at most SETTLE_MAX_MS, api_writer_settle_wal). The writer finishes the copy itself only when
 * the checkpointer left at most FINISH_PAGES uncopied, or a report waits; that holds it up
 * 7-12 ms on this disk (two syncs), so not more often than every 65,536 pages. */
#define RESTART_PAGES 65536
#define FINISH_PAGES 1000
#define SETTLE_MAX_MS 2000
#define SETTLE_IDLE_MS 50 /* no commit for this long: the WAL is not growing */
#define SETTLE_STEP_MS 2

struct job {
    struct api_call *call;
    int preset_err;
    struct api_response *resp;
    sem_t done; /* posted once the job is answered; the job is its waiter's again */
    struct job *next;
};

struct api_writer {
    const struct api_settings *cfg;
    patron_store *store;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct job *head, *tail;
    int stopping;
    int sleeping;                /* the writer waits on wake: a new request rings */
    unsigned long long commits;  /* the store's commit count the metrics have seen */
    patron_store *checkpoints;   /* the checkpointer's handle */
    _Atomic unsigned wal_left;   /* pages the last checkpoint left uncopied */
    atomic_int settling;         /* reports waiting for the WAL to start again */
    unsigned wal_pages, ring_at; /* the WAL's size after the last batch; when to ring next */
    pthread_t checkpointer;
    struct api_bell checkpoint_bell;
    /* Held by a checkpoint, and by a request that runs alone: an erasure's own checkpoint (the
     * WAL truncated) never meets the checkpointer's, which would make it fail as busy. */
    pthread_mutex_t checkpoint_lock;
    pthread_t syncer;
    pthread_mutex_t sync_lock;
    pthread_cond_t sync_wake;
    struct job *unsynced, *unsynced_tail; /* committed, answered once the WAL is synced */
    int sync_stopping;
    _Atomic int log_errno; /* the disk refused a sync (its error number): no write runs */
};

static int respond_error(struct api_call *c, int err, struct api_response *r)
{
    api_response_cleanup(r);
    return api_call_respond(c, err, r);
}

/* A kept answer, given again: a result that says whether it was replayed now says so, as the
 * Idempotent-Replayed header does. Other bodies go back as they were kept. */
static char *replayed_body(const char *kept)
{
    json_t *o = json_loads(kept, 0, NULL);
    char *body = NULL;
    if (json_is_object(o) && json_object_get(o, "replayed") &&
        json_object_set_new(o, "replayed", json_true()) == 0)
        body = api_json_dump(o, NULL);
    json_decref(o);
    return body ? body : strdup(kept);
}

/* Answers from the reply register when the key was seen. Returns 1 when answered. */
static int replay(patron_store *s, struct api_call *c, struct api_response *r, int *err)
{
    static __thread char body[PATRON_REPLY_MAX + 1];
    int status = 0;
    *err = patron_reply_get(s, c->idempotency_key, c->request_hash, &status, body, sizeof body);
    if (*err == PATRON_ENOTFOUND) {
        *err = 0;
        return 0;
    }
    if (*err != 0) {
        snprintf(c->detail, sizeof c->detail, "%s", patron_store_detail(s));
        return 0;
    }
    memset(r, 0, sizeof *r);
    r->body = replayed_body(body);
    if (!r->body) {
        *err = PATRON_ENOMEM;
        return 0;
    }
    r->len = strlen(r->body);
    r->status = status;
    /* A kept answer of 400 and above is a problem whose work stood (a reprint while the printer
     * was down): it goes back as it went the first time. */
    r->content_type = status >= 400 ? "application/problem+json" : "application/json";
    r->replayed = 1;
    return 1;
}

/* The audit line of a request: which till did what, with which outcome. */
static int audit(patron_store *s, const struct api_call *c, int err, int status)
{
    char op[64];
    snprintf(op, sizeof op, "%s %s", c->route->method, c->route->pattern);
    int outcome = err ? err : c->soft_err;
    return patron_audit_record(s, c->terminal.terminal_id, op,
                               outcome ? patron_err_name(outcome) : "ok", status);
}

/* Runs one request inside the open batch: its own savepoint, its reply kept for its key, and
 * its audit line, which is written even when the request failed. */
static void run_job(struct api_writer *w, struct job *j)
{
    patron_store *s = w->store;
    struct api_call *c = j->call;
    int err = j->preset_err;
    patron_store_set_till(s, c->terminal.terminal_id); /* keys are the till's own */
    patron_store_clear_detail(s); /* the request before, maybe another till's, left its own */
    if (patron_store_savepoint(s) != 0) {
        api_call_respond(c, PATRON_EDB, j->resp);
        return;
    }
    if (err == 0 && c->idempotency_key && replay(s, c, j->resp, &err))
        goto audit;
    if (err == 0) {
        err = c->route->handler(c, s);
        if (err != 0 && !c->detail[0])
            snprintf(c->detail, sizeof c->detail, "%s", patron_store_detail(s));
    }
    /* The library undoes its own work when it refuses; what it keeps on purpose (the log of
     * wrong voucher codes behind the lock-out) stays when the handler says so. */
    if (err != 0 && !c->keep_on_error)
        patron_store_savepoint_rollback(s);
    if (api_call_respond(c, err, j->resp) != 0)
        err = PATRON_ENOMEM;
    if (err == 0 && c->idempotency_key) {
        int put = patron_reply_put(s, c->idempotency_key, c->request_hash, j->resp->status,
                                   j->resp->body);
        if (put != 0) {
            patron_store_savepoint_rollback(s);
            snprintf(c->detail, sizeof c->detail, "%s", patron_store_detail(s));
            respond_error(c, err = put, j->resp);
        }
    }
audit:
    if (audit(s, c, err, j->resp->status) != 0) {
        patron_store_savepoint_rollback(s);
        c->detail[0] = '\0';
        respond_error(c, PATRON_EDB, j->resp);
    }
    patron_store_savepoint_release(s);
}

/* A request's answer once the disk has refused to sync the WAL: what failed, then `what_now`. */
static void refuse_for_the_disk(struct job *j, int os_err, const char *what_now)
{
    snprintf(j->call->detail, sizeof j->call->detail,
             "the disk failed to keep the store's log (%s): %s", strerror(os_err), what_now);
    respond_error(j->call, PATRON_EDB, j->resp);
}

/* After the disk refused to sync the WAL, no request runs: what it would write could not be
 * promised to be kept. */
static int refuse_after_log_failure(struct api_writer *w, struct job *batch)
{
    int os_err = atomic_load(&w->log_errno);
    if (os_err == 0)
        return 0;
    for (struct job *j = batch; j; j = j->next)
        refuse_for_the_disk(j, os_err, "no write is taken until the service is started again");
    return 1;
}

static void run_batch(struct api_writer *w, struct job *batch, size_t n)
{
    int64_t t0 = api_monotonic_ns();
    int err = patron_store_batch_begin(w->store);
    if (err == 0) {
        for (struct job *j = batch; j; j = j->next)
            run_job(w, j);
        err = patron_store_batch_commit(w->store);
    }
    if (err != 0) {
        /* Nothing of the batch is durable: no request may be told it was done. */
        patron_store_batch_rollback(w->store);
        api_log("event=commit_failed error=%s requests=%zu", patron_err_name(err), n);
        for (struct job *j = batch; j; j = j->next) {
            j->call->detail[0] = '\0';
            respond_error(j->call, err, j->resp);
        }
    }
    api_metrics_batch(n, err == 0, api_monotonic_ns() - t0);
}

/* A request whose route runs outside any batch (and that is to run, not only be audited). */
static int runs_alone(const struct job *j)
{
    return j->call->route->exec == API_WRITE_ALONE && j->preset_err == 0;
}

/* Runs a request outside any transaction: the handler commits its own work, then the reply kept
 * for its key and its audit line commit together. Were that second commit to fail, the work
 * stands and the till is told of the failure: its retry with the same key runs the request
 * again, which such handlers allow (erasing an erased member only finishes its checkpoint). */
static void run_alone(struct api_writer *w, struct job *j)
{
    patron_store *s = w->store;
    struct api_call *c = j->call;
    int64_t t0 = api_monotonic_ns();
    patron_store_set_till(s, c->terminal.terminal_id); /* keys are the till's own */
    patron_store_clear_detail(s);
    int err = 0, replayed = c->idempotency_key && replay(s, c, j->resp, &err);
    if (!replayed) {
        if (err == 0 && (err = c->route->handler(c, s)) != 0 && !c->detail[0])
            snprintf(c->detail, sizeof c->detail, "%s", patron_store_detail(s));
        if (api_call_respond(c, err, j->resp) != 0)
            err = PATRON_ENOMEM;
    }
    int rec = patron_store_batch_begin(s);
    if (rec == 0 && !replayed && err == 0 && c->idempotency_key)
        rec = patron_reply_put(s, c->idempotency_key, c->request_hash, j->resp->status,
                               j->resp->body);
    if (rec == 0)
        rec = audit(s, c, err, j->resp->status);
    if (rec == 0)
        rec = patron_store_batch_commit(s);
    if (rec != 0) {
        patron_store_batch_rollback(s);
        api_log("event=commit_failed error=%s requests=1", patron_err_name(rec));
        snprintf(c->detail, sizeof c->detail,
                 "the request ran but its record was not kept; send it again with the same key");
        respond_error(c, rec, j->resp);
    }
    api_metrics_batch(1, rec == 0, api_monotonic_ns() - t0);
}

/* Rings the checkpointer each time the WAL has grown by CHECKPOINT_PAGES since it was rung (as
 * SQLite would after a commit; a WAL that cannot start again while readers use it is copied in
 * steps of that size, not after every batch), and starts counting again when the WAL restarts. */
static void checkpoint_due(struct api_writer *w)
{
    unsigned pages = patron_store_wal_pages(w->store);
    if (pages < w->wal_pages)
        w->ring_at = CHECKPOINT_PAGES;
    w->wal_pages = pages;
    if (pages >= w->ring_at) {
        api_bell_ring(&w->checkpoint_bell);
        w->ring_at = pages + CHECKPOINT_PAGES;
    }
}

/* One checkpoint on `s` under the lock, keeping what it left. */
static void checkpoint_on(struct api_writer *w, patron_store *s)
{
    unsigned left = 0;
    int err = patron_store_checkpoint_left(s, &left);
    if (err == 0)
        atomic_store(&w->wal_left, left);
    else if (err != -EBUSY) /* busy: another checkpoint runs; the next ring retries */
        api_log("event=checkpoint_failed error=%s", patron_err_name(err));
}

/* The WAL starts again from its beginning only at a transaction that begins with every frame
 * copied back into the database and no reader in the WAL. The checkpointer copies in the
 * background, but while sales keep coming the writer adds frames as it copies, so the copy never
 * ends and the WAL grew without end under a steady load (a gigabyte a minute at 16 busy tills,
 * and its index, mapped into the service, with it). So past RESTART_PAGES, once the checkpointer
 * has left little (FINISH_PAGES) uncopied, the writer finishes the copy itself between batches,
 * and its next transaction starts the WAL again. While a report waits for that (see
 * api_writer_settle_wal) the writer finishes whatever is left: on a large store the
 * checkpointer's own copy, with its sync, takes long enough that sales add more than
 * FINISH_PAGES meanwhile. A checkpoint already running is left to finish: the next batch tries
 * again. */
static void restart_wal_due(struct api_writer *w)
{
    if (w->wal_pages < RESTART_PAGES ||
        (atomic_load(&w->wal_left) > FINISH_PAGES && !atomic_load(&w->settling)) ||
        pthread_mutex_trylock(&w->checkpoint_lock) != 0)
        return;
    checkpoint_on(w, w->store);
    pthread_mutex_unlock(&w->checkpoint_lock);
}

/* Runs the requests taken off the queue: a batch, or one request that runs alone. */
static void run_taken(struct api_writer *w, struct job *batch, size_t n)
{
    if (refuse_after_log_failure(w, batch))
        return;
    if (runs_alone(batch)) {
        pthread_mutex_lock(&w->checkpoint_lock);
        run_alone(w, batch);
        pthread_mutex_unlock(&w->checkpoint_lock);
    } else
        run_batch(w, batch, n);
}

static void *writer_main(void *arg)
{
    struct api_writer *w = arg;
    pthread_setname_np(pthread_self(), "writer"); /* as ps, top and perf show it */
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping) {
            w->sleeping = 1;
            pthread_cond_wait(&w->wake, &w->lock);
            w->sleeping = 0;
        }
        if (!w->head)
            break;
        struct job *batch = w->head, *last = batch;
        size_t n = 1;
        /* A request that runs alone is a batch of its own, and ends the batch before it. */
        while (!runs_alone(batch) && last->next && !runs_alone(last->next) &&
               n < w->cfg->batch_max) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        api_metrics_queue_depth(-(long)n);
        pthread_mutex_unlock(&w->lock);
        run_taken(w, batch, n);
        /* Every commit SQLite made on the connection, whoever asked for it (the library counts
         * them): the proof that requests share commits does not rest on the writer's own
         * bookkeeping. Counted before anyone of the batch is answered. */
        unsigned long long commits = patron_store_commits(w->store);
        api_metrics_db_commits(commits - w->commits);
        w->commits = commits;
        checkpoint_due(w);
        restart_wal_due(w);
        pthread_mutex_lock(&w->sync_lock);
        if (w->unsynced_tail)
            w->unsynced_tail->next = batch;
        else
            w->unsynced = batch;
        w->unsynced_tail = last;
        pthread_cond_signal(&w->sync_wake);
        pthread_mutex_unlock(&w->sync_lock);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* Syncs the WAL for the requests of every batch committed since the last sync, then answers
 * them; a refusal of the disk is each one's answer, and the writer's from then on. */
static void sync_and_answer(struct api_writer *w, struct job *jobs)
{
    int os_err = atomic_load(&w->log_errno);
    if (os_err == 0 && patron_store_sync_log(w->store, &os_err) != 0) {
        atomic_store(&w->log_errno, os_err);
        api_log("event=log_sync_failed error=%s", strerror(os_err));
    }
    for (struct job *j = jobs, *next; j; j = next) {
        next = j->next; /* j belongs to its waiter once posted */
        if (os_err != 0 && j->resp->status < 400)
            refuse_for_the_disk(j, os_err,
                                "this request may not have been kept; send it again with the "
                                "same key once the service is started again");
        sem_post(&j->done);
    }
}

static void *syncer_main(void *arg)
{
    struct api_writer *w = arg;
    pthread_setname_np(pthread_self(), "syncer"); /* as ps, top and perf show it */
    pthread_mutex_lock(&w->sync_lock);
    for (;;) {
        while (!w->unsynced && !w->sync_stopping)
            pthread_cond_wait(&w->sync_wake, &w->sync_lock);
        struct job *jobs = w->unsynced;
        if (!jobs)
            break;
        w->unsynced = w->unsynced_tail = NULL;
        pthread_mutex_unlock(&w->sync_lock);
        sync_and_answer(w, jobs);
        pthread_mutex_lock(&w->sync_lock);
    }
    pthread_mutex_unlock(&w->sync_lock);
    return NULL;
}

int api_writer_submit(struct api_writer *w, struct api_call *c, int preset_err,
                      struct api_response *r)
{
    struct job j = {.call = c, .preset_err = preset_err, .resp = r};
    memset(r, 0, sizeof *r);
    if (sem_init(&j.done, 0, 0) != 0)
        return -errno;
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        sem_destroy(&j.done);
        return -ESHUTDOWN;
    }
    /* The queue holds &j only until the worker takes the batch off it, which is before it posts
     * j.done; this function returns only after that, so no pointer to j outlives it. */
    if (w->tail)
        w->tail->next = &j; /* cppcheck-suppress autoVariables */
    else
        w->head = &j; /* cppcheck-suppress autoVariables */
    w->tail = &j;     /* cppcheck-suppress autoVariables */
    api_metrics_queue_depth(1);
    api_metrics_pending_writes(1);
    if (w->sleeping)
        pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    while (sem_wait(&j.done) != 0) /* EINTR only */
        ;
    api_metrics_pending_writes(-1);
    sem_destroy(&j.done); /* glibc's sem_post touches nothing once the waiter can return */
    return 0;
}

static void *checkpointer_main(void *arg)
{
    struct api_writer *w = arg;
    pthread_setname_np(pthread_self(), "checkpoint"); /* as ps, top and perf show it */
    while (!api_bell_wait(&w->checkpoint_bell, CHECKPOINT_POLL_S)) {
        pthread_mutex_lock(&w->checkpoint_lock);
        checkpoint_on(w, w->checkpoints);
        pthread_mutex_unlock(&w->checkpoint_lock);
    }
    return NULL;
}

/* A reader's snapshot keeps the WAL from starting again from its beginning, and reports asked
 * one after another (a dashboard, a busy back office) left it no moment to: the WAL and its index,
 * which the service maps, grew with every sale for as long as reports came, to 3.8 GB and 7 MiB
 * in three minutes of 800 sales a second. So a report, holding its turn but no snapshot yet,
 * waits while the WAL is past RESTART_PAGES and sales keep coming: the writer finishes copying
 * it back and its next transaction starts it again (restart_wal_due), a batch or two. It waits
 * at most SETTLE_MAX_MS; when no sale is committed for SETTLE_IDLE_MS, the WAL does not grow and
 * it goes on. */
void api_writer_settle_wal(struct api_writer *w)
{
    const struct timespec step = {0, SETTLE_STEP_MS * 1000000L};
    if (patron_store_wal_pages(w->store) <= RESTART_PAGES)
        return;
    unsigned long long commits = patron_store_commits(w->store);
    atomic_fetch_add(&w->settling, 1);
    for (int waited = 0, idle = 0; waited < SETTLE_MAX_MS && idle < SETTLE_IDLE_MS;
         waited += SETTLE_STEP_MS) {
        nanosleep(&step, NULL);
        if (patron_store_wal_pages(w->store) <= RESTART_PAGES)
            break;
        unsigned long long now = patron_store_commits(w->store);
        idle = now == commits ? idle + SETTLE_STEP_MS : 0;
        commits = now;
    }
    atomic_fetch_sub(&w->settling, 1);
}

/* Lets the syncer answer what it still holds, then ends it. */
static void stop_syncer(struct api_writer *w)
{
    pthread_mutex_lock(&w->sync_lock);
    w->sync_stopping = 1;
    pthread_cond_signal(&w->sync_wake);
    pthread_mutex_unlock(&w->sync_lock);
    pthread_join(w->syncer, NULL);
}

int api_writer_start(const struct api_settings *cfg, struct api_writer **out)
{
    struct api_writer *w = calloc(1, sizeof *w);
    int err;
    if (!w)
        return PATRON_ENOMEM;
    w->cfg = cfg;
    if ((err = api_store_open(cfg, &w->store)) != 0 ||
        (err = patron_store_defer_sync(w->store)) != 0 ||
        (err = api_store_open(cfg, &w->checkpoints)) != 0)
        goto out;
    patron_store_defer_checkpoints(w->store);
    w->ring_at = CHECKPOINT_PAGES;
    w->commits = patron_store_commits(w->store);
    pthread_mutex_init(&w->checkpoint_lock, NULL);
    if ((err = api_bell_start(&w->checkpoint_bell, &w->checkpointer, checkpointer_main, w)) != 0) {
        pthread_mutex_destroy(&w->checkpoint_lock);
        goto out;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_mutex_init(&w->sync_lock, NULL);
    pthread_cond_init(&w->sync_wake, NULL);
    if ((err = pthread_create(&w->syncer, NULL, syncer_main, w)) != 0) {
        err = -err;
        goto out_threads;
    }
    if ((err = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
        err = -err;
        stop_syncer(w);
        goto out_threads;
    }
    *out = w;
    return 0;
out_threads:
    pthread_cond_destroy(&w->sync_wake);
    pthread_mutex_destroy(&w->sync_lock);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    api_bell_end(&w->checkpoint_bell, w->checkpointer);
    pthread_mutex_destroy(&w->checkpoint_lock);
out:
    patron_store_close(w->checkpoints);
    patron_store_close(w->store);
    free(w);
    return err;
}

void api_writer_stop(struct api_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    stop_syncer(w);
    pthread_cond_destroy(&w->sync_wake);
    pthread_mutex_destroy(&w->sync_lock);
    api_bell_end(&w->checkpoint_bell, w->checkpointer);
    pthread_mutex_destroy(&w->checkpoint_lock);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    patron_store_close(w->checkpoints);
    patron_store_close(w->store);
    free(w);
}
