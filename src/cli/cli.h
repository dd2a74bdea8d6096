/* SPDX-License-Identifier: MIT */
/* What the `patron` program's commands share: the global options, the opened store, argument
 * taking, and the one place that turns a result or an error into output and an exit status.
 * The program uses libpatron through its public headers only. */
#ifndef PATRON_CLI_H
#define PATRON_CLI_H

#include <jansson.h>
#include <stdint.h>

#include "patron/patron.h"

/* Exit statuses of the contract. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_OTHER = 1,
    CLI_EXIT_REFUSED = 2,
    CLI_EXIT_NOTFOUND = 3,
    CLI_EXIT_INVALID = 4,
    CLI_EXIT_DEVICE = 5,
    CLI_EXIT_USAGE = 64,
};

struct cli_args {
    int argc;
    char **argv; /* what is left to take; taken entries are removed */
};

struct cli_command_help;

struct cli {
    const struct cli_command_help *command; /* the command being run, for its usage errors */
    char **given;                           /* the command's arguments as typed */
    int n_given;
    const struct cli_args *args; /* what is left of them, for naming a stray word */
    const char *db_path;
    const char *home;
    const char *printer_spec;
    const char *printer_profile;
    const char *listen;
    const char *tls_cert;
    const char *tls_key;
    const char *hq; /* the head office's PostgreSQL URL (machine setting `hq`), or NULL */
    struct patron_wallet_apple wallet;  /* the wallet_* settings of Apple passes */
    struct patron_wallet_google google; /* the wallet_google_* settings */
    const char *apns_url;               /* Apple's push service (wallet_apns_url) */
    int json;
    int opening_for_init; /* `patron init` may open a database that is not a store yet */
    int has_now;
    int64_t now;
    const char
        *till; /* --till NAME: write with that till's idempotency keys; NULL: the program's */
    patron_store *store;
    struct patron_printer_info printed_on; /* the printer cli_print_pending last used */
};

/* Option taking. cli_take removes "--name VALUE" (or "--name=VALUE") and returns VALUE, or NULL
 * when absent; cli_flag removes "--name" and returns 1 when it was there. */
const char *cli_take(struct cli_args *a, const char *name);
int cli_flag(struct cli_args *a, const char *name);
/* Removes and returns the next positional argument, or NULL. */
const char *cli_positional(struct cli_args *a);
/* Returns CLI_EXIT_USAGE after printing `usage` when anything is left untaken, else 0. */
int cli_no_leftovers(struct cli *c, const struct cli_args *a, const char *usage);

/* Remembers that option `name` was given `value` (a pointer into argv), so that a bad value can
 * be reported with its option's name. cli_take calls it. */
void cli_note_taken(const char *name, const char *value);
/* Records why `text` is not a number in [min, max], for the next usage error. */
void cli_note_bad_number(const char *text, int64_t min, int64_t max);
/* Forgets the last bad value. */
void cli_note_clear(void);

/* Parses a decimal integer within [min, max]; returns 0, or -1 with the reason kept for the
 * next usage error. */
int cli_parse_int(const char *text, int64_t min, int64_t max, int64_t *out);

/* Opens the store (once), pins the clock when --now was given, and refuses a database that is
 * not a store yet (but for `patron init`). Returns 0 or an exit status (the error printed). */
int cli_open_store(struct cli *c);
/* With a head office set, makes it the store's source of card number spaces (card_space.c). */
void cli_card_space_source(struct cli *c);

/* Prints an error per the contract (one sentence on stderr, or the JSON object with --json) and
 * returns the exit status for `err`. The store's detail, when set, is added to the sentence. */
int cli_fail(struct cli *c, int err, const char *what);

/* Prints a usage error and returns CLI_EXIT_USAGE: what is wrong (the bad value, the unknown
 * option with the nearest known one, the missing option, or `usage` when it is a sentence
 * rather than a form), the command's forms, and where its help is. */
int cli_usage(struct cli *c, const char *usage);

/* Prints a result: the JSON object with --json (the reference is stolen), else the human text.
 * Returns CLI_EXIT_OK. */
