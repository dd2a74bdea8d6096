/* SPDX-License-Identifier: MIT */
/* The emulated USB printer: a umockdev testbed with printer-class devices whose usbfs ioctls are
 * answered here as the kernel and an ESC/POS printer would, so the project's unmodified libusb
 * code can be tested with no USB hardware. Modelled on libusb's own tests/umockdev.c: URBs are
 * resolved into local copies, kept while in flight, and handed back on REAPURBNDELAY. */
#include "usb_printer_emu.h"

#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umockdev.h>

#define MAX_PRINTERS 8
#define URB_MAX (16u * 1024 * 1024) /* usbfs' own default limit */
#define REPLY_MAX 256               /* status bytes a printer buffers before dropping */
#define CAPTURE_DEFAULT (64u * 1024 * 1024)
#define DEVICE_ID_MAX 256

struct usbemu_printer {
    usbemu *emu;
    struct usbemu_printer_config cfg;
    char manufacturer[64], product[64];
    unsigned devnum;
    char devnode[40];
    UMockdevIoctlBase *handler;
    uint8_t desc[64];
    size_t desc_len;

    /* state, under emu->lock */
    unsigned status, faults;
    int unplug_armed;
    size_t unplug_left;
    int usblp_bound, claimed, unplugged, overflowed;
    uint8_t *rx;
    size_t rx_len, rx_cap;
    uint8_t replies[REPLY_MAX];
    size_t n_replies;
    int dle_state;                        /* 0 idle, 1 saw DLE, 2 saw DLE EOT */
    GQueue pending_in, pending_out, done; /* UMockdevIoctlData* of URBs, one ref each */
    struct usbemu_stats stats;
};

struct usbemu {
    UMockdevTestbed *tb;
    char *root;
    GMutex lock;
    unsigned next_devnum;
    usbemu_printer *printers[MAX_PRINTERS];
    size_t n_printers;
};

/* ---- descriptors and the sysfs record ---- */

static void put16(uint8_t *d, unsigned v)
{
    d[0] = (uint8_t)(v & 0xff);
    d[1] = (uint8_t)(v >> 8);
}

/* Device descriptor + configuration (one interface, one or two bulk endpoints). */
static size_t build_descriptors(const struct usbemu_printer_config *c, uint8_t *d)
{
    size_t neps = c->no_in_endpoint ? 1 : 2, total = 9 + 9 + 7 * neps, n = 0;
    uint8_t dev[18] = {18, 1, 0x00, 0x02, 0, 0, 0, 64, 0, 0, 0, 0, 0x00, 0x01, 1, 2, 3, 1};
    put16(dev + 8, c->vid);
    put16(dev + 10, c->pid);
    memcpy(d, dev, sizeof dev);
    n = sizeof dev;
    uint8_t cfg[9] = {9, 2, 0, 0, 1, 1, 0, 0xc0, 50};
    put16(cfg + 2, (unsigned)total);
    memcpy(d + n, cfg, 9);
    n += 9;
    uint8_t ifc[9] = {9, 4, 0, 0, (uint8_t)neps, c->iface_class, 1, c->no_in_endpoint ? 1 : 2, 0};
    memcpy(d + n, ifc, 9);
    n += 9;
    uint8_t out[7] = {7, 5, c->ep_out, 2, 64, 0, 0};
    memcpy(d + n, out, 7);
    n += 7;
    if (!c->no_in_endpoint) {
        uint8_t in[7] = {7, 5, c->ep_in, 2, 64, 0, 0};
        memcpy(d + n, in, 7);
        n += 7;
    }
    return n;
}

