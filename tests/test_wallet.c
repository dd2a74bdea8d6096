/* SPDX-License-Identifier: MIT */
/* The card in the phone's wallet. A throwaway CA -> intermediate (standing in for Apple's WWDR)
 * -> pass certificate is made with the `openssl` command; the .pkpass is unpacked with `unzip`;
 * `openssl smime -verify` accepts its signature over manifest.json, which carries the signing
 * time and the intermediate; every manifest hash matches its file; pass.json shows the member.
 * The Google link's JWT verifies with `openssl dgst` against the service account's public key
 * and falls back to the object id when too long. Each broken setting gets its sentence. The
 * `patron card wallet` command reads its settings from flags, the environment and patron.conf. */
#include "testutil.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clirun.h"
#include "wallet_fixture.h"

#define sh wallet_sh
#define at wallet_at
#define unpack wallet_unpack
#define jwt_claims wallet_jwt_claims

static struct test_store t;
static char card[14];

static struct patron_wallet_apple apple_cfg(void)
{
    struct patron_wallet_apple cfg = {at("pass.pem"),     at("pass.key"), at("wwdr.pem"),
                                      "pass.test.patron", "TEAM12345",    NULL};
    return cfg;
}

static struct patron_wallet_google google_cfg(void)
{
    struct patron_wallet_google cfg = {"3388000000022000000", at("google.key"),
                                       "wallet@patron-test.iam.gserviceaccount.com"};
    return cfg;
}

static int setup(void **state)
{
    (void)state;
    test_store_open(&t);
    wallet_make_pki(t.dir);
    t.now = (int64_t)time(NULL) + 60; /* the certificates are valid from when they were made */
    test_enroll(&t, "Ada Lovelace", card);
    struct patron_adjustment adj = {card, 250, "welcome", "Mia", "adj-1"};
    struct patron_adjust_result r;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &r), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_store_close(&t);
    return 0;
}

static json_t *load_json(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fprintf(stderr, "%s: %s\n", path, e.text);
    assert_non_null(j);
    return j;
}

static void assert_sha1_of(const char *path, const char *hex)
{
    unsigned char md[SHA_DIGEST_LENGTH], buf[65536];
    char got[2 * SHA_DIGEST_LENGTH + 1];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n < sizeof buf);
    SHA1(buf, n, md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(got + 2 * i, 3, "%02x", md[i]);
    if (strcmp(got, hex) != 0)
        fprintf(stderr, "%s: %s, manifest says %s\n", path, got, hex);
    assert_string_equal(got, hex);
}

