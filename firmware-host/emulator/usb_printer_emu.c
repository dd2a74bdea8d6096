/* SPDX-License-Identifier: MIT */
/* The emulated USB printer's testbed: makes a umockdev testbed, describes each printer to it in
 * umockdev-record form (sysfs attributes and the binary descriptors libusb reads), attaches the
 * usbfs handler of usb_printer_emu_usbfs.c to its device node, and offers the accessors tests
 * use to configure faults and read what was printed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb_printer_emu_internal.h"

#define CAPTURE_DEFAULT (64u * 1024 * 1024)

/* ---- descriptors and the sysfs record ---- */

static void put16(uint8_t *d, unsigned v)
{
    d[0] = (uint8_t)(v & 0xff);
    d[1] = (uint8_t)(v >> 8);
}

/* A scanner: device, configuration, HID interface, HID descriptor, one interrupt IN endpoint. */
static size_t build_scanner_descriptors(const struct usbemu_printer_config *c, uint8_t *d)
{
    int kbd = c->kind == USBEMU_SCANNER_KEYBOARD;
    uint8_t all[18 + 9 + 9 + 9 + 7] = {
        18,
        1,
        0x00,
        0x02,
        0,
        0,
        0,
        64,
        0,
        0,
        0,
        0,
        0x00,
        0x01,
        1,
        2,
        3,
        1, /* device */
        9,
        2,
        34,
        0,
        1,
        1,
        0,
        0xa0,
        50, /* configuration */
        9,
        4,
        0,
        0,
        1,
        3,
        (uint8_t)(kbd ? 1 : 0),
        (uint8_t)(kbd ? 1 : 0),
        0, /* interface */
        9,
        0x21,
        0x11,
        0x01,
        0,
        1,
        0x22,
        0,
        0, /* HID */
        7,
        5,
        c->ep_in,
        3,
        (uint8_t)(kbd ? 8 : 64),
        0,
        1, /* interrupt IN */
    };
    put16(all + 8, c->vid);
    put16(all + 10, c->pid);
    all[18 + 9 + 9 + 7] = kbd ? 63 : 40; /* the report descriptor's length (see usbfs.c) */
    memcpy(d, all, sizeof all);
    return sizeof all;
}

/* Device descriptor + configuration (one interface, one or two bulk endpoints). */
static size_t build_descriptors(const struct usbemu_printer_config *c, uint8_t *d)
{
    if (c->kind != USBEMU_PRINTER)
        return build_scanner_descriptors(c, d);
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
        "A: bInterfaceClass=%02x\\n\nA: bInterfaceSubClass=%02x\\n\n"
        "A: bInterfaceProtocol=%02x\\n\nA: bInterfaceNumber=00\\n\nA: bNumEndpoints=%02x\\n\n",
        p->devnum - 1, p->devnum, p->devnum, p->devnum, c->vid, c->pid, p->devnum, c->vid, c->pid,
        p->manufacturer, p->product, hex, p->devnum - 1, p->devnum - 1,
        c->usblp_bound ? (c->kind ? "E: DRIVER=usbhid\n" : "E: DRIVER=usblp\n") : "",
        c->iface_class, c->kind == USBEMU_SCANNER_HIDPOS ? 0 : 1,
        c->kind ? (c->kind == USBEMU_SCANNER_KEYBOARD ? 1 : 0) : (c->no_in_endpoint ? 1 : 2),
        c->kind ? 1 : (c->no_in_endpoint ? 1 : 2));
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
    usbemu__drop_queue(&p->pending_in);
    usbemu__drop_queue(&p->pending_out);
    usbemu__drop_queue(&p->done);
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
    c->ep_in = c->ep_in ? c->ep_in : (c->kind ? 0x81 : 0x82);
    c->iface_class = c->kind ? 3 : (c->iface_class ? c->iface_class : 7);
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
             p->cfg.product         ? p->cfg.product
             : USBEMU_IS_SCANNER(p) ? "Emulated card scanner"
                                    : "Emulated receipt printer");
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
    g_signal_connect_after(p->handler, "handle-ioctl", G_CALLBACK(usbemu__handle_ioctl), p);
    g_signal_connect(p->handler, "client-vanished", G_CALLBACK(usbemu__client_vanished), p);
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

int usbemu_scanner_send(usbemu_printer *p, const uint8_t *report, size_t n)
{
    int r = -1;
    g_mutex_lock(&p->emu->lock);
    if (p->n_reports < REPORTS_MAX && n <= sizeof p->reports[0]) {
        memcpy(p->reports[p->n_reports], report, n);
        p->report_len[p->n_reports++] = n;
        usbemu__answer_reports(p);
        r = 0;
    }
    g_mutex_unlock(&p->emu->lock);
    return r;
}

void usbemu_unplug(usbemu_printer *p)
{
    g_mutex_lock(&p->emu->lock);
    usbemu__unplug(p);
    g_mutex_unlock(&p->emu->lock);
}