int cli_emit(struct cli *c, json_t *obj, const char *human);

/* The exit status of a PATRON_* code. */
int cli_exit_status(int err);

/* ISO 8601 (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) <-> Unix seconds, UTC. */
int cli_parse_time(const char *text, int64_t *out);
void cli_format_time(int64_t t, char *buf, size_t len);
void cli_format_date(int64_t t, char *buf, size_t len);

/* A printer profile by name ("generic-58", ...) or as a spec "name=...,dots=...,columns=...,
 * native_qr=..." (patron_escpos_profile_parse). Returns 0 and fills *out, or PATRON_EINVAL with
 * a sentence in detail. */
int cli_profile_resolve(const char *name, struct patron_escpos_profile *out, char *detail,
                        size_t len);

/* Opens the printer named by `spec` ("auto", "usb", "usb:VID:PID", "file:PATH", "virtual:DIR",
 * "none"; NULL = "auto") with the profile that fits it: `profile_name` when given (not NULL or
 * "auto"), else the model's own for a known USB printer, else generic 80 mm. "auto" without a
 * USB printer prints to the virtual printer in `home`/prints. Returns 0 and sets both;
 * PATRON_EINVAL for an unknown profile or spec; the transport's errors otherwise, with a
 * sentence in detail. Thread-safe (the `patron serve` printer thread calls it too). */
int cli_printer_open(const char *spec, const char *profile_name, const char *home,
                     patron_printer **p, struct patron_escpos_profile *profile, char *detail,
                     size_t len);
/* The same with the printer of the settings (--printer, --printer-profile); says on stderr
 * when "auto" found no USB printer and fell back to the virtual one. */
int cli_open_printer(struct cli *c, patron_printer **p, struct patron_escpos_profile *profile,
                     char *detail, size_t len);

/* Checks every receipt template before a command that prints does anything: returns 0, or
 * says which template is broken (file, line and column) and returns the exit status (4). */
int cli_check_templates(struct cli *c);

/* Sends the queued print jobs to the configured printer ("none" leaves them queued). Returns 0
 * (r says what printed and the first printer failure) or a database error. */
int cli_print_pending(struct cli *c, struct patron_print_run_result *r);

/* Where job `job_id` went on the printer cli_print_pending last used, as a sentence ("The
 * coupon is in DIR/job-7.png."), into buf; "" when nothing was printed. */
void cli_print_where(const struct cli *c, const char *what, int64_t job_id, char *buf, size_t len);

/* After a command that queued job `job_id` (0: jobs of its own, e.g. a sale's coupons): prints
 * the queue and adds print_status to `result`.
 * Returns -1 when the job printed (the caller emits `result` as usual); otherwise emits `result`
 * (stolen) itself and returns the exit status: 0 when no printer is configured ("none"), 5
 * whenever printing failed (printer down, or a template that cannot be rendered): the command's
 * work is committed and the job stays queued, so the caller must not retry the command. */
int cli_print_after(struct cli *c, json_t *result, int64_t job_id);

/* Writes a report's chart as SVG to `path` (via a temporary file renamed into place when `path`
 * is a regular file); returns 0 or the exit status of the failure it reported. */
int cli_report_write_svg(struct cli *c, const struct patron_report_table *t, const char *path);
/* One function per top-level command. argv excludes the command name. */
typedef int (*cli_command_fn)(struct cli *c, struct cli_args *a);

int cli_cmd_init(struct cli *c, struct cli_args *a);
int cli_cmd_member(struct cli *c, struct cli_args *a);
int cli_cmd_card(struct cli *c, struct cli_args *a);
/* `patron card wallet CARD --apple FILE.pkpass | --google` (cmd_wallet.c). */
int cli_card_wallet(struct cli *c, const char *card, struct cli_args *a);
/* `patron card push`: queues a push for every wallet pass changed since its phone was told,
 * and delivers the queue to Apple's push service (cmd_wallet.c). */
