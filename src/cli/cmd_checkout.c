/* SPDX-License-Identifier: MIT */
/* The checkout commands: `patron scan` (what the cashier sees), `patron sale` (earn points for
 * a sale) and `patron refund` (reverse a sale's points, whole or in part). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cli.h"
#include "patron/json.h"
#include "spend.h"

#define MAX_LINE_TEXT 160

static const char sale_usage[] = "patron sale CARD --ref R --total MINOR [--currency EUR] [--line "
                                 "SKU:CATEGORY:QTY:UNIT_MINOR]... "
                                 "[--key K] [--footer]";
static const char refund_usage[] =
    "patron refund --ref R [--return-ref RR] [--line SKU:QTY]... [--key K]";

static void scan_text(const struct patron_scan_result *r, char *buf, size_t cap)
{
    char date[16];
    size_t off = (size_t)snprintf(buf, cap, "%s - %lld points - %s\n", r->member.name,
                                  (long long)r->member.points, r->member.tier);
    if (r->expiring_points > 0 && off < cap) {
        cli_format_date(r->expiring_at, date, sizeof date);
        off += (size_t)snprintf(buf + off, cap - off, "  %lld points expire on %s\n",
                                (long long)r->expiring_points, date);
    }
    if (r->next_tier[0] && off < cap)
        off += (size_t)snprintf(buf + off, cap - off, "  %lld points to %s\n",
                                (long long)r->points_to_next_tier, r->next_tier);
    for (size_t i = 0; i < r->n_offers && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "  offer %lld: %s (%s) - %s\n",
                                (long long)r->offers[i].offer_id, r->offers[i].name,
                                r->offers[i].benefit, r->offers[i].why);
    for (size_t i = 0; i < r->n_rewards && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "  reward %lld: %s (%lld points)\n",
                                (long long)r->rewards[i].reward_id, r->rewards[i].name,
                                (long long)r->rewards[i].cost);
}

#ifdef PATRON_HAVE_HQ
#include "hq.h"

/* A card this store does not know, with a head office set: looked up there and kept. 0 when it
 * was; else the exit status, its sentence said. */
static int chain_lookup(struct cli *c, const char *card)
{
    char detail[768];
    int err = patron_hq_card_lookup_url(c->hq, c->store, card, detail, sizeof detail);
    if (err == 0)
        return 0;
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", detail);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", detail);
    return cli_exit_status(err);
}

/* A sale on a card this store does not know, with a head office set: looked up there and
 * recorded; when head office cannot say whose it is (the link is down, or the card's store has
 * not synced yet) and the card is another store's, the sale is held against the card (exit 0,
 * the sentence says so). -1 when the sale was recorded (into *r); else the exit status. */
static int sale_unknown_card(struct cli *c, const struct patron_sale *in,
                             struct patron_sale_result *r)
{
    char why[768], human[1024];
    struct patron_held_sale h;
    int err = patron_hq_card_lookup_url(c->hq, c->store, in->card, why, sizeof why);
    if (err == 0)
        return (err = patron_sale_record(c->store, in, r)) == 0
                   ? -1
                   : cli_fail(c, err, "sale not recorded");
    if ((err = patron_sale_hold(c->store, in, &h)) != 0) {
        fprintf(stderr, "patron: %s.\n", why);
        return cli_fail(c, err, "sale not recorded");
    }
    snprintf(human, sizeof human,
             "%s; the sale is kept and its %lld points are held until the card is known "
             "(the next sync)%s",
             why, (long long)h.points, h.replayed ? " [already held]" : "");
    json_t *o =
        json_pack("{s:b, s:I, s:s, s:i, s:I, s:b, s:s}", "held", 1, "held_id",
                  (json_int_t)h.held_id, "card", h.card, "card_store", h.card_store, "points_held",
                  (json_int_t)h.points, "replayed", h.replayed, "message", human);
    if (!o)
        return cli_fail(c, PATRON_ENOMEM, NULL);
    size_t end = strlen(human);
    if (end + 1 < sizeof human)
        memcpy(human + end, "\n", 2);
    return cli_emit(c, o, human);
}
#else
static int chain_lookup(struct cli *c, const char *card)
{
    (void)c;
    (void)card;
    return 0; /* no head office in this build: the store's own answer stands */
}

