/* SPDX-License-Identifier: MIT */
/* Stores off loopback reach head office over TLS with a client certificate (label pg). A
 * throwaway cluster runs with ssl=on and a server certificate for `localhost` from the chain's CA
 * (`patron hq tls init`), with the pg_hba.conf lines an administrator adds (store roles only
 * over TLS, password and client certificate), and is reached by the name `localhost` with
 * sslmode=verify-full. A store with its certificate syncs; a second CA, a missing or foreign
 * client certificate, a server certificate for another host name, a key file others may read and
 * a plain URL off loopback are each refused with a sentence: the store keeps selling and nothing
 * is shipped twice once the right URL syncs. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "clirun.h"
#include "hq.h"
#include "pgutil.h"
#include "testutil.h"

#define DB "hq_tls"

static struct pg_cluster pg;
static char home[256], other[256], owner[512];

/* `patron --home DIR hq tls init --host localhost` */
static int tls_init(const char *dir)
{
    struct clirun r = {0};
    int status =
        clirun(&r, "--home", dir, "hq", "tls", "init", "--host", "localhost", (char *)NULL);
    if (status != 0)
        fprintf(stderr, "hq tls init: %s%s\n", r.out, r.err);
    return status;
}

/* Puts the administrator's lines (as `hq tls init` prints them) before pgutil's, then restarts. */
static int apply_hba(void)
{
    char path[320], lines[512], rest[4096];
    snprintf(path, sizeof path, "%s/data/pg_hba.conf", pg.base);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(rest, 1, sizeof rest - 1, f) : 0;
    if (!f)
        return -1;
    fclose(f);
    rest[n] = '\0';
    patron_hq_tls_hba(owner, lines, sizeof lines);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%s%s", lines, rest) < 0 || fclose(f) != 0)
        return -1;
    return pg_cluster_halt(&pg, "fast") == 0 && pg_cluster_resume(&pg) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    struct clirun r = {0};
    char tls[300];
    const char *tmp = getenv("TMPDIR");
    snprintf(home, sizeof home, "%s/patron-hq-tls-XXXXXX", tmp ? tmp : "/tmp");
    snprintf(other, sizeof other, "%s/patron-hq-tls2-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(home) || !mkdtemp(other) || tls_init(home) != 0 || tls_init(other) != 0)
        return -1;
    snprintf(tls, sizeof tls, "%s/hq-tls", home);
    if (pg_cluster_start_tls(&pg, tls) != 0 || pg_cluster_createdb(&pg, DB, owner, sizeof owner))
        return -1;
    if (clirun(&r, "--home", home, "--hq", owner, "hq", "init", (char *)NULL) != 0)
        return -1;
    return apply_hba();
}

static int group_teardown(void **state)
{
    (void)state;
    pg_cluster_stop(&pg);
    test_rmtree(home);
    test_rmtree(other);
    return 0;
}

/* A store of the chain registered with --host localhost: its file, id, role and files. */
struct shop {
    struct test_store t;
    int id;
    char role[64], url[2048];
    char passfile[320], cert[320], key[320], root[320];
};

static int64_t shop_clock(void *ctx)
{
    return ((struct test_store *)ctx)->now;
}

/* `hq store add ID --name N [--host HOST]` (HOST NULL: the server certificate's name). */
static void shop_register(struct shop *sh, const char *host)
{
    struct clirun r = {0};
    char id[16], name[32];
    snprintf(id, sizeof id, "%d", sh->id);
    snprintf(name, sizeof name, "Shop %d", sh->id);
    if (clirun(&r, "--json", "--home", home, "--hq", owner, "hq", "store", "add", id, "--name",
               name, host ? "--host" : NULL, host, (char *)NULL) != 0)
        fail_msg("store add %d: %s", sh->id, r.err);
    json_t *o = json_loads(r.out, 0, NULL), *tls = json_object_get(o, "tls");
    assert_non_null(tls);
    snprintf(sh->role, sizeof sh->role, "%s", json_string_value(json_object_get(o, "role")));
    snprintf(sh->url, sizeof sh->url, "%s", json_string_value(json_object_get(o, "url")));
    snprintf(sh->passfile, sizeof sh->passfile, "%s",
             json_string_value(json_object_get(o, "password_file")));
    snprintf(sh->cert, sizeof sh->cert, "%s", json_string_value(json_object_get(tls, "cert")));
    snprintf(sh->key, sizeof sh->key, "%s", json_string_value(json_object_get(tls, "key")));
    snprintf(sh->root, sizeof sh->root, "%s", json_string_value(json_object_get(tls, "rootcert")));
    json_decref(o);
}

static void shop_open_at(struct shop *sh, int id, const char *host)
{
    const char *tmp = getenv("TMPDIR");
    memset(sh, 0, sizeof *sh);
    sh->id = id;
    snprintf(sh->t.dir, sizeof sh->t.dir, "%s/patron-shop-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(sh->t.dir));
    snprintf(sh->t.path, sizeof sh->t.path, "%s/patron.db", sh->t.dir);
    assert_int_equal(patron_store_open(sh->t.path, &sh->t.s), 0);
    sh->t.now = TEST_EPOCH;
    patron_store_set_clock(sh->t.s, shop_clock, &sh->t);
    assert_int_equal(patron_store_init(sh->t.s, id, "Shop"), 0);
    shop_register(sh, host);
}

static void shop_open(struct shop *sh, int id)
{
    shop_open_at(sh, id, "localhost");
}

/* The store's URL as key=value words: host, then its files (NULL: left out). */
static void url_of(const struct shop *sh, const char *host, const char *root, const char *cert,
                   const char *key, char *out, size_t len)
{
    int n = snprintf(out, len, "host=%s port=%d dbname=%s user=%s passfile=%s", host, pg.port, DB,
                     sh->role, sh->passfile);
    if (root)
        n += snprintf(out + n, len - (size_t)n, " sslmode=verify-full sslrootcert=%s", root);
    if (cert)
        n += snprintf(out + n, len - (size_t)n, " sslcert=%s", cert);
    if (key)
        snprintf(out + n, len - (size_t)n, " sslkey=%s", key);
}

/* A member and a sale at the store: it must succeed whatever head office does. */
static void sell(struct shop *sh, const char *ref)
{
    char card[14];
    test_enroll(&sh->t, ref, card);
    struct patron_sale_line lines[] = {
        {.sku = "TEA", .category = "general", .qty = 2, .unit_minor = 500}};
    struct patron_sale in = {.card = card,
                             .ref = ref,
                             .total_minor = 1000,
                             .lines = lines,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result r;
    if (patron_sale_record(sh->t.s, &in, &r) != 0)
        fail_msg("store %d sale %s: %s", sh->id, ref, patron_store_detail(sh->t.s));
    sh->t.now += 60;
}

static int sync_cli(struct clirun *r, struct shop *sh, const char *url)
{
    return clirun(r, "--db", sh->t.path, "--home", home, "--hq", url, "sync", (char *)NULL);
}

/* Head office holds the store's outbox rows 1..last, each once. */
static void assert_hq_equals_store(struct shop *sh)
{
    int64_t last = 0;
    char id[8];
    assert_int_equal(patron_outbox_last(sh->t.s, &last), 0);
    snprintf(id, sizeof id, "%d", sh->id);
    const char *params[] = {id};
    PGconn *conn = PQconnectdb(owner);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexecParams(conn,
                                 "SELECT count(*), count(DISTINCT store_seq),"
                                 " coalesce(max(store_seq), 0) FROM facts"
                                 " WHERE store_id = $1::integer",
                                 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    for (int col = 0; col < 3; col++)
        if (strtoll(PQgetvalue(res, 0, col), NULL, 10) != last)
            fail_msg(
                "store %d: head office has count %s, distinct %s, max %s; the store wrote %lld",
                sh->id, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                (long long)last);
    PQclear(res);
    PQfinish(conn);
}

/* A bad day: the store sells, a sync with `bad` fails saying `said1` (and `said2`), the store
 * sells on, then its own URL ships everything exactly once. */
static void bad_day(struct shop *sh, const char *bad, const char *said1, const char *said2)
{
    struct clirun r = {0};
    char ref[32];
    snprintf(ref, sizeof ref, "before-%d", sh->id);
    sell(sh, ref);
    assert_int_equal(sync_cli(&r, sh, sh->url), 0);
    snprintf(ref, sizeof ref, "during-%d", sh->id);
    sell(sh, ref);
    assert_int_not_equal(sync_cli(&r, sh, bad), 0);
    if (!strstr(r.err, said1) || (said2 && !strstr(r.err, said2)))
        fail_msg("store %d: expected \"%s\" / \"%s\" in: %s", sh->id, said1, said2 ? said2 : "",
                 r.err);
    snprintf(ref, sizeof ref, "after-%d", sh->id);
    sell(sh, ref);
    assert_int_equal(sync_cli(&r, sh, sh->url), 0);
    assert_int_equal(sync_cli(&r, sh, sh->url), 0);
    assert_hq_equals_store(sh);
    test_store_close(&sh->t);
}

static int file_mode(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int)(st.st_mode & 07777);
}

/* The subject's CN of the certificate in `path`. */
static void cert_cn(const char *path, char *out, size_t len)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)len) >
                0);
    X509_free(x);
}

