/* SPDX-License-Identifier: MIT */
/* `patron hq`: the chain's head office on PostgreSQL, at the machine setting `hq` (--hq URL,
 * PATRON_HQ, `hq =` in patron.conf). `init` creates or upgrades its schema, `store add`
 * registers a store with a login role of its own and writes that role's password into a file of
 * mode 0600 (and, once `tls init` made the chain's CA, a client certificate and its key beside it),
 * `stores` lists the stores. Built only with libpq. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] = "hq init | hq tls init --host NAME | hq stores | hq store add ID "
                            "--name NAME [--password-file FILE] [--host NAME] | hq verify | "
                            "hq conflicts | hq report NAME [--csv] [--svg FILE] | "
                            "hq program|reward|offer|key ...";

#ifdef PATRON_HAVE_HQ

#include <openssl/crypto.h>

#include "hq.h"

/* A sentence into detail (cut to fit). */
__attribute__((format(printf, 3, 4))) static void say(char *detail, size_t len, const char *fmt,
                                                      ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, len, fmt, ap);
    va_end(ap);
}

/* One sentence on stderr (and the JSON error with --json); the exit status of `err`. */
static int hq_fail(struct cli *c, int err, const char *sentence)
{
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", sentence);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", sentence);
    return cli_exit_status(err);
}

static int hq_open(struct cli *c, patron_hq **h)
{
    char detail[512];
    int err;
    if (!c->hq || !c->hq[0]) {
        fputs("patron: no head office address: pass --hq URL, set PATRON_HQ, or write `hq = URL` "
              "in patron.conf.\n",
              stderr);
        return CLI_EXIT_USAGE;
    }
    if ((err = patron_hq_connect(c->hq, h, detail, sizeof detail)) != 0)
        return hq_fail(c, err, detail);
    return 0;
}

static int hq_init(struct cli *c, struct cli_args *a)
{
    patron_hq *h = NULL;
    char detail[512], human[160];
    int status, err, from = 0, to = 0;
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = hq_open(c, &h)) != 0)
        return status;
    err = patron_hq_init(h, &from, &to, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0)
        return hq_fail(c, err, detail);
    if (from == to)
        snprintf(human, sizeof human, "head office schema already at version %d\n", to);
    else
        snprintf(human, sizeof human, "head office schema upgraded from version %d to %d\n", from,
                 to);
    return cli_emit(c, json_pack("{s:i, s:i}", "from_version", from, "schema_version", to), human);
}

/* Writes the pgpass line for the store's role into `tmp` (made from its XXXXXX template), mode
 * 0600 whatever the umask; the caller renames it into place once the role exists. */
