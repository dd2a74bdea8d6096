/* SPDX-License-Identifier: MIT */
/* Machine settings from flags, environment and $PATRON_HOME/patron.conf ("key = value" lines,
 * '#' comments), in that order of precedence, all described by one table. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CONF_MAX_VALUES 32

struct setting {
    const char *key; /* in patron.conf */
    const char *env;
    size_t flag_offset; /* in struct cli_config_flags */
    size_t cli_offset;  /* in struct cli */
    const char *fallback;
};

#define FLAG(f) offsetof(struct cli_config_flags, f)
#define FIELD(f) offsetof(struct cli, f)

/* "home" comes first: the others' defaults and patron.conf are found through it. */
static const struct setting settings[] = {
    {"home", "PATRON_HOME", FLAG(home), FIELD(home), NULL},
    {"db", "PATRON_DB", FLAG(db), FIELD(db_path), NULL},
    {"printer", "PATRON_PRINTER", FLAG(printer), FIELD(printer_spec), "auto"},
    {"printer_profile", "PATRON_PRINTER_PROFILE", FLAG(printer_profile), FIELD(printer_profile),
     "auto"},
    {"listen", "PATRON_LISTEN", FLAG(listen), FIELD(listen), "127.0.0.1:8420"},
    {"tls_cert", "PATRON_TLS_CERT", FLAG(tls_cert), FIELD(tls_cert), NULL},
    {"tls_key", "PATRON_TLS_KEY", FLAG(tls_key), FIELD(tls_key), NULL},
    {"hq", "PATRON_HQ", FLAG(hq), FIELD(hq), NULL},
    {"wallet_pass_cert", "PATRON_WALLET_PASS_CERT", FLAG(wallet_pass_cert), FIELD(wallet.pass_cert),
     NULL},
    {"wallet_pass_key", "PATRON_WALLET_PASS_KEY", FLAG(wallet_pass_key), FIELD(wallet.pass_key),
     NULL},
    {"wallet_wwdr_cert", "PATRON_WALLET_WWDR_CERT", FLAG(wallet_wwdr_cert), FIELD(wallet.wwdr_cert),
     NULL},
    {"wallet_pass_type_id", "PATRON_WALLET_PASS_TYPE_ID", FLAG(wallet_pass_type_id),
     FIELD(wallet.pass_type_id), NULL},
    {"wallet_team_id", "PATRON_WALLET_TEAM_ID", FLAG(wallet_team_id), FIELD(wallet.team_id), NULL},
    {"wallet_google_issuer", "PATRON_WALLET_GOOGLE_ISSUER", FLAG(wallet_google_issuer),
     FIELD(google.issuer), NULL},
    {"wallet_google_key", "PATRON_WALLET_GOOGLE_KEY", FLAG(wallet_google_key), FIELD(google.key),
     NULL},
    {"wallet_apns_url", "PATRON_WALLET_APNS_URL", FLAG(wallet_apns_url), FIELD(apns_url),
     "https://api.push.apple.com"},
    {"public_url", "PATRON_PUBLIC_URL", FLAG(public_url), FIELD(wallet.web_service_url), NULL},
    {"wallet_google_email", "PATRON_WALLET_GOOGLE_EMAIL", FLAG(wallet_google_email),
     FIELD(google.email), NULL},
};

static char *owned[CONF_MAX_VALUES];
static size_t n_owned;

static const char *keep(char *value)
{
    if (n_owned == CONF_MAX_VALUES) {
        free(value);
        return NULL;
    }
    owned[n_owned++] = value;
    return value;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Looks `key` up in the conf file; returns an owned copy or NULL. */
static const char *conf_value(const char *home, const char *key)
{
    char path[4096], line[1024];
    const char *found = NULL;
    snprintf(path, sizeof path, "%s/patron.conf", home);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    while (!found && fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq)
            continue;
        *eq = '\0';
        if (strcmp(trim(line), key) == 0)
            found = keep(strdup(trim(eq + 1)));
    }
    fclose(f);
    return found;
}

/* The per-user data folder of the XDG convention: $XDG_DATA_HOME/patron, else
 * ~/.local/share/patron. The service sets PATRON_HOME=/var/lib/patron in its unit. */
static const char *default_home(void)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char path[4096];
    if (xdg && xdg[0] == '/')
        snprintf(path, sizeof path, "%s/patron", xdg);
    else if (home && home[0])
        snprintf(path, sizeof path, "%s/.local/share/patron", home);
    else
        return NULL;
    return keep(strdup(path));
}

int cli_config_load(struct cli *c, const struct cli_config_flags *flags)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const struct setting *st = &settings[i];
        const char *value = *(const char *const *)((const char *)flags + st->flag_offset);
        if (!value)
            value = getenv(st->env);
        if (!value && i > 0)
            value = conf_value(c->home, st->key);
        if (!value)
            value = i == 0 ? default_home() : st->fallback;
        if (i == 0 && !value) {
            fputs("patron: no data folder: set PATRON_HOME (or HOME, or XDG_DATA_HOME), or pass "
                  "--home DIR\n",
                  stderr);
            return CLI_EXIT_USAGE;
        }
        *(const char **)((char *)c + st->cli_offset) = value;
    }
    if (!c->db_path) {
        size_t n = strlen(c->home) + sizeof "/patron.db";
        char *path = malloc(n);
        if (!path)
            return CLI_EXIT_OTHER;
        snprintf(path, n, "%s/patron.db", c->home);
        c->db_path = keep(path);
    }
    return 0;
}

void cli_config_free(struct cli *c)
{
    (void)c;
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    n_owned = 0;
}
