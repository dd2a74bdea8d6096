/* SPDX-License-Identifier: MIT */
/* `patron reward add|list|redeem|retire`: the rewards catalogue and spending points on it. */
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli.h"
#include "patron/json.h"

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

/* A spend with a head office set is claimed there first (src/hq/claim.c): two stores spending
 * the same member's last points at once cannot both succeed. Head office unreachable: the store
 * spends offline against the chain balance of its last sync, within the offline caps. */
struct chain_claim {
    void *hq; /* the open connection while a claim stands, else NULL */
    const char *key;
};

#ifdef PATRON_HAVE_HQ
#include "hq.h"

/* One sentence on stderr (and the JSON error with --json); the exit status of `err`. */
static int say(struct cli *c, int err, const char *sentence)
{
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", sentence);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", sentence);
    return cli_exit_status(err);
}

static int chain_claim(struct cli *c, struct patron_redeem_request *in, struct chain_claim *claim)
{
    struct patron_reward rw;
    char uid[32], detail[512];
    int64_t local = 0;
    patron_hq *h = NULL;
    if (!c->hq || !c->hq[0])
        return 0;
    if (patron_reward_get(c->store, in->reward_id, &rw) != 0 ||
        patron_chain_member_of_card(c->store, in->card, uid, sizeof uid, &local) != 0)
        return 0; /* the redemption itself says what is wrong */
    if (patron_hq_connect(c->hq, &h, detail, sizeof detail) != 0) {
        fprintf(stderr,
                "patron: note: %s; spending offline against the last synced chain balance.\n",
                detail);
        patron_store_set_spend_offline(c->store, 1); /* within the offline caps */
        return 0;
    }
    int err =
        patron_hq_claim(h, uid, rw.cost, local, in->idempotency_key, NULL, detail, sizeof detail);
    if (err != 0) {
        patron_hq_close(h);
        return say(c, err, detail);
    }
    claim->hq = h;
    claim->key = in->idempotency_key;
    return 0;
}

/* After the spend: a failed one gives its claim back. */
static void chain_claim_end(struct chain_claim *claim, int err)
{
    char detail[512];
    if (!claim->hq)
        return;
    if (err != 0 && patron_hq_claim_release(claim->hq, claim->key, detail, sizeof detail) != 0)
        fprintf(stderr, "patron: note: %s.\n", detail);
    patron_hq_close(claim->hq);
    claim->hq = NULL;
}
#else
static int chain_claim(struct cli *c, struct patron_redeem_request *in, struct chain_claim *claim)
{
    (void)c;
    (void)in;
    (void)claim;
    return 0;
}

static void chain_claim_end(struct chain_claim *claim, int err)
{
    (void)claim;
    (void)err;
}
#endif

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
    struct chain_claim claim = {0};
    if ((status = chain_claim(c, &in, &claim)) != 0)
        return status;
    err = patron_reward_redeem(c->store, &in, &r);
    chain_claim_end(&claim, err);
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
