/* SPDX-License-Identifier: MIT */
/* The durable print queue (include/patron/print.h): jobs as rows with their template and values
 * in JSON, sent after the commit that queued them, retried with back-off, reprinted on request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/store_internal.h"
#include "patron/print.h"

#define BACKOFF_FIRST 10
#define BACKOFF_MAX 600

static int valid_template_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
              name[i] == '-' || name[i] == '_'))
            return 0;
    return 1;
}

static int insert_job(patron_store *s, const char *name, const char *vars_json, int64_t reprint_of,
                      int64_t *job_id)
{
    sqlite3_stmt *st = patron__stmt(
        s, "INSERT INTO print_jobs(template, vars, status, attempts, created_at, next_attempt_at,"
           " reprint_of) VALUES (?1, ?2, 0, 0, ?3, ?3, ?4)");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, vars_json, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, patron_store_now(s));
    if (reprint_of)
        sqlite3_bind_int64(st, 4, reprint_of);
    int err = patron__step_done(s, st);
    if (err == 0)
        *job_id = sqlite3_last_insert_rowid(s->db);
    return err;
}

int patron_print_enqueue(patron_store *s, const char *template_name,
                         const struct patron_receipt_var *vars, size_t nvars, int64_t *job_id)
{
    if (!valid_template_name(template_name) || nvars > PATRON_PRINT_MAX_VARS)
        return patron__fail(s, PATRON_EINVAL,
                            "a print job needs a template name and at most %d "
                            "values",
                            PATRON_PRINT_MAX_VARS);
    json_t *o = json_object();
    for (size_t i = 0; i < nvars; i++)
        if (!vars[i].key || !vars[i].value ||
            json_object_set_new(o, vars[i].key, json_string(vars[i].value)) != 0) {
            json_decref(o);
            return patron__fail(s, PATRON_EINVAL, "print value %zu is not valid UTF-8 text", i);
        }
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!text)
        return PATRON_ENOMEM;
    int err = insert_job(s, template_name, text, 0, job_id);
    free(text);
    return err;
}

#define JOB_COLUMNS                                                                                \
    "SELECT id, template, status, attempts, COALESCE(last_error, ''), created_at,"                 \
    " COALESCE(printed_at, 0), next_attempt_at, COALESCE(reprint_of, 0) FROM print_jobs"

static void read_job(sqlite3_stmt *st, void *row)
{
    struct patron_print_job *j = row;
    memset(j, 0, sizeof *j);
    j->job_id = sqlite3_column_int64(st, 0);
    patron__copy(j->template_name, sizeof j->template_name,
                 (const char *)sqlite3_column_text(st, 1));
    j->status = (enum patron_print_status)sqlite3_column_int(st, 2);
    j->attempts = sqlite3_column_int64(st, 3);
    snprintf(j->last_error, sizeof j->last_error, "%s", (const char *)sqlite3_column_text(st, 4));
    j->created_at = sqlite3_column_int64(st, 5);
    j->printed_at = sqlite3_column_int64(st, 6);
    j->next_attempt_at = sqlite3_column_int64(st, 7);
    j->reprint_of = sqlite3_column_int64(st, 8);
}

int patron_print_list(patron_store *s, int pending_only, struct patron_print_job *out, size_t cap,
                      size_t *count)
{
    sqlite3_stmt *st = patron__stmt(s, JOB_COLUMNS " WHERE ?1 = 0 OR status <> 2 ORDER BY id DESC");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int(st, 1, pending_only ? 1 : 0);
    return patron__read_rows(s, st, out, sizeof *out, cap, count, read_job);
}

int patron_print_get(patron_store *s, int64_t job_id, struct patron_print_job *out)
{
    sqlite3_stmt *st = patron__stmt(s, JOB_COLUMNS " WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        read_job(st, out);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no print job %lld", (long long)job_id);
    return rc == SQLITE_ROW ? 0 : patron__db_err(s, rc);
}

int patron_print_reprint(patron_store *s, int64_t job_id, int64_t *new_job)
{
    sqlite3_stmt *st = patron__stmt(s, "SELECT template, vars FROM print_jobs WHERE id = ?1");
    char name[64], *vars = NULL;
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, job_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        patron__copy(name, sizeof name, (const char *)sqlite3_column_text(st, 0));
        vars = strdup((const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return patron__fail(s, PATRON_ENOTFOUND, "no print job %lld", (long long)job_id);
    if (rc != SQLITE_ROW || !vars)
        return rc != SQLITE_ROW ? patron__db_err(s, rc) : PATRON_ENOMEM;
    int err = insert_job(s, name, vars, job_id, new_job);
    free(vars);
    return err;
}

/* The oldest due job, claimed by marking it SENDING; a job found SENDING was interrupted by a
 * crash mid-send and goes out again marked REPRINT. */
static int next_due(patron_store *s, int64_t *job_id, char *name, size_t cap, char **vars,
                    int *interrupted)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT id, template, vars, status FROM print_jobs WHERE status <> 2 AND"
                        " (status = 1 OR next_attempt_at <= ?1) ORDER BY id LIMIT 1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, patron_store_now(s));
    int rc = sqlite3_step(st);
    *job_id = 0;
    if (rc == SQLITE_ROW) {
        *job_id = sqlite3_column_int64(st, 0);
        patron__copy(name, cap, (const char *)sqlite3_column_text(st, 1));
        *vars = strdup((const char *)sqlite3_column_text(st, 2));
        *interrupted = sqlite3_column_int(st, 3) == PATRON_PRINT_SENDING;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW && !*vars)
        return PATRON_ENOMEM;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : patron__db_err(s, rc);
}

