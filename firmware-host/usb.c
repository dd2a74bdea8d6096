/* SPDX-License-Identifier: MIT */
/* The USB printer back-end through libusb: finds the printer-class interface (or the one of a
 * given VID:PID), takes it from the usblp kernel driver, claims it, reads the bulk endpoints from
 * the descriptors, sends jobs in chunks with timeouts, and reads the printer's state with
 * DLE EOT before and after each job. Every libusb failure becomes one PATRON_E* code with a
 * sentence that says what to do about it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libusb.h>

#include "backend_internal.h"
#include "transport_internal.h"

#define CHUNK 4096            /* bytes per bulk OUT transfer */
#define WRITE_TIMEOUT_MS 5000 /* per chunk: a printer stalls while its buffer is full */
#define STATUS_TIMEOUT_MS 500 /* real-time replies come at once or never */
#define DRAIN_TIMEOUT_MS 10   /* reading stale replies before a status request */
#define DRAIN_MAX 32          /* stale replies read at most */
#define IN_BUF 512            /* a full-speed or high-speed bulk IN packet */
#define DEVICE_ID_MAX 1024
#define PRINTER_CLASS 7

struct usb_printer {
    libusb_context *ctx;
    libusb_device_handle *h;
    uint8_t iface, ep_out, ep_in; /* ep_in 0: unidirectional printer */
    uint8_t bus, addr;
    uint16_t vid, pid;
    int claimed, detached;
    int status_silent; /* never answered DLE EOT: print without asking */
    unsigned write_ms, status_ms;
};

/* What the descriptors say about one candidate interface. */
struct usb_iface {
    uint8_t number, ep_out, ep_in;
};

static const struct patron_printer_ops usb_ops;

/* One table of fixes: the code and the sentence for each libusb failure. */
static int map_error(const struct usb_printer *u, int lerr, const char *doing, char *detail,
                     size_t len)
{
    switch (lerr) {
    case LIBUSB_ERROR_BUSY:
        patron__printer_say(
            detail, len,
            "the usblp kernel driver or another program holds the printer %04x:%04x while %s; "
            "stop the other program (a print spooler such as CUPS), unload usblp "
            "(sudo modprobe -r usblp), or print through file:/dev/usb/lp0",
            u->vid, u->pid, doing);
        return PATRON_EPRINTBUSY;
    case LIBUSB_ERROR_ACCESS:
        patron__printer_say(
            detail, len,
            "no permission to use the USB printer %04x:%04x (bus %u device %u) while %s; install "
            "the udev rule (sudo cp firmware-host/60-patron-printer.rules /etc/udev/rules.d/ && "
            "sudo udevadm control --reload && sudo udevadm trigger), add this user to the lp "
            "group, and plug the printer in again",
            u->vid, u->pid, u->bus, u->addr, doing);
        return PATRON_EPRINTACCESS;
    case LIBUSB_ERROR_NO_DEVICE:
    case LIBUSB_ERROR_NOT_FOUND:
        patron__printer_say(detail, len,
                            "the USB printer %04x:%04x was unplugged or switched off while %s",
                            u->vid, u->pid, doing);
        return PATRON_EDEVICE;
    case LIBUSB_ERROR_TIMEOUT:
        patron__printer_say(
            detail, len,
            "the USB printer %04x:%04x did not answer in time while %s (paper jam, cover open, "
            "or a printer that is switched off?)",
            u->vid, u->pid, doing);
        return PATRON_ETIMEOUT;
    case LIBUSB_ERROR_NO_MEM:
        return PATRON_ENOMEM;
    default:
        patron__printer_say(detail, len, "USB error while %s on the printer %04x:%04x: %s", doing,
                            u->vid, u->pid, libusb_strerror(lerr));
        return PATRON_EDEVICE;
    }
}

/* ---- finding the printer ---- */

