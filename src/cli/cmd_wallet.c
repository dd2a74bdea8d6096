/* SPDX-License-Identifier: MIT */
/* `patron card wallet CARD --apple FILE.pkpass | --google`: the card in the phone's wallet, an
 * Apple Wallet pass written to a file or a "Save to Google Wallet" link printed, with the
 * wallet_* machine settings (config.c); `patron card push`: the queued pushes delivered to
 * Apple's push service (api_apns_send, the counter service's own sender), so that updated
 * passes reach the phones. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/api.h"
#include "cli.h"

static const char wallet_usage[] = "patron card wallet CARD --apple FILE.pkpass | --google";

static int wallet_apple(struct cli *c, const char *card, const char *path)
{
    char human[4200];
    int err = patron_wallet_apple_write(c->store, card, &c->wallet, path);
    if (err != 0)
        return cli_fail(c, err, "cannot make the Apple Wallet pass");
    snprintf(human, sizeof human, "The Apple Wallet pass of card %s is in %s.\n", card, path);
    return cli_emit(c, json_pack("{s:s, s:s}", "card", card, "file", path), human);
}

static int wallet_google(struct cli *c, const char *card)
{
    char *link = NULL, *human;
    int object_only = 0,
        err = patron_wallet_google_link(c->store, card, &c->google, &link, &object_only);
    if (err != 0)
        return cli_fail(c, err, "cannot make the Google Wallet link");
    size_t n = strlen(link) + 2;
    if ((human = malloc(n)) == NULL) {
        patron_wallet_free(link);
        return cli_fail(c, PATRON_ENOMEM, NULL);
    }
    snprintf(human, n, "%s\n", link);
    int status = cli_emit(
        c, json_pack("{s:s, s:s, s:b}", "card", card, "link", link, "object_only", object_only),
        human);
    free(human);
    patron_wallet_free(link);
    return status;
}

int cli_card_wallet(struct cli *c, const char *card, struct cli_args *a)
{
    const char *apple = cli_take(a, "--apple");
    int google = cli_flag(a, "--google"), status;
    if ((apple != NULL) == (google != 0) || a->argc != 0)
        return cli_usage(c,
                         apple ? "give --apple FILE.pkpass or --google, not both" : wallet_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    return apple ? wallet_apple(c, card, apple) : wallet_google(c, card);
}

int cli_card_push(struct cli *c, struct cli_args *a)
{
    struct api_apns p = {NULL, c->apns_url, c->wallet.pass_cert, c->wallet.pass_key, NULL};
    int64_t queued = 0, sent = 0, failed = 0;
    char human[160];
    int status, err;
    if (a->argc != 0)
        return cli_usage(c, "patron card push");
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strncmp(c->apns_url, "https://", 8) == 0 && (!c->wallet.pass_cert || !c->wallet.pass_key))
        return cli_fail(c, PATRON_ECRYPTO,
                        "Apple's push service needs the pass certificate: set wallet_pass_cert "
                        "and wallet_pass_key");
    if ((err = patron_wallet_push_queue(c->store, &queued)) != 0)
        return cli_fail(c, err, "cannot queue the wallet pushes");
    if ((p.curl = curl_easy_init()) == NULL)
        return cli_fail(c, PATRON_ENOMEM, NULL);
    err = patron_wallet_push_deliver(c->store, api_apns_send, &p, &sent, &failed);
    curl_easy_cleanup(p.curl);
    if (err != 0)
        return cli_fail(c, err, "cannot deliver the wallet pushes");
    snprintf(human, sizeof human,
             "%lld pushes queued, %lld sent, %lld failed (kept for the next run).\n",
             (long long)queued, (long long)sent, (long long)failed);
    status = cli_emit(c,
                      json_pack("{s:I, s:I, s:I}", "queued", (json_int_t)queued, "sent",
                                (json_int_t)sent, "failed", (json_int_t)failed),
                      human);
    return failed ? CLI_EXIT_OTHER : status;
}