static int set_status(patron_store *s, int64_t job_id, enum patron_print_status status,
                      const char *error)
{
    sqlite3_stmt *st = patron__stmt(
        s, "UPDATE print_jobs SET status = ?2,"
           " attempts = attempts + (?2 = 0),"
           " last_error = ?3,"
           " printed_at = CASE WHEN ?2 = 2 THEN ?4 ELSE printed_at END,"
           " next_attempt_at = CASE WHEN ?2 = 0 THEN ?4 + MIN(?5 << MIN(attempts, 6), ?6)"
           "   ELSE next_attempt_at END WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_int(st, 2, (int)status);
    if (error)
        sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, patron_store_now(s));
    sqlite3_bind_int(st, 5, BACKOFF_FIRST);
    sqlite3_bind_int(st, 6, BACKOFF_MAX);
    return patron__step_done(s, st);
}

/* Each state change is its own small transaction: a job is durably SENDING before a byte goes
 * out, and durably PRINTED or QUEUED-with-reason after. */
static int set_status_tx(patron_store *s, int64_t job_id, enum patron_print_status status,
                         const char *error)
{
    int err = patron__tx_begin(s);
    if (err != 0)
        return err;
    if ((err = set_status(s, job_id, status, error)) != 0) {
        patron__tx_rollback(s);
        return err;
    }
    return patron__tx_commit(s);
}

/* Values from the job's JSON, plus {{reprint}}. vars_out point into `o`. */
static size_t job_vars(json_t *o, int reprint, struct patron_receipt_var *out)
{
    const char *key;
    json_t *value;
    size_t n = 0;
    json_object_foreach(o, key, value)
    {
        if (n < PATRON_PRINT_MAX_VARS && json_is_string(value) && strcmp(key, "reprint") != 0)
            out[n++] = (struct patron_receipt_var){key, json_string_value(value)};
    }
    out[n++] = (struct patron_receipt_var){"reprint", reprint ? "REPRINT" : ""};
    return n;
}

static int render(const char *home, const char *name, const char *vars_json, int reprint,
                  const struct patron_escpos_profile *profile, uint8_t **bytes, size_t *len,
                  char *msg, size_t msglen)
{
    struct patron_receipt_var vars[PATRON_PRINT_MAX_VARS + 1];
    patron_receipt *tpl = NULL;
    json_t *o = json_loads(vars_json, 0, NULL);
    int err = o ? patron_receipt_load(home, name, &tpl, msg, msglen) : PATRON_EINVAL;
    if (err == 0) {
        size_t n = job_vars(o, reprint, vars);
        err = patron_receipt_render_job(tpl, profile, vars, n, bytes, len, msg, msglen);
    }
    patron_receipt_free(tpl);
    json_decref(o);
    return err;
}

static int is_reprint(patron_store *s, int64_t job_id)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT reprint_of IS NOT NULL FROM print_jobs WHERE id = ?1");
    int r = 0;
    if (!st)
        return 0;
    sqlite3_bind_int64(st, 1, job_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        r = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return r;
}

/* Sends one claimed job. Returns 0 when printed, a printer error when it stays queued. */
static int send_job(patron_store *s, patron_printer *printer,
                    const struct patron_escpos_profile *profile, const char *home, int64_t job_id,
                    const char *name, const char *vars, int interrupted,
                    struct patron_print_run_result *r)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    char job_name[32];
    int reprint = interrupted || is_reprint(s, job_id);
    int err = render(home, name, vars, reprint, profile, &bytes, &len, r->detail, sizeof r->detail);
    if (err == 0 && (err = set_status_tx(s, job_id, PATRON_PRINT_SENDING, NULL)) == 0) {
        snprintf(job_name, sizeof job_name, "job-%lld", (long long)job_id);
        err = patron_printer_send(printer, job_name, bytes, len, r->detail, sizeof r->detail);
    }
    free(bytes);
    if (err == 0)
        return set_status_tx(s, job_id, PATRON_PRINT_PRINTED, NULL);
    if (!r->detail[0])
        snprintf(r->detail, sizeof r->detail, "%s", patron_strerror(err));
    int db = set_status_tx(s, job_id, PATRON_PRINT_QUEUED, r->detail);
    return db != 0 ? db : err;
}

static int count_pending(patron_store *s, int64_t *n)
{
    return patron__scalar(s, "SELECT COUNT(*) FROM print_jobs WHERE status <> 2", n);
}

int patron_print_run(patron_store *s, patron_printer *printer,
                     const struct patron_escpos_profile *profile, const char *home,
                     struct patron_print_run_result *out)
{
    struct patron_print_run_result r = {0};
    char name[64];
    int err = 0;
    for (;;) {
        int64_t job_id;
        char *vars = NULL;
        int interrupted = 0;
        if ((err = next_due(s, &job_id, name, sizeof name, &vars, &interrupted)) != 0 || !job_id) {
            free(vars);
            break;
        }
        r.detail[0] = '\0';
        err = send_job(s, printer, profile, home, job_id, name, vars, interrupted, &r);
        free(vars);
        if (err == 0) {
            r.printed++;
            continue;
        }
        if (patron_err_kind(err) == PATRON_KIND_INTERNAL && err != PATRON_ENOMEM)
            return err; /* the database failed: nothing more can be trusted this run */
        if (!r.last_error)
            r.last_error = err;
        err = 0;
        if (patron_err_kind(r.last_error) == PATRON_KIND_DEVICE)
            break; /* the printer is down: later jobs wait their turn, in order */
        /* a job that cannot be rendered waits out its back-off; the others go on */
    }
    if (err != 0 || (err = count_pending(s, &r.pending)) != 0)
        return err;
    *out = r;
    return 0;
}
