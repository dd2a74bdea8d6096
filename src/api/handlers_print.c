/* SPDX-License-Identifier: MIT */
/* Route handlers of the print queue: list the jobs, read one (a till polls its coupon until it
 * is "printed"), and reprint one. The printer thread does the printing; a reprint queued while
 * the printer is known to be down is kept and answered 503 with its job. The jobs' JSON comes
 * from patron/json.h, as for `patron print ... --json`. */
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

int api_h_print_jobs(struct api_call *c, patron_store *s)
{
    struct patron_print_job *jobs = calloc(LIST_MAX, sizeof *jobs);
    size_t n = 0;
    /* ?pending=1 lists the jobs not printed yet; without it (or =0) every job, newest first. */
    int pending, err = api_query_bool(c, "pending", &pending);
    if (err == 0)
        err = jobs ? patron_print_list(s, pending, jobs, LIST_MAX, &n) : PATRON_ENOMEM;
    json_t *o = NULL;
    if (err == 0)
        err = patron_json_print_jobs(jobs, n < LIST_MAX ? n : LIST_MAX, n, &o);
    free(jobs);
    return api_reply_built(c, 200, err, o);
}

int api_h_print_job(struct api_call *c, patron_store *s)
{
    struct patron_print_job j;
    int64_t id;
    int err = api_param_id(c, 0, &id);
    json_t *o = NULL;
    if (err == 0 && (err = patron_print_get(s, id, &j)) == 0)
        err = patron_json_print_job(&j, &o);
    return api_reply_built(c, 200, err, o);
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
    json_t *o;
    if (err != 0 || (err = patron_print_reprint(s, id, &fresh)) != 0 ||
        (err = patron_print_get(s, fresh, &j)) != 0 || (err = patron_json_print_job(&j, &o)) != 0)
        return err;
    c->print_queued = 1;
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
