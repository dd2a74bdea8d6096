/* SPDX-License-Identifier: MIT */
/* The table of browser sessions (session.h): a fixed array under one lock, searched by id in
 * constant time per entry; expiry on the monotonic clock, so a change of the wall clock neither
 * ends nor extends a session. */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "session.h"

struct session {
    char id[API_SESSION_ID_LEN + 1]; /* "" when the slot is free */
    char csrf[API_SESSION_ID_LEN + 1];
    char token[PATRON_TOKEN_LEN + 1];
    int64_t expires_ns;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct session table[API_SESSION_MAX];

static int random_hex(char out[API_SESSION_ID_LEN + 1])
{
    unsigned char raw[API_SESSION_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return PATRON_ECRYPTO;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    OPENSSL_cleanse(raw, sizeof raw);
    return 0;
}

int api_session_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb || la == 0)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}

static void forget(struct session *s)
{
    OPENSSL_cleanse(s, sizeof *s);
}

int api_session_new(const char *token, unsigned ttl_s, char id[API_SESSION_ID_LEN + 1],
                    char csrf[API_SESSION_ID_LEN + 1])
{
    int err = random_hex(id);
    if (err == 0)
        err = random_hex(csrf);
    if (err != 0)
        return err;
    int64_t now = api_monotonic_ns();
    pthread_mutex_lock(&lock);
    struct session *free_slot = NULL;
    for (size_t i = 0; i < API_SESSION_MAX; i++) {
        struct session *s = &table[i];
        if (s->id[0] && s->expires_ns <= now)
            forget(s);
        if (!s->id[0] && !free_slot)
            free_slot = s;
    }
    if (free_slot) {
        snprintf(free_slot->id, sizeof free_slot->id, "%s", id);
        snprintf(free_slot->csrf, sizeof free_slot->csrf, "%s", csrf);
        snprintf(free_slot->token, sizeof free_slot->token, "%s", token);
        free_slot->expires_ns = now + (int64_t)ttl_s * 1000000000;
    }
    pthread_mutex_unlock(&lock);
    return free_slot ? 0 : PATRON_ELIMIT;
}

static struct session *find(const char *id)
{
    struct session *hit = NULL;
    for (size_t i = 0; i < API_SESSION_MAX; i++)
        if (table[i].id[0] && api_session_equal(table[i].id, id))
            hit = &table[i];
    return hit;
}

int api_session_get(const char *id, char token[PATRON_TOKEN_LEN + 1],
                    char csrf[API_SESSION_ID_LEN + 1])
{
    int err = PATRON_EAUTH;
    if (!id || strlen(id) != API_SESSION_ID_LEN)
        return err;
    pthread_mutex_lock(&lock);
    struct session *s = find(id);
    if (s && s->expires_ns <= api_monotonic_ns())
        forget(s);
    else if (s) {
        snprintf(token, PATRON_TOKEN_LEN + 1, "%s", s->token);
        snprintf(csrf, API_SESSION_ID_LEN + 1, "%s", s->csrf);
        err = 0;
    }
    pthread_mutex_unlock(&lock);
    return err;
}

void api_session_end(const char *id)
{
    if (!id || strlen(id) != API_SESSION_ID_LEN)
        return;
    pthread_mutex_lock(&lock);
    struct session *s = find(id);
    if (s)
        forget(s);
    pthread_mutex_unlock(&lock);
}
