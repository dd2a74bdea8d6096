/* SPDX-License-Identifier: MIT */
/* What transport.c and the tests need from particular back-ends beyond the operations table of
 * transport_internal.h: listing USB printers, and tuning timeouts (tests shorten them). Never
 * installed. */
#ifndef PATRON_BACKEND_INTERNAL_H
#define PATRON_BACKEND_INTERNAL_H

#include <stddef.h>

#include "transport_internal.h"

/* Fills up to `cap` entries with USB printer-class devices; *count receives how many exist.
 * A machine without a USB stack has none (0 is returned). */
int patron__usb_list(struct patron_printer_info *out, size_t cap, size_t *count);

/* Timeouts of an open USB printer in milliseconds (0 keeps a value): `write_ms` for each chunk
 * sent, `status_ms` for each DLE EOT reply. Returns PATRON_EINVAL when `p` is not USB. */
int patron__usb_set_timeouts(patron_printer *p, unsigned write_ms, unsigned status_ms);

/* Raw mode for a device that is not a printer (a customer display): jobs go out as they are,
 * with no DLE EOT status request before or after. Returns PATRON_EINVAL when `p` is not USB. */
int patron__usb_set_raw(patron_printer *p);

/* How long a device-file write may wait for the device to take more data. Returns
 * PATRON_EINVAL when `p` is not a file transport. */
int patron__file_set_timeout(patron_printer *p, unsigned timeout_ms);

#endif
