/* SPDX-License-Identifier: MIT */
/* The customer display's outputs (include/patron/display.h): a serial device set up raw at the
 * profile's speed ("file:DEV"), a USB display through the printer back-end's libusb code in raw
 * mode, so no status request is mixed into the bytes ("usb:VID:PID"), and the virtual display
 * ("virtual:DIR"), a small model of the two command sets that keeps the 2 x 20 cells the bytes
 * leave on the glass and writes each frame as DIR/frame-N.txt, .bin and .png (the printer
 * model's Terminus font and PNG writer). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "backend_internal.h"
#include "font.h"
#include "model_internal.h"
#include "patron/display.h"

#define FRAME_BYTES 512
#define WRITE_TIMEOUT_MS 1000
#define PNG_BORDER 6

enum out_kind { OUT_NONE, OUT_FILE, OUT_USB, OUT_VIRTUAL };

struct patron_display {
    struct patron_display_profile profile;
    enum out_kind kind;
    int fd;
    patron_printer *usb;
    char dir[1024];
    unsigned frames;
    /* the virtual display's glass */
    uint8_t cell[PATRON_DISPLAY_ROWS][PATRON_DISPLAY_COLUMNS];
    unsigned row, col, brightness, codepage;
};

static int say(char *detail, size_t len, int err, const char *fmt, const char *arg)
{
    if (detail && len)
        snprintf(detail, len, fmt, arg, patron_strerror(err));
    return err;
}

/* ---- the virtual display: the command sets interpreted ---- */

static void glass_clear(patron_display *d)
{
    memset(d->cell, ' ', sizeof d->cell);
    d->row = d->col = 0;
}

static void glass_put(patron_display *d, uint8_t b)
{
    if (d->col >= PATRON_DISPLAY_COLUMNS) /* overwrite mode: on to the next line */
        d->col = 0, d->row = (d->row + 1) % PATRON_DISPLAY_ROWS;
    d->cell[d->row][d->col++] = b;
}

static void glass_cursor(patron_display *d, uint8_t x, uint8_t y)
{
    if (x >= 1 && x <= PATRON_DISPLAY_COLUMNS && y >= 1 && y <= PATRON_DISPLAY_ROWS)
        d->row = y - 1u, d->col = x - 1u;
}

/* Interprets one command at b[0..n); returns the bytes it took. */
static size_t glass_command(patron_display *d, const uint8_t *b, size_t n)
{
    int cd = d->profile.set == PATRON_DISPLAY_SET_CD5220;
    uint8_t lead = cd ? 0x1b : 0x1f;
    if (b[0] == 0x0c) {
        glass_clear(d);
        return 1;
    }
    if (b[0] == 0x1b && n >= 2 && b[1] == 0x40) {
        glass_clear(d);
        d->brightness = 4;
        return 2;
    }
    if (n >= 4 && b[0] == lead && b[1] == (cd ? 0x6c : 0x24)) {
        glass_cursor(d, b[2], b[3]);
        return 4;
    }
    if (n >= 3 && b[0] == lead && b[1] == (cd ? 0x2a : 0x58)) {
        d->brightness = b[2];
        return 3;
    }
    if (n >= 3 && !cd && b[0] == 0x1b && b[1] == 0x74) {
        d->codepage = b[2];
        return 3;
    }
    if (n >= 3 && ((!cd && b[0] == 0x1f && b[1] == 0x43) || (cd && b[0] == 0x1b && b[1] == 0x5f)))
        return 3; /* cursor off */
    if (n >= 2 && ((!cd && b[0] == 0x1f && b[1] == 0x01) || (cd && b[0] == 0x1b && b[1] == 0x11)))
        return 2; /* overwrite mode */
    return 1;     /* anything else: skipped, as a display ignores what it does not know */
}

static void glass_feed(patron_display *d, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n;)
        i += b[i] >= 0x20 ? (glass_put(d, b[i]), 1) : glass_command(d, b + i, n - i);
}

static int write_text(patron_display *d, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    enum patron_codepage cp = d->codepage == 19 ? PATRON_CODEPAGE_CP858 : PATRON_CODEPAGE_CP437;
    for (unsigned r = 0; r < PATRON_DISPLAY_ROWS; r++) {
        unsigned end = PATRON_DISPLAY_COLUMNS;
        while (end > 0 && d->cell[r][end - 1] == ' ')
            end--;
        for (unsigned c = 0; c < end; c++) {
            uint32_t u = patron_codepage_decode(cp, d->cell[r][c]);
            if (u < 0x80)
                fputc((int)u, f);
            else if (u < 0x800)
                fprintf(f, "%c%c", 0xc0 | (u >> 6), 0x80 | (u & 0x3f));
            else
                fprintf(f, "%c%c%c", 0xe0 | (u >> 12), 0x80 | ((u >> 6) & 0x3f), 0x80 | (u & 0x3f));
        }
        fputc('\n', f);
    }
    return fclose(f) != 0 ? -errno : 0;
}

