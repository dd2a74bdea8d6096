/* SPDX-License-Identifier: MIT */
/* The counter service's webhook worker: one thread with a store handle of its own turns committed
 * outbox rows into deliveries and sends the due ones with libcurl (Standard Webhooks headers,
 * timeouts, no redirects), recording each answer in a short transaction of its own. It never
 * takes part in the writer's batches and never holds a transaction while a receiver answers, so
 * a slow or dead receiver never slows a sale. Woken after each write while the store has an
 * endpoint, and every webhook_poll_s: a store without endpoints costs a write nothing here, and
 * an endpoint added meanwhile (by `patron webhook add`, another process) is seen at the next
 * timed round, which sends what was committed since the cursor, as before. */
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "bell.h"
#include "patron/webhook.h"

#define DUE_BATCH 16

struct api_webhooks {
    const struct api_settings *cfg;
    patron_store *store;
    pthread_t thread;
    struct api_bell bell;
    atomic_int listening; /* the last round saw an endpoint: writes ring the bell */
};

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n; /* the receiver's body is not kept */
}

/* Aborts a transfer when the service stops. */
static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a;
    (void)b;
    (void)c;
    (void)d;
    return ctx && atomic_load((const atomic_int *)ctx) ? 1 : 0;
}

static struct curl_slist *request_headers(const struct patron_webhook_request *r)
{
    char line[PATRON_WEBHOOK_SIGNATURE_MAX + 32];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(line, sizeof line, "webhook-id: %s", r->msg_id);
    h = h ? curl_slist_append(h, line) : NULL;
    snprintf(line, sizeof line, "webhook-timestamp: %lld", (long long)r->timestamp);
    h = h ? curl_slist_append(h, line) : NULL;
    snprintf(line, sizeof line, "webhook-signature: %s", r->signature);
    h = h ? curl_slist_append(h, line) : NULL;
    h = h ? curl_slist_append(h, "User-Agent: Patron-Webhooks/1") : NULL;
    return h;
}

static void set_options(CURL *h, const struct patron_webhook_request *r, struct curl_slist *hdr,
                        unsigned timeout_s, atomic_int *stop)
{
    curl_easy_setopt(h, CURLOPT_URL, r->url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)(timeout_s ? timeout_s : 10));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(timeout_s && timeout_s < 5 ? timeout_s : 5));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, stop);
}

int api_webhook_post(const struct patron_webhook_request *r, unsigned timeout_s, atomic_int *stop,
                     int *status, int64_t *retry_after_s, char *why, size_t cap)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = request_headers(r);
    long code = 0;
    curl_off_t after = 0;
    *status = 0;
    *retry_after_s = 0;
    why[0] = '\0';
    if (!h || !hdr) {
        snprintf(why, cap, "no memory for a webhook request");
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        return PATRON_ENOMEM;
    }
    set_options(h, r, hdr, timeout_s, stop);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
            *retry_after_s = (int64_t)after;
        *status = (int)code;
    } else {
        snprintf(why, cap, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return 0;
}

static void deliver(struct api_webhooks *w, struct patron_webhook_request *r)
{
    int status = 0;
    int64_t after = 0;
    char why[256];
    api_webhook_post(r, w->cfg->webhook_timeout_s, &w->bell.stopping, &status, &after, why,
                     sizeof why);
    if (api_bell_stopping(&w->bell) && status == 0)
        return; /* cut short by the stop: still queued, sent again at the next start */
    int err = patron_webhook_record(w->store, r->delivery_id, status, after, why);
    if (err != 0)
        api_log("event=webhook_record_failed delivery=%lld error=%s", (long long)r->delivery_id,
                patron_err_name(err));
    else if (status < 200 || status >= 300)
        api_log("event=webhook_failed delivery=%lld endpoint=%lld status=%d detail=\"%.150s\"",
                (long long)r->delivery_id, (long long)r->endpoint_id, status, why);
}

static int any_endpoint(const struct patron_webhook *e, void *ctx)
{
    (void)e;
    *(int *)ctx = 1;
    return 1; /* the first is enough */
}

/* 1 when the store has an endpoint (or cannot tell: a round then says what failed). */
static int has_endpoint(struct api_webhooks *w)
{
    int any = 0, err = patron_webhook_list(w->store, any_endpoint, &any);
    return any || (err != 0 && err != 1);
}

/* One round: queue what committed, then send what is due. Returns 1 when a full batch was due
 * (there may be more). Without an endpoint there is nothing to queue or send, and writes stop
 * ringing until a round sees one. */
static int webhook_round(struct api_webhooks *w)
{
    struct patron_webhook_request due[DUE_BATCH];
    size_t n = 0;
    int listening = has_endpoint(w);
    atomic_store(&w->listening, listening);
    if (!listening)
        return 0;
    api_metrics_webhook_round();
    int err = patron_webhook_enqueue(w->store, NULL);
    if (err == 0)
        err = patron_webhook_due(w->store, due, DUE_BATCH, &n);
    if (err != 0) {
        api_log("event=webhook_queue_failed error=%s detail=\"%.150s\"", patron_err_name(err),
                patron_store_detail(w->store));
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!api_bell_stopping(&w->bell))
            deliver(w, &due[i]);
        patron_webhook_request_free(&due[i]);
    }
    return n == DUE_BATCH;
}

static void *webhooks_main(void *arg)
{
    struct api_webhooks *w = arg;
    pthread_setname_np(pthread_self(), "webhooks"); /* as ps, top and perf show it */
    while (!api_bell_stopping(&w->bell)) {
        if (webhook_round(w))
            continue;
        api_bell_wait(&w->bell, w->cfg->webhook_poll_s); /* or the retries the back-off made due */
    }
    return NULL;
}

int api_webhooks_start(const struct api_settings *cfg, struct api_webhooks **out)
{
    struct api_webhooks *w = calloc(1, sizeof *w);
    int err;
    if (!w)
        return PATRON_ENOMEM;
    w->cfg = cfg;
    atomic_init(&w->listening, 1); /* until the first round says */
    if ((err = api_store_open(cfg, &w->store)) != 0)
        goto out;
    if ((err = api_bell_start(&w->bell, &w->thread, webhooks_main, w)) != 0)
        goto out;
    *out = w;
    return 0;
out:
    patron_store_close(w->store);
    free(w);
    return err;
}

void api_webhooks_wake(struct api_webhooks *w)
{
    if (!w || !atomic_load(&w->listening))
        return;
    api_bell_ring(&w->bell);
}

void api_webhooks_stop(struct api_webhooks *w)
{
    if (!w)
        return;
    api_bell_end(&w->bell, w->thread);
    patron_store_close(w->store);
    free(w);
}
