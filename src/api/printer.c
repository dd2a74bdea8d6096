/* SPDX-License-Identifier: MIT */
/* The counter service's printer: one thread owns the printer and a store handle of its own. It
 * sends the print queue's due jobs when a commit queued one and every few seconds (the queue's
 * back-off decides what is due), reopens the printer after it went away, and publishes the
 * printer's state for the metrics and for the routes that answer 503 while it is down. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "events.h"

#define DETAIL_MAX 200

/* One service per process: the state is process-wide, like the metrics. */
static atomic_int current_state = API_PRINTER_UNKNOWN;
static atomic_int no_printer;
/* Why "auto" prints to the virtual printer, "" when it does not (guarded by fallback_lock). */
static pthread_mutex_t fallback_lock = PTHREAD_MUTEX_INITIALIZER;
static char fallback[160]; /* as struct patron_printer_info's */

struct api_printer {
    const struct api_settings *cfg;
    patron_store *store;
    patron_printer *printer;
    struct patron_escpos_profile profile; /* of the open printer */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int woken, stopping;
    int disabled;               /* "none", or no way to open a printer: jobs wait in the queue */
    char said[DETAIL_MAX + 32]; /* the last state line logged, to log changes only */
};

enum api_printer_state api_printer_state(void)
{
    return (enum api_printer_state)atomic_load(&current_state);
}

void api_printer_fallback(char *out, size_t len)
{
    pthread_mutex_lock(&fallback_lock);
    snprintf(out, len, "%s", fallback);
    pthread_mutex_unlock(&fallback_lock);
}

/* Records (and logs, once per change) whether the printer just opened is a fallback. */
static void note_fallback(const patron_printer *printer)
{
    struct patron_printer_info info;
    patron_printer_describe(printer, &info);
    pthread_mutex_lock(&fallback_lock);
    int changed = strcmp(fallback, info.fallback) != 0;
    snprintf(fallback, sizeof fallback, "%s", info.fallback);
    pthread_mutex_unlock(&fallback_lock);
    if (changed && info.fallback[0])
        api_log("event=printer_fallback detail=\"%.150s\"", info.fallback);
}

const char *api_printer_state_name(enum api_printer_state state)
{
    static const char *const names[API_PRINTER_STATES] = {"unknown", "online", "paper_end",
                                                          "cover_open", "offline"};
    return (unsigned)state < API_PRINTER_STATES ? names[state] : "unknown";
}

int api_printer_down(void)
{
    enum api_printer_state st = api_printer_state();
    return atomic_load(&no_printer) || st == API_PRINTER_PAPER_END ||
           st == API_PRINTER_COVER_OPEN || st == API_PRINTER_OFFLINE;
}

/* Publishes a state and logs it when it changed (the detail names a device, never a person). */
static void publish(struct api_printer *p, enum api_printer_state st, const char *detail)
{
    char line[DETAIL_MAX + 32];
    atomic_store(&current_state, (int)st);
    snprintf(line, sizeof line, "%s: %.150s", api_printer_state_name(st), detail ? detail : "");
    if (strcmp(line, p->said) == 0)
        return;
    snprintf(p->said, sizeof p->said, "%s", line);
    api_log("event=printer state=%s detail=\"%.150s\"", api_printer_state_name(st),
            detail ? detail : "");
    json_t *o = json_pack("{s:s, s:s}", "state", api_printer_state_name(st), "detail",
                          detail ? detail : "");
    patron__events_publish(p->cfg->events, 0, "print", o); /* every till's stream */
    json_decref(o);
}

static enum api_printer_state state_of_status(unsigned bits)
{
    if (bits & PATRON_PRINTER_STATUS_UNKNOWN)
        return API_PRINTER_UNKNOWN;
    if (bits & PATRON_PRINTER_PAPER_END)
        return API_PRINTER_PAPER_END;
    if (bits & PATRON_PRINTER_COVER_OPEN)
        return API_PRINTER_COVER_OPEN;
    if (!(bits & PATRON_PRINTER_ONLINE) || (bits & PATRON_PRINTER_ERROR))
        return API_PRINTER_OFFLINE;
    return API_PRINTER_ONLINE;
}

static enum api_printer_state state_of_error(int err)
{
    return err == PATRON_EPAPER   ? API_PRINTER_PAPER_END
           : err == PATRON_ECOVER ? API_PRINTER_COVER_OPEN
                                  : API_PRINTER_OFFLINE;
}

/* Failures after which the device is opened afresh: it went away, hung, or another program
 * held it. Paper and cover need a person, not a new handle. */
static int needs_reopen(int err)
{
    return patron_err_kind(err) == PATRON_KIND_DEVICE && err != PATRON_EPAPER &&
           err != PATRON_ECOVER;
}

