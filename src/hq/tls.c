/* SPDX-License-Identifier: MIT */
/* TLS for stores off loopback: the chain's certificate authority (a P-256 key, mode 0600, and a
 * self-signed CA certificate) made or taken in a folder, the server certificate it signs for head
 * office's host name, and a client certificate per store whose CN is the store's login role.
 * Private keys are written mode 0600 from their first byte and renamed into place. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "hq.h"
#include "patron/error.h"

#define CA_DAYS 3650
#define LEAF_DAYS 825

static void path_in(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* Writes a private key mode 0600 from the first byte (a temporary name, then renamed). */
static int write_key(const char *path, EVP_PKEY *key, char *detail, size_t len)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = f && fchmod(fd, 0600) == 0 &&
             PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
             fsync(fd) == 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    if (ok && rename(tmp, path) == 0)
        return 0;
    snprintf(detail, len, "cannot write the key file %s: %s", path, strerror(errno));
    unlink(tmp);
    return PATRON_EINVAL;
}

static int write_cert(const char *path, X509 *cert, char *detail, size_t len)
{
    FILE *f = fopen(path, "w");
    int ok = f && PEM_write_X509(f, cert) == 1;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (ok)
        return 0;
    snprintf(detail, len, "cannot write the certificate %s: %s", path, strerror(errno));
    return PATRON_EINVAL;
}

/* One extension by its configuration text, with the subject and issuer set in ctx. */
static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = ext && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

