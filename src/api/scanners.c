/* SPDX-License-Identifier: MIT */
/* The card scanners of `patron serve`: see scanners.h. A scan is acted on only when it is
 * whole; everything else (a half-read barcode, garbage, a wrong check digit, a flood, an
 * unplugged scanner) is a sentence in the log and on the till's stream. The log never carries
 * the scanned data: card numbers and voucher codes stay out of it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "display.h"
#include "events.h"
#include "patron/json.h"
#include "patron/scanner.h"
#include "scanners.h"

#define READ_SLICE_MS 200
#define REOPEN_MS 2000
#define MAX_SCANNERS 64

struct scanner_thread {
    struct api_scanners *owner;
    pthread_t thread;
    int started;
    int64_t till_id;
    char till[PATRON_TERMINAL_NAME_MAX + 1];
    char spec[PATRON_DEVICE_SPEC_MAX + 1];
    patron_store *store;
};

struct api_scanners {
    const struct api_settings *cfg;
    atomic_int stopping;
    struct scanner_thread t[MAX_SCANNERS];
    size_t n;
};

static void publish_problem(struct scanner_thread *t, const char *code, const char *why)
{
    json_t *o =
        json_pack("{s:s, s:b, s:s, s:s}", "kind", "invalid", "ok", 0, "code", code, "detail", why);
    patron__events_publish(t->owner->cfg->events, t->till_id, "scan", o);
    json_decref(o);
    api_log("event=scan till=%s outcome=%s detail=\"%.150s\"", t->till, code, why);
}

static void on_card(struct scanner_thread *t, const struct patron_scan_line *line, json_t *o)
{
    struct patron_scan_result r;
    json_t *found = NULL;
    int err = patron_scan(t->store, line->data, &r);
    if (err == 0)
        err = patron_json_scan(&r, &found);
    json_object_set_new(o, "kind", json_string("card"));
    json_object_set_new(o, "ok", json_boolean(err == 0));
    if (err == 0) {
        patron__display_on_event(NULL, t->till_id, "scan", found); /* the customer sees it too */
        json_object_set_new(o, "member", found);
    } else {
        json_object_set_new(o, "code", json_string(patron_err_name(err)));
        json_object_set_new(o, "detail", json_string(patron_store_detail(t->store)));
    }
    api_log("event=scan till=%s kind=card outcome=%s", t->till,
            err == 0 ? "ok" : patron_err_name(err));
}

static void on_voucher(struct scanner_thread *t, const struct patron_scan_line *line, json_t *o)
{
    struct patron_voucher_request req = {.token_or_code = line->data, .till = t->till};
    struct patron_voucher_result r;
    json_t *found = NULL;
    int err = patron_voucher_check(t->store, &req, &r);
    if (err == 0)
        err = patron_json_voucher_check(&r, &found);
    json_object_set_new(o, "kind", json_string("voucher"));
    json_object_set_new(o, "ok", json_boolean(err == 0));
    if (err == 0)
        json_object_set_new(o, "voucher", found);
    else {
        json_object_set_new(o, "code", json_string(patron_err_name(err)));
        json_object_set_new(o, "detail", json_string(patron_store_detail(t->store)));
    }
    api_log("event=scan till=%s kind=voucher outcome=%s", t->till,
            err == 0 ? "ok" : patron_err_name(err));
}

static void on_line(struct scanner_thread *t, const struct patron_scan_line *line)
{
    char why[PATRON_SCAN_WHY_MAX];
    enum patron_scan_kind kind = patron_scan_classify(line, why, sizeof why);
    if (kind == PATRON_SCAN_INVALID) {
        publish_problem(t, "EINVAL", why);
        return;
    }
    json_t *o = json_object();
    if (!o)
        return;
    if (line->symbology[0])
        json_object_set_new(o, "symbology", json_string(line->symbology));
    if (kind == PATRON_SCAN_CARD)
        on_card(t, line, o);
    else
        on_voucher(t, line, o);
    patron__events_publish(t->owner->cfg->events, t->till_id, "scan", o);
    json_decref(o);
}

