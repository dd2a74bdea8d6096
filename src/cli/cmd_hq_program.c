/* SPDX-License-Identifier: MIT */
/* `patron hq program show|set|category|tier|publish`, `patron hq reward add|list|end`,
 * `patron hq offer add|list|end` (with `patron offer add`'s own parser) and
 * `patron hq key add|list|revoke` (the chain's key trust list, with `patron key trust`'s flags):
 * the program head office authors for its stores (src/hq/program.c), with the store commands' own
 * flags (`patron program`, `patron reward add`, `patron key trust`); what a store would refuse,
 * head office refuses with the store's sentence. Stores take each publication at their next `patron
 * sync`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef PATRON_HAVE_HQ

#include "hq.h"

static const char program_usage[] =
    "patron hq program show | set NAME VALUE | category NAME MULTIPLIER_PERMILLE"
    " | tier NAME THRESHOLD MULTIPLIER_PERMILLE | publish";
static const char reward_usage[] =
    "patron hq reward add --name N --cost POINTS --kind amount|percent|item|points --value V "
    "[--valid-days D] | list | end REWARD_ID";

static const char key_usage[] =
    "patron hq key add FILE --partner NAME [--key-id N] [--chain CHAIN_ID] | list | revoke KEY_ID";

static const char offer_usage[] =
    "patron hq offer add (the flags of `patron offer add`, without a reward benefit or a segment)"
    " | list | end OFFER_ID";

static int changed(struct cli *c, patron_hq *h, int err, const char *detail, json_t *o,
                   const char *human)
{
    patron_hq_close(h);
    if (err != 0) {
        json_decref(o);
        return cli_hq_fail(c, err, detail);
    }
    return cli_emit(c, o, human);
}

/* `... end|revoke ID`: one draft change on an id from 1 to `max`; the JSON reply is {"ok": true},
 * or
 * {`id_key`: ID} when `id_key` is given. */
static int id_change(struct cli *c, struct cli_args *a, const char *usage, int64_t max,
                     int (*fn)(patron_hq *, int64_t, char *, size_t), const char *id_key,
                     const char *human)
{
    const char *id_text = cli_positional(a);
    int64_t id = 0;
    patron_hq *h = NULL;
    char detail[512];
    int status;
    if (!id_text || a->argc != 0 || cli_parse_int(id_text, 1, max, &id) != 0)
        return cli_usage(c, usage);
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    int err = fn(h, id, detail, sizeof detail);
    return changed(
        c, h, err, detail,
        id_key ? json_pack("{s:I}", id_key, (json_int_t)id) : json_pack("{s:b}", "ok", 1), human);
}

static int program_change(struct cli *c, const char *what, struct cli_args *a)
{
    const char *name = cli_positional(a), *v1 = cli_positional(a), *v2 = NULL;
    int tier = strcmp(what, "tier") == 0;
    int64_t n1 = 0, n2 = 0;
    patron_hq *h = NULL;
    char detail[512];
    int status, err;
    if (tier)
        v2 = cli_positional(a);
    if (!name || !v1 || (tier && !v2) || a->argc != 0)
        return cli_usage(c, program_usage);
    if (strcmp(what, "set") != 0 && (cli_parse_int(v1, 0, INT64_MAX, &n1) != 0 ||
                                     (v2 && cli_parse_int(v2, 0, INT64_MAX, &n2) != 0)))
        return cli_usage(c, program_usage);
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    if (strcmp(what, "set") == 0)
        err = patron_hq_program_rule_set(h, name, v1, detail, sizeof detail);
    else if (tier)
        err = patron_hq_program_tier_set(h, name, n1, n2, detail, sizeof detail);
    else
        err = patron_hq_program_category_set(h, name, n1, detail, sizeof detail);
    return changed(c, h, err, detail, json_pack("{s:b}", "ok", 1),
                   "Changed in the draft; `patron hq program publish` sends it to the stores.\n");
}

/* The draft document and the latest version; *doc is the parsed draft. */
static int read_draft(struct cli *c, json_t **doc, int64_t *latest)
{
    patron_hq *h = NULL;
    char detail[512], *body = NULL;
    int status, err;
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    err = patron_hq_program_draft(h, &body, latest, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0)
        return cli_hq_fail(c, err, detail);
    *doc = json_loads(body, 0, NULL);
    free(body);
    return *doc ? CLI_EXIT_OK : cli_fail(c, PATRON_EDB, "cannot read the program draft");
}

/* The draft's array `name` (rewards, keys, offers), a new reference in *out. */
static int draft_array(struct cli *c, const char *name, json_t **out)
{
    json_t *doc = NULL;
    int64_t latest = 0;
    int status = read_draft(c, &doc, &latest);
    if (status != CLI_EXIT_OK)
        return status;
    *out = json_incref(json_object_get(doc, name));
    json_decref(doc);
    return CLI_EXIT_OK;
}

