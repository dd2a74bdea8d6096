/* SPDX-License-Identifier: MIT */
/* The one route table of the counter service: method, path pattern, the lowest role allowed,
 * where the handler runs (read handle or the group-commit writer), whether an Idempotency-Key is
 * required, the exact shape of the body, and the one query parameter a route may take.
 * docs/openapi.yaml documents the same table, and a test holds the two to each other. */
#include <string.h>

#include "api.h"
#include "events.h"
#include "handlers.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SPEC(fields)                                                                               \
    {                                                                                              \
        fields, N(fields)                                                                          \
    }

/* Bounds come from the library's one table of limits (include/patron/limits.h) so that the API
 * refuses what the library would, with the field named; text lengths are in bytes. */
static const struct api_field f_card[] = {
    {"card", API_JSON_STRING, 1, 1, 32, NULL},
};
static const struct api_body_spec b_card = SPEC(f_card);

static const struct api_field f_sale_line[] = {
    {"sku", API_JSON_STRING, 1, 1, PATRON_TOKEN_MAX, NULL},
    {"category", API_JSON_STRING, 1, 1, PATRON_TOKEN_MAX, NULL},
    {"qty", API_JSON_INT, 1, 1, PATRON_QTY_MAX, NULL},
    {"unit_price", API_JSON_INT, 1, 0, PATRON_UNIT_PRICE_MAX, NULL},
};
static const struct api_body_spec b_sale_line = SPEC(f_sale_line);
static const struct api_field f_sale[] = {
    {"card", API_JSON_STRING, 1, 1, 32, NULL},
    {"ref", API_JSON_STRING, 1, 1, PATRON_REF_MAX, NULL},
    {"total", API_JSON_INT, 1, 0, PATRON_TOTAL_MAX, NULL},
    {"currency", API_JSON_STRING, 0, 3, 3, NULL},
    {"lines", API_JSON_ARRAY, 0, 0, PATRON_SALE_MAX_LINES, &b_sale_line},
};
static const struct api_body_spec b_sale = SPEC(f_sale);

static const struct api_field f_refund_line[] = {
    {"sku", API_JSON_STRING, 1, 1, PATRON_TOKEN_MAX, NULL},
    {"qty", API_JSON_INT, 1, 1, PATRON_QTY_MAX, NULL},
};
static const struct api_body_spec b_refund_line = SPEC(f_refund_line);
static const struct api_field f_refund[] = {
    {"ref", API_JSON_STRING, 1, 1, PATRON_REF_MAX, NULL},
    {"return_ref", API_JSON_STRING, 0, 1, PATRON_REF_MAX, NULL},
    {"lines", API_JSON_ARRAY, 0, 0, PATRON_SALE_MAX_LINES, &b_refund_line},
};
static const struct api_body_spec b_refund = SPEC(f_refund);

static const struct api_field f_enroll[] = {
    {"name", API_JSON_STRING, 1, 1, PATRON_NAME_MAX, NULL},
    {"email", API_JSON_STRING, 0, 3, PATRON_EMAIL_MAX, NULL},
    {"phone", API_JSON_STRING, 0, 3, PATRON_PHONE_MAX, NULL},
    {"birthday", API_JSON_STRING, 0, 10, 10, NULL},
    {"consent_marketing", API_JSON_BOOL, 0, 0, 1, NULL},
    {"consent_source", API_JSON_STRING, 0, 1, PATRON_SOURCE_MAX, NULL},
    {"greet_by_name", API_JSON_BOOL, 0, 0, 1, NULL},
    {"referred_by", API_JSON_STRING, 0, 1, 16, NULL}, /* a referral code, dashes allowed */
};
static const struct api_body_spec b_enroll = SPEC(f_enroll);

static const struct api_field f_adjust[] = {
    {"card", API_JSON_STRING, 1, 1, 32, NULL},
    {"points", API_JSON_INT, 1, -PATRON_ADJUST_POINTS_MAX, PATRON_ADJUST_POINTS_MAX, NULL},
    {"reason", API_JSON_STRING, 1, 1, PATRON_REASON_MAX, NULL},
};
static const struct api_body_spec b_adjust = SPEC(f_adjust);

