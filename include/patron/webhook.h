/* SPDX-License-Identifier: MIT */
/* Signed webhooks (Standard Webhooks 1.0): endpoints with the events they take and their signing
 * keys (HMAC-SHA256 `whsec_` secrets or Ed25519 keys, several at once during a rotation), events
 * derived from the committed outbox rows through the webhooks' own cursor, and durable deliveries
 * with a stable webhook-id, retried with back-off and jitter over about three days. Sending is the
 * caller's (libcurl in `patron serve`): this module prepares signed requests and records answers.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_WEBHOOK_H
#define PATRON_WEBHOOK_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_WEBHOOK_URL_MAX 512
#define PATRON_WEBHOOK_EVENTS_MAX 512
#define PATRON_WEBHOOK_SECRET_MAX 128 /* "whsec_..." or "whpk_..." with its NUL */
#define PATRON_WEBHOOK_SIGNATURE_MAX 1024
#define PATRON_WEBHOOK_ATTEMPTS 10 /* the first and nine retries, over about three days */

enum patron_webhook_key_kind {
    PATRON_WEBHOOK_HMAC,    /* v1: HMAC-SHA256 with a whsec_ secret */
    PATRON_WEBHOOK_ED25519, /* v1a: Ed25519; the receiver holds the whpk_ public key */
};

struct patron_webhook_def {
    const char *url;    /* https://...; http:// only to loopback (127.0.0.1, ::1, localhost) */
    const char *events; /* comma-separated event names, or "*" for all */
    int personal;       /* 1: the endpoint may receive name, e-mail and phone */
    enum patron_webhook_key_kind kind;
};

struct patron_webhook {
    int64_t id;
    char url[PATRON_WEBHOOK_URL_MAX];
    char events[PATRON_WEBHOOK_EVENTS_MAX]; /* "*" or "a,b,c" */
    int personal;
    int enabled;
    char disabled_reason[256];
    int keys; /* signing keys active now */
    int64_t created_at;
};

/* 1 when `name` is an event this module sends (member.enrolled, points.earned, ...). */
PATRON_EXPORT int patron_webhook_event_known(const char *name);

/* Adds an endpoint with its first key. `secret` receives what the receiver needs, shown once: the
 * whsec_ secret (HMAC) or the whpk_ public key (Ed25519). Events committed from now on are sent
 * to it. PATRON_EINVAL for a bad URL (plain http beyond loopback) or an unknown event. */
PATRON_EXPORT int patron_webhook_add(patron_store *s, const struct patron_webhook_def *def,
                                     int64_t *id, char secret[PATRON_WEBHOOK_SECRET_MAX])
    __attribute__((warn_unused_result));

/* Rotates an endpoint's key: a new key of `kind` signs from now on, and the keys active before
 * keep signing for `overlap_s` seconds (0: they stop now), so a receiver that has either accepts
 * every delivery meanwhile. `secret` as for add. PATRON_ENOTFOUND for an unknown endpoint. */
PATRON_EXPORT int patron_webhook_rotate(patron_store *s, int64_t id,
                                        enum patron_webhook_key_kind kind, int64_t overlap_s,
                                        char secret[PATRON_WEBHOOK_SECRET_MAX])
    __attribute__((warn_unused_result));

/* Lists the endpoints in id order: fn once per endpoint (a non-zero return stops). */
typedef int (*patron_webhook_fn)(const struct patron_webhook *w, void *ctx);
PATRON_EXPORT int patron_webhook_list(patron_store *s, patron_webhook_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* Removes an endpoint with its keys and deliveries. PATRON_ENOTFOUND when there is none. */
PATRON_EXPORT int patron_webhook_remove(patron_store *s, int64_t id)
    __attribute__((warn_unused_result));

/* Turns the outbox rows (and tier changes) committed since the webhooks' cursor into queued
 * deliveries, one per event and subscribed endpoint, and moves the cursor, in one transaction.
 * Without endpoints, or with nothing new, it writes nothing (no write lock is taken). *queued
 * (may be NULL) receives how many deliveries were queued. */
PATRON_EXPORT int patron_webhook_enqueue(patron_store *s, size_t *queued)
    __attribute__((warn_unused_result));

/* A signed request, ready to send. */
struct patron_webhook_request {
    int64_t delivery_id; /* 0 for a test event */
    int64_t endpoint_id;
    char url[PATRON_WEBHOOK_URL_MAX];
    char msg_id[96];                              /* webhook-id: the same at every attempt */
    int64_t timestamp;                            /* webhook-timestamp (the store's clock) */
    char signature[PATRON_WEBHOOK_SIGNATURE_MAX]; /* webhook-signature */
    char *body;                                   /* JSON, malloc'd: patron_webhook_request_free */
};
PATRON_EXPORT void patron_webhook_request_free(struct patron_webhook_request *r);

/* Prepares up to `max` deliveries that are due now (queued, next attempt reached, endpoint
 * enabled), oldest first; *n receives how many. Free each with patron_webhook_request_free. */
PATRON_EXPORT int patron_webhook_due(patron_store *s, struct patron_webhook_request *out,
                                     size_t max, size_t *n) __attribute__((warn_unused_result));

/* Prepares a `webhook.test` event for an endpoint (not recorded as a delivery). */
PATRON_EXPORT int patron_webhook_test_request(patron_store *s, int64_t endpoint_id,
                                              struct patron_webhook_request *out)
    __attribute__((warn_unused_result));

/* Records an attempt's outcome: http_status the receiver's answer (0 when none came: `error` says
 * why), retry_after_s its Retry-After (0 for none). 2xx delivers; 410 fails the delivery and
 * disables the endpoint; anything else schedules the next attempt with back-off and jitter (no
 * sooner than Retry-After), or fails the delivery after PATRON_WEBHOOK_ATTEMPTS attempts. */
PATRON_EXPORT int patron_webhook_record(patron_store *s, int64_t delivery_id, int http_status,
                                        int64_t retry_after_s, const char *error)
    __attribute__((warn_unused_result));

struct patron_webhook_delivery {
    int64_t id;
    int64_t endpoint_id;
    char event[32];
    char msg_id[96];
    char status[12]; /* queued, delivered, failed */
    int attempts;
    int64_t next_attempt;
    int last_status;
    char last_error[256];
    int64_t occurred_at;
    int64_t delivered_at; /* 0 when not delivered */
};

/* Lists deliveries, newest first, of one endpoint (0: all) and one status (NULL: all), at most
 * `limit`: fn once per delivery (a non-zero return stops). */
typedef int (*patron_webhook_delivery_fn)(const struct patron_webhook_delivery *d, void *ctx);
PATRON_EXPORT int patron_webhook_deliveries(patron_store *s, int64_t endpoint_id,
                                            const char *status, size_t limit,
                                            patron_webhook_delivery_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* Makes deliveries due now: one delivery (any status: a delivered one is sent again, with the
 * same webhook-id) when delivery_id > 0, else every undelivered one of endpoint_id, which is
 * enabled again. *count (may be NULL) receives how many. PATRON_ENOTFOUND when none matched. */
PATRON_EXPORT int patron_webhook_retry(patron_store *s, int64_t delivery_id, int64_t endpoint_id,
                                       size_t *count) __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif

#endif
