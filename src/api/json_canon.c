/* SPDX-License-Identifier: MIT */
/* The canonical form of a JSON value, written without jansson's dump: byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) writes (keys sorted as jansson sorts them, strings
 * escaped as it escapes them, integers in decimal), so request hashes kept before it still match.
 * It goes either into a growing buffer (a reply's body) or, in blocks, to a sink (the request
 * hash's SHA-256), never through snprintf. A real number is written by jansson itself, so its
 * digits stay exactly jansson's. */
#include <stdlib.h>
#include <string.h>

#include "api.h"

#define CANON_DEPTH_MAX 4096 /* above the parser's own limit (2048): only a cycle reaches it */
#define CANON_KEYS_ON_STACK 32

struct canon {
    char *buf;
    size_t n, cap;
    api_json_sink sink; /* NULL: buf grows */
    void *cls;
    int failed;
    char block[2048];
};

static void flush(struct canon *o)
{
    if (o->n && !o->failed && o->sink(o->cls, o->buf, o->n) != 0)
        o->failed = 1;
    o->n = 0;
}

static int grow(struct canon *o, size_t need)
{
    if (o->cap >= need)
        return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(o->buf, cap);
    if (!p)
        return -1;
    o->buf = p;
    o->cap = cap;
    return 0;
}

static void put_slow(struct canon *o, const char *s, size_t len)
{
    if (o->failed)
        return;
    if (o->sink) {
        flush(o);
        if (len > o->cap) {
            if (!o->failed && o->sink(o->cls, s, len) != 0)
                o->failed = 1;
            return;
        }
    } else if (grow(o, o->n + len + 1) != 0) {
        o->failed = 1;
        return;
    }
    memcpy(o->buf + o->n, s, len);
    o->n += len;
}

/* Most pieces are a few bytes: copied here, without a call. */
static inline void put(struct canon *o, const char *s, size_t len)
{
    if (o->n + len > o->cap || len > 16) {
        put_slow(o, s, len);
        return;
    }
    char *d = o->buf + o->n;
    for (size_t i = 0; i < len; i++)
        d[i] = s[i];
    o->n += len;
}

static inline void put_c(struct canon *o, char c)
{
    if (o->n < o->cap)
        o->buf[o->n++] = c;
    else
        put_slow(o, &c, 1);
}

static void put_int(struct canon *o, json_int_t v)
{
    char d[24];
    size_t i = sizeof d;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    put(o, d + i, sizeof d - i);
}

/* The length of the UTF-8 sequence at s (at most end - s bytes), or 0 when it is not valid UTF-8
 * as jansson judges it: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s, const unsigned char *end)
{
    unsigned u = s[0];
    size_t n = u >= 0xC2 && u <= 0xDF   ? 2
               : u >= 0xE0 && u <= 0xEF ? 3
               : u >= 0xF0 && u <= 0xF4 ? 4
                                        : 0;
    if (n == 0 || (size_t)(end - s) < n)
        return 0;
    unsigned long cp = u & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000))
        return 0;
    return n;
}

/* 1 for a byte written as it is without a second look: printable ASCII but '"' and '\\'. */
#define P8 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char plain[256] = {
    0,  0,  0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, /* 0x00 */
    0,  0,  0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1,  1,  0, 1, 1, 1, 1, 1, P8,                      /* 0x20: '"' */
    P8, P8,                                            /* 0x30 */
    P8, P8,                                            /* 0x40 */
    P8, 1,  1, 1, 1, 0, 1, 1, 1,                       /* 0x50: '\\' */
    P8, P8,                                            /* 0x60 */
    P8, P8,                                            /* 0x70 */
};
#undef P8

static void put_string(struct canon *o, const char *str, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)str, *end = p + len, *run = p;
    put_c(o, '"');
    while (p < end) {
        while (p < end && plain[*p])
            p++; /* the common case: printable ASCII, in one tight loop */
        if (p == end)
            break;
        unsigned c = *p;
        if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (n == 0) {
                o->failed = 1; /* jansson refuses to write it too */
                return;
            }
            p += n;
            continue;
        }
        put(o, (const char *)run, (size_t)(p - run));
        char esc[6] = {'\\', 0};
        size_t k = 2;
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        }
        put(o, esc, k);
        run = ++p;
    }
    put(o, (const char *)run, (size_t)(p - run));
    put_c(o, '"');
}

