/* SPDX-License-Identifier: MIT */
/* `patron reward add|list|redeem|retire`: the rewards catalogue and spending points on it. */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli.h"
#include "patron/json.h"
#include "spend.h"

static const char reward_usage[] =
    "patron reward add --name N --cost POINTS --kind amount|percent|item|points --value V "
    "[--valid-days D] | list | redeem CARD REWARD_ID [--key K] | retire REWARD_ID";

static int reward_add(struct cli *c, struct cli_args *a)
{
    struct patron_reward_def d = {0};
    const char *cost = cli_take(a, "--cost"), *kind = cli_take(a, "--kind");
    const char *value = cli_take(a, "--value"), *days = cli_take(a, "--valid-days");
    int64_t reward_id;
    d.name = cli_take(a, "--name");
    if (!d.name || !cost || !kind || !value || a->argc != 0 ||
        cli_parse_int(cost, 1, INT64_MAX, &d.cost) != 0 ||
        patron_value_kind_parse(kind, &d.kind) != 0 ||
        cli_parse_int(value, 0, INT64_MAX, &d.value) != 0 ||
        (days && cli_parse_int(days, 1, 3650, &d.valid_days) != 0))
        return cli_usage(c, reward_usage);
    int err = patron_reward_add(c->store, &d, &reward_id);
    if (err != 0)
        return cli_fail(c, err, "cannot add the reward");
    char human[256];
    snprintf(human, sizeof human, "Reward %lld: %s for %lld points.\n", (long long)reward_id,
             d.name, (long long)d.cost);
    return cli_emit(c, json_pack("{s:I}", "reward_id", (json_int_t)reward_id), human);
}

static int reward_list(struct cli *c)
{
    struct patron_reward rewards[64];
    size_t n = 0;
    char human[8192];
    size_t off = 0;
    int err = patron_reward_list(c->store, rewards, 64, &n);
    if (err != 0)
        return cli_fail(c, err, "cannot list rewards");
    json_t *o;
    if ((err = patron_json_rewards(rewards, n < 64 ? n : 64, n, &o)) != 0)
        return cli_fail(c, err, NULL);
    human[0] = '\0';
    for (size_t i = 0; i < n && i < 64; i++) {
        const struct patron_reward *r = &rewards[i];
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, "%4lld  %-32s %6lld points\n",
                                    (long long)r->reward_id, r->name, (long long)r->cost);
    }
    return cli_emit(c, o, n ? human : "No rewards yet.\n");
}

static int reward_redeem(struct cli *c, struct cli_args *a)
{
    struct patron_redeem_request in = {0};
    struct patron_redeem_result r;
    const char *key = cli_take(a, "--key"), *id;
    char generated[48], human[768];
    in.card = cli_positional(a);
    id = cli_positional(a);
    if (!in.card || !id || a->argc != 0 || cli_parse_int(id, 1, INT64_MAX, &in.reward_id) != 0)
        return cli_usage(c, reward_usage);
    if (!key) {
        /* A redemption without a key is a new request each time. */
        unsigned char rnd[12];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return cli_fail(c, PATRON_ECRYPTO, "no randomness for the idempotency key");
        int off = snprintf(generated, sizeof generated, "redeem/");
        for (size_t i = 0; i < sizeof rnd; i++)
            off += snprintf(generated + off, sizeof generated - (size_t)off, "%02x", rnd[i]);
        key = generated;
    }
    in.idempotency_key = key;
    int status = cli_check_templates(c), err;
    if (status != 0)
        return status;
    /* claimed at head office first (spend.h); the redemption itself says what else is wrong */
    struct patron_reward rw;
    struct cli_spend_claim claim = {0};
    if (patron_reward_get(c->store, in.reward_id, &rw) == 0 &&
        (status = cli_spend_claim(c, in.card, rw.cost, key, &claim)) != 0)
        return status;
    err = patron_reward_redeem(c->store, &in, &r);
    cli_spend_claim_end(&claim, err);
    if (err != 0)
        return cli_fail(c, err, "reward not redeemed");
    json_t *o;
    if ((err = patron_json_redemption(&r, &o)) != 0)
        return cli_fail(c, err, NULL);
    status = r.replayed ? -1 : cli_print_after(c, o, r.print_job);
    if (status >= 0)
        return status;
    char where[320] = "";
    if (!r.replayed && r.print_job)
        cli_print_where(c, "coupon", r.print_job, where, sizeof where);
    snprintf(human, sizeof human, "-%lld points, balance %lld.%s%s%s%s\n",
             (long long)r.points_spent, (long long)r.points, r.code[0] ? " Voucher code " : "",
             r.code, where[0] ? "\n" : "", where);
    return cli_emit(c, o, human);
}

int cli_cmd_reward(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, reward_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "add") == 0)
        return reward_add(c, a);
    if (strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, reward_usage) : reward_list(c);
    if (strcmp(sub, "redeem") == 0)
        return reward_redeem(c, a);
    if (strcmp(sub, "retire") == 0) {
        const char *id = cli_positional(a);
        int64_t reward_id;
        if (!id || a->argc != 0 || cli_parse_int(id, 1, INT64_MAX, &reward_id) != 0)
            return cli_usage(c, reward_usage);
        int err = patron_reward_retire(c->store, reward_id);
        if (err != 0)
            return cli_fail(c, err, "cannot retire the reward");
        return cli_emit(c, json_pack("{s:I}", "reward_id", (json_int_t)reward_id),
                        "Reward withdrawn.\n");
    }
    return cli_usage(c, reward_usage);
}
