/* SPDX-License-Identifier: MIT */
/* Head office links kept open for a long-running process (`patron serve`): a small, bounded,
 * thread-safe pool of patron_hq connections to one URL, so an online claim does not pay a login
 * (a TCP handshake, SCRAM, a backend's start) each time. A thread takes a link, uses it and gives
 * it back. Every link is made by patron_hq_connect, so the URL's TLS settings and the checks
 * before connecting apply to pooled links exactly as to one-shot ones. */
#ifndef PATRON_HQ_LINK_POOL_H
#define PATRON_HQ_LINK_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "hq.h"

typedef struct patron_hq_pool patron_hq_pool;

/* What the pool did since it opened. */
struct patron_hq_pool_stats {
    int64_t connects; /* links made (logins at head office) */
    int64_t reuses;   /* uses of a link kept open */
    int64_t dropped;  /* links closed because they failed (head office restarted, link cut) */
    int64_t retries;  /* calls retried on a fresh link after a kept one failed */
    unsigned open;    /* links open now, in use or idle */
};

/* A pool for head office `url`: at most `max_links` open at once (1 or more); a link idle for
 * longer than `idle_s` seconds (0: never) is closed instead of being used again. No link is made
 * before the first call. Returns 0, PATRON_EINVAL or PATRON_ENOMEM. */
int patron_hq_pool_open(const char *url, unsigned max_links, unsigned idle_s, patron_hq_pool **out);
/* Closes every link; no call may be running. NULL is a no-op. */
void patron_hq_pool_close(patron_hq_pool *p);
void patron_hq_pool_stats(patron_hq_pool *p, struct patron_hq_pool_stats *out);

/* One call on a link: its result code, with a sentence in detail. */
typedef int (*patron_hq_pool_fn)(patron_hq *h, void *arg, char *detail, size_t len);

/* Runs fn on a link of the pool: an idle one when there is one, else a new one when fewer than
 * max_links are open, else the first one given back (waiting 10 s at most: PATRON_EDB, all busy).
 * When a kept link turns out broken (fn failed and the connection is gone), it is dropped and fn
 * runs once more on a fresh link; only that second failure is returned. So fn must be safe to
 * run twice (head office's claims are idempotent per key). A failure to connect is returned as
 * patron_hq_connect's code and sentence. */
int patron_hq_pool_run(patron_hq_pool *p, patron_hq_pool_fn fn, void *arg, char *detail,
                       size_t len);

/* patron_hq_claim, patron_hq_claim_release, patron_hq_claim_refund, patron_hq_voucher_claim
 * and patron_hq_voucher_release on a link of the pool, with the same codes; a code other than
 * the claim's own refusal means head office could not be asked. */
int patron_hq_pool_claim(patron_hq_pool *p, const char *member_uid, int64_t points,
                         int64_t local_points, const char *key, char *detail, size_t len);
int patron_hq_pool_claim_release(patron_hq_pool *p, const char *key, char *detail, size_t len);
int patron_hq_pool_claim_refund(patron_hq_pool *p, const char *member_uid, int64_t points,
                                int64_t local_points, int clamp, const char *key, int64_t *taken,
                                int *fresh, char *detail, size_t len);
int patron_hq_pool_voucher_claim(patron_hq_pool *p, int64_t key_id, int64_t voucher_id,
                                 const char *key, char *detail, size_t len);
int patron_hq_pool_voucher_release(patron_hq_pool *p, const char *key, char *detail, size_t len);

#endif
