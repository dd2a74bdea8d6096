/* SPDX-License-Identifier: MIT */
/* The program head office publishes, as a store takes it: the newest publication (program_versions,
 * a whole program as one document) applied in ONE SQLite transaction through the store's own calls
 * (patron_program_set, patron_category_set, patron_tier_set, patron_reward_add and _retire,
 * patron_offer_add and _end, patron_keyring_trust and _retire for the chain's key trust list), so
 * the store's validation is the only one and a publication that fails anywhere leaves nothing
 * behind: the store stays on the version it had, and sync says why in a sentence. Every change
 * is recorded in the store's rule_changes as from "head office vN". The store then reports the
 * version it is on in its own row of store_programs. Head office validates its draft with the
 * same function, on a scratch store (program.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hq_internal.h"
#include "patron/chain.h"
#include "patron/error.h"
#include "patron/keyring.h"
#include "patron/offer.h"
#include "patron/program.h"
#include "patron/reward.h"

static int apply_rules(patron_store *s, json_t *rules, const char *who)
{
    const char *name;
    json_t *v;
    int err = 0;
    json_object_foreach(rules, name, v)
    {
        if (err == 0)
            err = patron_program_set(s, name, json_is_string(v) ? json_string_value(v) : "", who);
    }
    return err;
}

static int apply_categories(patron_store *s, json_t *categories, const char *who)
{
    const char *name;
    json_t *v;
    int err = 0;
    json_object_foreach(categories, name, v)
    {
        if (err == 0)
            err =
                patron_category_set(s, name, json_is_integer(v) ? json_integer_value(v) : -1, who);
    }
    return err;
}

static int64_t int_of(json_t *o, const char *key, int64_t fallback)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

static const char *text_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int apply_tiers(patron_store *s, json_t *tiers, const char *who)
{
    size_t i;
    json_t *t;
    int err = 0;
    json_array_foreach(tiers, i, t)
    {
        if (err == 0)
            err = patron_tier_set(s, text_of(t, "name"), int_of(t, "threshold", -1),
                                  int_of(t, "multiplier_permille", -1), who);
    }
    return err;
}

/* The store's running reward named `name`, or NULL. */
static const struct patron_reward *running(const struct patron_reward *list, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].active && strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

/* One published reward: matched by name with the store's running rewards. Ended: the store's is
 * retired. Changed: the old one is retired and the new one added (vouchers already issued stay
 * valid). Same: left as it is. */
static int apply_reward(patron_store *s, json_t *r, const struct patron_reward *list, size_t n)
{
    struct patron_reward_def d = {.name = text_of(r, "name"),
                                  .cost = int_of(r, "cost", -1),
                                  .value = int_of(r, "value", -1),
                                  .valid_days = int_of(r, "valid_days", 0)};
    const struct patron_reward *have = running(list, n, d.name);
    int64_t id = 0;
    int err;
    if (json_is_true(json_object_get(r, "ended")))
        return have ? patron_reward_retire(s, have->reward_id) : 0;
    if (patron_value_kind_parse(text_of(r, "kind"), &d.kind) != 0)
        d.kind = (enum patron_value_kind) - 1; /* refused by patron_reward_add, with its sentence */
    if (have && have->cost == d.cost && have->kind == d.kind && have->value == d.value &&
        have->valid_days == (d.valid_days ? d.valid_days : 30))
        return 0;
    if (have && (err = patron_reward_retire(s, have->reward_id)) != 0)
        return err;
    return patron_reward_add(s, &d, &id);
}

static int apply_rewards(patron_store *s, json_t *rewards)
{
    size_t n = 0, cap = 0, i;
    json_t *r;
    int err = patron_reward_list(s, NULL, 0, &n);
    struct patron_reward *list = NULL;
    if (err == 0 && n > 0) {
        cap = n;
        if (!(list = calloc(cap, sizeof *list)))
            return PATRON_ENOMEM;
        err = patron_reward_list(s, list, cap, &n);
    }
    json_array_foreach(rewards, i, r)
    {
        if (err == 0)
            err = apply_reward(s, r, list, n < cap ? n : cap);
    }
    free(list);
    return err;
}

