/* SPDX-License-Identifier: MIT */
/* The customer displays' thread (see display.h): a bounded queue of events filled by the request
 * threads, and one thread that owns every open display, renders frames from the templates,
 * steps long lines, and returns each display to the welcome after the idle time. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "display.h"

#define QUEUE_MAX 64
#define SCROLL_MS 400 /* one column every this long */
#define WAIT_MAX_MS 1000
#define IDLE_DEFAULT_S 20
#define IDLE_BRIGHTNESS 2

struct till_display {
    int64_t till_id;
    char spec[PATRON_DISPLAY_SPEC_MAX + 1];
    patron_display *d;
    struct patron_display_profile profile;
    struct patron_display_frame frame;
    unsigned step, steps;
    int64_t event_ms, step_ms;
    int idle, failing;
};

struct event {
    int64_t till_id;
    enum patron_display_kind kind;
    struct patron_display_vars v;
    char name[128], reward[128], tier[64], next_reward[128];
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int running, stop;
    struct till_display *tills;
    size_t n;
    struct event q[QUEUE_MAX];
    size_t head, count;
    unsigned long dropped;
    patron_display_templates *templates;
    char store_name[128];
    int64_t idle_ms;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static int64_t now_ms(void)
{
    return api_monotonic_ns() / 1000000;
}

/* ---- showing ---- */

static void show(struct till_display *t, unsigned step)
{
    char detail[256] = "";
    if (!t->d)
        return;
    int err = patron_display_show(t->d, &t->frame, step, detail, sizeof detail);
    if (err && !t->failing)
        api_log("event=display_failed till=%lld error=%s detail=\"%.150s\"", (long long)t->till_id,
                patron_err_name(err), detail);
    else if (!err && t->failing)
        api_log("event=display_back till=%lld", (long long)t->till_id);
    t->failing = err != 0;
}

static void show_frame(struct till_display *t, int64_t now)
{
    t->step = 0;
    t->steps = patron_display_frame_steps(&t->profile, &t->frame);
    t->step_ms = now;
    show(t, 0);
}

/* The welcome: cleared and dimmed first, as the idle timeout asks. */
static void go_idle(struct till_display *t, int64_t now)
{
    struct patron_display_vars v = {.store_name = g.store_name};
    memset(&t->frame, 0, sizeof t->frame);
    t->frame.blank = 1;
    show(t, 0);
    patron_display_render(g.templates, PATRON_DISPLAY_IDLE, &v, &t->frame);
    t->frame.brightness = IDLE_BRIGHTNESS;
    t->idle = 1;
    show_frame(t, now);
}

static void apply(struct event *e, int64_t now)
{
    e->v.store_name = g.store_name;
    e->v.member_name = e->name;
    e->v.reward_name = e->reward;
    e->v.next_tier = e->tier[0] ? e->tier : NULL;
    e->v.next_reward = e->next_reward[0] ? e->next_reward : NULL;
    for (size_t i = 0; i < g.n; i++) {
        struct till_display *t = &g.tills[i];
        if (t->till_id != e->till_id)
            continue;
        patron_display_render(g.templates, e->kind, &e->v, &t->frame);
        t->idle = 0;
        t->event_ms = now;
        show_frame(t, now);
    }
}

/* Idle timeouts and scroll steps that are due; returns how long until the next one. */
static int64_t tick(int64_t now)
{
    int64_t next = WAIT_MAX_MS;
    for (size_t i = 0; i < g.n; i++) {
        struct till_display *t = &g.tills[i];
        if (!t->idle && now - t->event_ms >= g.idle_ms)
            go_idle(t, now);
        if (!t->idle) {
            int64_t left = t->event_ms + g.idle_ms - now;
            next = left < next ? left : next;
        }
        if (t->steps > 1 && now - t->step_ms >= SCROLL_MS) {
            t->step = (t->step + 1) % t->steps;
            t->step_ms = now;
            show(t, t->step);
        }
        if (t->steps > 1)
            next = SCROLL_MS - (now - t->step_ms) < next ? SCROLL_MS - (now - t->step_ms) : next;
    }
    return next > 0 ? next : 1;
}

static void *display_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.lock);
    while (!g.stop) {
        if (g.count) {
            struct event e = g.q[g.head];
            g.head = (g.head + 1) % QUEUE_MAX;
            g.count--;
            pthread_mutex_unlock(&g.lock);
            apply(&e, now_ms());
            pthread_mutex_lock(&g.lock);
            continue;
        }
        pthread_mutex_unlock(&g.lock);
        int64_t wait = tick(now_ms());
        pthread_mutex_lock(&g.lock);
        if (g.count || g.stop)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000)
            until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&g.wake, &g.lock, &until);
    }
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

