/* SPDX-License-Identifier: MIT */
/* The test side of a till's event stream: see apistream.h. */
#include "apistream.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>

#include <cmocka.h>

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct apit_stream *st = arg;
    pthread_mutex_lock(&st->lock);
    char *nb = realloc(st->buf, st->len + size * n + 1);
    if (nb) {
        memcpy(nb + st->len, p, size * n);
        st->len += size * n;
        nb[st->len] = '\0';
        st->buf = nb;
    }
    pthread_mutex_unlock(&st->lock);
    return size * n;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    (void)a, (void)b, (void)c, (void)d;
    return atomic_load(&((struct apit_stream *)arg)->stop) ? 1 : 0;
}

static void *stream_main(void *arg)
{
    struct apit_stream *st = arg;
    char url[128], auth[128];
    CURL *h = curl_easy_init();
    struct curl_slist *hs = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/events", st->port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", st->token);
    hs = curl_slist_append(hs, auth);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, st);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, st);
    curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &st->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    atomic_store(&st->done, 1);
    return NULL;
}

void apit_stream_open(struct apit_stream *st, int port, const char *token)
{
    memset(st, 0, sizeof *st);
    st->port = port;
    snprintf(st->token, sizeof st->token, "%s", token);
    pthread_mutex_init(&st->lock, NULL);
    assert_int_equal(pthread_create(&st->thread, NULL, stream_main, st), 0);
}

void apit_stream_close(struct apit_stream *st)
{
    atomic_store(&st->stop, 1);
    pthread_join(st->thread, NULL);
    free(st->buf);
    pthread_mutex_destroy(&st->lock);
}

int apit_stream_has(struct apit_stream *st, const char *text)
{
    pthread_mutex_lock(&st->lock);
    int found = st->buf && strstr(st->buf, text) != NULL;
    pthread_mutex_unlock(&st->lock);
    return found;
}

void apit_nap(void)
{
    nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
}

void apit_stream_wait(struct apit_stream *st, const char *text)
{
    for (time_t end = time(NULL) + APIT_STREAM_WAIT_S; !apit_stream_has(st, text); apit_nap())
        if (time(NULL) > end || atomic_load(&st->done)) {
            fprintf(stderr, "stream (status %ld) so far:\n%s\n", st->status,
                    st->buf ? st->buf : "");
            fail_msg("no '%s' on the event stream", text);
        }
}

void apit_stream_open_surely(struct apit_stream *st, int port, const char *token)
{
    for (time_t end = time(NULL) + APIT_STREAM_WAIT_S;; apit_nap()) {
        apit_stream_open(st, port, token);
        while (!atomic_load(&st->done) && !apit_stream_has(st, ": open"))
            apit_nap();
        if (apit_stream_has(st, ": open"))
            return;
        apit_stream_close(st);
        if (time(NULL) > end)
            fail_msg("the stream never opened");
    }
}

int apit_file_has(const char *path, const char *text)
{
    char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}