static void nap(struct api_scanners *ss, int ms)
{
    for (int waited = 0; waited < ms && !atomic_load(&ss->stopping); waited += 50)
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
}

/* Reads the open scanner until it goes away or the service stops. */
static void read_scans(struct scanner_thread *t, patron_scanner *sc)
{
    struct patron_scan_line line;
    char why[PATRON_SCAN_WHY_MAX];
    while (!atomic_load(&t->owner->stopping)) {
        int r = patron_scanner_read(sc, READ_SLICE_MS, &line, why, sizeof why);
        if (r == PATRON_SCAN_LINE)
            on_line(t, &line);
        else if (r == PATRON_SCAN_REJECTED)
            publish_problem(t, "EINVAL", why);
        else if (r < 0) {
            publish_problem(t, "EDEVICE", why);
            return;
        }
    }
}

static void *scanner_main(void *arg)
{
    struct scanner_thread *t = arg;
    char detail[256], said[256] = "";
    while (!atomic_load(&t->owner->stopping)) {
        patron_scanner *sc = NULL;
        int err = patron_scanner_open(t->spec, &sc, detail, sizeof detail);
        if (err != 0) {
            if (strcmp(detail, said) != 0) { /* say it once, not every retry */
                snprintf(said, sizeof said, "%s", detail);
                api_log("event=scanner till=%s state=absent detail=\"%.150s\"", t->till, detail);
            }
            nap(t->owner, REOPEN_MS);
            continue;
        }
        struct patron_scanner_info info;
        patron_scanner_describe(sc, &info);
        said[0] = '\0';
        api_log("event=scanner till=%s state=open kind=%s protocol=%s device=\"%s\"", t->till,
                info.kind, info.protocol, info.description);
        read_scans(t, sc);
        patron_scanner_close(sc);
    }
    return NULL;
}

static int start_one(struct api_scanners *ss, const struct patron_terminal *term)
{
    struct scanner_thread *t = &ss->t[ss->n];
    int err = api_store_open(ss->cfg, &t->store);
    if (err != 0)
        return err;
    t->owner = ss;
    t->till_id = term->terminal_id;
    snprintf(t->till, sizeof t->till, "%s", term->name);
    snprintf(t->spec, sizeof t->spec, "%s", term->scanner);
    if ((err = pthread_create(&t->thread, NULL, scanner_main, t)) != 0) {
        patron_store_close(t->store);
        return -err;
    }
    t->started = 1;
    ss->n++;
    return 0;
}

int api_scanners_start(const struct api_settings *cfg, struct api_scanners **out)
{
    static struct patron_terminal list[MAX_SCANNERS * 4];
    size_t count = 0;
    patron_store *s = NULL;
    struct api_scanners *ss = calloc(1, sizeof *ss);
    int err;
    if (!ss)
        return PATRON_ENOMEM;
    ss->cfg = cfg;
    if ((err = patron_store_open(cfg->db_path, &s)) != 0 ||
        (err = patron_terminal_list(s, list, sizeof list / sizeof list[0], &count)) != 0)
        goto out;
    for (size_t i = 0; i < count && i < sizeof list / sizeof list[0]; i++) {
        if (list[i].revoked_at || strcmp(list[i].scanner, "none") == 0 || !list[i].scanner[0])
            continue;
        if (ss->n == MAX_SCANNERS || (err = start_one(ss, &list[i])) != 0)
            break;
    }
out:
    patron_store_close(s);
    if (err != 0) {
        api_scanners_stop(ss);
        return err;
    }
    *out = ss;
    return 0;
}

void api_scanners_stop(struct api_scanners *ss)
{
    if (!ss)
        return;
    atomic_store(&ss->stopping, 1);
    for (size_t i = 0; i < ss->n; i++) {
        if (ss->t[i].started)
            pthread_join(ss->t[i].thread, NULL);
        patron_store_close(ss->t[i].store);
    }
    free(ss);
}
