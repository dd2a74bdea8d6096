/* SPDX-License-Identifier: MIT */
/* The wallet's shared parts: the card's facts (member, balance, tier, points expiring within the
 * program's notice period), the machine settings' files read and checked, base64url and dates. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "member/member_internal.h"
#include "patron/program.h"
#include "wallet/wallet_internal.h"

static int expiring(patron_store *s, int64_t member_id, struct patron__wallet_card *out)
{
    struct patron_program p;
    int err = patron_program_get(s, &p);
    if (err != 0)
        return err;
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT COALESCE(SUM(remaining), 0), COALESCE(MIN(expires_at), 0)"
                        " FROM lots WHERE member_id = ?1 AND remaining > 0 AND expires_at <= ?2");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, member_id);
    sqlite3_bind_int64(st, 2, patron_store_now(s) + p.expiry_notice_days * PATRON__DAY_SECONDS);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->expiring_points = sqlite3_column_int64(st, 0);
        out->expiring_at = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron__wallet_card_load(patron_store *s, const char *card, struct patron__wallet_card *out)
{
    struct patron__member_row row;
    struct patron_store_info info;
    int err;
    memset(out, 0, sizeof *out);
    if ((err = patron__member_load(s, card, &out->member, &row)) != 0)
        return err;
    if (row.card_blocked || row.erased)
        return patron__fail(s, PATRON_EBLOCKED, "card %s was blocked; use the member's new card",
                            out->member.card);
    if ((err = patron_store_info(s, &info)) != 0)
        return err;
    patron__copy(out->store_name, sizeof out->store_name, info.name[0] ? info.name : "Patron");
    return expiring(s, row.member_id, out);
}

int patron__wallet_need(patron_store *s, const char *value, const char *setting)
{
    char flag[64], env[64];
    size_t i;
    if (value && value[0])
        return 0;
    for (i = 0; setting[i] && i + 1 < sizeof flag; i++) {
        flag[i] = setting[i] == '_' ? '-' : setting[i];
        env[i] = (char)(setting[i] >= 'a' && setting[i] <= 'z' ? setting[i] - 32 : setting[i]);
    }
    flag[i] = env[i] = '\0';
    return patron__fail(s, PATRON_ECRYPTO,
                        "the machine setting %s is not set (give --%s, PATRON_%s, or '%s = ...' "
                        "in patron.conf)",
                        setting, flag, env, setting);
}

void patron__wallet_date(int64_t t, char buf[11])
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

static void asn1_date(const ASN1_TIME *at, char buf[11])
{
    struct tm tm;
    if (ASN1_TIME_to_tm(at, &tm) == 1)
        strftime(buf, 11, "%Y-%m-%d", &tm);
    else
        snprintf(buf, 11, "?");
}

int patron__wallet_cert(patron_store *s, const char *path, const char *what, X509 **out)
{
    char day[11];
    time_t now = (time_t)patron_store_now(s);
    FILE *f = fopen(path, "r");
    if (!f)
        return patron__fail(s, PATRON_ECRYPTO, "cannot read %s %s: %s", what, path,
                            strerror(errno));
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        return patron__fail(s, PATRON_ECRYPTO, "%s %s is not a PEM certificate", what, path);
    if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
        asn1_date(X509_get0_notAfter(x), day);
        X509_free(x);
        return patron__fail(s, PATRON_ECRYPTO, "%s %s expired on %s; renew it", what, path, day);
    }
    if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
        asn1_date(X509_get0_notBefore(x), day);
        X509_free(x);
        return patron__fail(s, PATRON_ECRYPTO, "%s %s is not valid before %s", what, path, day);
    }
    *out = x;
    return 0;
}

int patron__wallet_key(patron_store *s, const char *path, const char *what, EVP_PKEY **out)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return patron__fail(s, PATRON_ECRYPTO, "cannot read %s %s: %s", what, path,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        close(fd);
        return patron__fail(s, PATRON_EKEYPERM,
                            "%s %s can be read by group or others; run 'chmod 600 %s'", what, path,
                            path);
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return PATRON_ENOMEM;
    }
    *out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!*out)
        return patron__fail(s, PATRON_ECRYPTO, "%s %s is not a PEM private key", what, path);
    return 0;
}

char *patron__wallet_b64url(const unsigned char *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1, n;
    char *b = malloc(cap);
    if (!b)
        return NULL;
    EVP_EncodeBlock((unsigned char *)b, data, (int)len);
    for (n = 0; b[n] && b[n] != '='; n++)
        b[n] = b[n] == '+' ? '-' : b[n] == '/' ? '_' : b[n];
    b[n] = '\0';
    return b;
}
