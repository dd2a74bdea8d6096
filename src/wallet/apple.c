/* SPDX-License-Identifier: MIT */
/* The Apple Wallet store card (.pkpass): pass.json (store, member, balance, tier, points expiring
 * soon; the card number as a QR code first, then as an EAN-13 for the systems that read it), the
 * pictures, manifest.json (the SHA-1 of every file) and `signature`, a detached PKCS#7 (DER)
 * over the manifest made with the pass type certificate and its key, with the signing time and
 * Apple's WWDR intermediate in it. The ZIP is written by libzip. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/pkcs7.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "wallet/wallet_internal.h"

enum { F_PASS, F_ICON, F_ICON2, F_LOGO, F_LOGO2, F_MANIFEST, F_SIGNATURE, F_COUNT };

static const char *const file_names[F_COUNT] = {
    "pass.json", "icon.png", "icon@2x.png", "logo.png", "logo@2x.png", "manifest.json", "signature",
};

struct pass_files {
    unsigned char *data[F_COUNT];
    size_t len[F_COUNT];
};

/* The signer: certificate, key and intermediate, each checked. */
struct signer {
    X509 *cert, *wwdr;
    EVP_PKEY *key;
};

static void signer_free(struct signer *g)
{
    X509_free(g->cert);
    X509_free(g->wwdr);
    EVP_PKEY_free(g->key);
}

/* The pass type id the certificate was issued for (its subject's UID), when it names one. */
static int check_pass_type(patron_store *s, const struct patron_wallet_apple *cfg, X509 *cert)
{
    X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_userId, -1);
    if (i < 0)
        return 0;
    ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    size_t n = strlen(cfg->pass_type_id);
    if ((size_t)ASN1_STRING_length(v) == n &&
        memcmp(ASN1_STRING_get0_data(v), cfg->pass_type_id, n) == 0)
        return 0;
    return patron__fail(s, PATRON_ECRYPTO,
                        "the pass certificate %s was issued for another pass type id than "
                        "wallet_pass_type_id %s",
                        cfg->pass_cert, cfg->pass_type_id);
}

static int signer_load(patron_store *s, const struct patron_wallet_apple *cfg, struct signer *g)
{
    int err;
    memset(g, 0, sizeof *g);
    if ((err = patron__wallet_need(s, cfg->pass_cert, "wallet_pass_cert")) != 0 ||
        (err = patron__wallet_need(s, cfg->pass_key, "wallet_pass_key")) != 0 ||
        (err = patron__wallet_need(s, cfg->wwdr_cert, "wallet_wwdr_cert")) != 0 ||
        (err = patron__wallet_need(s, cfg->pass_type_id, "wallet_pass_type_id")) != 0 ||
        (err = patron__wallet_need(s, cfg->team_id, "wallet_team_id")) != 0)
        return err;
    if ((err = patron__wallet_cert(s, cfg->pass_cert, "the pass certificate", &g->cert)) != 0 ||
        (err = patron__wallet_cert(s, cfg->wwdr_cert, "the WWDR intermediate certificate",
                                   &g->wwdr)) != 0 ||
        (err = patron__wallet_key(s, cfg->pass_key, "the pass key", &g->key)) != 0)
        return err;
    if (X509_check_private_key(g->cert, g->key) != 1)
        return patron__fail(s, PATRON_ECRYPTO,
                            "the pass key %s does not match the pass certificate %s", cfg->pass_key,
                            cfg->pass_cert);
    return check_pass_type(s, cfg, g->cert);
}

static json_t *field(const char *key, const char *label, json_t *value)
{
    return json_pack("{s:s, s:s, s:o}", "key", key, "label", label, "value", value);
}

static json_t *barcode(const char *format, const char *card)
{
    return json_pack("{s:s, s:s, s:s, s:s}", "format", format, "message", card, "messageEncoding",
                     "iso-8859-1", "altText", card);
}