static int endpoints_of(const struct libusb_interface_descriptor *alt, struct usb_iface *out)
{
    struct usb_iface f = {.number = alt->bInterfaceNumber};
    for (int i = 0; i < alt->bNumEndpoints; i++) {
        const struct libusb_endpoint_descriptor *ep = &alt->endpoint[i];
        if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
            continue;
        if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
            if (!f.ep_in)
                f.ep_in = ep->bEndpointAddress;
        } else if (!f.ep_out) {
            f.ep_out = ep->bEndpointAddress;
        }
    }
    if (!f.ep_out)
        return -1;
    *out = f;
    return 0;
}

/* The printer-class interface; with `any_class` (a VID:PID the user named) also a vendor-specific
 * one with a bulk OUT endpoint, as some clones have. */
static int pick_interface(libusb_device *dev, int any_class, struct usb_iface *out)
{
    struct libusb_config_descriptor *cfg = NULL;
    int found = -1;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 &&
        libusb_get_config_descriptor(dev, 0, &cfg) != 0)
        return -1;
    for (int pass = 0; pass < (any_class ? 2 : 1) && found < 0; pass++) {
        for (int i = 0; i < cfg->bNumInterfaces && found < 0; i++) {
            if (cfg->interface[i].num_altsetting < 1)
                continue;
            const struct libusb_interface_descriptor *alt = &cfg->interface[i].altsetting[0];
            if (pass == 0 && alt->bInterfaceClass != PRINTER_CLASS)
                continue;
            found = endpoints_of(alt, out);
        }
    }
    libusb_free_config_descriptor(cfg);
    return found;
}

/* Returns a referenced device and its interface, or PATRON_EDEVICE. */
static int find_printer(struct usb_printer *u, int any, uint16_t vid, uint16_t pid,
                        libusb_device **found, struct usb_iface *iface)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(u->ctx, &list);
    int r = PATRON_EDEVICE;
    for (ssize_t i = 0; i < n && r != 0; i++) {
        struct libusb_device_descriptor d;
        if (libusb_get_device_descriptor(list[i], &d) != 0)
            continue;
        if (!any && (d.idVendor != vid || d.idProduct != pid))
            continue;
        if (pick_interface(list[i], !any, iface) != 0)
            continue;
        *found = libusb_ref_device(list[i]);
        u->vid = d.idVendor;
        u->pid = d.idProduct;
        u->bus = libusb_get_bus_number(list[i]);
        u->addr = libusb_get_device_address(list[i]);
        r = 0;
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    return r;
}

/* ---- taking the interface ---- */

static int claim(struct usb_printer *u, libusb_device *dev, char *detail, size_t len)
{
    int r = libusb_open(dev, &u->h);
    if (r != 0)
        return map_error(u, r, "opening it", detail, len);
    r = libusb_kernel_driver_active(u->h, u->iface);
    if (r == 1) {
        /* usblp owns printer-class interfaces; take it over and give it back at close */
        r = libusb_detach_kernel_driver(u->h, u->iface);
        if (r != 0 && r != LIBUSB_ERROR_NOT_FOUND)
            return map_error(u, r, "detaching the usblp kernel driver", detail, len);
        u->detached = r == 0;
    } else if (r < 0 && r != LIBUSB_ERROR_NOT_SUPPORTED) {
        return map_error(u, r, "asking which driver holds it", detail, len);
    }
    r = libusb_claim_interface(u->h, u->iface);
    if (r != 0)
        return map_error(u, r, "claiming its interface", detail, len);
    u->claimed = 1;
    return 0;
}

/* "MFG:EPSON;MDL:TM-T20III;..." -> the value of one key (MFG or MANUFACTURER, MDL or MODEL). */
static void id_field(const char *id, const char *k1, const char *k2, char *out, size_t cap)
{
    out[0] = '\0';
    for (const char *s = id; *s;) {
        const char *colon = strchr(s, ':'), *end = strchr(s, ';');
        if (!colon || (end && end < colon))
            break;
        size_t klen = (size_t)(colon - s),
               vlen = end ? (size_t)(end - colon - 1) : strlen(colon + 1);
        if ((klen == strlen(k1) && !strncmp(s, k1, klen)) ||
            (klen == strlen(k2) && !strncmp(s, k2, klen))) {
            snprintf(out, cap, "%.*s", (int)(vlen < cap ? vlen : cap - 1), colon + 1);
            return;
        }
        s = end ? end + 1 : colon + 1 + vlen;
    }
}

