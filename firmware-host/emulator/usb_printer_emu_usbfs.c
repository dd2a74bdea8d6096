/* SPDX-License-Identifier: MIT */
/* The emulated printer's usbfs side: answers libusb's ioctls as the kernel would (claim, driver
 * detach and reattach, URB submit / reap / discard) and as an ESC/POS printer would (captures
 * bulk OUT, answers DLE EOT on bulk IN, answers the printer class requests on EP0), with the
 * configured faults. Modelled on libusb's own tests/umockdev.c: URBs are resolved into local
 * copies, kept while in flight, and handed back on REAPURBNDELAY. */
#include <errno.h>
#include <linux/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb_printer_emu_internal.h"

#define URB_MAX (16u * 1024 * 1024) /* usbfs' own default limit */
#define DEVICE_ID_MAX 256

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

void usbemu__answer_reports(usbemu_printer *p)
{
    while (!g_queue_is_empty(&p->pending_in) && p->n_reports > 0) {
        UMockdevIoctlData *d = g_queue_pop_head(&p->pending_in);
        struct usbdevfs_urb *urb = urb_of(d);
        size_t n = p->report_len[0];
        n = n < (size_t)urb->buffer_length ? n : (size_t)urb->buffer_length;
        memcpy(urb->buffer, p->reports[0], n);
        memmove(p->reports, p->reports + 1, (p->n_reports - 1) * sizeof p->reports[0]);
        memmove(p->report_len, p->report_len + 1, (p->n_reports - 1) * sizeof p->report_len[0]);
        p->n_reports--;
        urb_finish(p, d, 0, (int)n);
    }
}

void usbemu__unplug(usbemu_printer *p)
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
        usbemu__unplug(p);
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
    if (type == 0x81 && req == 6 && (value >> 8) == 0x22 && USBEMU_IS_SCANNER(p)) {
        /* the HID report descriptor: a boot keyboard, or the barcode scanner page */
        static const uint8_t kbd[63] = {
            0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15,
            0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08,
            0x81, 0x01, 0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91,
            0x02, 0x95, 0x01, 0x75, 0x03, 0x91, 0x01, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00,
            0x25, 0x65, 0x05, 0x07, 0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0};
        static const uint8_t pos[40] = {0x05, 0x8c, 0x09, 0x02, 0xa1, 0x01, 0x09, 0x12, 0xa1, 0x02,
                                        0x85, 0x02, 0x15, 0x00, 0x26, 0xff, 0x00, 0x75, 0x08, 0x95,
                                        0x3f, 0x09, 0xfe, 0x81, 0x02, 0xc0, 0x09, 0x13, 0xa1, 0x02,
                                        0x85, 0x04, 0x95, 0x3f, 0x09, 0xfe, 0x91, 0x02, 0xc0, 0xc0};
        const uint8_t *rd = p->cfg.kind == USBEMU_SCANNER_KEYBOARD ? kbd : pos;
        size_t len = p->cfg.kind == USBEMU_SCANNER_KEYBOARD ? sizeof kbd : sizeof pos;
        memcpy(out, rd, len < cap ? len : cap);
        return (int)len;
    }
    if (type == 0x21 && (req == 0x0a || req == 0x0b)) /* HID SET_IDLE, SET_PROTOCOL */
        return 0;
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
    } else if (urb->type == USBDEVFS_URB_TYPE_INTERRUPT && USBEMU_IS_SCANNER(p) &&
               urb->endpoint == p->cfg.ep_in) {
        p->stats.in_urbs++;
        g_queue_push_tail(&p->pending_in, g_object_ref(d));
        usbemu__answer_reports(p);
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
        snprintf(g->driver, sizeof g->driver, "%s",
                 p->claimed             ? "usbfs"
                 : USBEMU_IS_SCANNER(p) ? "usbhid"
                                        : "usblp");
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

gboolean usbemu__handle_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
    usbemu_printer *p = user;
    (void)base;
    g_mutex_lock(&p->emu->lock);
    dispatch(p, client, umockdev_ioctl_client_get_request(client),
             umockdev_ioctl_client_get_arg(client));
    g_mutex_unlock(&p->emu->lock);
    return TRUE;
}

void usbemu__drop_queue(GQueue *q)
{
    UMockdevIoctlData *d;
    while ((d = g_queue_pop_head(q)))
        g_object_unref(d);
}

/* The kernel releases what a closing usbfs client held and forgets its URBs. */
void usbemu__client_vanished(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user)
{
    usbemu_printer *p = user;
    (void)base;
    (void)client;
    g_mutex_lock(&p->emu->lock);
    usbemu__drop_queue(&p->pending_in);
    usbemu__drop_queue(&p->pending_out);
    usbemu__drop_queue(&p->done);
    p->claimed = 0;
    g_mutex_unlock(&p->emu->lock);
}