struct key {
    const char *key;
    size_t len;
    json_t *value;
};

/* jansson's order of keys: bytes compared as unsigned, a prefix first. */
static int key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    int r = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

static void put_value(struct canon *o, json_t *v, int depth);

static void put_object(struct canon *o, json_t *v, int depth)
{
    struct key local[CANON_KEYS_ON_STACK], *keys = local;
    size_t n = json_object_size(v), i = 0;
    if (n > CANON_KEYS_ON_STACK && !(keys = malloc(n * sizeof *keys))) {
        o->failed = 1;
        return;
    }
    for (void *it = json_object_iter(v); it && i < n; it = json_object_iter_next(v, it), i++)
        keys[i] = (struct key){json_object_iter_key(it), json_object_iter_key_len(it),
                               json_object_iter_value(it)};
    n = i;
    if (n > CANON_KEYS_ON_STACK)
        qsort(keys, n, sizeof *keys, key_cmp);
    else /* a few keys: insertion sort, no call per comparison */
        for (size_t a = 1; a < n; a++)
            for (size_t b = a; b > 0 && key_cmp(&keys[b - 1], &keys[b]) > 0; b--) {
                struct key t = keys[b];
                keys[b] = keys[b - 1];
                keys[b - 1] = t;
            }
    put_c(o, '{');
    for (i = 0; i < n && !o->failed; i++) {
        if (i)
            put_c(o, ',');
        put_string(o, keys[i].key, keys[i].len);
        put_c(o, ':');
        put_value(o, keys[i].value, depth + 1);
    }
    put_c(o, '}');
    if (keys != local)
        free(keys);
}

static void put_real(struct canon *o, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        o->failed = 1;
        return;
    }
    put(o, s, strlen(s));
    free(s);
}

static void put_value(struct canon *o, json_t *v, int depth)
{
    if (o->failed)
        return;
    if (depth > CANON_DEPTH_MAX) {
        o->failed = 1;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(o, v, depth);
        return;
    case JSON_ARRAY:
        put_c(o, '[');
        for (size_t i = 0, n = json_array_size(v); i < n && !o->failed; i++) {
            if (i)
                put_c(o, ',');
            put_value(o, json_array_get(v, i), depth + 1);
        }
        put_c(o, ']');
        return;
    case JSON_STRING:
        put_string(o, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        put_int(o, json_integer_value(v));
        return;
    case JSON_REAL:
        put_real(o, v);
        return;
    case JSON_TRUE:
        put(o, "true", 4);
        return;
    case JSON_FALSE:
        put(o, "false", 5);
        return;
    case JSON_NULL:
        put(o, "null", 4);
        return;
    }
    o->failed = 1;
}

int api_json_canon(json_t *v, api_json_sink sink, void *cls)
{
    struct canon o; /* the block is not cleared: only what is written is read */
    if (!json_is_object(v) && !json_is_array(v))
        return PATRON_EINVAL; /* as json_dumps without JSON_ENCODE_ANY */
    o.buf = o.block;
    o.n = 0;
    o.cap = sizeof o.block;
    o.sink = sink;
    o.cls = cls;
    o.failed = 0;
    put_value(&o, v, 0);
    flush(&o);
    return o.failed ? PATRON_EINVAL : 0;
}

char *api_json_dump(json_t *v, size_t *len)
{
    struct canon o = {0};
    if (!json_is_object(v) && !json_is_array(v))
        return NULL;
    put_value(&o, v, 0);
    if (o.failed || grow(&o, o.n + 1) != 0) {
        free(o.buf);
        return NULL;
    }
    o.buf[o.n] = '\0';
    if (len)
        *len = o.n;
    return o.buf;
}