static const char *text_or_null(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* One published offer, matched by name with the store's offers not ended: ended at head office,
 * the store ends its own; new, the store adds it (an offer is never changed in place: head office
 * ends it and adds another). */
static int apply_offer(patron_store *s, json_t *o, const struct patron_offer *list, size_t n,
                       const char *who)
{
    const char *name = text_of(o, "name");
    const struct patron_offer *have = NULL;
    int64_t id = 0;
    for (size_t i = 0; i < n && !have; i++)
        if (list[i].ended_at == 0 && strcmp(list[i].name, name) == 0)
            have = &list[i];
    if (json_is_true(json_object_get(o, "ended")))
        return have ? patron_offer_end(s, have->offer_id, who) : 0;
    if (have)
        return 0;
    struct patron_offer_def d = {.name = name,
                                 .tier = text_or_null(o, "tier"),
                                 .category = text_or_null(o, "category"),
                                 .within_days = int_of(o, "within_days", 0),
                                 .birthday_month =
                                     json_is_true(json_object_get(o, "birthday_month")),
                                 .lapsed_days = int_of(o, "lapsed_days", 0),
                                 .first_visit = json_is_true(json_object_get(o, "first_visit")),
                                 .min_basket_minor = int_of(o, "min_basket_minor", 0),
                                 .sku = text_or_null(o, "sku"),
                                 .basket_category = text_or_null(o, "basket_category"),
                                 .exclusive = json_is_true(json_object_get(o, "exclusive")),
                                 .valid_from = int_of(o, "valid_from", 0),
                                 .valid_to = int_of(o, "valid_to", 0),
                                 .limit_per_member = int_of(o, "limit_per_member", 0),
                                 .limit_total = int_of(o, "limit_total", 0),
                                 .limit_per_day = int_of(o, "limit_per_day", 0),
                                 .created_by = who};
    if (patron_offer_benefit_parse(text_of(o, "benefit"), &d.benefit, &d.benefit_value) != 0)
        d.benefit = (enum patron_offer_benefit) - 1; /* refused by patron_offer_add */
    return patron_offer_add(s, &d, &id);
}

static int apply_offers(patron_store *s, json_t *offers, const char *who)
{
    size_t n = 0, cap = PATRON_OFFER_MAX_ACTIVE, i;
    json_t *o;
    if (json_array_size(offers) == 0)
        return 0;
    struct patron_offer *list = calloc(cap, sizeof *list);
    if (!list)
        return PATRON_ENOMEM;
    int err = patron_offer_list(s, 0, list, cap, &n);
    json_array_foreach(offers, i, o)
    {
        if (err == 0)
            err = apply_offer(s, o, list, n < cap ? n : cap, who);
    }
    free(list);
    return err;
}

/* The store's key `key_id` into *have (have->key_id 0: none). */
static int key_held(patron_store *s, int key_id, struct patron_key_info *have)
{
    struct patron_key_info *keys = calloc(1024, sizeof *keys);
    size_t n = 0;
    int err;
    memset(have, 0, sizeof *have);
    if (!keys)
        return PATRON_ENOMEM;
    if ((err = patron_keyring_list(s, keys, 1024, &n)) == 0)
        for (size_t i = 0; i < n && i < 1024; i++)
            if (keys[i].key_id == key_id)
                *have = keys[i];
    free(keys);
    return err;
}

/* Trusts a published key through a file, as `patron key trust` would. */
static int trust_pem(patron_store *s, const char *pem, const char *partner, const char *chain,
                     int key_id)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    int id = 0, err;
    snprintf(path, sizeof path, "%s/patron-trust-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return PATRON_ENOMEM;
    size_t n = strlen(pem);
    err = write(fd, pem, n) == (ssize_t)n ? 0 : PATRON_ENOMEM;
    close(fd);
    if (err == 0)
        err = patron_keyring_trust(s, path, partner, chain && chain[0] ? chain : NULL, key_id, &id);
    unlink(path);
    return err;
}

/* One key of the chain's trust list: a key id the store already holds (its own, or trusted
 * before) is left as it is unless revoked, which retires a trusted one. */
static int apply_key(patron_store *s, json_t *k)
{
    struct patron_key_info have;
    int key_id = (int)int_of(k, "key_id", 0);
    int err = key_held(s, key_id, &have);
    if (err != 0)
        return err;
    if (json_is_true(json_object_get(k, "revoked")))
        return have.key_id && strcmp(have.kind, "own") != 0 && strcmp(have.status, "retired") != 0
                   ? patron_keyring_retire(s, key_id)
                   : 0;
    if (have.key_id)
        return 0;
    return trust_pem(s, text_of(k, "pem"), text_of(k, "partner"), text_of(k, "chain_id"), key_id);
}

static int apply_keys(patron_store *s, json_t *keys)
{
    size_t i;
    json_t *k;
    int err = 0;
    json_array_foreach(keys, i, k)
    {
        if (err == 0)
            err = apply_key(s, k);
    }
    return err;
}

static int apply_doc(patron_store *s, int64_t version, json_t *doc)
{
    char who[48];
    int err;
    snprintf(who, sizeof who, "head office v%lld", (long long)version);
    if ((err = apply_rules(s, json_object_get(doc, "rules"), who)) != 0 ||
        (err = apply_categories(s, json_object_get(doc, "categories"), who)) != 0 ||
        (err = apply_tiers(s, json_object_get(doc, "tiers"), who)) != 0 ||
        (err = apply_rewards(s, json_object_get(doc, "rewards"))) != 0 ||
        (err = apply_offers(s, json_object_get(doc, "offers"), who)) != 0 ||
        (err = apply_keys(s, json_object_get(doc, "keys"))) != 0)
        return err;
    return patron_program_version_set(s, version, who);
}

int patron__hq_program_apply(patron_store *s, int64_t version, const char *body, char *detail,
                             size_t len)
{
    json_t *doc = json_loads(body, 0, NULL);
    int err;
    if (!json_is_object(doc)) {
        json_decref(doc);
        snprintf(detail, len, "publication %lld is not a program document", (long long)version);
        return PATRON_EINVAL;
    }
    if ((err = patron_chain_begin(s)) == 0) {
        if ((err = apply_doc(s, version, doc)) != 0) {
            snprintf(detail, len, "%s", patron_store_detail(s));
            patron_chain_rollback(s);
        } else if ((err = patron_chain_commit(s, NULL)) != 0) {
            snprintf(detail, len, "%s", patron_store_detail(s));
        }
    } else {
        snprintf(detail, len, "%s", patron_store_detail(s));
    }
    json_decref(doc);
    return err;
}

/* Tells head office which publication this store is on (its own row of store_programs). */
static int report_version(patron_hq *h, int64_t version, char *detail, size_t len)
{
    char v[24];
    const char *params[] = {v};
    snprintf(v, sizeof v, "%lld", (long long)version);
    PGresult *res = PQexecParams(
        h->conn,
        "INSERT INTO store_programs (store_id, version) VALUES (hq_my_store(), $1::bigint)"
        " ON CONFLICT (store_id) DO UPDATE SET version = excluded.version, applied_at = now()"
        " WHERE store_programs.version <> excluded.version",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return 0;
    }
    return patron__hq_fail(res, h->conn, "cannot tell head office the program version", detail,
                           len);
}

int patron__hq_program_read(patron_hq *h, int64_t have, PGresult **out, char *detail, size_t len)
{
    char v[24];
    const char *params[] = {v};
    snprintf(v, sizeof v, "%lld", (long long)have);
    return patron__hq_select(h,
                             "SELECT version, body::text FROM program_versions"
                             " WHERE version > $1::bigint ORDER BY version DESC LIMIT 1",
                             1, params, "program", out, detail, len);
}

/* Applies the publication read, if any; *have is the version the store is on afterwards. */
static int take_newest(patron_store *s, const PGresult *res, int64_t *have, char *detail,
                       size_t len)
{
    char why[512];
    if (PQntuples(res) != 1)
        return 0;
    int64_t version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    int rc = patron__hq_program_apply(s, version, PQgetvalue(res, 0, 1), why, sizeof why);
    if (rc == 0)
        *have = version;
    else
        snprintf(detail, len,
                 "head office's program version %lld cannot be applied here, so the store "
                 "stays on version %lld: %s",
                 (long long)version, (long long)*have, why);
    return rc;
}

int patron__hq_program_take(patron_hq *h, patron_store *s, const PGresult *newest, int64_t reported,
                            int64_t *version, char *detail, size_t len)
{
    int64_t have = 0;
    int rc;
    if ((rc = patron_program_version(s, &have)) != 0) {
        snprintf(detail, len, "cannot read the store's program version");
        return rc;
    }
    rc = take_newest(s, newest, &have, detail, len);
    *version = have;
    if (have > 0 && have != reported) { /* head office holds it already: no write there */
        char why[512];
        int told = report_version(h, have, why, sizeof why);
        if (rc == 0 && told != 0) {
            snprintf(detail, len, "%s", why);
            rc = told;
        }
    }
    return rc;
}
