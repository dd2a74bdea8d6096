/* SPDX-License-Identifier: MIT */
/* `patron init` (create the store, safe to run twice) and `patron program ...` (show and change
 * the program's rules, categories and tiers; every change records who made it). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char init_usage[] = "patron init [--store-id N] [--store-name S]";

int cli_cmd_init(struct cli *c, struct cli_args *a)
{
    const char *id_text = cli_take(a, "--store-id"), *name = cli_take(a, "--store-name");
    struct patron_store_info info;
    int64_t store_id = 1;
    int status, err;
    if ((status = cli_no_leftovers(c, a, init_usage)) != 0)
        return status;
    if (id_text && cli_parse_int(id_text, 1, 65535, &store_id) != 0)
        return cli_usage(c, "--store-id takes a number from 1 to 65535");
    c->opening_for_init = 1;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_store_init(c->store, (int)store_id, name)) != 0 ||
        (err = patron_store_info(c->store, &info)) != 0)
        return cli_fail(c, err, "cannot initialise the store");
    struct patron_key_info keys[8];
    size_t n = 0;
    int key_id = 0;
    if ((err = patron_keyring_list(c->store, keys, 8, &n)) != 0)
        return cli_fail(c, err, "cannot read the keyring");
    for (size_t i = 0; i < n && i < 8; i++)
        if (strcmp(keys[i].status, "active") == 0)
            key_id = keys[i].key_id;
    char human[512];
    snprintf(human, sizeof human, "Store %d \"%s\" is ready in %s (chain %s, signing key %d).\n",
             info.store_id, info.name, c->db_path, info.chain_id, key_id);
    return cli_emit(c,
                    json_pack("{s:i, s:i, s:s, s:s, s:s}", "store_id", info.store_id, "key_id",
                              key_id, "store_name", info.name, "chain_id", info.chain_id, "db",
                              c->db_path),
                    human);
}

static const char program_usage[] =
    "patron program show | set NAME VALUE [--by WHO] | category NAME MULTIPLIER_PERMILLE [--by WHO]"
    " | tier NAME THRESHOLD MULTIPLIER_PERMILLE [--by WHO]";

static int program_show(struct cli *c)
{
    struct patron_program p;
    struct patron_tier tiers[16];
    size_t n = 0;
    int err;
    if ((err = patron_program_get(c->store, &p)) != 0 ||
        (err = patron_tier_list(c->store, tiers, 16, &n)) != 0)
        return cli_fail(c, err, "cannot read the program");
    json_t *jt = json_array();
    char human[2048];
    int off = snprintf(human, sizeof human,
                       "Earn %lld point(s) per %lld minor units of %s (rounded down); points "
                       "expire after %lld days; refunds: %s.\nTiers:\n",
                       (long long)p.earn_points, (long long)p.earn_unit_minor, p.currency,
                       (long long)p.expiry_days,
                       p.refund_policy == PATRON_REFUND_CLAMP ? "clamp" : "negative");
    for (size_t i = 0; i < n && i < 16; i++) {
        json_array_append_new(jt, json_pack("{s:s, s:I, s:I}", "name", tiers[i].name, "threshold",
                                            (json_int_t)tiers[i].threshold, "multiplier_permille",
                                            (json_int_t)tiers[i].multiplier_permille));
        if (off < (int)sizeof human)
            off += snprintf(human + off, sizeof human - (size_t)off,
                            "  %-12s from %lld points, x%.3f\n", tiers[i].name,
                            (long long)tiers[i].threshold,
                            (double)tiers[i].multiplier_permille / 1000.0);
    }
    return cli_emit(
        c,
        json_pack("{s:s, s:I, s:I, s:I, s:I, s:s, s:o}", "currency", p.currency, "earn_points",
                  (json_int_t)p.earn_points, "earn_unit_minor", (json_int_t)p.earn_unit_minor,
                  "expiry_days", (json_int_t)p.expiry_days, "expiry_notice_days",
                  (json_int_t)p.expiry_notice_days, "refund_policy",
                  p.refund_policy == PATRON_REFUND_CLAMP ? "clamp" : "negative", "tiers", jt),
        human);
}

static int program_change(struct cli *c, const char *what, struct cli_args *a)
{
    const char *who = cli_take(a, "--by");
    const char *name = cli_positional(a), *v1 = cli_positional(a), *v2 = NULL;
    int64_t n1 = 0, n2 = 0;
    int err;
    if (strcmp(what, "tier") == 0)
        v2 = cli_positional(a);
    if (!name || !v1 || (strcmp(what, "tier") == 0 && !v2) || a->argc != 0)
        return cli_usage(c, program_usage);
    if (!who)
        who = "cli";
    if (strcmp(what, "set") == 0) {
        err = patron_program_set(c->store, name, v1, who);
    } else if (cli_parse_int(v1, 0, INT64_MAX, &n1) != 0 ||
               (v2 && cli_parse_int(v2, 0, INT64_MAX, &n2) != 0)) {
        return cli_usage(c, program_usage);
    } else if (strcmp(what, "category") == 0) {
        err = patron_category_set(c->store, name, n1, who);
    } else {
        err = patron_tier_set(c->store, name, n1, n2, who);
    }
    if (err != 0)
        return cli_fail(c, err, "cannot change the program");
    return cli_emit(c, json_pack("{s:b}", "ok", 1), "Changed.\n");
}

int cli_cmd_program(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, program_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "show") == 0)
        return a->argc ? cli_usage(c, program_usage) : program_show(c);
    if (strcmp(sub, "set") == 0 || strcmp(sub, "category") == 0 || strcmp(sub, "tier") == 0)
        return program_change(c, sub, a);
    return cli_usage(c, program_usage);
}
