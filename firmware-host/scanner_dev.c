/* SPDX-License-Identifier: MIT */
/* Card scanner devices: USB HID scanners through libusb (the HID interface found from the
 * descriptors, the kernel's keyboard driver detached so that scans do not also land in the
 * window that has focus, interrupt IN reports) and serial scanners through termios (raw mode).
 * Each read hands back a whole scan or a sentence; half-read scans are dropped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

#include "patron/error.h"
#include "patron/scanner.h"

#define HID_CLASS 3
#define HID_PROTO_KEYBOARD 1
#define HID_POS_PAGE 0x8C
#define HALF_READ_MS 1000 /* a scan's reports come together; a pause this long ends it unread */
#define FLOOD_PER_S 20
#define REPORT_MAX 64
#define POLL_SLICE_MS 50

enum proto { PROTO_KEYBOARD, PROTO_HIDPOS, PROTO_SERIAL };

struct patron_scanner {
    enum proto proto;
    struct patron_scanner_info info;
    /* USB */
    libusb_context *ctx;
    libusb_device_handle *h;
    uint8_t iface, ep_in;
    uint16_t packet;
    int detached;
    /* serial */
    int fd;
    struct patron_kbd_decoder kbd;
    struct patron_hidpos_decoder pos;
    struct patron_serial_decoder ser;
    struct patron_scan_limit limit;
    int64_t last_ms;              /* when the last bytes of an unfinished scan came */
    int64_t flood_window;         /* the window whose flood was said (once per window) */
    uint8_t rest[REPORT_MAX * 4]; /* serial bytes read after the end of a scan */
    int rest_len;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(char *buf, size_t len, const char *fmt, const char *arg)
{
    if (buf && len)
        snprintf(buf, len, fmt, arg);
}

/* ---- serial ---- */

static int serial_open(struct patron_scanner *sc, const char *path, char *detail, size_t len)
{
    struct termios t;
    sc->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (sc->fd < 0) {
        say(detail, len, "cannot open the serial scanner %s: no such device or no permission",
            path);
        return PATRON_EDEVICE;
    }
    if (tcgetattr(sc->fd, &t) != 0) {
        say(detail, len, "%s is not a serial device", path);
        close(sc->fd);
        sc->fd = -1;
        return PATRON_EDEVICE;
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B9600);
    cfsetospeed(&t, B9600);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    tcsetattr(sc->fd, TCSANOW, &t);
    tcflush(sc->fd, TCIFLUSH);
    sc->proto = PROTO_SERIAL;
    snprintf(sc->info.kind, sizeof sc->info.kind, "serial");
    snprintf(sc->info.protocol, sizeof sc->info.protocol, "serial");
    snprintf(sc->info.description, sizeof sc->info.description, "%s", path);
    return 0;
}

/* Reads what is there within timeout_ms into buf. Returns bytes, 0 on timeout, -1 when gone. */
static int serial_chunk(struct patron_scanner *sc, uint8_t *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = {.fd = sc->fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    if (n == 0)
        return 0;
    ssize_t got = read(sc->fd, buf, cap);
    if (got > 0)
        return (int)got;
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return -1; /* EOF or EIO: the other end hung up (unplugged) */
}

/* ---- USB HID ---- */

/* 1 when the interface's report descriptor uses the barcode scanner page. */
static int report_is_hidpos(libusb_device_handle *h, uint8_t iface)
{
    uint8_t desc[512];
    int n = libusb_control_transfer(h, 0x81, LIBUSB_REQUEST_GET_DESCRIPTOR, 0x2200, iface, desc,
                                    sizeof desc, 500);
    for (int i = 0; i + 1 < n; i++)
        if ((desc[i] == 0x05 && desc[i + 1] == HID_POS_PAGE) ||
            (desc[i] == 0x06 && i + 2 < n && desc[i + 1] == HID_POS_PAGE && desc[i + 2] == 0))
            return 1;
    return 0;
}

struct hid_iface {
    uint8_t number, ep_in, protocol;
    uint16_t packet;
};

static int hid_interface(libusb_device *dev, struct hid_iface *out)
{
    struct libusb_config_descriptor *cfg = NULL;
    int found = -1;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        libusb_get_config_descriptor(dev, 0, &cfg) != 0)
        return -1;
    for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++) {
        if (cfg->interface[i].num_altsetting < 1)
            continue;
        const struct libusb_interface_descriptor *alt = &cfg->interface[i].altsetting[0];
        if (alt->bInterfaceClass != HID_CLASS)
            continue;
        for (int e = 0; e < alt->bNumEndpoints && found < 0; e++) {
            const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
            if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) == LIBUSB_TRANSFER_TYPE_INTERRUPT &&
                (ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
                *out = (struct hid_iface){alt->bInterfaceNumber, ep->bEndpointAddress,
                                          alt->bInterfaceProtocol, ep->wMaxPacketSize};
                found = 0;
            }
        }
    }
    libusb_free_config_descriptor(cfg);
    return found;
}

