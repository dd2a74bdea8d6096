/* SPDX-License-Identifier: MIT */
/* The durable print queue. A job is a row (a template name and its placeholder values) written
 * in the same transaction as the sale or redemption that asks for it; it is printed after the
 * commit. A job that fails (unplugged, paper end, cover open, timeout) stays queued with its
 * reason and is retried with back-off; a reprint is a new job marked REPRINT. A job caught
 * mid-send by a crash is sent again marked REPRINT, so a duplicate coupon is recognisable (its
 * voucher is single-use either way).
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_PRINT_H
#define PATRON_PRINT_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/escpos.h"
#include "patron/printer.h"
#include "patron/receipt.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_PRINT_MAX_VARS 32

enum patron_print_status {
    PATRON_PRINT_QUEUED = 0,  /* waiting, or failed and waiting for its next attempt */
    PATRON_PRINT_SENDING = 1, /* being sent now */
    PATRON_PRINT_PRINTED = 2, /* every byte accepted by the printer */
};

struct patron_print_job {
    int64_t job_id;
    char template_name[64];
    enum patron_print_status status;
    int64_t attempts;
    char last_error[200];
    int64_t created_at;
    int64_t printed_at;      /* 0 until printed */
    int64_t next_attempt_at; /* when a queued job is due */
    int64_t reprint_of;      /* the job this one reprints, or 0 */
};

/* Queues `template_name` with its values (copied). Runs in the caller's transaction when there
 * is one. Returns 0 and sets *job_id; PATRON_EINVAL for a bad name or too many values. */
PATRON_EXPORT int patron_print_enqueue(patron_store *s, const char *template_name,
                                       const struct patron_receipt_var *vars, size_t nvars,
                                       int64_t *job_id) __attribute__((warn_unused_result));

/* Copies up to `cap` jobs, newest first (only those not printed when `pending_only`), into
 * out; *count receives how many match. */
PATRON_EXPORT int patron_print_list(patron_store *s, int pending_only, struct patron_print_job *out,
                                    size_t cap, size_t *count) __attribute__((warn_unused_result));

/* Reads one job. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_print_get(patron_store *s, int64_t job_id, struct patron_print_job *out)
    __attribute__((warn_unused_result));

/* Queues a copy of a job marked REPRINT. Returns 0 and sets *new_job, or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_print_reprint(patron_store *s, int64_t job_id, int64_t *new_job)
    __attribute__((warn_unused_result));

struct patron_print_run_result {
    int64_t printed; /* jobs sent in full */
    int64_t pending; /* jobs still queued afterwards */
    int last_error;  /* the first failure's code, 0 when none */
    char detail[200];
};

/* Sends every due job, oldest first, rendering each template (looked up from `home`, see
 * patron_receipt_load) for `profile`. Stops at the first printer failure: the job keeps its
 * reason and is retried no sooner than 10 s × 2^(attempts-1) (at most 10 minutes) later.
 * Returns 0 (see out->last_error for a printer failure) or a database error. */
PATRON_EXPORT int patron_print_run(patron_store *s, patron_printer *printer,
                                   const struct patron_escpos_profile *profile, const char *home,
                                   struct patron_print_run_result *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