/* A token is 243 digits and a code 14 symbols (17 with dashes); the library reads both strictly.
 * A "token" of 32 characters or fewer would be read as a code, so it is refused here. */
static const struct api_field f_voucher_check[] = {
    {"token", API_JSON_STRING, 0, 33, 300, NULL},
    {"code", API_JSON_STRING, 0, 1, 32, NULL},
    {"card", API_JSON_STRING, 0, 1, 32, NULL},
};
static const struct api_body_spec b_voucher_check = SPEC(f_voucher_check);

static const struct api_field f_voucher_redeem[] = {
    {"token", API_JSON_STRING, 0, 33, 300, NULL},
    {"code", API_JSON_STRING, 0, 1, 32, NULL},
    {"ref", API_JSON_STRING, 1, 1, PATRON_REF_MAX, NULL},
    {"card", API_JSON_STRING, 0, 1, 32, NULL},
};
static const struct api_body_spec b_voucher_redeem = SPEC(f_voucher_redeem);

static const struct api_field f_consent[] = {
    {"marketing", API_JSON_BOOL, 1, 0, 1, NULL},
    {"source", API_JSON_STRING, 0, 1, PATRON_SOURCE_MAX, NULL},
};
static const struct api_body_spec b_consent = SPEC(f_consent);

/* Comment and complaint: PATRON_COMMENT_MAX bytes, here as in the library. */
static const struct api_field f_feedback[] = {
    {"card", API_JSON_STRING, 1, 1, 32, NULL},
    {"score", API_JSON_INT, 1, 1, 5, NULL},
    {"comment", API_JSON_STRING, 0, 1, PATRON_COMMENT_MAX, NULL},
    {"ref", API_JSON_STRING, 0, 1, PATRON_REF_MAX, NULL},
};
static const struct api_body_spec b_feedback = SPEC(f_feedback);

static const struct api_field f_goodwill[] = {
    {"card", API_JSON_STRING, 1, 1, 32, NULL},
    {"reward_id", API_JSON_INT, 1, 1, INT32_MAX, NULL},
    {"complaint", API_JSON_STRING, 1, 1, PATRON_COMMENT_MAX, NULL},
};
static const struct api_body_spec b_goodwill = SPEC(f_goodwill);

/* The options of `patron offer add`, by the names the offer's JSON uses. */
static const struct api_field f_offer[] = {
    {"name", API_JSON_STRING, 1, 1, PATRON_NAME_MAX, NULL},
    {"tier", API_JSON_STRING, 0, 1, PATRON_LABEL_MAX, NULL},
    {"category", API_JSON_STRING, 0, 1, PATRON_TOKEN_MAX, NULL},
    {"within_days", API_JSON_INT, 0, 1, PATRON_DAYS_MAX, NULL},
    {"birthday_month", API_JSON_BOOL, 0, 0, 1, NULL},
    {"lapsed_days", API_JSON_INT, 0, 1, PATRON_DAYS_MAX, NULL},
    {"first_visit", API_JSON_BOOL, 0, 0, 1, NULL},
    {"segment", API_JSON_STRING, 0, 1, 63, NULL},
    {"min_basket", API_JSON_INT, 0, 0, 100000000000, NULL},
    {"sku", API_JSON_STRING, 0, 1, 63, NULL},
    {"basket_category", API_JSON_STRING, 0, 1, 63, NULL},
    {"benefit", API_JSON_STRING, 1, 1, 31, NULL}, /* bonus:P, multiplier:X or reward:ID */
    {"exclusive", API_JSON_BOOL, 0, 0, 1, NULL},
    {"from", API_JSON_STRING, 0, 10, 20, NULL}, /* YYYY-MM-DD or an ISO 8601 UTC time */
    {"to", API_JSON_STRING, 0, 10, 20, NULL},   /* exclusive; a date means through that day */
    {"limit_per_member", API_JSON_INT, 0, 1, 1000000000, NULL},
    {"limit_total", API_JSON_INT, 0, 1, 1000000000, NULL},
    {"limit_per_day", API_JSON_INT, 0, 1, 1000000000, NULL},
};
static const struct api_body_spec b_offer = SPEC(f_offer);
/* The targets of an offer being written, to count who they reach (the names f_offer uses). */
static const struct api_field f_offer_audience[] = {
    {"tier", API_JSON_STRING, 0, 1, PATRON_LABEL_MAX, NULL},
    {"category", API_JSON_STRING, 0, 1, PATRON_TOKEN_MAX, NULL},
    {"within_days", API_JSON_INT, 0, 1, PATRON_DAYS_MAX, NULL},
    {"birthday_month", API_JSON_BOOL, 0, 0, 1, NULL},
    {"lapsed_days", API_JSON_INT, 0, 1, PATRON_DAYS_MAX, NULL},
    {"first_visit", API_JSON_BOOL, 0, 0, 1, NULL},
    {"segment", API_JSON_STRING, 0, 1, 63, NULL},
};
static const struct api_body_spec b_offer_audience = SPEC(f_offer_audience);

