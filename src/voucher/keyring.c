/* SPDX-License-Identifier: MIT */
/* The voucher keyring: Ed25519 keys made with OpenSSL's EVP, private keys as PEM files (mode
 * 0600, refused when group or others can read them) in `keys/` beside the database, key metadata
 * in the `keys` table, rotation, retirement and trusted public keys of other stores and partners.
 * Parsed keys are cached on the store handle, because a scan must not re-read PEM files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "voucher/voucher_internal.h"

#define PUB_BYTES 32
#define PUBCACHE 32
#define PATH_CAP 512
#define PEM_FILE_MAX 4096

struct pub_slot {
    int key_id;
    unsigned char pub[PUB_BYTES];
    EVP_PKEY *pkey;
};

struct patron__keycache {
    int have_chain;
    unsigned char chain[PATRON__CHAIN_BYTES];
    int sign_id;
    EVP_PKEY *sign_key;
    size_t next; /* round-robin replacement in pubs */
    struct pub_slot pubs[PUBCACHE];
};

/* Frees the cached keys, wiping private ones; the store calls it on close. */
static void keycache_free(struct patron__keycache *kc)
{
    if (!kc)
        return;
    EVP_PKEY_free(kc->sign_key); /* OpenSSL wipes the private scalar when it frees */
    for (size_t i = 0; i < PUBCACHE; i++)
        EVP_PKEY_free(kc->pubs[i].pkey);
    OPENSSL_cleanse(kc, sizeof *kc);
    free(kc);
}

static struct patron__keycache *cache(patron_store *s)
{
    if (!s->keycache && (s->keycache = calloc(1, sizeof *s->keycache)) != NULL)
        s->keycache_free = keycache_free;
    return s->keycache;
}

