/* SPDX-License-Identifier: MIT */
/* The help table of the `patron` program: every command's summary, forms and options with what
 * each means, and the nearest-name search that turns a typo into a suggestion. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "help.h"

#define END                                                                                        \
    {                                                                                              \
        NULL, NULL                                                                                 \
    }

static const struct cli_option_help global_options[] = {
    {"--db PATH", "the store's file (default $PATRON_HOME/patron.db)"},
    {"--home DIR", "the data folder (default $PATRON_HOME, else $XDG_DATA_HOME/patron, else "
                   "~/.local/share/patron): patron.db, patron.conf, receipts/, prints/"},
    {"--json", "print one JSON object on stdout (errors too: {\"error\", \"message\"})"},
    {"--now ISO8601", "a fixed clock, e.g. 2026-11-26T09:30:00Z (tests and demos)"},
    {"--printer SPEC", "auto (default), usb, usb:VID:PID, file:PATH, virtual:DIR or none"},
    {"--printer-profile NAME", "the printer's paper and code page profile (default auto)"},
    {"--listen HOST:PORT", "where `patron serve` listens (default 127.0.0.1:8420)"},
    {"--tls-cert FILE", "`patron serve` speaks HTTPS with this certificate (PEM)"},
    {"--tls-key FILE", "and this private key (PEM)"},
    {"--hq URL", "the head office's PostgreSQL (postgresql://... or key=value words); also "
                 "$PATRON_HQ or `hq =` in patron.conf"},
    {"--wallet-pass-cert FILE", "Apple Wallet: the pass type certificate (PEM); also "
                                "$PATRON_WALLET_PASS_CERT or `wallet_pass_cert =` in patron.conf"},
    {"--wallet-pass-key FILE", "Apple Wallet: its private key (PEM, mode 0600)"},
    {"--wallet-wwdr-cert FILE", "Apple Wallet: Apple's WWDR intermediate certificate (PEM)"},
    {"--wallet-pass-type-id ID", "Apple Wallet: the pass type id (pass.com.example.loyalty)"},
    {"--wallet-team-id ID", "Apple Wallet: the Apple developer team id"},
    {"--wallet-apns-url URL", "Apple's push service for pass updates (default "
                              "https://api.push.apple.com)"},
    {"--public-url URL", "the service's public HTTPS URL that phones reach: Apple Wallet passes "
                         "carry it and become updatable"},
    {"--wallet-google-issuer ID", "Google Wallet: the issuer id"},
    {"--wallet-google-key FILE", "Google Wallet: the service account's RSA private key (PEM, "
                                 "mode 0600)"},
    {"--wallet-google-email E", "Google Wallet: the service account's e-mail"},
    {"--till NAME", "write as this registered till, with its idempotency keys and code lock-out "
                    "(default: the local program)"},
    {"--help, -h", "this help; `patron help CMD` or `patron CMD --help` for one command"},
    {"--version", "the program's version"},
    END,
};

static const struct cli_option_help init_options[] = {
    {"--store-id N", "the store's number, 1 to 65535, written into every voucher (default 1)"},
    {"--store-name S", "the shop's name, printed on coupons and cards"},
    END,
};

static const struct cli_option_help member_options[] = {
    {"--name N", "enroll: the member's name (required)"},
    {"--email E", "enroll: e-mail address"},
    {"--phone P", "enroll: phone number; `find --phone` looks a member up by it"},
    {"--birthday YYYY-MM-DD", "enroll: date of birth, for birthday offers"},
    {"--consent marketing", "enroll: the member agrees to marketing messages"},
    {"--consent-source S", "enroll: where that consent was given (counter, web...)"},
    {"--referred-by CODE", "enroll: the referral code of the member who brought them"},
    {"--greet-by-name", "enroll: the member agrees that the customer display greets them by "
                        "first name (asked at enrolment; off unless given)"},
    {"--marketing yes|no", "consent: give or withdraw marketing consent"},
    {"--source S", "consent: where the member said so"},
    {"--by WHO", "consent, erase: who made the change (recorded)"},
    {"--consenting", "export-segment: only members who consented (required)"},
    {"--csv", "export-segment: CSV output (required)"},
    {"--tier T", "export-segment: only members of this tier"},
    {"--lapsed-days D", "export-segment: only members with no visit in D days"},
    END,
};

static const struct cli_option_help no_options[] = {END};

static const struct cli_option_help card_options[] = {
    {"--apple FILE.pkpass", "wallet: write the Apple Wallet pass there (the wallet_* settings)"},
    {"--google", "wallet: print the \"Save to Google Wallet\" link (the wallet_google_* settings)"},
    END,
};

static const struct cli_option_help sale_options[] = {
    {"--ref R", "the till's receipt number; one sale per ref (required)"},
    {"--total MINOR", "the sale's total in minor units, a whole number: 46.50 EUR is 4650 "
                      "(required)"},
    {"--currency EUR", "ISO 4217 code; must be the program's currency"},
    {"--line SKU:CATEGORY:QTY:UNIT_MINOR", "a basket line (repeat it), for category rules and "
                                           "offers; unit price in minor units"},
    {"--key K", "idempotency key: the same key answers the first result again"},
    {"--footer", "print the member's footer (points, offers) under the till's receipt"},
    END,
};

static const struct cli_option_help refund_options[] = {
    {"--ref R", "the sale's receipt number (required)"},
    {"--return-ref RR",
     "the return receipt's number, unique in the store; the same one again "
     "answers the first refund (default: a new one, so each command is a refund)"},
    {"--line SKU:QTY", "refund only these lines (repeat it); without it the whole sale"},
    {"--key K", "idempotency key: the same key answers the first result again"},
    END,
};

static const struct cli_option_help reward_options[] = {
    {"--name N", "add: what the member gets, as printed"},
    {"--cost POINTS", "add: the points it costs, a whole number"},
    {"--kind amount|percent|item|points", "add: the kind of benefit"},
    {"--value V", "add: minor units off (amount), percent, item number, or bonus points"},
    {"--valid-days D", "add: how long the coupon's voucher is valid, 1 to 3650 days"},
    {"--key K", "redeem: idempotency key (default: a fresh one, a new redemption each time)"},
    END,
};

static const struct cli_option_help voucher_options[] = {
    {"--ref R", "redeem: the till's receipt number (required)"},
    {"--key K", "redeem: idempotency key: the same key answers the first result again"},
    {"--card CARD", "check, redeem: the member's card, for vouchers bound to a member"},
    {"--offline", "check, redeem: the till cannot reach head office"},
    {"--member ID", "list: only this member's vouchers"},
    {"--limit N", "list: at most N vouchers, 1 to 1000 (default 50)"},
    {"--reason TEXT", "void: why (recorded)"},
    {"--by WHO", "void: who voided it (recorded)"},
    END,
};

static const struct cli_option_help key_options[] = {
    {"--key-id N", "rotate, trust: the key's number, 1 to 65535 (default: the next free one)"},
    {"--partner NAME", "trust: whose key it is (required)"},
    {"--chain CHAIN_ID", "trust: the chain the key signs for (default: this store's chain)"},
    END,
};

static const struct cli_option_help ledger_options[] = {
    {"--points N", "adjust: points to add (negative to take away)"},
    {"--reason R", "adjust: why (required, recorded)"},
    {"--manager NAME", "adjust: the manager who allowed it (required, recorded)"},
    {"--key K", "adjust: idempotency key: the same key answers the first result again"},
    {"--dry-run", "expire: say how many points and members it would touch, change nothing"},
    {"--yes", "expire: go ahead although the clock is more than a day past the store's last "
              "record"},
    END,
};

static const struct cli_option_help import_options[] = {
    {"--format F", "members: which program wrote the file, for its column names: generic "
                   "(card, phone, email, name, birthday, consent, consent_date, points, "
                   "expires, ref, joined, tier, lifetime_points), square, smile, odoo or "
                   "open-loyalty (default generic)"},
    {"--map COL=FIELD", "members: the file's column COL holds FIELD (one of the generic names "
                        "or ignore); may be repeated"},
    {"--mode add|set", "members: add the file's points to a matched member's balance, or set "
                       "the balance to them (default add)"},
    {"--batch ID", "members: the batch's name; its points post against the account "
                   "migration:ID and a batch is imported once (default: from the file's "
                   "SHA-256)"},
    {"--dry-run", "members: check and count everything, write nothing, print the same report"},
    {"--skip-errors", "members: import the good rows; bad ones go to FILE.rejected.csv "
                      "(default: one bad row imports nothing)"},
    END,
};

static const struct cli_option_help printq_options[] = {
    {"--all", "queue: also the jobs already printed"},
    END,
};

static const struct cli_option_help program_options[] = {
    {"--by WHO", "who made the change (recorded with the time)"},
    END,
};

static const struct cli_option_help serve_options[] = {
    {"--listen HOST:PORT", "where to listen (default 127.0.0.1:8420; port 0 picks a free one)"},
    {"--tls-cert FILE", "speak HTTPS with this certificate (PEM), with --tls-key"},
    {"--tls-key FILE", "the certificate's private key (PEM)"},
    {"--port-file FILE", "write the port listened on into FILE"},
    {"--max-connections N", "at most N connections at once, 1 to 1000 (default 64)"},
    {"--timeout SECONDS", "close a connection idle this long, 1 to 3600 (default 30)"},
    {"--request-timeout SECONDS", "a request's headers and body must arrive within this, 1 to "
                                  "3600 (default 5)"},
    {"--batch-max N", "group at most N writes in one commit, 1 to 1024 (default 64)"},
    {"--busy-timeout SECONDS", "how long a write waits for the database while another program "
                               "holds its lock, 1 to 3600 (default 5; then 503)"},
    {"--read-handles N", "database handles for reads, 1 to 32 (default 4)"},
    {"--cashier-refund-limit POINTS", "a cashier till may refund at most this many points "
                                      "(default 1000)"},
    {"--webhook-poll SECONDS", "how often due webhook retries are looked for; new events are "
                               "sent at once (default 5)"},
    {"--webhook-timeout SECONDS", "one webhook delivery's time limit (default 10)"},
    {"--print-poll SECONDS", "retry queued print jobs this often, 1 to 3600 (default 5)"},
    {"--sync-interval SECONDS", "with --hq, ship the outbox to head office soon after each "
                                "commit, and sync whole (ship, then pull) this often, 1 to 3600 "
                                "(default 5)"},
    {"--hq-links N", "with --hq, keep at most N head office links open for online claims, 1 to "
                     "64 (default 4)"},
    {"--hq URL", "(global) the store's own head office URL: a thread ships the outbox there"},
    {"--display-idle SECONDS", "the customer displays clear, dim and show the welcome this long "
                               "after the last scan, sale or redemption, 1 to 3600 (default 20)"},
    {"--log-requests", "log one line per request on stderr"},
    {"--web-root DIR", "serve the browser app from DIR (web/) instead of the copy built in"},
    {"--session-ttl SECONDS", "a browser session lasts this long, 1 to 2592000 (default 43200)"},
    {"--locale TAG", "the screens' language and number format, e.g. en-GB (default en-GB)"},
    {"--demo", "make and seed a demo store if needed, and print a fresh cashier token"},
    {"--routes", "list the API's routes and roles, then exit"},
    {"--printer SPEC", "(global) the printer coupons go to"},
    {"--printer-profile NAME", "(global) the printer's profile"},
    END,
};

static const struct cli_option_help sync_options[] = {
    {"--hq URL", "(global) the store's own head office URL (its role, password file)"},
    {"--batch N", "rows per head office transaction, 1 to 100000 (default 10000; a batch also "
                  "ends at 4 MiB of rows)"},
    END,
};

static const struct cli_option_help webhook_options[] = {
    {"--events LIST", "add: the events sent, comma-separated (member.enrolled, points.earned, "
                      "points.refunded, points.expired, reward.redeemed, voucher.issued, "
                      "voucher.redeemed, tier.changed, feedback.received, goodwill.issued, "
                      "member.erased), or * for all (required)"},
    {"--secret", "add, rotate: sign with HMAC-SHA256 (v1); the whsec_ secret is shown once "
                 "(default)"},
    {"--ed25519", "add, rotate: sign with Ed25519 (v1a); the receiver gets the whpk_ public key"},
    {"--personal", "add: the endpoint may receive name, e-mail and phone (else they are left out)"},
    {"--overlap SECONDS", "rotate: how long the old keys keep signing beside the new one "
                          "(default 86400)"},
    {"--webhook ID", "deliveries: only this endpoint's; retry: every undelivered delivery of "
                     "this endpoint, which is enabled again"},
    {"--status S", "deliveries: only queued, delivered or failed ones"},
    {"--limit N", "deliveries: at most N, newest first (default 50)"},
    END,
};

static const struct cli_option_help hq_options[] = {
    {"--hq URL", "(global) the head office's PostgreSQL URL, as its owner for these commands"},
    {"--name NAME", "store add: the store's name (required)"},
    {"--password-file FILE", "store add: where the store role's password goes, mode 0600 "
                             "(default $PATRON_HOME/hq-store-ID.pgpass)"},
    {"--host NAME", "tls init: head office's host name as stores reach it (its server "
                    "certificate's name); store add: the host in the store's URL (off loopback "
                    "the store gets a client certificate: run `hq tls init` first)"},
    {"--csv", "report: CSV instead of aligned text"},
    {"--svg FILE", "report: also draw the chart into FILE (liability, redemptions, stores)"},
    {"--name N", "reward add: the reward's name (stores match published rewards by name)"},
    {"--cost POINTS", "reward add: what it costs in points"},
    {"--kind K", "reward add: amount, percent, item or points"},
    {"--value V", "reward add: minor units, percent, SKU number or points, by kind"},
    {"--valid-days D", "reward add: how long its voucher is valid (1-3650, default 30)"},
    {"--partner NAME", "key add: who holds the private key (another store or a partner shop)"},
    {"--key-id N", "key add: the key id its vouchers carry (default: from the file name "
                   "key-N.pub.pem)"},
    {"--chain CHAIN_ID",
     "key add: a partner's chain (32 hex digits); none for this chain's stores"},
    END,
};

static const struct cli_option_help terminal_options[] = {
    {"--role cashier|manager|admin", "add: what the till may do (required)"},
    {"--profile epson-dm-d|cd5220",
     "display: the display's command set (ESC/POS of Epson DM-D class, or CD5220); default "
     "epson-dm-d"},
    END,
};

static const struct cli_option_help scanner_options[] = {
    {"--count N", "test: stop after N scans (default: until Ctrl-C)"},
    END,
};

static const struct cli_option_help offer_options[] = {
    {"--name N", "add: the offer's name, as shown to the cashier (required)"},
    {"--benefit bonus:POINTS|multiplier:X|reward:ID", "add: what the member receives (required)"},
    {"--tier T", "add: only members of this tier"},
    {"--category C", "add: only members who bought category C, with --within-days"},
    {"--within-days D", "add: ... in the last D days"},
    {"--birthday-month", "add: only in the member's birthday month"},
    {"--lapsed-days D", "add: only members with no visit in D days"},
    {"--first-visit", "add: only on the member's first sale"},
    {"--segment S", "add: only members of segment S (see `offer segment`)"},
    {"--min-basket MINOR", "add: only baskets of at least this total, in minor units"},
    {"--sku SKU", "add: only baskets with this item"},
    {"--basket-category C", "add: only baskets with an item of category C"},
    {"--exclusive", "add: no other offer applies with this one"},
    {"--from DATE", "add: valid from (ISO 8601)"},
    {"--to DATE", "add: valid through this day (ISO 8601)"},
    {"--limit-per-member N", "add: at most N times per member"},
    {"--limit-total N", "add: at most N times in all"},
    {"--limit-per-day N", "add: at most N times a day"},
    {"--all", "list: also ended offers"},
    {"--by WHO", "add, end: who did it (recorded)"},
    END,
};

static const struct cli_option_help goodwill_options[] = {
    {"--reward ID", "the reward given (required)"},
    {"--complaint TEXT", "what went wrong (required, recorded)"},
    {"--manager NAME", "the manager who gives it (required, recorded)"},
    {"--key K", "idempotency key (default: made from the card and complaint)"},
    END,
};

static const struct cli_option_help feedback_options[] = {
    {"--score 1-5", "the member's verdict, 1 (bad) to 5 (very good) (required)"},
    {"--comment TEXT", "what they said"},
    {"--ref SALE_REF", "the sale it is about"},
    END,
};

static const struct cli_option_help report_options[] = {
    {"--csv", "CSV instead of a table"},
    {"--svg FILE", "also draw the report as an SVG chart into FILE"},
    {"--from DATE", "from this day (ISO 8601)"},
    {"--to DATE", "up to this day, exclusive (ISO 8601)"},
    {"--months N", "how many months back"},
    {"--cohorts N", "retention: how many monthly cohorts"},
    {"--limit N", "at most N rows"},
    END,
};

static const struct cli_command_help commands[] = {
    {"init", "create the store (safe to run twice)", "patron init [--store-id N] [--store-name S]",
     init_options},
    {"member", "members and what the shop holds about them",
     "patron member enroll --name N [--email E] [--phone P] [--birthday YYYY-MM-DD]\n"
     "                     [--consent marketing [--consent-source S]] [--referred-by CODE]\n"
     "                     [--greet-by-name]\n"
     "patron member show CARD\n"
     "patron member find --phone P\n"
     "patron member consent CARD --marketing yes|no [--source S] [--by WHO]\n"
     "patron member export CARD\n"
     "patron member erase CARD [--by WHO]\n"
     "patron member export-segment --consenting --csv [--tier T] [--lapsed-days D]",
     member_options},
    {"card", "block a lost card and issue a new one, print a card, or put it in a phone's wallet",
     "patron card replace CARD\npatron card print CARD\n"
     "patron card wallet CARD --apple FILE.pkpass | --google\npatron card push",
     card_options},
    {"scan", "what the cashier sees when the card is scanned", "patron scan CARD", no_options},
    {"sale", "earn points for a sale",
     "patron sale CARD --ref R --total MINOR [--currency EUR]\n"
     "            [--line SKU:CATEGORY:QTY:UNIT_MINOR]... [--key K] [--footer]",
     sale_options},
    {"refund", "reverse a sale's points, in full or by line",
     "patron refund --ref R [--return-ref RR] [--line SKU:QTY]... [--key K]", refund_options},
    {"reward", "the rewards catalogue, and spending points on it",
     "patron reward add --name N --cost POINTS --kind amount|percent|item|points --value V\n"
     "                  [--valid-days D]\n"
     "patron reward list\n"
     "patron reward redeem CARD REWARD_ID [--key K]\n"
     "patron reward retire REWARD_ID\n"
     "(with a head office set, redeem claims the points there first; head office unreachable,\n"
     "spending is capped by the rules chain_offline_member_cap and chain_offline_store_cap)",
     reward_options},
    {"voucher", "signed vouchers, each spent once",
     "patron voucher check TOKEN|CODE [--card CARD] [--offline]\n"
     "patron voucher redeem TOKEN|CODE --ref R [--key K] [--card CARD] [--offline]\n"
     "patron voucher show TOKEN|CODE|VOUCHER_ID\n"
     "patron voucher list [--member ID] [--limit N]\n"
     "patron voucher void TOKEN|CODE|VOUCHER_ID [--reason TEXT] [--by WHO]\n"
     "(VOUCHER_ID: the 16 hex digits of \"voucher_id\" in the replies; with a head office\n"
     "set, redeem claims the voucher there first: once per chain)",
     voucher_options},
    {"key", "the keyring that signs and verifies vouchers",
     "patron key list\npatron key rotate [--key-id N]\npatron key retire KEY_ID\n"
     "patron key export KEY_ID\n"
     "patron key trust FILE --partner NAME [--key-id N] [--chain CHAIN_ID]",
     key_options},
    {"ledger", "the points ledger: verify it, expire points, adjust a balance",
     "patron ledger verify\npatron ledger expire [--dry-run] [--yes]\n"
     "patron ledger adjust CARD --points N --reason R --manager NAME [--key K]",
     ledger_options},
    {"print", "the print queue",
     "patron print queue [--all]\npatron print reprint JOB\npatron print run", printq_options},
    {"printer", "the receipt printer: find it, ask its state, print a test page",
     "patron printer list\npatron printer status\npatron printer test", no_options},
    {"program", "the program's rules, categories and tiers",
     "patron program show\npatron program set NAME VALUE [--by WHO]\n"
     "patron program category NAME MULTIPLIER_PERMILLE [--by WHO]\n"
     "patron program tier NAME THRESHOLD MULTIPLIER_PERMILLE [--by WHO]",
     program_options},
    {"serve", "the counter service (HTTP/JSON API)",
     "patron serve [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE] [--port-file FILE]\n"
     "             [--max-connections N] [--timeout SECONDS] [--request-timeout SECONDS]\n"
     "             [--batch-max N] [--busy-timeout SECONDS] [--read-handles N]\n"
     "             [--cashier-refund-limit POINTS] [--print-poll SECONDS]\n"
     "             [--sync-interval SECONDS] [--hq-links N] [--display-idle SECONDS]\n"
     "             [--log-requests]\n"
     "             [--webhook-poll SECONDS] [--webhook-timeout SECONDS]\n"
     "             [--web-root DIR] [--session-ttl SECONDS] [--locale TAG] [--demo] [--routes]\n"
     "(with the wallet push settings it pushes changed passes itself, as `patron card push`;\n"
     " an admin's POST /v1/imports imports a CSV as a job)",
     serve_options},
    {"terminal", "the tills' API tokens",
     "patron terminal add NAME --role cashier|manager|admin\npatron terminal list\n"
     "patron terminal rotate NAME\npatron terminal revoke NAME\n"
     "patron terminal display NAME usb:VID:PID|file:DEV|virtual:DIR|none [--profile P]\n"
     "patron terminal scanner NAME auto|usb|usb:VID:PID|file:DEV|none\n"
     "(scanner: the till's card scanner, which `patron serve` opens and reads)",
     terminal_options},
    {"display", "the customer display bound to a till: show a test pattern",
     "patron display test TILL", no_options},
    {"scanner", "card scanners: what is attached, and what one reads",
     "patron scanner list\npatron scanner test [auto|usb|usb:VID:PID|file:DEV] [--count N]\n"
     "(bind one to a till with `patron terminal scanner`; `patron serve` then reads it)",
     scanner_options},
    {"offer", "targeted offers",
     "patron offer add --name N --benefit bonus:POINTS|multiplier:X|reward:ID [conditions]\n"
     "patron offer list [--all]\npatron offer show ID\npatron offer end ID [--by WHO]\n"
     "patron offer segment NAME CARD",
     offer_options},
    {"goodwill", "a manager's apology: a reward given for a complaint",
     "patron goodwill issue CARD --reward ID --complaint TEXT --manager NAME [--key K]",
     goodwill_options},
    {"feedback", "the member's verdict on a visit",
     "patron feedback CARD --score 1-5 [--comment TEXT] [--ref SALE_REF]", feedback_options},
    {"referral", "referral codes", "patron referral show CARD\npatron referral link CARD CODE",
     no_options},
    {"report", "reports: liability, retention, churn...",
     "patron report                       (lists the reports)\n"
     "patron report NAME [--csv] [--svg FILE] [--from DATE] [--to DATE] [--months N]\n"
     "                   [--cohorts N] [--limit N]\n"
     "(NAME: liability expiring redemption repeat retention clv rfm churn offers partners\n"
     "satisfaction)",
     report_options},
    {"hq", "the chain's head office on PostgreSQL: its schema and its stores",
     "patron hq init\npatron hq tls init --host NAME\npatron hq stores\n"
     "patron hq store add ID --name NAME [--password-file FILE] [--host NAME]\n"
     "patron hq verify\npatron hq conflicts  (voucher double spends, overdrafts, offline "
     "overdrafts)\n"
     "patron hq report NAME [--csv] [--svg FILE]  (NAME: liability redemptions stores multistore)\n"
     "patron hq program show | set NAME VALUE | category NAME MULTIPLIER_PERMILLE\n"
     "                  | tier NAME THRESHOLD MULTIPLIER_PERMILLE | publish\n"
     "patron hq reward add --name N --cost POINTS --kind K --value V [--valid-days D]\n"
     "                 | list | end REWARD_ID\n"
     "patron hq offer add (the flags of `patron offer add`; no reward benefit, no segment)\n"
     "                | list | end OFFER_ID\n"
     "patron hq key add FILE --partner NAME [--key-id N] [--chain CHAIN_ID] | list | revoke ID\n"
     "(ID: the store's number, 1 to 65535, as given to `patron init --store-id`; `tls init` makes\n"
     "the chain's CA in $PATRON_HOME/hq-tls and head office's server certificate, and prints the\n"
     "postgresql.conf and pg_hba.conf lines; with it, `store add` writes the store's client\n"
     "certificate and key beside its password file and its URL asks for sslmode=verify-full;\n"
     "program, reward, offer and key change head office's draft, checked as a store would check\n"
     "it; publish sends the whole draft as the next version, which every store applies at its\n"
     "next `patron sync`)",
     hq_options},
    {"import", "moving in: members and balances from another loyalty program's CSV",
     "patron import members FILE [--format generic|square|smile|odoo|open-loyalty]\n"
     "                      [--map COL=FIELD]... [--mode add|set] [--batch ID] [--dry-run]\n"
     "                      [--skip-errors]\n"
     "(members are matched by card, then phone, then e-mail; phones are kept in E.164, "
     "national\nnumbers take the country code of the program setting phone_country_code; an "
     "old card\nnumber that is not a Patron card stays an alias that scans; on a terminal a "
     "progress bar,\nwith --json progress lines before the report)",
     import_options},
    {"sync", "ships the store's outbox to head office, exactly once; `status` says how far",
     "patron sync [--batch N]\npatron sync status\n"
     "(the head office URL is the one `patron hq store add` printed for this store: --hq URL,\n"
     "$PATRON_HQ or `hq =` in patron.conf; the pull erases here the members erased at any\n"
     "store and posts the sales held on cards now known; `status` lists those still held)",
     sync_options},
    {"webhook", "signed webhooks (Standard Webhooks 1.0) sent by `patron serve`",
     "patron webhook add URL --events LIST [--secret | --ed25519] [--personal]\n"
     "patron webhook list\npatron webhook remove ID\npatron webhook test ID\n"
     "patron webhook rotate ID [--secret | --ed25519] [--overlap SECONDS]\n"
     "patron webhook deliveries [--webhook ID] [--status queued|delivered|failed] [--limit N]\n"
     "patron webhook retry DELIVERY_ID\npatron webhook retry --webhook ID\n"
     "(URL: https://, or http:// to this machine only; retries over about three days; a 410\n"
     "answer disables the endpoint)",
     webhook_options},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

const struct cli_command_help *cli_help_find(const char *name)
{
    for (size_t i = 0; name && i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

#define HELP_WIDTH 99
#define HELP_INDENT 29

/* The meaning, word-wrapped at HELP_WIDTH, its lines after the first indented under it. */
static void print_meaning(FILE *f, const char *text)
{
    size_t room = HELP_WIDTH - HELP_INDENT;
    while (strlen(text) > room) {
        size_t cut = room;
        while (cut > 0 && text[cut] != ' ')
            cut--;
        if (cut == 0)
            break;
        fprintf(f, "%.*s\n%*s", (int)cut, text, HELP_INDENT, "");
        text += cut + 1;
    }
    fprintf(f, "%s\n", text);
}