static int write_passfile(char *tmp, const char *password, char *detail, size_t len)
{
    char line[128];
    int n = snprintf(line, sizeof line, "*:*:*:*:%s\n", password);
    int fd = mkstemp(tmp);
    int ok = fd >= 0 && fchmod(fd, 0600) == 0 && write(fd, line, (size_t)n) == n;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    OPENSSL_cleanse(line, sizeof line);
    if (!ok) {
        say(detail, len, "cannot write the password file %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    return ok ? 0 : PATRON_EINVAL;
}

/* The password file's absolute path: --password-file, else $PATRON_HOME/hq-store-ID.pgpass. */
static int passfile_path(struct cli *c, const char *given, int64_t id, char *out, size_t len)
{
    char name[2048], cwd[2048];
    int n;
    if (!given && mkdir(c->home, 0700) != 0 && errno != EEXIST)
        return -1;
    if (given)
        n = snprintf(name, sizeof name, "%s", given);
    else
        n = snprintf(name, sizeof name, "%s/hq-store-%lld.pgpass", c->home, (long long)id);
    if (n < 0 || (size_t)n >= sizeof name)
        return -1;
    if (name[0] == '/')
        n = snprintf(out, len, "%s", name);
    else if (getcwd(cwd, sizeof cwd))
        n = snprintf(out, len, "%s/%s", cwd, name);
    else
        return -1;
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The chain's CA folder: $PATRON_HOME/hq-tls. */
static void tls_dir(const struct cli *c, char *out, size_t len)
{
    snprintf(out, len, "%s/hq-tls", c->home);
}

static int hq_tls_init(struct cli *c, struct cli_args *a)
{
    const char *host = cli_take(a, "--host");
    char dir[4096], detail[512], hba[512], human[8192], ca[4200];
    int status, made = 0, err;
    if (!host)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if (mkdir(c->home, 0700) != 0 && errno != EEXIST)
        return hq_fail(c, PATRON_EINVAL, "cannot make the home folder");
    tls_dir(c, dir, sizeof dir);
    if ((err = patron_hq_tls_init(dir, host, &made, detail, sizeof detail)) != 0)
        return hq_fail(c, err, detail);
    patron_hq_tls_hba(c->hq, hba, sizeof hba);
    snprintf(ca, sizeof ca, "%s/ca.crt", dir);
    int n =
        snprintf(human, sizeof human,
                 "%s the chain's CA in %s (ca.crt; ca.key mode 0600: keep it at head office)\n"
                 "server certificate for %s: %s/server.crt, key %s/server.key (mode 0600)\n"
                 "head office's postgresql.conf:\n  ssl = on\n  ssl_cert_file = '%s/server.crt'\n"
                 "  ssl_key_file = '%s/server.key'\n  ssl_ca_file = '%s/ca.crt'\n"
                 "head office's pg_hba.conf, before any other line for the stores:\n%s"
                 "then `patron hq store add ID --name NAME --host %s` issues each store's "
                 "certificate\n",
                 made ? "made" : "kept", dir, host, dir, dir, dir, dir, dir, hba, host);
    if (n < 0 || (size_t)n >= sizeof human)
        return hq_fail(c, PATRON_EINVAL, "the home folder's path is too long");
    return cli_emit(c,
                    json_pack("{s:s, s:b, s:s, s:s, s:s}", "dir", dir, "made_ca", made, "host",
                              host, "pg_hba", hba, "ca_cert", ca),
                    human);
}

/* The store's certificate files beside its password file: hq-store-ID.crt, .key, -ca.crt. */
struct store_files {
    char passfile[4096];
    char cert[4200], key[4200], root[4200];
    int tls;
};

static void store_files_name(struct store_files *f, int64_t id)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", f->passfile);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(f->cert, sizeof f->cert, "%s/hq-store-%lld.crt", dir, (long long)id);
    snprintf(f->key, sizeof f->key, "%s/hq-store-%lld.key", dir, (long long)id);
    snprintf(f->root, sizeof f->root, "%s/hq-store-%lld-ca.crt", dir, (long long)id);
}

static int store_added(struct cli *c, patron_hq *h, int64_t id, const char *name,
                       const struct patron_hq_login *login, const struct store_files *f,
                       const char *host)
{
    char url[8192], human[16384], files[8192] = "";
    struct patron_hq_store_tls tls = {.host = host};
    if (f->tls) {
        tls.cert = f->cert;
        tls.key = f->key;
        tls.rootcert = f->root;
        int n = snprintf(files, sizeof files,
                         "client certificate: %s (CN %s), key %s (mode 0600), chain CA %s: copy "
                         "them too\n",
                         f->cert, login->role, f->key, f->root);
        if (n < 0 || (size_t)n >= sizeof files)
            return hq_fail(c, PATRON_EINVAL, "the store's file names are too long");
    }
    if (patron_hq_store_url_tls(h, login->role, f->passfile, &tls, url, sizeof url) != 0)
        return hq_fail(c, PATRON_EINVAL, "the store's URL is too long");
    snprintf(human, sizeof human,
             "store %lld (%s) registered at head office\nrole: %s\npassword file: %s (mode "
             "0600: copy it to the store)\n%sthe store's head office URL: %s\n",
             (long long)id, name, login->role, f->passfile, files, url);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s}", "store_id", (json_int_t)id, "name", name,
                          "role", login->role, "password_file", f->passfile, "url", url);
    if (f->tls)
        json_object_set_new(
            o, "tls",
            json_pack("{s:s, s:s, s:s}", "cert", f->cert, "key", f->key, "rootcert", f->root));
    return cli_emit(c, o, human);
}