static int hex_decode(const char *hex, unsigned char *out, size_t n)
{
    if (!hex || strlen(hex) != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
            if (d < 0)
                return -1;
            v = v << 4 | (unsigned)d;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

int patron__keyring_chain(patron_store *s, unsigned char chain[PATRON__CHAIN_BYTES])
{
    struct patron__keycache *kc = cache(s);
    char hex[2 * PATRON__CHAIN_BYTES + 1];
    if (!kc)
        return PATRON_ENOMEM;
    if (!kc->have_chain) {
        if (patron__setting_get(s, "chain_id", hex, sizeof hex) != 0 ||
            hex_decode(hex, kc->chain, sizeof kc->chain) != 0)
            return patron__fail(s, PATRON_EINVAL,
                                "the store has no chain id yet; run 'patron init' first");
        kc->have_chain = 1;
    }
    memcpy(chain, kc->chain, PATRON__CHAIN_BYTES);
    return 0;
}

/* The directory of the database file plus "/keys" (and "/NAME" when name is not NULL). */
static int key_path(patron_store *s, const char *name, char *out, size_t cap)
{
    const char *db = sqlite3_db_filename(s->db, "main");
    char dir[PATH_CAP];
    if (!db || !*db)
        return patron__fail(s, PATRON_EINVAL, "an in-memory database has no place for key files");
    if (patron__copy(dir, sizeof dir, db) != 0)
        return patron__fail(s, PATRON_ETOOBIG, "the database path is too long for key files");
    int n = snprintf(out, cap, "%s/keys%s%s", dirname(dir), name ? "/" : "", name ? name : "");
    if (n < 0 || (size_t)n >= cap)
        return patron__fail(s, PATRON_ETOOBIG, "the key file path is too long");
    return 0;
}

static void fingerprint(const unsigned char pub[PUB_BYTES], char out[17])
{
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(pub, PUB_BYTES, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Opens a private key file, refusing one that group or others can read. */
static int load_private(patron_store *s, const char *path, const unsigned char pub[PUB_BYTES],
                        EVP_PKEY **out)
{
    unsigned char got[PUB_BYTES];
    size_t len = sizeof got;
    struct stat st;
    EVP_PKEY *pkey = NULL;
    int err = 0, fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return patron__fail(s, -errno, "cannot open the key file %s: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return patron__fail(s, PATRON_EKEYPERM,
                            "%s can be read by group or others; run 'chmod 600 %s'", path, path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return PATRON_ENOMEM;
    }
    pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!pkey || !EVP_PKEY_is_a(pkey, "ED25519") ||
        EVP_PKEY_get_raw_public_key(pkey, got, &len) != 1 || len != PUB_BYTES ||
        CRYPTO_memcmp(got, pub, PUB_BYTES) != 0) {
        err = patron__fail(s, PATRON_ECRYPTO,
                           "%s is not the Ed25519 private key the keyring records", path);
        EVP_PKEY_free(pkey);
        return err;
    }
    *out = pkey;
    return 0;
}

/* Writes the private key with mode 0600 from the first byte (O_EXCL on a temporary name), makes
 * it durable, then renames it into place; a file left by a rolled-back attempt is replaced. */
static int write_private(patron_store *s, EVP_PKEY *pkey, const char *path)
{
    char tmp[PATH_CAP + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0)
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return patron__fail(s, -errno, "cannot create %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return PATRON_ENOMEM;
    }
    int ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
             fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno ? -errno : PATRON_ECRYPTO;
        unlink(tmp);
        return patron__fail(s, e, "cannot write the key file %s", path);
    }
    return 0;
}

static int write_public(patron_store *s, EVP_PKEY *pkey, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return patron__fail(s, -errno, "cannot create %s: %s", path, strerror(errno));
    int ok = PEM_write_PUBKEY(f, pkey) == 1;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : patron__fail(s, PATRON_ECRYPTO, "cannot write %s", path);
}

/* The lowest key id nobody uses, preferring the store id for the first key. */
static int free_key_id(patron_store *s, int want, int *out)
{
    static const char *const used = "SELECT 1 FROM keys WHERE key_id = ?1";
    static const char *const lowest =
        "SELECT min(k.key_id + 1) FROM (SELECT 0 AS key_id UNION ALL SELECT key_id FROM keys) k"
        " WHERE k.key_id < 65535 AND k.key_id + 1 NOT IN (SELECT key_id FROM keys)";
    sqlite3_stmt *st = patron__stmt(s, used);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, want);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (want >= 1 && want <= 65535 && rc == SQLITE_DONE) {
        *out = want;
        return 0;
    }
    if (!(st = patron__stmt(s, lowest)))
        return PATRON_EDB;
    rc = sqlite3_step(st);
    int id = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    if (id < 1)
        return patron__fail(s, PATRON_ELIMIT, "all 65535 key ids are in use");
    *out = id;
    return 0;
}

/* Makes a key, writes its files and records it as the active own key (in the caller's tx). */
static int create_own_key(patron_store *s, int key_id)
{
    static const char *const insert =
        "INSERT INTO keys(key_id, kind, status, public_key, file, created_at)"
        " VALUES (?1, 'own', 'active', ?2, ?3, ?4)";
    char name[32], path[PATH_CAP], pubname[40], pubpath[PATH_CAP];
    unsigned char pub[PUB_BYTES];
    size_t len = sizeof pub;
    int err;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!pkey || EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1) {
        err = patron__fail(s, PATRON_ECRYPTO, "Ed25519 key generation failed");
        goto out;
    }
    snprintf(name, sizeof name, "key-%d.pem", key_id);
    snprintf(pubname, sizeof pubname, "key-%d.pub.pem", key_id);
    if ((err = key_path(s, NULL, path, sizeof path)) != 0)
        goto out;
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        err = patron__fail(s, -errno, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    if ((err = key_path(s, name, path, sizeof path)) != 0 ||
        (err = key_path(s, pubname, pubpath, sizeof pubpath)) != 0 ||
        (err = write_private(s, pkey, path)) != 0 || (err = write_public(s, pkey, pubpath)) != 0)
        goto out;
    sqlite3_stmt *st = patron__stmt(s, insert);
    if (!st) {
        err = PATRON_EDB;
        goto out;
    }
    sqlite3_bind_int(st, 1, key_id);
    sqlite3_bind_blob(st, 2, pub, sizeof pub, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    err = patron__step_done(s, st);
out:
    EVP_PKEY_free(pkey);
    return err;
}

static int active_key_id(patron_store *s, int *key_id)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT key_id FROM keys WHERE status = 'active'");
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    *key_id = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

int patron__keyring_ensure(patron_store *s, int *key_id)
{
    unsigned char chain[PATRON__CHAIN_BYTES];
    int id = 0, err;
    if ((err = patron__keyring_chain(s, chain)) != 0)
        return err;
    if ((err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = active_key_id(s, &id)) != 0)
        goto out;
    if (id == 0) {
        int want = (int)patron__setting_int(s, "store_id", 0);
        if ((err = free_key_id(s, want, &id)) != 0 || (err = create_own_key(s, id)) != 0)
            goto out;
    }
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    *key_id = id;
    return 0;
out:
    patron__tx_rollback(s);
    return err;
}

int patron_keyring_rotate(patron_store *s, int want_id, int *key_id)
{
    unsigned char chain[PATRON__CHAIN_BYTES];
    int id = 0, err;
    if (want_id < 0 || want_id > 65535)
        return patron__fail(s, PATRON_EINVAL, "a key id is 1-65535");
    if ((err = patron__keyring_chain(s, chain)) != 0 || (err = patron__tx_begin(s)) != 0)
        return err;
    if ((err = free_key_id(s, want_id, &id)) != 0)
        goto out;
    if (want_id != 0 && id != want_id) {
        err = patron__fail(s, PATRON_EINVAL, "key id %d is already in the keyring", want_id);
        goto out;
    }
    if ((err = patron__exec(s, "UPDATE keys SET status = 'verify' WHERE status = 'active'")) != 0 ||
        (err = create_own_key(s, id)) != 0)
        goto out;
    if ((err = patron__tx_commit(s)) != 0)
        return err;
    *key_id = id;
    return 0;
out:
    patron__tx_rollback(s);
    return err;
}

int patron__keyring_signer(patron_store *s, struct patron__key *out)
{
    static const char *const q =
        "SELECT key_id, file, public_key FROM keys WHERE status = 'active'";
    struct patron__keycache *kc = cache(s);
    struct patron__key k = {0};
    char path[PATH_CAP] = "";
    unsigned char pub[PUB_BYTES];
    int err;
    if (!kc)
        return PATRON_ENOMEM;
    if ((err = patron__keyring_chain(s, k.chain)) != 0 || (err = active_key_id(s, &k.key_id)) != 0)
        return err;
    if (k.key_id == 0 && (err = patron__keyring_ensure(s, &k.key_id)) != 0)
        return err;
    if (kc->sign_key && kc->sign_id == k.key_id) {
        k.pkey = kc->sign_key;
        *out = k;
        return 0;
    }
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 2) == PUB_BYTES) {
        memcpy(pub, sqlite3_column_blob(st, 2), PUB_BYTES);
        err = key_path(s, (const char *)sqlite3_column_text(st, 1), path, sizeof path);
    } else {
        err = rc == SQLITE_ROW || rc == SQLITE_DONE
                  ? patron__fail(s, PATRON_ECRYPTO, "the keyring has no signing key")
                  : patron__db_err(s, rc);
    }
    sqlite3_reset(st);
    if (err != 0 || (err = load_private(s, path, pub, &k.pkey)) != 0)
        return err;
    EVP_PKEY_free(kc->sign_key);
    kc->sign_key = k.pkey;
    kc->sign_id = k.key_id;
    *out = k;
    return 0;
}

