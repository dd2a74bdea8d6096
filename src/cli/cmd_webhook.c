/* SPDX-License-Identifier: MIT */
/* `patron webhook add|list|remove|rotate|test|deliveries|retry`: the endpoints that hear of the
 * store's events (Standard Webhooks 1.0), their signing keys, and what became of each delivery.
 * Deliveries themselves run inside `patron serve`; `test` sends one signed test event from here. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "../api/api.h"
#include "cli.h"
#include "patron/json.h"
#include "patron/webhook.h"

static const char webhook_usage[] =
    "patron webhook add URL --events LIST [--secret | --ed25519] [--personal]\n"
    "       patron webhook list | remove ID | test ID\n"
    "       patron webhook rotate ID [--secret | --ed25519] [--overlap SECONDS]\n"
    "       patron webhook deliveries [--webhook ID] [--status queued|delivered|failed] "
    "[--limit N]\n"
    "       patron webhook retry DELIVERY_ID | retry --webhook ID";

static int take_id(const char *text, int64_t *id)
{
    return text && cli_parse_int(text, 1, INT64_MAX, id) == 0 ? 0 : -1;
}

/* --secret (the default) or --ed25519; -1 when both are given. */
static int take_kind(struct cli_args *a, enum patron_webhook_key_kind *kind)
{
    int hmac = cli_flag(a, "--secret"), ed = cli_flag(a, "--ed25519");
    *kind = ed ? PATRON_WEBHOOK_ED25519 : PATRON_WEBHOOK_HMAC;
    return hmac && ed ? -1 : 0;
}

/* Prints the new key once: {"webhook_id", "secret"} or {"webhook_id", "public_key"}. */
static int emit_key(struct cli *c, int64_t id, enum patron_webhook_key_kind kind,
                    char secret[PATRON_WEBHOOK_SECRET_MAX], const char *verb)
{
    char human[PATRON_WEBHOOK_SECRET_MAX + 200];
    int ed = kind == PATRON_WEBHOOK_ED25519;
    snprintf(human, sizeof human, "Webhook %lld %s.\n%s (shown once): %s\n", (long long)id, verb,
             ed ? "Ed25519 public key for the receiver" : "Signing secret", secret);
    json_t *out =
        json_pack("{s:I, s:s}", "webhook_id", (json_int_t)id, ed ? "public_key" : "secret", secret);
    int status = cli_emit(c, out, human);
    OPENSSL_cleanse(secret, PATRON_WEBHOOK_SECRET_MAX);
    OPENSSL_cleanse(human, sizeof human);
    return status;
}

static int webhook_add(struct cli *c, struct cli_args *a)
{
    struct patron_webhook_def def = {.events = cli_take(a, "--events")};
    char secret[PATRON_WEBHOOK_SECRET_MAX];
    int64_t id = 0;
    def.personal = cli_flag(a, "--personal");
    if (take_kind(a, &def.kind) != 0 || !def.events || !(def.url = cli_positional(a)) ||
        a->argc != 0)
        return cli_usage(c, webhook_usage);
    int err = patron_webhook_add(c->store, &def, &id, secret);
    if (err != 0)
        return cli_fail(c, err, "webhook not added");
    return emit_key(c, id, def.kind, secret, "added");
}

static int webhook_rotate(struct cli *c, struct cli_args *a)
{
    const char *overlap_text = cli_take(a, "--overlap");
    enum patron_webhook_key_kind kind;
    char secret[PATRON_WEBHOOK_SECRET_MAX];
    int64_t id, overlap = 86400;
    if (take_kind(a, &kind) != 0 || take_id(cli_positional(a), &id) != 0 || a->argc != 0 ||
        (overlap_text && cli_parse_int(overlap_text, 0, 30 * 86400, &overlap) != 0))
        return cli_usage(c, webhook_usage);
    int err = patron_webhook_rotate(c->store, id, kind, overlap, secret);
    if (err != 0)
        return cli_fail(c, err, "webhook key not rotated");
    return emit_key(c, id, kind, secret, "has a new key; the old ones sign until the overlap ends");
}

static int list_one(const struct patron_webhook *w, void *ctx)
{
    struct cli *c = ((void **)ctx)[0];
    json_t *arr = ((void **)ctx)[1];
    json_array_append_new(arr, json_pack("{s:I, s:s, s:s, s:b, s:b, s:s, s:i, s:o}", "webhook_id",
                                         (json_int_t)w->id, "url", w->url, "events", w->events,
                                         "personal", w->personal, "enabled", w->enabled,
                                         "disabled_reason", w->disabled_reason, "keys", w->keys,
                                         "created_at", patron_json_time(w->created_at)));
    if (!c->json)
        printf("%5lld  %-8s %s  %s%s%s\n", (long long)w->id, w->enabled ? "enabled" : "disabled",
               w->url, w->events, w->personal ? "  (personal data)" : "",
               w->enabled ? "" : w->disabled_reason);
    return 0;
}

static int webhook_list(struct cli *c)
{
    json_t *arr = json_array();
    void *ctx[2] = {c, arr};
    int err = patron_webhook_list(c->store, list_one, ctx);
    if (err != 0) {
        json_decref(arr);
        return cli_fail(c, err, "cannot list the webhooks");
    }
    return cli_emit(c, json_pack("{s:o}", "webhooks", arr), NULL);
}