int cli_card_push(struct cli *c, struct cli_args *a);
int cli_cmd_scan(struct cli *c, struct cli_args *a);
int cli_cmd_sale(struct cli *c, struct cli_args *a);
int cli_cmd_refund(struct cli *c, struct cli_args *a);
int cli_cmd_reward(struct cli *c, struct cli_args *a);
int cli_cmd_ledger(struct cli *c, struct cli_args *a);
int cli_cmd_program(struct cli *c, struct cli_args *a);
int cli_cmd_voucher(struct cli *c, struct cli_args *a);
int cli_cmd_key(struct cli *c, struct cli_args *a);
int cli_cmd_print(struct cli *c, struct cli_args *a);
int cli_cmd_printer(struct cli *c, struct cli_args *a);
int cli_cmd_serve(struct cli *c, struct cli_args *a);
int cli_cmd_terminal(struct cli *c, struct cli_args *a);
int cli_cmd_display(struct cli *c, struct cli_args *a);
int cli_cmd_scanner(struct cli *c, struct cli_args *a);
int cli_cmd_offer(struct cli *c, struct cli_args *a);
/* `patron offer add`'s flags into d (strings point into a); -1 when one is missing or bad. Also
 * `patron hq offer add`. */
int cli_offer_parse_def(struct cli_args *a, struct patron_offer_def *d);
int cli_cmd_goodwill(struct cli *c, struct cli_args *a);
int cli_cmd_feedback(struct cli *c, struct cli_args *a);
int cli_cmd_referral(struct cli *c, struct cli_args *a);

int cli_cmd_report(struct cli *c, struct cli_args *a);
/* `patron hq`: the head office (src/hq); says it was left out when built without libpq. */
int cli_cmd_hq(struct cli *c, struct cli_args *a);
#ifdef PATRON_HAVE_HQ
struct patron_hq;
/* For the head office commands in other files (cmd_hq.c): connect with a sentence; fail with
 * one (also the store commands' head office refusals: spend.c, cmd_voucher.c). `patron hq
 * program|reward|offer|key ...` (cmd_hq_program.c). */
int cli_hq_open(struct cli *c, struct patron_hq **h);
int cli_hq_fail(struct cli *c, int err, const char *sentence);
int cli_cmd_hq_program(struct cli *c, struct cli_args *a);
int cli_cmd_hq_reward(struct cli *c, struct cli_args *a);
int cli_cmd_hq_key(struct cli *c, struct cli_args *a);
int cli_cmd_hq_offer(struct cli *c, struct cli_args *a);
/* The JSON of one store of `patron hq stores` (role and created_at only when known: head office's
 * own view) and of one conflict of `patron hq conflicts` (cmd_hq.c); also GET /v1/chain's. */
struct patron_hq_store;
struct patron_hq_conflict;
json_t *cli_hq_store_json(const struct patron_hq_store *st);
json_t *cli_hq_conflict_json(const struct patron_hq_conflict *k);
/* `patron serve`'s read of the chain for GET /v1/chain on a link of its pool (serve_chain.c):
 * the stores and the conflicts of this store as JSON arrays (the caller's), each conflict with
 * its sentence; 0 or the code of head office's failure with a sentence. */
struct patron_hq_pool;
int cli_serve_chain_read(struct patron_hq_pool *p, json_t **stores, json_t **conflicts,
                         char *detail, size_t len);
#endif
/* `patron import members`: moving in from another program's CSV (src/migrate). */
int cli_cmd_import(struct cli *c, struct cli_args *a);
/* For `patron serve`'s sync thread (built with libpq only): one round over the link kept in
 * *link (a pool of one link to `hq`, opened when NULL; a link found broken is replaced and the
 * round run once more): the whole sync with `pull`, else the shipping only; and the link's
 * closing. */
int cli_sync_link_run(void **link, const char *hq, patron_store *s, int pull, char *detail,
                      size_t len);
void cli_sync_link_close(void *link);
/* `patron sync [status]`: the outbox shipped to head office (src/hq). */
int cli_cmd_sync(struct cli *c, struct cli_args *a);
int cli_cmd_webhook(struct cli *c, struct cli_args *a);
/* `member` with consent, export, erase and export-segment; anything else goes to cli_cmd_member. */
int cli_cmd_member_privacy(struct cli *c, struct cli_args *a);

#endif