/* A parsed public key from the cache, made on first use. */
static EVP_PKEY *cached_public(struct patron__keycache *kc, int key_id,
                               const unsigned char pub[PUB_BYTES])
{
    for (size_t i = 0; i < PUBCACHE; i++)
        if (kc->pubs[i].pkey && kc->pubs[i].key_id == key_id &&
            memcmp(kc->pubs[i].pub, pub, PUB_BYTES) == 0)
            return kc->pubs[i].pkey;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, PUB_BYTES);
    if (!pkey)
        return NULL;
    struct pub_slot *slot = &kc->pubs[kc->next++ % PUBCACHE];
    EVP_PKEY_free(slot->pkey);
    slot->key_id = key_id;
    memcpy(slot->pub, pub, PUB_BYTES);
    slot->pkey = pkey;
    return pkey;
}

int patron__keyring_verifier(patron_store *s, unsigned key_id, struct patron__key *out)
{
    static const char *const q =
        "SELECT kind, status, chain_id, public_key, retired_at FROM keys WHERE key_id = ?1";
    struct patron__keycache *kc = cache(s);
    struct patron__key k = {.key_id = (int)key_id};
    int err = 0;
    if (!kc)
        return PATRON_ENOMEM;
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, (int)key_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        err = patron__fail(s, PATRON_EUNKNOWNKEY,
                           "key %u is not in this store's keyring (trust the issuer's public key"
                           " with 'patron key trust')",
                           key_id);
    } else if (rc != SQLITE_ROW) {
        err = patron__db_err(s, rc);
    } else if (strcmp((const char *)sqlite3_column_text(st, 1), "retired") == 0) {
        err = patron__fail(s, PATRON_ERETIRED, "key %u was retired (at Unix time %lld)", key_id,
                           (long long)sqlite3_column_int64(st, 4));
    } else {
        k.foreign = strcmp((const char *)sqlite3_column_text(st, 0), "own") != 0;
        const char *chain = (const char *)sqlite3_column_text(st, 2);
        if (chain ? hex_decode(chain, k.chain, sizeof k.chain) != 0
                  : patron__keyring_chain(s, k.chain) != 0)
            err = patron__fail(s, PATRON_EINVAL, "the chain id of key %u is not readable", key_id);
        else if (sqlite3_column_bytes(st, 3) != PUB_BYTES ||
                 !(k.pkey = cached_public(kc, k.key_id, sqlite3_column_blob(st, 3))))
            err = patron__fail(s, PATRON_ECRYPTO, "key %u is not a valid Ed25519 key", key_id);
    }
    sqlite3_reset(st);
    if (err == 0)
        *out = k;
    return err;
}

