/* SPDX-License-Identifier: MIT */
/* A quick reader for the plain bodies tills send, beside jansson's json_loadb: objects, arrays,
 * strings of printable ASCII without escapes, integers of at most 18 digits, true, false, null,
 * spaces between. On anything else (an escape, a byte outside printable ASCII, a real number, a
 * duplicate key, deep nesting, trailing bytes, an error of any kind) it gives up and returns
 * NULL, and the caller parses with jansson, which then accepts or refuses with its own message.
 * What it accepts, jansson accepts as the same value with the same order of keys (tests/
 * test_json_canon.c compares both), so a body's meaning never depends on which one read it. */
#include <string.h>

#include "api.h"

#define QUICK_DEPTH_MAX 32  /* deeper bodies are jansson's */
#define QUICK_DIGITS_MAX 18 /* always within int64 */

struct quick {
    const char *p, *end;
};

static void skip_space(struct quick *q)
{
    while (q->p < q->end && (*q->p == ' ' || *q->p == '\n' || *q->p == '\r' || *q->p == '\t'))
        q->p++;
}

/* A string at q->p (the opening quote): its bytes and length, or NULL to give up. */
static const char *quick_string(struct quick *q, size_t *len)
{
    const char *s = ++q->p;
    while (q->p < q->end) {
        unsigned char c = (unsigned char)*q->p;
        if (c == '"') {
            *len = (size_t)(q->p - s);
            q->p++;
            return s;
        }
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return NULL;
        q->p++;
    }
    return NULL;
}

static json_t *quick_int(struct quick *q)
{
    int neg = *q->p == '-';
    const char *d = q->p + neg;
    json_int_t v = 0;
    size_t n = 0;
    for (; d + n < q->end && d[n] >= '0' && d[n] <= '9'; n++) {
        if (n == QUICK_DIGITS_MAX)
            return NULL; /* more digits: jansson's, up to its own limit */
        v = v * 10 + (d[n] - '0');
    }
    if (n == 0 || (d[0] == '0' && (n > 1 || neg)))
        return NULL; /* no digits, a leading zero or -0: jansson's */
    q->p = d + n;
    if (q->p < q->end && (*q->p == '.' || *q->p == 'e' || *q->p == 'E'))
        return NULL; /* a real number */
    return json_integer(neg ? -v : v);
}

static json_t *quick_value(struct quick *q, int depth);

static json_t *quick_word(struct quick *q, const char *word, size_t n, json_t *v)
{
    if ((size_t)(q->end - q->p) < n || memcmp(q->p, word, n) != 0)
        return NULL;
    q->p += n;
    return v;
}

static json_t *quick_array(struct quick *q, int depth)
{
    json_t *a = json_array();
    q->p++;
    skip_space(q);
    if (q->p < q->end && *q->p == ']') {
        q->p++;
        return a;
    }
    while (a) {
        json_t *v = quick_value(q, depth + 1);
        if (!v || json_array_append_new(a, v) != 0)
            break;
        skip_space(q);
        if (q->p < q->end && *q->p == ',') {
            q->p++;
            continue;
        }
        if (q->p < q->end && *q->p == ']') {
            q->p++;
            return a;
        }
        break;
    }
    json_decref(a);
    return NULL;
}

static json_t *quick_object(struct quick *q, int depth)
{
    json_t *o = json_object();
    q->p++;
    skip_space(q);
    if (q->p < q->end && *q->p == '}') {
        q->p++;
        return o;
    }
    while (o && q->p < q->end && *q->p == '"') {
        size_t klen;
        const char *k = quick_string(q, &klen);
        if (!k || json_object_getn(o, k, klen)) /* a duplicate: jansson's to refuse */
            break;
        skip_space(q);
        if (q->p >= q->end || *q->p != ':')
            break;
        q->p++;
        skip_space(q);
        json_t *v = quick_value(q, depth + 1);
        if (!v || json_object_setn_new_nocheck(o, k, klen, v) != 0)
            break;
        skip_space(q);
        if (q->p < q->end && *q->p == ',') {
            q->p++;
            skip_space(q);
            continue;
        }
        if (q->p < q->end && *q->p == '}') {
            q->p++;
            return o;
        }
        break;
    }
    json_decref(o);
    return NULL;
}

static json_t *quick_value(struct quick *q, int depth)
{
    if (depth > QUICK_DEPTH_MAX || q->p >= q->end)
        return NULL;
    switch (*q->p) {
    case '{':
        return quick_object(q, depth);
    case '[':
        return quick_array(q, depth);
    case '"': {
        size_t len;
        const char *s = quick_string(q, &len);
        return s ? json_stringn_nocheck(s, len) : NULL;
    }
    case 't':
        return quick_word(q, "true", 4, json_true());
    case 'f':
        return quick_word(q, "false", 5, json_false());
    case 'n':
        return quick_word(q, "null", 4, json_null());
    default:
        return (*q->p == '-' || (*q->p >= '0' && *q->p <= '9')) ? quick_int(q) : NULL;
    }
}

json_t *api_json_quick(const char *buf, size_t len)
{
    struct quick q = {buf, buf + len};
    skip_space(&q);
    if (q.p >= q.end || (*q.p != '{' && *q.p != '['))
        return NULL; /* jansson's: only an object or array stands alone */
    json_t *v = quick_value(&q, 0);
    skip_space(&q);
    if (v && q.p != q.end) { /* bytes after the value: jansson refuses them */
        json_decref(v);
        return NULL;
    }
    return v;
}
