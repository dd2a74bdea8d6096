/* SPDX-License-Identifier: MIT */
/* An emulated USB receipt printer for tests, built on umockdev: a fake /sys and /dev in which
 * libusb finds printer-class devices, and a handler that answers libusb's usbfs ioctls the way
 * the kernel and a real ESC/POS printer would (claim, kernel driver detach, bulk OUT capture,
 * DLE EOT status replies on bulk IN), with faults to inject (unplug, busy, timeouts).
 *
 * The process that talks to the printer must run under the umockdev preload library
 * (umockdev-wrapper, or LD_PRELOAD=libumockdev-preload.so.0; under a gcc ASan build the ASan
 * runtime must come first in LD_PRELOAD). Create the emulator BEFORE the first libusb_init() of
 * the process that should see it.
 *
 * Thread-safety: the ioctl handler runs in umockdev's worker thread; every accessor below takes
 * the emulator's lock, so tests may call them from their own thread at any time. */
#ifndef PATRON_USB_PRINTER_EMU_H
#define PATRON_USB_PRINTER_EMU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct usbemu usbemu;                 /* one testbed */
typedef struct usbemu_printer usbemu_printer; /* one emulated printer in it */

/* What DLE EOT answers (and GET_PORT_STATUS reports). */
enum usbemu_status_bits {
    USBEMU_OFFLINE = 1 << 0,
    USBEMU_PAPER_END = 1 << 1,
    USBEMU_PAPER_NEAR_END = 1 << 2,
    USBEMU_COVER_OPEN = 1 << 3,
    USBEMU_ERROR = 1 << 4,
};

/* Faults to inject. */
enum usbemu_fault_bits {
    USBEMU_FAULT_BUSY = 1 << 0,      /* CLAIMINTERFACE fails with EBUSY (another program) */
    USBEMU_FAULT_HANG_OUT = 1 << 1,  /* bulk OUT never completes (until discarded) */
    USBEMU_FAULT_SILENT = 1 << 2,    /* never answers DLE EOT: bulk IN never completes */
    USBEMU_FAULT_NO_STRINGS = 1 << 3 /* stalls every control request on EP0 */
};

#define USBEMU_NEVER SIZE_MAX

struct usbemu_printer_config {
    uint16_t vid, pid;                  /* 0:0 = 0416:5011, a common 58 mm clone */
    uint8_t ep_out;                     /* bulk OUT address, 0 = 0x01 */
    uint8_t ep_in;                      /* bulk IN address, 0 = 0x82; ignored when no_in_endpoint */
    int no_in_endpoint;                 /* a unidirectional printer (interface protocol 1) */
    uint8_t iface_class;                /* 0 = 7 (printer); e.g. 0xff for a vendor-specific clone */
    const char *manufacturer, *product; /* NULL = "Patron", "Emulated receipt printer" */
    unsigned status;                    /* USBEMU_* status bits, changeable later */
    unsigned faults;                    /* USBEMU_FAULT_* bits, changeable later */
    int usblp_bound; /* the kernel's usblp driver starts bound to the interface */
    int unplug;      /* 1: the printer is unplugged once unplug_after bytes arrived */
    size_t unplug_after;
    size_t capture_max; /* bound of the capture buffer, 0 = 64 MiB */
    /* A card scanner instead of a printer: an HID interface (class 3) with one interrupt IN
     * endpoint (ep_in) that hands out the reports queued with usbemu_scanner_send; the kernel's
     * usbhid driver stands where usblp does for a printer (usblp_bound). */
    enum usbemu_kind {
        USBEMU_PRINTER = 0,
        USBEMU_SCANNER_KEYBOARD, /* boot keyboard: subclass 1, protocol 1, 8-byte reports */
        USBEMU_SCANNER_HIDPOS,   /* report descriptor on usage page 0x8C, 64-byte reports */
    } kind;
};

struct usbemu_stats {
    unsigned claims, releases;
    unsigned detaches, reattaches; /* of the kernel driver */
    unsigned status_requests;      /* DLE EOT n seen on bulk OUT */
    unsigned out_urbs, in_urbs, control_urbs, discarded;
    unsigned unknown_ioctls;
    int claimed, usblp_bound, unplugged;
};

/* Creates a testbed (sets UMOCKDEV_DIR in this process's environment, which children inherit).
 * Returns NULL when umockdev cannot make one. */
usbemu *usbemu_new(void);

/* Frees the testbed and its devices; NULL does nothing. Close every libusb context that saw the
 * devices first. */
void usbemu_free(usbemu *e);

/* Adds a printer (bus 1, the next device number, port 1-N). `cfg` may be NULL for defaults.
 * Returns 0 and sets *out (owned by `e`), or -1. */
int usbemu_add_printer(usbemu *e, const struct usbemu_printer_config *cfg, usbemu_printer **out);

/* Adds a device that is not a printer (e.g. a keyboard, class 3), for enumeration tests. It has
 * no ioctl handler: opening it fails. Returns 0 or -1. */
int usbemu_add_other(usbemu *e, uint16_t vid, uint16_t pid, uint8_t iface_class);

/* The testbed's root directory (for diagnostics). */
const char *usbemu_root(const usbemu *e);

/* Bytes received on bulk OUT so far: copies up to `cap` bytes into buf (buf may be NULL with
 * cap 0) and returns the total received. */
size_t usbemu_printer_received(usbemu_printer *p, uint8_t *buf, size_t cap);
/* Forgets what was received. */
void usbemu_printer_clear(usbemu_printer *p);
/* 1 when the capture buffer overflowed its bound (further bytes were refused). */
int usbemu_printer_overflowed(usbemu_printer *p);

void usbemu_printer_set_status(usbemu_printer *p, unsigned status_bits);
void usbemu_printer_set_faults(usbemu_printer *p, unsigned fault_bits);
/* Unplugs once `n` more bytes have arrived (0 = at the next transfer); USBEMU_NEVER cancels. */
void usbemu_printer_set_unplug_after(usbemu_printer *p, size_t n);
void usbemu_printer_stats(usbemu_printer *p, struct usbemu_stats *out);

/* Queues one input report (at most 64 bytes) of an emulated scanner; each completes one
 * interrupt IN transfer. Returns 0, or -1 when the queue is full. */
int usbemu_scanner_send(usbemu_printer *p, const uint8_t *report, size_t n);
/* Unplugs the device now: transfers in flight end with ENODEV. */
void usbemu_unplug(usbemu_printer *p);

/* "/dev/bus/usb/001/002" */
const char *usbemu_printer_devnode(const usbemu_printer *p);

#ifdef __cplusplus
}
#endif
#endif
