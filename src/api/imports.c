/* SPDX-License-Identifier: MIT */
/* The admin import job: POST /v1/imports streams the CSV body into a file under the store's
 * folder (imports/upload-XXXXXX.csv, never held whole in memory) and answers 202 with the job's
 * id; a thread of its own with a store handle of its own runs patron_import_members on it, one
 * job at a time, and GET /v1/imports/{id} gives its progress (rows, bytes, rate, state) and,
 * when it finished, the same report as `patron import members --json`. Jobs are kept in memory
 * for the life of the service; the file stays beside the store (with its .rejected.csv). When
 * the service stops, an import under way stops too: the chunks it committed stay (the same
 * batch posted again continues after them). Sales go on during a job: it writes in chunks. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "handlers.h"

#define JOB_ERRORS_KEPT 100 /* bad rows listed in a report, as the CLI's --json */

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE, JOB_FAILED };
static const char *const state_names[] = {"queued", "running", "done", "failed"};

struct job {
    struct job *next;
    const struct api_settings *cfg;
    char id[16];
    char path[4200];
    char batch[API_QUERY_MAX + 1];
    struct patron_import_options opt;
    pthread_t thread;
    /* under jobs_lock: */
    enum job_state state;
    int64_t rows, bytes, total_bytes;
    int64_t t0_ns, t1_ns;
    struct patron_import_report report;
    int err;
    char detail[API_DETAIL_MAX];
    json_t *errors;
};

static pthread_mutex_t jobs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER; /* one import at a time */
static struct job *jobs;
static atomic_int stopping; /* the service is stopping: an import under way stops, unwritten */

int api_import_upload_open(const struct api_settings *cfg, char *path, size_t cap)
{
    const char *slash = strrchr(cfg->db_path, '/');
    int n = slash ? snprintf(path, cap, "%.*s/imports", (int)(slash - cfg->db_path), cfg->db_path)
                  : snprintf(path, cap, "imports");
    if (n < 0 || (size_t)n + 24 >= cap || (mkdir(path, 0700) != 0 && errno != EEXIST))
        return -1;
    snprintf(path + n, cap - (size_t)n, "/upload-XXXXXX.csv");
    return mkstemps(path, 4);
}

static void on_progress(void *ctx, const struct patron_import_progress *p)
{
    struct job *j = ctx;
    pthread_mutex_lock(&jobs_lock);
    j->rows = p->rows;
    j->bytes = p->bytes;
    j->total_bytes = p->total_bytes;
    pthread_mutex_unlock(&jobs_lock);
}

static void on_error(void *ctx, const struct patron_import_error *e)
{
    struct job *j = ctx;
    pthread_mutex_lock(&jobs_lock);
    if (json_array_size(j->errors) < JOB_ERRORS_KEPT)
        json_array_append_new(j->errors, json_pack("{s:I, s:s, s:s}", "row", (json_int_t)e->row,
                                                   "column", e->column, "message", e->message));
    pthread_mutex_unlock(&jobs_lock);
}

static int should_stop(void *ctx)
{
    (void)ctx;
    return atomic_load(&stopping);
}

static void run(struct job *j)
{
    struct patron_import_report rep = {0};
    patron_store *s = NULL;
    int err = atomic_load(&stopping) ? -ECANCELED : api_store_open(j->cfg, &s);
    if (err == 0)
        err = patron_import_members(s, j->path, &j->opt, &rep);
    pthread_mutex_lock(&jobs_lock);
    j->report = rep;
    j->err = err;
    j->state = err == 0 ? JOB_DONE : JOB_FAILED;
    j->t1_ns = api_monotonic_ns();
    snprintf(j->detail, sizeof j->detail, "%s",
             err == 0            ? ""
             : s                 ? patron_store_detail(s)
             : err == -ECANCELED ? "the service stopped before the import ran"
                                 : "the store cannot be opened");
    pthread_mutex_unlock(&jobs_lock);
    patron_store_close(s);
}

static void *job_thread(void *arg)
{
    struct job *j = arg;
    pthread_mutex_lock(&run_lock);
    pthread_mutex_lock(&jobs_lock);
    j->state = JOB_RUNNING;
    j->t0_ns = api_monotonic_ns();
    pthread_mutex_unlock(&jobs_lock);
    run(j);
    pthread_mutex_unlock(&run_lock);
    return NULL;
}

static int flag(struct api_call *c, const char *name, int *out)
{
    const char *v = api_query(c, name);
    if (!v)
        return 0;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return *out = 1, 0;
    if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        return *out = 0, 0;
    snprintf(c->detail, sizeof c->detail, "%s is true or false", name);
    return PATRON_EINVAL;
}