/* Moves `tmp` into place as `path` (a registered store's file). */
static int put_in_place(const char *tmp, const char *path, int64_t id, char *detail, size_t len)
{
    if (rename(tmp, path) == 0)
        return 0;
    say(detail, len, "store %lld is registered but its file stays at %s: %s", (long long)id, tmp,
        strerror(errno));
    return PATRON_EINVAL;
}

/* The client certificate, its key and the CA into temporary names, renamed once registered. */
static int issue_tls(struct cli *c, const char *role, const struct store_files *f, int keep,
                     char *detail, size_t len)
{
    char dir[4096], cert[4300], key[4300], root[4300];
    tls_dir(c, dir, sizeof dir);
    snprintf(cert, sizeof cert, "%s.new", f->cert);
    snprintf(key, sizeof key, "%s.new", f->key);
    snprintf(root, sizeof root, "%s.new", f->root);
    if (!keep) {
        unlink(cert);
        unlink(key);
        unlink(root);
        return 0;
    }
    return patron_hq_tls_client(dir, role, cert, key, root, detail, len);
}

static int tls_in_place(const struct store_files *f, int64_t id, char *detail, size_t len)
{
    char cert[4300], key[4300], root[4300];
    snprintf(cert, sizeof cert, "%s.new", f->cert);
    snprintf(key, sizeof key, "%s.new", f->key);
    snprintf(root, sizeof root, "%s.new", f->root);
    int err = put_in_place(key, f->key, id, detail, len);
    if (err == 0)
        err = put_in_place(cert, f->cert, id, detail, len);
    return err ? err : put_in_place(root, f->root, id, detail, len);
}

/* Registers the store with a fresh password, written first to a temporary file that takes the
 * password file's name only once the role exists (its certificate likewise): a refused id
 * leaves any earlier file alone. */
static int register_store(struct cli *c, patron_hq *h, int64_t id, const char *name,
                          struct patron_hq_login *login, const struct store_files *f, char *detail,
                          size_t len)
{
    char tmp[4200];
    int err;
    patron_hq_password_new(login->password);
    patron_hq_store_role(h, id, login->role, sizeof login->role);
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", f->passfile);
    if ((err = write_passfile(tmp, login->password, detail, len)) != 0)
        return err;
    if (f->tls && (err = issue_tls(c, login->role, f, 1, detail, len)) != 0) {
        unlink(tmp);
        issue_tls(c, login->role, f, 0, detail, 0);
        return err;
    }
    if ((err = patron_hq_store_add(h, id, name, login, detail, len)) != 0) {
        unlink(tmp);
        if (f->tls)
            issue_tls(c, login->role, f, 0, NULL, 0);
        return err;
    }
    if ((err = put_in_place(tmp, f->passfile, id, detail, len)) != 0)
        return err;
    return f->tls ? tls_in_place(f, id, detail, len) : 0;
}

/* Off loopback a store needs a certificate: the chain's CA must exist (`hq tls init`). With it,
 * the store's host is --host, else the name of head office's server certificate. */
static int need_tls(struct cli *c, const char **host, char *named, size_t len,
                    struct store_files *f, int64_t id)
{
    char dir[4096], sentence[8400];
    tls_dir(c, dir, sizeof dir);
    f->tls = patron_hq_tls_ready(dir);
    store_files_name(f, id);
    if (f->tls && !*host && patron_hq_tls_host(dir, named, len) == 0)
        *host = named;
    if (f->tls || !*host || patron_hq_host_is_local(*host))
        return 0;
    snprintf(sentence, sizeof sentence,
             "a store off loopback (%s) reaches head office over TLS with a client certificate, "
             "and there is no chain CA in %s: run `patron hq tls init --host %s` first",
             *host, dir, *host);
    return hq_fail(c, PATRON_EINVAL, sentence);
}

