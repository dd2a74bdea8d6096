/* SPDX-License-Identifier: MIT */
/* The chain campaign: a seeded, randomized run of a chain of real store files against a
 * throwaway PostgreSQL head office, on the model of TigerBeetle's simulator (VOPR). The seed
 * fixes a schedule of steps (the table `steps` below): enrolments, sales, refunds, reward
 * redemptions and voucher spends at random stores, members buying and spending at other stores
 * than their own (the card looked up at head office, or the sale held until a sync makes it
 * known), syncs, syncs whose link is cut just before or just after head office's COMMIT
 * (PATRON_SYNC_FAULT), `patron sync` killed with SIGKILL after a chosen number of batches, head
 * office stopped (fast or immediate) and restarted, store clocks skewed. Every spend and refund is
 * claimed at head office as a till claims it, or made offline while head office is down. After
 * the schedule every store syncs until nothing is left to ship or to project, and the invariants
 * are checked:
 *   - every committed store fact is at head office exactly once (each store's outbox, row by row,
 *     against `facts`: same store_seq, same kind, nothing more);
 *   - `patron hq verify` passes (gap-free, every entry sound, the accounts add up to zero), and
 *     its overdrafts are exactly the members below zero;
 *   - no voucher is honoured twice without a conflict record: a store never accepts the same
 *     voucher twice, and every voucher accepted at several stores is in `patron hq conflicts`
 *     naming exactly those stores (and no other voucher is);
 *   - no balance below zero, except a member's whom an offline spend or refund, or a refund's
 *     policy, may have put there (a spend claimed online never overdraws); every store's ledger
 *     verifies.
 * A failing seed prints itself, the step that failed and the command that replays it.
 *
 *   chain_campaign [--seed S | --first S --seeds N | --first S --seconds T] [--steps M] [--quiet]
 *
 * Needs PATRON_BIN (the patron program) and a PostgreSQL server (tests/pgutil.c). Exit 0 when
 * every seed ran clean, 1 when one failed. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/store_internal.h"
#include "hq.h"
#include "patron/patron.h"
#include "pgutil.h"
#include "testutil.h"
#include "voucher/voucher_internal.h"

#define STORES 3
#define MAX_MEMBERS 64
#define MAX_SALES 256
#define MAX_VOUCHERS 64
#define REWARD_COST 10
#define REWARD_VALUE 300
#define OFFLINE_DAILY_COUNT 20             /* the default offline_daily_cap_count */
#define CAMPAIGN_EPOCH INT64_C(1768471200) /* 2026-01-15T10:00:00Z */

struct member {
    char card[PATRON_CARD_DIGITS + 1];
    int may_be_negative; /* a refund under the program's policy took back spent points */
};

struct shop {
    struct run *run;
    patron_store *s;
    int id, key_id;
    int64_t skew; /* seconds this store's clock is off */
    char dir[256], path[300], url[1024];
    struct member members[MAX_MEMBERS];
    int n_members;
    char sales[MAX_SALES][32];
    int refunded[MAX_SALES];
    int n_sales;
    int64_t reward_id;
    int foreign_accepted; /* other stores' vouchers accepted offline (the daily count cap) */
};

struct voucher {
    int issuer; /* index of the issuing shop */
    int key_id;
    uint64_t voucher_id;
    char token[244];
    int accepted[STORES]; /* accepted at shop i */
};

struct run {
    uint64_t seed, rng;
    int steps, step;
    const char *step_name;
    struct pg_cluster *pg;
    char home[256], db[32], owner[512];
    struct shop shops[STORES];
    struct voucher vouchers[MAX_VOUCHERS];
    int n_vouchers;
    int64_t now;
    int hq_down;
    json_t *json;                        /* head office's last answer, freed by the tear-down */
    int64_t faults_cut, kills, hq_stops; /* what the schedule actually did */
    int double_spends;                   /* vouchers honoured at several stores */
    int away_sales, held_sales, away_spends, offline_spends; /* what members did away from home */
    jmp_buf fail;
    char why[1024];
};

static int quiet;
static const char *program = "chain_campaign";

/* splitmix64: the schedule's only source of chance. */
static uint64_t next(struct run *r)
{
    uint64_t z = (r->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int pick(struct run *r, int n)
{
    return n > 0 ? (int)(next(r) % (uint64_t)n) : 0;
}

__attribute__((format(printf, 2, 3), noreturn)) static void campaign_fail(struct run *r,
                                                                          const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->why, sizeof r->why, "step %d (%s): ", r->step,
                     r->step_name ? r->step_name : "set-up");
    va_start(ap, fmt);
    vsnprintf(r->why + n, sizeof r->why - (size_t)n, fmt, ap);
    va_end(ap);
    longjmp(r->fail, 1);
}

#define CHECK(r, cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            campaign_fail(r, __VA_ARGS__);                                                         \
    } while (0)

static int64_t shop_clock(void *ctx)
{
    struct shop *sh = ctx;
    return sh->run->now + sh->skew;
}

/* ---- set-up: a head office database, STORES stores sharing a chain id and trusting each
 * other's voucher keys, a reward at each ---- */

