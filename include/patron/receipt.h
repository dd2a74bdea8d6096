/* SPDX-License-Identifier: MIT */
/* Receipt templates: a subset of ReceiptLine markup with {{placeholders}} (receipts/README.md
 * describes it), parsed once into a compiled form and rendered to ESC/POS for a printer profile
 * as many times as needed. Placeholder values are plain text, never markup.
 *
 *     patron_receipt *t;
 *     char msg[256];
 *     if (patron_receipt_load(home, "reward-coupon", &t, msg, sizeof msg) != 0)
 *         return fprintf(stderr, "%s\n", msg), 1;
 *     struct patron_receipt_var v[] = {{"voucher.token", token}, {"member.name", "Ada"}, ...};
 *     uint8_t *bytes; size_t len;
 *     if (patron_receipt_render_job(t, profile, v, n, &bytes, &len, msg, sizeof msg) == 0) {
 *         send(bytes, len);
 *         free(bytes);
 *     }
 *     patron_receipt_free(t);
 *
 * Thread-safety: a compiled template is immutable; many threads may render it at once, each
 * into its own job. */
#ifndef PATRON_RECEIPT_H
#define PATRON_RECEIPT_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/escpos.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_RECEIPT_MAX_TEXT (64u * 1024u) /* largest template accepted */
#define PATRON_RECEIPT_MAX_VALUE 4096u        /* longest placeholder value accepted */

typedef struct patron_receipt patron_receipt;

/* One placeholder value: {{key}} in the template becomes `value` (UTF-8). Borrowed. */
struct patron_receipt_var {
    const char *key;
    const char *value;
};

/* Compiles a template (UTF-8, NUL-terminated, at most PATRON_RECEIPT_MAX_TEXT bytes). Returns 0
 * and sets *out (free with patron_receipt_free); on a markup error returns PATRON_EINVAL and
 * writes the 1-based line and column (in characters) of the fault to *err_line and *err_col
 * (either may be NULL) and a sentence to msg (may be NULL); PATRON_ETOOBIG; PATRON_ENOMEM. */
PATRON_EXPORT int patron_receipt_parse(const char *text, patron_receipt **out, unsigned *err_line,
                                       unsigned *err_col, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

/* Loads and compiles template `name` ("reward-coupon": letters, digits, '-' and '_' only) from
 * the first of: HOME/receipts/NAME.receipt (HOME may be NULL), the installed templates
 * (share/patron/receipts), the source tree's receipts/. Shop owners edit the first to change
 * a coupon without rebuilding. Returns 0; PATRON_ENOTFOUND when no file exists; PATRON_EINVAL
 * for a bad name or markup error ("PATH:LINE:COL: ..." in msg); -errno on a read error. */
PATRON_EXPORT int patron_receipt_load(const char *home, const char *name, patron_receipt **out,
                                      char *msg, size_t msglen) __attribute__((warn_unused_result));

/* The templates the program prints, NULL-terminated: "reward-coupon", "offer-coupon",
 * "receipt-footer", "member-card", "test-page". */
extern PATRON_EXPORT const char *const patron_receipt_names[];

/* Loads every template of patron_receipt_names as patron_receipt_load would, so that a mistake
 * is found before anything is committed that would need it. Returns 0, or the first failure
 * with "PATH:LINE:COL: ..." (or what is missing) in msg. */
PATRON_EXPORT int patron_receipt_check(const char *home, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

/* Frees a template; NULL does nothing. */
PATRON_EXPORT void patron_receipt_free(patron_receipt *t);

/* Appends the template, filled from `vars`, to `job` (nothing is initialised or cut unless the
 * template says so). Returns 0; PATRON_EINVAL naming the first placeholder without a value, or
 * a value a barcode cannot carry, in msg; PATRON_ETOOBIG for a value over
 * PATRON_RECEIPT_MAX_VALUE bytes or a job past its maximum. On failure the job is left
 * partial: reset it before reuse. */
PATRON_EXPORT int patron_receipt_render(const patron_receipt *t,
                                        const struct patron_receipt_var *vars, size_t nvars,
                                        patron_escpos *job, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

/* A whole job: ESC @ and code page for `profile`, then the template. On success *out is a
 * malloc'd buffer the caller frees, *len its size. Errors as patron_receipt_render. */
PATRON_EXPORT int patron_receipt_render_job(const patron_receipt *t,
                                            const struct patron_escpos_profile *profile,
                                            const struct patron_receipt_var *vars, size_t nvars,
                                            uint8_t **out, size_t *len, char *msg, size_t msglen)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