static void print_options(FILE *f, const struct cli_option_help *o)
{
    for (; o->flag; o++) {
        if (strlen(o->flag) <= HELP_INDENT - 3)
            fprintf(f, "  %-*s ", HELP_INDENT - 3, o->flag);
        else
            fprintf(f, "  %s\n%*s", o->flag, HELP_INDENT, "");
        print_meaning(f, o->meaning);
    }
}

void cli_help_global(FILE *f)
{
    fputs("usage: patron [OPTIONS] COMMAND ...\n\n"
          "Loyalty and rewards for the shop counter. Options go before or after the command.\n\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\noptions:\n", f);
    print_options(f, global_options);
    fputs("\nexit status: 0 done, 2 refused by a rule, 3 not found, 4 invalid input,\n"
          "5 printer error, 64 usage, 1 other\n"
          "Run 'patron help COMMAND' for a command's forms and options.\n",
          f);
}

void cli_help_forms(FILE *f, const struct cli_command_help *h)
{
    for (const char *line = h->forms; *line;) {
        size_t n = strcspn(line, "\n");
        fprintf(f, "  %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
}

void cli_help_command(FILE *f, const struct cli_command_help *h)
{
    fprintf(f, "patron %s: %s\n\nusage:\n", h->name, h->summary);
    cli_help_forms(f, h);
    if (h->options[0].flag) {
        fputs("\noptions:\n", f);
        print_options(f, h->options);
    }
    fputs("\nglobal options (--db, --json, --now, --printer...): see 'patron help'.\n", f);
}

/* Levenshtein distance, capped: words longer than 63 bytes are never near. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63 || lb > 63)
        return 64;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* Close enough to be a typo: a third of the word, at least 1, at most 3 edits. */
static int near(const char *word, const char *candidate, size_t *best)
{
    size_t d = distance(word, candidate), limit = strlen(word) / 3;
    limit = limit < 1 ? 1 : limit > 3 ? 3 : limit;
    if (d > limit || d >= *best)
        return 0;
    *best = d;
    return 1;
}

const char *cli_help_nearest_command(const char *word)
{
    const char *found = NULL;
    size_t best = 64;
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (near(word, commands[i].name, &best))
            found = commands[i].name;
    return found;
}

/* The flag of an option line, "--total" of "--total MINOR", into buf. */
static const char *flag_of(const char *line, char *buf, size_t len)
{
    size_t n = strcspn(line, " ,");
    if (n >= len)
        n = len - 1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    return buf;
}

static int in_list(const struct cli_option_help *o, const char *flag)
{
    char buf[64];
    for (; o->flag; o++)
        if (strcmp(flag_of(o->flag, buf, sizeof buf), flag) == 0)
            return 1;
    return 0;
}

int cli_help_knows_option(const struct cli_command_help *h, const char *flag)
{
    return in_list(global_options, flag) || (h && in_list(h->options, flag)) ||
           strcmp(flag, "-h") == 0;
}

static void nearest_in(const struct cli_option_help *o, const char *flag, size_t *best, char *out,
                       size_t len)
{
    char buf[64];
    for (; o->flag; o++)
        if (near(flag, flag_of(o->flag, buf, sizeof buf), best))
            flag_of(o->flag, out, len);
}

/* The word of h's forms nearest to `word` (a mistyped subcommand or name, "sett" for "set"),
 * or NULL when `word` is one of them or none is close. A forms word is a run of lowercase letters
 * and dashes that is not an option ("--name") or a placeholder ("NAME"). */
const char *cli_help_nearest_word(const struct cli_command_help *h, const char *word, char *buf,
                                  size_t len)
{
    size_t best = 64;
    buf[0] = '\0';
    for (const char *p = h ? h->forms : ""; *p;) {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
        if (n == 0) {
            p++;
            continue;
        }
        char candidate[64];
        int option =
            p[0] == '-' || (p > h->forms && (p[-1] == '-' || isupper((unsigned char)p[-1])));
        snprintf(candidate, sizeof candidate, "%.*s", (int)(n < 63 ? n : 63), p);
        p += n;
        if (option || isupper((unsigned char)*p) || n < 2)
            continue;
        if (strcmp(candidate, word) == 0)
            return NULL;
        if (near(word, candidate, &best))
            snprintf(buf, len, "%s", candidate);
    }
    return buf[0] ? buf : NULL;
}

const char *cli_help_nearest_option(const struct cli_command_help *h, const char *flag, char *buf,
                                    size_t len)
{
    size_t best = 64;
    buf[0] = '\0';
    if (h)
        nearest_in(h->options, flag, &best, buf, len);
    nearest_in(global_options, flag, &best, buf, len);
    return buf[0] ? buf : NULL;
}