static void a_store_with_its_certificate_syncs(void **state)
{
    (void)state;
    struct shop sh;
    char path[400], cn[128], plain[2048];
    shop_open_at(&sh, 1, NULL); /* the host: the server certificate's, localhost */
    assert_non_null(strstr(sh.url, "sslmode=verify-full"));
    assert_non_null(strstr(sh.url, "@localhost:"));
    assert_non_null(strstr(sh.url, "sslrootcert="));
    assert_non_null(strstr(sh.url, "sslcert="));
    assert_non_null(strstr(sh.url, "sslkey="));
    cert_cn(sh.cert, cn, sizeof cn);
    assert_string_equal(cn, sh.role);
    /* every key is 0600: the store's, the server's and the CA's */
    assert_int_equal(file_mode(sh.key), 0600);
    assert_int_equal(file_mode(sh.passfile), 0600);
    snprintf(path, sizeof path, "%s/hq-tls/ca.key", home);
    assert_int_equal(file_mode(path), 0600);
    snprintf(path, sizeof path, "%s/hq-tls/server.key", home);
    assert_int_equal(file_mode(path), 0600);
    /* the link is TLS, and head office saw the store's certificate */
    PGconn *conn = PQconnectdb(sh.url);
    assert_int_equal(PQstatus(conn), CONNECTION_OK);
    PGresult *res = PQexec(conn, "SELECT ssl::text, client_dn FROM pg_stat_ssl"
                                 " WHERE pid = pg_backend_pid()");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "true");
    snprintf(path, sizeof path, "/CN=%s", sh.role);
    assert_string_equal(PQgetvalue(res, 0, 1), path);
    PQclear(res);
    PQfinish(conn);
    /* the pg_hba lines refuse the store's role without TLS, even with its password */
    snprintf(plain, sizeof plain,
             "host=localhost port=%d dbname=%s user=%s passfile=%s "
             "sslmode=disable",
             pg.port, DB, sh.role, sh.passfile);
    conn = PQconnectdb(plain);
    assert_int_not_equal(PQstatus(conn), CONNECTION_OK);
    PQfinish(conn);
    sell(&sh, "first");
    struct clirun r = {0};
    if (sync_cli(&r, &sh, sh.url) != 0)
        fail_msg("sync: %s", r.err);
    sell(&sh, "second");
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh);
    test_store_close(&sh.t);
}