/* Barcode scanner makers whose keyboard-mode devices "auto" takes (a keyboard of any other
 * maker is someone's keyboard, not a scanner): Honeywell/Metrologic, Zebra/Symbol, Datalogic,
 * Newland, Zebex, and the HID POS page from any maker. */
static int scanner_vendor(uint16_t vid)
{
    static const uint16_t vids[] = {0x0c2e, 0x05e0, 0x05f9, 0x1eab, 0x0536, 0x1a86, 0x2dd6};
    for (size_t i = 0; i < sizeof vids / sizeof vids[0]; i++)
        if (vids[i] == vid)
            return 1;
    return 0;
}

static int usb_take(struct patron_scanner *sc, libusb_device *dev, const struct hid_iface *f,
                    const struct libusb_device_descriptor *d, char *detail, size_t len)
{
    int r = libusb_open(dev, &sc->h);
    if (r != 0) {
        say(detail, len, "cannot open the USB scanner: %s (udev rule and plugdev group?)",
            libusb_strerror(r));
        return PATRON_EDEVICE;
    }
    if (libusb_kernel_driver_active(sc->h, f->number) == 1 &&
        libusb_detach_kernel_driver(sc->h, f->number) == 0)
        sc->detached = 1;
    if ((r = libusb_claim_interface(sc->h, f->number)) != 0) {
        say(detail, len, "cannot claim the USB scanner: %s (another program holds it?)",
            libusb_strerror(r));
        return PATRON_EDEVICE;
    }
    sc->iface = f->number;
    sc->ep_in = f->ep_in;
    sc->packet = f->packet ? f->packet : 8;
    sc->proto = report_is_hidpos(sc->h, f->number) ? PROTO_HIDPOS : PROTO_KEYBOARD;
    snprintf(sc->info.kind, sizeof sc->info.kind, "usb");
    snprintf(sc->info.protocol, sizeof sc->info.protocol, "%s",
             sc->proto == PROTO_HIDPOS ? "hidpos" : "keyboard");
    snprintf(sc->info.description, sizeof sc->info.description, "%04x:%04x bus %u dev %u",
             d->idVendor, d->idProduct, libusb_get_bus_number(dev), libusb_get_device_address(dev));
    sc->info.vendor_id = d->idVendor;
    sc->info.product_id = d->idProduct;
    return 0;
}