/* The program's rules, tiers and rewards, as `patron program set|tier` and `patron reward add`
 * take them. */
static const struct api_field f_rule[] = {
    {"name", API_JSON_STRING, 1, 1, 63, NULL},
    {"value", API_JSON_STRING, 1, 1, 63, NULL},
};
static const struct api_body_spec b_rule = SPEC(f_rule);
static const struct api_field f_tier[] = {
    {"name", API_JSON_STRING, 1, 1, PATRON_LABEL_MAX, NULL},
    {"threshold", API_JSON_INT, 1, 0, 1000000000, NULL},
    {"multiplier_permille", API_JSON_INT, 1, 0, 100000, NULL},
};
static const struct api_body_spec b_tier = SPEC(f_tier);
static const struct api_field f_reward[] = {
    {"name", API_JSON_STRING, 1, 1, PATRON_NAME_MAX, NULL},
    {"cost", API_JSON_INT, 1, 1, 100000000, NULL},
    {"kind", API_JSON_STRING, 1, 1, 16, NULL}, /* amount, percent, item or points */
    {"value", API_JSON_INT, 1, 0, 100000000, NULL},
    {"valid_days", API_JSON_INT, 0, 1, 2730, NULL},
};
static const struct api_body_spec b_reward = SPEC(f_reward);

static const struct api_field f_void[] = {
    {"reason", API_JSON_STRING, 1, 1, PATRON_VOID_REASON_MAX, NULL},
};
static const struct api_body_spec b_void = SPEC(f_void);

/* Signing a browser in: the till's token, as the page's "Till token" field holds it. */
static const struct api_field f_session[] = {
    {"token", API_JSON_STRING, 1, 1, 128, NULL},
};
static const struct api_body_spec b_session = SPEC(f_session);

static const struct api_field f_till[] = {
    {"name", API_JSON_STRING, 1, 1, PATRON_TERMINAL_NAME_MAX, NULL},
    {"role", API_JSON_STRING, 1, 1, 16, NULL},
};
static const struct api_body_spec b_till = SPEC(f_till);

#define CASHIER PATRON_ROLE_CASHIER
#define MANAGER PATRON_ROLE_MANAGER
#define ADMIN PATRON_ROLE_ADMIN
#define OPEN PATRON_ROLE_NONE

/* Apple's pass web service: what the phone sends. */
static const struct api_field f_push_token[] = {
    {"pushToken", API_JSON_STRING, 1, 1, 255, NULL},
};
static const struct api_body_spec b_push_token = SPEC(f_push_token);
static const struct api_field f_wallet_log[] = {
    {"logs", API_JSON_ARRAY, 1, 0, 100, NULL}, /* strings */
};
static const struct api_body_spec b_wallet_log = SPEC(f_wallet_log);

