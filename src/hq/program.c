/* SPDX-License-Identifier: MIT */
/* The program head office authors (`patron hq program|reward|offer|key ...`): a draft of rules,
 * categories, tiers, rewards, offers and the chain's key trust list in tables only head office's
 * owner may read and write, and `publish`, which writes the whole draft as one new version of
 * program_versions, atomically, under a lock. Every change to the draft is checked by applying the
 * whole draft to a scratch store with the store's own calls (pull_program.c), the very function
 * stores apply publications with: no second copy of a rule's range, and a draft head office could
 * not publish never exists. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hq_internal.h"
#include "patron/error.h"
#include "patron/keyring.h"
#include "patron/offer.h"

#include <jansson.h>

/* The draft as the document a publication holds. */
static const char draft_sql[] =
    "SELECT jsonb_build_object("
    " 'rules', coalesce((SELECT jsonb_object_agg(name, value) FROM program_draft_rules),"
    " '{}'::jsonb),"
    " 'categories', coalesce((SELECT jsonb_object_agg(name, multiplier_permille)"
    " FROM program_draft_categories), '{}'::jsonb),"
    " 'tiers', coalesce((SELECT jsonb_agg(jsonb_build_object('name', name, 'threshold', threshold,"
    " 'multiplier_permille', multiplier_permille) ORDER BY threshold) FROM program_draft_tiers),"
    " '[]'::jsonb),"
    " 'rewards', coalesce((SELECT jsonb_agg(jsonb_build_object('reward_id', reward_id, 'name', "
    "name,"
    " 'cost', cost, 'kind', kind, 'value', value, 'valid_days', valid_days,"
    " 'ended', ended_at IS NOT NULL) ORDER BY reward_id) FROM program_draft_rewards),"
    " '[]'::jsonb),"
    " 'offers', coalesce((SELECT jsonb_agg(body || jsonb_build_object('offer_id', offer_id,"
    " 'ended', ended_at IS NOT NULL) ORDER BY offer_id) FROM program_draft_offers), '[]'::jsonb),"
    " 'keys', coalesce((SELECT jsonb_agg(jsonb_build_object('key_id', key_id, 'partner', partner,"
    " 'chain_id', chain_id, 'pem', pem, 'revoked', revoked_at IS NOT NULL) ORDER BY key_id)"
    " FROM program_draft_keys), '[]'::jsonb))::text";

