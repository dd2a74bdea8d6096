/* SPDX-License-Identifier: MIT */
/* The "Save to Google Wallet" link: https://pay.google.com/gp/v/save/<JWT>, the JWT signed RS256
 * with the service account's key, its payload a loyalty object (balance, tier, the card number
 * as a QR code). A link longer than Google's 1,800 characters carries the object's id only. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/wallet_internal.h"

#define SAVE_URL "https://pay.google.com/gp/v/save/"

static json_t *loyalty_object(const struct patron__wallet_card *w,
                              const struct patron_wallet_google *cfg, int id_only)
{
    char id[192], class_id[160];
    const struct patron_member *m = &w->member;
    snprintf(id, sizeof id, "%s.%s", cfg->issuer, m->card);
    if (id_only)
        return json_pack("{s:s}", "id", id);
    snprintf(class_id, sizeof class_id, "%s.patron", cfg->issuer);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:{s:I}}, s:{s:s, s:s, s:s},"
                     " s:[{s:s, s:s, s:s}]}",
                     "id", id, "classId", class_id, "state", "ACTIVE", "accountId", m->card,
                     "accountName", m->name, "loyaltyPoints", "label", "Points", "balance", "int",
                     (json_int_t)m->points, "barcode", "type", "QR_CODE", "value", m->card,
                     "alternateText", m->card, "textModulesData", "id", "tier", "header", "Tier",
                     "body", m->tier);
}

static char *b64url_json(json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *b = text ? patron__wallet_b64url((const unsigned char *)text, strlen(text)) : NULL;
    free(text);
    json_decref(j);
    return b;
}

static char *rs256(EVP_PKEY *key, const char *data)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t n = 0;
    char *b = NULL;
    if (md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
        EVP_DigestSign(md, NULL, &n, (const unsigned char *)data, strlen(data)) == 1 &&
        (sig = malloc(n)) != NULL &&
        EVP_DigestSign(md, sig, &n, (const unsigned char *)data, strlen(data)) == 1)
        b = patron__wallet_b64url(sig, n);
    free(sig);
    EVP_MD_CTX_free(md);
    return b;
}

/* The link with the whole object (id_only 0) or only its id; NULL when out of memory. */
static char *link_for(patron_store *s, const struct patron__wallet_card *w,
                      const struct patron_wallet_google *cfg, EVP_PKEY *key, int id_only)
{
    json_t *claims =
        json_pack("{s:s, s:s, s:s, s:I, s:[], s:{s:[o]}}", "iss", cfg->email, "aud", "google",
                  "typ", "savetowallet", "iat", (json_int_t)patron_store_now(s), "origins",
                  "payload", "loyaltyObjects", loyalty_object(w, cfg, id_only));
    char *head = b64url_json(json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT"));
    char *body = b64url_json(claims), *signed_part = NULL, *sig = NULL, *link = NULL;
    size_t n = (head ? strlen(head) : 0) + (body ? strlen(body) : 0) + 2;
    if (head && body && (signed_part = malloc(n)) != NULL) {
        snprintf(signed_part, n, "%s.%s", head, body);
        if ((sig = rs256(key, signed_part)) != NULL) {
            n = sizeof SAVE_URL + strlen(signed_part) + 1 + strlen(sig);
            if ((link = malloc(n)) != NULL)
                snprintf(link, n, SAVE_URL "%s.%s", signed_part, sig);
        }
    }
    free(head);
    free(body);
    free(signed_part);
    free(sig);
    return link;
}

int patron_wallet_google_link(patron_store *s, const char *card,
                              const struct patron_wallet_google *cfg, char **link, int *object_only)
{
    struct patron__wallet_card w;
    EVP_PKEY *key = NULL;
    int err;
    if ((err = patron__wallet_need(s, cfg->issuer, "wallet_google_issuer")) != 0 ||
        (err = patron__wallet_need(s, cfg->key, "wallet_google_key")) != 0 ||
        (err = patron__wallet_need(s, cfg->email, "wallet_google_email")) != 0 ||
        (err = patron__wallet_key(s, cfg->key, "the Google service account key", &key)) != 0)
        return err;
    if (!EVP_PKEY_is_a(key, "RSA")) {
        err = patron__fail(s, PATRON_ECRYPTO, "the Google service account key %s is not an RSA key",
                           cfg->key);
        goto out;
    }
    if ((err = patron__wallet_card_load(s, card, &w)) != 0)
        goto out;
    err = PATRON_ENOMEM;
    if ((*link = link_for(s, &w, cfg, key, 0)) == NULL)
        goto out;
    *object_only = strlen(*link) > PATRON_WALLET_GOOGLE_LINK_MAX;
    if (*object_only) {
        free(*link);
        if ((*link = link_for(s, &w, cfg, key, 1)) == NULL)
            goto out;
    }
    err = 0;
out:
    EVP_PKEY_free(key);
    return err;
}
