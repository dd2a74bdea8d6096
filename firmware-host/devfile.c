/* SPDX-License-Identifier: MIT */
/* The device-file back-end: a printer behind a character device such as /dev/usb/lp0 (the
 * kernel's usblp driver), a FIFO read by another program, or a plain file for debugging. Writes
 * are complete or reported, never silently short; a device that stops taking data times out
 * instead of hanging the counter. */
#include <errno.h>
#include <fcntl.h>
#include <linux/lp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "backend_internal.h"
#include "transport_internal.h"

#define WRITE_TIMEOUT_MS 10000 /* the device took nothing for this long */
#define PATH_LEN 4096
#define LP_MAJOR_PARPORT 6
#define LP_MAJOR_USB 180

struct file_printer {
    int fd;
    int lp; /* a line printer device that answers LPGETSTATUS */
    unsigned timeout_ms;
    char path[PATH_LEN];
};

static const struct patron_printer_ops file_ops;

static int open_error(int err, const char *path, char *detail, size_t len)
{
    switch (err) {
    case ENOENT:
    case ENODEV:
        patron__printer_say(detail, len, "no printer at %s (is it plugged in and switched on?)",
                            path);
        return PATRON_EDEVICE;
    case ENXIO:
        patron__printer_say(detail, len, "nothing is reading %s (no printer or program behind it)",
                            path);
        return PATRON_EDEVICE;
    case EACCES:
    case EPERM:
    case EROFS:
        patron__printer_say(detail, len,
                            "no permission to write %s; add this user to the lp group "
                            "(sudo usermod -aG lp USER) and log in again",
                            path);
        return PATRON_EPRINTACCESS;
    case EBUSY:
        patron__printer_say(detail, len, "%s is held by another program", path);
        return PATRON_EPRINTBUSY;
    case EISDIR:
        patron__printer_say(detail, len, "%s is a directory; give the device or file to print to",
                            path);
        return PATRON_EINVAL;
    default:
        patron__printer_say(detail, len, "cannot open %s: %s", path, strerror(err));
        return PATRON_EDEVICE;
    }
}

int patron__file_open(const char *path, unsigned width_dots, patron_printer **out, char *detail,
                      size_t detail_len)
{
    struct file_printer *f = NULL;
    patron_printer *p = NULL;
    struct stat st;
    int r = PATRON_ENOMEM;
    /* never create a file where a device should be: an unplugged printer is an error */
    int flags = O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_APPEND |
                (strncmp(path, "/dev/", 5) ? O_CREAT : 0);
    if (strnlen(path, PATH_LEN) >= PATH_LEN) {
        patron__printer_say(detail, detail_len, "the printer path is too long");
        return PATRON_EINVAL;
    }
    if (!(f = calloc(1, sizeof *f)))
        goto out;
    f->fd = -1;
    if (!(p = calloc(1, sizeof *p)))
        goto out;
    /* O_NONBLOCK: a FIFO without a reader fails at once, and writes wait in poll() with a
     * timeout rather than block for ever on a stuck printer */
    f->fd = open(path, flags, 0644);
    if (f->fd < 0) {
        r = open_error(errno, path, detail, detail_len);
        goto out;
    }
    if (fstat(f->fd, &st) == 0 && S_ISCHR(st.st_mode))
        f->lp = major(st.st_rdev) == LP_MAJOR_USB || major(st.st_rdev) == LP_MAJOR_PARPORT;
    f->timeout_ms = WRITE_TIMEOUT_MS;
    snprintf(f->path, sizeof f->path, "%s", path);
    p->ops = &file_ops;
    p->impl = f;
    p->width_dots = width_dots;
    snprintf(p->info.kind, sizeof p->info.kind, "file");
    snprintf(p->info.description, sizeof p->info.description, "%.127s", path);
    *out = p;
    r = 0;
out:
    if (r != 0) {
        if (f && f->fd >= 0)
            close(f->fd);
        free(f);
        free(p);
    }
    return r;
}