static void a_second_ca_fails_tls_verification(void **state)
{
    (void)state;
    struct shop sh;
    char root[320], bad[2048];
    shop_open(&sh, 2);
    snprintf(root, sizeof root, "%s/hq-tls/ca.crt", other);
    url_of(&sh, "localhost", root, sh.cert, sh.key, bad, sizeof bad);
    bad_day(&sh, bad, "failed TLS verification", "localhost");
}

static void a_missing_client_certificate_is_refused(void **state)
{
    (void)state;
    struct shop sh;
    char cert[320], key[320], bad[2048];
    shop_open(&sh, 3);
    snprintf(cert, sizeof cert, "%s/no-such.crt", home);
    snprintf(key, sizeof key, "%s/no-such.key", home);
    url_of(&sh, "localhost", sh.root, cert, key, bad, sizeof bad);
    bad_day(&sh, bad, "refused this store's client certificate", "localhost");
}

static void a_foreign_client_certificate_is_refused(void **state)
{
    (void)state;
    struct shop sh;
    char dir[320], cert[320], key[320], root[320], bad[2048], detail[256];
    shop_open(&sh, 4);
    /* the store's own CN, signed by another CA */
    snprintf(dir, sizeof dir, "%s/hq-tls", other);
    snprintf(cert, sizeof cert, "%s/foreign.crt", other);
    snprintf(key, sizeof key, "%s/foreign.key", other);
    snprintf(root, sizeof root, "%s/foreign-ca.crt", other);
    assert_int_equal(patron_hq_tls_client(dir, sh.role, cert, key, root, detail, sizeof detail), 0);
    url_of(&sh, "localhost", sh.root, cert, key, bad, sizeof bad);
    bad_day(&sh, bad, "refused this store's client certificate", NULL);
}