int patron_keyring_retire(patron_store *s, int key_id)
{
    static const char *const q = "SELECT status FROM keys WHERE key_id = ?1";
    static const char *const retire =
        "UPDATE keys SET status = 'retired', retired_at = ?2 WHERE key_id = ?1"
        " AND status <> 'retired'";
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, key_id);
    int rc = sqlite3_step(st);
    int active =
        rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "active") == 0;
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "key %d is not in the keyring", key_id);
    if (rc != SQLITE_ROW)
        return patron__db_err(s, rc);
    if (active)
        return patron__fail(s, PATRON_EINVAL,
                            "key %d signs new vouchers; run 'patron key rotate' first", key_id);
    if (!(st = patron__stmt(s, retire)))
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, key_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s));
    return patron__step_done(s, st);
}

/* Reads an Ed25519 public key from a PEM file of bounded size. */
static int read_public_file(patron_store *s, const char *file, unsigned char pub[PUB_BYTES])
{
    struct stat st;
    size_t len = PUB_BYTES;
    FILE *f = fopen(file, "r");
    if (!f)
        return patron__fail(s, -errno, "cannot open %s: %s", file, strerror(errno));
    if (fstat(fileno(f), &st) != 0 || st.st_size > PEM_FILE_MAX) {
        fclose(f);
        return patron__fail(s, PATRON_EINVAL, "%s is not a PEM public key file", file);
    }
    EVP_PKEY *pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    int ok = pkey && EVP_PKEY_is_a(pkey, "ED25519") &&
             EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 && len == PUB_BYTES;
    EVP_PKEY_free(pkey);
    return ok ? 0 : patron__fail(s, PATRON_EINVAL, "%s holds no Ed25519 public key", file);
}

/* The key id in a file name "key-N.pub.pem", or 0. */
static int key_id_from_name(const char *file)
{
    const char *base = strrchr(file, '/');
    int id = 0, used = 0;
    base = base ? base + 1 : file;
    if (sscanf(base, "key-%d.pub.pem%n", &id, &used) != 1 || base[used] != '\0')
        return 0;
    return id;
}

static int valid_partner(const char *name)
{
    return patron_text_check(name, 1, PATRON_LABEL_MAX, 0) == PATRON_TEXT_OK;
}