static int delivery_one(const struct patron_webhook_delivery *d, void *ctx)
{
    struct cli *c = ((void **)ctx)[0];
    json_t *arr = ((void **)ctx)[1];
    json_array_append_new(
        arr, json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:o, s:i, s:s, s:o, s:o}", "delivery_id",
                       (json_int_t)d->id, "webhook_id", (json_int_t)d->endpoint_id, "event",
                       d->event, "webhook_msg_id", d->msg_id, "status", d->status, "attempts",
                       d->attempts, "next_attempt", patron_json_time(d->next_attempt),
                       "last_status", d->last_status, "last_error", d->last_error, "occurred_at",
                       patron_json_time(d->occurred_at), "delivered_at",
                       d->delivered_at ? patron_json_time(d->delivered_at) : json_null()));
    if (!c->json)
        printf("%6lld  webhook %lld  %-18s %-9s attempts %d  %s\n", (long long)d->id,
               (long long)d->endpoint_id, d->event, d->status, d->attempts, d->last_error);
    return 0;
}

static int webhook_deliveries(struct cli *c, struct cli_args *a)
{
    const char *hook = cli_take(a, "--webhook"), *status = cli_take(a, "--status");
    const char *limit_text = cli_take(a, "--limit");
    int64_t id = 0, limit = 50;
    if ((hook && take_id(hook, &id) != 0) || a->argc != 0 ||
        (limit_text && cli_parse_int(limit_text, 1, 100000, &limit) != 0) ||
        (status && strcmp(status, "queued") != 0 && strcmp(status, "delivered") != 0 &&
         strcmp(status, "failed") != 0))
        return cli_usage(c, webhook_usage);
    json_t *arr = json_array();
    void *ctx[2] = {c, arr};
    int err = patron_webhook_deliveries(c->store, id, status, (size_t)limit, delivery_one, ctx);
    if (err != 0) {
        json_decref(arr);
        return cli_fail(c, err, "cannot list the deliveries");
    }
    return cli_emit(c, json_pack("{s:o}", "deliveries", arr), NULL);
}

static int webhook_retry(struct cli *c, struct cli_args *a)
{
    const char *hook = cli_take(a, "--webhook"), *one = cli_positional(a);
    int64_t endpoint = 0, delivery = 0;
    size_t n = 0;
    char human[160];
    if ((hook && take_id(hook, &endpoint) != 0) || (one && take_id(one, &delivery) != 0) ||
        (!hook == !one) || a->argc != 0)
        return cli_usage(c, webhook_usage);
    int err = patron_webhook_retry(c->store, delivery, endpoint, &n);
    if (err != 0)
        return cli_fail(c, err, "nothing retried");
    snprintf(human, sizeof human, "%zu deliveries are due now; `patron serve` sends them%s.\n", n,
             endpoint ? " (the webhook is enabled)" : "");
    return cli_emit(c, json_pack("{s:I}", "retried", (json_int_t)n), human);
}

static int webhook_test(struct cli *c, struct cli_args *a)
{
    struct patron_webhook_request r;
    int64_t id;
    int status = 0;
    int64_t after = 0;
    char why[256], human[400];
    if (take_id(cli_positional(a), &id) != 0 || a->argc != 0)
        return cli_usage(c, webhook_usage);
    int err = patron_webhook_test_request(c->store, id, &r);
    if (err != 0)
        return cli_fail(c, err, "no test event");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    err = api_webhook_post(&r, 10, NULL, &status, &after, why, sizeof why);
    curl_global_cleanup();
    patron_webhook_request_free(&r);
    if (err != 0)
        return cli_fail(c, err, "test event not sent");
    int ok = status >= 200 && status < 300;
    if (status)
        snprintf(human, sizeof human, "Test event %s %s: the receiver answered %d.\n", r.msg_id,
                 ok ? "delivered" : "not delivered", status);
    else
        snprintf(human, sizeof human, "Test event %s not delivered: %s.\n", r.msg_id, why);
    json_t *out =
        json_pack("{s:I, s:s, s:b, s:i, s:s}", "webhook_id", (json_int_t)id, "webhook_msg_id",
                  r.msg_id, "delivered", ok, "status", status, "error", status ? "" : why);
    int exit_status = cli_emit(c, out, human);
    return ok ? exit_status : CLI_EXIT_OTHER;
}

int cli_cmd_webhook(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int64_t id;
    int status, err;
    if (!sub)
        return cli_usage(c, webhook_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "add") == 0)
        return webhook_add(c, a);
    if (strcmp(sub, "list") == 0)
        return a->argc ? cli_usage(c, webhook_usage) : webhook_list(c);
    if (strcmp(sub, "rotate") == 0)
        return webhook_rotate(c, a);
    if (strcmp(sub, "deliveries") == 0)
        return webhook_deliveries(c, a);
    if (strcmp(sub, "retry") == 0)
        return webhook_retry(c, a);
    if (strcmp(sub, "test") == 0)
        return webhook_test(c, a);
    if (strcmp(sub, "remove") != 0 || take_id(cli_positional(a), &id) != 0 || a->argc != 0)
        return cli_usage(c, webhook_usage);
    if ((err = patron_webhook_remove(c->store, id)) != 0)
        return cli_fail(c, err, "webhook not removed");
    return cli_emit(c, json_pack("{s:I}", "webhook_id", (json_int_t)id), "Webhook removed.\n");
}