static int drop_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Applies `body` to a fresh scratch store, the way a store would; its sentence when refused. */
static int check_on_scratch(const char *body, char *detail, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    patron_store *s = NULL;
    snprintf(dir, sizeof dir, "%s/patron-draft-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(detail, len, "cannot make a scratch store to check the program in");
        return -errno;
    }
    snprintf(path, sizeof path, "%s/draft.db", dir);
    int rc = patron_store_open(path, &s);
    if (rc == 0 && (rc = patron_store_init(s, 1, "Head office draft")) != 0)
        snprintf(detail, len, "cannot make a scratch store: %s", patron_store_detail(s));
    else if (rc != 0)
        snprintf(detail, len, "cannot make a scratch store to check the program in");
    if (rc == 0)
        rc = patron__hq_program_apply(s, 1, body, detail, len);
    patron_store_close(s);
    nftw(dir, drop_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* The draft's document (malloc'd) into *body. */
static int read_draft(patron_hq *h, char **body, char *detail, size_t len)
{
    PGresult *res = PQexec(h->conn, draft_sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return patron__hq_fail(res, h->conn, "cannot read the program draft", detail, len);
    *body = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return *body ? 0 : PATRON_ENOMEM;
}

/* Runs one change of the draft and checks the whole draft, in one transaction. The first column
 * of the change's first row (when it returns rows) into `returned`; a change that should hit a
 * row and hits none is PATRON_ENOTFOUND with `missing` as its sentence. */
static int change(patron_hq *h, const char *sql, int n, const char *const *params,
                  const char *missing, char *returned, size_t rlen, char *detail, size_t len)
{
    char *body = NULL;
    int rc = patron__hq_run(h->conn, "BEGIN", "cannot start the change", detail, len);
    if (rc != 0)
        return rc;
    PGresult *res = PQexecParams(h->conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        rc = patron__hq_fail(res, h->conn, "cannot change the program draft", detail, len);
    } else {
        if (missing && PQntuples(res) == 0 && strcmp(PQcmdTuples(res), "0") == 0) {
            snprintf(detail, len, "%s", missing);
            rc = PATRON_ENOTFOUND;
        } else if (returned && PQntuples(res) > 0) {
            snprintf(returned, rlen, "%s", PQgetvalue(res, 0, 0));
        }
        PQclear(res);
    }
    if (rc == 0 && (rc = read_draft(h, &body, detail, len)) == 0)
        rc = check_on_scratch(body, detail, len);
    free(body);
    if (rc == 0)
        return patron__hq_run(h->conn, "COMMIT", "cannot commit the change", detail, len);
    PQclear(PQexec(h->conn, "ROLLBACK"));
    return rc;
}

int patron_hq_program_rule_set(patron_hq *h, const char *name, const char *value, char *detail,
                               size_t len)
{
    const char *params[] = {name, value};
    return change(h,
                  "INSERT INTO program_draft_rules (name, value) VALUES ($1, $2)"
                  " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                  2, params, NULL, NULL, 0, detail, len);
}

int patron_hq_program_category_set(patron_hq *h, const char *name, int64_t multiplier_permille,
                                   char *detail, size_t len)
{
    char m[24];
    const char *params[] = {name, m};
    snprintf(m, sizeof m, "%lld", (long long)multiplier_permille);
    return change(h,
                  "INSERT INTO program_draft_categories (name, multiplier_permille)"
                  " VALUES ($1, $2::bigint) ON CONFLICT (name) DO UPDATE"
                  " SET multiplier_permille = excluded.multiplier_permille",
                  2, params, NULL, NULL, 0, detail, len);
}

int patron_hq_program_tier_set(patron_hq *h, const char *name, int64_t threshold,
                               int64_t multiplier_permille, char *detail, size_t len)
{
    char t[24], m[24];
    const char *params[] = {name, t, m};
    snprintf(t, sizeof t, "%lld", (long long)threshold);
    snprintf(m, sizeof m, "%lld", (long long)multiplier_permille);
    int rc = change(h,
                    "INSERT INTO program_draft_tiers (name, threshold, multiplier_permille)"
                    " VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (name) DO UPDATE"
                    " SET threshold = excluded.threshold,"
                    " multiplier_permille = excluded.multiplier_permille",
                    3, params, NULL, NULL, 0, detail, len);
    if (rc == PATRON_EDUPLICATE)
        snprintf(detail, len, "another tier already has threshold %lld", (long long)threshold);
    return rc;
}

int patron_hq_reward_add(patron_hq *h, const struct patron_reward_def *d, int64_t *reward_id,
                         char *detail, size_t len)
{
    char cost[24], value[24], days[24], id[24] = "0";
    const char *params[] = {d->name ? d->name : "", cost, patron_value_kind_name(d->kind), value,
                            days};
    snprintf(cost, sizeof cost, "%lld", (long long)d->cost);
    snprintf(value, sizeof value, "%lld", (long long)d->value);
    snprintf(days, sizeof days, "%lld", (long long)d->valid_days);
    int rc = change(h,
                    "INSERT INTO program_draft_rewards (name, cost, kind, value, valid_days)"
                    " VALUES ($1, $2::bigint, $3, $4::bigint, $5::bigint) RETURNING reward_id",
                    5, params, NULL, id, sizeof id, detail, len);
    if (rc == PATRON_EDUPLICATE)
        snprintf(detail, len, "head office already has a running reward named '%s'", d->name);
    *reward_id = strtoll(id, NULL, 10);
    return rc;
}

/* Ends the running draft `noun` (reward, offer) `id` with `sql` ($1 the id). */
static int end_draft(patron_hq *h, const char *sql, const char *noun, int64_t id, char *detail,
                     size_t len)
{
    char text[24], missing[96];
    const char *params[] = {text};
    snprintf(text, sizeof text, "%lld", (long long)id);
    snprintf(missing, sizeof missing, "head office has no running %s %lld", noun, (long long)id);
    return change(h, sql, 1, params, missing, NULL, 0, detail, len);
}

int patron_hq_reward_end(patron_hq *h, int64_t reward_id, char *detail, size_t len)
{
    return end_draft(h,
                     "UPDATE program_draft_rewards SET ended_at = now()"
                     " WHERE reward_id = $1::bigint AND ended_at IS NULL",
                     "reward", reward_id, detail, len);
}

int patron_hq_program_draft(patron_hq *h, char **body, int64_t *latest, char *detail, size_t len)
{
    int rc = read_draft(h, body, detail, len);
    if (rc != 0)
        return rc;
    PGresult *res = PQexec(h->conn, "SELECT coalesce(max(version), 0) FROM program_versions");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        free(*body);
        *body = NULL;
        return patron__hq_fail(res, h->conn, "cannot read the program versions", detail, len);
    }
    *latest = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* Under the lock: checks the draft and writes it as the next version. */
static int publish_locked(patron_hq *h, int64_t *version, char *detail, size_t len)
{
    char *body = NULL;
    int rc = read_draft(h, &body, detail, len);
    if (rc == 0)
        rc = check_on_scratch(body, detail, len);
    if (rc == 0) {
        const char *params[] = {body};
        PGresult *res = PQexecParams(
            h->conn,
            "INSERT INTO program_versions (version, body) SELECT coalesce(max(version), 0) + 1,"
            " $1::jsonb FROM program_versions RETURNING version",
            1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = patron__hq_fail(res, h->conn, "cannot publish the program", detail, len);
        } else {
            *version = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
        }
    }
    free(body);
    return rc;
}

int patron_hq_program_publish(patron_hq *h, int64_t *version, char *detail, size_t len)
{
    int rc =
        patron__hq_run(h->conn, "BEGIN; LOCK TABLE program_versions IN SHARE ROW EXCLUSIVE MODE",
                       "cannot lock the program versions", detail, len);
    if (rc != 0) {
        PQclear(PQexec(h->conn, "ROLLBACK"));
        return rc;
    }
    if ((rc = publish_locked(h, version, detail, len)) == 0)
        return patron__hq_run(h->conn, "COMMIT", "cannot commit the publication", detail, len);
    PQclear(PQexec(h->conn, "ROLLBACK"));
    return rc;
}

/* The key id a store would give `pem_file` (want, or from its name), checked on a scratch store
 * with patron_keyring_trust itself. */
static int check_key(const char *pem_file, const char *partner, const char *chain_id, int want,
                     int *key_id, char *detail, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], path[600];
    patron_store *s = NULL;
    snprintf(dir, sizeof dir, "%s/patron-key-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(detail, len, "cannot make a scratch store to check the key in");
        return -errno;
    }
    snprintf(path, sizeof path, "%s/key.db", dir);
    int rc = patron_store_open(path, &s);
    /* store id 65535: its own key takes that id, out of the way of most key ids */
    if (rc == 0 && (rc = patron_store_init(s, 65535, "Head office key check")) == 0)
        rc = patron_keyring_trust(s, pem_file, partner, chain_id, want, key_id);
    snprintf(detail, len, "%s", s ? patron_store_detail(s) : "cannot make a scratch store");
    patron_store_close(s);
    nftw(dir, drop_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}

static int read_pem(const char *file, char *pem, size_t cap, char *detail, size_t len)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        snprintf(detail, len, "cannot read %s", file);
        return -errno;
    }
    size_t n = fread(pem, 1, cap - 1, f);
    pem[n] = '\0';
    fclose(f);
    return 0;
}

int patron_hq_key_add(patron_hq *h, const char *pem_file, const char *partner, const char *chain_id,
                      int want, int *key_id, char *detail, size_t len)
{
    char pem[1024], id[16];
    int rc = check_key(pem_file, partner, chain_id, want, key_id, detail, len);
    if (rc == 0)
        rc = read_pem(pem_file, pem, sizeof pem, detail, len);
    if (rc != 0)
        return rc;
    snprintf(id, sizeof id, "%d", *key_id);
    const char *params[] = {id, partner, chain_id, pem};
    rc = change(h,
                "INSERT INTO program_draft_keys (key_id, partner, chain_id, pem)"
                " VALUES ($1::integer, $2, lower($3), $4)",
                4, params, NULL, NULL, 0, detail, len);
    if (rc == PATRON_EDUPLICATE)
        snprintf(detail, len, "key id %d is already in head office's trust list", *key_id);
    return rc;
}

int patron_hq_key_revoke(patron_hq *h, int key_id, char *detail, size_t len)
{
    char id[16], missing[96];
    const char *params[] = {id};
    snprintf(id, sizeof id, "%d", key_id);
    snprintf(missing, sizeof missing, "head office trusts no key %d (or it is revoked already)",
             key_id);
    return change(h,
                  "UPDATE program_draft_keys SET revoked_at = now()"
                  " WHERE key_id = $1::integer AND revoked_at IS NULL",
                  1, params, missing, NULL, 0, detail, len);
}

static void put_text(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_string(v));
}