const struct api_route api_routes[] = {
    {"GET", "/v1/health", OPEN, API_READ, 0, NULL, api_h_health, NULL},
    /* The till's event stream (Server-Sent Events): scans, sales, redemptions, print states. */
    {"GET", "/v1/events", CASHIER, API_LOCAL, 0, NULL, api_h_events, NULL},
    {"GET", "/metrics", OPEN, API_LOCAL, 0, NULL, api_h_metrics, NULL},
    /* Browser sessions: the cookie then stands for the till's token (CSRF header on writes). */
    {"POST", "/v1/session", OPEN, API_READ, 0, &b_session, api_h_session_new, NULL},
    {"GET", "/v1/session", CASHIER, API_READ, 0, NULL, api_h_session, NULL},
    /* The shop's name and locale for the sign-in screen (printed on every coupon anyway). */
    {"GET", "/v1/shop", OPEN, API_READ, 0, NULL, api_h_shop, NULL},
    {"DELETE", "/v1/session", CASHIER, API_LOCAL, 0, NULL, api_h_session_end, NULL},
    {"POST", "/v1/scan", CASHIER, API_READ, 0, &b_card, api_h_scan, NULL},
    {"POST", "/v1/sales", CASHIER, API_WRITE, 1, &b_sale, api_h_sale, NULL},
    {"POST", "/v1/refunds", CASHIER, API_WRITE, 1, &b_refund, api_h_refund, NULL},
    {"GET", "/v1/rewards", CASHIER, API_READ, 0, NULL, api_h_rewards, NULL},
    /* The catalogue and the program for the back office; every change is a rule change. */
    {"POST", "/v1/rewards", ADMIN, API_WRITE, 1, &b_reward, api_h_reward_add, NULL},
    {"POST", "/v1/rewards/{id}", ADMIN, API_WRITE, 0, &b_reward, api_h_reward_change, NULL},
    {"POST", "/v1/rewards/{id}/end", ADMIN, API_WRITE, 1, NULL, api_h_reward_end, NULL},
    {"GET", "/v1/program", MANAGER, API_READ, 0, NULL, api_h_program, NULL},
    {"POST", "/v1/program", ADMIN, API_WRITE, 0, &b_rule, api_h_program_set, NULL},
    {"POST", "/v1/tiers", ADMIN, API_WRITE, 0, &b_tier, api_h_tier_set, NULL},
    /* The keyring: public facts only; a rotation writes a key file, so it runs alone. */
    {"GET", "/v1/keys", ADMIN, API_READ, 0, NULL, api_h_keys, NULL},
    {"POST", "/v1/keys/rotate", ADMIN, API_WRITE_ALONE, 1, NULL, api_h_key_rotate, NULL},
    {"GET", "/v1/rule-changes", MANAGER, API_READ, 0, NULL, api_h_rule_changes, "prefix"},
    {"POST", "/v1/rewards/{id}/redeem", CASHIER, API_WRITE, 1, &b_card, api_h_redeem, NULL},
    {"POST", "/v1/members", CASHIER, API_WRITE, 0, &b_enroll, api_h_enroll, NULL},
    /* The back office finds members by card, phone, email or part of the name. */
    {"GET", "/v1/members", MANAGER, API_READ, 0, NULL, api_h_member_search, "q"},
    {"GET", "/v1/members/{card}", CASHIER, API_READ, 0, NULL, api_h_member, NULL},
    /* The card in the phone's wallet, for the counter screen to show as a QR code. */
    {"GET", "/v1/members/{card}/wallet/apple", CASHIER, API_READ, 0, NULL, api_h_wallet_apple,
     NULL},
    {"GET", "/v1/members/{card}/wallet/google", CASHIER, API_READ, 0, NULL, api_h_wallet_google,
     NULL},
    /* Apple's pass web service, called by the phones (webServiceURL is the service's public
     * URL); the pass's own token authenticates them (the handlers check it), not a till's. */
    {"POST", "/v1/devices/{device}/registrations/{passType}/{serial}", OPEN, API_WRITE, 0,
     &b_push_token, api_h_wallet_register, NULL},
    {"DELETE", "/v1/devices/{device}/registrations/{passType}/{serial}", OPEN, API_WRITE, 0, NULL,
     api_h_wallet_unregister, NULL},
    {"GET", "/v1/devices/{device}/registrations/{passType}", OPEN, API_READ, 0, NULL,
     api_h_wallet_updated, "passesUpdatedSince"},
    {"GET", "/v1/passes/{passType}/{serial}", OPEN, API_READ, 0, NULL, api_h_wallet_pass, NULL},
    {"POST", "/v1/log", OPEN, API_LOCAL, 0, &b_wallet_log, api_h_wallet_log, NULL},
    {"POST", "/v1/adjustments", MANAGER, API_WRITE, 1, &b_adjust, api_h_adjust, NULL},
    /* Checking spends nothing, but a wrong typed code is logged for the till's lock-out. */
    {"POST", "/v1/vouchers/check", CASHIER, API_READ, 0, &b_voucher_check, api_h_voucher_check,
     NULL},
    {"POST", "/v1/vouchers/redeem", CASHIER, API_WRITE, 1, &b_voucher_redeem, api_h_voucher_redeem,
     NULL},
    {"GET", "/v1/vouchers/{id}", MANAGER, API_READ, 0, NULL, api_h_voucher_show, NULL},
    {"POST", "/v1/vouchers/{id}/void", MANAGER, API_WRITE, 1, &b_void, api_h_voucher_void, NULL},
    {"GET", "/v1/print-jobs", MANAGER, API_READ, 0, NULL, api_h_print_jobs, "pending"},
    /* A till polls the coupon it asked for until it is printed. */
    {"GET", "/v1/print-jobs/{id}", CASHIER, API_READ, 0, NULL, api_h_print_job, NULL},
    /* The coupon as the virtual printer drew it (PNG). */
    {"GET", "/v1/print-jobs/{id}/image", CASHIER, API_READ, 0, NULL, api_h_print_image, NULL},
    {"POST", "/v1/print-jobs/{id}/reprint", MANAGER, API_WRITE, 1, NULL, api_h_reprint, NULL},
    {"POST", "/v1/members/{card}/consent", CASHIER, API_WRITE, 1, &b_consent, api_h_consent, NULL},
    /* A snapshot read; the member's copy of everything held about them. */
    {"GET", "/v1/members/{card}/export", ADMIN, API_READ, 0, NULL, api_h_export, NULL},
    /* Erasure checkpoints the WAL, which it cannot do inside a batch. */
    {"POST", "/v1/members/{card}/erase", ADMIN, API_WRITE_ALONE, 1, NULL, api_h_erase, NULL},
    {"POST", "/v1/feedback", CASHIER, API_WRITE, 1, &b_feedback, api_h_feedback, NULL},
    {"POST", "/v1/goodwill", MANAGER, API_WRITE, 1, &b_goodwill, api_h_goodwill, NULL},
    {"GET", "/v1/offers", MANAGER, API_READ, 0, NULL, api_h_offers, "all"},
    {"POST", "/v1/offers", ADMIN, API_WRITE, 1, &b_offer, api_h_offer_add, NULL},
    /* Reads only: who the targets of an offer being written reach now (count and a sample). */
    {"POST", "/v1/offers/audience", ADMIN, API_READ, 0, &b_offer_audience, api_h_offer_audience,
     NULL},
    {"GET", "/v1/offers/{id}", MANAGER, API_READ, 0, NULL, api_h_offer, NULL},
    {"POST", "/v1/offers/{id}/end", ADMIN, API_WRITE, 1, NULL, api_h_offer_end, NULL},
    /* Tills for the back office; a new token is in the reply only (no Idempotency-Key). */
    {"GET", "/v1/tills", ADMIN, API_READ, 0, NULL, api_h_tills, NULL},
    {"POST", "/v1/tills", ADMIN, API_WRITE, 0, &b_till, api_h_till_add, NULL},
    {"POST", "/v1/tills/{name}/rotate", ADMIN, API_WRITE, 0, NULL, api_h_till_rotate, NULL},
    {"POST", "/v1/tills/{name}/revoke", ADMIN, API_WRITE, 0, NULL, api_h_till_revoke, NULL},
    /* The chain's stores and this store's conflicts, read at head office (handlers_chain.c). */
    {"GET", "/v1/chain", MANAGER, API_READ, 0, NULL, api_h_chain, NULL},
    /* Reports read one snapshot and never take the write lock. */
    {"GET", "/v1/reports/{name}", ADMIN, API_READ, 0, NULL, api_h_report,
     "from to months cohorts limit format"},
    /* Moving in: the CSV body is streamed into a file, and a job of its own imports it. */
    {"POST", "/v1/imports", ADMIN, API_LOCAL, 0, NULL, api_h_import_start,
     "format mode batch dry_run skip_errors"},
    {"GET", "/v1/imports/{id}", ADMIN, API_LOCAL, 0, NULL, api_h_import_status, NULL},
};
const size_t api_route_count = N(api_routes);
_Static_assert(N(api_routes) <= API_MAX_ROUTES, "every route has its row in /metrics");

