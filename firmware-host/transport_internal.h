/* SPDX-License-Identifier: MIT */
/* The back-end side of the printer transport interface (include/patron/printer.h): each back-end
 * (USB, device file, virtual, none) fills a table of operations; transport.c parses the spec
 * and dispatches. Never installed. */
#ifndef PATRON_TRANSPORT_INTERNAL_H
#define PATRON_TRANSPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "patron/error.h"
#include "patron/printer.h"

struct patron_printer_ops {
    int (*send)(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                char *detail, size_t detail_len);
    int (*status)(patron_printer *p, unsigned *status);
    void (*close)(patron_printer *p); /* frees impl, not p */
};

struct patron_printer {
    const struct patron_printer_ops *ops;
    struct patron_printer_info info;
    unsigned width_dots;
    void *impl; /* the back-end's own state */
};

/* Back-end constructors; each returns 0 and sets *out, or a PATRON_E* code with a sentence in
 * detail. `any` = 1 takes the first printer-class device, else the given vid:pid. */
int patron__usb_open(int any, uint16_t vid, uint16_t pid, unsigned width_dots, patron_printer **out,
                     char *detail, size_t detail_len);
int patron__file_open(const char *path, unsigned width_dots, patron_printer **out, char *detail,
                      size_t detail_len);
int patron__virtual_open(const char *dir, unsigned width_dots, patron_printer **out, char *detail,
                         size_t detail_len);
int patron__none_open(patron_printer **out);

/* Writes a printf-style sentence into detail (len bytes, truncated); no-op without a buffer. */
void patron__printer_say(char *detail, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