/* Every file of the ZIP but manifest.json and signature is in the manifest with its SHA-1. */
static void assert_manifest_matches(const char *dir)
{
    char path[512], list[256];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = load_json(path);
    snprintf(path, sizeof path, "%s/../files.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t files = 0;
    while (fgets(list, sizeof list, f)) {
        list[strcspn(list, "\n")] = '\0';
        if (strcmp(list, "manifest.json") == 0 || strcmp(list, "signature") == 0)
            continue;
        const char *hex = json_string_value(json_object_get(m, list));
        assert_non_null(hex);
        snprintf(path, sizeof path, "%s/%s", dir, list);
        assert_sha1_of(path, hex);
        files++;
    }
    fclose(f);
    assert_int_equal(files, json_object_size(m));
    assert_true(files >= 2); /* pass.json and icon.png at least */
    json_decref(m);
}

static void test_apple_pass_signed(void **state)
{
    (void)state;
    struct patron_wallet_apple cfg = apple_cfg();
    const char *pkpass = at("ada.pkpass"), *out = at("ada");
    assert_int_equal(patron_wallet_apple_write(t.s, card, &cfg, pkpass), 0);
    unpack(pkpass, out);
    assert_manifest_matches(out);
    assert_int_equal(sh("openssl smime -verify -binary -inform DER -in %s/signature -content "
                        "%s/manifest.json -CAfile %s -purpose any -out /dev/null 2>/dev/null",
                        out, out, at("root.pem")),
                     0);
    /* the signing time is signed, and Apple's intermediate travels with the signature */
    assert_int_equal(sh("openssl cms -cmsout -print -inform DER -in %s/signature | grep -q "
                        "signingTime",
                        out),
                     0);
    assert_int_equal(sh("openssl pkcs7 -inform DER -in %s/signature -print_certs | grep -q "
                        "'CN *= *Test WWDR'",
                        out),
                     0);
    /* an altered manifest does not verify: the check above means something */
    assert_int_equal(sh("sed -i 's/\"pass.json\"/\"pass.jsoN\"/' %s/manifest.json && openssl "
                        "smime -verify -binary -inform DER -in %s/signature -content "
                        "%s/manifest.json -CAfile %s -purpose any -out /dev/null 2>/dev/null",
                        out, out, out, at("root.pem")),
                     4);
}

static void test_apple_pass_shows_the_member(void **state)
{
    (void)state;
    struct patron_wallet_apple cfg = apple_cfg();
    char path[512];
    const char *pkpass = at("show.pkpass"), *out = at("show");
    assert_int_equal(patron_wallet_apple_write(t.s, card, &cfg, pkpass), 0);
    unpack(pkpass, out);
    snprintf(path, sizeof path, "%s/pass.json", out);
    json_t *p = load_json(path), *sc = json_object_get(p, "storeCard");
    assert_int_equal(json_integer_value(json_object_get(p, "formatVersion")), 1);
    assert_string_equal(json_string_value(json_object_get(p, "passTypeIdentifier")),
                        "pass.test.patron");
    assert_string_equal(json_string_value(json_object_get(p, "teamIdentifier")), "TEAM12345");
    assert_string_equal(json_string_value(json_object_get(p, "serialNumber")), card);
    assert_string_equal(json_string_value(json_object_get(p, "organizationName")), "Test shop");
    json_t *bal = json_array_get(json_object_get(sc, "primaryFields"), 0);
    assert_int_equal(json_integer_value(json_object_get(bal, "value")), 250);
    json_t *who = json_array_get(json_object_get(sc, "secondaryFields"), 0);
    assert_string_equal(json_string_value(json_object_get(who, "value")), "Ada Lovelace");
    json_t *tier = json_array_get(json_object_get(sc, "headerFields"), 0);
    assert_string_equal(json_string_value(json_object_get(tier, "key")), "tier");
    assert_true(json_string_length(json_object_get(tier, "value")) > 0);
    assert_non_null(json_array_get(json_object_get(sc, "auxiliaryFields"), 0));
    json_t *codes = json_object_get(p, "barcodes");
    assert_int_equal(json_array_size(codes), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(codes, 0), "format")),
                        "PKBarcodeFormatQR");
    assert_string_equal(json_string_value(json_object_get(json_array_get(codes, 1), "format")),
                        "PKBarcodeFormatEAN13");
    assert_string_equal(json_string_value(json_object_get(json_array_get(codes, 1), "message")),
                        card);
    json_decref(p);
    /* the icon is a real PNG */
    assert_int_equal(
        sh("head -c 8 %s/icon.png | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'", out), 0);
}

static void assert_fails(const struct patron_wallet_apple *cfg, int err, const char *sentence)
{
    unsigned char *zip = NULL;
    size_t len = 0;
    patron_store_clear_detail(t.s);
    assert_int_equal(patron_wallet_apple_pass(t.s, card, cfg, &zip, &len), err);
    assert_null(zip);
    if (!strstr(patron_store_detail(t.s), sentence))
        fprintf(stderr, "detail: %s\n", patron_store_detail(t.s));
    assert_non_null(strstr(patron_store_detail(t.s), sentence));
}