/* The glass as a picture, in the printer model's font A (12 x 24). */
static int write_png(patron_display *d, const char *path)
{
    struct patron_model m = {0};
    m.width = PATRON_DISPLAY_COLUMNS * MODEL_CELL_W + 2 * PNG_BORDER;
    m.bpr = (m.width + 7) / 8;
    m.y = m.rows_cap = PATRON_DISPLAY_ROWS * MODEL_CELL_H + 2 * PNG_BORDER;
    if (!(m.bits = calloc(m.rows_cap, m.bpr)))
        return PATRON_ENOMEM;
    int page = d->codepage == 19 ? 1 : 0;
    for (unsigned r = 0; r < PATRON_DISPLAY_ROWS; r++)
        for (unsigned c = 0; c < PATRON_DISPLAY_COLUMNS; c++) {
            const uint16_t *g = patron__font[d->brightness >= 3 ? 1 : 0][page][d->cell[r][c]];
            for (unsigned y = 0; y < MODEL_CELL_H; y++)
                for (unsigned x = 0; x < MODEL_CELL_W; x++)
                    if (g[y] >> (MODEL_CELL_W - 1 - x) & 1) {
                        unsigned px = PNG_BORDER + c * MODEL_CELL_W + x;
                        unsigned py = PNG_BORDER + r * MODEL_CELL_H + y;
                        m.bits[(size_t)py * m.bpr + px / 8] |= (uint8_t)(0x80 >> (px % 8));
                    }
        }
    int rc = patron_model_write_png(&m, path);
    free(m.bits);
    return rc;
}

static int write_bytes(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    int rc = n && fwrite(b, 1, n, f) != n ? -EIO : 0;
    return fclose(f) != 0 && rc == 0 ? -errno : rc;
}

/* Writes DIR/frame-N.{bin,png,txt}, the text last (through a rename), so a reader that sees
 * the text sees the rest. */
static int virtual_frame(patron_display *d, const uint8_t *b, size_t n, char *detail, size_t dlen)
{
    char path[1200], tmp[1220];
    unsigned k = ++d->frames;
    glass_feed(d, b, n);
    snprintf(path, sizeof path, "%s/frame-%06u.bin", d->dir, k);
    int rc = write_bytes(path, b, n);
    snprintf(path, sizeof path, "%s/frame-%06u.png", d->dir, k);
    if (rc == 0)
        rc = write_png(d, path);
    snprintf(path, sizeof path, "%s/frame-%06u.txt", d->dir, k);
    snprintf(tmp, sizeof tmp, "%s/.frame-%06u.txt.tmp", d->dir, k);
    if (rc == 0 && (rc = write_text(d, tmp)) == 0 && rename(tmp, path) != 0)
        rc = -errno;
    return rc ? say(detail, dlen, PATRON_EDEVICE, "the virtual display %s: %s", d->dir) : 0;
}

/* ---- serial devices ---- */

static speed_t speed_of(unsigned baud)
{
    switch (baud) {
    case 2400:
        return B2400;
    case 4800:
        return B4800;
    case 19200:
        return B19200;
    case 38400:
        return B38400;
    case 115200:
        return B115200;
    default:
        return B9600;
    }
}

static int open_serial(patron_display *d, const char *path, char *detail, size_t dlen)
{
    struct termios t;
    d->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (d->fd < 0)
        return say(detail, dlen, PATRON_EDEVICE, "cannot open the display %s: %s", path);
    if (!isatty(d->fd))
        return 0; /* a plain file or pipe takes the bytes as they are */
    if (tcgetattr(d->fd, &t) != 0)
        return say(detail, dlen, PATRON_EDEVICE, "cannot read the serial settings of %s: %s", path);
    cfmakeraw(&t); /* 8 bits, no parity, no echo, no line editing, no CR/LF translation */
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | CRTSCTS);
    cfsetispeed(&t, speed_of(d->profile.baud));
    cfsetospeed(&t, speed_of(d->profile.baud));
    if (tcsetattr(d->fd, TCSANOW, &t) != 0)
        return say(detail, dlen, PATRON_EDEVICE, "cannot set %s raw: %s", path);
    return 0;
}