static char *record_for(const usbemu_printer *p, const struct usbemu_printer_config *c)
{
    char hex[sizeof p->desc * 2 + 1];
    for (size_t i = 0; i < p->desc_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", p->desc[i]);
    return g_strdup_printf(
        "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u\n"
        "N: bus/usb/001/%03u\n"
        "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\n"
        "E: BUSNUM=001\nE: DEVNUM=%03u\nE: DEVNAME=/dev/bus/usb/001/%03u\n"
        "E: PRODUCT=%x/%x/100\n"
        "A: busnum=1\\n\nA: devnum=%u\\n\nA: idVendor=%04x\\n\nA: idProduct=%04x\\n\n"
        "A: bConfigurationValue=1\\n\nA: bNumConfigurations=1\\n\nA: speed=12\\n\n"
        "A: manufacturer=%s\\n\nA: product=%s\\n\n"
        "H: descriptors=%s\n\n"
        "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u/1-%u:1.0\n"
        "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\n%s"
        "A: bInterfaceClass=%02x\\n\nA: bInterfaceSubClass=01\\n\n"
        "A: bInterfaceProtocol=%02x\\n\nA: bInterfaceNumber=00\\n\nA: bNumEndpoints=%02x\\n\n",
        p->devnum - 1, p->devnum, p->devnum, p->devnum, c->vid, c->pid, p->devnum, c->vid, c->pid,
        p->manufacturer, p->product, hex, p->devnum - 1, p->devnum - 1,
        c->usblp_bound ? "E: DRIVER=usblp\n" : "", c->iface_class, c->no_in_endpoint ? 1 : 2,
        c->no_in_endpoint ? 1 : 2);
}

/* ---- the printer's side: capture, DLE EOT, status bytes ---- */

static uint8_t status_byte(const usbemu_printer *p, unsigned n)
{
    unsigned s = p->status, b = 0x12;
    int offline = (s & (USBEMU_OFFLINE | USBEMU_PAPER_END | USBEMU_COVER_OPEN | USBEMU_ERROR));
    if (n == 1 && offline)
        b |= 0x08;
    if (n == 2) {
        b |= (s & USBEMU_COVER_OPEN) ? 0x04 : 0;
        b |= (s & USBEMU_PAPER_END) ? 0x20 : 0;
        b |= (s & USBEMU_ERROR) ? 0x40 : 0;
    }
    if (n == 4) {
        b |= (s & USBEMU_PAPER_NEAR_END) ? 0x0c : 0;
        b |= (s & USBEMU_PAPER_END) ? 0x60 : 0;
    }
    return (uint8_t)b;
}

/* A printer acts on DLE EOT n wherever it appears, even inside raster data. */
static void scan_realtime(usbemu_printer *p, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = d[i];
        if (p->dle_state == 2) {
            p->dle_state = 0;
            if (b >= 1 && b <= 4) {
                p->stats.status_requests++;
                if (!(p->faults & USBEMU_FAULT_SILENT) && p->n_replies < REPLY_MAX)
                    p->replies[p->n_replies++] = status_byte(p, b);
                continue;
            }
        }
        if (p->dle_state == 1 && b == 0x04)
            p->dle_state = 2;
        else
            p->dle_state = (b == 0x10) ? 1 : 0;
    }
}

static int capture(usbemu_printer *p, const uint8_t *d, size_t n)
{
    if (n > p->cfg.capture_max - p->rx_len) {
        p->overflowed = 1;
        return -1;
    }
    if (p->rx_len + n > p->rx_cap) {
        size_t cap = p->rx_cap ? p->rx_cap : 4096;
        while (cap < p->rx_len + n)
            cap *= 2;
        if (cap > p->cfg.capture_max)
            cap = p->cfg.capture_max;
        uint8_t *nb = realloc(p->rx, cap);
        if (!nb) {
            p->overflowed = 1;
            return -1;
        }
        p->rx = nb;
        p->rx_cap = cap;
    }
    memcpy(p->rx + p->rx_len, d, n);
    p->rx_len += n;
    return 0;
}

/* ---- URB bookkeeping ---- */

static struct usbdevfs_urb *urb_of(UMockdevIoctlData *d)
{
    return (struct usbdevfs_urb *)d->data;
}

static void urb_finish(usbemu_printer *p, UMockdevIoctlData *d, int status, int actual)
{
    urb_of(d)->status = status;
    urb_of(d)->actual_length = actual;
    g_queue_push_tail(&p->done, d);
}

static void answer_pending_in(usbemu_printer *p)
{
    while (!g_queue_is_empty(&p->pending_in) && p->n_replies > 0) {
        UMockdevIoctlData *d = g_queue_pop_head(&p->pending_in);
        struct usbdevfs_urb *urb = urb_of(d);
        int got = 0;
        /* each reply is its own short packet, so one byte ends an IN transfer */
        if (urb->buffer_length > 0) {
            ((uint8_t *)urb->buffer)[0] = p->replies[0];
            memmove(p->replies, p->replies + 1, --p->n_replies);
            got = 1;
        }
        urb_finish(p, d, 0, got);
    }
}

