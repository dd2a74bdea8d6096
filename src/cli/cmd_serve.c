/* SPDX-License-Identifier: MIT */
/* `patron serve`: the counter service. Takes the service's own limits from one table, prepares
 * the store (schema migrated once, before any thread opens it), optionally seeds a demo store
 * with a till token printed once, and runs the HTTP/JSON API until SIGTERM, printing coupons on
 * the printer of the settings (--printer, --printer-profile) as the other commands do. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "../api/api.h"
#include "cli.h"
#ifdef PATRON_HAVE_HQ
#include "hq.h"
#include "link_pool.h"
#endif

static const char usage[] =
    "serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--port-file FILE] "
    "[--max-connections N] [--timeout SECONDS] [--request-timeout SECONDS] [--batch-max N] "
    "[--busy-timeout SECONDS] [--read-handles N] "
    "[--cashier-refund-limit POINTS] [--print-poll SECONDS] [--sync-interval SECONDS] "
    "[--hq-links N] "
    "[--display-idle SECONDS] [--webhook-poll SECONDS] [--webhook-timeout SECONDS] "
    "[--web-root DIR] [--session-ttl SECONDS] [--locale TAG] [--log-requests] [--demo] [--routes]"
    " (the global --printer SPEC and --printer-profile NAME choose the printer; with the global"
    " --hq URL the outbox is shipped to head office in the background)";

struct serve_option {
    const char *flag;
    size_t offset; /* in struct api_settings */
    int is_int64;  /* else unsigned */
    int64_t min, max, fallback;
};

#define OPT(f) offsetof(struct api_settings, f)

static const struct serve_option serve_options[] = {
    {"--max-connections", OPT(max_connections), 0, 1, 1000, 64},
    {"--timeout", OPT(timeout_s), 0, 1, 3600, 30},
    /* Headers and body of a request arrive within this, however slowly a client sends. */
    {"--request-timeout", OPT(request_timeout_s), 0, 1, 3600, 5},
    {"--batch-max", OPT(batch_max), 0, 1, 1024, 64},
    /* How long the writer waits for the database's write lock while another program (a backup, a
     * `patron` command) holds it, before the batch fails with 503. */
    {"--busy-timeout", OPT(busy_timeout_s), 0, 1, 3600, 5},
    {"--read-handles", OPT(read_handles), 0, 1, 32, 4},
    {"--cashier-refund-limit", OPT(cashier_refund_limit), 1, 0, 1000000000, 1000},
    /* How often queued jobs are retried without a wake-up; the queue's back-off decides which. */
    {"--print-poll", OPT(print_poll_s), 0, 1, 3600, 5},
    /* How often the outbox is shipped to head office without a commit to wake the sync. */
    {"--sync-interval", OPT(sync_interval_s), 0, 1, 3600, 5},
    /* Head office links kept open for online claims: the ones at the counter at once. */
    {"--hq-links", OPT(hq_links), 0, 1, 64, 4},
    /* The customer displays go back to the shop's welcome this long after the last event. */
    {"--display-idle", OPT(display_idle_s), 0, 1, 3600, 20},
    /* How often due webhook retries are looked for; new events wake the worker at once. */
    {"--webhook-poll", OPT(webhook_poll_s), 0, 1, 3600, 5},
    {"--webhook-timeout", OPT(webhook_timeout_s), 0, 1, 300, 10},
    /* A browser session's life from signing in (12 hours: a shift). */
    {"--session-ttl", OPT(session_ttl_s), 0, 1, 2592000, 43200},
};

static int take_options(struct cli *c, struct cli_args *a, struct api_settings *cfg)
{
    for (size_t i = 0; i < sizeof serve_options / sizeof serve_options[0]; i++) {
        const struct serve_option *o = &serve_options[i];
        const char *text = cli_take(a, o->flag);
        int64_t v = o->fallback;
        if (text && cli_parse_int(text, o->min, o->max, &v) != 0) {
            fprintf(stderr, "patron: %s takes a number from %lld to %lld\n", o->flag,
                    (long long)o->min, (long long)o->max);
            return cli_usage(c, usage);
        }
        if (o->is_int64)
            *(int64_t *)((char *)cfg + o->offset) = v;
        else
            *(unsigned *)((char *)cfg + o->offset) = (unsigned)v;
    }
    return 0;
}

static const char *const demo_members[] = {"Ada Lovelace", "Grace Hopper", "Alan Turing"};

