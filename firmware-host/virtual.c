/* SPDX-License-Identifier: MIT */
/* The virtual printer back-end: each job becomes DIR/JOB.bin (the raw ESC/POS bytes) and
 * DIR/JOB.png (the paper as the printer model draws it), both written to a temporary name and
 * renamed, so a reader never sees half a file. Commands the model does not know are listed in
 * DIR/JOB.unknown.txt. It is always online. */
#include "escpos_model.h"
#include "transport_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct virtual_printer {
    char dir[1024];
};

static int detail_say(char *detail, size_t len, const char *fmt, const char *a, int err)
{
    if (detail && len)
        snprintf(detail, len, fmt, a, patron_strerror(err));
    return err;
}

static int valid_job_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
              (s[n] >= '0' && s[n] <= '9') || s[n] == '-' || s[n] == '_' || s[n] == '.'))
            return 0;
    return n > 0 && n <= 128 && s[0] != '.';
}

static int write_all(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    int rc = len && fwrite(data, 1, len, f) != len ? -errno : 0;
    if (fflush(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && fsync(fileno(f)) != 0)
        rc = -errno;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc ? rc : 0;
}

static int write_unknown(const char *path, const struct patron_model *m)
{
    size_t n;
    const struct patron_model_unknown *u = patron_model_unknown(m, &n);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    for (size_t i = 0; i < n && i < PATRON_MODEL_MAX_UNKNOWN; i++) {
        fprintf(f, "offset %zu: %s:", u[i].offset, u[i].what);
        for (size_t k = 0; k < u[i].len; k++)
            fprintf(f, " %02X", u[i].bytes[k]);
        fputc('\n', f);
    }
    if (n > PATRON_MODEL_MAX_UNKNOWN)
        fprintf(f, "... %zu in all\n", n);
    return fclose(f) != 0 ? -errno : 0;
}

/* Writes `what` through a temporary file renamed over DIR/JOB.EXT. */
static int publish(const char *dir, const char *job, const char *ext,
                   int (*write)(const char *, const void *, size_t), const void *arg, size_t len)
{
    char final[1400], tmp[1420];
    snprintf(final, sizeof final, "%s/%s.%s", dir, job, ext);
    snprintf(tmp, sizeof tmp, "%s/.%s.%s.tmp", dir, job, ext);
    int rc = write(tmp, arg, len);
    if (rc == 0 && rename(tmp, final) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    return rc;
}

static int write_bin(const char *path, const void *data, size_t len)
{
    return write_all(path, data, len);
}

static int write_png(const char *path, const void *model, size_t len)
{
    (void)len;
    return patron_model_write_png(model, path);
}

static int write_txt(const char *path, const void *model, size_t len)
{
    (void)len;
    return write_unknown(path, model);
}

static int virtual_send(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                        char *detail, size_t detail_len)
{
    struct virtual_printer *v = p->impl;
    struct patron_model *m = NULL;
    size_t unknown;
    int rc;
    if (!job_name || !valid_job_name(job_name))
        return detail_say(detail, detail_len, "bad job name \"%s\" (%s)", job_name ? job_name : "",
                          PATRON_EINVAL);
    if ((rc = publish(v->dir, job_name, "bin", write_bin, data, len)))
        return detail_say(detail, detail_len, "cannot write the job into %s: %s", v->dir, rc);
    if ((rc = patron_model_new(p->width_dots, &m)) == 0 &&
        (rc = patron_model_feed(m, data, len)) == 0 && (rc = patron_model_flush(m)) == 0)
        rc = publish(v->dir, job_name, "png", write_png, m, 0);
    if (rc == 0 && (patron_model_unknown(m, &unknown), unknown > 0))
        rc = publish(v->dir, job_name, "unknown.txt", write_txt, m, 0);
    patron_model_free(m);
    if (rc)
        return detail_say(detail, detail_len, "cannot render the job into %s: %s", v->dir, rc);
    return 0;
}

static int virtual_status(patron_printer *p, unsigned *status)
{
    (void)p;
    *status = PATRON_PRINTER_ONLINE;
    return 0;
}

static void virtual_close(patron_printer *p)
{
    free(p->impl);
    p->impl = NULL;
}

static const struct patron_printer_ops virtual_ops = {virtual_send, virtual_status, virtual_close};

static int make_dirs(char *path)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, 0755) != 0 && errno != EEXIST ? -errno : 0;
        *s = '/';
        if (rc)
            return rc;
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -errno : 0;
}

int patron__virtual_open(const char *dir, unsigned width_dots, patron_printer **out, char *detail,
                         size_t detail_len)
{
    struct virtual_printer *v = NULL;
    patron_printer *p = NULL;
    int rc;
    if (!dir || !*dir || strlen(dir) >= sizeof v->dir)
        return detail_say(detail, detail_len, "bad directory \"%s\" (%s)", dir ? dir : "",
                          PATRON_EINVAL);
    if (!(v = calloc(1, sizeof *v)) || !(p = calloc(1, sizeof *p))) {
        rc = PATRON_ENOMEM;
        goto out;
    }
    memcpy(v->dir, dir, strlen(dir) + 1); /* its length was checked above */
    if ((rc = make_dirs(v->dir))) {
        detail_say(detail, detail_len, "cannot create %s: %s", dir, rc);
        goto out;
    }
    p->ops = &virtual_ops;
    p->impl = v;
    p->width_dots = width_dots ? width_dots : 576;
    snprintf(p->info.kind, sizeof p->info.kind, "virtual");
    snprintf(p->info.description, sizeof p->info.description, "%s", dir);
    *out = p;
    return 0;
out:
    free(v);
    free(p);
    return rc;
}