static int program_show(struct cli *c)
{
    json_t *doc = NULL, *v;
    int64_t latest = 0;
    const char *key;
    size_t i;
    char human[8192];
    int status = read_draft(c, &doc, &latest), off;
    if (status != CLI_EXIT_OK)
        return status;
    off = snprintf(human, sizeof human, "Head office's program draft (latest publication: %lld)\n",
                   (long long)latest);
    json_object_foreach(json_object_get(doc, "rules"), key, v)
    {
        if (off < (int)sizeof human)
            off += snprintf(human + off, sizeof human - (size_t)off, "  rule %s = %s\n", key,
                            json_string_value(v));
    }
    json_object_foreach(json_object_get(doc, "categories"), key, v)
    {
        if (off < (int)sizeof human)
            off += snprintf(human + off, sizeof human - (size_t)off, "  category %s x%.3f\n", key,
                            (double)json_integer_value(v) / 1000.0);
    }
    json_array_foreach(json_object_get(doc, "tiers"), i, v)
    {
        if (off < (int)sizeof human)
            off += snprintf(
                human + off, sizeof human - (size_t)off, "  tier %s from %lld points, x%.3f\n",
                json_string_value(json_object_get(v, "name")),
                (long long)json_integer_value(json_object_get(v, "threshold")),
                (double)json_integer_value(json_object_get(v, "multiplier_permille")) / 1000.0);
    }
    json_object_set_new(doc, "published_version", json_integer((json_int_t)latest));
    return cli_emit(c, doc, human);
}

static int program_publish(struct cli *c, struct cli_args *a)
{
    patron_hq *h = NULL;
    int64_t version = 0;
    char detail[512], human[128];
    int status, err;
    if ((status = cli_no_leftovers(c, a, program_usage)) != 0 || (status = cli_hq_open(c, &h)) != 0)
        return status;
    err = patron_hq_program_publish(h, &version, detail, sizeof detail);
    snprintf(human, sizeof human,
             "Published program version %lld; stores take it at their next sync.\n",
             (long long)version);
    return changed(c, h, err, detail, json_pack("{s:I}", "version", (json_int_t)version), human);
}

int cli_cmd_hq_program(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (!sub)
        return cli_usage(c, program_usage);
    if (strcmp(sub, "show") == 0)
        return a->argc ? cli_usage(c, program_usage) : program_show(c);
    if (strcmp(sub, "publish") == 0)
        return program_publish(c, a);
    if (strcmp(sub, "set") == 0 || strcmp(sub, "category") == 0 || strcmp(sub, "tier") == 0)
        return program_change(c, sub, a);
    return cli_usage(c, program_usage);
}

static int reward_add(struct cli *c, struct cli_args *a)
{
    struct patron_reward_def d = {0};
    const char *cost = cli_take(a, "--cost"), *kind = cli_take(a, "--kind");
    const char *value = cli_take(a, "--value"), *days = cli_take(a, "--valid-days");
    int64_t reward_id = 0;
    patron_hq *h = NULL;
    char detail[512], human[256];
    int status;
    d.name = cli_take(a, "--name");
    if (!d.name || !cost || !kind || !value || a->argc != 0 ||
        cli_parse_int(cost, 1, INT64_MAX, &d.cost) != 0 ||
        patron_value_kind_parse(kind, &d.kind) != 0 ||
        cli_parse_int(value, 0, INT64_MAX, &d.value) != 0 ||
        (days && cli_parse_int(days, 1, 3650, &d.valid_days) != 0))
        return cli_usage(c, reward_usage);
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    int err = patron_hq_reward_add(h, &d, &reward_id, detail, sizeof detail);
    snprintf(human, sizeof human, "Reward %lld in the draft: %s for %lld points.\n",
             (long long)reward_id, d.name, (long long)d.cost);
    return changed(c, h, err, detail, json_pack("{s:I}", "reward_id", (json_int_t)reward_id),
                   human);
}

static int reward_end(struct cli *c, struct cli_args *a)
{
    return id_change(c, a, reward_usage, INT64_MAX, patron_hq_reward_end, NULL,
                     "Ended in the draft; stores retire it at the next publication.\n");
}

static int reward_list(struct cli *c)
{
    json_t *r;
    size_t i;
    char human[8192] = "";
    size_t off = 0;
    json_t *rewards = NULL;
    int status = draft_array(c, "rewards", &rewards);
    if (status != CLI_EXIT_OK)
        return status;
    json_array_foreach(rewards, i, r)
    {
        if (off < sizeof human)
            off +=
                (size_t)snprintf(human + off, sizeof human - off, "%4lld  %-32s %6lld points%s\n",
                                 (long long)json_integer_value(json_object_get(r, "reward_id")),
                                 json_string_value(json_object_get(r, "name")),
                                 (long long)json_integer_value(json_object_get(r, "cost")),
                                 json_is_true(json_object_get(r, "ended")) ? "  (ended)" : "");
    }
    return cli_emit(c, json_pack("{s:o}", "rewards", rewards),
                    json_array_size(rewards) ? human : "No rewards in the draft yet.\n");
}

