/* SPDX-License-Identifier: MIT */
/* The wallet tests' certificates, keys and checks (wallet_fixture.h). */
#include "wallet_fixture.h"

#include "testutil.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char pki[300];

/* Runs a shell command made from fmt; returns its exit status. */
int wallet_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

const char *wallet_at(const char *name)
{
    static char paths[8][400];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 400, "%s/%s", pki, name);
    return p;
}

void wallet_make_pki(const char *parent)
{
    snprintf(pki, sizeof pki, "%s/pki", parent);
    assert_int_equal(mkdir(pki, 0700), 0);
    assert_int_equal(
        wallet_sh(
            "(cd %s && printf '[ca]\\nbasicConstraints=critical,CA:true\\n"
            "keyUsage=critical,keyCertSign,cRLSign\\n[leaf]\\nbasicConstraints=CA:false\\n"
            "keyUsage=digitalSignature\\n' > ext.cnf && "
            "openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 30 "
            "-subj '/CN=Test Root' && "
            "openssl req -newkey rsa:2048 -nodes -keyout wwdr.key -out wwdr.csr "
            "-subj '/CN=Test WWDR' && "
            "openssl x509 -req -in wwdr.csr -CA root.pem -CAkey root.key -CAcreateserial "
            "-out wwdr.pem -days 30 -extfile ext.cnf -extensions ca && "
            "openssl req -newkey rsa:2048 -nodes -keyout pass.key -out pass.csr "
            "-subj '/UID=pass.test.patron/CN=Pass Type ID: pass.test.patron/OU=TEAM12345' && "
            "openssl x509 -req -in pass.csr -CA wwdr.pem -CAkey wwdr.key -CAcreateserial "
            "-out pass.pem -days 10 -extfile ext.cnf -extensions leaf && "
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out other.key && "
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out google.key && "
            "openssl pkey -in google.key -pubout -out google.pub && "
            "chmod 600 pass.key other.key google.key) >/dev/null 2>&1",
            pki),
        0);
}

void wallet_unpack(const char *pkpass, const char *dir)
{
    assert_int_equal(wallet_sh("rm -rf %s && mkdir %s && unzip -q %s -d %s && unzip -Z1 %s > "
                               "%s/../files.txt",
                               dir, dir, pkpass, dir, pkpass, dir),
                     0);
}

int wallet_smime_verify(const char *dir)
{
    return wallet_sh("openssl smime -verify -binary -inform DER -in %s/signature -content "
                     "%s/manifest.json -CAfile %s -purpose any -out /dev/null 2>/dev/null",
                     dir, dir, wallet_at("root.pem"));
}

/* base64url to bytes, into a file */
static void unb64url(const char *in, size_t n, const char *path, char *text, size_t cap)
{
    char b[4096];
    unsigned char raw[4096];
    assert_true(n + 4 < sizeof b);
    for (size_t i = 0; i < n; i++)
        b[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    while (n % 4)
        b[n++] = '=';
    b[n] = '\0';
    int len = EVP_DecodeBlock(raw, (unsigned char *)b, (int)n);
    assert_true(len > 0);
    while (n > 0 && b[--n] == '=')
        len--;
    if (path) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(raw, 1, (size_t)len, f), (size_t)len);
        fclose(f);
    }
    if (text) {
        assert_true((size_t)len < cap);
        memcpy(text, raw, (size_t)len);
        text[len] = '\0';
    }
}

/* Checks the link's JWT signature with openssl and returns its claims. */
json_t *wallet_jwt_claims(const char *link)
{
    const char *prefix = "https://pay.google.com/gp/v/save/";
    char header[512], claims[4096];
    assert_memory_equal(link, prefix, strlen(prefix));
    const char *jwt = link + strlen(prefix), *dot1 = strchr(jwt, '.');
    assert_non_null(dot1);
    const char *dot2 = strchr(dot1 + 1, '.');
    assert_non_null(dot2);
    unb64url(jwt, (size_t)(dot1 - jwt), NULL, header, sizeof header);
    assert_string_equal(header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
    unb64url(dot1 + 1, (size_t)(dot2 - dot1 - 1), NULL, claims, sizeof claims);
    unb64url(dot2 + 1, strlen(dot2 + 1), wallet_at("jwt.sig"), NULL, 0);
    FILE *f = fopen(wallet_at("jwt.data"), "wb");
    assert_non_null(f);
    fwrite(jwt, 1, (size_t)(dot2 - jwt), f);
    fclose(f);
    assert_int_equal(wallet_sh("openssl dgst -sha256 -verify %s -signature %s %s >/dev/null",
                               wallet_at("google.pub"), wallet_at("jwt.sig"),
                               wallet_at("jwt.data")),
                     0);
    json_t *c = json_loads(claims, 0, NULL);
    assert_non_null(c);
    return c;
}
