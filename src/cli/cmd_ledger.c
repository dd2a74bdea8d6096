/* SPDX-License-Identifier: MIT */
/* `patron ledger verify|expire|adjust`: prove the books balance, run expiry, and make a
 * manager-approved correction (a debit, with a head office set, claimed there first). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"
#include "spend.h"

static const char ledger_usage[] =
    "patron ledger verify | expire [--dry-run] [--yes] | adjust CARD --points N --reason R "
    "--manager NAME [--key K]";

static int ledger_verify(struct cli *c)
{
    struct patron_verify_result r;
    char human[512];
    int err = patron_ledger_verify(c->store, &r);
    if (err != 0)
        return cli_fail(c, err, "cannot verify the ledger");
    if (r.ok)
        snprintf(human, sizeof human, "Ledger OK: %lld members checked, the program balances.\n",
                 (long long)r.members_checked);
    else
        snprintf(human, sizeof human, "LEDGER MISMATCH: %s.\n", r.first_problem);
    json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "ok", r.ok, "members_checked",
                          (json_int_t)r.members_checked, "accounts_bad", (json_int_t)r.accounts_bad,
                          "lots_bad", (json_int_t)r.lots_bad, "program_sum",
                          (json_int_t)r.program_sum, "seq_gaps", (json_int_t)r.seq_gaps);
    json_object_set_new(o, "outbox_gaps", json_integer((json_int_t)r.outbox_gaps));
    json_object_set_new(o, "outbox_missing", json_integer((json_int_t)r.outbox_missing));
    if (!r.ok)
        json_object_set_new(o, "problem", json_string(r.first_problem));
    cli_emit(c, o, human);
    return r.ok ? CLI_EXIT_OK : CLI_EXIT_OTHER;
}

static json_t *preview_json(const struct patron_expiry_preview *p)
{
    json_t *o =
        json_pack("{s:b, s:I, s:I, s:I, s:b}", "dry_run", 1, "points_to_expire",
                  (json_int_t)p->points, "lots_to_expire", (json_int_t)p->lots, "members_affected",
                  (json_int_t)p->members, "clock_ahead", p->clock_ahead);
    json_object_set_new(o, "now", patron_json_time(p->now));
    json_object_set_new(o, "last_recorded_at", patron_json_time(p->last_recorded_at));
    return o;
}

/* Expiry at a clock more than a day past the store's last recorded time (a mistyped --now, a
 * wrong system clock) could take every balance; it runs only with --yes. --dry-run shows. */
static int expire_guard(struct cli *c, int yes, int dry_run)
{
    struct patron_expiry_preview p;
    char human[512], now[32], last[32];
    int err = patron_ledger_expire_preview(c->store, &p);
    if (err != 0)
        return cli_fail(c, err, "expiry did not run");
    cli_format_time(p.now, now, sizeof now);
    cli_format_time(p.last_recorded_at, last, sizeof last);
    if (dry_run) {
        snprintf(human, sizeof human,
                 "Would expire %lld points from %lld lots of %lld members at %s "
                 "(last recorded %s). Nothing changed.\n",
                 (long long)p.points, (long long)p.lots, (long long)p.members, now,
                 p.last_recorded_at ? last : "never");
        return cli_emit(c, preview_json(&p), human);
    }
    if (!p.clock_ahead || yes)
        return -1;
    snprintf(human, sizeof human,
             "the clock (%s) is more than a day past the store's last recorded time (%s); expiry "
             "would take %lld points from %lld members. Check --now and the system clock, then "
             "run again with --yes (or --dry-run to see it)",
             now, last, (long long)p.points, (long long)p.members);
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "error", "ECONFIRM", "message", human,
                              "points_to_expire", (json_int_t)p.points, "members_affected",
                              (json_int_t)p.members);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", human);
    return CLI_EXIT_REFUSED;
}

static int ledger_expire(struct cli *c, struct cli_args *a)
{
    struct patron_expiry_result r;
    char human[256];
    int yes = cli_flag(a, "--yes"), dry_run = cli_flag(a, "--dry-run"), status;
    if (a->argc)
        return cli_usage(c, ledger_usage);
    if ((status = expire_guard(c, yes, dry_run)) >= 0)
        return status;
    int err = patron_ledger_expire(c->store, &r);
    if (err != 0)
        return cli_fail(c, err, "expiry did not run");
    snprintf(human, sizeof human, "%lld points expired from %lld lots; %lld tiers reviewed.\n",
             (long long)r.points_expired, (long long)r.lots_expired,
             (long long)r.members_downgraded);
    return cli_emit(c,
                    json_pack("{s:I, s:I, s:I}", "points_expired", (json_int_t)r.points_expired,
                              "lots_expired", (json_int_t)r.lots_expired, "tiers_reviewed",
                              (json_int_t)r.members_downgraded),
                    human);
}

static int ledger_adjust(struct cli *c, struct cli_args *a)
{
    struct patron_adjustment in = {0};
    struct patron_adjust_result r;
    const char *points = cli_take(a, "--points");
    char default_key[160], human[128];
    in.reason = cli_take(a, "--reason");
    in.manager = cli_take(a, "--manager");
    in.idempotency_key = cli_take(a, "--key");
    in.card = cli_positional(a);
    if (!in.card || !points || a->argc != 0 ||
        cli_parse_int(points, INT64_MIN, INT64_MAX, &in.points) != 0)
        return cli_usage(c, ledger_usage);
    if (!in.idempotency_key) {
        snprintf(default_key, sizeof default_key, "adjust/%.20s/%lld/%.40s", in.card,
                 (long long)in.points, in.reason ? in.reason : "");
        in.idempotency_key = default_key;
    }
    /* a debit is a spend: claimed at head office first, as `reward redeem` (spend.h) */
    struct cli_spend_claim claim = {0};
    int64_t debit = in.points < 0 && in.points > INT64_MIN ? -in.points : 0;
    int status = cli_spend_claim(c, in.card, debit, in.idempotency_key, &claim);
    if (status != 0)
        return status;
    int err = patron_ledger_adjust(c->store, &in, &r);
    cli_spend_claim_end(&claim, err);
    if (err != 0)
        return cli_fail(c, err, "adjustment refused");
    snprintf(human, sizeof human, "Adjusted by %+lld points; balance %lld.\n", (long long)in.points,
             (long long)r.points);
    return cli_emit(c,
                    json_pack("{s:I, s:I, s:b}", "entry_id", (json_int_t)r.entry_id, "points",
                              (json_int_t)r.points, "replayed", r.replayed),
                    human);
}

int cli_cmd_ledger(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, ledger_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "verify") == 0)
        return a->argc ? cli_usage(c, ledger_usage) : ledger_verify(c);
    if (strcmp(sub, "expire") == 0)
        return ledger_expire(c, a);
    if (strcmp(sub, "adjust") == 0)
        return ledger_adjust(c, a);
    return cli_usage(c, ledger_usage);
}
