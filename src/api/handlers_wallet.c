/* SPDX-License-Identifier: MIT */
/* A member's card for the phone's wallet: the Apple Wallet pass (application/vnd.apple.pkpass)
 * and the "Save to Google Wallet" link, made with the service's wallet_* settings. */
#include <stdlib.h>
#include <string.h>

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
