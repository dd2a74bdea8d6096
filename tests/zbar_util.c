/* SPDX-License-Identifier: MIT */
/* Reading printed codes back with zbar, shared by the printing and end-to-end tests. */
#include "testutil.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "zbar_util.h"

char *test_decode_png(const char *png, zbar_symbol_type_t type)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, png));
    img.format = PNG_FORMAT_GRAY;
    uint8_t *gray = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, gray, 0, NULL));
    zbar_image_scanner_t *sc = zbar_image_scanner_create();
    zbar_image_scanner_set_config(sc, 0, ZBAR_CFG_ENABLE, 1);
    zbar_image_t *z = zbar_image_create();
    zbar_image_set_format(z, zbar_fourcc('Y', '8', '0', '0'));
    zbar_image_set_size(z, img.width, img.height);
    zbar_image_set_data(z, gray, (unsigned long)img.width * img.height, NULL);
    char *found = NULL;
    if (zbar_scan_image(sc, z) > 0)
        for (const zbar_symbol_t *s = zbar_image_first_symbol(z); s && !found;
             s = zbar_symbol_next(s))
            if (zbar_symbol_get_type(s) == type)
                found = strdup(zbar_symbol_get_data(s));
    zbar_image_destroy(z);
    zbar_image_scanner_destroy(sc);
    free(gray);
    return found;
}
