/* SPDX-License-Identifier: MIT */
/* `patron member enroll|show|find` and `patron card replace`: members, their cards and what the
 * shop holds about them. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"

static const char member_usage[] =
    "patron member enroll --name N [--email E] [--phone P] [--birthday YYYY-MM-DD] "
    "[--consent marketing] [--greet-by-name] [--referred-by CODE] | show CARD | find --phone P";

static int member_enroll(struct cli *c, struct cli_args *a)
{
    struct patron_enrollment in = {0};
    struct patron_member m;
    const char *consent;
    in.name = cli_take(a, "--name");
    in.email = cli_take(a, "--email");
    in.phone = cli_take(a, "--phone");
    in.birthday = cli_take(a, "--birthday");
    in.consent_source = cli_take(a, "--consent-source");
    if ((consent = cli_take(a, "--consent")) != NULL) {
        if (strcmp(consent, "marketing") != 0)
            return cli_usage(c, "--consent takes 'marketing'");
        in.consent_marketing = 1;
    }
    in.greet_by_name = cli_flag(a, "--greet-by-name");
    const char *referred_by = cli_take(a, "--referred-by");
    if (!in.name || a->argc != 0)
        return cli_usage(c, member_usage);
    int err = referred_by ? patron_member_enroll_referred(c->store, &in, referred_by, &m)
                          : patron_member_enroll(c->store, &in, &m);
    if (err != 0)
        return cli_fail(c, err, "cannot enroll");
    char human[256];
    json_t *o;
    if ((err = patron_json_enrollment(&m, &o)) != 0)
        return cli_fail(c, err, NULL);
    snprintf(human, sizeof human, "Welcome, %s! Card %s (member %lld).\n", m.name, m.card,
             (long long)m.member_id);
    return cli_emit(c, o, human);
}

/* What an imported member brought, as "imported" (patron_json_import_facts). */
static int member_imported(struct cli *c, const struct patron_member *m, json_t *o)
{
    struct patron_import_facts f;
    json_t *imp;
    int err = patron_import_member_facts(c->store, m->member_id, &f);
    if (err != 0 || !f.batch[0] || (err = patron_json_import_facts(&f, &imp)) != 0)
        return err;
    json_object_set_new(o, "imported", imp);
    return 0;
}

static int member_print(struct cli *c, const struct patron_member *m)
{
    char human[512], code[PATRON_REFERRAL_CODE_CHARS + 1] = "";
    json_t *o;
    int err = patron_json_member(m, &o);
    if (err != 0)
        return cli_fail(c, err, NULL);
    if (!m->card_blocked && patron_referral_code(c->store, m->card, code) == 0)
        json_object_set_new(o, "referral_code", json_string(code));
    if ((err = member_imported(c, m, o)) != 0)
        return json_decref(o), cli_fail(c, err, NULL);
    snprintf(human, sizeof human, "%s (member %lld), card %s%s\n%lld points, tier %s\n%s%s%s",
             m->name, (long long)m->member_id, m->card, m->card_blocked ? " (blocked)" : "",
             (long long)m->points, m->tier, code[0] ? "referral code " : "", code,
             code[0] ? "\n" : "");
    return cli_emit(c, o, human);
}

int cli_cmd_member(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    struct patron_member m;
    int status, err;
    if (!sub)
        return cli_usage(c, member_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "enroll") == 0)
        return member_enroll(c, a);
    if (strcmp(sub, "show") == 0) {
        const char *card = cli_positional(a);
        if (!card || a->argc != 0)
            return cli_usage(c, member_usage);
        if ((err = patron_member_by_card(c->store, card, &m)) != 0)
            return cli_fail(c, err, "cannot show the member");
        return member_print(c, &m);
    }
    if (strcmp(sub, "find") == 0) {
        const char *phone = cli_take(a, "--phone");
        if (!phone || a->argc != 0)
            return cli_usage(c, member_usage);
        if ((err = patron_member_by_phone(c->store, phone, &m)) != 0)
            return cli_fail(c, err, "no member found");
        return member_print(c, &m);
    }
    return cli_usage(c, member_usage);
}

/* A paper loyalty card: the number as an EAN-13 barcode and as a QR code. */
static int card_print(struct cli *c, const char *card)
{
    struct patron_member m;
    struct patron_store_info store;
    char since[16];
    int64_t job;
    int err = cli_check_templates(c);
    if (err != 0)
        return err;
    err = patron_member_by_card(c->store, card, &m);
    if (err != 0 || (err = patron_store_info(c->store, &store)) != 0)
        return cli_fail(c, err, "cannot print the card");
    if (m.card_blocked)
        return cli_fail(c, PATRON_EBLOCKED, "cannot print the card");
    cli_format_date(m.created_at, since, sizeof since);
    struct patron_receipt_var vars[] = {
        {"store.name", store.name},
        {"member.name", m.name},
        {"card.number", m.card},
        {"member.since", since},
    };
    if ((err = patron_print_enqueue(c->store, "member-card", vars, sizeof vars / sizeof vars[0],
                                    &job)) != 0)
        return cli_fail(c, err, "cannot queue the card");
    json_t *o = json_pack("{s:s, s:I}", "card", m.card, "print_job", (json_int_t)job);
    int status = cli_print_after(c, o, job);
    return status >= 0 ? status : cli_emit(c, o, "Card printed.\n");
}

int cli_cmd_card(struct cli *c, struct cli_args *a)
{
    static const char usage[] =
        "patron card replace CARD | print CARD | wallet CARD --apple FILE.pkpass | --google | push";
    const char *sub = cli_positional(a), *card = cli_positional(a);
    char fresh[PATRON_CARD_DIGITS + 1], human[128];
    int status, err;
    if (sub && card && strcmp(sub, "wallet") == 0)
        return cli_card_wallet(c, card, a);
    if (sub && !card && strcmp(sub, "push") == 0)
        return cli_card_push(c, a);
    if (!sub || !card || a->argc != 0)
        return cli_usage(c, usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "print") == 0)
        return card_print(c, card);
    if (strcmp(sub, "replace") != 0)
        return cli_usage(c, usage);
    if ((err = patron_card_replace(c->store, card, fresh)) != 0)
        return cli_fail(c, err, "cannot replace the card");
    snprintf(human, sizeof human, "Card %s is blocked; the new card is %s.\n", card, fresh);
    return cli_emit(c, json_pack("{s:s, s:s}", "blocked", card, "card", fresh), human);
}