static void unplug(usbemu_printer *p)
{
    UMockdevIoctlData *d;
    p->unplugged = 1;
    p->stats.unplugged = 1;
    while ((d = g_queue_pop_head(&p->pending_in)))
        urb_finish(p, d, -ENODEV, 0);
    while ((d = g_queue_pop_head(&p->pending_out)))
        urb_finish(p, d, -ENODEV, 0);
}

static void bulk_out(usbemu_printer *p, UMockdevIoctlData *d)
{
    struct usbdevfs_urb *urb = urb_of(d);
    size_t n = (size_t)urb->buffer_length;
    int status = 0, gone = 0;
    p->stats.out_urbs++;
    if (p->faults & USBEMU_FAULT_HANG_OUT) {
        g_queue_push_tail(&p->pending_out, d);
        return;
    }
    if (p->unplug_armed && p->unplug_left <= n) {
        n = p->unplug_left;
        status = -ENODEV;
        gone = 1;
    } else if (p->unplug_armed) {
        p->unplug_left -= n;
    }
    if (n > 0 && capture(p, urb->buffer, n) < 0) {
        n = 0;
        status = -EPIPE;
    }
    scan_realtime(p, urb->buffer, n);
    urb_finish(p, d, status, (int)n);
    if (gone)
        unplug(p);
    answer_pending_in(p);
}

/* ---- EP0: descriptors and the printer class requests ---- */

static size_t string_desc(const usbemu_printer *p, unsigned idx, uint8_t *out, size_t cap)
{
    const char *s = idx == 1 ? p->manufacturer : idx == 2 ? p->product : "EMU0001";
    size_t n = 2;
    if (idx == 0) {
        const uint8_t langs[4] = {4, 3, 0x09, 0x04};
        memcpy(out, langs, 4);
        return 4;
    }
    for (; *s && n + 2 <= cap && n + 2 <= 254; s++, n += 2) {
        out[n] = (uint8_t)*s;
        out[n + 1] = 0;
    }
    out[0] = (uint8_t)n;
    out[1] = 3;
    return n;
}

/* Writes the reply of a control request into out; returns its length or -EPIPE (stall). */
static int control_reply(const usbemu_printer *p, const uint8_t *setup, uint8_t *out, size_t cap)
{
    unsigned type = setup[0], req = setup[1], value = setup[2] | (setup[3] << 8);
    if (p->faults & USBEMU_FAULT_NO_STRINGS)
        return -EPIPE;
    if (type == 0x80 && req == 6) { /* GET_DESCRIPTOR */
        unsigned kind = value >> 8;
        if (kind == 1 || kind == 2) {
            size_t off = kind == 1 ? 0 : 18, len = kind == 1 ? 18 : p->desc_len - 18;
            memcpy(out, p->desc + off, len < cap ? len : cap);
            return (int)len;
        }
        if (kind == 3 && (value & 0xff) <= 3)
            return (int)string_desc(p, value & 0xff, out, cap);
        return -EPIPE;
    }
    if (type == 0xa1 && req == 0) { /* printer class GET_DEVICE_ID: 2-byte big-endian length */
        char id[DEVICE_ID_MAX];
        int n = snprintf(id, sizeof id, "MFG:%s;MDL:%s;CMD:ESC/POS;CLS:PRINTER;", p->manufacturer,
                         p->product);
        size_t len = (size_t)n + 2;
        out[0] = (uint8_t)(len >> 8);
        out[1] = (uint8_t)(len & 0xff);
        memcpy(out + 2, id, (size_t)n);
        return (int)len;
    }
    if (type == 0xa1 && req == 1) { /* GET_PORT_STATUS: select, no error, paper empty */
        out[0] = (p->status & USBEMU_PAPER_END) ? 0x38 : 0x18;
        return 1;
    }
    if (type == 0x21 && req == 2) /* SOFT_RESET */
        return 0;
    return -EPIPE;
}

static void control(usbemu_printer *p, UMockdevIoctlData *d)
{
    struct usbdevfs_urb *urb = urb_of(d);
    uint8_t reply[300];
    p->stats.control_urbs++;
    if (urb->buffer_length < 8) {
        urb_finish(p, d, -EPIPE, 0);
        return;
    }
    const uint8_t *setup = urb->buffer;
    size_t want = (size_t)(setup[6] | (setup[7] << 8)), room = (size_t)urb->buffer_length - 8;
    int r = control_reply(p, setup, reply, sizeof reply);
    if (r < 0) {
        urb_finish(p, d, r, 0);
        return;
    }
    size_t n = (size_t)r;
    n = n < want ? n : want;
    n = n < room ? n : room;
    if ((setup[0] & 0x80) && n > 0)
        memcpy((uint8_t *)urb->buffer + 8, reply, n);
    urb_finish(p, d, 0, (setup[0] & 0x80) ? (int)n : 0);
}

