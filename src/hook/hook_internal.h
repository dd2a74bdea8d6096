/* SPDX-License-Identifier: MIT */
/* What the webhook files share: the store's internals, and signing a request with an endpoint's
 * active keys. Never installed. */
#ifndef PATRON_HOOK_INTERNAL_H
#define PATRON_HOOK_INTERNAL_H

#include <openssl/crypto.h>

#include "core/store_internal.h"
#include "patron/webhook.h"

/* Fills r->signature with one "v1,..." or "v1a,..." per key of the endpoint active now (newest
 * first), space-separated, over "msg_id.timestamp.body". Returns 0 or a PATRON_* code. */
int patron__webhook_sign(patron_store *s, struct patron_webhook_request *r);

#endif