static int write_serial(patron_display *d, const uint8_t *b, size_t n, char *detail, size_t dlen)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(d->fd, b + off, n - off);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return say(detail, dlen, PATRON_EDEVICE, "the display stopped taking data (%s): %s",
                       strerror(errno));
        struct pollfd p = {.fd = d->fd, .events = POLLOUT};
        if (w < 0 && errno == EAGAIN && poll(&p, 1, WRITE_TIMEOUT_MS) == 0)
            return say(detail, dlen, PATRON_ETIMEOUT, "the display took no data for %s: %s",
                       "a second");
    }
    return 0;
}

/* ---- the interface ---- */

static int send_bytes(patron_display *d, const uint8_t *b, size_t n, char *detail, size_t dlen)
{
    switch (d->kind) {
    case OUT_FILE:
        return write_serial(d, b, n, detail, dlen);
    case OUT_USB:
        return patron_printer_send(d->usb, "display", b, n, detail, dlen);
    case OUT_VIRTUAL:
        return virtual_frame(d, b, n, detail, dlen);
    default:
        return 0;
    }
}

static int open_usb(patron_display *d, const char *ids, char *detail, size_t dlen)
{
    unsigned vid = 0, pid = 0;
    char end = 0;
    if (sscanf(ids, "%4x:%4x%c", &vid, &pid, &end) != 2)
        return say(detail, dlen, PATRON_EINVAL, "a USB display is usb:VID:PID (%s): %s", ids);
    int rc = patron__usb_open(0, (uint16_t)vid, (uint16_t)pid, 0, &d->usb, detail, dlen);
    if (rc == 0)
        rc = patron__usb_set_raw(d->usb);
    return rc;
}

/* The virtual display numbers on from the frames its folder already holds. */
static unsigned last_frame(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    unsigned last = 0, k;
    char tail[8];
    while (dh && (e = readdir(dh)) != NULL)
        if (sscanf(e->d_name, "frame-%u.%3s", &k, tail) == 2 && strcmp(tail, "txt") == 0 &&
            k > last)
            last = k;
    if (dh)
        closedir(dh);
    return last;
}

static int open_kind(patron_display *d, const char *spec, char *detail, size_t dlen)
{
    if (strcmp(spec, "none") == 0)
        return 0;
    if (strncmp(spec, "usb:", 4) == 0) {
        d->kind = OUT_USB;
        return open_usb(d, spec + 4, detail, dlen);
    }
    if (strncmp(spec, "file:", 5) == 0) {
        d->kind = OUT_FILE;
        return open_serial(d, spec + 5, detail, dlen);
    }
    d->kind = OUT_VIRTUAL;
    snprintf(d->dir, sizeof d->dir, "%s", spec + 8);
    if (mkdir(d->dir, 0755) != 0 && errno != EEXIST)
        return say(detail, dlen, PATRON_EDEVICE, "cannot make the virtual display's folder %s: %s",
                   d->dir);
    d->frames = last_frame(d->dir);
    return 0;
}

int patron_display_open(const char *spec, const struct patron_display_profile *profile,
                        patron_display **out, char *detail, size_t detail_len)
{
    uint8_t init[64];
    if (!out || !profile || patron_display_spec_check(spec) != 0)
        return say(detail, detail_len, PATRON_EINVAL,
                   "a display is usb:VID:PID, file:DEVICE, virtual:DIR or none (%s): %s",
                   spec ? spec : "");
    patron_display *d = calloc(1, sizeof *d);
    if (!d)
        return PATRON_ENOMEM;
    d->profile = *profile;
    d->fd = -1;
    d->brightness = 4;
    glass_clear(d);
    int rc = open_kind(d, spec, detail, detail_len);
    size_t n = patron_display_encode_init(profile, init, sizeof init);
    if (rc == 0 && d->kind == OUT_VIRTUAL)
        glass_feed(d, init, n); /* the set-up is no frame of its own */
    else if (rc == 0)
        rc = send_bytes(d, init, n, detail, detail_len);
    if (rc) {
        patron_display_close(d);
        return rc;
    }
    *out = d;
    return 0;
}

int patron_display_send(patron_display *d, const uint8_t *data, size_t len, char *detail,
                        size_t detail_len)
{
    if (!d || (!data && len))
        return PATRON_EINVAL;
    return send_bytes(d, data, len, detail, detail_len);
}

int patron_display_show(patron_display *d, const struct patron_display_frame *f, unsigned step,
                        char *detail, size_t detail_len)
{
    uint8_t b[FRAME_BYTES];
    if (!d || !f)
        return PATRON_EINVAL;
    size_t n = patron_display_encode_frame(&d->profile, f, step, b, sizeof b);
    return n ? send_bytes(d, b, n, detail, detail_len) : PATRON_EINVAL;
}

void patron_display_close(patron_display *d)
{
    if (!d)
        return;
    if (d->fd >= 0)
        close(d->fd);
    patron_printer_close(d->usb);
    free(d);
}