/* Compares one path segment with one pattern segment; copies a {param}. */
static int segment_match(const char *seg, size_t len, const char *pat, size_t plen, char *param,
                         int *too_long)
{
    if (param && plen >= 2 && pat[0] == '{' && pat[plen - 1] == '}') {
        if (len == 0)
            return 0;
        if (len > API_PARAM_MAX) {
            *too_long = 1;
            return 1;
        }
        memcpy(param, seg, len);
        param[len] = '\0';
        return 1;
    }
    return len == plen && memcmp(seg, pat, len) == 0;
}

static int path_match(const char *path, const char *pattern,
                      char params[API_PARAMS][API_PARAM_MAX + 1], int *too_long)
{
    int n_params = 0;
    while (*path == '/' && *pattern == '/') {
        path++;
        pattern++;
        size_t len = strcspn(path, "/"), plen = strcspn(pattern, "/");
        int is_param = pattern[0] == '{';
        if (is_param && n_params == API_PARAMS)
            return 0;
        if (!segment_match(path, len, pattern, plen, is_param ? params[n_params] : NULL, too_long))
            return 0;
        n_params += is_param;
        path += len;
        pattern += plen;
    }
    return *path == '\0' && *pattern == '\0';
}

int api_route_match(const char *method, const char *path,
                    char params[API_PARAMS][API_PARAM_MAX + 1])
{
    int path_found = 0;
    for (size_t i = 0; i < api_route_count; i++) {
        int too_long = 0;
        char scratch[API_PARAMS][API_PARAM_MAX + 1];
        if (!path_match(path, api_routes[i].pattern, scratch, &too_long))
            continue;
        if (too_long)
            return -400;
        if (strcmp(api_routes[i].method, method) != 0) {
            path_found = 1;
            continue;
        }
        memcpy(params, scratch, sizeof scratch);
        return (int)i;
    }
    return path_found ? -405 : -404;
}

void api_route_allow(const char *path, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < api_route_count; i++) {
        int too_long = 0;
        char scratch[API_PARAMS][API_PARAM_MAX + 1];
        if (!path_match(path, api_routes[i].pattern, scratch, &too_long))
            continue;
        int n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", api_routes[i].method);
        if (n < 0 || (size_t)n >= cap - len)
            return;
        len += (size_t)n;
    }
}

int api_query_index(const struct api_route *r, const char *name)
{
    const char *p = r->query;
    size_t len = strlen(name);
    for (int i = 0; p && *p && i < API_QUERY_PARAMS; i++) {
        size_t n = strcspn(p, " ");
        if (n == len && memcmp(p, name, n) == 0)
            return i;
        p += n + (p[n] == ' ');
    }
    return -1;
}

const char *api_query(const struct api_call *c, const char *name)
{
    int i = api_query_index(c->route, name);
    return i < 0 ? NULL : c->query[i];
}

void api_routes_print(FILE *f)
{
    for (size_t i = 0; i < api_route_count; i++)
        fprintf(f, "%s %s\n", api_routes[i].method, api_routes[i].pattern);
}