/* Seeds members with points and a small catalogue, once: a store that has rewards is left as
 * it is. */
static int demo_seed(struct cli *c)
{
    static const struct patron_reward_def rewards[] = {
        {"Free coffee", 100, PATRON_VALUE_ITEM, 1001, 30},
        {"5.00 off your next visit", 500, PATRON_VALUE_AMOUNT, 500, 60},
    };
    struct patron_store_info info;
    struct patron_reward one;
    size_t count = 0;
    int err = patron_store_info(c->store, &info);
    if (err == 0 && info.store_id == 0)
        err = patron_store_init(c->store, 1, "Demo shop");
    if (err == 0)
        err = patron_reward_list(c->store, &one, 1, &count);
    if (err != 0 || count > 0)
        return err;
    for (size_t i = 0; i < sizeof rewards / sizeof rewards[0] && err == 0; i++) {
        int64_t id;
        err = patron_reward_add(c->store, &rewards[i], &id);
    }
    for (size_t i = 0; i < sizeof demo_members / sizeof demo_members[0] && err == 0; i++) {
        /* the first agrees to be greeted by name on the customer display; the others did not */
        struct patron_enrollment in = {.name = demo_members[i], .greet_by_name = i == 0};
        struct patron_member m;
        struct patron_sale_result r;
        char ref[32], key[48];
        if ((err = patron_member_enroll(c->store, &in, &m)) != 0)
            break;
        snprintf(ref, sizeof ref, "DEMO-%zu", i + 1);
        snprintf(key, sizeof key, "demo-seed-%zu", i + 1);
        struct patron_sale sale = {.card = m.card,
                                   .ref = ref,
                                   .total_minor = 25000 * (int64_t)(i + 1),
                                   .idempotency_key = key};
        err = patron_sale_record(c->store, &sale, &r);
        printf("demo member %-14s card %s\n", m.name, m.card);
    }
    return err;
}

/* Gives the demo till a fresh token and prints it: the only time it is shown. */
static int demo_till(struct cli *c)
{
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    char display[4200];
    int err = patron_terminal_add(c->store, "demo-till", PATRON_ROLE_CASHIER, &t, token);
    /* a new demo till shows its customer display as text and pictures in HOME/display */
    if (err == 0 && c->home &&
        (size_t)snprintf(display, sizeof display, "virtual:%s/display", c->home) < sizeof display &&
        patron_terminal_display_set(c->store, "demo-till", display, NULL) == 0)
        printf("demo customer display: %s/display/frame-N.txt and .png\n", c->home);
    if (err == PATRON_ELIMIT)
        err = patron_terminal_rotate(c->store, "demo-till", &t, token);
    if (err != 0)
        return err;
    printf("demo till token (cashier, shown once): %s\n", token);
    fflush(stdout);
    OPENSSL_cleanse(token, sizeof token);
    return 0;
}

/* A BCP 47 tag as the screens pass it to Intl: letters, digits and '-', 2 to 35 bytes. */
static int locale_ok(const char *t)
{
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '-'))
            return 0;
    return n >= 2 && n <= 35;
}

#ifdef PATRON_HAVE_HQ
/* The head office links the service keeps open for its claims (link_pool.h): opened before the
 * service starts, closed after its last thread ended. A link idle for 5 minutes is closed rather
 * than used again. The callbacks' URL is the pool's. */
#define SERVE_LINK_IDLE_S 300
static patron_hq_pool *serve_links;

static int serve_claim(const char *hq, const char *member_uid, int64_t points, int64_t local_points,
                       const char *key, char *detail, size_t len)
{
    (void)hq;
    return patron_hq_pool_claim(serve_links, member_uid, points, local_points, key, detail, len);
}

static int serve_claim_release(const char *hq, const char *key, char *detail, size_t len)
{
    (void)hq;
    return patron_hq_pool_claim_release(serve_links, key, detail, len);
}

static int serve_refund_claim(const char *hq, const char *member_uid, int64_t points,
                              int64_t local_points, int clamp, const char *key, int64_t *taken,
                              int *fresh, char *detail, size_t len)
{
    (void)hq;
    return patron_hq_pool_claim_refund(serve_links, member_uid, points, local_points, clamp, key,
                                       taken, fresh, detail, len);
}

static int serve_voucher_claim(const char *hq, int64_t key_id, int64_t voucher_id, const char *key,
                               char *detail, size_t len)
{
    (void)hq;
    return patron_hq_pool_voucher_claim(serve_links, key_id, voucher_id, key, detail, len);
}

