/* SPDX-License-Identifier: MIT */
/* The head office: the chain's PostgreSQL database, reached through libpq. Its schema is a list
 * of ordered migrations (hq_schema_version); each store registered there gets a login role of its
 * own that row-level security confines to its own rows. A library of its own beside libpatron:
 * every call returns 0 or a negative PATRON_E* code with a sentence in `detail`. */
#ifndef PATRON_HQ_H
#define PATRON_HQ_H

#include <stddef.h>
#include <stdint.h>

#include "patron/offer.h"
#include "patron/report.h"
#include "patron/reward.h"
#include "patron/store.h"

typedef struct patron_hq patron_hq;

/* The newest head office schema this program knows. */
int patron_hq_schema_latest(void);

/* Connects to the head office at `url` (a postgresql:// URL or "key=value" words). On failure
 * says which: the address (nothing answers there), the password or role, or the database.
 * PATRON_EINVAL for a malformed URL, PATRON_EAUTH for a refused login, PATRON_ENOTFOUND for a
 * missing database, PATRON_EDB otherwise. A host off loopback without `sslmode=verify-full` is
 * refused before any byte is sent (the password would cross the network in plain text), and so
 * is a key file (sslkey) that group or others may read (PATRON_EKEYPERM); a failed TLS
 * verification of head office, or a client certificate head office refuses, is named
 * (PATRON_EAUTH). */
int patron_hq_connect(const char *url, patron_hq **out, char *detail, size_t len);
void patron_hq_close(patron_hq *h);

/* Creates the schema or upgrades it to the latest migration, in one transaction under a lock,
 * so two runs at once are safe; a second run changes nothing. *from and *to (either may
 * be NULL) receive the version found and the version left. PATRON_ESCHEMA when the database is
 * newer than this program. */
int patron_hq_init(patron_hq *h, int *from, int *to, char *detail, size_t len);

/* The schema version of the database (0: none yet). */
int patron_hq_schema_version(patron_hq *h, int *version, char *detail, size_t len);

/* What a registered store needs to connect: its role and its password (hex, NUL-terminated). */
struct patron_hq_login {
    char role[64];
    char password[65];
};

/* A random password for a store's role: 64 hex digits and a NUL into out. Returns 0. */
int patron_hq_password_new(char out[65]);

/* The login role of store `store_id` in this database ("<database>_store_<id>"). */
void patron_hq_store_role(patron_hq *h, int64_t store_id, char *out, size_t len);

/* Registers store `store_id` (1..65535) named `name` and creates its login role (its name into
 * login->role) with the password already in login->password, hashed here before it is sent.
 * PATRON_EDUPLICATE when the id is taken (a store's, or a card number space head office granted
 * a store), PATRON_ESCHEMA when the schema is not the latest (run init). */
int patron_hq_store_add(patron_hq *h, int64_t store_id, const char *name,
                        struct patron_hq_login *login, char *detail, size_t len);

/* The URL a store uses: the head office's address and database, as the role `role`, with its
 * password read from `passfile` (a pgpass file). Returns 0 or PATRON_EINVAL (too long). */
int patron_hq_store_url(patron_hq *h, const char *role, const char *passfile, char *url,
                        size_t len);

/* What a store off loopback connects with besides its password: the host name it reaches head
 * office by (NULL: the one this connection used) and, when TLS is used, the chain's CA
 * certificate, its client certificate and its key (all NULL: no TLS, loopback only). */
struct patron_hq_store_tls {
    const char *host;
    const char *rootcert;
    const char *cert;
    const char *key;
};

/* patron_hq_store_url with a host of the store's own and, when tls->cert is set, `sslmode=
 * verify-full` and the three files. PATRON_EINVAL when too long. */
int patron_hq_store_url_tls(patron_hq *h, const char *role, const char *passfile,
                            const struct patron_hq_store_tls *tls, char *url, size_t len);

/* 1 when `host` is reached without a network: empty (the default socket), a Unix socket folder,
 * "localhost", 127.0.0.0/8 or ::1. */
int patron_hq_host_is_local(const char *host);

/* 1 when folder `dir` holds the chain's CA (ca.crt and ca.key). */
int patron_hq_tls_ready(const char *dir);

/* Makes the chain's CA in `dir` (created mode 0700) unless ca.crt and ca.key are already there
 * (taken as they are; *made_ca says which), then a server certificate for head office's `host`
 * (a DNS name, or an IP address) signed by it: server.crt and server.key (mode 0600), replaced
 * on each run. PATRON_ECRYPTO for a CA that is not usable, PATRON_EINVAL otherwise. */
