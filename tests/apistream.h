/* SPDX-License-Identifier: MIT */
/* A till's event stream (GET /v1/events) read by a test: a thread holds the stream open with
 * libcurl and keeps what arrives, so a test can wait until a text appears on it. Waiting is for
 * events, never for time: a wait fails only after a generous limit on a busy machine. */
#ifndef PATRON_TEST_APISTREAM_H
#define PATRON_TEST_APISTREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#define APIT_STREAM_WAIT_S 60

struct apit_stream {
    pthread_t thread;
    int port;
    char token[64];
    pthread_mutex_t lock;
    char *buf;
    size_t len;
    long status;
    atomic_int stop, done;
};

/* Opens the till's stream (the till's token) on the service at `port`. */
void apit_stream_open(struct apit_stream *st, int port, const char *token);
/* Opens it again until the service says it is open (a stream closed just before may hold its
 * place until the service sees the hang-up). */
void apit_stream_open_surely(struct apit_stream *st, int port, const char *token);
void apit_stream_close(struct apit_stream *st);
/* 1 when the stream so far carries `text`. */
int apit_stream_has(struct apit_stream *st, const char *text);
/* Waits until the stream carries `text`; the test fails (with what came) after the limit. */
void apit_stream_wait(struct apit_stream *st, const char *text);
/* 1 when the file at `path` (a service's log) holds `text` in its first 64 KiB. */
int apit_file_has(const char *path, const char *text);
/* A short pause between looks (20 ms). */
void apit_nap(void);

#endif
