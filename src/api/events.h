/* SPDX-License-Identifier: MIT */
/* The tills' event streams (GET /v1/events, Server-Sent Events): a bus per running service with
 * a bounded queue per open stream. Publishing never blocks: a stream whose reader is slow loses
 * its oldest events and is told how many ("event: lost"). A quiet stream gets a heartbeat
 * comment so that proxies and the service's own idle deadlines see it alive. Every call is
 * thread-safe. */
#ifndef PATRON_API_EVENTS_H
#define PATRON_API_EVENTS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

struct MHD_Response;

/* The part of the running service that carries events. */
struct patron_server;

#define EVENTS_QUEUE 64   /* events kept per stream */
#define EVENTS_PER_TILL 4 /* streams open at once per till */
#define EVENTS_HEARTBEAT_MS 15000

/* heartbeat_ms: how often a quiet stream gets a comment (0: EVENTS_HEARTBEAT_MS). */
struct patron_server *patron__events_new(unsigned heartbeat_ms);
/* Ends every stream (their readers return) and refuses new ones; NULL does nothing. */
void patron__events_close(struct patron_server *srv);
/* Frees the bus once no stream is open any more; NULL does nothing. */
void patron__events_free(struct patron_server *srv);

/* Publishes one event to the till's streams; till_id 0 goes to every till's. `type` is "scan",
 * "sale", "redemption", "refund" or "print"; `data` (a JSON object, not stolen) becomes the
 * event's data with "type", "till_id" and "at" (ISO 8601) added. */
void patron__events_publish(struct patron_server *srv, int64_t till_id, const char *type,
                            const json_t *data);

/* A stream for the till: a response whose body is the stream. Returns NULL and sets *err
 * (PATRON_ELIMIT: EVENTS_PER_TILL streams already open for this till; -ESHUTDOWN; ENOMEM). */
/* fd: the connection's socket (-1 when unknown), watched so that a stream whose client hung
 * up gives its place back at once. */
struct MHD_Response *patron__events_response(struct patron_server *srv, int64_t till_id, int fd,
                                             int *err);

/* The stream itself, as the response's body reads it (tests use it directly): subscribe (the
 * same errors as patron__events_response), read (waits for the next event or the heartbeat;
 * returns bytes, or MHD's END_OF_STREAM once the bus closed, END_WITH_ERROR when the client hung
 * up), unsubscribe. */
struct patron_stream;
int patron__events_subscribe(struct patron_server *srv, int64_t till_id, int fd,
                             struct patron_stream **out);
ssize_t patron__events_read(struct patron_stream *st, char *buf, size_t max);
void patron__events_unsubscribe(struct patron_stream *st);

/* The route's handler: marks the call as a stream (server.c then answers with
 * patron__events_response). */
struct api_call;
struct patron_store;
int api_h_events(struct api_call *c, struct patron_store *s);

/* Publishes what a committed write did (a sale, a redemption, a refund) from its JSON reply;
 * other routes publish nothing. */
void patron__events_after_write(struct patron_server *srv, const struct api_call *c,
                                const char *body, size_t len);

/* Streams open now, and events lost by slow readers so far (metrics, tests). */
unsigned patron__events_streams(struct patron_server *srv);

#endif
