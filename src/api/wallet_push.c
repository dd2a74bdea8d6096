/* SPDX-License-Identifier: MIT */
/* The counter service's wallet push worker: one thread with a store handle of its own runs the
 * queue that `patron card push` runs (patron_wallet_push_queue, then patron_wallet_push_deliver
 * to Apple's push service through libcurl), woken after each write and every
 * WALLET_PUSH_POLL_S seconds, so a balance change reaches the phones without a timer. A refused
 * or failed push stays queued; after a failure the worker waits out the poll interval before it
 * tries again, so a push service that is down is not asked after every sale. Runs only with the
 * wallet push settings (wallet_pass_type_id, and the pass certificate and key for an https
 * wallet_apns_url). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "bell.h"

#define WALLET_PUSH_POLL_S 60
#define WALLET_PUSH_TIMEOUT_S 30L

struct api_wallet_push {
    const struct api_settings *cfg;
    patron_store *store;
    struct api_apns apns; /* the sender, its bell the worker's own */
    pthread_t thread;
    struct api_bell bell;
};

static int progress_stop(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return ctx && api_bell_stopping(ctx); /* non-zero aborts the transfer: the push stays queued */
}

int api_apns_send(void *ctx, const char *push_token, const char *pass_type, char *why,
                  size_t why_len)
{
    struct api_apns *p = ctx;
    char url[1024], topic[300];
    long status = 0;
    struct curl_slist *headers = NULL;
    snprintf(url, sizeof url, "%s/3/device/%s", p->url, push_token);
    snprintf(topic, sizeof topic, "apns-topic: %s", pass_type);
    headers = curl_slist_append(headers, topic);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_reset(p->curl);
    curl_easy_setopt(p->curl, CURLOPT_URL, url);
    curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, "{}");
    curl_easy_setopt(p->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, WALLET_PUSH_TIMEOUT_S);
    curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(p->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFOFUNCTION, progress_stop);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFODATA, p->bell);
    if (p->cert && p->key) {
        curl_easy_setopt(p->curl, CURLOPT_SSLCERT, p->cert);
        curl_easy_setopt(p->curl, CURLOPT_SSLKEY, p->key);
    }
    CURLcode rc = curl_easy_perform(p->curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK)
        snprintf(why, why_len, "Apple's push service at %s: %s", p->url, curl_easy_strerror(rc));
    else if (status != 200)
        snprintf(why, why_len, "Apple's push service answered %ld", status);
    return rc == CURLE_OK && status == 200 ? 0 : -1;
}

/* One round: queue the pushes of passes that changed, deliver the unsent. Returns 1 when a
 * push failed (kept for a later round). */
static int push_round(struct api_wallet_push *w)
{
    int64_t queued = 0, sent = 0, failed = 0;
    int err = patron_wallet_push_queue(w->store, &queued);
    if (err == 0)
        err = patron_wallet_push_deliver(w->store, api_apns_send, &w->apns, &sent, &failed);
    if (err != 0) {
        api_log("event=wallet_push_failed error=%s detail=\"%.150s\"", patron_err_name(err),
                patron_store_detail(w->store));
        return 1;
    }
    if (failed)
        api_log("event=wallet_push_refused queued=%lld sent=%lld failed=%lld", (long long)queued,
                (long long)sent, (long long)failed);
    return failed != 0;
}

static void *wallet_push_main(void *arg)
{
    struct api_wallet_push *w = arg;
    while (!api_bell_stopping(&w->bell)) {
        if (push_round(w)) {
            /* a failure: the next try after the poll interval, whatever rings meanwhile */
            int64_t until = api_monotonic_ns() + (int64_t)WALLET_PUSH_POLL_S * 1000000000;
            while (!api_bell_stopping(&w->bell) && api_monotonic_ns() < until)
                api_bell_wait(&w->bell, 1);
            continue;
        }
        api_bell_wait(&w->bell, WALLET_PUSH_POLL_S);
    }
    return NULL;
}

static int enabled(const struct api_settings *cfg)
{
    const char *url = cfg->apns_url;
    if (!url || !*url || !cfg->wallet.pass_type_id || !*cfg->wallet.pass_type_id)
        return 0;
    return strncmp(url, "https://", 8) != 0 || (cfg->wallet.pass_cert && cfg->wallet.pass_key);
}

int api_wallet_push_start(const struct api_settings *cfg, struct api_wallet_push **out)
{
    struct api_wallet_push *w;
    int err;
    *out = NULL;
    if (!enabled(cfg))
        return 0;
    if (!(w = calloc(1, sizeof *w)))
        return PATRON_ENOMEM;
    w->cfg = cfg;
    w->apns = (struct api_apns){NULL, cfg->apns_url, cfg->wallet.pass_cert, cfg->wallet.pass_key,
                                &w->bell};
    if (!(w->apns.curl = curl_easy_init())) {
        err = PATRON_ENOMEM;
        goto out;
    }
    if ((err = api_store_open(cfg, &w->store)) != 0)
        goto out;
    if ((err = api_bell_start(&w->bell, &w->thread, wallet_push_main, w)) != 0)
        goto out;
    *out = w;
    return 0;
out:
    patron_store_close(w->store);
    if (w->apns.curl)
        curl_easy_cleanup(w->apns.curl);
    free(w);
    return err;
}

void api_wallet_push_wake(struct api_wallet_push *w)
{
    if (w)
        api_bell_ring(&w->bell);
}

void api_wallet_push_stop(struct api_wallet_push *w)
{
    if (!w)
        return;
    api_bell_end(&w->bell, w->thread);
    patron_store_close(w->store);
    curl_easy_cleanup(w->apns.curl);
    free(w);
}