static void a_server_certificate_for_another_host_is_refused(void **state)
{
    (void)state;
    struct shop sh;
    char bad[2048];
    shop_open(&sh, 5);
    /* the same server, reached by its address: its certificate names localhost only */
    url_of(&sh, "127.0.0.1", sh.root, sh.cert, sh.key, bad, sizeof bad);
    bad_day(&sh, bad, "failed TLS verification", "another host name");
}

static void a_key_file_others_may_read_is_refused(void **state)
{
    (void)state;
    struct shop sh;
    struct clirun r = {0};
    shop_open(&sh, 6);
    sell(&sh, "k1");
    assert_int_equal(chmod(sh.key, 0640), 0);
    assert_int_not_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_non_null(strstr(r.err, "may be read by group or others"));
    assert_non_null(strstr(r.err, "chmod 600"));
    sell(&sh, "k2");
    assert_int_equal(chmod(sh.key, 0600), 0);
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh);
    test_store_close(&sh.t);
}

static void plain_text_off_loopback_is_refused(void **state)
{
    (void)state;
    struct shop sh;
    struct clirun r = {0};
    char bad[2048], fresh[300];
    shop_open(&sh, 7);
    /* a network host without verify-full: refused before anything is sent */
    url_of(&sh, "hq.example.invalid", NULL, NULL, NULL, bad, sizeof bad);
    sell(&sh, "p1");
    assert_int_not_equal(sync_cli(&r, &sh, bad), 0);
    assert_non_null(strstr(r.err, "plain text"));
    assert_non_null(strstr(r.err, "hq.example.invalid"));
    snprintf(bad, sizeof bad, "postgresql://%s@hq.example.invalid:5432/%s?sslmode=require", sh.role,
             DB);
    assert_int_not_equal(sync_cli(&r, &sh, bad), 0);
    assert_non_null(strstr(r.err, "verify-full"));
    sell(&sh, "p2");
    assert_int_equal(sync_cli(&r, &sh, sh.url), 0);
    assert_hq_equals_store(&sh);
    test_store_close(&sh.t);
    /* a store off loopback from a head office without a chain CA is not registered */
    snprintf(fresh, sizeof fresh, "%s/no-ca", other);
    assert_int_not_equal(clirun(&r, "--home", fresh, "--hq", owner, "hq", "store", "add", "8",
                                "--name", "Far", "--host", "hq.example.com", (char *)NULL),
                         0);
    assert_non_null(strstr(r.err, "hq tls init --host hq.example.com"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_store_with_its_certificate_syncs),
        cmocka_unit_test(a_second_ca_fails_tls_verification),
        cmocka_unit_test(a_missing_client_certificate_is_refused),
        cmocka_unit_test(a_foreign_client_certificate_is_refused),
        cmocka_unit_test(a_server_certificate_for_another_host_is_refused),
        cmocka_unit_test(a_key_file_others_may_read_is_refused),
        cmocka_unit_test(plain_text_off_loopback_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
