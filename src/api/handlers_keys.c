/* SPDX-License-Identifier: MIT */
/* Route handlers of the keyring for the back office: the keys with their fingerprints, and a
 * rotation (a new own key signs; the previous one keeps verifying). Private keys and the files
 * that hold them never leave the server: no reply names either. */
#include <stdlib.h>

#include "handlers.h"
#include "patron/keyring.h"

#define API_KEYS_MAX 256

static json_t *key_json(const struct patron_key_info *k)
{
    return json_pack("{s:i, s:s, s:s, s:s?, s:s?, s:s, s:o, s:o}", "key_id", k->key_id, "kind",
                     k->kind, "status", k->status, "partner", k->partner[0] ? k->partner : NULL,
                     "chain_id", k->chain_id[0] ? k->chain_id : NULL, "fingerprint", k->fingerprint,
                     "created_at", patron_json_time(k->created_at), "retired_at",
                     k->retired_at ? patron_json_time(k->retired_at) : json_null());
}

int api_h_keys(struct api_call *c, patron_store *s)
{
    struct patron_key_info *v = calloc(API_KEYS_MAX, sizeof *v);
    size_t n = 0;
    int err = v ? patron_keyring_list(s, v, API_KEYS_MAX, &n) : PATRON_ENOMEM;
    if (err != 0) {
        free(v);
        return err;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < API_KEYS_MAX; i++)
        json_array_append_new(arr, key_json(&v[i]));
    free(v);
    return api_reply(c, 200, json_pack("{s:o, s:I}", "keys", arr, "count", (json_int_t)n));
}

int api_h_key_rotate(struct api_call *c, patron_store *s)
{
    int id = 0;
    int err = patron_keyring_rotate(s, 0, &id);
    if (err != 0)
        return err;
    return api_reply(c, 201, json_pack("{s:i}", "key_id", id));
}