static int hq_store_add(struct cli *c, struct cli_args *a)
{
    const char *name = cli_take(a, "--name"), *given = cli_take(a, "--password-file");
    const char *host = cli_take(a, "--host"), *id_text = cli_positional(a);
    struct patron_hq_login login = {0};
    struct store_files f = {0};
    char detail[512], named[256];
    int64_t id;
    patron_hq *h = NULL;
    int status, err;
    if (!id_text || !name)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if (cli_parse_int(id_text, 1, 65535, &id) != 0)
        return cli_usage(c, usage);
    if (passfile_path(c, given, id, f.passfile, sizeof f.passfile) != 0)
        return hq_fail(c, PATRON_EINVAL, "cannot choose the password file's path");
    if ((status = need_tls(c, &host, named, sizeof named, &f, id)) != 0 ||
        (status = hq_open(c, &h)) != 0)
        return status;
    err = register_store(c, h, id, name, &login, &f, detail, sizeof detail);
    OPENSSL_cleanse(login.password, sizeof login.password);
    status = err ? hq_fail(c, err, detail) : store_added(c, h, id, name, &login, &f, host);
    patron_hq_close(h);
    return status;
}

struct list_state {
    json_t *stores;
    char human[16384];
};

json_t *cli_hq_store_json(const struct patron_hq_store *st)
{
    json_t *o =
        json_pack("{s:I, s:s, s:I, s:I}", "store_id", (json_int_t)st->store_id, "name", st->name,
                  "facts", (json_int_t)st->facts, "last_seq", (json_int_t)st->last_seq);
    if (st->role[0]) { /* head office's own columns, never a store's */
        json_object_set_new(o, "role", json_string(st->role));
        json_object_set_new(o, "created_at", json_string(st->created_at));
        json_object_set_new(o, "projected_seq", json_integer((json_int_t)st->projected_seq));
    }
    json_object_set_new(o, "last_sync",
                        st->last_sync[0] ? json_string(st->last_sync) : json_null());
    json_object_set_new(o, "lag_seconds",
                        st->lag_s >= 0 ? json_integer((json_int_t)st->lag_s) : json_null());
    json_object_set_new(o, "program_version", json_string(st->program_version));
    return o;
}

static int list_one(const struct patron_hq_store *st, void *arg)
{
    struct list_state *ls = arg;
    size_t n = strlen(ls->human);
    char lag[24] = "-";
    json_array_append_new(ls->stores, cli_hq_store_json(st));
    if (st->lag_s >= 0)
        snprintf(lag, sizeof lag, "%llds", (long long)st->lag_s);
    int64_t pending = st->last_seq > st->projected_seq ? st->last_seq - st->projected_seq : 0;
    snprintf(ls->human + n, sizeof ls->human - n,
             "%5lld  %-24s %-28s %s  %8lld  %10lld  %-20s  %6s  %s\n", (long long)st->store_id,
             st->name, st->role, st->created_at, (long long)st->facts, (long long)pending,
             st->last_sync[0] ? st->last_sync : "never", lag, st->program_version);
    return 0;
}

static int hq_stores(struct cli *c, struct cli_args *a)
{
    static struct list_state ls;
    patron_hq *h = NULL;
    char detail[512];
    int status, err;
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = hq_open(c, &h)) != 0)
        return status;
    ls.stores = json_array();
    snprintf(ls.human, sizeof ls.human, "%5s  %-24s %-28s %-20s  %8s  %10s  %-20s  %6s  %s\n",
             "store", "name", "role", "registered", "shipped", "to project", "last sync", "lag",
             "program");
    err = patron_hq_stores_each(h, list_one, &ls, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0) {
        json_decref(ls.stores);
        return hq_fail(c, err, detail);
    }
    return cli_emit(c, json_pack("{s:o}", "stores", ls.stores), ls.human);
}

