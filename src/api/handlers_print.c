/* SPDX-License-Identifier: MIT */
/* Route handlers of the print queue: list the jobs, read one (a till polls its coupon until it
 * is "printed"), and reprint one. The printer thread does the printing; a reprint queued while
 * the printer is known to be down is kept and answered 503 with its job. Field names are those
 * of `patron print ... --json`. */
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define LIST_MAX 100

static const char *status_name(enum patron_print_status st)
{
    static const char *const names[] = {"queued", "sending", "printed"};
    return (unsigned)st < 3 ? names[st] : "queued";
}

const char *api_print_status(patron_store *s, int64_t job_id)
{
    struct patron_print_job j;
    return patron_print_get(s, job_id, &j) == 0 ? status_name(j.status) : "queued";
}

static json_t *job_json(const struct patron_print_job *j)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:o, s:o}", "job_id", (json_int_t)j->job_id,
                          "template", j->template_name, "status", status_name(j->status),
                          "attempts", (json_int_t)j->attempts, "created_at",
                          api_json_time(j->created_at), "printed_at", api_json_time(j->printed_at));
    if (!o)
        return NULL;
    json_object_set_new(o, "last_error",
                        j->last_error[0] ? json_string(j->last_error) : json_null());
    json_object_set_new(o, "reprint_of",
                        j->reprint_of ? json_integer((json_int_t)j->reprint_of) : json_null());
    return o;
}

/* ?pending=1 lists the jobs not printed yet; without it (or =0) every job, newest first. */
static int pending_only(struct api_call *c, int *out)
{
    const char *q = c->query;
    if (!q || strcmp(q, "0") == 0 || strcmp(q, "false") == 0)
        *out = 0;
    else if (strcmp(q, "1") == 0 || strcmp(q, "true") == 0)
        *out = 1;
    else {
        snprintf(c->detail, sizeof c->detail, "'pending' takes 1 or 0");
        return PATRON_EINVAL;
    }
    return 0;
}

int api_h_print_jobs(struct api_call *c, patron_store *s)
{
    struct patron_print_job *jobs = calloc(LIST_MAX, sizeof *jobs);
    size_t n = 0;
    int pending, err = pending_only(c, &pending);
    if (err == 0)
        err = jobs ? patron_print_list(s, pending, jobs, LIST_MAX, &n) : PATRON_ENOMEM;
    json_t *arr = err == 0 ? json_array() : NULL;
    for (size_t i = 0; arr && i < n && i < LIST_MAX; i++)
        json_array_append_new(arr, job_json(&jobs[i]));
    free(jobs);
    if (err != 0)
        return err;
    return api_reply(c, 200, json_pack("{s:o, s:I}", "jobs", arr, "count", (json_int_t)n));
}

int api_h_print_job(struct api_call *c, patron_store *s)
{
    struct patron_print_job j;
    int64_t id;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = patron_print_get(s, id, &j)) != 0)
        return err;
    return api_reply(c, 200, job_json(&j));
}

/* The problem a reprint is answered with while the printer cannot print. */
static int down_problem(void)
{
    switch (api_printer_state()) {
    case API_PRINTER_PAPER_END:
        return PATRON_EPAPER;
    case API_PRINTER_COVER_OPEN:
        return PATRON_ECOVER;
    default:
        return PATRON_EDEVICE;
    }
}

int api_h_reprint(struct api_call *c, patron_store *s)
{
    struct patron_print_job j;
    int64_t id, fresh;
    int err = api_param_id(c, 0, &id);
    if (err != 0 || (err = patron_print_reprint(s, id, &fresh)) != 0 ||
        (err = patron_print_get(s, fresh, &j)) != 0)
        return err;
    c->print_queued = 1;
    json_t *o = job_json(&j);
    if (!o)
        return PATRON_ENOMEM;
    json_object_set_new(o, "print_status", json_string("queued"));
    if (api_printer_down()) {
        /* The job stands (committed) and prints when the printer is back. */
        c->soft_err = down_problem();
        snprintf(c->detail, sizeof c->detail,
                 "the printer is %s; reprint job %lld stays queued and prints when it is back",
                 api_printer_state_name(api_printer_state()), (long long)fresh);
        c->problem_extra = json_pack("{s:I, s:I, s:s}", "job_id", (json_int_t)fresh, "reprint_of",
                                     (json_int_t)id, "print_status", "queued");
    }
    return api_reply(c, 202, o);
}
