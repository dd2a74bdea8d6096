/* SPDX-License-Identifier: MIT */
/* A store's birth and its identity card: patron_store_init() plants the program (program.c),
 * the chain id, the store's id and name and the first signing key (keyring.c) in one
 * transaction, once; patron_store_info() reads them back. */
#include <stdio.h>
#include <string.h>

#include "core/store_internal.h"
#include "voucher/voucher_internal.h"

static int create_defaults(patron_store *s, int store_id, const char *name)
{
    unsigned char chain[16];
    char chain_hex[33], id[16];
    int err;
    if ((err = patron__program_seed(s)) != 0)
        return err;
    if ((err = patron__random(chain, sizeof chain)) != 0)
        return err;
    for (size_t i = 0; i < sizeof chain; i++)
        snprintf(chain_hex + 2 * i, 3, "%02x", chain[i]);
    snprintf(id, sizeof id, "%d", store_id);
    if ((err = patron__setting_set(s, "chain_id", chain_hex, "init")) != 0 ||
        (err = patron__setting_set(s, "store_name", name ? name : "Patron shop", "init")) != 0)
        return err;
    if ((err = patron__setting_set(s, "store_id", id, "init")) != 0)
        return err;
    return patron__card_spaces_seed(s); /* its own card number space */
}

int patron_store_init(patron_store *s, int store_id, const char *name)
{
    int err;
    if (store_id < 1 || store_id > 65535)
        return patron__fail(s, PATRON_EINVAL, "store id must be 1-65535");
    if (name && !patron__printable(name, 128))
        return patron__fail(s, PATRON_EINVAL,
                            "store name must be 1-127 bytes of UTF-8 without control characters");
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if (patron__setting_int(s, "store_id", 0) != 0) {
        patron__tx_rollback(s);
        return 0;
    }
    int key_id;
    s->store_id = store_id;
    if ((err = create_defaults(s, store_id, name)) != 0 ||
        (err = patron__keyring_ensure(s, &key_id)) != 0) {
        s->store_id = 0;
        patron__tx_rollback(s);
        return err;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    s->store_id = store_id;
    return patron__load_program_accounts(s);
}

int patron_store_info(patron_store *s, struct patron_store_info *out)
{
    struct patron_store_info info = {0};
    info.store_id = (int)patron__setting_int(s, "store_id", 0);
    patron__setting_get(s, "store_name", info.name, sizeof info.name);
    patron__setting_get(s, "chain_id", info.chain_id, sizeof info.chain_id);
    if (patron__setting_get(s, "currency", info.currency, sizeof info.currency) != 0)
        memcpy(info.currency, "EUR", 4);
    info.schema_version = PATRON_SCHEMA_VERSION;
    *out = info;
    return 0;
}
