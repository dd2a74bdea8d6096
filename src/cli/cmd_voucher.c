/* SPDX-License-Identifier: MIT */
/* `patron voucher check|redeem|show|list|void`: the voucher register from the counter. A forged,
 * altered or malformed voucher exits 4; already redeemed, expired or voided exits 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"
#include "patron/voucher.h"

static const char voucher_usage[] =
    "patron voucher check TOKEN|CODE [--card CARD] [--offline]\n"
    "       patron voucher redeem TOKEN|CODE --ref R [--key K] [--card CARD] "
    "[--offline]\n"
    "       patron voucher show TOKEN|CODE|VOUCHER_ID\n"
    "       patron voucher list [--member ID] [--limit N]\n"
    "       patron voucher void TOKEN|CODE|VOUCHER_ID [--reason TEXT] [--by WHO]";

#define LIST_MAX 1000

static void describe(char *buf, size_t len, const struct patron_voucher *v, const char *currency,
                     const char *code)
{
    if (v->kind == PATRON_VALUE_AMOUNT)
        snprintf(buf, len, "%s: %u.%02u %s off", code, v->value / 100, v->value % 100, currency);
    else if (v->kind == PATRON_VALUE_PERCENT)
        snprintf(buf, len, "%s: %u%% off", code, v->value);
    else if (v->kind == PATRON_VALUE_ITEM)
        snprintf(buf, len, "%s: item %u free", code, v->value);
    else
        snprintf(buf, len, "%s: %u bonus points", code, v->value);
}

/* The voucher a manager names: its token, its typed code, or the 16 hex digits of "voucher_id"
 * that every reply prints, turned into the code the register looks up. */
static const char *named_voucher(const char *arg, char code[PATRON_VOUCHER_CODE_CHARS + 1])
{
    if (!arg || strlen(arg) != 16 || strspn(arg, "0123456789abcdefABCDEF") != 16)
        return arg;
    patron_voucher_code_encode((uint64_t)strtoull(arg, NULL, 16), code);
    return code;
}

/* The till is the global --till (a registered till's name), else "cli". */
static void take_request(const struct cli *c, struct cli_args *a,
                         struct patron_voucher_request *req)
{
    req->member_card = cli_take(a, "--card");
    req->offline = cli_flag(a, "--offline");
    req->till = c->till ? c->till : "cli";
}

/* With a head office set, a redemption claims the voucher there first (src/hq/vouchers.c): a
 * voucher redeemed or voided at another store is refused with where and when. Head office
 * unreachable: the redemption is offline, within the offline caps for other stores' vouchers. */
struct voucher_claim {
    void *hq; /* the open connection while a claim stands, else NULL */
    char key[96];
};

#ifdef PATRON_HAVE_HQ
#include "hq.h"

static int voucher_claim(struct cli *c, struct patron_voucher_request *req,
                         struct voucher_claim *claim)
{
    char detail[512];
    int64_t key_id, voucher_id;
    patron_hq *h = NULL;
    if (!c->hq || !c->hq[0] || req->offline ||
        patron_voucher_identify(c->store, req->token_or_code, &key_id, &voucher_id) != 0)
        return 0; /* the redemption itself says what is wrong */
    if (patron_hq_connect(c->hq, &h, detail, sizeof detail) != 0) {
        fprintf(stderr, "patron: note: %s; the voucher is redeemed offline.\n", detail);
        req->offline = 1;
        return 0;
    }
    if (req->idempotency_key)
        snprintf(claim->key, sizeof claim->key, "voucher/%s", req->idempotency_key);
    else
        snprintf(claim->key, sizeof claim->key, "voucher/%s/%lld", req->ref, (long long)voucher_id);
    int err = patron_hq_voucher_claim(h, key_id, voucher_id, claim->key, detail, sizeof detail);
    if (err == PATRON_EREDEEMED || err == PATRON_EVOIDED) {
        patron_hq_close(h);
        return cli_hq_fail(c, err, detail);
    }
    if (err != 0) {
        fprintf(stderr, "patron: note: %s; the voucher is redeemed offline.\n", detail);
        patron_hq_close(h);
        req->offline = 1;
        return 0;
    }
    claim->hq = h;
    return 0;
}

static void voucher_claim_end(struct voucher_claim *claim, int err)
{
    char detail[512];
    if (!claim->hq)
        return;
    if (err != 0 && patron_hq_voucher_release(claim->hq, claim->key, detail, sizeof detail) != 0)
        fprintf(stderr, "patron: note: %s.\n", detail);
    patron_hq_close(claim->hq);
    claim->hq = NULL;
}
#else
static int voucher_claim(struct cli *c, struct patron_voucher_request *req,
                         struct voucher_claim *claim)
{
    (void)c;
    (void)req;
    (void)claim;
    return 0;
}

static void voucher_claim_end(struct voucher_claim *claim, int err)
{
    (void)claim;
    (void)err;
}
#endif

