/* SPDX-License-Identifier: MIT */
/* The idempotency register: every write names a key; the request is hashed canonically (SHA-256
 * of length-prefixed fields), so the same key with the same request finds the first result and
 * the same key with another request is refused. Keys are kept. Never installed. */
#ifndef PATRON_IDEMPOTENCY_H
#define PATRON_IDEMPOTENCY_H

#include <openssl/evp.h>

#include "core/store_internal.h"

#define PATRON__IDEM_KEY_MAX 127

/* The request's fields are gathered in `buf` and handed to SHA-256 a buffer at a time, not a
 * field at a time: the digest is the same, at a fraction of the calls. */
struct patron__idem {
    const char *op;
    const char *key;
    EVP_MD_CTX *md;
    unsigned char hash[32];
    size_t used;
    unsigned char buf[512];
};

/* Starts hashing a request of operation `op` (e.g. "sale") under `key`. Returns 0, PATRON_EINVAL
 * for a missing or over-long key, or PATRON_ENOMEM. Pair with patron__idem_cleanup. */
int patron__idem_init(patron_store *s, struct patron__idem *h, const char *op, const char *key);
void patron__idem_add_str(struct patron__idem *h, const char *v);
void patron__idem_add_int(struct patron__idem *h, int64_t v);
void patron__idem_cleanup(struct patron__idem *h);

/* Inside the write's transaction: finishes the hash and looks the key up. Returns 0 with
 * *result_id = 0 when the key is new, 0 with the first result's id when it is a replay, or
 * PATRON_EIDEMPOTENCY when the key was used by another request. */
int patron__idem_check(patron_store *s, struct patron__idem *h, int64_t *result_id);

/* Inside the same transaction, after the write: records the key with its result. */
int patron__idem_record(patron_store *s, const struct patron__idem *h, int64_t result_id);

/* One idempotent write, whole, in its own transaction (a savepoint inside a batch): a key seen
 * before answers its first result again through `replay`; a new key runs `record`, which fills
 * `result` and names the result's id for the register. Commits on success, rolls back on any
 * error, and cleans up `h` either way. `result` is written by the callback; callers copy it to
 * their out-parameter only when this returns 0. A write whose key is optional (a voucher
 * redemption) passes a zeroed `h` when the request has none: `record` then runs without the
 * register. */
typedef int (*patron__idem_record_fn)(patron_store *s, const void *request, void *result,
                                      int64_t *result_id);
typedef int (*patron__idem_replay_fn)(patron_store *s, int64_t result_id, void *result);
int patron__idem_run(patron_store *s, struct patron__idem *h, const void *request,
                     patron__idem_record_fn record, patron__idem_replay_fn replay, void *result);

#endif