static void close_printer(struct api_printer *p)
{
    patron_printer_close(p->printer);
    p->printer = NULL;
}

static void count_pending(struct api_printer *p)
{
    size_t n = 0;
    if (patron_print_list(p->store, 1, NULL, 0, &n) == 0)
        api_metrics_print(0, 0, (int64_t)n);
}

/* Opens the printer when it is not open; returns 0 when it is. */
static int ensure_open(struct api_printer *p)
{
    char detail[DETAIL_MAX] = "";
    if (p->printer)
        return 0;
    int err = p->cfg->open_printer(p->cfg->printer_spec, p->cfg->printer_profile, p->cfg->home,
                                   &p->printer, &p->profile, detail, sizeof detail);
    if (err == 0) {
        note_fallback(p->printer);
        return 0;
    }
    p->printer = NULL;
    publish(p, state_of_error(err), detail[0] ? detail : patron_strerror(err));
    return err;
}

/* One look at the printer and the queue. */
static void print_round(struct api_printer *p)
{
    struct patron_print_run_result r;
    unsigned bits = 0;
    if (p->disabled || ensure_open(p) != 0) {
        count_pending(p);
        return;
    }
    if (patron_printer_status(p->printer, &bits) != 0) {
        publish(p, API_PRINTER_OFFLINE, "the printer does not answer a status request");
        close_printer(p);
        count_pending(p);
        return;
    }
    enum api_printer_state st = state_of_status(bits);
    int err = patron_print_run(p->store, p->printer, &p->profile, p->cfg->home, &r);
    if (err != 0) {
        api_log("event=print_queue_failed error=%s", patron_err_name(err));
        return;
    }
    api_metrics_print(r.printed, r.last_error != 0, r.pending);
    if (r.last_error && patron_err_kind(r.last_error) == PATRON_KIND_DEVICE) {
        publish(p, state_of_error(r.last_error), r.detail);
        if (needs_reopen(r.last_error))
            close_printer(p);
        return;
    }
    if (r.last_error)
        api_log("event=print_job_failed error=%s detail=\"%.150s\"", patron_err_name(r.last_error),
                r.detail);
    /* A back-end that cannot read its status has shown it works by printing. */
    publish(p, st == API_PRINTER_UNKNOWN && r.printed > 0 ? API_PRINTER_ONLINE : st, "");
}

static void deadline_in(struct timespec *ts, unsigned seconds)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += seconds;
}

static void *printer_main(void *arg)
{
    struct api_printer *p = arg;
    pthread_setname_np(pthread_self(), "printer"); /* as ps, top and perf show it */
    struct timespec until;
    for (;;) {
        print_round(p);
        pthread_mutex_lock(&p->lock);
        deadline_in(&until, p->cfg->print_poll_s ? p->cfg->print_poll_s : 5);
        while (!p->woken && !p->stopping)
            if (pthread_cond_timedwait(&p->wake, &p->lock, &until) != 0)
                break; /* time for the retries the back-off made due */
        int stop = p->stopping;
        p->woken = 0;
        pthread_mutex_unlock(&p->lock);
        if (stop)
            break;
    }
    return NULL;
}

static int init_sync(struct api_printer *p)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return PATRON_ENOMEM;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&p->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return PATRON_ENOMEM;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        pthread_cond_destroy(&p->wake);
        return PATRON_ENOMEM;
    }
    return 0;
}

int api_printer_start(const struct api_settings *cfg, struct api_printer **out)
{
    struct api_printer *p = calloc(1, sizeof *p);
    int err;
    if (!p)
        return PATRON_ENOMEM;
    p->cfg = cfg;
    p->disabled =
        !cfg->open_printer || !cfg->printer_spec || strcmp(cfg->printer_spec, "none") == 0;
    atomic_store(&no_printer, p->disabled);
    atomic_store(&current_state, p->disabled ? API_PRINTER_OFFLINE : API_PRINTER_UNKNOWN);
    if ((err = api_store_open(cfg, &p->store)) != 0)
        goto out;
    if ((err = init_sync(p)) != 0)
        goto out;
    if ((err = pthread_create(&p->thread, NULL, printer_main, p)) != 0) {
        err = -err;
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        goto out;
    }
    if (p->disabled)
        api_log("event=printer state=offline detail=\"no printer: jobs stay queued\"");
    *out = p;
    return 0;
out:
    patron_store_close(p->store);
    free(p);
    return err;
}

void api_printer_wake(struct api_printer *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->woken = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
}

void api_printer_stop(struct api_printer *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    close_printer(p);
    patron_store_close(p->store);
    free(p);
}
