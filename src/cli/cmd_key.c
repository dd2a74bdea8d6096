/* SPDX-License-Identifier: MIT */
/* `patron key list|rotate|retire|trust|export`: the keyring that signs and verifies vouchers.
 * Trusting another store's or a partner's key is how their vouchers become acceptable here. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"
#include "patron/keyring.h"

static const char key_usage[] =
    "patron key list | rotate [--key-id N] | retire KEY_ID | export KEY_ID\n"
    "       patron key trust FILE --partner NAME [--key-id N] [--chain CHAIN_ID]";

#define KEYS_MAX 256

static int key_list(struct cli *c)
{
    static struct patron_key_info keys[KEYS_MAX];
    size_t n = 0;
    int err = patron_keyring_list(c->store, keys, KEYS_MAX, &n);
    if (err != 0)
        return cli_fail(c, err, "cannot read the keyring");
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < KEYS_MAX; i++) {
        const struct patron_key_info *k = &keys[i];
        json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}",
                                             "key_id", k->key_id, "kind", k->kind, "status",
                                             k->status, "partner", k->partner, "chain_id",
                                             k->chain_id, "fingerprint", k->fingerprint, "file",
                                             k->file, "created_at", patron_json_time(k->created_at),
                                             "retired_at", patron_json_time(k->retired_at)));
        if (!c->json)
            printf("%5d  %-7s %-7s %s  %s\n", k->key_id, k->kind, k->status, k->fingerprint,
                   k->partner[0] ? k->partner : k->file);
    }
    return cli_emit(c, json_pack("{s:o}", "keys", arr), NULL);
}

static int key_number(const char *text, int *out)
{
    int64_t v;
    if (!text || cli_parse_int(text, 1, 65535, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int key_trust(struct cli *c, struct cli_args *a)
{
    const char *partner = cli_take(a, "--partner"), *chain = cli_take(a, "--chain");
    const char *id_text = cli_take(a, "--key-id"), *file = cli_positional(a);
    int want = 0, id = 0;
    if (!file || !partner || a->argc != 0 || (id_text && key_number(id_text, &want) != 0))
        return cli_usage(c, key_usage);
    int err = patron_keyring_trust(c->store, file, partner, chain, want, &id);
    if (err != 0)
        return cli_fail(c, err, "key not trusted");
    char human[160];
    snprintf(human, sizeof human, "Key %d of %s is trusted.\n", id, partner);
    return cli_emit(c, json_pack("{s:i}", "key_id", id), human);
}

static int key_rotate(struct cli *c, struct cli_args *a)
{
    const char *id_text = cli_take(a, "--key-id");
    int want = 0, id = 0;
    if (a->argc != 0 || (id_text && key_number(id_text, &want) != 0))
        return cli_usage(c, key_usage);
    int err = patron_keyring_rotate(c->store, want, &id);
    if (err != 0)
        return cli_fail(c, err, "key not rotated");
    char human[160];
    snprintf(human, sizeof human, "Key %d signs new vouchers; older keys still verify.\n", id);
    return cli_emit(c, json_pack("{s:i}", "key_id", id), human);
}

int cli_cmd_key(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status, id = 0, err;
    if (!sub)
        return cli_usage(c, key_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, key_usage) : key_list(c);
    if (strcmp(sub, "rotate") == 0)
        return key_rotate(c, a);
    if (strcmp(sub, "trust") == 0)
        return key_trust(c, a);
    if (key_number(cli_positional(a), &id) != 0 || a->argc != 0)
        return cli_usage(c, key_usage);
    if (strcmp(sub, "retire") == 0) {
        if ((err = patron_keyring_retire(c->store, id)) != 0)
            return cli_fail(c, err, "key not retired");
        return cli_emit(c, json_pack("{s:i}", "key_id", id), "Key retired.\n");
    }
    if (strcmp(sub, "export") == 0) {
        char pem[256];
        if ((err = patron_keyring_export(c->store, id, pem, sizeof pem)) != 0)
            return cli_fail(c, err, "cannot export the key");
        return cli_emit(c, json_pack("{s:i, s:s}", "key_id", id, "pem", pem), pem);
    }
    return cli_usage(c, key_usage);
}
