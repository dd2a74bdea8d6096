/* SPDX-License-Identifier: MIT */
/* Browser sessions of the counter service: a till signs in once with its token and gets an
 * opaque session id (the cookie) and a CSRF token (sent back in the X-CSRF-Token header of every
 * state-changing call). Sessions live in the service's memory only: a restart signs every
 * browser out. A session keeps its till's token, so every request is authenticated as a bearer
 * token is (a revoked till's session stops working at once). Thread-safe. */
#ifndef PATRON_API_SESSION_H
#define PATRON_API_SESSION_H

#include <stdint.h>

#include "patron/terminal.h"

#define API_SESSION_ID_LEN 64 /* hex of 32 random bytes */
#define API_SESSION_COOKIE "patron_session"
#define API_SESSION_MAX 1024

/* Starts a session for `token` lasting ttl_s seconds. Returns 0 and fills id and csrf;
 * PATRON_ELIMIT when API_SESSION_MAX sessions are open; PATRON_ECRYPTO without randomness. */
int api_session_new(const char *token, unsigned ttl_s, char id[API_SESSION_ID_LEN + 1],
                    char csrf[API_SESSION_ID_LEN + 1]);

/* Looks a session up. Returns 0 and copies its till token and CSRF token; PATRON_EAUTH when it
 * is unknown or has expired (an expired one is forgotten). */
int api_session_get(const char *id, char token[PATRON_TOKEN_LEN + 1],
                    char csrf[API_SESSION_ID_LEN + 1]);

/* Ends a session; an unknown id does nothing. */
void api_session_end(const char *id);

/* 1 when the two strings are equal, in a time that does not depend on where they differ. */
int api_session_equal(const char *a, const char *b);

#endif
