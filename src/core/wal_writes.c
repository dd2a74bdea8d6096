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
 *   commit frame's header rewritten after the commit, the last write before it is published);
 * - frames still gathered when the connection lets go of the WAL's write lock belong to a
 *   transaction that was undone (pages spilled from the cache before it): they are dropped, so
 *   that they never land on frames another connection commits after it.
 * The database file is wrapped only to see that lock let go (SQLite takes it through the
 * database file's shared memory); every other call on it, and every other file, is the default
 * VFS's own. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define FRAME_HEADER 24    /* a WAL frame's header; a page follows it */
#define GATHER_MAX 0x1ffff /* the most the default VFS writes in one call */
#define WAL_WRITE_LOCK 0   /* the shared-memory lock a writer of the WAL holds (SQLite's wal.c) */

/* What both wrappers start with: the default VFS's file lies in the memory right after them. */
struct shim {
    sqlite3_file base;
    sqlite3_file *real;
};

struct wal_file;

struct db_file {
    struct shim s;
    struct wal_file *wal; /* the connection's WAL, while it is open */
};

struct wal_file {
    struct shim s;
    struct db_file *db;  /* the connection's database file; NULL: nothing is gathered */
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

static sqlite3_file *real_of(sqlite3_file *f)
{
    return ((struct shim *)f)->real;
}

static int real_write(struct wal_file *w, const void *data, int amt, sqlite3_int64 off)
{
    atomic_fetch_add(&file_writes, 1);
    return w->s.real->pMethods->xWrite(w->s.real, data, amt, off);
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
    if (!w->db)
        return real_write(w, data, amt, off);
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
    int rc = write_gathered(w), closed = w->s.real->pMethods->xClose(w->s.real);
    if (w->db)
        w->db->wal = NULL;
    free(w->gathered);
    w->gathered = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

/* The calls passed on as they are. */
static int fw_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xRead(real_of(f), data, amt, off);
}

static int fw_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
    return real_of(f)->pMethods->xWrite(real_of(f), data, amt, off);
}

static int fw_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int fw_sync(sqlite3_file *f, int flags)
{
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int fw_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int fw_lock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int fw_unlock(sqlite3_file *f, int level)
{
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int fw_check_reserved(sqlite3_file *f, int *out)
{
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int fw_file_control(sqlite3_file *f, int op, void *arg)
{
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int fw_sector_size(sqlite3_file *f)
{
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int fw_device(sqlite3_file *f)
{
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int fw_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}

static void fw_shm_barrier(sqlite3_file *f)
{
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int fw_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int fw_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
    return real_of(f)->pMethods->xFetch(real_of(f), off, amt, out);
}

static int fw_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

/* The calls on a WAL file that write what is gathered first, then pass on. */
static int wal_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 off)
{
    int rc = write_gathered((struct wal_file *)f);
    return rc != SQLITE_OK ? rc : fw_read(f, data, amt, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = write_gathered((struct wal_file *)f);
    return rc != SQLITE_OK ? rc : fw_truncate(f, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
    int rc = write_gathered((struct wal_file *)f);
    return rc != SQLITE_OK ? rc : fw_sync(f, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    int rc = write_gathered((struct wal_file *)f);
    return rc != SQLITE_OK ? rc : fw_file_size(f, size);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
    int rc = write_gathered((struct wal_file *)f);
    return rc != SQLITE_OK ? rc : fw_file_control(f, op, arg);
}

/* The database file: the WAL's write lock let go drops what its WAL still gathers. */
static int db_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    struct db_file *d = (struct db_file *)f;
    if (d->wal && (flags & SQLITE_SHM_UNLOCK) && offset == WAL_WRITE_LOCK) {
        d->wal->len = 0;
        d->wal->write_after_next = 0;
    }
    return d->s.real->pMethods->xShmLock(d->s.real, offset, n, flags);
}

static int db_close(sqlite3_file *f)
{
    struct db_file *d = (struct db_file *)f;
    if (d->wal)
        d->wal->db = NULL;
    return d->s.real->pMethods->xClose(d->s.real);
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
    .xLock = fw_lock,
    .xUnlock = fw_unlock,
    .xCheckReservedLock = fw_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = fw_sector_size,
    .xDeviceCharacteristics = fw_device,
};

static const sqlite3_io_methods db_methods = {
    .iVersion = 3,
    .xClose = db_close,
    .xRead = fw_read,
    .xWrite = fw_write,
    .xTruncate = fw_truncate,
    .xSync = fw_sync,
    .xFileSize = fw_file_size,
    .xLock = fw_lock,
    .xUnlock = fw_unlock,
    .xCheckReservedLock = fw_check_reserved,
    .xFileControl = fw_file_control,
    .xSectorSize = fw_sector_size,
    .xDeviceCharacteristics = fw_device,
    .xShmMap = fw_shm_map,
    .xShmLock = db_shm_lock,
    .xShmBarrier = fw_shm_barrier,
    .xShmUnmap = fw_shm_unmap,
    .xFetch = fw_fetch,
    .xUnfetch = fw_unfetch,
};

/* The same for a database file whose own methods have no shared memory (no other connection
 * can write its WAL then): version 1, no lock to watch; made from db_methods at registration. */
static sqlite3_io_methods db_methods_plain;

/* Opens the default VFS's file in the memory right after the wrapper `f` (of `size` bytes). */
static int open_wrapped(const char *name, sqlite3_file *f, int flags, int *out, size_t size)
{
    struct shim *w = (struct shim *)f;
    memset(w, 0, size);
    w->real = (sqlite3_file *)((char *)f + size);
    int rc = default_vfs->xOpen(default_vfs, name, w->real, flags, out);
    if (rc != SQLITE_OK && w->real->pMethods)
        w->real->pMethods->xClose(w->real);
    return rc;
}

/* The WAL joins its connection's database file, whose lock tells when its writer is done. */
static void join_database(struct wal_file *w, const char *wal_name)
{
    sqlite3_file *db = sqlite3_database_file_object(wal_name);
    if (db && db->pMethods == &db_methods) {
        w->db = (struct db_file *)db;
        w->db->wal = w;
    }
}

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
    (void)vfs;
    int rc;
    if (flags & SQLITE_OPEN_MAIN_DB) {
        if ((rc = open_wrapped(name, f, flags, out, sizeof(struct db_file))) == SQLITE_OK) {
            const sqlite3_io_methods *own = real_of(f)->pMethods;
            f->pMethods = own->iVersion >= 3 && own->xShmMap ? &db_methods : &db_methods_plain;
        }
        return rc;
    }
    if (!(flags & SQLITE_OPEN_WAL))
        return default_vfs->xOpen(default_vfs, name, f, flags, out);
    if ((rc = open_wrapped(name, f, flags, out, sizeof(struct wal_file))) == SQLITE_OK) {
        f->pMethods = &wal_methods;
        join_database((struct wal_file *)f, name);
    }
    return rc;
}

static void register_vfs(void)
{
    default_vfs = sqlite3_vfs_find(NULL);
    if (!default_vfs || default_vfs->iVersion < 1)
        return;
    size_t wrapper = sizeof(struct wal_file) > sizeof(struct db_file) ? sizeof(struct wal_file)
                                                                      : sizeof(struct db_file);
    db_methods_plain = db_methods;
    db_methods_plain.iVersion = 1;
    wal_vfs = *default_vfs; /* the default's own methods, called with its own data */
    wal_vfs.zName = PATRON__WAL_VFS;
    wal_vfs.szOsFile = (int)wrapper + default_vfs->szOsFile;
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
