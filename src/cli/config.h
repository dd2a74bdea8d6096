/* SPDX-License-Identifier: MIT */
/* Machine settings of the `patron` program (paths, printer, listen address, TLS files, the head
 * office): one table, each setting taken from its flag, else the environment, else patron.conf,
 * else its default. */
#ifndef PATRON_CLI_CONFIG_H
#define PATRON_CLI_CONFIG_H

#include "cli.h"

struct cli_config_flags {
    const char *db, *home, *printer, *printer_profile, *listen, *tls_cert, *tls_key, *hq;
    const char *wallet_pass_cert, *wallet_pass_key, *wallet_wwdr_cert, *wallet_pass_type_id,
        *wallet_team_id, *wallet_google_issuer, *wallet_google_key, *wallet_google_email,
        *public_url, *wallet_apns_url;
};

/* Fills the settings of c. Returns 0 or an exit status (the error printed). */
int cli_config_load(struct cli *c, const struct cli_config_flags *flags);
void cli_config_free(struct cli *c);

#endif