/* ---- the ioctls ---- */

static void complete(UMockdevIoctlClient *c, long res, int err)
{
    umockdev_ioctl_client_complete(c, res, err);
}

static void on_submit(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
    UMockdevIoctlData *buf = NULL;
    if (!d) {
        complete(c, -1, EFAULT);
        return;
    }
    struct usbdevfs_urb *urb = urb_of(d);
    if (p->unplugged || urb->buffer_length < 0 || (unsigned)urb->buffer_length > URB_MAX) {
        complete(c, -1, p->unplugged ? ENODEV : EINVAL);
        goto out;
    }
    if (urb->buffer_length > 0) {
        buf = umockdev_ioctl_data_resolve(d, G_STRUCT_OFFSET(struct usbdevfs_urb, buffer),
                                          (gsize)urb->buffer_length, NULL);
        if (!buf) {
            complete(c, -1, EFAULT);
            goto out;
        }
    }
    if (urb->type == USBDEVFS_URB_TYPE_CONTROL && urb->endpoint == 0) {
        control(p, g_object_ref(d));
    } else if (urb->type == USBDEVFS_URB_TYPE_BULK && urb->endpoint == p->cfg.ep_out) {
        bulk_out(p, g_object_ref(d));
    } else if (urb->type == USBDEVFS_URB_TYPE_BULK && !p->cfg.no_in_endpoint &&
               urb->endpoint == p->cfg.ep_in) {
        p->stats.in_urbs++;
        g_queue_push_tail(&p->pending_in, g_object_ref(d));
        answer_pending_in(p);
    } else {
        complete(c, -1, ENOENT);
        goto out;
    }
    complete(c, 0, 0);
out:
    if (buf)
        g_object_unref(buf);
    g_object_unref(d);
}

static int take_from(GQueue *q, gulong addr, UMockdevIoctlData **out)
{
    for (GList *l = q->head; l; l = l->next) {
        UMockdevIoctlData *d = l->data;
        if (d->client_addr == addr) {
            g_queue_delete_link(q, l);
            *out = d;
            return 1;
        }
    }
    return 0;
}

/* libusb's timeout path: the cancelled URB is reaped with -ENOENT. */
static void on_discard(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = NULL;
    gulong addr = 0;
    if (arg->data_len < (gint)sizeof addr) {
        complete(c, -1, EINVAL);
        return;
    }
    memcpy(&addr, arg->data, sizeof addr);
    if (take_from(&p->pending_in, addr, &d) || take_from(&p->pending_out, addr, &d)) {
        p->stats.discarded++;
        urb_finish(p, d, -ENOENT, 0);
        complete(c, 0, 0);
        return;
    }
    complete(c, -1, EINVAL); /* already done: libusb then reaps it normally */
}

static void on_reap(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = g_queue_pop_head(&p->done);
    if (!d) {
        complete(c, -1, p->unplugged ? ENODEV : EAGAIN);
        return;
    }
    UMockdevIoctlData *slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(gpointer), NULL);
    if (!slot) {
        g_queue_push_head(&p->done, d);
        complete(c, -1, EFAULT);
        return;
    }
    umockdev_ioctl_data_set_ptr(slot, 0, d);
    complete(c, 0, 0);
    g_object_unref(slot);
    g_object_unref(d);
}

static void on_claim(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg, int claim)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), NULL);
    unsigned ifno = d ? *(unsigned *)d->data : 99;
    if (d)
        g_object_unref(d);
    if (ifno != 0) {
        complete(c, -1, ENOENT);
    } else if (!claim) {
        p->claimed = 0;
        p->stats.releases++;
        complete(c, 0, 0);
    } else if ((p->faults & USBEMU_FAULT_BUSY) || p->usblp_bound) {
        complete(c, -1, EBUSY); /* the kernel says so while another driver is bound */
    } else {
        p->claimed = 1;
        p->stats.claims++;
        complete(c, 0, 0);
    }
}