static void shop_open(struct run *r, struct shop *sh, int id, const char *chain_hex)
{
    const char *tmp = getenv("TMPDIR");
    char name[32];
    sh->run = r;
    sh->id = id;
    snprintf(sh->dir, sizeof sh->dir, "%s/patron-campaign-XXXXXX", tmp ? tmp : "/tmp");
    CHECK(r, mkdtemp(sh->dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(sh->path, sizeof sh->path, "%s/patron.db", sh->dir);
    snprintf(name, sizeof name, "Shop %d", id);
    CHECK(r, patron_store_open(sh->path, &sh->s) == 0, "cannot open store %d", id);
    patron_store_set_clock(sh->s, shop_clock, sh);
    CHECK(r, patron_store_init(sh->s, id, name) == 0, "store init %d", id);
    if (chain_hex) {
        CHECK(r, patron__setting_set(sh->s, "chain_id", chain_hex, "campaign") == 0, "chain id");
        patron_store_close(sh->s);
        CHECK(r, patron_store_open(sh->path, &sh->s) == 0, "cannot reopen store %d", id);
        patron_store_set_clock(sh->s, shop_clock, sh);
    }
    CHECK(r,
          patron__tx_begin(sh->s) == 0 && patron__keyring_ensure(sh->s, &sh->key_id) == 0 &&
              patron__tx_commit(sh->s) == 0,
          "store %d has no voucher key", id);
    struct patron_reward_def def = {.name = "Coffee",
                                    .cost = REWARD_COST,
                                    .kind = PATRON_VALUE_AMOUNT,
                                    .value = REWARD_VALUE,
                                    .valid_days = 30};
    CHECK(r, patron_reward_add(sh->s, &def, &sh->reward_id) == 0, "reward at store %d", id);
}

/* Every store trusts every other store's key (as the chain's key trust list will). */
static void trust_keys(struct run *r)
{
    char pem[512], path[400];
    for (int i = 0; i < STORES; i++) {
        struct shop *from = &r->shops[i];
        CHECK(r, patron_keyring_export(from->s, from->key_id, pem, sizeof pem) == 0, "export");
        snprintf(path, sizeof path, "%s/key-%d.pub.pem", from->dir, from->key_id);
        FILE *f = fopen(path, "w");
        CHECK(r, f && fputs(pem, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
        for (int j = 0; j < STORES; j++) {
            int id = 0;
            if (j != i)
                CHECK(r,
                      patron_keyring_trust(r->shops[j].s, path, "Shop", NULL, from->key_id, &id) ==
                          0,
                      "store %d cannot trust store %d's key: %s", r->shops[j].id, from->id,
                      patron_store_detail(r->shops[j].s));
        }
    }
}

static void head_office(struct run *r)
{
    char detail[512];
    patron_hq *h = NULL;
    snprintf(r->db, sizeof r->db, "campaign_%llu", (unsigned long long)r->seed);
    CHECK(r, pg_cluster_createdb(r->pg, r->db, r->owner, sizeof r->owner) == 0, "createdb");
    CHECK(r, patron_hq_connect(r->owner, &h, detail, sizeof detail) == 0, "%s", detail);
    int rc = patron_hq_init(h, NULL, NULL, detail, sizeof detail);
    for (int i = 0; rc == 0 && i < STORES; i++) {
        struct patron_hq_login login = {0};
        patron_hq_password_new(login.password);
        rc = patron_hq_store_add(h, r->shops[i].id, "Shop", &login, detail, sizeof detail);
        pg_cluster_url(r->pg, r->db, login.role, login.password, r->shops[i].url,
                       sizeof r->shops[i].url);
    }
    patron_hq_close(h);
    CHECK(r, rc == 0, "head office set-up: %s", detail);
}

/* ---- the steps ---- */

/* A member enrols at shop sh. */
static void enrol(struct run *r, struct shop *sh)
{
    if (sh->n_members == MAX_MEMBERS)
        return;
    char name[48];
    snprintf(name, sizeof name, "Member %d-%d", sh->id, sh->n_members + 1);
    struct patron_enrollment in = {.name = name, .consent_source = "counter"};
    struct patron_member m;
    CHECK(r, patron_member_enroll(sh->s, &in, &m) == 0, "store %d enrol: %s", sh->id,
          patron_store_detail(sh->s));
    snprintf(sh->members[sh->n_members++].card, sizeof sh->members[0].card, "%s", m.card);
}

static void step_enrol(struct run *r)
{
    enrol(r, &r->shops[pick(r, STORES)]);
}

static int sync_here(struct run *r, struct shop *sh, const char *fault, char *detail, size_t len);

static void setup(struct run *r)
{
    struct patron_store_info info;
    r->now = CAMPAIGN_EPOCH;
    shop_open(r, &r->shops[0], 1, NULL);
    CHECK(r, patron_store_info(r->shops[0].s, &info) == 0, "store info");
    for (int i = 1; i < STORES; i++)
        shop_open(r, &r->shops[i], i + 1, info.chain_id);
    trust_keys(r);
    head_office(r);
    char detail[512];
    for (int i = 0; i < STORES; i++) /* two members each, known chain-wide, to start with */
        for (int k = 0; k < 2; k++)
            enrol(r, &r->shops[i]);
    for (int i = 0; i < STORES; i++)
        CHECK(r, sync_here(r, &r->shops[i], NULL, detail, sizeof detail) == 0,
              "store %d's first sync: %s", r->shops[i].id, detail);
}

/* Whether shop sh can tell whose `card` (a member of shop `home`) is: known there, or, away from
 * home, looked up at head office as a till does (src/cli/cmd_checkout.c) while it is up. */
static int card_known(struct run *r, struct shop *sh, struct shop *home, const char *card)
{
    char detail[768];
    struct patron_member m;
    return sh == home || patron_member_by_card(sh->s, card, &m) != PATRON_ENOCARD ||
           (!r->hq_down &&
            patron_hq_card_lookup_url(sh->url, sh->s, card, detail, sizeof detail) == 0);
}

/* A member of shop `home` buys at shop `sh`. Away from home, a card the store does not know is
 * looked up at head office as a till does (src/cli/cmd_checkout.c); when head office cannot say
 * whose it is (it is down, or the home store has not shipped the member yet) the sale is held
 * against the card until a sync makes it known. Only a recorded sale can be refunded here. */
static void sell(struct run *r, struct shop *sh, struct shop *home)
{
    if (home->n_members == 0 || sh->n_sales == MAX_SALES)
        return;
    int64_t total = 200 + 100 * pick(r, 40);
    char ref[32];
    snprintf(ref, sizeof ref, "S%d-%d-%d", sh->id, sh->n_sales + 1, r->step);
    struct patron_sale_line line = {
        .sku = "TEA", .category = "general", .qty = 1, .unit_minor = total};
    struct patron_sale in = {.card = home->members[pick(r, home->n_members)].card,
                             .ref = ref,
                             .total_minor = total,
                             .lines = &line,
                             .n_lines = 1,
                             .idempotency_key = ref};
    struct patron_sale_result out;
    if (!card_known(r, sh, home, in.card)) {
        struct patron_held_sale held;
        CHECK(r, patron_sale_hold(sh->s, &in, &held) == 0, "store %d hold %s: %s", sh->id, ref,
              patron_store_detail(sh->s));
        r->held_sales++;
        return;
    }
    r->away_sales += sh != home;
    CHECK(r, patron_sale_record(sh->s, &in, &out) == 0, "store %d sale %s: %s", sh->id, ref,
          patron_store_detail(sh->s));
    snprintf(sh->sales[sh->n_sales++], sizeof sh->sales[0], "%s", ref);
}

/* A shop other than `sh`. */
static struct shop *elsewhere(struct run *r, struct shop *sh)
{
    int i = pick(r, STORES - 1);
    return &r->shops[i >= (int)(sh - r->shops) ? i + 1 : i];
}

static void step_sale(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    sell(r, sh, sh);
}

static void step_sale_away(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    sell(r, sh, elsewhere(r, sh));
}

/* A spend claimed as a till claims it (src/cli/spend.c): at head office first while it can be
 * reached; while it cannot, spent offline, within the program's offline caps, and marked. */
struct claim {
    patron_hq *h; /* the link holding a granted claim, NULL: none */
    const char *key;
    int offline;
};

/* Connects c to head office; when it cannot be reached (it must be down), the store spends
 * offline from now on. 1 when connected. */
static int claim_link(struct run *r, struct shop *sh, struct claim *c)
{
    char detail[512];
    if (patron_hq_connect(sh->url, &c->h, detail, sizeof detail) == 0)
        return 1;
    CHECK(r, r->hq_down, "store %d cannot reach head office: %s", sh->id, detail);
    c->h = NULL;
    c->offline = 1;
    patron_store_set_spend_offline(sh->s, 1);
    return 0;
}

/* Claims `points` of the member holding `card` at `sh`: 0 (granted, offline, or nothing to
 * claim: the spend itself then says what is wrong) or PATRON_ENOFUNDS (head office refused). */
static int claim_spend(struct run *r, struct shop *sh, const char *card, int64_t points,
                       const char *key, struct claim *c)
{
    char uid[32], detail[512];
    int64_t local = 0;
    *c = (struct claim){.key = key};
    if (patron_chain_member_of_card(sh->s, card, uid, sizeof uid, &local) != 0)
        return 0;
    if (!claim_link(r, sh, c))
        return 0;
    int rc = patron_hq_claim(c->h, uid, points, local, key, NULL, detail, sizeof detail);
    if (rc != 0) {
        patron_hq_close(c->h);
        c->h = NULL;
        CHECK(r, rc == PATRON_ENOFUNDS, "store %d claim: %s", sh->id, detail);
    }
    return rc;
}

/* The refund's claim, as a till makes it: head office takes back what the chain holds (the
 * clamp policy) or all of it; head office down, the refund is offline. */
static void claim_refund(struct run *r, struct shop *sh, struct patron_refund *in, struct claim *c)
{
    struct patron_refund_preview p;
    char detail[512];
    int64_t taken = 0;
    int fresh = 0;
    *c = (struct claim){.key = in->idempotency_key};
    if (patron_refund_preview(sh->s, in, &p) != 0 || p.recorded || p.points_owed <= 0 ||
        !p.member_uid[0])
        return;
    if (!claim_link(r, sh, c))
        return;
    CHECK(r,
          patron_hq_claim_refund(c->h, p.member_uid, p.points_owed, p.balance, p.clamp, c->key,
                                 &taken, &fresh, detail, sizeof detail) == 0,
          "store %d refund claim: %s", sh->id, detail);
    in->claimed = 1;
    in->claimed_points = taken;
    if (!fresh) {
        patron_hq_close(c->h);
        c->h = NULL;
    }
}

/* After the spend (err its code): a claim whose spend failed is given back. */
static void claim_end(struct run *r, struct shop *sh, struct claim *c, int err)
{
    char detail[512];
    if (c->h) {
        CHECK(r, err == 0 || patron_hq_claim_release(c->h, c->key, detail, sizeof detail) == 0,
              "store %d claim release: %s", sh->id, detail);
        patron_hq_close(c->h);
    }
    patron_store_set_spend_offline(sh->s, 0);
}

/* The member holding member_id at shop sh, whichever shop is their home. */
static struct member *member_of(struct run *r, struct shop *sh, int64_t member_id)
{
    struct patron_member m;
    for (int k = 0; k < STORES; k++) {
        struct shop *home = &r->shops[k];
        for (int i = 0; i < home->n_members; i++)
            if (patron_member_by_card(sh->s, home->members[i].card, &m) == 0 &&
                m.member_id == member_id)
                return &home->members[i];
    }
    return NULL;
}

static void step_refund(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    if (sh->n_sales == 0)
        return;
    int i = pick(r, sh->n_sales);
    char key[40];
    snprintf(key, sizeof key, "R-%s", sh->sales[i]);
    struct patron_refund in = {.ref = sh->sales[i], .idempotency_key = key};
    struct patron_refund_result out;
    struct claim c;
    claim_refund(r, sh, &in, &c);
    int rc = patron_refund_record(sh->s, &in, &out);
    claim_end(r, sh, &c, rc);
    if (sh->refunded[i]) { /* the same key answers the first refund again */
        CHECK(r, rc == 0 && out.replayed, "store %d: refunding %s again gave %d, replayed %d",
              sh->id, sh->sales[i], rc, out.replayed);
        return;
    }
    CHECK(r, rc == 0, "store %d refund of %s: %s", sh->id, sh->sales[i],
          patron_store_detail(sh->s));
    sh->refunded[i] = 1;
    /* offline, the store takes back what it knows of the chain balance, which other stores may
     * have spent meanwhile: the program's rule carries what that overdraws */
    if (out.points < 0 || c.offline) {
        struct member *m = member_of(r, sh, out.member_id);
        CHECK(r, m != NULL, "store %d: the refund's member %lld is unknown", sh->id,
              (long long)out.member_id);
        m->may_be_negative = 1;
    }
}

/* Of three members of `home` picked at random, the one with the most points there: spends are
 * tried mostly by members who earned something. */
static struct member *richest_of_three(struct run *r, struct shop *home)
{
    struct member *best = NULL;
    int64_t most = INT64_MIN;
    for (int k = 0; k < 3; k++) {
        struct member *c = &home->members[pick(r, home->n_members)];
        struct patron_member m;
        CHECK(r, patron_member_by_card(home->s, c->card, &m) == 0, "store %d card look-up",
              home->id);
        if (m.points > most) {
            most = m.points;
            best = c;
        }
    }
    return best;
}

/* A member of shop `home` spends points on shop `sh`'s reward, claimed as a till claims it, and
 * the voucher goes into play. Away from home the card must be known at `sh` (pulled, or looked
 * up at head office while it is up). Online, a granted claim means the chain holds the points,
 * so the spend never overdraws; offline, it may (within the caps), and head office lists it. */
static void spend(struct run *r, struct shop *sh, struct shop *home)
{
    char key[48];
    struct patron_member m;
    if (home->n_members == 0 || r->n_vouchers == MAX_VOUCHERS)
        return;
    struct member *mem = richest_of_three(r, home);
    if (!card_known(r, sh, home, mem->card))
        return; /* the till cannot tell whose card it is */
    CHECK(r, patron_member_by_card(sh->s, mem->card, &m) == 0, "store %d card look-up: %s", sh->id,
          patron_store_detail(sh->s));
    snprintf(key, sizeof key, "W%d-%d", r->step, sh->id);
    struct patron_redeem_request in = {
        .card = mem->card, .reward_id = sh->reward_id, .idempotency_key = key};
    struct patron_redeem_result out;
    struct claim c;
    if (claim_spend(r, sh, mem->card, REWARD_COST, key, &c) != 0)
        return; /* head office refused: the chain does not hold the points */
    int rc = patron_reward_redeem(sh->s, &in, &out);
    claim_end(r, sh, &c, rc);
    if (m.points < REWARD_COST) {
        CHECK(r, rc == PATRON_ENOFUNDS,
              "store %d: a member with %lld points redeemed a reward of "
              "%d (%d)",
              sh->id, (long long)m.points, REWARD_COST, rc);
        return;
    }
    if (rc == PATRON_ELIMIT && c.offline)
        return; /* the offline caps */
    CHECK(r, rc == 0, "store %d redeem with %lld points: %s", sh->id, (long long)m.points,
          patron_store_detail(sh->s));
    CHECK(r, out.points == m.points - REWARD_COST && out.points >= 0,
          "store %d: the balance went from %lld to %lld", sh->id, (long long)m.points,
          (long long)out.points);
    mem->may_be_negative |= c.offline;
    r->away_spends += sh != home;
    r->offline_spends += c.offline;
    struct voucher *v = &r->vouchers[r->n_vouchers++];
    memset(v, 0, sizeof *v);
    v->issuer = (int)(sh - r->shops);
    v->key_id = sh->key_id;
    v->voucher_id = out.voucher_id;
    snprintf(v->token, sizeof v->token, "%s", out.token);
}

static void step_redeem(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    spend(r, sh, sh);
}

/* Away from home. Each of the two stores may have synced a moment ago (as `patron serve` does
 * soon after each commit and every few seconds), or not: what the member earned at home may be
 * known where they spend it, and what the store knows of the chain may be stale, which the
 * claim at head office must catch. */
static void step_redeem_away(struct run *r)
{
    char detail[512];
    struct shop *sh = &r->shops[pick(r, STORES)], *home = elsewhere(r, sh);
    for (int k = 0; k < 2 && !r->hq_down; k++) {
        struct shop *t = k == 0 ? home : sh;
        if (pick(r, 3) != 0)
            CHECK(r, sync_here(r, t, NULL, detail, sizeof detail) == 0, "store %d sync: %s", t->id,
                  detail);
    }
    spend(r, sh, home);
}

/* A voucher is spent at a random store: online at its issuer, offline (within the caps) at
 * another. A store never honours the same voucher twice; two stores may, and head office must
 * then list the conflict; a store that pulled another's redemption refuses it. */
static void step_voucher(struct run *r)
{
    if (r->n_vouchers == 0)
        return;
    struct voucher *v = &r->vouchers[pick(r, r->n_vouchers)];
    int at = pick(r, STORES);
    struct shop *sh = &r->shops[at];
    char ref[32];
    snprintf(ref, sizeof ref, "V%d", r->step);
    struct patron_voucher_request req = {
        .token_or_code = v->token, .ref = ref, .till = "till-1", .offline = at != v->issuer};
    struct patron_voucher_result res;
    int rc = patron_voucher_redeem(sh->s, &req, &res);
    if (v->accepted[at]) {
        CHECK(r, rc == PATRON_EREDEEMED, "store %d honoured voucher %d/%llu twice (%d)", sh->id,
              v->key_id, (unsigned long long)v->voucher_id, rc);
        return;
    }
    if (rc == PATRON_EREDEEMED) {
        /* redeemed at another store, which this store heard of from head office's pull-down */
        int elsewhere = 0;
        for (int s = 0; s < STORES; s++)
            elsewhere += s != at && v->accepted[s];
        CHECK(r, elsewhere > 0,
              "store %d refused voucher %d/%llu as redeemed, but no store accepted it: %s", sh->id,
              v->key_id, (unsigned long long)v->voucher_id, patron_store_detail(sh->s));
        return;
    }
    if (rc == PATRON_ELIMIT) {
        CHECK(r, at != v->issuer && sh->foreign_accepted >= OFFLINE_DAILY_COUNT,
              "store %d refused voucher %d/%llu for a cap it cannot have reached: %s", sh->id,
              v->key_id, (unsigned long long)v->voucher_id, patron_store_detail(sh->s));
        return;
    }
    CHECK(r, rc == 0, "store %d voucher %d/%llu (%s): %s", sh->id, v->key_id,
          (unsigned long long)v->voucher_id, req.offline ? "offline" : "online",
          patron_store_detail(sh->s));
    v->accepted[at] = 1;
    sh->foreign_accepted += at != v->issuer;
}

/* One sync in this process; `fault` (NULL: none) cuts the link as PATRON_SYNC_FAULT says. Returns
 * the sync's code. */
static int sync_here(struct run *r, struct shop *sh, const char *fault, char *detail, size_t len)
{
    patron_hq *h = NULL;
    struct patron_hq_sync_result res;
    int rc = patron_hq_connect(sh->url, &h, detail, len);
    if (rc == 0) {
        if (fault)
            setenv("PATRON_SYNC_FAULT", fault, 1);
        rc = patron_hq_sync(h, sh->s, 1 + (size_t)pick(r, 8), NULL, NULL, &res, detail, len);
        unsetenv("PATRON_SYNC_FAULT");
        patron_hq_close(h);
    }
    if (rc != 0)
        (void)!patron_outbox_sync_failed(sh->s, detail);
    return rc;
}

static void step_sync(struct run *r)
{
    char detail[512];
    struct shop *sh = &r->shops[pick(r, STORES)];
    int rc = sync_here(r, sh, NULL, detail, sizeof detail);
    CHECK(r, r->hq_down ? rc != 0 : rc == 0, "store %d sync with head office %s: %d %s", sh->id,
          r->hq_down ? "down" : "up", rc, detail);
}

/* The link is cut before or after head office's COMMIT of a chosen batch. */
static void step_sync_fault(struct run *r)
{
    char detail[512], fault[32];
    struct shop *sh = &r->shops[pick(r, STORES)];
    snprintf(fault, sizeof fault, "%s:%d", pick(r, 2) ? "after" : "before", 1 + pick(r, 2));
    int rc = sync_here(r, sh, fault, detail, sizeof detail);
    if (r->hq_down) {
        CHECK(r, rc != 0, "store %d synced with head office down", sh->id);
        return;
    }
    /* the fault fires only when the sync gets that far; with few rows pending it may not */
    if (rc != 0) {
        CHECK(r, strstr(detail, "PATRON_SYNC_FAULT") != NULL, "store %d sync: %s", sh->id, detail);
        r->faults_cut++;
    }
}

/* `patron sync --batch 1` killed with SIGKILL once it reported `acks` batches (or at its end). */
static void step_sync_kill(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    int acks = pick(r, 4), fds[2];
    CHECK(r, pipe(fds) == 0, "pipe");
    pid_t pid = fork();
    CHECK(r, pid >= 0, "fork");
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(getenv("PATRON_BIN"), "patron", "--db", sh->path, "--home", r->home, "--hq", sh->url,
              "sync", "--batch", "1", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    char line[512];
    int seen = 0;
    while (seen < acks && f && fgets(line, sizeof line, f))
        seen += strstr(line, "acknowledged up to") != NULL;
    kill(pid, SIGKILL);
    if (f)
        fclose(f);
    int status = 0;
    CHECK(r, waitpid(pid, &status, 0) == pid, "waitpid");
    r->kills += WIFSIGNALED(status);
}

static void step_hq_stop(struct run *r)
{
    if (r->hq_down)
        return;
    CHECK(r, pg_cluster_halt(r->pg, pick(r, 2) ? "immediate" : "fast") == 0, "pg_ctl stop");
    r->hq_down = 1;
    r->hq_stops++;
}

static void step_hq_start(struct run *r)
{
    if (!r->hq_down)
        return;
    CHECK(r, pg_cluster_resume(r->pg) == 0, "pg_ctl start");
    r->hq_down = 0;
}

/* A store's clock is wrong by up to two days either way (or right again). */
static void step_skew(struct run *r)
{
    struct shop *sh = &r->shops[pick(r, STORES)];
    sh->skew = pick(r, 3) == 0 ? 0 : (int64_t)pick(r, 4 * 86400) - 2 * 86400;
}

/* The schedule's vocabulary with its weights. "away" steps are a member's at another store than
 * the one they enrolled at: points earned in one store are spent in another. */
static const struct step_kind {
    const char *name;
    int weight;
    void (*run)(struct run *r);
} steps[] = {
    {"enrol", 10, step_enrol},
    {"sale", 24, step_sale},
    {"sale_away", 10, step_sale_away},
    {"refund", 5, step_refund},
    {"redeem", 8, step_redeem},
    {"redeem_away", 6, step_redeem_away},
    {"voucher", 12, step_voucher},
    {"sync", 10, step_sync},
    {"sync_fault", 5, step_sync_fault},
    {"sync_kill", 3, step_sync_kill},
    {"hq_stop", 2, step_hq_stop},
    {"hq_start", 4, step_hq_start},
    {"skew", 3, step_skew},
};
#define N_STEPS (sizeof steps / sizeof steps[0])

static const struct step_kind *choose(struct run *r)
{
    int total = 0;
    for (size_t i = 0; i < N_STEPS; i++)
        total += steps[i].weight;
    int x = pick(r, total);
    for (size_t i = 0; i < N_STEPS; i++)
        if ((x -= steps[i].weight) < 0)
            return &steps[i];
    return &steps[0];
}

/* ---- the invariants ---- */

struct outbox_walk {
    PGresult *res;
    int row, store_id;
    char why[512]; /* the first difference, "" when none */
};

/* One store row against head office's row at the same place (stops at the first difference). */
static int compare_row(const struct patron_outbox_row *row, void *ctx)
{
    struct outbox_walk *w = ctx;
    if (w->row >= PQntuples(w->res)) {
        snprintf(w->why, sizeof w->why,
                 "store %d's fact %lld (%s) is not at head office (it holds %d)", w->store_id,
                 (long long)row->store_seq, row->kind, PQntuples(w->res));
        return 1;
    }
    int64_t seq = strtoll(PQgetvalue(w->res, w->row, 0), NULL, 10);
    if (seq != row->store_seq || strcmp(PQgetvalue(w->res, w->row, 1), row->kind) != 0) {
        snprintf(w->why, sizeof w->why,
                 "store %d: head office's row %d is %lld %s, the store's is %lld %s", w->store_id,
                 w->row, (long long)seq, PQgetvalue(w->res, w->row, 1), (long long)row->store_seq,
                 row->kind);
        return 1;
    }
    w->row++;
    return 0;
}

/* Head office holds each store's outbox exactly: row by row, nothing more. */
static void check_exactly_once(struct run *r, PGconn *conn, struct shop *sh)
{
    char id[8];
    snprintf(id, sizeof id, "%d", sh->id);
    const char *params[] = {id};
    struct outbox_walk w = {.store_id = sh->id};
    w.res = PQexecParams(conn,
                         "SELECT store_seq, kind FROM facts WHERE store_id = $1::integer"
                         " ORDER BY store_seq",
                         1, NULL, params, NULL, NULL, 0);
    CHECK(r, PQresultStatus(w.res) == PGRES_TUPLES_OK, "facts: %s", PQerrorMessage(conn));
    int rc = patron_outbox_list(sh->s, 0, 1000000, compare_row, &w, NULL);
    int held = PQntuples(w.res);
    PQclear(w.res);
    CHECK(r, w.why[0] == '\0', "%s", w.why);
    CHECK(r, rc == 0, "store %d's outbox cannot be read", sh->id);
    CHECK(r, w.row == held, "head office holds %d facts of store %d, the store wrote %d", held,
          sh->id, w.row);
}

/* Balances: never below zero unless a refund's policy put them there; the ledger verifies.
 * Returns how many members are below zero. */
static int check_balances(struct run *r, struct shop *sh)
{
    struct patron_member m;
    struct patron_verify_result vr;
    int negative = 0;
    for (int i = 0; i < sh->n_members; i++) {
        CHECK(r, patron_member_by_card(sh->s, sh->members[i].card, &m) == 0, "card look-up");
        CHECK(r, m.points >= 0 || sh->members[i].may_be_negative,
              "store %d: member %lld has %lld points and no refund allowed it", sh->id,
              (long long)m.member_id, (long long)m.points);
        negative += m.points < 0;
    }
    CHECK(r, patron_ledger_verify(sh->s, &vr) == 0 && vr.ok, "store %d's ledger does not verify",
          sh->id);
    return negative;
}

static json_t *hq_json(struct run *r, const char *what, int *status)
{
    char out[1 << 16];
    int n = test_run_patron(out, sizeof out, "--json", "--home", r->home, "--hq", r->owner, "hq",
                            what, (char *)NULL);
    json_decref(r->json);
    r->json = json_loads(out, 0, NULL);
    CHECK(r, r->json != NULL, "hq %s printed no JSON (exit %d): %s", what, n, out);
    *status = n;
    return r->json;
}

/* The voucher accepted at several stores is a conflict naming exactly those stores. */
static void check_conflicts(struct run *r)
{
    int status = 0, expected = 0;
    json_t *o = hq_json(r, "conflicts", &status), *c;
    size_t i;
    CHECK(r, status == 0, "hq conflicts exited %d", status);
    for (int k = 0; k < r->n_vouchers; k++) {
        struct voucher *v = &r->vouchers[k];
        int n = 0, found = 0;
        char name[48];
        for (int s = 0; s < STORES; s++)
            n += v->accepted[s];
        if (n < 2)
            continue;
        expected++;
        /* the stores keep voucher ids as SQLite integers (signed), and so does head office */
        snprintf(name, sizeof name, "%d/%lld", v->key_id, (long long)(int64_t)v->voucher_id);
        json_array_foreach(json_object_get(o, "conflicts"), i, c)
        {
            const char *cv = json_string_value(json_object_get(c, "voucher"));
            if (!cv || strcmp(cv, name) != 0)
                continue;
            found = 1;
            json_t *uses = json_object_get(c, "uses"), *u;
            size_t j;
            CHECK(r, (int)json_array_size(uses) == n, "conflict %s names %zu uses, not %d", name,
                  json_array_size(uses), n);
            json_array_foreach(uses, j, u)
            {
                int sid = (int)json_integer_value(json_object_get(u, "store_id"));
                CHECK(r, sid >= 1 && sid <= STORES && v->accepted[sid - 1],
                      "conflict %s names store %d, which never accepted it", name, sid);
            }
        }
        CHECK(r, found, "voucher %s was honoured at %d stores but no conflict names it", name, n);
    }
    int listed = 0;
    json_array_foreach(json_object_get(o, "conflicts"), i, c) listed +=
        strcmp(json_string_value(json_object_get(c, "type")), "double_spend") == 0;
    r->double_spends = expected;
    CHECK(r, listed == expected, "head office lists %d double spends, the campaign made %d", listed,
          expected);
}

/* Head office projects every store's pending facts, as its owner: how many. */
static int64_t project_pending(struct run *r)
{
    PGconn *conn = PQconnectdb(r->owner);
    CHECK(r, PQstatus(conn) == CONNECTION_OK, "owner: %s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, "SELECT coalesce(sum(hq_project_pending(s, NULL)), 0)"
                                 " FROM hq_pending_stores() s");
    CHECK(r, PQresultStatus(res) == PGRES_TUPLES_OK, "projecting: %s", PQerrorMessage(conn));
    int64_t n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    PQfinish(conn);
    return n;
}

static void check_invariants(struct run *r)
{
    char detail[512];
    int negative = 0, status = 0;
    if (r->hq_down)
        step_hq_start(r);
    /* rounds of syncs until one in which no store had anything to ship or recorded anything
     * (a held sale a pull made known) and head office had nothing left to project: every pull of
     * that round saw every store's last fact. Each round starts with head office projecting what
     * the stores' rounds left pending (their backlogs go a batch a round), as a chain's head
     * office catches up between the stores' rounds. */
    for (int round = 0, busy = 1; busy; round++) {
        CHECK(r, round < 2 * STORES + 2, "the stores still ship after %d rounds of syncs", round);
        busy = project_pending(r) > 0;
        for (int i = 0; i < STORES; i++) {
            struct shop *sh = &r->shops[i];
            struct patron_outbox_sync st;
            int64_t before = 0, after = 0;
            CHECK(r,
                  patron_outbox_last(sh->s, &before) == 0 &&
                      patron_outbox_sync_get(sh->s, &st) == 0,
                  "store %d's outbox", sh->id);
            int rc = sync_here(r, sh, NULL, detail, sizeof detail);
            CHECK(r, rc == 0, "the final sync of store %d: %s", sh->id, detail);
            CHECK(r, patron_outbox_last(sh->s, &after) == 0, "store %d's outbox", sh->id);
            busy |= st.acked_seq != before || after != before;
        }
    }
    PGconn *conn = PQconnectdb(r->owner);
    CHECK(r, PQstatus(conn) == CONNECTION_OK, "owner: %s", PQerrorMessage(conn));
    for (int i = 0; i < STORES; i++) {
        check_exactly_once(r, conn, &r->shops[i]);
        negative += check_balances(r, &r->shops[i]);
    }
    PQfinish(conn);
    json_t *o = hq_json(r, "verify", &status);
    int ok = json_is_true(json_object_get(o, "ok"));
    int64_t overdrafts = json_integer_value(json_object_get(o, "overdrafts"));
    CHECK(r, status == 0 && ok, "patron hq verify failed (exit %d)", status);
    CHECK(r, overdrafts == negative,
          "head office counts %lld overdrafts, the stores hold %d members below zero",
          (long long)overdrafts, negative);
    check_conflicts(r);
}

/* ---- one seed ---- */

static void teardown(struct run *r)
{
    char sql[96], detail[256];
    json_decref(r->json);
    for (int i = 0; i < STORES; i++) {
        if (r->shops[i].s)
            patron_store_close(r->shops[i].s);
        if (r->shops[i].dir[0])
            test_rmtree(r->shops[i].dir);
    }
    if (r->hq_down && pg_cluster_resume(r->pg) == 0)
        r->hq_down = 0;
    if (r->db[0]) {
        patron_hq *h = NULL;
        char admin[512];
        pg_cluster_url(r->pg, "postgres", "postgres", NULL, admin, sizeof admin);
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", r->db);
        if (patron_hq_connect(admin, &h, detail, sizeof detail) == 0)
            (void)patron_hq_exec(h, sql, 0, NULL, detail, sizeof detail);
        patron_hq_close(h);
    }
}

/* Runs seed `seed`; 0 when every invariant held. */
static int run_seed(struct pg_cluster *pg, const char *home, uint64_t seed, int n_steps)
{
    struct run *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    r->seed = r->rng = seed;
    r->pg = pg;
    r->steps = n_steps;
    snprintf(r->home, sizeof r->home, "%s", home);
    int failed = setjmp(r->fail);
    if (!failed) {
        setup(r);
        for (r->step = 1; r->step <= r->steps; r->step++) {
            const struct step_kind *k = choose(r);
            r->step_name = k->name;
            r->now += 30 + pick(r, 600);
            k->run(r);
        }
        r->step_name = "invariants";
        check_invariants(r);
    }
    if (failed)
        fprintf(stderr,
                "chain_campaign: seed %llu FAILED at %s\n  replay: PATRON_BIN=%s %s --seed %llu "
                "--steps %d\n",
                (unsigned long long)seed, r->why, getenv("PATRON_BIN"), program,
                (unsigned long long)seed, n_steps);
    else if (!quiet)
        printf("seed %llu clean: %d steps, %lld links cut, %lld syncs killed, %lld head office "
               "stops, %d vouchers (%d double spends listed), %d sales away from home (%d held), "
               "%d rewards away from home, %d spends offline\n",
               (unsigned long long)seed, n_steps, (long long)r->faults_cut, (long long)r->kills,
               (long long)r->hq_stops, r->n_vouchers, r->double_spends, r->away_sales,
               r->held_sales, r->away_spends, r->offline_spends);
    fflush(stdout);
    teardown(r);
    free(r);
    return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t first = 1;
    long seeds = 1, seconds = 0, n_steps = 80;
    program = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            quiet = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "chain_campaign: %s needs a value\n", a);
            return 64;
        }
        if (strcmp(a, "--seed") == 0 || strcmp(a, "--first") == 0)
            first = strtoull(v, NULL, 10);
        else if (strcmp(a, "--seeds") == 0)
            seeds = strtol(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0)
            seconds = strtol(v, NULL, 10);
        else if (strcmp(a, "--steps") == 0)
            n_steps = strtol(v, NULL, 10);
        else {
            fprintf(stderr, "chain_campaign: unknown option %s\n", a);
            return 64;
        }
        i++;
    }
    if (!getenv("PATRON_BIN")) {
        fprintf(stderr, "chain_campaign: set PATRON_BIN to the patron program\n");
        return 64;
    }
    signal(SIGPIPE, SIG_IGN);
    struct pg_cluster pg;
    char home[256];
    if (pg_suite_start(&pg, "patron-campaign", home, sizeof home) != 0)
        return 1;
    time_t end = time(NULL) + seconds;
    long ran = 0, clean = 0;
    for (uint64_t seed = first;; seed++) {
        if (seconds > 0 ? time(NULL) >= end : ran >= seeds)
            break;
        int rc = run_seed(&pg, home, seed, (int)n_steps);
        ran++;
        clean += rc == 0;
        if (rc != 0 && seconds == 0)
            break;
    }
    pg_suite_stop(&pg, home);
    printf("chain campaign: %ld of %ld seeds ran clean (from seed %llu, %ld steps each)\n", clean,
           ran, (unsigned long long)first, n_steps);
    return clean == ran ? 0 : 1;
}
