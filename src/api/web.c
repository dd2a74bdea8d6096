/* SPDX-License-Identifier: MIT */
/* Finding the browser app's files: the table embedded at build time, or a folder on disk
 * (`patron serve --web-root DIR`), where only plain names are looked up (letters, digits, '.',
 * '-', '_' and '/', never a segment starting with a dot), so no path leaves the folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "web.h"

#define WEB_FILE_MAX (4 * 1024 * 1024)

static int plain_path(const char *p)
{
    size_t n = strlen(p);
    if (n < 2 || n > 200 || p[0] != '/')
        return 0;
    for (size_t i = 1; i < n; i++) { /* p[0] is the '/' checked above */
        char ch = p[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '.' || ch == '-' || ch == '_' || ch == '/';
        if (!ok || (ch == '.' && p[i - 1] == '/') || (ch == '/' && p[i - 1] == '/'))
            return 0;
    }
    return strncmp(p, "/test/", 6) != 0;
}

static const char *type_of(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i][0]) == 0)
            return types[i][1];
    return NULL;
}

static int from_disk(const char *root, const char *path, struct api_web_reply *out)
{
    char full[4096];
    struct stat st;
    int err = -1;
    const char *type = type_of(path);
    if (!type || (size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
        return -1;
    FILE *f = fopen(full, "rb");
    if (!f)
        return -1;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX)
        goto out;
    out->owned = malloc((size_t)st.st_size + 1);
    if (!out->owned)
        goto out;
    out->len = fread(out->owned, 1, (size_t)st.st_size, f);
    out->data = out->owned;
    out->type = type;
    out->etag = NULL;
    err = 0;
out:
    fclose(f);
    return err;
}

int api_web_find(const char *root, const char *url, struct api_web_reply *out)
{
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    memset(out, 0, sizeof *out);
    if (!plain_path(path))
        return -1;
    if (root)
        return from_disk(root, path, out);
    for (size_t i = 0; i < api_web_file_count; i++) {
        const struct api_web_file *f = &api_web_files[i];
        if (strcmp(f->path, path) == 0) {
            *out = (struct api_web_reply){f->type, f->data, f->len, f->etag, NULL};
            return 0;
        }
    }
    return -1;
}

int api_web_embedded(void)
{
    return api_web_file_count > 0;
}
