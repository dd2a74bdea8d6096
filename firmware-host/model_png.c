/* SPDX-License-Identifier: MIT */
/* Writes the printer model's paper as a 1-bit greyscale PNG through libpng: what a shop owner
 * opens to preview a coupon, and what tests read back to decode the printed QR code. */
#include "model_internal.h"
#include "patron/error.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>

int patron_model_write_png(const struct patron_model *m, const char *path)
{
    static const uint8_t blank[256];
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned height = m->y ? m->y : 1;
    int rc = 0;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -errno;
    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    if (!png || !(info = png_create_info_struct(png))) {
        rc = PATRON_ENOMEM;
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        rc = PATRON_EDEVICE;
        goto out;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, m->width, height, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    png_set_invert_mono(png); /* our 1 is ink; in a grey PNG 1 is white */
    for (unsigned y = 0; y < height; y++)
        png_write_row(png, m->y ? m->bits + (size_t)y * m->bpr : blank);
    png_write_end(png, NULL);
out:
    png_destroy_write_struct(&png, info ? &info : NULL);
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