int patron_hq_tls_init(const char *dir, const char *host, int *made_ca, char *detail, size_t len);

/* The host name head office's server certificate in `dir` was made for (its CN) into out.
 * PATRON_ENOTFOUND when there is none. */
int patron_hq_tls_host(const char *dir, char *out, size_t len);

/* A client certificate whose CN is `role`, signed by the CA in `dir`, into cert_path and its key
 * into key_path (mode 0600), and the CA's certificate into root_path. */
int patron_hq_tls_client(const char *dir, const char *role, const char *cert_path,
                         const char *key_path, const char *root_path, char *detail, size_t len);

/* The pg_hba.conf lines head office's administrator puts before any other line for the stores of
 * the database in `url` (NULL or none: "DB"): store roles only over TLS, with their password
 * and a client certificate whose CN is their role. */
void patron_hq_tls_hba(const char *url, char *out, size_t len);

struct patron_hq_store {
    int64_t store_id;
    char name[128];
    char role[64];
    char created_at[40]; /* ISO 8601 UTC */
    int64_t facts;       /* facts shipped so far */
    int64_t last_seq;    /* the highest store_seq received, 0 when none */
    char last_sync[40];  /* when head office last received a fact (ISO 8601 UTC), "" never */
    int64_t lag_s;       /* the newest fact's receive time minus its store time (store clocks may be
                            wrong), -1 when none */
    char program_version[16]; /* the program publication the store applied (its last sync),
                                 "none" before the first */
    int64_t projected_seq;    /* the store_seq up to which head office projected its facts (the
                                 owner's list only; -1 otherwise) */
};

/* Calls `fn` for each registered store in id order; stops at fn's first non-zero return. */
int patron_hq_stores_each(patron_hq *h, int (*fn)(const struct patron_hq_store *, void *),
                          void *arg, char *detail, size_t len);
/* The same as a store's role may read it (the back office's chain screen, through head office's
 * hq_chain_stores()): every store, with role and created_at left empty. */
int patron_hq_chain_stores_each(patron_hq *h, int (*fn)(const struct patron_hq_store *, void *),
                                void *arg, char *detail, size_t len);

/* Runs one SQL statement with text parameters as the connected role; for tests and tools that
 * check what a role may do. PATRON_EFORBIDDEN when row-level security or a grant refuses it,
 * PATRON_EDB otherwise, with the server's sentence in detail. */
int patron_hq_exec(patron_hq *h, const char *sql, int n_params, const char *const *params,
                   char *detail, size_t len);

/* What one pull brought down (rows read at head office since the last pull). */
struct patron_hq_pull_result {
    int64_t members; /* enrolled or changed at other stores */
    int64_t cards;   /* issued or blocked at other stores */
    int64_t balances;
    int64_t erased;          /* members erased here because a store erased them (pull_erasure.c) */
    int64_t held_posted;     /* held sales posted now that their cards are known (patron/held.h) */
    int64_t program_version; /* head office's program publication the store is on (0: none) */
};

/* What one sync did. */
struct patron_hq_sync_result {
    int64_t from_seq;  /* the highest store_seq head office held when the sync started */
    int64_t acked_seq; /* the highest it holds now (acknowledged in the store) */
    int64_t shipped;   /* rows sent (a row head office already held is not sent again) */
    int64_t batches;
    struct patron_hq_pull_result pulled; /* what came down after shipping */
    int card_space; /* the card number space granted at this sync (spaces 80% used), 0: none */
};

/* The batch `patron sync` and `patron serve`'s sync thread ship (batch_rows 0): up to
 * PATRON_HQ_SYNC_BATCH_ROWS rows, fewer when the outbox holds fewer (a round after a few sales
 * ships them at once) or when their COPY text reaches PATRON_HQ_SYNC_BATCH_BYTES, the bound on
 * what a batch holds in memory at the store (and, about twice, in head office's transition
 * table). Batches of 10,000 cost head office 15-30% less CPU a row than batches of 1,000
 * (README, "Ingest, measured"). */
#define PATRON_HQ_SYNC_BATCH_ROWS 10000
#define PATRON_HQ_SYNC_BATCH_BYTES ((size_t)4 << 20)

/* Called after each batch head office committed and the store recorded. */
typedef void (*patron_hq_sync_progress)(const struct patron_hq_sync_result *r, void *ctx);

