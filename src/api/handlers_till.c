/* SPDX-License-Identifier: MIT */
/* Route handlers of the tills for the back office (admin): list, add, rotate and revoke, as
 * `patron terminal` does. A new token is in the reply only, shown once: these routes take no
 * Idempotency-Key, so that no kept reply ever holds a token. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "handlers.h"

#define TILLS_MAX 256

static int no_key(struct api_call *c)
{
    if (!c->idempotency_key)
        return 0;
    snprintf(c->detail, sizeof c->detail,
             "a till's token is shown once and never kept: send this without Idempotency-Key");
    return PATRON_EINVAL;
}

static json_t *till_json(const struct patron_terminal *t)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:b}", "terminal_id", (json_int_t)t->terminal_id, "name",
                     t->name, "role", patron_role_name(t->role), "created_at",
                     patron_json_time(t->created_at), "revoked", t->revoked_at != 0);
}

static int token_reply(struct api_call *c, int status, const struct patron_terminal *t,
                       char token[PATRON_TOKEN_LEN + 1])
{
    json_t *o = till_json(t);
    if (o)
        json_object_set_new(o, "token", json_string(token));
    OPENSSL_cleanse(token, PATRON_TOKEN_LEN + 1);
    return api_reply(c, status, o);
}

int api_h_member_search(struct api_call *c, patron_store *s)
{
    struct patron_member *found = calloc(PATRON_MEMBER_SEARCH_MAX, sizeof *found);
    size_t n = 0;
    const char *q = api_query(c, "q");
    int err = found ? 0 : PATRON_ENOMEM;
    if (err == 0 && !q) {
        snprintf(c->detail, sizeof c->detail, "search with ?q=: a card, phone, email or name");
        err = PATRON_EINVAL;
    }
    if (err == 0)
        err = patron_member_search(s, q, found, PATRON_MEMBER_SEARCH_MAX, &n);
    json_t *arr = err == 0 ? json_array() : NULL;
    for (size_t i = 0; arr && i < n; i++) {
        json_t *o = NULL;
        if (patron_json_member(&found[i], &o) != 0 || json_array_append_new(arr, o) != 0)
            err = PATRON_ENOMEM;
    }
    free(found);
    if (err != 0) {
        json_decref(arr);
        return err;
    }
    return api_reply(c, 200, json_pack("{s:o, s:I}", "members", arr, "count", (json_int_t)n));
}

int api_h_tills(struct api_call *c, patron_store *s)
{
    struct patron_terminal *tills = calloc(TILLS_MAX, sizeof *tills);
    size_t n = 0;
    int err = tills ? patron_terminal_list(s, tills, TILLS_MAX, &n) : PATRON_ENOMEM;
    json_t *arr = err == 0 ? json_array() : NULL;
    for (size_t i = 0; arr && i < n && i < TILLS_MAX; i++)
        if (json_array_append_new(arr, till_json(&tills[i])) != 0)
            err = PATRON_ENOMEM;
    free(tills);
    if (err != 0) {
        json_decref(arr);
        return err;
    }
    return api_reply(c, 200, json_pack("{s:o, s:I}", "tills", arr, "count", (json_int_t)n));
}

int api_h_till_add(struct api_call *c, patron_store *s)
{
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    enum patron_role role;
    int err = no_key(c);
    if (err == 0 && (err = patron_role_parse(api_str(c->body, "role"), &role)) != 0)
        snprintf(c->detail, sizeof c->detail, "a till's role is cashier, manager or admin");
    if (err == 0 && (err = patron_terminal_add(s, api_str(c->body, "name"), role, &t, token)) == 0)
        return token_reply(c, 201, &t, token);
    return err;
}

int api_h_till_rotate(struct api_call *c, patron_store *s)
{
    struct patron_terminal t;
    char token[PATRON_TOKEN_LEN + 1];
    int err = no_key(c);
    if (err == 0 && (err = patron_terminal_rotate(s, c->params[0], &t, token)) == 0)
        return token_reply(c, 200, &t, token);
    return err;
}

int api_h_till_revoke(struct api_call *c, patron_store *s)
{
    int err = no_key(c);
    if (err == 0 && (err = patron_terminal_revoke(s, c->params[0])) == 0)
        return api_reply(c, 200, json_pack("{s:s, s:b}", "name", c->params[0], "revoked", 1));
    return err;
}