/* ---- start and stop ---- */

/* Reads the store's name and every till's binding. */
static int read_bindings(const struct api_settings *cfg)
{
    enum { CAP = 256 };
    static struct patron_terminal list[CAP];
    struct patron_store_info info;
    patron_store *s = NULL;
    size_t count = 0;
    int err = patron_store_open(cfg->db_path, &s);
    if (err == 0 && (err = patron_store_info(s, &info)) == 0)
        snprintf(g.store_name, sizeof g.store_name, "%s", info.name);
    if (err == 0)
        err = patron_terminal_list(s, list, CAP, &count);
    if (err == 0 && !(g.tills = calloc(count ? count : 1, sizeof *g.tills)))
        err = PATRON_ENOMEM;
    for (size_t i = 0; err == 0 && i < count && i < CAP; i++) {
        struct patron_display_binding b;
        const struct patron_display_profile *p;
        if (list[i].revoked_at || patron_terminal_display_get(s, list[i].terminal_id, &b) != 0 ||
            strcmp(b.spec, "none") == 0 || !(p = patron_display_profile_find(b.profile)))
            continue;
        struct till_display *t = &g.tills[g.n++];
        t->till_id = list[i].terminal_id;
        t->profile = *p;
        snprintf(t->spec, sizeof t->spec, "%s", b.spec);
    }
    patron_store_close(s);
    return err;
}

static void open_all(void)
{
    for (size_t i = 0; i < g.n; i++) {
        struct till_display *t = &g.tills[i];
        char detail[256] = "";
        int err = patron_display_open(t->spec, &t->profile, &t->d, detail, sizeof detail);
        if (err) {
            api_log("event=display_failed till=%lld error=%s detail=\"%.150s\"",
                    (long long)t->till_id, patron_err_name(err), detail);
            t->d = NULL;
            continue;
        }
        api_log("event=display till=%lld spec=\"%.100s\" profile=%s", (long long)t->till_id,
                t->spec, t->profile.name);
        go_idle(t, now_ms());
    }
}

void api_display_start(const struct api_settings *cfg)
{
    char msg[512] = "";
    int err;
    g.idle_ms = (int64_t)(cfg->display_idle_s ? cfg->display_idle_s : IDLE_DEFAULT_S) * 1000;
    if ((err = read_bindings(cfg)) != 0 || g.n == 0) {
        if (err)
            api_log("event=display_failed error=%s detail=\"cannot read the tills' displays\"",
                    patron_err_name(err));
        return;
    }
    if ((err = patron_display_templates_load(cfg->home, &g.templates, msg, sizeof msg)) != 0) {
        api_log("event=display_failed error=%s detail=\"%.300s\"", patron_err_name(err), msg);
        return;
    }
    open_all();
    pthread_mutex_lock(&g.lock);
    g.stop = 0;
    g.running = pthread_create(&g.thread, NULL, display_main, NULL) == 0;
    pthread_mutex_unlock(&g.lock);
}

