/* SPDX-License-Identifier: MIT */
/* What the wallet tests share: a throwaway CA -> intermediate (for Apple's WWDR) -> pass
 * certificate, a second RSA key, and a Google service account key, made with the `openssl`
 * command; a .pkpass unpacked with `unzip` and its signature checked with `openssl smime`; a Save
 * to Google Wallet link's JWT checked with `openssl dgst`. */
#ifndef PATRON_TEST_WALLET_FIXTURE_H
#define PATRON_TEST_WALLET_FIXTURE_H

#include <jansson.h>

/* Runs a shell command made from fmt; returns its exit status. */
int wallet_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Makes PARENT/pki with root.pem, wwdr.pem (CN Test WWDR), pass.pem (UID pass.test.patron, OU
 * TEAM12345, 10 days) and pass.key, other.key, google.key and google.pub (keys mode 0600). */
void wallet_make_pki(const char *parent);

/* PARENT/pki/NAME (eight results live at once). */
const char *wallet_at(const char *name);

/* Unzips PKPASS into DIR (made afresh) and lists its files in DIR/../files.txt. */
void wallet_unpack(const char *pkpass, const char *dir);

/* The exit status of `openssl smime -verify` over DIR/manifest.json with DIR/signature against
 * the throwaway root. */
int wallet_smime_verify(const char *dir);

/* Checks the link's prefix, the JWT header and its signature (openssl dgst, google.pub), and
 * returns its claims (the caller decrefs). */
json_t *wallet_jwt_claims(const char *link);

#endif