static json_t *store_card(const struct patron__wallet_card *w)
{
    char label[64], day[11];
    const struct patron_member *m = &w->member;
    if (w->expiring_points > 0) {
        patron__wallet_date(w->expiring_at, day);
        snprintf(label, sizeof label, "Expiring from %s", day);
    } else {
        snprintf(label, sizeof label, "Expiring soon");
    }
    json_t *points = field("balance", "Points", json_integer(m->points));
    json_object_set_new(points, "changeMessage", json_string("Your balance is now %@ points."));
    return json_pack("{s:[o], s:[o], s:[o], s:[o], s:[o, o]}", "headerFields",
                     field("tier", "Tier", json_string(m->tier)), "primaryFields", points,
                     "secondaryFields", field("member", "Member", json_string(m->name)),
                     "auxiliaryFields", field("expiring", label, json_integer(w->expiring_points)),
                     "backFields", field("card", "Card number", json_string(m->card)),
                     field("store", "Store", json_string(w->store_name)));
}

/* An updatable pass tells the phone where the pass web service is and how to authenticate. */
static void web_service(json_t *pass, const struct patron_wallet_apple *cfg, const char *token)
{
    if (!cfg->web_service_url || !cfg->web_service_url[0])
        return;
    json_object_set_new(pass, "webServiceURL", json_string(cfg->web_service_url));
    json_object_set_new(pass, "authenticationToken", json_string(token));
}

static int pass_json(const struct patron__wallet_card *w, const struct patron_wallet_apple *cfg,
                     const char *token, struct pass_files *f)
{
    char description[192];
    snprintf(description, sizeof description, "%s loyalty card", w->store_name);
    json_t *pass = json_pack(
        "{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:[o, o]}", "formatVersion",
        1, "passTypeIdentifier", cfg->pass_type_id, "serialNumber", w->member.card,
        "teamIdentifier", cfg->team_id, "organizationName", w->store_name, "description",
        description, "logoText", w->store_name, "foregroundColor", "rgb(255, 255, 255)",
        "labelColor", "rgb(214, 225, 245)", "backgroundColor", "rgb(40, 70, 122)", "storeCard",
        store_card(w), "barcode", barcode("PKBarcodeFormatQR", w->member.card), "barcodes",
        barcode("PKBarcodeFormatQR", w->member.card),
        barcode("PKBarcodeFormatEAN13", w->member.card));
    if (pass)
        web_service(pass, cfg, token);
    char *text = pass ? json_dumps(pass, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(pass);
    if (!text)
        return PATRON_ENOMEM;
    f->data[F_PASS] = (unsigned char *)text;
    f->len[F_PASS] = strlen(text);
    return 0;
}

static int pictures(struct pass_files *f)
{
    int err;
    if ((err = patron__wallet_png(PATRON__WALLET_ICON, 1, &f->data[F_ICON], &f->len[F_ICON])) ||
        (err = patron__wallet_png(PATRON__WALLET_ICON, 2, &f->data[F_ICON2], &f->len[F_ICON2])) ||
        (err = patron__wallet_png(PATRON__WALLET_LOGO, 1, &f->data[F_LOGO], &f->len[F_LOGO])) ||
        (err = patron__wallet_png(PATRON__WALLET_LOGO, 2, &f->data[F_LOGO2], &f->len[F_LOGO2])))
        return err;
    return 0;
}

static int manifest(struct pass_files *f)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char hex[2 * SHA_DIGEST_LENGTH + 1];
    json_t *m = json_object();
    if (!m)
        return PATRON_ENOMEM;
    for (int i = 0; i < F_MANIFEST; i++) {
        SHA1(f->data[i], f->len[i], md);
        for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        json_object_set_new(m, file_names[i], json_string(hex));
    }
    char *text = json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(m);
    if (!text)
        return PATRON_ENOMEM;
    f->data[F_MANIFEST] = (unsigned char *)text;
    f->len[F_MANIFEST] = strlen(text);
    return 0;
}