static int voucher_check(struct cli *c, struct cli_args *a, int redeem)
{
    struct patron_voucher_request req = {0};
    struct patron_voucher_result r;
    char human[512], what[160], expires[32];
    take_request(c, a, &req);
    if (redeem) {
        req.ref = cli_take(a, "--ref");
        req.idempotency_key = cli_take(a, "--key");
    }
    req.token_or_code = cli_positional(a);
    if (!req.token_or_code || a->argc != 0 || (redeem && !req.ref))
        return cli_usage(c, voucher_usage);
    struct voucher_claim claim = {0};
    int err = 0;
    if (redeem && (err = voucher_claim(c, &req, &claim)) != 0)
        return err;
    err = redeem ? patron_voucher_redeem(c->store, &req, &r)
                 : patron_voucher_check(c->store, &req, &r);
    voucher_claim_end(&claim, err);
    if (err != 0)
        return cli_fail(c, err, redeem ? "voucher not redeemed" : "voucher not valid");
    json_t *o;
    if ((err = redeem ? patron_json_voucher_redeem(&r, &o) : patron_json_voucher_check(&r, &o)) !=
        0)
        return cli_fail(c, err, NULL);
    describe(what, sizeof what, &r.voucher, r.currency, r.code);
    cli_format_time(r.expires_at, expires, sizeof expires);
    if (redeem)
        snprintf(human, sizeof human, "Redeemed %s.\n", what);
    else
        snprintf(human, sizeof human, "Valid: %s, until %s.\n", what, expires);
    return cli_emit(c, o, human);
}

static int voucher_show(struct cli *c, struct cli_args *a)
{
    struct patron_voucher_info v;
    char what[160], human[640], expires[32], code[PATRON_VOUCHER_CODE_CHARS + 1];
    const char *text = named_voucher(cli_positional(a), code);
    if (!text || a->argc != 0)
        return cli_usage(c, voucher_usage);
    json_t *o;
    int err = patron_voucher_show(c->store, text, &v);
    if (err != 0)
        return cli_fail(c, err, "cannot show the voucher");
    if ((err = patron_json_voucher_info(&v, &o)) != 0)
        return cli_fail(c, err, NULL);
    describe(what, sizeof what, &v.voucher, v.currency, v.code);
    cli_format_time(v.expires_at, expires, sizeof expires);
    snprintf(human, sizeof human, "%s, %s, valid until %s, member %lld.\n", what, v.status, expires,
             (long long)v.voucher.member_id);
    return cli_emit(c, o, human);
}

static int voucher_list(struct cli *c, struct cli_args *a)
{
    const char *member = cli_take(a, "--member"), *limit = cli_take(a, "--limit");
    int64_t member_id = 0, cap = 50;
    size_t n = 0;
    if (a->argc != 0 || (member && cli_parse_int(member, 1, INT64_MAX, &member_id) != 0) ||
        (limit && cli_parse_int(limit, 1, LIST_MAX, &cap) != 0))
        return cli_usage(c, voucher_usage);
    struct patron_voucher_info *list = calloc((size_t)cap, sizeof *list);
    if (!list)
        return cli_fail(c, PATRON_ENOMEM, NULL);
    int err = patron_voucher_list(c->store, member_id, list, (size_t)cap, &n);
    if (err != 0) {
        free(list);
        return cli_fail(c, err, "cannot list vouchers");
    }
    json_t *arr = json_array();
    if (!c->json)
        printf("%zu voucher(s)%s\n", n, n > (size_t)cap ? ", newest shown" : "");
    for (size_t i = 0; i < n && i < (size_t)cap; i++) {
        char what[160];
        json_t *item;
        if (patron_json_voucher_info(&list[i], &item) == 0)
            json_array_append_new(arr, item);
        describe(what, sizeof what, &list[i].voucher, list[i].currency, list[i].code);
        if (!c->json)
            printf("  %s  %s\n", what, list[i].status);
    }
    free(list);
    return cli_emit(c, json_pack("{s:o, s:I}", "vouchers", arr, "count", (json_int_t)n), NULL);
}

static int voucher_void(struct cli *c, struct cli_args *a)
{
    const char *reason = cli_take(a, "--reason"), *who = cli_take(a, "--by");
    char code[PATRON_VOUCHER_CODE_CHARS + 1];
    const char *text = named_voucher(cli_positional(a), code);
    if (!text || a->argc != 0)
        return cli_usage(c, voucher_usage);
    struct patron_voucher_info v;
    json_t *o;
    int err = patron_voucher_void(c->store, text, who ? who : "cli", reason);
    if (err != 0)
        return cli_fail(c, err, "voucher not voided");
    /* The same reply as the service's: the voucher as the register now knows it. */
    if ((err = patron_voucher_show(c->store, text, &v)) != 0 ||
        (err = patron_json_voucher_info(&v, &o)) != 0)
        return cli_fail(c, err, "the voucher was voided but cannot be shown");
    json_object_set_new(o, "voided", json_true());
    return cli_emit(c, o, "Voucher voided.\n");
}

int cli_cmd_voucher(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, voucher_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "check") == 0 || strcmp(sub, "redeem") == 0)
        return voucher_check(c, a, strcmp(sub, "redeem") == 0);
    if (strcmp(sub, "show") == 0)
        return voucher_show(c, a);
    if (strcmp(sub, "list") == 0)
        return voucher_list(c, a);
    if (strcmp(sub, "void") == 0)
        return voucher_void(c, a);
    return cli_usage(c, voucher_usage);
}