static int take_options(struct api_call *c, struct job *j)
{
    const char *format = api_query(c, "format"), *mode = api_query(c, "mode");
    const char *batch = api_query(c, "batch");
    int err;
    if (format && patron_import_format_parse(format, &j->opt.format) != 0) {
        snprintf(c->detail, sizeof c->detail,
                 "format is one of generic, square, smile, odoo, open-loyalty");
        return PATRON_EINVAL;
    }
    if (mode && strcmp(mode, "add") != 0 && strcmp(mode, "set") != 0) {
        snprintf(c->detail, sizeof c->detail, "mode is add or set");
        return PATRON_EINVAL;
    }
    j->opt.mode = mode && strcmp(mode, "set") == 0 ? PATRON_IMPORT_SET : PATRON_IMPORT_ADD;
    if (batch) {
        snprintf(j->batch, sizeof j->batch, "%s", batch);
        j->opt.batch = j->batch;
    }
    if ((err = flag(c, "dry_run", &j->opt.dry_run)) != 0)
        return err;
    return flag(c, "skip_errors", &j->opt.skip_errors);
}

/* The id is the random part of the upload's name (upload-XXXXXX.csv). */
static void id_of(const char *path, char id[16])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(id, 16, "%.6s", base + strlen("upload-"));
}

int api_h_import_start(struct api_call *c, patron_store *s)
{
    struct stat st;
    struct job *j;
    int err;
    (void)s;
    if (!c->upload_path || stat(c->upload_path, &st) != 0 || st.st_size == 0) {
        snprintf(c->detail, sizeof c->detail, "send the CSV file as the request's body");
        return PATRON_EINVAL;
    }
    if (!(j = calloc(1, sizeof *j)) || !(j->errors = json_array()))
        return free(j), PATRON_ENOMEM;
    j->cfg = c->cfg;
    j->opt.on_progress = on_progress;
    j->opt.on_error = on_error;
    j->opt.should_stop = should_stop;
    j->opt.ctx = j;
    j->total_bytes = (int64_t)st.st_size;
    snprintf(j->path, sizeof j->path, "%s", c->upload_path);
    id_of(j->path, j->id);
    if ((err = take_options(c, j)) != 0 || pthread_create(&j->thread, NULL, job_thread, j) != 0) {
        json_decref(j->errors);
        free(j);
        return err ? err : PATRON_ENOMEM;
    }
    c->upload_taken = 1;
    pthread_mutex_lock(&jobs_lock);
    j->next = jobs;
    jobs = j;
    pthread_mutex_unlock(&jobs_lock);
    c->status = 202;
    c->reply = json_pack("{s:s, s:s, s:I}", "id", j->id, "state", "queued", "total_bytes",
                         (json_int_t)j->total_bytes);
    json_object_set_new(c->reply, "href", json_sprintf("/v1/imports/%s", j->id));
    return c->reply ? 0 : PATRON_ENOMEM;
}

static json_t *status_json(const struct job *j)
{
    int64_t end = j->state >= JOB_DONE ? j->t1_ns : api_monotonic_ns();
    double secs = j->t0_ns ? (double)(end - j->t0_ns) / 1e9 : 0;
    int64_t rows = j->state >= JOB_DONE ? j->report.rows_read : j->rows;
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "id", j->id, "state",
                          state_names[j->state], "rows", (json_int_t)rows, "bytes",
                          (json_int_t)(j->state >= JOB_DONE ? j->total_bytes : j->bytes),
                          "total_bytes", (json_int_t)j->total_bytes, "rows_per_second",
                          (json_int_t)(secs > 0 ? (double)rows / secs : 0));
    if (!o || j->state < JOB_DONE)
        return o;
    json_t *errors = json_deep_copy(j->errors), *report = NULL;
    if (patron_json_import_report(&j->report, errors, &report) != 0)
        report = NULL;
    json_decref(errors);
    json_object_set_new(o, "report", report);
    if (j->state == JOB_FAILED) {
        json_object_set_new(o, "code", json_string(patron_err_name(j->err)));
        json_object_set_new(o, "detail", json_string(j->detail));
    }
    return o;
}

int api_h_import_status(struct api_call *c, patron_store *s)
{
    (void)s;
    pthread_mutex_lock(&jobs_lock);
    const struct job *j = jobs;
    while (j && strcmp(j->id, c->params[0]) != 0)
        j = j->next;
    c->reply = j ? status_json(j) : NULL;
    pthread_mutex_unlock(&jobs_lock);
    if (!j) {
        snprintf(c->detail, sizeof c->detail, "no import job %.64s", c->params[0]);
        return PATRON_ENOTFOUND;
    }
    return c->reply ? 0 : PATRON_ENOMEM;
}

void api_imports_stop(void)
{
    atomic_store(&stopping, 1);
    pthread_mutex_lock(&jobs_lock);
    struct job *j = jobs;
    jobs = NULL;
    pthread_mutex_unlock(&jobs_lock);
    while (j) {
        struct job *next = j->next;
        pthread_join(j->thread, NULL); /* an import under way stops within 1,000 rows */
        json_decref(j->errors);
        free(j);
        j = next;
    }
}
