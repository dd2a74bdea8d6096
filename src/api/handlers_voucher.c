/* SPDX-License-Identifier: MIT */
/* Route handlers of the voucher register: check and redeem a scanned token or a typed code (the
 * till's name goes to the library, so the wrong-code lock-out is per till), show and void. The
 * replies are built by patron/json.h as `patron voucher ... --json` builds them; a refusal because
 * the voucher was spent says when, where and for which sale it was first redeemed. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

/* The body names the voucher once: the scanned token or the typed code. */
static int voucher_text(struct api_call *c, const char **text)
{
    const char *token = api_str(c->body, "token"), *code = api_str(c->body, "code");
    if (!token == !code) {
        snprintf(c->detail, sizeof c->detail,
                 "give either 'token' (the scanned QR code) or 'code' (typed), not both");
        return PATRON_EINVAL;
    }
    *text = token ? token : code;
    return 0;
}

/* A refusal because the voucher was spent carries the first redemption, field by field. */
static void first_redemption(struct api_call *c, int err, const struct patron_voucher_result *r)
{
    if (err != PATRON_EREDEEMED)
        return;
    c->problem_extra =
        json_pack("{s:o, s:i, s:s, s:s}", "first_redeemed_at",
                  patron_json_time(r->first_redeemed_at), "first_store_id", r->first_store_id,
                  "first_till", r->first_till, "first_ref", r->first_ref);
}

int api_h_voucher_check(struct api_call *c, patron_store *s)
{
    struct patron_voucher_request req = {.till = c->terminal.name,
                                         .member_card = api_str(c->body, "card"),
                                         .offline = c->hq_offline};
    struct patron_voucher_result r;
    int err = voucher_text(c, &req.token_or_code);
    if (err != 0)
        return err;
    if ((err = patron_voucher_check(s, &req, &r)) != 0) {
        first_redemption(c, err, &r);
        return err;
    }
    json_t *o = NULL;
    err = patron_json_voucher_check(&r, &o);
    return api_reply_built(c, 200, err, o);
}

int api_h_voucher_redeem(struct api_call *c, patron_store *s)
{
    struct patron_voucher_request req = {.ref = api_str(c->body, "ref"),
                                         .idempotency_key = c->idempotency_key,
                                         .till = c->terminal.name,
                                         .member_card = api_str(c->body, "card")};
    struct patron_voucher_result r;
    int err = voucher_text(c, &req.token_or_code);
    if (err != 0)
        return err;
    /* The library undoes a refused redemption itself and keeps only the wrong-code log. */
    c->keep_on_error = 1;
    if ((err = patron_voucher_redeem(s, &req, &r)) != 0) {
        first_redemption(c, err, &r);
        return err;
    }
    json_t *o = NULL;
    err = patron_json_voucher_redeem(&r, &o);
    return api_reply_built(c, 201, err, o);
}

/* The {id} of the path: the 16 hex digits of "voucher_id" in the replies, or the typed code. */
static void path_voucher(struct api_call *c, char *buf, size_t cap)
{
    const char *p = c->params[0];
    if (strlen(p) == 16 && strspn(p, "0123456789abcdefABCDEF") == 16) {
        char code[PATRON_VOUCHER_CODE_CHARS + 1];
        patron_voucher_code_encode((uint64_t)strtoull(p, NULL, 16), code);
        snprintf(buf, cap, "%s", code);
    } else {
        snprintf(buf, cap, "%s", p);
    }
}

int api_h_voucher_show(struct api_call *c, patron_store *s)
{
    struct patron_voucher_info v;
    char text[API_PARAM_MAX + 1];
    path_voucher(c, text, sizeof text);
    json_t *o = NULL;
    int err = patron_voucher_show(s, text, &v);
    if (err == 0)
        err = patron_json_voucher_info(&v, &o);
    return api_reply_built(c, 200, err, o);
}

int api_h_voucher_void(struct api_call *c, patron_store *s)
{
    struct patron_voucher_info v;
    char text[API_PARAM_MAX + 1];
    path_voucher(c, text, sizeof text);
    json_t *o;
    int err = patron_voucher_void(s, text, c->terminal.name, api_str(c->body, "reason"));
    if (err != 0 || (err = patron_voucher_show(s, text, &v)) != 0 ||
        (err = patron_json_voucher_info(&v, &o)) != 0)
        return err;
    json_object_set_new(o, "voided", json_true());
    return api_reply(c, 200, o);
}
