/* SPDX-License-Identifier: MIT */
/* A software model of a thermal receipt printer: it interprets ESC/POS bytes (every command
 * Patron's encoder emits, and a few more) into a 1-bit image at the paper's width, for
 * previews, the virtual printer and tests that read printed QR codes back. A command it does
 * not know is listed with its offset, never skipped in silence.
 *
 * Thread-safety: a model belongs to one thread. */
#ifndef PATRON_ESCPOS_MODEL_H
#define PATRON_ESCPOS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PATRON_MODEL_MAX_ROWS 40000u /* about 5 m of paper; a longer job is refused */
#define PATRON_MODEL_MAX_UNKNOWN 64u /* unknown commands listed (the count goes on) */

struct patron_model;

struct patron_model_unknown {
    size_t offset;    /* of the command's first byte in the bytes fed so far */
    uint8_t bytes[4]; /* its first bytes */
    size_t len;       /* how many of bytes[] are valid */
    char what[48];    /* "unknown command", "unsupported barcode type", ... */
};

/* A new model with blank paper `width_dots` wide (8..2048). Returns 0 and sets *out;
 * PATRON_EINVAL; PATRON_ENOMEM. */
int patron_model_new(unsigned width_dots, struct patron_model **out);

/* Frees a model; NULL does nothing. */
void patron_model_free(struct patron_model *m);

/* Interprets more bytes of the job (a job may come in several pieces; a command may not be
 * split between them). Returns 0; PATRON_ETOOBIG when the paper passes
 * PATRON_MODEL_MAX_ROWS (the rest is not drawn); PATRON_ENOMEM. */
int patron_model_feed(struct patron_model *m, const uint8_t *data, size_t len);

/* Prints what is still in the line buffer, as a printer does at the end of a job. */
int patron_model_flush(struct patron_model *m);

/* Unknown or unsupported commands met so far: *count receives how many (it may exceed the
 * PATRON_MODEL_MAX_UNKNOWN listed); returns the list. */
const struct patron_model_unknown *patron_model_unknown(const struct patron_model *m,
                                                        size_t *count);

/* The image: rows of (width + 7) / 8 bytes, MSB = leftmost dot, 1 = black. */
const uint8_t *patron_model_bitmap(const struct patron_model *m, unsigned *width, unsigned *height);

/* Dot rows at which the paper was cut; *count receives how many. */
const unsigned *patron_model_cuts(const struct patron_model *m, size_t *count);

/* Writes the image as a 1-bit greyscale PNG at `path`. Returns 0 or -errno / PATRON_EDEVICE
 * when libpng fails. */
int patron_model_write_png(const struct patron_model *m, const char *path);

#endif
