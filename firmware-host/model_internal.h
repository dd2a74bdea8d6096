/* SPDX-License-Identifier: MIT */
/* The printer model's state, shared by the command interpreter (escpos_model.c), the code
 * drawing (model_codes.c) and the PNG writer (model_png.c). Never installed. */
#ifndef PATRON_MODEL_INTERNAL_H
#define PATRON_MODEL_INTERNAL_H

#include "escpos_model.h"

#define MODEL_CELL_W 12 /* font A: 12 x 24 dots */
#define MODEL_CELL_H 24
#define MODEL_LINE_GAP 6
#define MODEL_MAX_LINE 512

struct model_glyph {
    uint8_t byte;
    uint8_t bold, ul, inv, w, h; /* style when it was received */
};

/* A QR symbol encoded from the stored data. It is kept until other data is stored, so that a
 * job printing the same symbol over and over costs one encoding per error correction level,
 * not one per print: the work a job causes stays in proportion to its bytes. */
struct model_qr_symbol {
    int state; /* 0: not encoded yet; 1: encoded; -1: the data fits no symbol */
    unsigned width;
    uint8_t *modules; /* width * width, 1 = dark */
};

struct patron_model {
    unsigned width, bpr;
    uint8_t *bits;
    unsigned rows_cap, y; /* y: the next dot row to print */
    int full;             /* paper limit reached */
    /* print modes */
    uint8_t bold, ul, inv, w, h, align, codepage;
    unsigned gap; /* dots between text lines */
    /* the line being received */
    struct model_glyph line[MODEL_MAX_LINE];
    unsigned nline, line_dots;
    /* QR settings and stored data */
    unsigned qr_module, qr_ecc;
    uint8_t *qr_data;
    size_t qr_len;
    struct model_qr_symbol qr_sym[4]; /* by error correction level: L, M, Q, H */
    /* barcode settings */
    unsigned bc_module, bc_height, hri;
    unsigned cuts[256];
    size_t ncuts;
    struct patron_model_unknown unknown[PATRON_MODEL_MAX_UNKNOWN];
    size_t nunknown;
    size_t base; /* offset of the current feed's first byte in the whole job */
    size_t pos;  /* offset of the command being read, within the current feed */
};

/* Makes sure rows [0, y + rows) exist; 0, PATRON_ETOOBIG or PATRON_ENOMEM. */
int model_reserve(struct patron_model *m, unsigned rows);
/* Sets one dot (ignored outside the paper). */
void model_dot(struct patron_model *m, unsigned x, unsigned y);
/* Fills a w x h block of dots at (x, y). */
void model_block(struct patron_model *m, unsigned x, unsigned y, unsigned w, unsigned h);
/* Draws a string in font A at row y, centred in [x, x + span); for HRI digits. */
void model_hri_text(struct patron_model *m, const char *s, size_t n, unsigned x, unsigned span,
                    unsigned y);
/* Notes an unknown or unsupported command at offset `off` of the current feed. */
void model_report(struct patron_model *m, const uint8_t *at, size_t off, size_t avail,
                  const char *what);

/* Drops the symbols encoded from the stored data (new data came, or the model goes). */
void model_qr_forget(struct patron_model *m);
/* Prints the stored QR symbol (GS ( k fn 81). Returns 0 or an error. */
int model_qr_print(struct patron_model *m);
/* Prints a barcode of type m (65..73) with `n` data bytes. Returns 0, an error, or 1 when the
 * type is not drawn by the model (the caller reports it). */
int model_barcode(struct patron_model *m, unsigned type, const uint8_t *data, size_t n);

#endif
