/* SPDX-License-Identifier: MIT */
/* Replies of the counter service: JSON results and problem documents (RFC 9457). The HTTP status
 * of every PATRON_* code comes from the one table below, by the code's kind, with the few codes
 * that need a status of their own listed first; each code has a stable `type` URI. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"

#define PROBLEM_BASE "https://patron.invalid/problems/"

/* Codes whose status differs from their kind's. */
static const struct {
    int err;
    int status;
} status_by_code[] = {
    {PATRON_EIDEMPOTENCY, 422},
    {PATRON_ETOOBIG, 413},
    {-EBUSY, 503}, /* the database stayed locked past busy_timeout: retry */
    {-ESHUTDOWN, 503},
    {-EHOSTUNREACH, 503}, /* head office cannot be reached (GET /v1/chain) */
};

static const int status_by_kind[] = {
    [PATRON_KIND_OK] = 200,        [PATRON_KIND_REFUSED] = 409,  [PATRON_KIND_NOTFOUND] = 404,
    [PATRON_KIND_INVALID] = 400,   [PATRON_KIND_DEVICE] = 503,   [PATRON_KIND_AUTH] = 401,
    [PATRON_KIND_FORBIDDEN] = 403, [PATRON_KIND_INTERNAL] = 500,
};

int api_problem_status(int err)
{
    for (size_t i = 0; i < sizeof status_by_code / sizeof status_by_code[0]; i++)
        if (status_by_code[i].err == err)
            return status_by_code[i].status;
    return status_by_kind[patron_err_kind(err)];
}

static int dump_into(json_t *obj, const char *type, struct api_response *r)
{
    /* The canonical writer: the bytes json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) gives. */
    r->body = obj ? api_json_dump(obj, &r->len) : NULL;
    json_decref(obj);
    if (!r->body)
        return PATRON_ENOMEM;
    r->content_type = type;
    return 0;
}

static int problem_build(int status, const char *slug, const char *title, const char *detail,
                         const char *code, json_t *extra, struct api_response *r)
{
    char type[128];
    snprintf(type, sizeof type, PROBLEM_BASE "%s", slug);
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", type, "title", title, "status", status);
    if (o && detail && detail[0])
        json_object_set_new(o, "detail", json_string(detail));
    if (o && code)
        json_object_set_new(o, "code", json_string(code));
    if (o && extra) /* fields of the route's own; never the standard ones */
        json_object_update_missing(o, extra);
    r->status = status;
    return dump_into(o, "application/problem+json", r);
}

static int problem_of(int err, const char *detail, json_t *extra, struct api_response *r)
{
    char slug[64];
    const char *name = patron_err_name(err);
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof slug; i++)
        slug[i] = (char)tolower((unsigned char)name[i]);
    slug[i] = '\0';
    r->err = err;
    /* jansson refuses strings that are not UTF-8; a detail quoting raw input could be one. */
    json_t *probe = detail ? json_string(detail) : NULL;
    if (!probe)
        detail = NULL;
    json_decref(probe);
    return problem_build(api_problem_status(err), slug, patron_strerror(err), detail, name, extra,
                         r);
}

int api_problem(int err, const char *detail, const char *instance, struct api_response *r)
{
    (void)instance;
    return problem_of(err, detail, NULL, r);
}

int api_problem_http(int status, const char *slug, const char *title, const char *code,
                     const char *detail, struct api_response *r)
{
    r->err = 0;
    return problem_build(status, slug, title, detail, code, NULL, r);
}

int api_call_respond(struct api_call *c, int err, struct api_response *r)
{
    memset(r, 0, sizeof *r);
    if (err == 0)
        err = c->soft_err;
    if (err != 0)
        return problem_of(err, c->detail, c->problem_extra, r);
    size_t cookie = strnlen(c->set_cookie, sizeof r->set_cookie - 1);
    memcpy(r->set_cookie, c->set_cookie, cookie);
    r->set_cookie[cookie] = '\0';
    if (c->stream.read) { /* handed over: the response sends it, then frees it */
        r->stream = c->stream;
        c->stream = (struct api_stream){0};
        r->content_type = c->text_type;
        r->status = c->status ? c->status : 200;
        return 0;
    }
    if (c->text) {
        r->len = c->text_len ? c->text_len : strlen(c->text);
        r->body = malloc(r->len + 1);
        if (!r->body)
            return PATRON_ENOMEM;
        memcpy(r->body, c->text, r->len);
        r->body[r->len] = '\0';
        r->content_type = c->text_type;
        r->status = c->status ? c->status : 200;
        return 0;
    }
    r->status = c->status ? c->status : 200;
    /* The header says what the body says: a result that answers an earlier request. */
    r->replayed = json_is_true(json_object_get(c->reply, "replayed"));
    return dump_into(json_incref(c->reply), "application/json", r);
}

void api_stream_drop(struct api_stream *st)
{
    if (st->read && st->free)
        st->free(st->cls);
    *st = (struct api_stream){0};
}

void api_response_cleanup(struct api_response *r)
{
    free(r->body);
    r->body = NULL;
    api_stream_drop(&r->stream);
}

int64_t api_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void api_log(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write per line so that lines from several threads never interleave. */
    fprintf(stderr, "patron[serve]: %s\n", line);
}