static void test_apple_errors_say_which(void **state)
{
    (void)state;
    struct patron_wallet_apple cfg = apple_cfg();
    cfg.pass_cert = at("missing.pem");
    assert_fails(&cfg, PATRON_ECRYPTO, "cannot read the pass certificate");
    cfg = apple_cfg();
    cfg.wwdr_cert = at("pass.key"); /* not a certificate */
    assert_fails(&cfg, PATRON_ECRYPTO, "the WWDR intermediate certificate");
    cfg = apple_cfg();
    cfg.pass_key = at("other.key");
    assert_fails(&cfg, PATRON_ECRYPTO, "does not match the pass certificate");
    cfg = apple_cfg();
    cfg.team_id = NULL;
    assert_fails(&cfg, PATRON_ECRYPTO, "wallet_team_id is not set");
    cfg = apple_cfg();
    cfg.pass_type_id = "pass.someone.else";
    assert_fails(&cfg, PATRON_ECRYPTO, "another pass type id");
    assert_int_equal(chmod(at("pass.key"), 0644), 0);
    cfg = apple_cfg();
    assert_fails(&cfg, PATRON_EKEYPERM, "can be read by group or others");
    assert_int_equal(chmod(at("pass.key"), 0600), 0);
    /* the pass certificate lasts 10 days */
    int64_t was = t.now;
    t.now += 11 * TEST_DAY;
    assert_fails(&cfg, PATRON_ECRYPTO, "the pass certificate");
    assert_non_null(strstr(patron_store_detail(t.s), "expired on"));
    t.now = was;
    unsigned char *zip = NULL;
    size_t len = 0;
    assert_int_equal(patron_wallet_apple_pass(t.s, "2999999999991", &cfg, &zip, &len),
                     PATRON_ENOCARD);
}

static void test_google_link_verifies(void **state)
{
    (void)state;
    struct patron_wallet_google cfg = google_cfg();
    char *link = NULL;
    int object_only = -1;
    assert_int_equal(patron_wallet_google_link(t.s, card, &cfg, &link, &object_only), 0);
    assert_int_equal(object_only, 0);
    assert_true(strlen(link) <= PATRON_WALLET_GOOGLE_LINK_MAX);
    json_t *c = jwt_claims(link);
    assert_string_equal(json_string_value(json_object_get(c, "iss")), cfg.email);
    assert_string_equal(json_string_value(json_object_get(c, "aud")), "google");
    assert_string_equal(json_string_value(json_object_get(c, "typ")), "savetowallet");
    json_t *o = json_array_get(json_object_get(json_object_get(c, "payload"), "loyaltyObjects"), 0);
    char id[64];
    snprintf(id, sizeof id, "%s.%s", cfg.issuer, card);
    assert_string_equal(json_string_value(json_object_get(o, "id")), id);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(json_object_get(o, "loyaltyPoints"), "balance"), "int")),
                     250);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "barcode"), "value")),
                        card);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "barcode"), "type")),
                        "QR_CODE");
    json_decref(c);
    patron_wallet_free(link);

    /* a link that would be too long carries the object's id only */
    char email[700];
    memset(email, 'w', 600);
    snprintf(email + 600, sizeof email - 600, "@patron-test.iam.gserviceaccount.com");
    cfg.email = email;
    assert_int_equal(patron_wallet_google_link(t.s, card, &cfg, &link, &object_only), 0);
    assert_int_equal(object_only, 1);
    assert_true(strlen(link) <= PATRON_WALLET_GOOGLE_LINK_MAX);
    c = jwt_claims(link);
    o = json_array_get(json_object_get(json_object_get(c, "payload"), "loyaltyObjects"), 0);
    assert_string_equal(json_string_value(json_object_get(o, "id")), id);
    assert_int_equal(json_object_size(o), 1);
    json_decref(c);
    patron_wallet_free(link);
}

static void test_google_errors_say_which(void **state)
{
    (void)state;
    struct patron_wallet_google cfg = google_cfg();
    char *link = NULL;
    int object_only;
    cfg.key = at("nope.key");
    assert_int_equal(patron_wallet_google_link(t.s, card, &cfg, &link, &object_only),
                     PATRON_ECRYPTO);
    assert_non_null(strstr(patron_store_detail(t.s), "cannot read the Google service account key"));
    cfg = google_cfg();
    cfg.email = "";
    assert_int_equal(patron_wallet_google_link(t.s, card, &cfg, &link, &object_only),
                     PATRON_ECRYPTO);
    assert_non_null(strstr(patron_store_detail(t.s), "wallet_google_email is not set"));
    assert_null(link);
}