static void on_getdriver(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_getdriver), NULL);
    if (!d) {
        complete(c, -1, EFAULT);
        return;
    }
    struct usbdevfs_getdriver *g = (struct usbdevfs_getdriver *)d->data;
    if (g->interface != 0 || (!p->claimed && !p->usblp_bound)) {
        complete(c, -1, ENODATA);
    } else {
        snprintf(g->driver, sizeof g->driver, "%s", p->claimed ? "usbfs" : "usblp");
        complete(c, 0, 0);
    }
    g_object_unref(d);
}

static void on_usbfs_ioctl(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ioctl), NULL);
    if (!d) {
        complete(c, -1, EFAULT);
        return;
    }
    const struct usbdevfs_ioctl *io = (const struct usbdevfs_ioctl *)d->data;
    if (io->ifno != 0) {
        complete(c, -1, EINVAL);
    } else if (io->ioctl_code == (int)USBDEVFS_DISCONNECT) {
        if (p->usblp_bound) {
            p->usblp_bound = 0;
            p->stats.detaches++;
            complete(c, 0, 0);
        } else {
            complete(c, -1, ENODATA);
        }
    } else if (io->ioctl_code == (int)USBDEVFS_CONNECT) {
        if (p->claimed) {
            complete(c, -1, EBUSY);
        } else if (p->cfg.usblp_bound && !p->usblp_bound) {
            p->usblp_bound = 1; /* the kernel found usblp again */
            p->stats.reattaches++;
            complete(c, 1, 0);
        } else {
            complete(c, 0, 0);
        }
    } else {
        complete(c, -1, ENOTTY);
    }
    g_object_unref(d);
}

static void on_disconnect_claim(usbemu_printer *p, UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d =
        umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_disconnect_claim), NULL);
    if (!d) {
        complete(c, -1, EFAULT);
        return;
    }
    struct usbdevfs_disconnect_claim *dc = (struct usbdevfs_disconnect_claim *)d->data;
    dc->driver[sizeof dc->driver - 1] = '\0';
    int named = strcmp(dc->driver, "usblp") == 0;
    if (p->usblp_bound &&
        (((dc->flags & USBDEVFS_DISCONNECT_CLAIM_EXCEPT_DRIVER) && !named) ||
         ((dc->flags & USBDEVFS_DISCONNECT_CLAIM_IF_DRIVER) && named) || !(dc->flags & 3))) {
        p->usblp_bound = 0;
        p->stats.detaches++;
    }
    if (dc->interface != 0) {
        complete(c, -1, ENOENT);
    } else if ((p->faults & USBEMU_FAULT_BUSY) || p->usblp_bound) {
        complete(c, -1, EBUSY);
    } else {
        p->claimed = 1;
        p->stats.claims++;
        complete(c, 0, 0);
    }
    g_object_unref(d);
}

static void on_capabilities(UMockdevIoctlClient *c, UMockdevIoctlData *arg)
{
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), NULL);
    if (!d) {
        complete(c, -1, EFAULT);
        return;
    }
    *(guint32 *)d->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                          USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_ZERO_PACKET;
    complete(c, 0, 0);
    g_object_unref(d);
}

static void dispatch(usbemu_printer *p, UMockdevIoctlClient *c, gulong req, UMockdevIoctlData *arg)
{
    if (p->unplugged && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_REAPURB) {
        complete(c, -1, ENODEV);
        return;
    }
    switch (req) {
    case USBDEVFS_GET_CAPABILITIES:
        on_capabilities(c, arg);
        break;
    case USBDEVFS_SUBMITURB:
        on_submit(p, c, arg);
        break;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
        on_reap(p, c, arg);
        break;
    case USBDEVFS_DISCARDURB:
        on_discard(p, c, arg);
        break;
    case USBDEVFS_CLAIMINTERFACE:
        on_claim(p, c, arg, 1);
        break;
    case USBDEVFS_RELEASEINTERFACE:
        on_claim(p, c, arg, 0);
        break;
    case USBDEVFS_GETDRIVER:
        on_getdriver(p, c, arg);
        break;
    case USBDEVFS_IOCTL:
        on_usbfs_ioctl(p, c, arg);
        break;
    case USBDEVFS_DISCONNECT_CLAIM:
        on_disconnect_claim(p, c, arg);
        break;
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESETEP:
    case USBDEVFS_RESET:
    case USBDEVFS_SETINTERFACE:
    case USBDEVFS_SETCONFIGURATION:
        complete(c, 0, 0);
        break;
    default:
        p->stats.unknown_ioctls++;
        complete(c, -1, ENOTTY);
    }
}

