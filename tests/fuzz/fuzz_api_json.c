/* SPDX-License-Identifier: MIT */
/* Fuzz target for what the counter service reads from a request before any library rule runs:
 * the route table's matching of method and path, and the strict JSON body of that route. The
 * input is "METHOD PATH\nBODY"; when the path matches no route, the body is still checked against
 * one route's spec, picked by the input's size. A body that is accepted must really fit its spec
 * (checked here field by field), and its canonical form must parse again to an equal body with
 * the same request digest. The canonical writer agrees with
 * jansson on every input. The body is handed over without a terminating NUL, as its length
 * says, so a parser that reads past it is caught. A refusal must make a valid problem document. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define LINE_MAX_ 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fits(json_t *obj, const struct api_body_spec *spec);

static int field_fits(json_t *v, const struct api_field *f)
{
    switch (f->type) {
    case API_JSON_STRING: {
        size_t n = json_string_length(v);
        return json_is_string(v) && (int64_t)n >= f->min && (int64_t)n <= f->max &&
               strlen(json_string_value(v)) == n;
    }
    case API_JSON_INT:
        return json_is_integer(v) && json_integer_value(v) >= f->min &&
               json_integer_value(v) <= f->max;
    case API_JSON_BOOL:
        return json_is_boolean(v);
    case API_JSON_ARRAY: {
        size_t i;
        json_t *item;
        if (!json_is_array(v) || (int64_t)json_array_size(v) < f->min ||
            (int64_t)json_array_size(v) > f->max)
            return 0;
        json_array_foreach(v, i, item) if (!json_is_object(item) || !fits(item, f->items)) return 0;
        return 1;
    }
    }
    return 0;
}

static int fits(json_t *obj, const struct api_body_spec *spec)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        const struct api_field *f = NULL;
        for (size_t i = 0; i < spec->n_fields && !f; i++)
            if (strcmp(spec->fields[i].name, key) == 0)
                f = &spec->fields[i];
        if (!f || (json_is_null(v) ? f->required : !field_fits(v, f)))
            return 0;
    }
    for (size_t i = 0; i < spec->n_fields; i++)
        if (spec->fields[i].required && !json_object_get(obj, spec->fields[i].name))
            return 0;
    return 1;
}

/* The accepted body in canonical form parses again to an equal body with the same digest. */
static void check_canonical(const char *method, const char *path, json_t *body,
                            const struct api_body_spec *spec)
{
    uint8_t h1[32], h2[32];
    char detail[API_DETAIL_MAX];
    json_t *again = NULL;
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    if (!canon)
        abort();
    size_t n = strlen(canon);
    char *exact = malloc(n ? n : 1);
    if (!exact)
        abort();
    memcpy(exact, canon, n);
    if (api_body_parse(exact, n, spec, &again, detail, sizeof detail) != 0 ||
        !json_equal(body, again))
        abort();
    if (api_request_hash(method, path, body, h1) != 0 ||
        api_request_hash(method, path, again, h2) != 0 || memcmp(h1, h2, sizeof h1) != 0)
        abort();
    json_decref(again);
    free(exact);
    free(canon);
}

/* The canonical writer writes jansson's bytes for whatever jansson reads. */
static void check_canon(const char *body, size_t len)
{
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (j) {
        char *a = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS), *b = api_json_dump(j, NULL);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            abort();
        free(a);
        free(b);
    }
    json_decref(j);
}

/* A refusal goes back as a problem document: valid JSON with the status of its code and the
 * detail sentence (which may quote the client's field names). */
static void check_problem(int rc, const char *detail, const char *path)
{
    struct api_response r = {0};
    json_error_t jerr;
    if (api_problem(rc, detail, path, &r) != 0)
        abort();
    json_t *doc = json_loadb(r.body, r.len, 0, &jerr);
    json_t *d = json_object_get(doc, "detail");
    if (!doc || r.status != api_problem_status(rc) ||
        json_integer_value(json_object_get(doc, "status")) != r.status ||
        (d && strcmp(json_string_value(d), detail) != 0))
        abort();
    json_decref(doc);
    api_response_cleanup(&r);
}

static const struct api_route *route_of(const char *method, const char *path, size_t size)
{
    char params[API_PARAMS][API_PARAM_MAX + 1], allow[16];
    int i = api_route_match(method, path, params);
    api_route_allow(path, allow, sizeof allow); /* a small buffer: must cut, not overflow */
    if (i >= 0) {
        if ((size_t)i >= api_route_count || strcmp(api_routes[i].method, method) != 0)
            abort();
        for (int k = 0; k < 2; k++)
            if (!memchr(params[k], '\0', sizeof params[k]))
                abort();
        return &api_routes[i];
    }
    if (i != -404 && i != -405 && i != -400)
        abort();
    return &api_routes[size % api_route_count];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char line[LINE_MAX_ + 1], detail[API_DETAIL_MAX] = "";
    const uint8_t *nl = memchr(data, '\n', size < LINE_MAX_ ? size : LINE_MAX_);
    if (!nl || size - (size_t)(nl + 1 - data) > API_BODY_MAX + 16)
        return 0;
    size_t head = (size_t)(nl - data), len = size - head - 1;
    memcpy(line, data, head);
    line[head] = '\0';
    char *sp = strchr(line, ' ');
    const char *method = line, *path = sp ? sp + 1 : "";
    if (sp)
        *sp = '\0';
    const struct api_route *route = route_of(method, path, size);
    char *body = malloc(len ? len : 1);
    json_t *out = NULL;
    if (!body)
        abort();
    memcpy(body, nl + 1, len);
    check_canon(body, len);
    int rc = api_body_parse(body, len, route->body, &out, detail, sizeof detail);
    if (rc != 0) {
        if ((rc != PATRON_EINVAL && rc != PATRON_ETOOBIG) || detail[0] == '\0' || out)
            abort();
        check_problem(rc, detail, path);
    } else if (!route->body) {
        if (out)
            abort();
    } else {
        if (!json_is_object(out) || !fits(out, route->body))
            abort();
        check_canonical(route->method, route->pattern, out, route->body);
    }
    json_decref(out);
    free(body);
    return 0;
}