/* The shipping half of patron_hq_sync, without the pull and without recording a finished sync:
 * ships what the outbox holds past what head office holds, exactly once and in order, and
 * records what head office acknowledged (patron_outbox_sync_ack, not finished). r->pulled stays
 * zero. `patron serve`'s sync thread runs it soon after each commit and the whole sync on the
 * pull's own schedule. Returns as patron_hq_sync. */
int patron_hq_ship(patron_hq *h, patron_store *s, size_t batch_rows, patron_hq_sync_progress fn,
                   void *ctx, struct patron_hq_sync_result *r, char *detail, size_t len);

/* Ships the store's outbox to head office, logged in as the store's own role, in batches of
 * `batch_rows` (0: PATRON_HQ_SYNC_BATCH_ROWS; any size stops at PATRON_HQ_SYNC_BATCH_BYTES of
 * COPY text) in store_seq order, exactly once, and records in the store what head
 * office acknowledged (patron_outbox_sync_ack). Starts from head office's highest store_seq for
 * this store. PATRON_EFORBIDDEN when the login is not this store's, PATRON_ESCHEMA for a schema
 * that is not the latest, PATRON_EDB when head office fails or goes away, with a sentence in
 * detail; what was acknowledged before stays acknowledged. After shipping, pulls down what
 * the store needs of the chain (patron_hq_pull) into r->pulled. The caller records a failure
 * (patron_outbox_sync_failed). */
int patron_hq_sync(patron_hq *h, patron_store *s, size_t batch_rows, patron_hq_sync_progress fn,
                   void *ctx, struct patron_hq_sync_result *r, char *detail, size_t len);

/* What `patron hq verify` found, from the shipped facts alone. */
struct patron_hq_verify {
    int ok; /* no gap, every entry sound, the accounts add up to zero, every entry projected into
               the chain balances */
    int64_t stores_checked, facts_checked, entries_checked, members_checked;
    int64_t seq_gaps;          /* stores whose store_seq at head office has a gap */
    int64_t entries_bad;       /* entries that are not a positive move between two accounts */
    int64_t program_sum;       /* every store's program accounts together */
    int64_t member_sum;        /* every member account together (the points outstanding) */
    int64_t entries_projected; /* head office's chain entries: one per entry shipped */
    int64_t balances_off; /* members whose chain balance is not the sum of their chain entries */
    /* Conflicts (listed by patron_hq_conflicts_each, not failures): */
    int64_t overdrafts;         /* members whose chain balance is below zero */
    int64_t double_spends;      /* vouchers redeemed more than once chain-wide */
    int64_t offline_overdrafts; /* offline spends that overdrew a chain balance */
    char first_problem[256];
};

/* Verifies the chain at head office (as its owner: every store's rows). Returns 0 with the
 * outcome in r, or a PATRON_* code with a sentence when the database cannot be read. */
int patron_hq_verify(patron_hq *h, struct patron_hq_verify *r, char *detail, size_t len);

#define PATRON_HQ_CONFLICT_USES 8

/* One use of a voucher: the store, its own clock and head office's receive time (UTC, ISO). */
struct patron_hq_use {
    int store_id;
    char store_time[24];
    char received_at[24];
    int offline;
};

/* A conflict the chain must settle. An "offline_overdraft" is one offline spend (member_uid,
 * value: its points, balance: the chain balance right after it, uses[0]: its store and times). */
struct patron_hq_conflict {
    const char *type; /* "double_spend", "overdraft" or "offline_overdraft" */
    char voucher[48]; /* double spend: "KEY_ID/VOUCHER_ID" */
    int64_t value;    /* double spend: the voucher's value */
    int n_uses;       /* double spend: how many times it was redeemed */
    struct patron_hq_use uses[PATRON_HQ_CONFLICT_USES]; /* the first ones, oldest first */
    char member_uid[64];                                /* overdraft: the member */
    int64_t balance; /* overdraft: the chain balance, below zero */
};
typedef int (*patron_hq_conflict_fn)(const struct patron_hq_conflict *c, void *arg);

/* Calls fn for each conflict: double spends first (by voucher), then overdrafts (by member), then
 * offline overdrafts (by member, in receive order); stops at fn's first non-zero return. */
int patron_hq_conflicts_each(patron_hq *h, patron_hq_conflict_fn fn, void *arg, char *detail,
                             size_t len);
/* The conflicts the logged-in store is one of the stores of (a double spend it redeemed the voucher
 * in, its offline overdrafts, an overdraft of a member it moved points of), as a store's role
 * may read them (head office's hq_chain_conflicts()): newest first by head office's receive
 * time, at most PATRON_HQ_CHAIN_CONFLICTS. None for head office's own roles. */
