/* SPDX-License-Identifier: MIT */
/* GET /v1/chain, the back office's chain screen: without a head office, {"in_chain": false};
 * with one, the chain's stores and the conflicts this store is in, read at head office through
 * the program's pool of links (cfg->chain_read), and this store's sync as /v1/health shows it.
 * Head office unreachable: 503 with a sentence; selling goes on regardless. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"

/* The sentence of head office's failure without its closing full stop. */
static void unreachable(struct api_call *c, const char *why)
{
    char text[200];
    snprintf(text, sizeof text, "%s", why[0] ? why : "no head office link in this program");
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '.' || text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    snprintf(c->detail, sizeof c->detail,
             "Head office cannot be reached: %s; the store keeps selling.", text);
}

int api_h_chain(struct api_call *c, patron_store *s)
{
    struct patron_store_info info;
    json_t *stores = NULL, *conflicts = NULL;
    char why[512] = "";
    int err = patron_store_info(s, &info);
    if (err != 0)
        return err;
    if (!c->cfg->hq || !c->cfg->hq[0])
        return api_reply(c, 200, json_pack("{s:b}", "in_chain", 0));
    err = c->cfg->chain_read ? c->cfg->chain_read(c->cfg->hq, &stores, &conflicts, why, sizeof why)
                             : PATRON_EINVAL;
    if (err == PATRON_ENOMEM)
        return err;
    if (err != 0) {
        unreachable(c, why);
        return -EHOSTUNREACH;
    }
    json_t *sync = api_sync_json();
    return api_reply(c, 200,
                     json_pack("{s:b, s:i, s:o, s:o, s:o}", "in_chain", 1, "store_id",
                               info.store_id, "stores", stores, "conflicts", conflicts, "sync",
                               sync ? sync : json_null()));
}