/* The extensions of a CA ("ca"), a server ("server", with its subjectAltName) or a client. */
static int add_exts(X509 *cert, X509 *issuer, const char *kind, const char *san)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
    int ca = strcmp(kind, "ca") == 0, ok = add_ext(cert, &ctx, NID_subject_key_identifier, "hash");
    if (ca)
        return ok && add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE") &&
               add_ext(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always") &&
         add_ext(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(cert, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         add_ext(cert, &ctx, NID_ext_key_usage,
                 strcmp(kind, "server") == 0 ? "serverAuth" : "clientAuth");
    return ok && (!san || add_ext(cert, &ctx, NID_subject_alt_name, san));
}

/* A certificate for `key` named `cn`, signed by issuer_key (itself when issuer is NULL). */
static X509 *cert_new(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
                      const char *kind, const char *san)
{
    X509 *cert = X509_new();
    BIGNUM *serial = BN_new();
    X509_NAME *name = X509_NAME_new();
    int days = issuer ? LEAF_DAYS : CA_DAYS;
    int ok = cert && serial && name && X509_set_version(cert, 2) == 1 &&
             BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
             BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) &&
             X509_gmtime_adj(X509_getm_notBefore(cert), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(cert), (long)days * 86400) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(cert, name) == 1 &&
             X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) == 1 &&
             X509_set_pubkey(cert, key) == 1 && add_exts(cert, issuer, kind, san) &&
             X509_sign(cert, issuer_key, EVP_sha256()) > 0;
    BN_free(serial);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

/* The CA's key and certificate from dir (0: loaded; PATRON_ENOTFOUND: neither file is there). */
static int ca_load(const char *dir, EVP_PKEY **key, X509 **cert, char *detail, size_t len)
{
    char kp[4096], cp[4096];
    path_in(kp, sizeof kp, dir, "ca.key");
    path_in(cp, sizeof cp, dir, "ca.crt");
    FILE *kf = fopen(kp, "r"), *cf = fopen(cp, "r");
    *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    int found = kf || cf;
    if (kf)
        fclose(kf);
    if (cf)
        fclose(cf);
    if (*key && *cert && X509_check_private_key(*cert, *key) == 1)
        return 0;
    EVP_PKEY_free(*key);
    X509_free(*cert);
    *key = NULL;
    *cert = NULL;
    if (!found)
        return PATRON_ENOTFOUND;
    snprintf(detail, len,
             "the chain's CA in %s is not usable: ca.crt and ca.key (PEM) must both be there and "
             "belong together",
             dir);
    return PATRON_ECRYPTO;
}

static int ca_make(const char *dir, EVP_PKEY **key, X509 **cert, char *detail, size_t len)
{
    char kp[4096], cp[4096];
    path_in(kp, sizeof kp, dir, "ca.key");
    path_in(cp, sizeof cp, dir, "ca.crt");
    *key = EVP_EC_gen("P-256");
    *cert = *key ? cert_new(*key, "Patron chain CA", NULL, *key, "ca", NULL) : NULL;
    int rc = PATRON_ECRYPTO;
    if (!*cert)
        snprintf(detail, len, "cannot make the chain's CA");
    else if ((rc = write_key(kp, *key, detail, len)) == 0)
        rc = write_cert(cp, *cert, detail, len);
    return rc;
}

int patron_hq_tls_ready(const char *dir)
{
    char cp[4096], kp[4096];
    path_in(cp, sizeof cp, dir, "ca.crt");
    path_in(kp, sizeof kp, dir, "ca.key");
    return access(cp, R_OK) == 0 && access(kp, R_OK) == 0;
}

/* A key and a certificate signed by the CA, written to key_path (0600) and cert_path. */
static int leaf_write(EVP_PKEY *ca_key, X509 *ca, const char *cn, const char *kind, const char *san,
                      const char *cert_path, const char *key_path, char *detail, size_t len)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = key ? cert_new(key, cn, ca, ca_key, kind, san) : NULL;
    int rc = PATRON_ECRYPTO;
    if (!cert)
        snprintf(detail, len, "cannot make the %s certificate for %s", kind, cn);
    else if ((rc = write_key(key_path, key, detail, len)) == 0)
        rc = write_cert(cert_path, cert, detail, len);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

int patron_hq_tls_init(const char *dir, const char *host, int *made_ca, char *detail, size_t len)
{
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    char san[300], cp[4096], kp[4096];
    unsigned char ip[16];
    int rc;
    *made_ca = 0;
    if (!host || !host[0] || strlen(host) > 253 || strpbrk(host, ", /")) {
        snprintf(detail, len, "head office's host name is one name or address, as stores reach it");
        return PATRON_EINVAL;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(detail, len, "cannot make the folder %s: %s", dir, strerror(errno));
        return PATRON_EINVAL;
    }
    rc = ca_load(dir, &key, &ca, detail, len);
    if (rc == PATRON_ENOTFOUND) {
        rc = ca_make(dir, &key, &ca, detail, len);
        *made_ca = rc == 0;
    }
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    snprintf(san, sizeof san, "%s:%s", is_ip ? "IP" : "DNS", host);
    path_in(cp, sizeof cp, dir, "server.crt");
    path_in(kp, sizeof kp, dir, "server.key");
    if (rc == 0)
        rc = leaf_write(key, ca, host, "server", san, cp, kp, detail, len);
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}

/* Copies the CA certificate (public) to root_path. */
static int root_write(X509 *ca, const char *root_path, char *detail, size_t len)
{
    return write_cert(root_path, ca, detail, len);
}

int patron_hq_tls_client(const char *dir, const char *role, const char *cert_path,
                         const char *key_path, const char *root_path, char *detail, size_t len)
{
    EVP_PKEY *key = NULL;
    X509 *ca = NULL;
    int rc = ca_load(dir, &key, &ca, detail, len);
    if (rc == PATRON_ENOTFOUND)
        snprintf(detail, len, "there is no chain CA in %s: run `patron hq tls init --host NAME`",
                 dir);
    if (rc == 0)
        rc = leaf_write(key, ca, role, "client", NULL, cert_path, key_path, detail, len);
    if (rc == 0)
        rc = root_write(ca, root_path, detail, len);
    X509_free(ca);
    EVP_PKEY_free(key);
    return rc;
}

int patron_hq_tls_host(const char *dir, char *out, size_t len)
{
    char cp[4096];
    path_in(cp, sizeof cp, dir, "server.crt");
    FILE *f = fopen(cp, "r");
    X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    int n =
        cert ? X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)len)
             : -1;
    X509_free(cert);
    return n > 0 ? 0 : PATRON_ENOTFOUND;
}

int patron_hq_host_is_local(const char *host)
{
    struct in_addr a4;
    if (!host || !host[0] || host[0] == '/' || host[0] == '@' || strcasecmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(host, "::1") == 0;
}