int patron_keyring_trust(patron_store *s, const char *pem_file, const char *partner,
                         const char *chain_id, int key_id, int *out_key_id)
{
    static const char *const insert =
        "INSERT INTO keys(key_id, kind, status, partner, chain_id, public_key, created_at)"
        " VALUES (?1, ?2, 'verify', ?3, lower(?4), ?5, ?6)";
    unsigned char pub[PUB_BYTES], chain[PATRON__CHAIN_BYTES], ours[PATRON__CHAIN_BYTES];
    int err, id = key_id ? key_id : key_id_from_name(pem_file);
    if (!valid_partner(partner))
        return patron__fail(s, PATRON_EINVAL,
                            "name the partner (1-63 bytes of UTF-8 without control characters)");
    if (id < 1 || id > 65535)
        return patron__fail(s, PATRON_EINVAL,
                            "give the key id (1-65535) its vouchers carry (--key-id)");
    if (chain_id && hex_decode(chain_id, chain, sizeof chain) != 0)
        return patron__fail(s, PATRON_EINVAL, "a chain id is 32 hex digits");
    if ((err = patron__keyring_chain(s, ours)) != 0 || (err = read_public_file(s, pem_file, pub)))
        return err;
    int same_chain = !chain_id || memcmp(chain, ours, sizeof ours) == 0;
    sqlite3_stmt *st = patron__stmt(s, insert);
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, id);
    sqlite3_bind_text(st, 2, same_chain ? "chain" : "partner", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, partner, -1, SQLITE_STATIC);
    if (same_chain)
        sqlite3_bind_null(st, 4);
    else
        sqlite3_bind_text(st, 4, chain_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, pub, sizeof pub, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, patron_store_now(s));
    if ((err = patron__step_done(s, st)) != 0)
        return err == PATRON_EDB
                   ? patron__fail(s, PATRON_EINVAL, "key id %d is already in the keyring", id)
                   : err;
    *out_key_id = id;
    return 0;
}

static int public_of(patron_store *s, int key_id, unsigned char pub[PUB_BYTES])
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT public_key FROM keys WHERE key_id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, key_id);
    int rc = sqlite3_step(st), err = 0;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == PUB_BYTES)
        memcpy(pub, sqlite3_column_blob(st, 0), PUB_BYTES);
    else
        err = rc == SQLITE_ROW || rc == SQLITE_DONE
                  ? patron__fail(s, PATRON_ENOTFOUND, "key %d is not in the keyring", key_id)
                  : patron__db_err(s, rc);
    sqlite3_reset(st);
    return err;
}

int patron_keyring_export(patron_store *s, int key_id, char *pem, size_t cap)
{
    unsigned char pub[PUB_BYTES];
    char *data = NULL;
    int err = public_of(s, key_id, pub);
    if (err != 0)
        return err;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, sizeof pub);
    BIO *bio = BIO_new(BIO_s_mem());
    if (!pkey || !bio || PEM_write_bio_PUBKEY(bio, pkey) != 1) {
        err = PATRON_ECRYPTO;
        goto out;
    }
    long n = BIO_get_mem_data(bio, &data);
    if (n < 0 || (size_t)n >= cap) {
        err = PATRON_ETOOBIG;
        goto out;
    }
    memcpy(pem, data, (size_t)n);
    pem[n] = '\0';
out:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return err;
}

static void read_key_row(patron_store *s, sqlite3_stmt *st, struct patron_key_info *k)
{
    const char *partner = (const char *)sqlite3_column_text(st, 3);
    const char *chain = (const char *)sqlite3_column_text(st, 4);
    const char *file = (const char *)sqlite3_column_text(st, 6);
    memset(k, 0, sizeof *k);
    k->key_id = sqlite3_column_int(st, 0);
    patron__copy(k->kind, sizeof k->kind, (const char *)sqlite3_column_text(st, 1));
    patron__copy(k->status, sizeof k->status, (const char *)sqlite3_column_text(st, 2));
    patron__copy(k->partner, sizeof k->partner, partner);
    if (chain)
        patron__copy(k->chain_id, sizeof k->chain_id, chain);
    else
        patron__setting_get(s, "chain_id", k->chain_id, sizeof k->chain_id);
    if (sqlite3_column_bytes(st, 5) == PUB_BYTES)
        fingerprint(sqlite3_column_blob(st, 5), k->fingerprint);
    if (file && key_path(s, file, k->file, sizeof k->file) != 0)
        k->file[0] = '\0';
    k->created_at = sqlite3_column_int64(st, 7);
    k->retired_at = sqlite3_column_int64(st, 8);
}

int patron_keyring_list(patron_store *s, struct patron_key_info *out, size_t cap, size_t *count)
{
    static const char *const q =
        "SELECT key_id, kind, status, partner, chain_id, public_key, file, created_at,"
        " coalesce(retired_at, 0) FROM keys ORDER BY key_id";
    size_t n = 0;
    int rc, err = 0;
    sqlite3_stmt *st = patron__stmt(s, q);
    if (!st)
        return PATRON_EDB;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < cap)
            read_key_row(s, st, &out[n]);
        n++;
    }
    if (rc != SQLITE_DONE)
        err = patron__db_err(s, rc);
    sqlite3_reset(st);
    if (err == 0)
        *count = n;
    return err;
}