void api_display_stop(void)
{
    pthread_mutex_lock(&g.lock);
    int running = g.running;
    g.stop = 1;
    g.running = 0;
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
    if (running)
        pthread_join(g.thread, NULL);
    for (size_t i = 0; i < g.n; i++)
        patron_display_close(g.tills[i].d);
    free(g.tills);
    g.tills = NULL;
    g.n = 0;
    g.count = 0;
    patron_display_templates_free(g.templates);
    g.templates = NULL;
}

/* ---- events ---- */

static void text_of(const json_t *o, const char *key, char *out, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));
    snprintf(out, cap, "%s", s ? s : "");
}

static int64_t int_of(const json_t *o, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(o, key));
}

static int event_of(const char *type, const json_t *data, struct event *e)
{
    memset(e, 0, sizeof *e);
    if (strcmp(type, "scan") == 0) {
        e->kind = PATRON_DISPLAY_SCAN;
        text_of(data, "name", e->name, sizeof e->name);
        text_of(data, "next_tier", e->tier, sizeof e->tier);
        e->v.greet_by_name = json_is_true(json_object_get(data, "greet_by_name"));
        e->v.points_to_next_tier = int_of(data, "points_to_next_tier");
        text_of(data, "next_reward", e->next_reward, sizeof e->next_reward);
        e->v.points_to_next_reward = int_of(data, "points_to_next_reward");
    } else if (strcmp(type, "sale") == 0) {
        e->kind = PATRON_DISPLAY_SALE;
        e->v.points_earned = int_of(data, "points_earned") + int_of(data, "bonus_points");
    } else if (strcmp(type, "redemption") == 0) {
        e->kind = PATRON_DISPLAY_REDEMPTION;
        text_of(data, "reward_name", e->reward, sizeof e->reward);
        e->v.points_spent = int_of(data, "points_spent");
    } else {
        return -1;
    }
    e->v.points = int_of(data, "points");
    return 0;
}

void patron__display_on_event(struct server *srv, int64_t till_id, const char *type,
                              const json_t *data)
{
    struct event e;
    (void)srv;
    if (!type || !json_is_object(data) || event_of(type, data, &e) != 0)
        return;
    e.till_id = till_id;
    pthread_mutex_lock(&g.lock);
    if (!g.running) {
        pthread_mutex_unlock(&g.lock);
        return;
    }
    if (g.count == QUEUE_MAX) { /* never wait for a display: the oldest event goes */
        g.head = (g.head + 1) % QUEUE_MAX;
        g.count--;
        g.dropped++;
    }
    g.q[(g.head + g.count) % QUEUE_MAX] = e;
    g.count++;
    pthread_cond_signal(&g.wake);
    pthread_mutex_unlock(&g.lock);
}

int api_display_wanted(int64_t till_id)
{
    int found = 0;
    pthread_mutex_lock(&g.lock);
    for (size_t i = 0; g.running && i < g.n && !found; i++)
        found = g.tills[i].till_id == till_id && g.tills[i].d != NULL;
    pthread_mutex_unlock(&g.lock);
    return found;
}

void api_display_after(const struct api_call *c, const struct api_response *r)
{
    if (!c->display_event || !c->reply || r->err != 0 || r->status >= 300)
        return;
    if (!c->display_note[0]) {
        patron__display_on_event(NULL, c->terminal.terminal_id, c->display_event, c->reply);
        return;
    }
    /* the reply, with the reward's name (and a scan's points still needed) beside it */
    int scan = strcmp(c->display_event, "scan") == 0;
    json_t *data = json_copy(c->reply);
    if (data &&
        json_object_set_new(data, scan ? "next_reward" : "reward_name",
                            json_string(c->display_note)) == 0 &&
        (!scan || json_object_set_new(data, "points_to_next_reward",
                                      json_integer((json_int_t)c->display_number)) == 0))
        patron__display_on_event(NULL, c->terminal.terminal_id, c->display_event, data);
    json_decref(data);
}
