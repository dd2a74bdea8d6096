/* SPDX-License-Identifier: MIT */
/* The route handlers of the counter service, one per route of the table in router.c. Each
 * reads its validated body and parameters from the call, calls the library once, and leaves its
 * JSON reply on the call; it returns 0 or the library's PATRON_* code. */
#ifndef PATRON_API_HANDLERS_H
#define PATRON_API_HANDLERS_H

#include "api.h"
#include "patron/json.h"

int api_h_health(struct api_call *c, patron_store *s);
int api_h_metrics(struct api_call *c, patron_store *s);
int api_h_scan(struct api_call *c, patron_store *s);
int api_h_sale(struct api_call *c, patron_store *s);
int api_h_refund(struct api_call *c, patron_store *s);
/* The refund a POST /v1/refunds body asks for, its lines into `lines` (shared by the handler and
 * its claim at head office, spend.c). */
void api_refund_input(struct api_call *c, struct patron_refund_line *lines,
                      struct patron_refund *in);
int api_h_rewards(struct api_call *c, patron_store *s);
int api_h_redeem(struct api_call *c, patron_store *s);
int api_h_enroll(struct api_call *c, patron_store *s);
int api_h_member(struct api_call *c, patron_store *s);
int api_h_wallet_apple(struct api_call *c, patron_store *s);
int api_h_wallet_google(struct api_call *c, patron_store *s);
int api_h_wallet_register(struct api_call *c, patron_store *s);
int api_h_wallet_unregister(struct api_call *c, patron_store *s);
int api_h_wallet_updated(struct api_call *c, patron_store *s);
int api_h_wallet_pass(struct api_call *c, patron_store *s);
int api_h_wallet_log(struct api_call *c, patron_store *s);
int api_h_import_start(struct api_call *c, patron_store *s);
int api_h_import_status(struct api_call *c, patron_store *s);
int api_h_adjust(struct api_call *c, patron_store *s);
int api_h_voucher_check(struct api_call *c, patron_store *s);
int api_h_voucher_redeem(struct api_call *c, patron_store *s);
int api_h_voucher_show(struct api_call *c, patron_store *s);
int api_h_voucher_void(struct api_call *c, patron_store *s);
int api_h_print_jobs(struct api_call *c, patron_store *s);
int api_h_print_job(struct api_call *c, patron_store *s);
int api_h_reprint(struct api_call *c, patron_store *s);
int api_h_consent(struct api_call *c, patron_store *s);
int api_h_export(struct api_call *c, patron_store *s);
int api_h_erase(struct api_call *c, patron_store *s);
int api_h_feedback(struct api_call *c, patron_store *s);
int api_h_goodwill(struct api_call *c, patron_store *s);
int api_h_offers(struct api_call *c, patron_store *s);
int api_h_offer(struct api_call *c, patron_store *s);
int api_h_offer_add(struct api_call *c, patron_store *s);
int api_h_offer_audience(struct api_call *c, patron_store *s);
int api_h_program(struct api_call *c, patron_store *s);
int api_h_program_set(struct api_call *c, patron_store *s);
int api_h_tier_set(struct api_call *c, patron_store *s);
int api_h_reward_add(struct api_call *c, patron_store *s);
int api_h_reward_change(struct api_call *c, patron_store *s);
int api_h_reward_end(struct api_call *c, patron_store *s);
int api_h_rule_changes(struct api_call *c, patron_store *s);
int api_h_keys(struct api_call *c, patron_store *s);
int api_h_key_rotate(struct api_call *c, patron_store *s);
int api_h_offer_end(struct api_call *c, patron_store *s);
int api_h_report(struct api_call *c, patron_store *s);
int api_h_session_new(struct api_call *c, patron_store *s);
int api_h_session(struct api_call *c, patron_store *s);
int api_h_session_end(struct api_call *c, patron_store *s);
int api_h_shop(struct api_call *c, patron_store *s);
int api_h_tills(struct api_call *c, patron_store *s);
int api_h_member_search(struct api_call *c, patron_store *s);
int api_h_till_add(struct api_call *c, patron_store *s);
int api_h_till_rotate(struct api_call *c, patron_store *s);
int api_h_till_revoke(struct api_call *c, patron_store *s);
int api_h_print_image(struct api_call *c, patron_store *s);
int api_h_chain(struct api_call *c, patron_store *s);

/* Shared by the handlers' files. */
/* A string field of a validated body; NULL when absent or null. */
const char *api_str(json_t *body, const char *key);
/* Leaves `obj` (stolen; NULL means out of memory) as the call's reply with `status`. */
int api_reply(struct api_call *c, int status, json_t *obj);
/* The same after a patron_json_* builder: returns err when it is not 0 (obj is then unset). */
int api_reply_built(struct api_call *c, int status, int err, json_t *obj);
/* A non-JSON reply: `text` (stolen, malloc'd; NULL means out of memory) of `type`. */
int api_reply_text(struct api_call *c, int status, char *text, const char *type);
/* A 200 reply of `type` sent as `st` writes it; the call owns st from here, even on failure. */
int api_reply_stream(struct api_call *c, struct api_stream st, const char *type);
/* A query flag: 1 for "1" or "true", 0 for "0", "false" or absent; PATRON_EINVAL with a
 * detail otherwise. */
int api_query_bool(struct api_call *c, const char *name, int *out);
/* The path parameter i as a positive integer; PATRON_EINVAL with a detail otherwise. */
int api_param_id(struct api_call *c, int i, int64_t *out);
/* The head office sync as /v1/health shows it; NULL when the store has no head office. */
json_t *api_sync_json(void);
/* "queued", "sending" or "printed" for a print job; "queued" when it cannot be read. */
const char *api_print_status(patron_store *s, int64_t job_id);

#endif
