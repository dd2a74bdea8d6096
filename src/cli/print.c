/* SPDX-License-Identifier: MIT */
/* Printing from the `patron` program: choosing the printer and its profile from the settings,
 * sending the queued jobs after a command's commit, and `patron print queue|reprint|run`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patron/json.h"

int cli_profile_resolve(const char *name, struct patron_escpos_profile *out, char *detail,
                        size_t len)
{
    const struct patron_escpos_profile *known = patron_escpos_profile_find(name);
    if (known) {
        *out = *known;
        return 0;
    }
    if (strchr(name, '=') && patron_escpos_profile_parse(name, out) == 0)
        return 0;
    snprintf(detail, len,
             "unknown printer profile '%.200s': use generic-58, generic-80, epson-tm-t20, "
             "epson-tm-t88, or name=...,dots=...,columns=...,native_qr=...",
             name);
    return PATRON_EINVAL;
}

int cli_printer_open(const char *spec, const char *profile_name, const char *home,
                     patron_printer **p, struct patron_escpos_profile *profile, char *detail,
                     size_t len)
{
    struct patron_printer_info info;
    struct patron_escpos_profile configured;
    int pick = profile_name && strcmp(profile_name, "auto") != 0;
    if (pick && cli_profile_resolve(profile_name, &configured, detail, len) != 0)
        return PATRON_EINVAL;
    int err = patron_printer_open_in(spec ? spec : "auto", pick ? configured.dots : 0, home, p,
                                     detail, len);
    if (err != 0)
        return err;
    patron_printer_describe(*p, &info);
    const struct patron_escpos_profile *own =
        patron_escpos_profile_for_usb(info.vendor_id, info.product_id);
    if (pick)
        *profile = configured;
    else
        *profile = own ? *own : *patron_escpos_profile_find("generic-80");
    return 0;
}

int cli_open_printer(struct cli *c, patron_printer **p, struct patron_escpos_profile *profile,
                     char *detail, size_t len)
{
    struct patron_printer_info info;
    int err =
        cli_printer_open(c->printer_spec, c->printer_profile, c->home, p, profile, detail, len);
    if (err == 0) {
        patron_printer_describe(*p, &info);
        if (info.fallback[0])
            fprintf(stderr, "patron: %s.\n", info.fallback);
    }
    return err;
}

int cli_check_templates(struct cli *c)
{
    char msg[600];
    int err = patron_receipt_check(c->home, msg, sizeof msg);
    if (err == 0)
        return 0;
    fprintf(stderr, "patron: a receipt template is broken, nothing was done: %s\n", msg);
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", msg);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    return cli_exit_status(err);
}

/* How many jobs wait in the queue. */
static int count_queued(struct cli *c, int64_t *n)
{
    size_t count = 0;
    int err = patron_print_list(c->store, 1, NULL, 0, &count);
    *n = (int64_t)count;
    return err;
}

int cli_print_pending(struct cli *c, struct patron_print_run_result *r)
{
    patron_printer *p = NULL;
    struct patron_escpos_profile profile;
    memset(r, 0, sizeof *r);
    if (strcmp(c->printer_spec, "none") == 0)
        return count_queued(c, &r->pending); /* no printer here: jobs wait in the queue */
    int err = cli_open_printer(c, &p, &profile, r->detail, sizeof r->detail);
    if (err != 0) {
        r->last_error = err;
        return count_queued(c, &r->pending);
    }
    patron_printer_describe(p, &c->printed_on);
    err = patron_print_run(c->store, p, &profile, c->home, r);
    patron_printer_close(p);
    return err;
}

void cli_print_where(const struct cli *c, const char *what, int64_t job_id, char *buf, size_t len)
{
    const struct patron_printer_info *on = &c->printed_on;
    if (strcmp(on->kind, "virtual") == 0)
        snprintf(buf, len, "The %s is in %s/job-%lld.png.", what, on->description,
                 (long long)job_id);
    else if (strcmp(on->kind, "usb") == 0)
        snprintf(buf, len, "The %s printed on the USB printer %s.", what, on->description);
    else if (strcmp(on->kind, "file") == 0)
        snprintf(buf, len, "The %s was sent to %s.", what, on->description);
    else
        buf[0] = '\0';
}