/* The printer class GET_DEVICE_ID names maker and model; best effort, for the description. */
static void describe(struct usb_printer *u, struct patron_printer_info *info)
{
    unsigned char buf[DEVICE_ID_MAX + 1];
    char id[DEVICE_ID_MAX + 1] = "", mfg[48], mdl[48];
    int n = libusb_control_transfer(u->h, 0xa1, 0, 0, (uint16_t)(u->iface << 8), buf, DEVICE_ID_MAX,
                                    200);
    if (n > 2) {
        size_t len = ((size_t)buf[0] << 8 | buf[1]);
        len = len < 2 ? 0 : len - 2;
        len = len < (size_t)n - 2 ? len : (size_t)n - 2;
        for (size_t i = 0; i < len; i++) /* keep it printable: it comes from the device */
            id[i] = (buf[2 + i] >= 0x20 && buf[2 + i] < 0x7f) ? (char)buf[2 + i] : '?';
        id[len] = '\0';
    }
    id_field(id, "MFG", "MANUFACTURER", mfg, sizeof mfg);
    id_field(id, "MDL", "MODEL", mdl, sizeof mdl);
    snprintf(info->kind, sizeof info->kind, "usb");
    snprintf(info->description, sizeof info->description, "%04x:%04x%s%s%s%s bus %u dev %u", u->vid,
             u->pid, mfg[0] ? " " : "", mfg, mdl[0] ? " " : "", mdl, u->bus, u->addr);
    info->vendor_id = u->vid;
    info->product_id = u->pid;
}

static void release(struct usb_printer *u)
{
    if (!u)
        return;
    if (u->claimed)
        libusb_release_interface(u->h, u->iface);
    if (u->detached) /* hand the printer back, so /dev/usb/lp0 works again */
        libusb_attach_kernel_driver(u->h, u->iface);
    if (u->h)
        libusb_close(u->h);
    if (u->ctx)
        libusb_exit(u->ctx);
    free(u);
}

static int new_context(libusb_context **ctx, char *detail, size_t len)
{
    int r = libusb_init(ctx);
    if (r != 0) {
        *ctx = NULL;
        patron__printer_say(detail, len,
                            "no USB printer: USB is not available on this machine (%s)",
                            libusb_strerror(r));
        return PATRON_EDEVICE;
    }
    return 0;
}

int patron__usb_open(int any, uint16_t vid, uint16_t pid, unsigned width_dots, patron_printer **out,
                     char *detail, size_t detail_len)
{
    struct usb_printer *u = calloc(1, sizeof *u);
    patron_printer *p = calloc(1, sizeof *p);
    libusb_device *dev = NULL;
    struct usb_iface f = {0};
    int r = PATRON_ENOMEM;
    if (!u || !p)
        goto out;
    u->write_ms = WRITE_TIMEOUT_MS;
    u->status_ms = STATUS_TIMEOUT_MS;
    if ((r = new_context(&u->ctx, detail, detail_len)) != 0)
        goto out;
    if ((r = find_printer(u, any, vid, pid, &dev, &f)) != 0) {
        if (any)
            patron__printer_say(detail, detail_len,
                                "no USB printer found (is it plugged in and switched on?)");
        else
            patron__printer_say(detail, detail_len,
                                "no USB printer %04x:%04x found (is it plugged in and "
                                "switched on?)",
                                vid, pid);
        goto out;
    }
    u->iface = f.number;
    u->ep_out = f.ep_out;
    u->ep_in = f.ep_in;
    if ((r = claim(u, dev, detail, detail_len)) != 0)
        goto out;
    describe(u, &p->info);
    p->ops = &usb_ops;
    p->impl = u;
    p->width_dots = width_dots;
    *out = p;
out:
    if (dev)
        libusb_unref_device(dev);
    if (r != 0) {
        release(u);
        free(p);
    }
    return r;
}

/* ---- talking to it ---- */