static int serve_voucher_release(const char *hq, const char *key, char *detail, size_t len)
{
    (void)hq;
    return patron_hq_pool_voucher_release(serve_links, key, detail, len);
}

static int serve_chain_read(const char *hq, json_t **stores, json_t **conflicts, char *detail,
                            size_t len)
{
    (void)hq;
    return cli_serve_chain_read(serve_links, stores, conflicts, detail, len);
}

/* The claims and the chain screen's read go through the pool, instead of a connection each, when
 * there is a head office. */
static int serve_links_open(struct api_settings *cfg)
{
    if (!cfg->hq || !cfg->hq[0])
        return 0;
    int err = patron_hq_pool_open(cfg->hq, cfg->hq_links, SERVE_LINK_IDLE_S, &serve_links);
    if (err != 0)
        return err;
    cfg->spend_claim = serve_claim;
    cfg->spend_release = serve_claim_release;
    cfg->refund_claim = serve_refund_claim;
    cfg->voucher_claim = serve_voucher_claim;
    cfg->voucher_release = serve_voucher_release;
    cfg->chain_read = serve_chain_read;
    return 0;
}
#endif

int cli_cmd_serve(struct cli *c, struct cli_args *a)
{
    struct api_settings cfg = {0};
    char why[512];
    int status, err;
    if (cli_flag(a, "--routes")) {
        api_routes_print(stdout);
        return CLI_EXIT_OK;
    }
    int demo = cli_flag(a, "--demo");
    cfg.log_requests = cli_flag(a, "--log-requests");
    cfg.port_file = cli_take(a, "--port-file");
    cfg.web_root = cli_take(a, "--web-root");
    cfg.locale = cli_take(a, "--locale");
    if (cfg.locale && !locale_ok(cfg.locale)) {
        fprintf(stderr, "patron: --locale takes a language tag such as en-GB or fr-FR\n");
        return cli_usage(c, usage);
    }
    if ((status = take_options(c, a, &cfg)) != 0 || (status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    cfg.db_path = c->db_path;
    cfg.listen = c->listen;
    cfg.tls_cert = c->tls_cert;
    cfg.tls_key = c->tls_key;
    cfg.has_now = c->has_now;
    cfg.now = c->now;
    cfg.printer_spec = c->printer_spec;
    cfg.printer_profile = c->printer_profile;
    cfg.home = c->home;
    cfg.open_printer = cli_printer_open;
    cfg.hq = c->hq;
#ifdef PATRON_HAVE_HQ
    cfg.sync_run = cli_sync_link_run;
    cfg.sync_close = cli_sync_link_close;
    cfg.card_lookup = patron_hq_card_lookup_url;
    cfg.card_space_grant = patron_hq_card_space_grant_url;
#endif
    cfg.wallet = c->wallet;
    cfg.google = c->google;
    cfg.apns_url = c->apns_url;
    struct patron_escpos_profile profile;
    if (c->printer_profile && strcmp(c->printer_profile, "auto") != 0 &&
        cli_profile_resolve(c->printer_profile, &profile, why, sizeof why) != 0) {
        fprintf(stderr, "patron: %s\n", why);
        return cli_usage(c, usage);
    }
    /* A broken template would leave every coupon queued: refuse to start, saying where. */
    if ((status = cli_check_templates(c)) != 0)
        return status;
    /* Opening once here applies migrations before the service's handles open the file. A demo
     * may start from nothing: it makes the store itself. */
    c->opening_for_init = demo;
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (demo && ((err = demo_seed(c)) != 0 || (err = demo_till(c)) != 0))
        return cli_fail(c, err, "cannot prepare the demo store");
    patron_store_close(c->store);
    c->store = NULL;
#ifdef PATRON_HAVE_HQ
    if ((err = serve_links_open(&cfg)) != 0)
        return cli_fail(c, err, "cannot keep head office links");
#endif
    err = api_serve(&cfg, why, sizeof why);
#ifdef PATRON_HAVE_HQ
    patron_hq_pool_close(serve_links);
    serve_links = NULL;
#endif
    if (err != 0) {
        fprintf(stderr, "patron: cannot serve: %s.\n", why[0] ? why : patron_strerror(err));
        return err == PATRON_EINVAL ? CLI_EXIT_USAGE : cli_exit_status(err);
    }
    return CLI_EXIT_OK;
}
