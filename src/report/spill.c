/* SPDX-License-Identifier: MIT */
/* A list of fixed-size records sorted in bounded memory (spill.h). Chunks set aside are sorted
 * runs in one unnamed temporary file (O_TMPFILE in $TMPDIR, else /tmp; a file unlinked at once
 * where the file system cannot make one unnamed). Reading back merges the runs: each run has a
 * buffer of a few records, and the next record is the least of the runs' heads, found by
 * looking at each: the runs are few (a 2 MiB chunk each: 8 for RFM's 1,000,000 buyers, 16
 * bytes each; the churn list is at most PATRON_REPORT_MAX_ROWS). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_internal.h"
#include "report/spill.h"

struct run {
    off_t start;        /* where the run begins in the file */
    size_t len;         /* its records */
    off_t next;         /* where its next unread records are */
    size_t left;        /* records of the run not read yet */
    size_t n_buf, head; /* records in its buffer; the first not yet given */
    unsigned char *buf;
};

struct patron__spill {
    size_t size, chunk_recs, count;
    int (*cmp)(const void *, const void *);
    unsigned char *mem; /* the chunk being filled; the whole list while nothing is set aside */
    size_t n_mem, cap_mem;
    int fd;
    off_t end;
    struct run *runs;
    size_t n_runs, cap_runs;
    unsigned char *bufs; /* every run's buffer, once sorted */
    size_t per_run;      /* records a run's buffer holds */
    int sorted;
    size_t given;     /* records the merge has given since it began */
    const void *last; /* the record of rank given - 1 */
};

int patron__spill_new(size_t size, int (*cmp)(const void *, const void *), size_t chunk_bytes,
                      struct patron__spill **out)
{
    struct patron__spill *sp = calloc(1, sizeof *sp);
    if (!sp)
        return PATRON_ENOMEM;
    size_t bytes = chunk_bytes ? chunk_bytes : PATRON__SPILL_CHUNK_BYTES;
    *sp = (struct patron__spill){.size = size, .cmp = cmp, .fd = -1};
    sp->chunk_recs = bytes / size > 1 ? bytes / size : 2;
    *out = sp;
    return 0;
}

const char *patron__spill_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] ? dir : "/tmp";
}

int patron__temp_fd(void)
{
    const char *dir = patron__spill_dir();
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/patron-list-XXXXXX", dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    if ((fd = mkostemp(path, O_CLOEXEC)) < 0)
        return -errno;
    unlink(path);
    return fd;
}

static int write_all(int fd, const unsigned char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -ENOSPC;
        p += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

static int read_all(int fd, unsigned char *p, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t k = pread(fd, p, n, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -EIO;
        p += k;
        n -= (size_t)k;
        at += k;
    }
    return 0;
}

/* Sorts the chunk in memory and appends it to the file as a run. */
static int set_aside(struct patron__spill *sp)
{
    if (sp->fd < 0 && (sp->fd = patron__temp_fd()) < 0) {
        int err = sp->fd;
        sp->fd = -1;
        return err;
    }
    if (patron__grow((void **)&sp->runs, &sp->cap_runs, sp->n_runs + 1, sizeof *sp->runs) != 0)
        return PATRON_ENOMEM;
    patron__sort(sp->mem, sp->n_mem, sp->size, sp->cmp);
    size_t bytes = sp->n_mem * sp->size;
    int err = write_all(sp->fd, sp->mem, bytes, sp->end);
    if (err != 0)
        return err;
    sp->runs[sp->n_runs++] = (struct run){.start = sp->end, .len = sp->n_mem};
    sp->end += (off_t)bytes;
    sp->n_mem = 0;
    return 0;
}

int patron__spill_add(struct patron__spill *sp, const void *rec)
{
    int err;
    if (sp->n_mem == sp->chunk_recs && (err = set_aside(sp)) != 0)
        return err;
    if (sp->n_mem == sp->cap_mem) {
        size_t cap = sp->cap_mem ? sp->cap_mem * 2 : 64;
        cap = cap < sp->chunk_recs ? cap : sp->chunk_recs;
        unsigned char *mem = realloc(sp->mem, cap * sp->size);
        if (!mem)
            return PATRON_ENOMEM;
        sp->mem = mem;
        sp->cap_mem = cap;
    }
    memcpy(sp->mem + sp->n_mem * sp->size, rec, sp->size);
    sp->n_mem++;
    sp->count++;
    return 0;
}

/* Starts the merge from the first record of every run. */
static void merge_restart(struct patron__spill *sp)
{
    for (size_t i = 0; i < sp->n_runs; i++) {
        struct run *r = &sp->runs[i];
        r->next = r->start;
        r->left = r->len;
        r->n_buf = r->head = 0;
        r->buf = sp->bufs + i * sp->per_run * sp->size;
    }
    sp->given = 0;
    sp->last = NULL;
}

int patron__spill_sort(struct patron__spill *sp)
{
    int err;
    if (sp->n_runs == 0) {
        patron__sort(sp->mem, sp->n_mem, sp->size, sp->cmp);
        sp->sorted = 1;
        return 0;
    }
    if (sp->n_mem > 0 && (err = set_aside(sp)) != 0)
        return err;
    free(sp->mem);
    sp->mem = NULL;
    sp->cap_mem = 0;
    /* The runs' buffers share a chunk's memory. */
    sp->per_run = sp->chunk_recs / sp->n_runs > 0 ? sp->chunk_recs / sp->n_runs : 1;
    if (!(sp->bufs = malloc(sp->n_runs * sp->per_run * sp->size)))
        return PATRON_ENOMEM;
    sp->sorted = 1;
    merge_restart(sp);
    return 0;
}

/* The next record of the merge, or NULL when the file could not be read. */
static const void *merge_next(struct patron__spill *sp)
{
    const unsigned char *best = NULL;
    struct run *from = NULL;
    for (size_t i = 0; i < sp->n_runs; i++) {
        struct run *r = &sp->runs[i];
        if (r->head == r->n_buf && r->left > 0) {
            size_t n = r->left < sp->per_run ? r->left : sp->per_run;
            if (read_all(sp->fd, r->buf, n * sp->size, r->next) != 0)
                return NULL;
            r->next += (off_t)(n * sp->size);
            r->left -= n;
            r->n_buf = n;
            r->head = 0;
        }
        if (r->head == r->n_buf)
            continue;
        const unsigned char *rec = r->buf + r->head * sp->size;
        if (!best || sp->cmp(rec, best) < 0) {
            best = rec;
            from = r;
        }
    }
    if (from)
        from->head++;
    return best;
}

const void *patron__spill_at(struct patron__spill *sp, size_t i)
{
    if (!sp->sorted || i >= sp->count)
        return NULL;
    if (sp->n_runs == 0)
        return sp->mem + i * sp->size;
    if (sp->last && i + 1 == sp->given)
        return sp->last;
    if (i < sp->given)
        merge_restart(sp);
    while (sp->given <= i) {
        if (!(sp->last = merge_next(sp)))
            return NULL;
        sp->given++;
    }
    return sp->last;
}

size_t patron__spill_count(const struct patron__spill *sp)
{
    return sp->count;
}

size_t patron__spill_chunks(const struct patron__spill *sp)
{
    return sp->n_runs;
}

void patron__spill_free(struct patron__spill *sp)
{
    if (!sp)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->mem);
    free(sp->runs);
    free(sp->bufs);
    free(sp);
}