static int usb_open(struct patron_scanner *sc, int any, uint16_t vid, uint16_t pid, char *detail,
                    size_t len)
{
    libusb_device **list = NULL;
    int r = PATRON_EDEVICE;
    if (libusb_init(&sc->ctx) != 0) {
        say(detail, len, "%s", "cannot start libusb (no USB here?)");
        return PATRON_EDEVICE;
    }
    ssize_t n = libusb_get_device_list(sc->ctx, &list);
    say(detail, len, "%s",
        any ? "no USB barcode scanner is plugged in"
            : "the USB scanner asked for is not plugged in");
    for (ssize_t i = 0; i < n && r != 0; i++) {
        struct libusb_device_descriptor d;
        struct hid_iface f;
        if (libusb_get_device_descriptor(list[i], &d) != 0 || hid_interface(list[i], &f) != 0)
            continue;
        if (any ? !scanner_vendor(d.idVendor) : (d.idVendor != vid || d.idProduct != pid))
            continue;
        if ((r = usb_take(sc, list[i], &f, &d, detail, len)) != 0 && sc->h) {
            libusb_close(sc->h); /* opened but not claimed: try the next one */
            sc->h = NULL;
            sc->detached = 0;
        }
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    return r;
}

/* Reads one report within timeout_ms. Returns its length, 0 on timeout, -1 when gone. */
static int usb_chunk(struct patron_scanner *sc, uint8_t *buf, size_t cap, int timeout_ms)
{
    int got = 0;
    int r =
        libusb_interrupt_transfer(sc->h, sc->ep_in, buf, (int)(cap < sc->packet ? cap : sc->packet),
                                  &got, (unsigned)(timeout_ms > 0 ? timeout_ms : 1));
    if (r == 0 || (r == LIBUSB_ERROR_TIMEOUT && got > 0))
        return got;
    if (r == LIBUSB_ERROR_TIMEOUT || r == LIBUSB_ERROR_INTERRUPTED)
        return 0;
    return -1;
}

/* ---- opening ---- */

static int parse_hex4(const char *p, uint16_t *out)
{
    char *end;
    unsigned long v = strtoul(p, &end, 16);
    if (end != p + 4 || v > 0xFFFF)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int patron_scanner_open(const char *spec, patron_scanner **out, char *detail, size_t len)
{
    struct patron_scanner *sc = calloc(1, sizeof *sc);
    uint16_t vid = 0, pid = 0;
    int err;
    if (!sc)
        return PATRON_ENOMEM;
    sc->fd = -1;
    sc->limit.max_per_s = FLOOD_PER_S;
    sc->limit.window_start_ms = -1000000; /* no window yet */
    sc->flood_window = -1;
    patron_kbd_decoder_init(&sc->kbd);
    patron_hidpos_decoder_init(&sc->pos);
    patron_serial_decoder_init(&sc->ser);
    if (spec && strncmp(spec, "file:", 5) == 0 && spec[5] == '/') {
        err = serial_open(sc, spec + 5, detail, len);
    } else if (spec && (strcmp(spec, "auto") == 0 || strcmp(spec, "usb") == 0)) {
        err = usb_open(sc, 1, 0, 0, detail, len);
    } else if (spec && strncmp(spec, "usb:", 4) == 0 && strlen(spec) == 13 && spec[8] == ':' &&
               parse_hex4(spec + 4, &vid) == 0 && parse_hex4(spec + 9, &pid) == 0) {
        err = usb_open(sc, 0, vid, pid, detail, len);
    } else {
        say(detail, len, "'%s' is not a scanner: auto, usb, usb:VID:PID or file:/dev/...",
            spec ? spec : "");
        err = PATRON_EINVAL;
    }
    if (err != 0) {
        patron_scanner_close(sc);
        return err;
    }
    *out = sc;
    return 0;
}

void patron_scanner_close(patron_scanner *sc)
{
    if (!sc)
        return;
    if (sc->h) {
        libusb_release_interface(sc->h, sc->iface);
        if (sc->detached)
            libusb_attach_kernel_driver(sc->h, sc->iface);
        libusb_close(sc->h);
    }
    if (sc->ctx)
        libusb_exit(sc->ctx);
    if (sc->fd >= 0)
        close(sc->fd);
    free(sc);
}

void patron_scanner_describe(const patron_scanner *sc, struct patron_scanner_info *out)
{
    *out = sc->info;
}

/* ---- reading ---- */

static int pending(const struct patron_scanner *sc)
{
    switch (sc->proto) {
    case PROTO_KEYBOARD:
        return sc->kbd.len > 0 || sc->kbd.bad;
    case PROTO_HIDPOS:
        return sc->pos.line.len > 0 || sc->pos.bad;
    default:
        return sc->ser.len > 0 || sc->ser.bad;
    }
}

static void forget(struct patron_scanner *sc)
{
    patron_kbd_decoder_init(&sc->kbd);
    patron_hidpos_decoder_init(&sc->pos);
    patron_serial_decoder_init(&sc->ser);
}

/* Feeds one chunk; stops at the first whole scan or rejection (the rest of a serial chunk is
 * kept for the next call). */
static int feed(struct patron_scanner *sc, const uint8_t *buf, int n, int *used,
                struct patron_scan_line *out, char *why, size_t cap)
{
    if (sc->proto == PROTO_KEYBOARD) {
        *used = n;
        return patron_kbd_feed(&sc->kbd, buf, (size_t)n, out, why, cap);
    }
    if (sc->proto == PROTO_HIDPOS) {
        uint8_t report[PATRON_HIDPOS_REPORT] = {0};
        memcpy(report, buf, (size_t)n < sizeof report ? (size_t)n : sizeof report);
        *used = n;
        return patron_hidpos_feed(&sc->pos, report, sizeof report, out, why, cap);
    }
    for (int i = 0; i < n; i++) {
        int r = patron_serial_feed(&sc->ser, buf[i], out, why, cap);
        if (r != PATRON_SCAN_MORE) {
            *used = i + 1;
            return r;
        }
    }
    *used = n;
    return PATRON_SCAN_MORE;
}

/* The flood guard, over scans and refusals alike: beyond the limit they are dropped, and the
 * flood is said once per one-second window. */
static int gate(struct patron_scanner *sc, int r, char *why, size_t cap)
{
    if (patron_scan_limit_take(&sc->limit, now_ms()))
        return r;
    if (sc->flood_window == sc->limit.window_start_ms)
        return PATRON_SCAN_MORE;
    sc->flood_window = sc->limit.window_start_ms;
    if (why && cap)
        snprintf(why, cap, "the scanner sends more than %u scans a second; scan dropped",
                 sc->limit.max_per_s);
    return PATRON_SCAN_REJECTED;
}

int patron_scanner_read(patron_scanner *sc, int timeout_ms, struct patron_scan_line *out, char *why,
                        size_t cap)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        uint8_t buf[REPORT_MAX * 4];
        int n, used = 0;
        if (sc->proto == PROTO_SERIAL && sc->rest_len > 0) {
            n = sc->rest_len;
            memcpy(buf, sc->rest, (size_t)n);
            sc->rest_len = 0;
        } else {
            int64_t left = deadline - now_ms();
            int slice = left < POLL_SLICE_MS ? (int)(left > 0 ? left : 0) : POLL_SLICE_MS;
            n = sc->proto == PROTO_SERIAL ? serial_chunk(sc, buf, sizeof buf, slice)
                                          : usb_chunk(sc, buf, sizeof buf, slice);
        }
        if (n < 0) {
            int half = pending(sc);
            forget(sc);
            if (why && cap)
                snprintf(why, cap, "%s",
                         half ? "the scanner was unplugged in the middle of a scan"
                              : "the scanner was unplugged");
            return PATRON_EDEVICE;
        }
        if (n > 0) {
            sc->last_ms = now_ms();
            int r = feed(sc, buf, n, &used, out, why, cap);
            if (sc->proto == PROTO_SERIAL && used < n) {
                sc->rest_len = n - used;
                memcpy(sc->rest, buf + used, (size_t)sc->rest_len);
            }
            if (r != PATRON_SCAN_MORE && (r = gate(sc, r, why, cap)) != PATRON_SCAN_MORE)
                return r;
        } else if (pending(sc) && now_ms() - sc->last_ms >= HALF_READ_MS) {
            forget(sc);
            if (why && cap)
                snprintf(why, cap, "a scan stopped half-way (no Enter or end of line); dropped");
            return PATRON_SCAN_REJECTED;
        }
        if (now_ms() >= deadline)
            return PATRON_SCAN_MORE;
    }
}

