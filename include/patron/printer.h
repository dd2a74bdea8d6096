/* SPDX-License-Identifier: MIT */
/* Printer transports: one interface, several back-ends (USB through libusb, a device file such
 * as /dev/usb/lp0, a virtual printer that renders to PNG, none). A transport is chosen by a spec
 * string: "auto", "usb", "usb:VID:PID", "file:PATH", "virtual:DIR", "none".
 *
 * Thread-safety: a transport is used by one thread at a time. */
#ifndef PATRON_PRINTER_H
#define PATRON_PRINTER_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct patron_printer patron_printer;

/* Status bits read with DLE EOT. */
enum patron_printer_status_bits {
    PATRON_PRINTER_ONLINE = 1 << 0,
    PATRON_PRINTER_PAPER_END = 1 << 1,
    PATRON_PRINTER_PAPER_NEAR_END = 1 << 2,
    PATRON_PRINTER_COVER_OPEN = 1 << 3,
    PATRON_PRINTER_ERROR = 1 << 4,
    PATRON_PRINTER_STATUS_UNKNOWN = 1 << 5, /* the back-end cannot read status */
};

struct patron_printer_info {
    char kind[16];         /* "usb", "file", "virtual", "none" */
    char description[128]; /* "04b8:0e28 bus 1 dev 2", a path, a directory */
    uint16_t vendor_id, product_id;
    /* "auto" that found no USB printer and fell back to the virtual one says why here (the
     * USB back-end's sentence); "" when the printer is the one asked for. */
    char fallback[160];
};

/* Opens the transport named by `spec` (NULL = "auto": the first USB printer-class device, else
 * virtual into $PATRON_HOME/prints). `width_dots` is the paper's printable width (384 on 58 mm,
 * 576 on 80 mm; 0 = 576), used by the virtual printer to render. Returns 0 and sets *out;
 * PATRON_EDEVICE when no such printer, PATRON_EPRINTBUSY / PATRON_EPRINTACCESS with a fix in the
 * detail, PATRON_EINVAL for a bad spec. `detail` (may be NULL) receives a sentence on failure. */
PATRON_EXPORT int patron_printer_open(const char *spec, unsigned width_dots, patron_printer **out,
                                      char *detail, size_t detail_len)
    __attribute__((warn_unused_result));
/* The same, with the data folder given: "auto" that finds no USB printer prints to the virtual
 * printer in `home`/prints. NULL or "" = $PATRON_HOME, else ./var (as patron_printer_open). The
 * `patron` program passes its --home here; nothing is read from or set in the environment. */
PATRON_EXPORT int patron_printer_open_in(const char *spec, unsigned width_dots, const char *home,
                                         patron_printer **out, char *detail, size_t detail_len)
    __attribute__((warn_unused_result));

/* Closes and releases the device; NULL does nothing. */
PATRON_EXPORT void patron_printer_close(patron_printer *p);

/* Sends a whole job (ESC/POS bytes). `job_name` names the files the virtual printer writes
 * (JOB.bin, JOB.png); other back-ends ignore it. Returns 0 when every byte was accepted;
 * PATRON_EDEVICE (unplugged), PATRON_ETIMEOUT, PATRON_EPAPER, PATRON_ECOVER otherwise. */
PATRON_EXPORT int patron_printer_send(patron_printer *p, const char *job_name, const uint8_t *data,
                                      size_t len, char *detail, size_t detail_len)
    __attribute__((warn_unused_result));

/* Reads the printer's status (PATRON_PRINTER_* bits). Returns 0 or a PATRON_E* code. */
PATRON_EXPORT int patron_printer_status(patron_printer *p, unsigned *status)
    __attribute__((warn_unused_result));

/* Describes the open transport. */
PATRON_EXPORT void patron_printer_describe(const patron_printer *p,
                                           struct patron_printer_info *out);

/* Lists USB printer-class devices: fills up to `cap` entries, *count receives how many exist. */
PATRON_EXPORT int patron_printer_list(struct patron_printer_info *out, size_t cap, size_t *count)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