#define PATRON_HQ_CHAIN_CONFLICTS 200
int patron_hq_chain_conflicts_each(patron_hq *h, patron_hq_conflict_fn fn, void *arg, char *detail,
                                   size_t len);
/* The conflict in one sentence, as `patron hq conflicts` prints it: "double spend: voucher 1/77
 * (value 500) redeemed 2 times: store 2 at ... (store clock), received ...; store 1 at ...",
 * "overdraft: member 2-1 has a chain balance of -95 points", "offline overdraft: member ... spent
 * ...". */
void patron_hq_conflict_sentence(const struct patron_hq_conflict *c, char *out, size_t len);

/* The head office reports by name (liability, redemptions, stores, multistore), NULL-terminated,
 * and the chart each draws as SVG (PATRON_CHART_NONE: a table only, or an unknown name). */
extern const char *const patron_hq_report_names[];
enum patron_chart patron_hq_report_chart_of(const char *name);

/* Runs the head office report `name` (as its owner: every store's facts) into a table of the
 * store reports' kind, which patron_report_write() prints and patron_report_free() frees.
 * PATRON_ENOTFOUND for an unknown name, with a sentence. */
int patron_hq_report(patron_hq *h, const char *name, struct patron_report_table **out, char *detail,
                     size_t len);
/* Looks up a card this store does not know at head office and keeps it, its member and their
 * chain balance in the store (no outbox row), so that a scan that follows finds them. Returns 0;
 * PATRON_ENOCARD when no store of the chain issued it (sentence in detail); other codes when
 * head office fails. */
int patron_hq_card_lookup(patron_hq *h, patron_store *s, const char *card, char *detail,
                          size_t len);

/* The same, connecting to `url` first. When head office cannot be reached: PATRON_ENOCARD with a
 * sentence saying that the card is from another store (which one, from its number space) and
 * that the link to head office is down. */
int patron_hq_card_lookup_url(const char *url, patron_store *s, const char *card, char *detail,
                              size_t len);

/* Grants this store a card number space (patron/card_space.h) at head office and returns it in
 * *space, without keeping it in the store (the caller does: patron_card_space_grant_keep, or the
 * mint that asked). A grant head office made to this store that the store does not hold yet (an
 * answer lost) is given again before a new one. Codes when head office fails or every space is
 * taken, with a sentence. */
int patron_hq_card_space_grant(patron_hq *h, patron_store *s, int *space, char *detail, size_t len);
/* The same, connecting to `url` first (the source `patron serve` hands the store handles). */
int patron_hq_card_space_grant_url(const char *url, patron_store *s, int *space, char *detail,
                                   size_t len);
/* When every space the store holds is 80% used, a grant kept in the store (*granted: the space,
 * 0 when none was needed). `patron sync` calls it after the pull. */
int patron_hq_card_space_top_up(patron_hq *h, patron_store *s, int *granted, char *detail,
                                size_t len);

/* Claims `points` of member `member_uid` for this store's spend at head office, in one
 * transaction that locks the member's chain balance: what the store may spend is local_points
 * (its own balance for the member) plus the chain balance less this store's part, less what
 * other stores claimed and have not shipped yet. Idempotent per `key` (the spend's idempotency
 * key). *left (may be NULL) receives what remains. PATRON_ENOFUNDS with a sentence when refused;
 * other codes when head office fails. */
int patron_hq_claim(patron_hq *h, const char *member_uid, int64_t points, int64_t local_points,
                    const char *key, int64_t *left, char *detail, size_t len);

/* Gives back the claim made with `key` (its spend did not happen). Returns 0 or a code. */
int patron_hq_claim_release(patron_hq *h, const char *key, char *detail, size_t len);

/* Claims at head office what a refund of this store takes back from member `member_uid`
 * (`points`, what the refunded lines owe; local_points as for patron_hq_claim), in the same
 * transaction and lock. With `clamp` (the clamp policy) it takes at most what the member may
 * spend in the chain, maybe 0; without, all of it even below zero (the negative policy). *taken
 * receives the points claimed, which the store's refund then reverses (patron_refund's
 * claimed_points). Idempotent per `key`: a claim standing under it is answered again with
 * *fresh = 0 (the caller then gives nothing back if its refund fails); a new one has *fresh = 1.
 * Never refused: any code means head office could not be asked (the refund is then offline).
 * Released with patron_hq_claim_release. */