/* PKCS7_sign adds the signing time (no PKCS7_NOATTR) and the chain's certificates. */
static int sign(patron_store *s, const struct signer *g, struct pass_files *f)
{
    BIO *in = BIO_new_mem_buf(f->data[F_MANIFEST], (int)f->len[F_MANIFEST]);
    STACK_OF(X509) *chain = sk_X509_new_null();
    PKCS7 *p7 = NULL;
    int err = PATRON_ENOMEM, n;
    if (!in || !chain || !sk_X509_push(chain, g->wwdr))
        goto out;
    p7 = PKCS7_sign(g->cert, g->key, chain, in, PKCS7_BINARY | PKCS7_DETACHED);
    if (!p7 || (n = i2d_PKCS7(p7, NULL)) <= 0) {
        err = patron__fail(s, PATRON_ECRYPTO, "cannot sign the pass's manifest");
        goto out;
    }
    if ((f->data[F_SIGNATURE] = malloc((size_t)n)) == NULL)
        goto out;
    unsigned char *p = f->data[F_SIGNATURE];
    f->len[F_SIGNATURE] = (size_t)i2d_PKCS7(p7, &p);
    err = 0;
out:
    PKCS7_free(p7);
    sk_X509_free(chain);
    BIO_free(in);
    return err;
}

/* The files into a ZIP held in memory. */
static int zip_files(const struct pass_files *f, unsigned char **out, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze), *fs;
    zip_t *za = NULL;
    int err = PATRON_ENOMEM;
    if (!src)
        goto out;
    zip_source_keep(src);
    if ((za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL)
        goto out;
    for (int i = 0; i < F_COUNT; i++) {
        if ((fs = zip_source_buffer(za, f->data[i], f->len[i], 0)) == NULL)
            goto out;
        zip_int64_t idx = zip_file_add(za, file_names[i], fs, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(fs);
            goto out;
        }
        /* a regular file, rw-r--r-- */
        if (zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                             (zip_uint32_t)0100644 << 16) != 0)
            goto out;
    }
    if (zip_close(za) != 0)
        goto out;
    za = NULL;
    if (zip_source_open(src) != 0 || zip_source_seek(src, 0, SEEK_END) != 0)
        goto out;
    zip_int64_t n = zip_source_tell(src);
    if (n <= 0 || zip_source_seek(src, 0, SEEK_SET) != 0 || (*out = malloc((size_t)n)) == NULL)
        goto close;
    if (zip_source_read(src, *out, (zip_uint64_t)n) != n) {
        free(*out);
        *out = NULL;
        goto close;
    }
    *len = (size_t)n;
    err = 0;
close:
    zip_source_close(src);
out:
    if (za)
        zip_discard(za);
    zip_source_free(src);
    zip_error_fini(&ze);
    return err;
}

int patron_wallet_apple_pass(patron_store *s, const char *card,
                             const struct patron_wallet_apple *cfg, unsigned char **out,
                             size_t *len)
{
    struct patron__wallet_card w;
    struct pass_files f = {0};
    struct signer g;
    char token[33];
    int err = signer_load(s, cfg, &g);
    if (err == 0 && (err = patron__wallet_card_load(s, card, &w)) == 0 &&
        (err = patron__wallet_token(s, w.member.card, token)) == 0 &&
        (err = pass_json(&w, cfg, token, &f)) == 0 && (err = pictures(&f)) == 0 &&
        (err = manifest(&f)) == 0 && (err = sign(s, &g, &f)) == 0)
        err = zip_files(&f, out, len);
    for (int i = 0; i < F_COUNT; i++)
        free(f.data[i]);
    signer_free(&g);
    return err;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int patron_wallet_apple_write(patron_store *s, const char *card,
                              const struct patron_wallet_apple *cfg, const char *path)
{
    unsigned char *zip = NULL;
    size_t len = 0;
    char tmp[4096];
    int err = patron_wallet_apple_pass(s, card, cfg, &zip, &len), fd;
    if (err != 0)
        return err;
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        err = patron__fail(s, PATRON_EINVAL, "the file name %s is too long", path);
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        err = patron__fail(s, -errno, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    int bad = fchmod(fd, 0644) != 0 || write_all(fd, zip, len) != 0 || fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (bad || rename(tmp, path) != 0) {
        err = patron__fail(s, -errno, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
out:
    free(zip);
    return err;
}

void patron_wallet_free(void *p)
{
    free(p);
}
