/* SPDX-License-Identifier: MIT */
/* The pass's pictures, drawn here and written with libpng: the icon (a ring and a point, white on
 * the card's blue, on a rounded square) and the logo (the same mark on a clear ground, the store's
 * name beside it is the pass's logoText). Sizes are Apple's: icon 29x29 and logo 160x50 points,
 * at 1x and 2x. Each pixel's cover is sampled 4x4, so edges are smooth. */
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wallet/wallet_internal.h"

#define SAMPLES 4

static const unsigned char card_blue[3] = {40, 70, 122};

struct png_mem {
    unsigned char *p;
    size_t len, cap;
    int oom;
};

static void mem_write(png_structp png, png_bytep data, png_size_t n)
{
    struct png_mem *m = png_get_io_ptr(png);
    if (m->oom)
        return;
    if (m->len + n > m->cap) {
        size_t cap = (m->len + n) * 2;
        unsigned char *p = realloc(m->p, cap);
        if (!p) {
            m->oom = 1;
            return;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, n);
    m->len += n;
}

static void mem_flush(png_structp png)
{
    (void)png;
}

/* 1 when (x, y), in units of the mark's height, is on the mark: a ring around a point. */
static int on_mark(double x, double y)
{
    double r = sqrt((x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5));
    return (r >= 0.27 && r <= 0.36) || r <= 0.13;
}

/* 1 when (x, y) in [0,1]^2 is inside a square with corners rounded by radius rc. */
static int in_rounded(double x, double y, double rc)
{
    double dx = x < rc ? rc - x : x > 1 - rc ? x - (1 - rc) : 0;
    double dy = y < rc ? rc - y : y > 1 - rc ? y - (1 - rc) : 0;
    return dx * dx + dy * dy <= rc * rc;
}

static void shade(enum patron__wallet_picture what, unsigned w, unsigned h, unsigned x, unsigned y,
                  unsigned char px[4])
{
    unsigned mark = 0, ground = 0;
    for (unsigned i = 0; i < SAMPLES * SAMPLES; i++) {
        unsigned row = i / SAMPLES, col = i % SAMPLES; /* the sample's place in the pixel */
        double sx = (x + (col + 0.5) / SAMPLES) / h;
        double sy = (y + (row + 0.5) / SAMPLES) / h;
        if (what == PATRON__WALLET_ICON) {
            ground += in_rounded(sx, sy, 0.22);
            mark += in_rounded(sx, sy, 0.22) && on_mark(sx, sy);
        } else {
            mark += sx < 1.0 && on_mark(sx, sy);
        }
    }
    (void)w;
    unsigned n = SAMPLES * SAMPLES;
    for (int c = 0; c < 3; c++)
        px[c] = what == PATRON__WALLET_ICON && ground
                    ? (unsigned char)((card_blue[c] * (ground - mark) + 255 * mark) / ground)
                    : 255;
    px[3] = (unsigned char)(255 * (what == PATRON__WALLET_ICON ? ground : mark) / n);
}

static int encode(unsigned w, unsigned h, png_bytep *rows, struct png_mem *m)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return PATRON_ENOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return PATRON_ENOMEM;
    }
    png_set_write_fn(png, m, mem_write, mem_flush);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return m->oom ? PATRON_ENOMEM : 0;
}

int patron__wallet_png(enum patron__wallet_picture what, unsigned scale, unsigned char **out,
                       size_t *len)
{
    unsigned w = (what == PATRON__WALLET_ICON ? 29 : 160) * scale;
    unsigned h = (what == PATRON__WALLET_ICON ? 29 : 50) * scale;
    struct png_mem m = {0};
    unsigned char *pixels = malloc((size_t)w * h * 4);
    png_bytep *rows = malloc(h * sizeof *rows);
    int err = PATRON_ENOMEM;
    if (!pixels || !rows)
        goto out;
    for (unsigned y = 0; y < h; y++) {
        rows[y] = pixels + (size_t)y * w * 4;
        for (unsigned x = 0; x < w; x++)
            shade(what, w, h, x, y, rows[y] + (size_t)x * 4);
    }
    if ((err = encode(w, h, rows, &m)) != 0)
        goto out;
    *out = m.p;
    *len = m.len;
    m.p = NULL;
out:
    free(m.p);
    free(rows);
    free(pixels);
    return err;
}
