/* SPDX-License-Identifier: MIT */
/* Helpers of the API tests: a store prepared through the `patron` program, the counter service
 * started as a child process on 127.0.0.1 port 0 (its port read from the line it prints), and a
 * libcurl client that returns status, headers of interest and the parsed JSON body. */
#ifndef PATRON_APIUTIL_H
#define PATRON_APIUTIL_H

#include <curl/curl.h>
#include <jansson.h>
#include <sys/types.h>

#include "testutil.h"

struct api_server {
    pid_t pid;
    int port;
    char dir[256];
    char db[300];
    char log[300];
    char banner[4096]; /* what the service printed before it listened (demo tokens) */
};

/* Makes a temporary directory with an initialised store (id 1) at sv->db. */
void apit_store_new(struct api_server *sv);
/* The same with the store's id (a store of a chain). */
void apit_store_new_id(struct api_server *sv, int store_id);
/* Runs `patron --db DB --json ARGS...` and returns its JSON output (the test fails when it
 * exits non-zero or prints no JSON). NULL-terminated. */
json_t *apit_patron(struct api_server *sv, const char *arg, ...);
/* Adds a till with a role and copies its token into token[64]. */
void apit_terminal(struct api_server *sv, const char *name, const char *role, char *token);
/* Enrolls a member through the program; copies the card into card[14]. */
void apit_member(struct api_server *sv, const char *name, char *card);

/* Starts `patron --db DB serve --listen 127.0.0.1:0 EXTRA...` (NULL-terminated) and waits for
 * its "listening on" line. Its stderr goes to sv->log. */
void apit_start(struct api_server *sv, const char *extra, ...);
/* Like apit_start, but returns the exit status when it stops before listening (or -1 when it
 * listens), with stderr's first line in why[256]. */
int apit_try_start(struct api_server *sv, char *why, const char *const *extra);
/* SIGTERM and wait: returns the exit status (128+signal when killed). */
int apit_stop(struct api_server *sv);
/* SIGKILL and wait. */
void apit_kill(struct api_server *sv);
/* Removes the directory. */
void apit_cleanup(struct api_server *sv);
/* A self-signed P-256 certificate for localhost and its key, made by openssl in sv->dir; their
 * paths in cert[300] and key[300]. Returns 0, or -1 when openssl could not make them. */
int apit_tls_files(const struct api_server *sv, char *cert, char *key);

struct apit_reply {
    long status;
    json_t *json;       /* parsed body or NULL */
    char *body;         /* raw body, NUL-terminated */
    char type[128];     /* Content-Type */
    int replayed;       /* Idempotent-Replayed: true */
    int www_auth;       /* WWW-Authenticate present */
    size_t len;         /* bytes of body (a PNG is not NUL-free) */
    char headers[4096]; /* the reply's header lines, as received (cut when longer) */
};

/* How long one request may take before apit_request gives up (30 s unless set); set it before
 * starting the threads that make requests. */
void apit_set_timeout(long seconds);

/* One request over `h` (a curl easy handle the caller keeps for keep-alive; NULL makes a
 * temporary one). token and key may be NULL; body may be NULL. A token is sent as "Bearer
 * TOKEN" unless it names its own scheme ("ApplePass TOKEN"). Returns the CURLcode. */
int apit_request(CURL *h, int port, const char *method, const char *path, const char *token,
                 const char *key, const char *body, struct apit_reply *out);
void apit_reply_free(struct apit_reply *r);

/* The same with request headers of the caller's ("Cookie: a=b", NULL-terminated; NULL for
 * none) instead of a token and a key. */
int apit_request_with(CURL *h, int port, const char *method, const char *path,
                      const char *const *headers, const char *body, struct apit_reply *out);
/* The value of header `name` in a reply ("" when absent), copied into out[cap]. */
const char *apit_header(const struct apit_reply *r, const char *name, char *out, size_t cap);

/* The same, failing the test on a transport error. */
void apit_call(int port, const char *method, const char *path, const char *token, const char *key,
               const char *body, struct apit_reply *out);

/* A string field of a JSON reply (NULL when absent or not a string). */
const char *apit_jstr(json_t *j, const char *key);
/* An integer field of a JSON reply; fails the test when it is absent or not an integer. */
int64_t apit_jint(json_t *j, const char *key);
/* Fails the test (printing the body) unless the reply has `status` and, when `code` is given,
 * that error code. */
void apit_assert_status(const struct apit_reply *r, long status, const char *code);
/* 1 when `again` answers as `first` did, as a replay: the same status and body, except that a
 * result with a "replayed" field says true there (as the Idempotent-Replayed header does), and
 * the header is set. Safe from any thread. */
int apit_is_replay_of(const struct apit_reply *again, const struct apit_reply *first);
/* Fails the test (printing both bodies) unless apit_is_replay_of. */
void apit_assert_replay_of(const struct apit_reply *again, const struct apit_reply *first);

#endif
