/* SPDX-License-Identifier: MIT */
/* Route handlers of browser sessions: signing in with the till token (a session cookie and a
 * CSRF token), reading the session (the page asks on load who it is and for the shop's name),
 * and signing out; and the picture of a coupon as the virtual printer drew it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "handlers.h"
#include "session.h"

#define PNG_MAX (8 * 1024 * 1024)

/* The shop as every screen shows it. */
static json_t *shop_json(struct api_call *c, patron_store *s)
{
    struct patron_store_info info;
    if (patron_store_info(s, &info) != 0)
        return NULL;
    return json_pack("{s:s, s:s, s:s, s:i}", "name", info.name, "currency", info.currency, "locale",
                     c->cfg->locale ? c->cfg->locale : "en-GB", "store_id", info.store_id);
}

int api_h_shop(struct api_call *c, patron_store *s)
{
    return api_reply(c, 200, shop_json(c, s));
}

/* What a signed-in page needs: the till, its role and the shop. */
static json_t *session_json(struct api_call *c, patron_store *s, const char *csrf)
{
    json_t *shop = shop_json(c, s);
    if (!shop)
        return NULL;
    json_t *o = json_pack("{s:s, s:s, s:s?, s:i, s:o}", "till", c->terminal.name, "role",
                          patron_role_name(c->terminal.role), "csrf_token", csrf, "expires_in",
                          (int)c->cfg->session_ttl_s, "shop", shop);
    if (o && !csrf)
        json_object_del(o, "csrf_token"); /* signed in with a bearer token: no session */
    return o;
}

static void cookie(struct api_call *c, const char *value, unsigned max_age)
{
    snprintf(c->set_cookie, sizeof c->set_cookie,
             "%s=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s", API_SESSION_COOKIE, value,
             max_age, c->cfg->tls_cert ? "; Secure" : "");
}

int api_h_session_new(struct api_call *c, patron_store *s)
{
    char id[API_SESSION_ID_LEN + 1], csrf[API_SESSION_ID_LEN + 1];
    const char *token = api_str(c->body, "token");
    int err = patron_terminal_authenticate(s, token, &c->terminal);
    if (err != 0) {
        snprintf(c->detail, sizeof c->detail,
                 "this till token is not known here, or the till was revoked");
        return err == PATRON_ENOTFOUND ? PATRON_EAUTH : err;
    }
    if ((err = api_session_new(token, c->cfg->session_ttl_s, id, csrf)) != 0) {
        if (err == PATRON_ELIMIT)
            snprintf(c->detail, sizeof c->detail, "too many browser sessions are open");
        return err;
    }
    cookie(c, id, c->cfg->session_ttl_s);
    OPENSSL_cleanse(id, sizeof id);
    json_t *o = session_json(c, s, csrf);
    OPENSSL_cleanse(csrf, sizeof csrf);
    return api_reply(c, 201, o);
}

int api_h_session(struct api_call *c, patron_store *s)
{
    return api_reply(c, 200, session_json(c, s, c->session_csrf[0] ? c->session_csrf : NULL));
}

int api_h_session_end(struct api_call *c, patron_store *s)
{
    (void)s;
    api_session_end(c->session_id);
    cookie(c, "", 0);
    return api_reply(c, 200, json_pack("{s:b}", "signed_out", c->session_id[0] != '\0'));
}

/* The folder the virtual printer writes into, from the printer spec as transport.c reads it. */
static int prints_dir(const struct api_settings *cfg, char *out, size_t cap)
{
    const char *spec = cfg->printer_spec ? cfg->printer_spec : "auto";
    if (strncmp(spec, "virtual:", 8) == 0)
        return (size_t)snprintf(out, cap, "%s", spec + 8) < cap ? 0 : -1;
    if (strcmp(spec, "auto") == 0) {
        const char *home = cfg->home && *cfg->home ? cfg->home : getenv("PATRON_HOME");
        return (size_t)snprintf(out, cap, "%s/prints", home && *home ? home : "./var") < cap ? 0
                                                                                             : -1;
    }
    return -1;
}

static char *read_png(const char *path, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        st.st_size <= PNG_MAX && (buf = malloc((size_t)st.st_size)) != NULL) {
        *len = fread(buf, 1, (size_t)st.st_size, f);
        if (*len != (size_t)st.st_size) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

int api_h_print_image(struct api_call *c, patron_store *s)
{
    struct patron_print_job j;
    char dir[2048], path[2200];
    size_t len = 0;
    int64_t id;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = patron_print_get(s, id, &j)) != 0)
        return err;
    if (j.status != PATRON_PRINT_PRINTED) {
        snprintf(c->detail, sizeof c->detail, "print job %lld has not printed yet", (long long)id);
        return PATRON_ENOTFOUND;
    }
    char *png = NULL;
    if (prints_dir(c->cfg, dir, sizeof dir) == 0) {
        snprintf(path, sizeof path, "%s/job-%lld.png", dir, (long long)id);
        png = read_png(path, &len);
    }
    if (!png) {
        snprintf(c->detail, sizeof c->detail,
                 "print job %lld has no picture: only the virtual printer keeps one",
                 (long long)id);
        return PATRON_ENOTFOUND;
    }
    c->text_len = len;
    return api_reply_text(c, 200, png, "image/png");
}