int patron_scanner_list(struct patron_scanner_info *out, size_t cap, size_t *count)
{
    libusb_context *ctx = NULL;
    libusb_device **list = NULL;
    *count = 0;
    if (libusb_init(&ctx) != 0)
        return 0; /* no USB here: nothing attached */
    ssize_t n = libusb_get_device_list(ctx, &list);
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor d;
        struct hid_iface f;
        if (libusb_get_device_descriptor(list[i], &d) != 0 || hid_interface(list[i], &f) != 0)
            continue;
        if (*count < cap) {
            struct patron_scanner_info *x = &out[*count];
            memset(x, 0, sizeof *x);
            snprintf(x->kind, sizeof x->kind, "usb");
            snprintf(x->protocol, sizeof x->protocol, "%s",
                     f.protocol == HID_PROTO_KEYBOARD ? "keyboard" : "hid");
            snprintf(x->description, sizeof x->description, "%04x:%04x bus %u dev %u%s", d.idVendor,
                     d.idProduct, libusb_get_bus_number(list[i]),
                     libusb_get_device_address(list[i]),
                     scanner_vendor(d.idVendor) ? " (a scanner maker)" : "");
            x->vendor_id = d.idVendor;
            x->product_id = d.idProduct;
        }
        (*count)++;
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    return 0;
}
