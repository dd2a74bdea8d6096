/* SPDX-License-Identifier: MIT */
/* What the two halves of the emulated printer share: the testbed and public API
 * (usb_printer_emu.c) and the usbfs ioctl handler that plays both the kernel and the printer
 * (usb_printer_emu_usbfs.c). Not for tests; they use usb_printer_emu.h. */
#ifndef PATRON_USB_PRINTER_EMU_INTERNAL_H
#define PATRON_USB_PRINTER_EMU_INTERNAL_H

#include <glib.h>
#include <umockdev.h>

#include "usb_printer_emu.h"

#define MAX_PRINTERS 8
#define REPLY_MAX 256    /* status bytes a printer buffers before dropping */
#define REPORTS_MAX 1024 /* input reports a scanner buffers */
#define USBEMU_IS_SCANNER(p) ((p)->cfg.kind != USBEMU_PRINTER)

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
    uint8_t reports[REPORTS_MAX][64];     /* a scanner's queued input reports */
    size_t report_len[REPORTS_MAX], n_reports;
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

/* The "handle-ioctl" and "client-vanished" handlers; `user` is the usbemu_printer. They take
 * the emulator's lock. */
gboolean usbemu__handle_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user);
void usbemu__client_vanished(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer user);
/* Drops the URBs of a queue (one reference each). */
void usbemu__drop_queue(GQueue *q);
/* Hands queued reports to waiting interrupt IN URBs (under the lock). */
void usbemu__answer_reports(usbemu_printer *p);
void usbemu__unplug(usbemu_printer *p);

#endif