static int sale_unknown_card(struct cli *c, const struct patron_sale *in,
                             struct patron_sale_result *r)
{
    (void)in;
    (void)r;
    return cli_fail(c, PATRON_ENOCARD, "sale not recorded");
}
#endif

int cli_cmd_scan(struct cli *c, struct cli_args *a)
{
    const char *card = cli_positional(a);
    struct patron_scan_result r;
    char human[4096];
    int status, err;
    if (!card || a->argc != 0)
        return cli_usage(c, "patron scan CARD");
    if ((status = cli_open_store(c)) != 0)
        return status;
    json_t *o;
    err = patron_scan(c->store, card, &r);
    if (err == PATRON_ENOCARD && c->hq && c->hq[0] && (status = chain_lookup(c, card)) != 0)
        return status;
    if (err == PATRON_ENOCARD && c->hq && c->hq[0])
        err = patron_scan(c->store, card, &r); /* kept from head office */
    if (err != 0)
        return cli_fail(c, err, "scan refused");
    if ((err = patron_json_scan(&r, &o)) != 0)
        return cli_fail(c, err, NULL);
    scan_text(&r, human, sizeof human);
    return cli_emit(c, o, human);
}

/* Splits "a:b:c" in place into at most n fields; returns how many. */
static int split(char *text, char **fields, int n)
{
    int k = 0;
    for (char *p = text; k < n; k++) {
        fields[k] = p;
        char *colon = strchr(p, ':');
        if (!colon)
            return k + 1;
        *colon = '\0';
        p = colon + 1;
    }
    return k + 1; /* too many fields */
}

static int parse_sale_line(const char *text, char *storage, struct patron_sale_line *line)
{
    char *f[4];
    snprintf(storage, MAX_LINE_TEXT, "%s", text);
    if (strlen(text) >= MAX_LINE_TEXT || split(storage, f, 4) != 4)
        return -1;
    line->sku = f[0];
    line->category = f[1];
    /* Any integer: the library refuses what is out of range (exit 4), by the table of limits. */
    return cli_parse_int(f[2], INT64_MIN, INT64_MAX, &line->qty) == 0 &&
                   cli_parse_int(f[3], INT64_MIN, INT64_MAX, &line->unit_minor) == 0
               ? 0
               : -1;
}

int cli_cmd_sale(struct cli *c, struct cli_args *a)
{
    static char storage[PATRON_SALE_MAX_LINES][MAX_LINE_TEXT];
    struct patron_sale_line lines[PATRON_SALE_MAX_LINES];
    struct patron_sale in = {.lines = lines};
    struct patron_sale_result r;
    const char *total = cli_take(a, "--total"), *line, *key = cli_take(a, "--key");
    char default_key[96], human[256];
    int footer = cli_flag(a, "--footer"), status, err;
    int64_t footer_job = 0;
    in.ref = cli_take(a, "--ref");
    in.currency = cli_take(a, "--currency");
    while ((line = cli_take(a, "--line")) != NULL) {
        if (in.n_lines == PATRON_SALE_MAX_LINES ||
            parse_sale_line(line, storage[in.n_lines], &lines[in.n_lines]) != 0)
            return cli_usage(c, sale_usage);
        in.n_lines++;
    }
    in.card = cli_positional(a);
    if (!in.card || !in.ref || !total || a->argc != 0 ||
        cli_parse_int(total, INT64_MIN, INT64_MAX, &in.total_minor) != 0)
        return cli_usage(c, sale_usage);
    snprintf(default_key, sizeof default_key, "sale/%.80s", in.ref);
    in.idempotency_key = key ? key : default_key;
    if ((status = cli_open_store(c)) != 0 || (status = cli_check_templates(c)) != 0)
        return status;
    err = patron_sale_record(c->store, &in, &r);
    if (err == PATRON_ENOCARD && c->hq && c->hq[0]) {
        if ((status = sale_unknown_card(c, &in, &r)) >= 0)
            return status;
        err = 0; /* looked up at head office and recorded */
    }
    if (err != 0)
        return cli_fail(c, err, "sale not recorded");
    snprintf(human, sizeof human, "+%lld points (+%lld from offers), balance %lld, tier %s%s%s\n",
             (long long)r.points_earned, (long long)r.bonus_points, (long long)r.points, r.tier,
             r.tier_upgraded ? " (upgraded!)" : "", r.replayed ? " [already recorded]" : "");
    /* The member's footer under the till's receipt (not again for a replayed sale). */
    if (footer && !r.replayed &&
        (err = patron_receipt_footer_enqueue(c->store, in.card, r.points_earned + r.bonus_points,
                                             &footer_job)) != 0)
        return cli_fail(c, err, "the receipt footer was not queued");
    json_t *o;
    if ((err = patron_json_sale(&r, &o)) != 0)
        return cli_fail(c, err, NULL);
    if (footer_job)
        json_object_set_new(o, "footer_job", json_integer(footer_job));
    status = (r.n_coupons || footer_job) && !r.replayed ? cli_print_after(c, o, footer_job) : -1;
    return status >= 0 ? status : cli_emit(c, o, human);
}