static int write_all(struct usb_printer *u, const uint8_t *data, size_t len, char *detail,
                     size_t dlen)
{
    size_t off = 0;
    int stalls = 0;
    while (off < len) {
        int want = (int)(len - off > CHUNK ? CHUNK : len - off), done = 0;
        /* libusb takes a non-const buffer for both directions; OUT never writes to it. The
         * uintptr_t round trip only drops const, so no-int-to-ptr's concern does not apply. */
        /* NOLINTNEXTLINE(performance-no-int-to-ptr) */
        int r = libusb_bulk_transfer(u->h, u->ep_out, (unsigned char *)(uintptr_t)(data + off),
                                     want, &done, u->write_ms);
        off += (size_t)(done > 0 ? done : 0);
        if (r == LIBUSB_ERROR_PIPE && stalls++ < 1 && libusb_clear_halt(u->h, u->ep_out) == 0)
            continue; /* a halted endpoint is cleared once, as the USB spec suggests */
        if (r == 0 && done == 0)
            r = LIBUSB_ERROR_TIMEOUT;
        if (r != 0) {
            char doing[96];
            snprintf(doing, sizeof doing, "sending (%zu of %zu bytes went out)", off, len);
            return map_error(u, r, doing, detail, dlen);
        }
    }
    return 0;
}

/* Reads what the printer sent before (replies to DLE EOT inside earlier data), so the next
 * reply read is the answer to the next request. */
static void drain(struct usb_printer *u)
{
    unsigned char buf[IN_BUF];
    int got = 0;
    for (int i = 0; i < DRAIN_MAX; i++) {
        if (libusb_bulk_transfer(u->h, u->ep_in, buf, sizeof buf, &got, DRAIN_TIMEOUT_MS) != 0 ||
            got == 0)
            return;
    }
}

static unsigned decode_status(const uint8_t r[3])
{
    unsigned s = 0;
    if (!(r[0] & 0x08))
        s |= PATRON_PRINTER_ONLINE;
    if ((r[1] & 0x20) || (r[2] & 0x60) == 0x60)
        s |= PATRON_PRINTER_PAPER_END;
    if (r[2] & 0x0c)
        s |= PATRON_PRINTER_PAPER_NEAR_END;
    if (r[1] & 0x04)
        s |= PATRON_PRINTER_COVER_OPEN;
    if (r[1] & 0x40)
        s |= PATRON_PRINTER_ERROR;
    return s;
}

/* Asks DLE EOT 1 (printer), 2 (offline cause), 4 (paper sensor). Returns 0 with *status, 1 when
 * the printer sent no answer in time, or a PATRON_E* code. */
static int query_status(struct usb_printer *u, unsigned *status, char *detail, size_t dlen)
{
    static const uint8_t ask[] = {0x10, 0x04, 0x01, 0x10, 0x04, 0x02, 0x10, 0x04, 0x04};
    uint8_t reply[3];
    size_t n = 0;
    drain(u);
    int r = write_all(u, ask, sizeof ask, detail, dlen);
    if (r != 0)
        return r;
    while (n < sizeof reply) {
        unsigned char buf[IN_BUF];
        int got = 0;
        r = libusb_bulk_transfer(u->h, u->ep_in, buf, sizeof buf, &got, u->status_ms);
        if (r == LIBUSB_ERROR_TIMEOUT)
            return 1;
        if (r != 0)
            return map_error(u, r, "reading its status", detail, dlen);
        for (int i = 0; i < got && n < sizeof reply; i++) {
            if ((buf[i] & 0x93) == 0x12) /* DLE EOT replies; automatic status is 0x10-based */
                reply[n++] = buf[i];
        }
    }
    *status = decode_status(reply);
    return 0;
}