/* The stand-in for Apple's push service: records what it was handed, fails when told to. */
struct stand_in {
    int fail;
    int calls;
    char token[64], type[64];
};

static int stand_in_send(void *ctx, const char *push_token, const char *pass_type, char *why,
                         size_t why_len)
{
    struct stand_in *a = ctx;
    a->calls++;
    if (a->fail) {
        snprintf(why, why_len, "the stand-in is down");
        return -1;
    }
    snprintf(a->token, sizeof a->token, "%s", push_token);
    snprintf(a->type, sizeof a->type, "%s", pass_type);
    return 0;
}

static void test_updatable_pass(void **state)
{
    (void)state;
    struct patron_wallet_apple cfg = apple_cfg();
    char path[512], serials[PATRON_WALLET_SERIALS_MAX][PATRON_CARD_DIGITS + 1];
    const char *type = "pass.test.patron";
    cfg.web_service_url = "https://shop.example/wallet";
    assert_int_equal(patron_wallet_apple_write(t.s, card, &cfg, at("up.pkpass")), 0);
    unpack(at("up.pkpass"), at("up"));
    snprintf(path, sizeof path, "%s/pass.json", at("up"));
    json_t *p = load_json(path);
    assert_string_equal(json_string_value(json_object_get(p, "webServiceURL")),
                        cfg.web_service_url);
    const char *token = json_string_value(json_object_get(p, "authenticationToken"));
    assert_non_null(token);
    assert_int_equal(strlen(token), 32);
    assert_int_equal(patron_wallet_apple_auth(t.s, card, token), 0);
    assert_int_equal(patron_wallet_apple_auth(t.s, "2999999999991", token), PATRON_EAUTH);
    assert_int_equal(patron_wallet_apple_auth(t.s, card, "00000000000000000000000000000000"),
                     PATRON_EAUTH);
    json_decref(p);

    int created = -1;
    size_t n;
    int64_t tag, tag2, queued, sent, failed;
    assert_int_equal(patron_wallet_apple_register(t.s, "dev1", type, card, "push-A", &created), 0);
    assert_int_equal(created, 1);
    assert_int_equal(patron_wallet_apple_register(t.s, "dev1", type, card, "push-A", &created), 0);
    assert_int_equal(created, 0);
    assert_int_equal(
        patron_wallet_apple_register(t.s, "dev1", type, "2999999999991", "push-A", &created),
        PATRON_ENOCARD);
    assert_int_equal(patron_wallet_apple_updated(t.s, "dev1", type, -1, serials, &n, &tag), 0);
    assert_int_equal(n, 1);
    assert_string_equal(serials[0], card);
    assert_int_equal(patron_wallet_apple_updated(t.s, "dev1", type, tag, serials, &n, &tag2), 0);
    assert_int_equal(n, 0);
    /* nothing changed since the phone registered: no push */
    assert_int_equal(patron_wallet_push_queue(t.s, &queued), 0);
    assert_int_equal(queued, 0);
    struct patron_adjustment adj = {card, 10, "birthday", "Mia", "adj-push"};
    struct patron_adjust_result r;
    assert_int_equal(patron_ledger_adjust(t.s, &adj, &r), 0);
    assert_int_equal(patron_wallet_apple_updated(t.s, "dev1", type, tag, serials, &n, &tag2), 0);
    assert_int_equal(n, 1);
    assert_true(tag2 > tag);
    /* one push for the change, kept until delivered */
    assert_int_equal(patron_wallet_push_queue(t.s, &queued), 0);
    assert_int_equal(queued, 1);
    assert_int_equal(patron_wallet_push_queue(t.s, &queued), 0);
    assert_int_equal(queued, 0);
    struct stand_in apns = {.fail = 1};
    assert_int_equal(patron_wallet_push_deliver(t.s, stand_in_send, &apns, &sent, &failed), 0);
    assert_int_equal(sent, 0);
    assert_int_equal(failed, 1);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM wallet_pushes WHERE sent_at IS NULL"
                                      " AND last_error = 'the stand-in is down'"),
                     1);
    apns.fail = 0;
    assert_int_equal(patron_wallet_push_deliver(t.s, stand_in_send, &apns, &sent, &failed), 0);
    assert_int_equal(sent, 1);
    assert_string_equal(apns.token, "push-A");
    assert_string_equal(apns.type, type);
    assert_int_equal(patron_wallet_push_deliver(t.s, stand_in_send, &apns, &sent, &failed), 0);
    assert_int_equal(sent, 0);
    assert_int_equal(apns.calls, 2);
    assert_int_equal(patron_wallet_apple_unregister(t.s, "dev1", type, card), 0);
    assert_int_equal(patron_wallet_apple_unregister(t.s, "dev1", type, card), PATRON_ENOTFOUND);
    /* erasure forgets the phones registered for the member's pass (the last use of `card`) */
    assert_int_equal(patron_wallet_apple_register(t.s, "dev2", type, card, "push-B", &created), 0);
    assert_int_equal(patron_member_erase(t.s, card, "admin"), 0);
    assert_int_equal(test_scalar(t.s, "SELECT COUNT(*) FROM wallet_registrations"), 0);
}