static gboolean handle_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
    usbemu_printer *p = user;
    (void)base;
    g_mutex_lock(&p->emu->lock);
    dispatch(p, client, umockdev_ioctl_client_get_request(client),
             umockdev_ioctl_client_get_arg(client));
    g_mutex_unlock(&p->emu->lock);
    return TRUE;
}

static void drop_queue(GQueue *q)
{
    UMockdevIoctlData *d;
    while ((d = g_queue_pop_head(q)))
        g_object_unref(d);
}

/* The kernel releases what a closing usbfs client held and forgets its URBs. */
static void client_vanished(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
    usbemu_printer *p = user;
    (void)base;
    (void)client;
    g_mutex_lock(&p->emu->lock);
    drop_queue(&p->pending_in);
    drop_queue(&p->pending_out);
    drop_queue(&p->done);
    p->claimed = 0;
    g_mutex_unlock(&p->emu->lock);
}

/* ---- public ---- */

usbemu *usbemu_new(void)
{
    usbemu *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->tb = umockdev_testbed_new();
    if (!e->tb) {
        free(e);
        return NULL;
    }
    e->root = umockdev_testbed_get_root_dir(e->tb);
    g_mutex_init(&e->lock);
    e->next_devnum = 2;
    return e;
}

static void printer_free(usbemu_printer *p)
{
    drop_queue(&p->pending_in);
    drop_queue(&p->pending_out);
    drop_queue(&p->done);
    if (p->handler)
        g_object_unref(p->handler);
    free(p->rx);
    free(p);
}

void usbemu_free(usbemu *e)
{
    if (!e)
        return;
    g_object_unref(e->tb); /* detaches the handlers and removes the directory */
    for (size_t i = 0; i < e->n_printers; i++)
        printer_free(e->printers[i]);
    g_mutex_clear(&e->lock);
    g_free(e->root);
    free(e);
}

const char *usbemu_root(const usbemu *e)
{
    return e->root;
}

static void apply_defaults(struct usbemu_printer_config *c)
{
    if (!c->vid && !c->pid) {
        c->vid = 0x0416;
        c->pid = 0x5011;
    }
    c->ep_out = c->ep_out ? c->ep_out : 0x01;
    c->ep_in = c->ep_in ? c->ep_in : 0x82;
    c->iface_class = c->iface_class ? c->iface_class : 7;
    c->capture_max = c->capture_max ? c->capture_max : CAPTURE_DEFAULT;
}

static int add_to_testbed(usbemu *e, usbemu_printer *p)
{
    GError *err = NULL;
    char *rec = record_for(p, &p->cfg);
    /* attach first, so the node answers ioctls as soon as the device appears */
    int ok = umockdev_testbed_attach_ioctl(e->tb, p->devnode, p->handler, &err) &&
             umockdev_testbed_add_from_string(e->tb, rec, &err);
    if (!ok) {
        fprintf(stderr, "usbemu: %s\n", err ? err->message : "cannot add the printer");
        g_clear_error(&err);
    }
    g_free(rec);
    return ok ? 0 : -1;
}

int usbemu_add_printer(usbemu *e, const struct usbemu_printer_config *cfg, usbemu_printer **out)
{
    usbemu_printer *p;
    if (e->n_printers == MAX_PRINTERS || e->next_devnum > 127 || !(p = calloc(1, sizeof *p)))
        return -1;
    p->emu = e;
    if (cfg)
        p->cfg = *cfg;
    apply_defaults(&p->cfg);
    snprintf(p->manufacturer, sizeof p->manufacturer, "%s",
             p->cfg.manufacturer ? p->cfg.manufacturer : "Patron");
    snprintf(p->product, sizeof p->product, "%s",
             p->cfg.product ? p->cfg.product : "Emulated receipt printer");
    p->cfg.manufacturer = p->cfg.product = NULL; /* borrowed; the copies above are kept */
    p->devnum = e->next_devnum++;
    snprintf(p->devnode, sizeof p->devnode, "/dev/bus/usb/001/%03u", p->devnum);
    p->desc_len = build_descriptors(&p->cfg, p->desc);
    p->status = p->cfg.status;
    p->faults = p->cfg.faults;
    p->usblp_bound = p->cfg.usblp_bound;
    p->unplug_armed = p->cfg.unplug;
    p->unplug_left = p->cfg.unplug_after;
    g_queue_init(&p->pending_in);
    g_queue_init(&p->pending_out);
    g_queue_init(&p->done);
    p->handler = umockdev_ioctl_base_new();
    g_signal_connect_after(p->handler, "handle-ioctl", G_CALLBACK(handle_ioctl), p);
    g_signal_connect(p->handler, "client-vanished", G_CALLBACK(client_vanished), p);
    if (add_to_testbed(e, p) < 0) {
        printer_free(p);
        return -1;
    }
    e->printers[e->n_printers++] = p;
    *out = p;
    return 0;
}

