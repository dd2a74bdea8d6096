/* SPDX-License-Identifier: MIT */
/* Strict request bodies: a body is one JSON object whose every field is described by the route's
 * spec, so malformed JSON, unknown or duplicate fields, wrong types and out-of-range numbers are
 * refused with a sentence saying which field, before any rule of the library runs. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <pthread.h>

#include "api.h"

static int fail(char *detail, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *detail, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, cap, fmt, ap);
    va_end(ap);
    return PATRON_EINVAL;
}

static const char *type_name(enum api_json_type t)
{
    switch (t) {
    case API_JSON_STRING:
        return "a string";
    case API_JSON_INT:
        return "an integer";
    case API_JSON_BOOL:
        return "true or false";
    case API_JSON_ARRAY:
        return "an array";
    }
    return "?";
}

static int check_object(json_t *obj, const struct api_body_spec *spec, char *detail, size_t cap);

static int check_field(json_t *v, const struct api_field *f, char *detail, size_t cap)
{
    switch (f->type) {
    case API_JSON_STRING: {
        if (!json_is_string(v))
            break;
        size_t n = json_string_length(v);
        if ((int64_t)n < f->min || (int64_t)n > f->max)
            return fail(detail, cap, "field '%s' must be %lld to %lld bytes long", f->name,
                        (long long)f->min, (long long)f->max);
        if (memchr(json_string_value(v), '\0', n))
            return fail(detail, cap, "field '%s' must not contain NUL", f->name);
        return 0;
    }
    case API_JSON_INT:
        if (!json_is_integer(v))
            break;
        if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return fail(detail, cap, "field '%s' must be from %lld to %lld", f->name,
                        (long long)f->min, (long long)f->max);
        return 0;
    case API_JSON_BOOL:
        if (!json_is_boolean(v))
            break;
        return 0;
    case API_JSON_ARRAY: {
        if (!json_is_array(v))
            break;
        size_t n = json_array_size(v), i;
        json_t *item;
        if ((int64_t)n < f->min || (int64_t)n > f->max)
            return fail(detail, cap, "field '%s' holds at most %lld items", f->name,
                        (long long)f->max);
        json_array_foreach(v, i, item)
        {
            if (!f->items) { /* an array of strings */
                if (!json_is_string(item))
                    return fail(detail, cap, "each item of '%s' must be a string", f->name);
                continue;
            }
            if (!json_is_object(item))
                return fail(detail, cap, "each item of '%s' must be an object", f->name);
            int err = check_object(item, f->items, detail, cap);
            if (err != 0)
                return err;
        }
        return 0;
    }
    }
    snprintf(detail, cap, "field '%s' must be %s", f->name, type_name(f->type));
    return PATRON_EINVAL;
}

static int check_object(json_t *obj, const struct api_body_spec *spec, char *detail, size_t cap)
{
    const char *key;
    json_t *v;
    uint64_t seen = 0; /* the fields met, for the required ones (no second look-up) */
    json_object_foreach(obj, key, v)
    {
        size_t i = 0;
        while (i < spec->n_fields && strcmp(spec->fields[i].name, key) != 0)
            i++;
        if (i == spec->n_fields) {
            /* The key comes from the client: quote it only when it is short and plain. */
            int plain = strlen(key) <= 40 &&
                        strspn(key, "abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == strlen(key);
            return fail(detail, cap, "unknown field '%s'", plain ? key : "(unprintable)");
        }
        if (i < 64)
            seen |= (uint64_t)1 << i;
        if (json_is_null(v) && !spec->fields[i].required)
            continue;
        int err = check_field(v, &spec->fields[i], detail, cap);
        if (err != 0)
            return err;
    }
    for (size_t i = 0; i < spec->n_fields; i++)
        if (spec->fields[i].required &&
            !(i < 64 ? seen >> i & 1 : json_object_get(obj, spec->fields[i].name) != NULL))
            return fail(detail, cap, "field '%s' is required", spec->fields[i].name);
    return 0;
}

/* Bounded by len: the body is bytes with a length, not a C string. */
static int only_space(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!memchr(" \t\r\n", buf[i], 4))
            return 0;
    return 1;
}

int api_body_parse(const char *buf, size_t len, const struct api_body_spec *spec, json_t **out,
                   char *detail, size_t cap)
{
    json_error_t jerr;
    if (len > API_BODY_MAX) {
        snprintf(detail, cap, "the body is larger than %d bytes", API_BODY_MAX);
        return PATRON_ETOOBIG;
    }
    if (!spec) {
        if (!only_space(buf, len)) {
            snprintf(detail, cap, "this request takes no body");
            return PATRON_EINVAL;
        }
        *out = NULL;
        return 0;
    }
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        snprintf(detail, cap, "the body is not valid JSON (line %d, column %d)", jerr.line,
                 jerr.column);
        return PATRON_EINVAL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        snprintf(detail, cap, "the body must be a JSON object");
        return PATRON_EINVAL;
    }
    int err = check_object(v, spec, detail, cap);
    if (err != 0) {
        json_decref(v);
        return err;
    }
    *out = v;
    return 0;
}

/* SHA-256 fetched once per process (EVP_sha256() looks it up again on every init). */
static EVP_MD *sha256_fetched;

static void fetch_sha256(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fetch_sha256);
    return sha256_fetched ? sha256_fetched : EVP_sha256();
}

static int digest_sink(void *cls, const char *buf, size_t len)
{
    return EVP_DigestUpdate(cls, buf, len) == 1 ? 0 : -1;
}

/* The body's canonical form goes into the digest in blocks, as it is written. */
int api_request_hash(const char *method, const char *path, json_t *body, uint8_t out[32])
{
    unsigned n = 0;
    int ok = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md) {
        ok = EVP_DigestInit_ex(md, sha256(), NULL) == 1 &&
             EVP_DigestUpdate(md, method, strlen(method) + 1) == 1 &&
             EVP_DigestUpdate(md, path, strlen(path) + 1) == 1 &&
             (!body || api_json_canon(body, digest_sink, md) == 0) &&
             EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32;
    }
    EVP_MD_CTX_free(md);
    return ok ? 0 : PATRON_ECRYPTO;
}