/* The program: settings from flags, the environment and patron.conf; errors as sentences. */
static void test_cli(void **state)
{
    (void)state;
    struct clirun r;
    char home[400], env_cert[512], env_key[512], conf[600], pkpass[420];
    snprintf(home, sizeof home, "%s/home", t.dir);
    memset(&r, 0, sizeof r);
    assert_int_equal(clirun(&r, "--home", home, "init", (char *)NULL), 0);
    assert_int_equal(
        clirun(&r, "--home", home, "--json", "member", "enroll", "--name", "Bo", (char *)NULL), 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    char bo[14];
    snprintf(bo, sizeof bo, "%s", json_string_value(json_object_get(j, "card")));
    json_decref(j);
    snprintf(conf, sizeof conf,
             "printf 'wallet_wwdr_cert = %s\\nwallet_pass_type_id = pass.test.patron\\n"
             "wallet_google_issuer = 3388000000022000000\\n' > %s/patron.conf",
             at("wwdr.pem"), home);
    assert_int_equal(sh("%s", conf), 0);
    snprintf(env_cert, sizeof env_cert, "PATRON_WALLET_PASS_CERT=%s", at("pass.pem"));
    snprintf(env_key, sizeof env_key, "PATRON_WALLET_PASS_KEY=%s", at("pass.key"));
    const char *env[] = {env_cert, env_key, NULL};
    r.env = env;
    snprintf(pkpass, sizeof pkpass, "%s/bo.pkpass", home);
    assert_int_equal(clirun(&r, "--home", home, "card", "wallet", bo, "--apple", pkpass,
                            "--wallet-team-id", "TEAM12345", (char *)NULL),
                     0);
    assert_non_null(strstr(r.out, pkpass));
    unpack(pkpass, at("bo"));
    assert_int_equal(sh("openssl smime -verify -binary -inform DER -in %s/signature -content "
                        "%s/manifest.json -CAfile %s -purpose any -out /dev/null 2>/dev/null",
                        at("bo"), at("bo"), at("root.pem")),
                     0);
    /* without the team id: a sentence naming the setting, and no file */
    int status = clirun(&r, "--home", home, "card", "wallet", bo, "--apple", at("none.pkpass"),
                        (char *)NULL);
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(r.err, "wallet_team_id is not set"));
    struct stat st;
    assert_int_not_equal(stat(at("none.pkpass"), &st), 0);
    /* an unknown card */
    status = clirun(&r, "--home", home, "card", "wallet", "2999999999991", "--apple",
                    at("none.pkpass"), "--wallet-team-id", "TEAM12345", (char *)NULL);
    assert_int_equal(status, 3);
    /* Google */
    assert_int_equal(clirun(&r, "--home", home, "card", "wallet", bo, "--google",
                            "--wallet-google-key", at("google.key"), "--wallet-google-email",
                            "wallet@patron-test.iam.gserviceaccount.com", (char *)NULL),
                     0);
    r.out[strcspn(r.out, "\n")] = '\0';
    json_t *c = jwt_claims(r.out);
    json_decref(c);
    /* neither or both forms is a usage error */
    assert_int_equal(clirun(&r, "--home", home, "card", "wallet", bo, (char *)NULL), 64);
}