static int hq_verify(struct cli *c, struct cli_args *a)
{
    struct patron_hq_verify r;
    patron_hq *h = NULL;
    char detail[512], human[1024];
    int status, err;
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = hq_open(c, &h)) != 0)
        return status;
    err = patron_hq_verify(h, &r, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0)
        return hq_fail(c, err, detail);
    if (r.ok)
        snprintf(human, sizeof human,
                 "Head office OK: %lld stores gap-free (%lld facts), %lld entries balance, %lld "
                 "members; conflicts: %lld double spends, %lld overdrafts, %lld offline "
                 "overdrafts (patron hq conflicts).\n",
                 (long long)r.stores_checked, (long long)r.facts_checked,
                 (long long)r.entries_checked, (long long)r.members_checked,
                 (long long)r.double_spends, (long long)r.overdrafts,
                 (long long)r.offline_overdrafts);
    else
        snprintf(human, sizeof human, "HEAD OFFICE MISMATCH: %s.\n", r.first_problem);
    json_t *o =
        json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "ok", r.ok, "stores_checked",
                  (json_int_t)r.stores_checked, "facts_checked", (json_int_t)r.facts_checked,
                  "entries_checked", (json_int_t)r.entries_checked, "members_checked",
                  (json_int_t)r.members_checked, "seq_gaps", (json_int_t)r.seq_gaps, "entries_bad",
                  (json_int_t)r.entries_bad, "program_sum", (json_int_t)r.program_sum, "member_sum",
                  (json_int_t)r.member_sum);
    json_object_set_new(o, "entries_projected", json_integer((json_int_t)r.entries_projected));
    json_object_set_new(o, "balances_off", json_integer((json_int_t)r.balances_off));
    json_object_set_new(o, "double_spends", json_integer((json_int_t)r.double_spends));
    json_object_set_new(o, "overdrafts", json_integer((json_int_t)r.overdrafts));
    json_object_set_new(o, "offline_overdrafts", json_integer((json_int_t)r.offline_overdrafts));
    if (!r.ok)
        json_object_set_new(o, "problem", json_string(r.first_problem));
    cli_emit(c, o, human);
    return r.ok ? CLI_EXIT_OK : CLI_EXIT_OTHER;
}

struct conflict_state {
    json_t *list;
    char human[16384];
};

static json_t *uses_json(const struct patron_hq_conflict *k)
{
    json_t *uses = json_array();
    for (int i = 0; i < k->n_uses && i < PATRON_HQ_CONFLICT_USES; i++) {
        const struct patron_hq_use *u = &k->uses[i];
        json_array_append_new(uses, json_pack("{s:i, s:s, s:s, s:b}", "store_id", u->store_id,
                                              "store_time", u->store_time, "received_at",
                                              u->received_at, "offline", u->offline));
    }
    return uses;
}

json_t *cli_hq_conflict_json(const struct patron_hq_conflict *k)
{
    if (strcmp(k->type, "offline_overdraft") == 0) {
        const struct patron_hq_use *u = &k->uses[0];
        return json_pack("{s:s, s:s, s:i, s:I, s:I, s:s, s:s}", "type", k->type, "member_uid",
                         k->member_uid, "store_id", u->store_id, "points", (json_int_t)k->value,
                         "balance_after", (json_int_t)k->balance, "store_time", u->store_time,
                         "received_at", u->received_at);
    }
    if (strcmp(k->type, "overdraft") == 0)
        return json_pack("{s:s, s:s, s:I}", "type", k->type, "member_uid", k->member_uid, "balance",
                         (json_int_t)k->balance);
    return json_pack("{s:s, s:s, s:I, s:i, s:o}", "type", k->type, "voucher", k->voucher, "value",
                     (json_int_t)k->value, "times", k->n_uses, "uses", uses_json(k));
}

static int conflict_one(const struct patron_hq_conflict *k, void *arg)
{
    struct conflict_state *cs = arg;
    size_t n = strlen(cs->human);
    json_array_append_new(cs->list, cli_hq_conflict_json(k));
    patron_hq_conflict_sentence(k, cs->human + n, sizeof cs->human - n);
    n = strlen(cs->human);
    snprintf(cs->human + n, sizeof cs->human - n, "\n");
    return 0;
}