/* Writing to a FIFO whose reader left raises SIGPIPE, which would end the whole program: block
 * it for this thread during the write, and take a SIGPIPE that the write caused. */
struct sigpipe_guard {
    sigset_t old;
    int was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g, int got_epipe)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (got_epipe && !g->was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* Waits until the device takes more; returns 0, or a PATRON_E* code. */
static int wait_writable(struct file_printer *f, char *detail, size_t dlen)
{
    struct pollfd pfd = {.fd = f->fd, .events = POLLOUT};
    for (;;) {
        int n = poll(&pfd, 1, (int)f->timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            patron__printer_say(detail, dlen,
                                "%s took no data for %u ms (printer stuck, out of paper, or "
                                "nothing reading?)",
                                f->path, f->timeout_ms);
            return PATRON_ETIMEOUT;
        }
        if (n < 0 || ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) && !(pfd.revents & POLLOUT))) {
            patron__printer_say(detail, dlen, "%s went away while printing", f->path);
            return PATRON_EDEVICE;
        }
        return 0;
    }
}

static int write_error(const struct file_printer *f, int err, size_t off, size_t len, char *detail,
                       size_t dlen)
{
    patron__printer_say(detail, dlen, "writing to %s failed after %zu of %zu bytes: %s%s", f->path,
                        off, len, strerror(err),
                        err == EPIPE ? " (the program reading it stopped)"
                        : err == ENODEV || err == EIO
                            ? " (unplugged, switched off, or out of paper?)"
                            : "");
    return err == ENOMEM ? PATRON_ENOMEM : PATRON_EDEVICE;
}

static int write_all(struct file_printer *f, const uint8_t *data, size_t len, char *detail,
                     size_t dlen)
{
    struct sigpipe_guard g;
    size_t off = 0;
    int r = 0, epipe = 0;
    sigpipe_block(&g);
    while (off < len && r == 0) {
        ssize_t n = write(f->fd, data + off, len - off);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            r = wait_writable(f, detail, dlen);
        } else {
            int err = n < 0 ? errno : EIO;
            epipe = err == EPIPE;
            r = write_error(f, err, off, len, detail, dlen);
        }
    }
    sigpipe_restore(&g, epipe);
    return r;
}

/* LPGETSTATUS gives the parallel-port style status the usblp driver keeps; other files have
 * none to give. */
static int file_status(patron_printer *p, unsigned *status)
{
    struct file_printer *f = p->impl;
    int st = 0;
    if (!f->lp || ioctl(f->fd, LPGETSTATUS, &st) != 0) {
        *status = PATRON_PRINTER_STATUS_UNKNOWN;
        return 0;
    }
    unsigned s = 0;
    if ((st & LP_PSELECD) && (st & LP_PERRORP))
        s |= PATRON_PRINTER_ONLINE;
    if (st & LP_POUTPA)
        s |= PATRON_PRINTER_PAPER_END;
    if (!(st & LP_PERRORP))
        s |= PATRON_PRINTER_ERROR;
    *status = s;
    return 0;
}

static int file_send(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                     char *detail, size_t dlen)
{
    struct file_printer *f = p->impl;
    unsigned s = 0;
    (void)job_name;
    if (file_status(p, &s) == 0 && (s & PATRON_PRINTER_PAPER_END)) {
        patron__printer_say(detail, dlen, "the printer at %s is out of paper; load a new roll",
                            f->path);
        return PATRON_EPAPER;
    }
    return write_all(f, data, len, detail, dlen);
}

static void file_close(patron_printer *p)
{
    struct file_printer *f = p->impl;
    if (f) {
        close(f->fd);
        free(f);
    }
    p->impl = NULL;
}

static const struct patron_printer_ops file_ops = {
    .send = file_send,
    .status = file_status,
    .close = file_close,
};

int patron__file_set_timeout(patron_printer *p, unsigned timeout_ms)
{
    if (!p || p->ops != &file_ops || timeout_ms == 0)
        return PATRON_EINVAL;
    ((struct file_printer *)p->impl)->timeout_ms = timeout_ms;
    return 0;
}
