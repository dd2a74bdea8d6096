/* SPDX-License-Identifier: MIT */
/* The store's WAL written a commit at a time: a thin SQLite VFS over the default one that
 * gathers the frames SQLite appends to a WAL during one commit and writes them in one call (or
 * one per 128 KiB, the most the default VFS writes at once), where SQLite makes two per frame
 * (its 24-byte header, then its page). On a machine where a system call is dear, those calls
 * were half of the service's writer's time.
 *
 * What reaches the file and when is otherwise unchanged, so every guarantee stays SQLite's own:
 * - a commit's frames are all in the file before SQLite publishes the commit to readers (it
 *   does so right after writing the commit frame, whose page write ends the gathering), and
 *   before any other call on the file (a read, a sync, a truncation, its size, its close);
 * - only appended frames are gathered; any other write (the WAL's own header, a frame rewritten
 *   in place, a header whose checksum is rewritten) first writes what is gathered, then itself;
 * - a commit frame that does not follow gathered frames goes straight to the file (so does a
 *   commit frame's header rewritten after the commit, the last write before it is published).
 * Only WAL files are wrapped: the database file and everything else is the default VFS's own. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define FRAME_HEADER 24    /* a WAL frame's header; a page follows it */
#define GATHER_MAX 0x1ffff /* the most the default VFS writes in one call */

struct wal_file {
    sqlite3_file base;
    sqlite3_file *real;  /* the default VFS's file, in the memory right after this */
    sqlite3_int64 start; /* where the gathered bytes go in the file */
    size_t len;
    unsigned char *gathered; /* GATHER_MAX bytes, from the first gathering */
    int write_after_next;    /* a commit frame's header is gathered: its page ends the commit */
};

static sqlite3_vfs *default_vfs;
static sqlite3_vfs wal_vfs;
static atomic_long file_writes; /* writes that reached a WAL file, for the tests */

long patron__wal_file_writes(void)
{
    return atomic_load(&file_writes);
}

static int real_write(struct wal_file *w, const void *data, int amt, sqlite3_int64 off)
{
    atomic_fetch_add(&file_writes, 1);
    return w->real->pMethods->xWrite(w->real, data, amt, off);
}

/* Writes what is gathered; the gathered bytes are let go even when the write fails (SQLite
 * treats a failed commit as not done and writes its frames again). */
static int write_gathered(struct wal_file *w)
{
    if (w->len == 0)
        return SQLITE_OK;
    int rc = real_write(w, w->gathered, (int)w->len, w->start);
    w->len = 0;
    w->write_after_next = 0;
    return rc;
}

static int room_for(struct wal_file *w, int amt)
{
    if (!w->gathered && !(w->gathered = malloc(GATHER_MAX)))
        return 0;
    return w->len + (size_t)amt <= GATHER_MAX;
}

/* A frame header's database size after the commit: not zero only for a commit frame. */
static int is_commit_header(const void *data, int amt)
{
    const unsigned char *h = data;
    return amt == FRAME_HEADER && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
    struct wal_file *w = (struct wal_file *)f;
    int commit = is_commit_header(data, amt), rc;
    if (w->len > 0 && w->len + (size_t)amt > GATHER_MAX && (rc = write_gathered(w)) != SQLITE_OK)
        return rc;
    if (w->len == 0 || off != w->start + (sqlite3_int64)w->len) {
        if ((rc = write_gathered(w)) != SQLITE_OK)
            return rc;
        if (amt != FRAME_HEADER || commit) /* only a frame's header, not a commit's, starts one */
            return real_write(w, data, amt, off);
        w->start = off;
    }
    if (!room_for(w, amt)) {
        if ((rc = write_gathered(w)) != SQLITE_OK)
            return rc;
        return real_write(w, data, amt, off);
    }
    memcpy(w->gathered + w->len, data, (size_t)amt);
    w->len += (size_t)amt;
    if (commit) {
        w->write_after_next = 1;
        return SQLITE_OK;
    }
    if (w->write_after_next)
        return write_gathered(w);
    return SQLITE_OK;
}

static int wal_close(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w), closed = w->real->pMethods->xClose(w->real);
    free(w->gathered);
    w->gathered = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int wal_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w);
    return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, data, amt, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w);
    return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w);
    return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w);
    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
    struct wal_file *w = (struct wal_file *)f;
    int rc = write_gathered(w);
    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wal_lock(sqlite3_file *f, int level)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xLock(w->real, level);
}

static int wal_unlock(sqlite3_file *f, int level)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xUnlock(w->real, level);
}

static int wal_check_reserved(sqlite3_file *f, int *out)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wal_sector_size(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xSectorSize(w->real);
}

static int wal_device(sqlite3_file *f)
{
    struct wal_file *w = (struct wal_file *)f;
    return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* A WAL file has no shared memory or mapping of its own (the database file has them): version 1
 * of the methods says so to SQLite. */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
};

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return default_vfs->xOpen(default_vfs, name, f, flags, out);
    struct wal_file *w = (struct wal_file *)f;
    memset(w, 0, sizeof *w);
    w->real = (sqlite3_file *)(w + 1);
    int rc = default_vfs->xOpen(default_vfs, name, w->real, flags, out);
    if (rc != SQLITE_OK) {
        if (w->real->pMethods)
            w->real->pMethods->xClose(w->real);
        return rc;
    }
    w->base.pMethods = &wal_methods;
    return SQLITE_OK;
}

static void register_vfs(void)
{
    default_vfs = sqlite3_vfs_find(NULL);
    if (!default_vfs)
        return;
    wal_vfs = *default_vfs; /* the default's own methods, called with its own data */
    wal_vfs.zName = PATRON__WAL_VFS;
    wal_vfs.szOsFile = (int)sizeof(struct wal_file) + default_vfs->szOsFile;
    wal_vfs.xOpen = vfs_open;
    wal_vfs.pNext = NULL;
    if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
        default_vfs = NULL;
}

const char *patron__wal_vfs(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_vfs);
    return default_vfs ? PATRON__WAL_VFS : NULL;
}