/* Starts the stand-in for Apple's push service answering `status`; returns its pid, port in
 * *port. */
static pid_t standin_start(int status, int *port)
{
    char pidfile[400], portfile[400];
    snprintf(pidfile, sizeof pidfile, "%s", at("standin.pid"));
    snprintf(portfile, sizeof portfile, "%s", at("standin.port"));
    unlink(portfile);
    assert_int_equal(sh("python3 %s/tests/apns_standin.py %s %s %d >/dev/null 2>&1 & echo $! > %s",
                        getenv("PATRON_SOURCE_DIR"), portfile, at("apns.log"), status, pidfile),
                     0);
    FILE *f = NULL;
    for (int i = 0; i < 6000 && !(f = fopen(portfile, "r")); i++)
        usleep(10000);
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", port), 1);
    fclose(f);
    f = fopen(pidfile, "r");
    int pid = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

/* `patron card push`: a changed pass's push reaches the stand-in; a refusal keeps it queued. */
static void test_cli_push(void **state)
{
    (void)state;
    struct clirun r;
    char home[400], db[450], url[64], card2[14], line[512];
    snprintf(home, sizeof home, "%s/home-push", t.dir);
    snprintf(db, sizeof db, "%s/patron.db", home);
    memset(&r, 0, sizeof r);
    assert_int_equal(clirun(&r, "--home", home, "init", (char *)NULL), 0);
    assert_int_equal(
        clirun(&r, "--home", home, "--json", "member", "enroll", "--name", "Cy", (char *)NULL), 0);
    json_t *j = json_loads(r.out, 0, NULL);
    snprintf(card2, sizeof card2, "%s", json_string_value(json_object_get(j, "card")));
    json_decref(j);
    patron_store *s;
    int created;
    assert_int_equal(patron_store_open(db, &s), 0);
    assert_int_equal(
        patron_wallet_apple_register(s, "dev9", "pass.test.patron", card2, "push-Z", &created), 0);
    struct patron_adjustment adj = {card2, 7, "welcome", "Mia", "adj-cy"};
    struct patron_adjust_result ar;
    assert_int_equal(patron_ledger_adjust(s, &adj, &ar), 0);
    patron_store_close(s);
    int port;
    pid_t pid = standin_start(503, &port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    int status = clirun(&r, "--home", home, "--json", "--wallet-apns-url", url, "card", "push",
                        (char *)NULL);
    kill(pid, SIGTERM);
    assert_int_equal(status, 1);
    assert_non_null(strstr(r.out, "\"failed\":1"));
    assert_non_null(strstr(r.out, "\"queued\":1"));
    pid = standin_start(200, &port);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    status = clirun(&r, "--home", home, "--json", "--wallet-apns-url", url, "card", "push",
                    (char *)NULL);
    assert_int_equal(status, 0);
    assert_non_null(strstr(r.out, "\"sent\":1"));
    assert_non_null(strstr(r.out, "\"queued\":0")); /* the waiting push, not a second one */
    status = clirun(&r, "--home", home, "--json", "--wallet-apns-url", url, "card", "push",
                    (char *)NULL);
    kill(pid, SIGTERM);
    assert_int_equal(status, 0);
    assert_non_null(strstr(r.out, "\"sent\":0"));
    /* the stand-in saw the push token, the pass type as the topic, an empty payload, twice */
    FILE *f = fopen(at("apns.log"), "r");
    assert_non_null(f);
    int seen = 0;
    while (fgets(line, sizeof line, f)) {
        assert_string_equal(line, "/3/device/push-Z pass.test.patron {}\n");
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apple_pass_signed),
        cmocka_unit_test(test_apple_pass_shows_the_member),
        cmocka_unit_test(test_apple_errors_say_which),
        cmocka_unit_test(test_google_link_verifies),
        cmocka_unit_test(test_google_errors_say_which),
        cmocka_unit_test(test_updatable_pass),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_cli_push),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