int patron_hq_claim_refund(patron_hq *h, const char *member_uid, int64_t points,
                           int64_t local_points, int clamp, const char *key, int64_t *taken,
                           int *fresh, char *detail, size_t len);

/* Claims voucher (key_id, voucher_id) at head office before the store redeems it, idempotent
 * per `key`: 0 claimed; PATRON_EREDEEMED ("already redeemed at store N at TIME") or
 * PATRON_EVOIDED with a sentence when refused; other codes when head office fails. The release
 * gives back the claim made with `key` (its redemption failed at the store). */
int patron_hq_voucher_claim(patron_hq *h, int64_t key_id, int64_t voucher_id, const char *key,
                            char *detail, size_t len);
int patron_hq_voucher_release(patron_hq *h, const char *key, char *detail, size_t len);

/* Brings down to the store what changed at head office since the last pull: members and cards
 * of other stores and every member's chain balance less this store's part (patron/chain.h), the
 * program, vouchers redeemed or voided elsewhere, card number space grants and erasures, all read
 * in one read-only snapshot (one first question says which parts moved; only those are read),
 * then kept at the store without outbox rows; a second run changes nothing and writes nothing.
 * patron_hq_sync runs it after shipping. Returns 0 or a PATRON_* code with a sentence. */
int patron_hq_pull(patron_hq *h, patron_store *s, struct patron_hq_pull_result *r, char *detail,
                   size_t len);

/* The program head office authors for its stores (issue 11), as head office's owner: a draft of
 * rules, categories, tiers and rewards, and its publications. Every change of the draft is checked
 * by applying the whole draft to a scratch store with the store's own calls (the stores' own
 * validation and sentences: PATRON_EINVAL with the store's sentence when refused);
 * PATRON_EFORBIDDEN for a store's role. */
int patron_hq_program_rule_set(patron_hq *h, const char *name, const char *value, char *detail,
                               size_t len);
int patron_hq_program_category_set(patron_hq *h, const char *name, int64_t multiplier_permille,
                                   char *detail, size_t len);
int patron_hq_program_tier_set(patron_hq *h, const char *name, int64_t threshold,
                               int64_t multiplier_permille, char *detail, size_t len);
/* Adds a reward to the draft (*reward_id: head office's id); PATRON_EDUPLICATE when a running
 * reward has that name. Stores match published rewards with theirs by name. */
int patron_hq_reward_add(patron_hq *h, const struct patron_reward_def *d, int64_t *reward_id,
                         char *detail, size_t len);
/* Ends a reward of the draft (stores retire theirs at the next publication); PATRON_ENOTFOUND. */
int patron_hq_reward_end(patron_hq *h, int64_t reward_id, char *detail, size_t len);
/* Adds an offer to the draft (`patron offer add`'s definition; *offer_id: head office's id);
 * PATRON_EINVAL for a reward benefit or a segment target (each store's own), PATRON_EDUPLICATE
 * when a running offer has that name. Stores match published offers with theirs by name. */
int patron_hq_offer_add(patron_hq *h, const struct patron_offer_def *d, int64_t *offer_id,
                        char *detail, size_t len);
/* Ends an offer of the draft (stores end theirs at the next publication); PATRON_ENOTFOUND. */
int patron_hq_offer_end(patron_hq *h, int64_t offer_id, char *detail, size_t len);
/* Adds a public key (a PEM file) to the chain's trust list, with `patron key trust`'s own
 * arguments and checks (key id `want`, or 0 for the one in the file name "key-N.pub.pem"; chain_id
 * NULL for a store of this chain); *key_id receives it. Stores trust it at the next
 * publication, except a key id they already hold (their own). */
int patron_hq_key_add(patron_hq *h, const char *pem_file, const char *partner, const char *chain_id,
                      int want, int *key_id, char *detail, size_t len);
/* Revokes a key of the trust list: stores retire it at the next publication (its vouchers are
 * refused from then on). PATRON_ENOTFOUND when not trusted. */
int patron_hq_key_revoke(patron_hq *h, int key_id, char *detail, size_t len);
/* The draft as the JSON document a publication would hold (malloc'd into *body: rules,
 * categories, tiers, rewards, offers, keys) and the latest published version (0: none). */
int patron_hq_program_draft(patron_hq *h, char **body, int64_t *latest, char *detail, size_t len);
/* Publishes the whole draft as the next version, atomically (one transaction under a lock);
 * *version receives it. */
int patron_hq_program_publish(patron_hq *h, int64_t *version, char *detail, size_t len);

#endif
