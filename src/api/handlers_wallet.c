/* SPDX-License-Identifier: MIT */
/* A member's card for the phone's wallet: the Apple Wallet pass (application/vnd.apple.pkpass)
 * and the "Save to Google Wallet" link, made with the service's wallet_* settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers.h"

int api_h_wallet_apple(struct api_call *c, patron_store *s)
{
    unsigned char *zip = NULL;
    size_t len = 0;
    int err = patron_wallet_apple_pass(s, c->params[0], &c->cfg->wallet, &zip, &len);
    if (err != 0)
        return err;
    /* the reply owns a copy with a NUL after it, as every text reply has */
    if ((c->text = malloc(len + 1)) == NULL) {
        patron_wallet_free(zip);
        return PATRON_ENOMEM;
    }
    memcpy(c->text, zip, len);
    c->text[len] = '\0';
    c->text_len = len;
    c->text_type = "application/vnd.apple.pkpass";
    patron_wallet_free(zip);
    return 0;
}

int api_h_wallet_google(struct api_call *c, patron_store *s)
{
    char *link = NULL;
    int object_only = 0;
    int err = patron_wallet_google_link(s, c->params[0], &c->cfg->google, &link, &object_only);
    if (err != 0)
        return err;
    json_t *o = json_pack("{s:s, s:s, s:b}", "card", c->params[0], "link", link, "object_only",
                          object_only);
    patron_wallet_free(link);
    return o ? api_reply(c, 200, o) : PATRON_ENOMEM;
}

/* Apple's pass web service: the phone authenticates with "Authorization: ApplePass TOKEN", the
 * pass's own token, and names the pass by its type (this service's) and serial (the card). */
static int apple_pass_auth(struct api_call *c, patron_store *s, const char *pass_type,
                           const char *serial)
{
    const char *h = c->authorization, *want = c->cfg->wallet.pass_type_id;
    if (!want || strcmp(pass_type, want) != 0) {
        snprintf(c->detail, sizeof c->detail, "this service serves no pass of that type");
        return PATRON_ENOTFOUND;
    }
    if (!h || strncasecmp(h, "ApplePass ", 10) != 0) {
        snprintf(c->detail, sizeof c->detail, "send Authorization: ApplePass TOKEN");
        return PATRON_EAUTH;
    }
    return patron_wallet_apple_auth(s, serial, h + 10);
}

int api_h_wallet_register(struct api_call *c, patron_store *s)
{
    int created = 0;
    int err = apple_pass_auth(c, s, c->params[1], c->params[2]);
    if (err == 0)
        err = patron_wallet_apple_register(s, c->params[0], c->params[1], c->params[2],
                                           api_str(c->body, "pushToken"), &created);
    if (err != 0)
        return err;
    return api_reply(c, created ? 201 : 200,
                     json_pack("{s:s, s:b}", "serial", c->params[2], "created", created));
}

int api_h_wallet_unregister(struct api_call *c, patron_store *s)
{
    int err = apple_pass_auth(c, s, c->params[1], c->params[2]);
    if (err == 0)
        err = patron_wallet_apple_unregister(s, c->params[0], c->params[1], c->params[2]);
    if (err != 0)
        return err;
    return api_reply(c, 200, json_pack("{s:s}", "serial", c->params[2]));
}

int api_h_wallet_updated(struct api_call *c, patron_store *s)
{
    char serials[PATRON_WALLET_SERIALS_MAX][PATRON_CARD_DIGITS + 1], tag[24], *end;
    const char *since_text = c->query[0];
    int64_t since = -1, last = 0; /* without a tag: every pass on the device */
    size_t n = 0;
    if (since_text) {
        long long v = strtoll(since_text, &end, 10);
        if (*end != '\0' || v < 0) {
            snprintf(c->detail, sizeof c->detail, "passesUpdatedSince is a tag this service gave");
            return PATRON_EINVAL;
        }
        since = v;
    }
    int err = patron_wallet_apple_updated(s, c->params[0], c->params[1], since, serials, &n, &last);
    if (err != 0)
        return err;
    json_t *list = json_array();
    for (size_t i = 0; list && i < n; i++)
        json_array_append_new(list, json_string(serials[i]));
    snprintf(tag, sizeof tag, "%lld", (long long)last);
    return api_reply(c, 200, json_pack("{s:o, s:s}", "serialNumbers", list, "lastUpdated", tag));
}

int api_h_wallet_pass(struct api_call *c, patron_store *s)
{
    int err = apple_pass_auth(c, s, c->params[0], c->params[1]);
    if (err != 0)
        return err;
    memcpy(c->params[0], c->params[1], sizeof c->params[0]); /* the card, for the pass */
    return api_h_wallet_apple(c, s);
}

int api_h_wallet_log(struct api_call *c, patron_store *s)
{
    json_t *logs = json_object_get(c->body, "logs"), *line;
    size_t i;
    (void)s;
    for (i = 0; i < json_array_size(logs); i++) {
        line = json_array_get(logs, i);
        fprintf(stderr, "apple wallet: %s\n", json_string_value(line));
    }
    return api_reply(c, 200, json_pack("{s:I}", "logged", (json_int_t)json_array_size(logs)));
}