static int parse_refund_line(const char *text, char *storage, struct patron_refund_line *line)
{
    char *f[2];
    snprintf(storage, MAX_LINE_TEXT, "%s", text);
    if (strlen(text) >= MAX_LINE_TEXT || split(storage, f, 2) != 2)
        return -1;
    line->sku = f[0];
    return cli_parse_int(f[1], 1, PATRON_QTY_MAX, &line->qty);
}

/* A refund's identity is its return reference: without --return-ref (and without --key) each
 * command is a new return, named RET- and 16 random hex digits. Returns 0 or PATRON_ECRYPTO. */
static int fresh_return_ref(char *buf, size_t cap)
{
    unsigned char rnd[8];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        return PATRON_ECRYPTO;
    int off = snprintf(buf, cap, "RET-");
    for (size_t i = 0; i < sizeof rnd; i++)
        off += snprintf(buf + off, cap - (size_t)off, "%02x", rnd[i]);
    return 0;
}

int cli_cmd_refund(struct cli *c, struct cli_args *a)
{
    static char storage[PATRON_SALE_MAX_LINES][MAX_LINE_TEXT];
    struct patron_refund_line lines[PATRON_SALE_MAX_LINES];
    struct patron_refund in = {.lines = lines};
    struct patron_refund_result r;
    const char *line, *key = cli_take(a, "--key");
    char default_key[128], fresh[32], human[256];
    int status, err;
    in.ref = cli_take(a, "--ref");
    in.return_ref = cli_take(a, "--return-ref");
    while ((line = cli_take(a, "--line")) != NULL) {
        if (in.n_lines == PATRON_SALE_MAX_LINES ||
            parse_refund_line(line, storage[in.n_lines], &lines[in.n_lines]) != 0)
            return cli_usage(c, refund_usage);
        in.n_lines++;
    }
    if (!in.ref || a->argc != 0)
        return cli_usage(c, refund_usage);
    if (!in.return_ref && !key) {
        if ((err = fresh_return_ref(fresh, sizeof fresh)) != 0)
            return cli_fail(c, err, "no randomness for the return reference");
        in.return_ref = fresh;
    }
    /* The default key names the return, so a retry with the same --return-ref is not applied
     * twice; a --key alone names the refund by itself. */
    snprintf(default_key, sizeof default_key, "refund/%.100s", in.return_ref ? in.return_ref : "");
    in.idempotency_key = key ? key : default_key;
    if ((status = cli_open_store(c)) != 0 || (status = cli_check_templates(c)) != 0)
        return status;
    /* what it takes back is claimed at head office first (spend.h), never refused for it */
    struct cli_spend_claim claim = {0};
    cli_refund_claim(c, &in, &claim);
    err = patron_refund_record(c->store, &in, &r);
    cli_spend_claim_end(&claim, err);
    if (err != 0)
        return cli_fail(c, err, "refund not recorded");
    snprintf(
        human, sizeof human, "-%lld points, balance %lld%s%s%s%s\n", (long long)r.points_reversed,
        (long long)r.points, r.shortfall ? " (some points were already spent)" : "",
        r.return_ref[0] ? ", return " : "", r.return_ref, r.replayed ? " [already recorded]" : "");
    json_t *o;
    if ((err = patron_json_refund(&r, &o)) != 0)
        return cli_fail(c, err, NULL);
    status = r.rewards_returned && !r.replayed ? cli_print_after(c, o, 0) : -1;
    return status >= 0 ? status : cli_emit(c, o, human);
}