static int hq_conflicts(struct cli *c, struct cli_args *a)
{
    static struct conflict_state cs;
    patron_hq *h = NULL;
    char detail[512];
    int status, err;
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = hq_open(c, &h)) != 0)
        return status;
    cs.list = json_array();
    cs.human[0] = '\0';
    err = patron_hq_conflicts_each(h, conflict_one, &cs, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0) {
        json_decref(cs.list);
        return hq_fail(c, err, detail);
    }
    if (!cs.human[0])
        snprintf(cs.human, sizeof cs.human, "no conflicts\n");
    return cli_emit(c, json_pack("{s:o}", "conflicts", cs.list), cs.human);
}

static int hq_report(struct cli *c, struct cli_args *a)
{
    const char *svg = cli_take(a, "--svg");
    int csv = cli_flag(a, "--csv"), status, err;
    const char *name = cli_positional(a);
    struct patron_report_table *t = NULL;
    patron_hq *h = NULL;
    char detail[512];
    if (!name || (csv && c->json))
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0)
        return status;
    if (svg && patron_hq_report_chart_of(name) == PATRON_CHART_NONE) {
        fprintf(stderr,
                "patron: the head office report %s is a table without a chart: leave out "
                "--svg.\n",
                name);
        return CLI_EXIT_USAGE;
    }
    if ((status = hq_open(c, &h)) != 0)
        return status;
    err = patron_hq_report(h, name, &t, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0)
        return hq_fail(c, err, detail);
    if (svg && (status = cli_report_write_svg(c, t, svg)) != 0) {
        patron_report_free(t);
        return status;
    }
    err = patron_report_write(t,
                              c->json ? PATRON_REPORT_JSON
                              : csv   ? PATRON_REPORT_CSV
                                      : PATRON_REPORT_TEXT,
                              stdout);
    patron_report_free(t);
    return err != 0 ? cli_fail(c, err, "cannot write the report") : CLI_EXIT_OK;
}

int cli_hq_open(struct cli *c, patron_hq **h)
{
    return hq_open(c, h);
}

int cli_hq_fail(struct cli *c, int err, const char *sentence)
{
    return hq_fail(c, err, sentence);
}

int cli_cmd_hq(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "program") == 0)
        return cli_cmd_hq_program(c, a);
    if (sub && strcmp(sub, "reward") == 0)
        return cli_cmd_hq_reward(c, a);
    if (sub && strcmp(sub, "key") == 0)
        return cli_cmd_hq_key(c, a);
    if (sub && strcmp(sub, "offer") == 0)
        return cli_cmd_hq_offer(c, a);
    if (sub && strcmp(sub, "report") == 0)
        return hq_report(c, a);
    if (sub && strcmp(sub, "verify") == 0)
        return hq_verify(c, a);
    if (sub && strcmp(sub, "conflicts") == 0)
        return hq_conflicts(c, a);
    if (sub && strcmp(sub, "init") == 0)
        return hq_init(c, a);
    if (sub && strcmp(sub, "tls") == 0) {
        const char *verb = cli_positional(a);
        if (verb && strcmp(verb, "init") == 0)
            return hq_tls_init(c, a);
    }
    if (sub && strcmp(sub, "stores") == 0)
        return hq_stores(c, a);
    if (sub && strcmp(sub, "store") == 0) {
        const char *verb = cli_positional(a);
        if (verb && strcmp(verb, "add") == 0)
            return hq_store_add(c, a);
    }
    return cli_usage(c, usage);
}

#else

int cli_cmd_hq(struct cli *c, struct cli_args *a)
{
    (void)a;
    (void)usage;
    fputs("patron: this patron was built without libpq, so the head office commands were left "
          "out; install libpq-dev and build again.\n",
          stderr);
    return CLI_EXIT_OTHER;
}

#endif