int usbemu_add_other(usbemu *e, uint16_t vid, uint16_t pid, uint8_t iface_class)
{
    uint8_t d[18 + 9 + 9 + 7] = {18, 1, 0x00,        0x02, 0, 0,  0, 64, 0,    0, 0,    0,  0, 1, 0,
                                 0,  0, 1,           9,    2, 25, 0, 1,  1,    0, 0xa0, 50, 9, 4, 0,
                                 0,  1, iface_class, 0,    0, 0,  7, 5,  0x81, 3, 8,    0,  10};
    char hex[sizeof d * 2 + 1];
    GError *err = NULL;
    if (e->next_devnum > 127)
        return -1;
    unsigned dn = e->next_devnum++;
    put16(d + 8, vid);
    put16(d + 10, pid);
    for (size_t i = 0; i < sizeof d; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    char *rec = g_strdup_printf(
        "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u\nN: bus/usb/001/%03u\n"
        "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\nE: BUSNUM=001\n"
        "E: DEVNUM=%03u\nE: DEVNAME=/dev/bus/usb/001/%03u\n"
        "A: busnum=1\\n\nA: devnum=%u\\n\nA: bConfigurationValue=1\\n\nA: speed=12\\n\n"
        "H: descriptors=%s\n",
        dn - 1, dn, dn, dn, dn, hex);
    int ok = umockdev_testbed_add_from_string(e->tb, rec, &err);
    g_clear_error(&err);
    g_free(rec);
    return ok ? 0 : -1;
}

size_t usbemu_printer_received(usbemu_printer *p, uint8_t *buf, size_t cap)
{
    g_mutex_lock(&p->emu->lock);
    size_t n = p->rx_len;
    if (buf && cap)
        memcpy(buf, p->rx, n < cap ? n : cap);
    g_mutex_unlock(&p->emu->lock);
    return n;
}

void usbemu_printer_clear(usbemu_printer *p)
{
    g_mutex_lock(&p->emu->lock);
    p->rx_len = 0;
    p->overflowed = 0;
    g_mutex_unlock(&p->emu->lock);
}

int usbemu_printer_overflowed(usbemu_printer *p)
{
    g_mutex_lock(&p->emu->lock);
    int o = p->overflowed;
    g_mutex_unlock(&p->emu->lock);
    return o;
}

void usbemu_printer_set_status(usbemu_printer *p, unsigned status_bits)
{
    g_mutex_lock(&p->emu->lock);
    p->status = status_bits;
    g_mutex_unlock(&p->emu->lock);
}

void usbemu_printer_set_faults(usbemu_printer *p, unsigned fault_bits)
{
    g_mutex_lock(&p->emu->lock);
    p->faults = fault_bits;
    g_mutex_unlock(&p->emu->lock);
}

void usbemu_printer_set_unplug_after(usbemu_printer *p, size_t n)
{
    g_mutex_lock(&p->emu->lock);
    p->unplug_armed = n != USBEMU_NEVER;
    p->unplug_left = n;
    g_mutex_unlock(&p->emu->lock);
}

void usbemu_printer_stats(usbemu_printer *p, struct usbemu_stats *out)
{
    g_mutex_lock(&p->emu->lock);
    *out = p->stats;
    out->claimed = p->claimed;
    out->usblp_bound = p->usblp_bound;
    out->unplugged = p->unplugged;
    g_mutex_unlock(&p->emu->lock);
}

const char *usbemu_printer_devnode(const usbemu_printer *p)
{
    return p->devnode;
}
