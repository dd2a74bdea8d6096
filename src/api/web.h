/* SPDX-License-Identifier: MIT */
/* The browser app's files: embedded in the program at build time (cmake/embed_web.cmake writes
 * the table from web/), or read from a folder on disk while developing (`--web-root DIR`). */
#ifndef PATRON_API_WEB_H
#define PATRON_API_WEB_H

#include <stddef.h>

struct api_web_file {
    const char *path; /* "/index.html" */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* "\"md5\"" */
};

/* The generated table, ended by a row of NULLs. */
extern const struct api_web_file api_web_files[];
extern const size_t api_web_file_count;

/* A file to answer with. */
struct api_web_reply {
    const char *type;
    const unsigned char *data; /* embedded, or `owned` */
    size_t len;
    const char *etag;     /* NULL from disk */
    unsigned char *owned; /* malloc'd when read from disk; the caller frees it */
};

/* Finds the file for a GET of `url` ("/" is "/index.html"): from `root` when it is not NULL,
 * else from the embedded table. Returns 0 and fills out, or -1 when there is no such file (the
 * request then goes on to the API's routes, which answer 404). */
int api_web_find(const char *root, const char *url, struct api_web_reply *out);

/* 1 when the embedded table holds the app (a build always embeds web/ when it is there). */
int api_web_embedded(void);

#endif