int cli_print_after(struct cli *c, json_t *result, int64_t job_id)
{
    struct patron_print_run_result r;
    struct patron_print_job job;
    char human[320];
    int err = cli_print_pending(c, &r);
    if (err != 0)
        return cli_fail(c, err, "the print queue could not be read");
    if (!job_id && !r.last_error)
        return -1;
    if (job_id && (err = patron_print_get(c->store, job_id, &job)) != 0)
        return cli_fail(c, err, "the print job is gone");
    int printed = job_id ? job.status == PATRON_PRINT_PRINTED : 0;
    json_object_set_new(result, "print_status", json_string(printed ? "printed" : "queued"));
    if (printed)
        return -1; /* the caller emits as usual */
    if (r.last_error)
        json_object_set_new(result, "print_error", json_string(r.detail));
    snprintf(human, sizeof human, "Done; %lld print job(s) still queued%s%s.\n",
             (long long)r.pending, r.last_error ? ": " : " (no printer here)",
             r.last_error ? r.detail : "");
    cli_emit(c, result, human);
    if (!r.last_error)
        return CLI_EXIT_OK;
    /* The command's own work is committed (points spent, voucher issued): whatever stopped the
     * printing, the job waits in the queue, and a retry must not do the work twice. */
    fprintf(stderr,
            "patron: done and committed, but not printed: %s (%s); the job stays queued "
            "(patron print run sends it, patron print queue lists it).\n",
            patron_strerror(r.last_error), r.detail);
    return CLI_EXIT_DEVICE;
}

static const char print_usage[] = "patron print queue [--all] | reprint JOB | run";

static int print_queue(struct cli *c, int all)
{
    struct patron_print_job jobs[50];
    size_t n = 0;
    char human[8192] = "";
    size_t off = 0;
    int err = patron_print_list(c->store, !all, jobs, 50, &n);
    if (err != 0)
        return cli_fail(c, err, "cannot read the print queue");
    json_t *o;
    if ((err = patron_json_print_jobs(jobs, n < 50 ? n : 50, n, &o)) != 0)
        return cli_fail(c, err, NULL);
    for (size_t i = 0; i < n && i < 50; i++) {
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, "%6lld  %-16s %-8s %s\n",
                                    (long long)jobs[i].job_id, jobs[i].template_name,
                                    jobs[i].status == PATRON_PRINT_PRINTED ? "printed" : "queued",
                                    jobs[i].last_error);
    }
    return cli_emit(c, o, n ? human : "The print queue is empty.\n");
}

static int print_run(struct cli *c)
{
    struct patron_print_run_result r;
    char human[300];
    int err = cli_print_pending(c, &r);
    if (err != 0)
        return cli_fail(c, err, "the print queue could not be read");
    snprintf(human, sizeof human, "%lld printed, %lld still queued%s%s\n", (long long)r.printed,
             (long long)r.pending, r.last_error ? ": " : ".", r.last_error ? r.detail : "");
    json_t *o =
        json_pack("{s:I, s:I}", "printed", (json_int_t)r.printed, "pending", (json_int_t)r.pending);
    if (r.last_error) {
        json_object_set_new(o, "error", json_string(patron_err_name(r.last_error)));
        json_object_set_new(o, "message", json_string(r.detail));
        cli_emit(c, o, human);
        return cli_exit_status(r.last_error);
    }
    return cli_emit(c, o, human);
}

int cli_cmd_print(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    int status;
    if (!sub)
        return cli_usage(c, print_usage);
    if ((status = cli_open_store(c)) != 0)
        return status;
    if (strcmp(sub, "queue") != 0 && (status = cli_check_templates(c)) != 0)
        return status;
    if (strcmp(sub, "queue") == 0) {
        int all = cli_flag(a, "--all");
        return a->argc ? cli_usage(c, print_usage) : print_queue(c, all);
    }
    if (strcmp(sub, "run") == 0)
        return a->argc ? cli_usage(c, print_usage) : print_run(c);
    if (strcmp(sub, "reprint") == 0) {
        const char *id = cli_positional(a);
        int64_t job_id, fresh;
        struct patron_print_job job;
        json_t *o;
        if (!id || a->argc || cli_parse_int(id, 1, INT64_MAX, &job_id) != 0)
            return cli_usage(c, print_usage);
        int err = patron_print_reprint(c->store, job_id, &fresh);
        if (err != 0)
            return cli_fail(c, err, "cannot reprint");
        if ((err = patron_print_get(c->store, fresh, &job)) != 0 ||
            (err = patron_json_print_job(&job, &o)) != 0)
            return cli_fail(c, err, "the reprint was queued but cannot be shown");
        char human[128];
        snprintf(human, sizeof human, "Reprint queued as job %lld.\n", (long long)fresh);
        if ((status = cli_print_after(c, o, fresh)) >= 0)
            return status;
        return cli_emit(c, o, human);
    }
    return cli_usage(c, print_usage);
}