static int refuse_state(const struct usb_printer *u, unsigned s, const char *when, char *detail,
                        size_t dlen)
{
    if (s & PATRON_PRINTER_PAPER_END) {
        patron__printer_say(detail, dlen,
                            "the printer %04x:%04x is out of paper %s; load a new roll", u->vid,
                            u->pid, when);
        return PATRON_EPAPER;
    }
    if (s & PATRON_PRINTER_COVER_OPEN) {
        patron__printer_say(detail, dlen, "the printer %04x:%04x has its cover open %s; close it",
                            u->vid, u->pid, when);
        return PATRON_ECOVER;
    }
    if (s & PATRON_PRINTER_ERROR) {
        patron__printer_say(detail, dlen,
                            "the printer %04x:%04x reports an error %s (cutter jam or hot print "
                            "head?); switch it off and on",
                            u->vid, u->pid, when);
        return PATRON_EDEVICE;
    }
    return 0;
}

/* Checks the state, unless the printer cannot or will not tell. */
static int check_state(struct usb_printer *u, const char *when, char *detail, size_t dlen)
{
    unsigned s = 0;
    if (!u->ep_in || u->status_silent)
        return 0;
    int r = query_status(u, &s, detail, dlen);
    if (r == 1) {
        u->status_silent = 1; /* many clones ignore DLE EOT; they still print */
        return 0;
    }
    return r != 0 ? r : refuse_state(u, s, when, detail, dlen);
}

static int usb_send(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                    char *detail, size_t dlen)
{
    struct usb_printer *u = p->impl;
    (void)job_name;
    int r = check_state(u, "before the job", detail, dlen);
    if (r == 0)
        r = write_all(u, data, len, detail, dlen);
    if (r == 0)
        r = check_state(u, "after the job (check the coupon; it may be cut short)", detail, dlen);
    return r;
}

static int usb_status(patron_printer *p, unsigned *status)
{
    struct usb_printer *u = p->impl;
    unsigned s = 0;
    if (!u->ep_in) {
        *status = PATRON_PRINTER_STATUS_UNKNOWN;
        return 0;
    }
    int r = query_status(u, &s, NULL, 0);
    if (r == 1)
        return PATRON_ETIMEOUT;
    if (r == 0)
        *status = s;
    return r;
}

static void usb_close(patron_printer *p)
{
    release(p->impl);
    p->impl = NULL;
}

static const struct patron_printer_ops usb_ops = {
    .send = usb_send,
    .status = usb_status,
    .close = usb_close,
};

int patron__usb_set_timeouts(patron_printer *p, unsigned write_ms, unsigned status_ms)
{
    if (!p || p->ops != &usb_ops)
        return PATRON_EINVAL;
    struct usb_printer *u = p->impl;
    u->write_ms = write_ms ? write_ms : u->write_ms;
    u->status_ms = status_ms ? status_ms : u->status_ms;
    return 0;
}

int patron__usb_set_raw(patron_printer *p)
{
    if (!p || p->ops != &usb_ops)
        return PATRON_EINVAL;
    ((struct usb_printer *)p->impl)->status_silent = 1; /* check_state asks nothing then */
    return 0;
}

int patron__usb_list(struct patron_printer_info *out, size_t cap, size_t *count)
{
    libusb_context *ctx = NULL;
    libusb_device **list = NULL;
    size_t found = 0;
    if (!count || (cap && !out))
        return PATRON_EINVAL;
    if (new_context(&ctx, NULL, 0) != 0) {
        *count = 0; /* no USB stack, so no USB printers */
        return 0;
    }
    ssize_t n = libusb_get_device_list(ctx, &list);
    for (ssize_t i = 0; i < n; i++) {
        struct libusb_device_descriptor d;
        struct usb_iface f;
        if (libusb_get_device_descriptor(list[i], &d) != 0 || pick_interface(list[i], 0, &f) != 0)
            continue;
        if (found < cap) {
            struct patron_printer_info *info = &out[found];
            memset(info, 0, sizeof *info);
            snprintf(info->kind, sizeof info->kind, "usb");
            snprintf(info->description, sizeof info->description, "%04x:%04x bus %u dev %u",
                     d.idVendor, d.idProduct, libusb_get_bus_number(list[i]),
                     libusb_get_device_address(list[i]));
            info->vendor_id = d.idVendor;
            info->product_id = d.idProduct;
        }
        found++;
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    *count = found;
    return 0;
}
