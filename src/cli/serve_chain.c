/* SPDX-License-Identifier: MIT */
/* `patron serve`'s read of the chain for the back office's chain screen (GET /v1/chain), on a
 * link of the service's pool (link_pool.h): every store of the chain and the conflicts this store
 * is one of the stores of, as head office lets a store's own role read them (hq_chain_stores(),
 * hq_chain_conflicts()), in the JSON of `patron hq stores` and `patron hq conflicts`, each
 * conflict with the sentence the CLI prints for it. */
#include <stddef.h>

#include "cli.h"

#ifdef PATRON_HAVE_HQ
#include "hq.h"
#include "link_pool.h"

struct chain_read {
    json_t *stores;
    json_t *conflicts;
};

static int store_one(const struct patron_hq_store *st, void *arg)
{
    struct chain_read *r = arg;
    return json_array_append_new(r->stores, cli_hq_store_json(st)) == 0 ? 0 : 1;
}

static int conflict_one(const struct patron_hq_conflict *k, void *arg)
{
    struct chain_read *r = arg;
    char sentence[1024];
    json_t *o = cli_hq_conflict_json(k);
    patron_hq_conflict_sentence(k, sentence, sizeof sentence);
    if (o)
        json_object_set_new(o, "sentence", json_string(sentence));
    return json_array_append_new(r->conflicts, o) == 0 ? 0 : 1;
}

/* On one link; the pool may run it a second time on a fresh link, so it starts afresh. */
static int read_on(patron_hq *h, void *arg, char *detail, size_t len)
{
    struct chain_read *r = arg;
    json_array_clear(r->stores);
    json_array_clear(r->conflicts);
    int rc = patron_hq_chain_stores_each(h, store_one, r, detail, len);
    if (rc == 0)
        rc = patron_hq_chain_conflicts_each(h, conflict_one, r, detail, len);
    return rc;
}

int cli_serve_chain_read(struct patron_hq_pool *p, json_t **stores, json_t **conflicts,
                         char *detail, size_t len)
{
    struct chain_read r = {json_array(), json_array()};
    int rc =
        r.stores && r.conflicts ? patron_hq_pool_run(p, read_on, &r, detail, len) : PATRON_ENOMEM;
    if (rc != 0) {
        json_decref(r.stores);
        json_decref(r.conflicts);
        return rc;
    }
    *stores = r.stores;
    *conflicts = r.conflicts;
    return 0;
}
#endif
