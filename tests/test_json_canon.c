/* SPDX-License-Identifier: MIT */
/* The counter service's canonical JSON writer (src/api/json_canon.c) against jansson's own
 * json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS), byte for byte, and the request hash against the
 * digest as it was computed before (SHA-256 over method, NUL, path, NUL and jansson's dump), so
 * the hashes kept in a store's reply register before the upgrade still match: over the seed
 * corpus of fuzz_api_json, hand-picked bodies (escapes, control characters, UTF-8 of every
 * length, keys that are prefixes of others, nesting, the integer limits, real numbers, more keys
 * than the writer sorts on its stack, strings longer than its block) and many random values. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "api.h"

/* The digest as api_request_hash computed it before: jansson's dump, then SHA-256. */
static void old_hash(const char *method, const char *path, json_t *body, uint8_t out[32])
{
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned n = 0;
    assert_non_null(canon);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    EVP_DigestUpdate(md, method, strlen(method) + 1);
    EVP_DigestUpdate(md, path, strlen(path) + 1);
    EVP_DigestUpdate(md, canon, strlen(canon));
    assert_int_equal(EVP_DigestFinal_ex(md, out, &n), 1);
    EVP_MD_CTX_free(md);
    free(canon);
}

struct collect {
    char *buf;
    size_t n;
};

static int collect_sink(void *cls, const char *buf, size_t len)
{
    struct collect *c = cls;
    c->buf = realloc(c->buf, c->n + len + 1);
    assert_non_null(c->buf);
    memcpy(c->buf + c->n, buf, len);
    c->n += len;
    c->buf[c->n] = '\0';
    return 0;
}

static size_t compared;

/* The one check: the same bytes from both writers (the string and the streamed form), and the
 * same request digest. */
static void same(json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    size_t len = 0;
    char *got = api_json_dump(v, &len);
    if (!want) { /* jansson refuses it: so does the writer */
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(len, strlen(want));
    struct collect c = {NULL, 0};
    assert_int_equal(api_json_canon(v, collect_sink, &c), 0);
    assert_int_equal(c.n, strlen(want));
    assert_memory_equal(c.buf, want, c.n);
    if (json_is_object(v)) {
        uint8_t a[32], b[32];
        old_hash("POST", "/v1/sales", v, a);
        assert_int_equal(api_request_hash("POST", "/v1/sales", v, b), 0);
        assert_memory_equal(a, b, 32);
    }
    free(c.buf);
    free(got);
    free(want);
    compared++;
}

static void same_text(const char *text, size_t flags)
{
    json_error_t err;
    json_t *v = json_loads(text, flags, &err);
    if (!v)
        fail_msg("not JSON: %s (%s)", text, err.text);
    same(v);
    json_decref(v);
}

static void the_seed_corpus_of_the_body_fuzzer(void **state)
{
    (void)state;
    const char *src = getenv("PATRON_SOURCE_DIR");
    char dir[4096], path[8192];
    assert_non_null(src);
    snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/fuzz_api_json", src);
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t before = compared, files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char buf[70000];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        files++;
        /* "METHOD PATH\nBODY": the body, and the whole input too where it is JSON */
        const char *nl = memchr(buf, '\n', n);
        const char *body = nl ? nl + 1 : buf;
        json_t *v = json_loadb(body, n - (size_t)(body - buf), JSON_DECODE_ANY, NULL);
        if (v && (json_is_object(v) || json_is_array(v)))
            same(v);
        json_decref(v);
    }
    closedir(d);
    assert_true(files >= 10);
    assert_true(compared - before >= 10); /* most seeds hold a JSON body */
}

