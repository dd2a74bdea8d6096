/* SPDX-License-Identifier: MIT */
/* The compiled form of a receipt template, shared by the parser (receipt_parse.c) and the
 * renderer (receipt_render.c): lines of columns of items, with all markup resolved at parse
 * time so that rendering only substitutes values and lays out cells. Never installed. */
#ifndef PATRON_RECEIPT_INTERNAL_H
#define PATRON_RECEIPT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "patron/receipt.h"
#include "print/escpos_internal.h"

/* Text style of an item: bold, underline, invert, and ReceiptLine's scale (0 normal, 1 double
 * width, 2 double height, 3..7 = 2x..6x). */
#define PATRON__ST_BOLD 0x01u
#define PATRON__ST_UL 0x02u
#define PATRON__ST_INV 0x04u
#define PATRON__ST_SCALE(st) (((st) >> 3) & 7u)
#define PATRON__ST_WITH_SCALE(st, s) ((uint8_t)(((st)&7u) | ((s) << 3)))

enum patron__item_kind {
    PATRON__ITEM_LIT,   /* literal UTF-8 text in the pool */
    PATRON__ITEM_VAR,   /* a placeholder; the pool holds its name */
    PATRON__ITEM_BREAK, /* \n: the column's text goes on under */
};

struct patron__item {
    uint8_t kind;
    uint8_t style;
    uint32_t off, len; /* into the pool */
};

struct patron__column {
    uint32_t item0, nitems;
    uint8_t align; /* 0 left, 1 centre, 2 right */
    int16_t width; /* -1: a share of the free width; 0: hidden; n: n characters */
};

enum patron__line_kind {
    PATRON__LINE_TEXT,
    PATRON__LINE_RULE,
    PATRON__LINE_CUT,
    PATRON__LINE_CODE,
};

enum patron__code_type {
    PATRON__CODE_QR,
    PATRON__CODE_EAN,
    PATRON__CODE_128,
};

struct patron__line {
    uint8_t kind;
    uint8_t align;  /* line alignment of codes and of narrow column sets */
    uint8_t wrap;   /* 1: text wraps in its column; 0: it is cut at the edge */
    uint8_t code;   /* enum patron__code_type */
    uint8_t module; /* barcode module width 2..4 */
    uint8_t cell;   /* QR module size 3..8, 0 = the profile's */
    uint8_t ecc;    /* enum patron_qr_ecc */
    uint8_t hri;
    uint8_t height; /* barcode height in dots */
    unsigned src_line;
    uint32_t first, count; /* columns for text, items for code data */
};

struct patron_receipt {
    char *pool;
    size_t pool_len, pool_cap;
    struct patron__item *items;
    size_t nitems, items_cap;
    struct patron__column *cols;
    size_t ncols, cols_cap;
    struct patron__line *lines;
    size_t nlines, lines_cap;
};

#endif