int cli_cmd_hq_reward(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "add") == 0)
        return reward_add(c, a);
    if (sub && strcmp(sub, "end") == 0)
        return reward_end(c, a);
    if (sub && strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, reward_usage) : reward_list(c);
    return cli_usage(c, reward_usage);
}

static int key_add(struct cli *c, struct cli_args *a)
{
    const char *partner = cli_take(a, "--partner"), *chain = cli_take(a, "--chain");
    const char *id_text = cli_take(a, "--key-id"), *file = cli_positional(a);
    int64_t want = 0;
    int id = 0, status;
    patron_hq *h = NULL;
    char detail[512], human[160];
    if (!file || !partner || a->argc != 0 ||
        (id_text && cli_parse_int(id_text, 1, 65535, &want) != 0))
        return cli_usage(c, key_usage);
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    int err = patron_hq_key_add(h, file, partner, chain, (int)want, &id, detail, sizeof detail);
    snprintf(human, sizeof human, "Key %d of %s is in the chain's trust list (draft).\n", id,
             partner);
    return changed(c, h, err, detail, json_pack("{s:i}", "key_id", id), human);
}

static int key_revoke_id(patron_hq *h, int64_t id, char *detail, size_t detail_size)
{
    return patron_hq_key_revoke(h, (int)id, detail, detail_size);
}

static int key_revoke(struct cli *c, struct cli_args *a)
{
    return id_change(c, a, key_usage, 65535, key_revoke_id, "key_id",
                     "Revoked in the draft; stores retire it at the next publication.\n");
}

static int key_list(struct cli *c)
{
    json_t *k;
    size_t i, off = 0;
    char human[8192] = "";
    json_t *keys = NULL;
    int status = draft_array(c, "keys", &keys);
    if (status != CLI_EXIT_OK)
        return status;
    json_array_foreach(keys, i, k)
    {
        const char *chain = json_string_value(json_object_get(k, "chain_id"));
        if (off < sizeof human)
            off += (size_t)snprintf(
                human + off, sizeof human - off, "%5lld  %-24s %-32s %s\n",
                (long long)json_integer_value(json_object_get(k, "key_id")),
                json_string_value(json_object_get(k, "partner")), chain ? chain : "this chain",
                json_is_true(json_object_get(k, "revoked")) ? "revoked" : "trusted");
    }
    return cli_emit(c, json_pack("{s:o}", "keys", keys),
                    json_array_size(keys) ? human : "No keys in the trust list yet.\n");
}

int cli_cmd_hq_key(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "add") == 0)
        return key_add(c, a);
    if (sub && strcmp(sub, "revoke") == 0)
        return key_revoke(c, a);
    if (sub && strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, key_usage) : key_list(c);
    return cli_usage(c, key_usage);
}

static int offer_add(struct cli *c, struct cli_args *a)
{
    struct patron_offer_def d;
    int64_t id = 0;
    patron_hq *h = NULL;
    char detail[512], human[256];
    int status;
    if (cli_offer_parse_def(a, &d) != 0 || a->argc != 0)
        return cli_usage(c, offer_usage);
    if ((status = cli_hq_open(c, &h)) != 0)
        return status;
    int err = patron_hq_offer_add(h, &d, &id, detail, sizeof detail);
    snprintf(human, sizeof human, "Offer %lld in the draft: %.120s.\n", (long long)id, d.name);
    return changed(c, h, err, detail, json_pack("{s:I}", "offer_id", (json_int_t)id), human);
}

static int offer_end(struct cli *c, struct cli_args *a)
{
    return id_change(c, a, offer_usage, INT64_MAX, patron_hq_offer_end, NULL,
                     "Ended in the draft; stores end it at the next publication.\n");
}

static int offer_list(struct cli *c)
{
    json_t *o;
    size_t i, off = 0;
    char human[8192] = "";
    json_t *offers = NULL;
    int status = draft_array(c, "offers", &offers);
    if (status != CLI_EXIT_OK)
        return status;
    json_array_foreach(offers, i, o)
    {
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, "%5lld  %-16s %.100s%s\n",
                                    (long long)json_integer_value(json_object_get(o, "offer_id")),
                                    json_string_value(json_object_get(o, "benefit")),
                                    json_string_value(json_object_get(o, "name")),
                                    json_is_true(json_object_get(o, "ended")) ? "  (ended)" : "");
    }
    return cli_emit(c, json_pack("{s:o}", "offers", offers),
                    json_array_size(offers) ? human : "No offers in the draft yet.\n");
}

int cli_cmd_hq_offer(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "add") == 0)
        return offer_add(c, a);
    if (sub && strcmp(sub, "end") == 0)
        return offer_end(c, a);
    if (sub && strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, offer_usage) : offer_list(c);
    return cli_usage(c, offer_usage);
}

#endif