/* `patron offer add`'s definition as the document stores read back (pull_program.c). */
static json_t *offer_doc(const struct patron_offer_def *d)
{
    char benefit[32];
    patron_offer_benefit_format(d->benefit, d->benefit_value, benefit, sizeof benefit);
    json_t *o = json_pack(
        "{s:s, s:I, s:b, s:I, s:b, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "name", d->name,
        "within_days", (json_int_t)d->within_days, "birthday_month", d->birthday_month,
        "lapsed_days", (json_int_t)d->lapsed_days, "first_visit", d->first_visit,
        "min_basket_minor", (json_int_t)d->min_basket_minor, "benefit", benefit, "exclusive",
        d->exclusive, "valid_from", (json_int_t)d->valid_from, "valid_to", (json_int_t)d->valid_to,
        "limit_per_member", (json_int_t)d->limit_per_member, "limit_total",
        (json_int_t)d->limit_total, "limit_per_day", (json_int_t)d->limit_per_day);
    if (o) {
        put_text(o, "tier", d->tier);
        put_text(o, "category", d->category);
        put_text(o, "sku", d->sku);
        put_text(o, "basket_category", d->basket_category);
    }
    return o;
}

int patron_hq_offer_add(patron_hq *h, const struct patron_offer_def *d, int64_t *offer_id,
                        char *detail, size_t len)
{
    char id[24] = "0";
    *offer_id = 0;
    if (d->benefit == PATRON_BENEFIT_REWARD || d->segment) {
        snprintf(detail, len,
                 "head office cannot publish an offer with a %s: reward ids and segments are "
                 "each store's own",
                 d->segment ? "segment" : "reward benefit");
        return PATRON_EINVAL;
    }
    json_t *o = d->name ? offer_doc(d) : NULL;
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) {
        snprintf(detail, len, "an offer needs a name");
        return d->name ? PATRON_ENOMEM : PATRON_EINVAL;
    }
    const char *params[] = {d->name, body};
    int rc = change(h,
                    "INSERT INTO program_draft_offers (name, body) VALUES ($1, $2::jsonb)"
                    " RETURNING offer_id",
                    2, params, NULL, id, sizeof id, detail, len);
    free(body);
    if (rc == PATRON_EDUPLICATE)
        snprintf(detail, len, "head office already has a running offer named '%s'", d->name);
    *offer_id = strtoll(id, NULL, 10);
    return rc;
}

int patron_hq_offer_end(patron_hq *h, int64_t offer_id, char *detail, size_t len)
{
    return end_draft(h,
                     "UPDATE program_draft_offers SET ended_at = now()"
                     " WHERE offer_id = $1::bigint AND ended_at IS NULL",
                     "offer", offer_id, detail, len);
}