static void escapes_utf8_nesting_and_numbers(void **state)
{
    (void)state;
    static const char *texts[] = {
        "{}",
        "[]",
        "{\"a\":{},\"b\":[],\"c\":[[],{}]}",
        "{\"q\":\"say \\\"hi\\\" \\\\ back\\/slash\"}",
        "{\"ctl\":\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u0010\\u007f x\"}",
        "{\"utf8\":\"caf\\u00e9 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\ud83d\\ude00 \\u2028\"}",
        "{\"\xc3\xa9\":1,\"e\":2,\"E\":3,\"\xe2\x82\xac\":4,\"\xf0\x9f\x98\x80\":5,\"_\":6}",
        "{\"ab\":1,\"a\":2,\"abc\":3,\"b\":4,\"\":5,\"A\":6,\"a b\":7,\"a\\u0001\":8}",
        "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"zero\":0,\"neg\":-1,"
        "\"ten\":10,\"big\":1000000000000}",
        "{\"r\":1.5,\"e\":1e300,\"t\":-0.0,\"s\":0.1,\"x\":123456789.123456789,\"y\":-2.5e-10}",
        "{\"t\":true,\"f\":false,\"n\":null,\"arr\":[true,false,null,1,\"s\",[1,[2,[3]]]]}",
        "{\"lines\":[{\"sku\":\"COFFEE\",\"category\":\"coffee\",\"qty\":2,\"unit_price\":350},"
        "{\"unit_price\":420,\"qty\":1,\"sku\":\"CAKE\",\"category\":\"bakery\"}],"
        "\"card\":\"6274000000001\",\"total\":1120,\"ref\":\"r-1\"}",
        "[1,\"two\",{\"three\":3}]",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        same_text(texts[i], 0);
    same_text("{\"nul\":\"a\\u0000b\",\"k\":2}", JSON_ALLOW_NUL);
}

static void many_keys_long_strings_and_deep_nesting(void **state)
{
    (void)state;
    json_t *o = json_object();
    char key[32];
    for (int i = 0; i < 300; i++) { /* more keys than the writer sorts on its stack */
        snprintf(key, sizeof key, "k%d", (i * 7919) % 1000);
        json_object_set_new(o, key, json_integer(i - 150));
    }
    same(o);
    char *big = malloc(100001);
    assert_non_null(big);
    for (size_t i = 0; i < 100000; i++) /* longer than the writer's block, with escapes */
        big[i] = i % 97 == 0 ? '"' : i % 89 == 0 ? '\n' : (char)('a' + i % 26);
    big[100000] = '\0';
    json_object_set_new(o, "big", json_string(big));
    same(o);
    free(big);
    json_decref(o);
    json_t *deep = json_integer(1);
    for (int i = 0; i < 1500; i++)
        deep = i % 2 ? json_pack("[o]", deep) : json_pack("{s:o}", "d", deep);
    same(deep);
    json_decref(deep);
    /* a string that is not UTF-8 (set without the check): neither writes it */
    json_t *bad = json_pack("{s:o}", "x", json_stringn_nocheck("\xff\xfe", 2));
    same(bad);
    json_decref(bad);
}

/* A random value, as a fuzzer would make one: every kind, keys and strings from a small
 * alphabet with escapes and UTF-8 so that they collide and sort against each other. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_text(char *s, size_t cap)
{
    static const char *pieces[] = {"a",
                                   "b",
                                   "A",
                                   "z",
                                   "0",
                                   " ",
                                   "\"",
                                   "\\",
                                   "/",
                                   "\n",
                                   "\t",
                                   "\x01",
                                   "\x1f",
                                   "\x7f",
                                   "\xc3\xa9",
                                   "\xe2\x82\xac",
                                   "\xf0\x9f\x98\x80",
                                   "\xef\xbf\xbf",
                                   "ab"};
    size_t n = rnd(6), len = 0;
    s[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
        if (len + strlen(p) + 1 > cap)
            break;
        memcpy(s + len, p, strlen(p) + 1);
        len += strlen(p);
    }
}

static json_t *random_value(int depth)
{
    char text[64];
    static const json_int_t ints[] = {
        0,   1,     -1,         9,         10,        -10,           99,
        100, 12345, -987654321, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    switch (depth > 4 ? 2 + rnd(6) : rnd(8)) {
    case 0: {
        json_t *o = json_object();
        for (unsigned i = rnd(6); i > 0; i--) {
            random_text(text, sizeof text);
            json_object_set_new(o, text, random_value(depth + 1));
        }
        return o;
    }
    case 1: {
        json_t *a = json_array();
        for (unsigned i = rnd(5); i > 0; i--)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    case 2:
        random_text(text, sizeof text);
        return json_string(text);
    case 3:
        return json_integer(ints[rnd(sizeof ints / sizeof ints[0])]);
    case 4:
        return json_integer((json_int_t)(rng >> rnd(64)) * (rnd(2) ? 1 : -1));
    case 5:
        return json_real((double)(json_int_t)rng / (double)(1 + rnd(100000)));
    case 6:
        return rnd(2) ? json_true() : json_false();
    default:
        return json_null();
    }
}

static void random_values(void **state)
{
    (void)state;
    for (int i = 0; i < 3000; i++) {
        json_t *v = json_object();
        for (unsigned k = rnd(8); k > 0; k--) {
            char key[64];
            random_text(key, sizeof key);
            json_object_set_new(v, key, random_value(1));
        }
        same(v);
        json_decref(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_seed_corpus_of_the_body_fuzzer),
        cmocka_unit_test(escapes_utf8_nesting_and_numbers),
        cmocka_unit_test(many_keys_long_strings_and_deep_nesting),
        cmocka_unit_test(random_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
