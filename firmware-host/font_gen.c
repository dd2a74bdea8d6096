/* SPDX-License-Identifier: MIT */
/* Build-time tool: turns a PSF2 console font of 12 x 24 dots (Debian's console-setup-linux,
 * Uni2-Terminus24x12 and its bold face) into the printer model's font table, the glyph of every
 * byte of CP437 and CP858, found through the font's own Unicode table. Nothing is drawn by hand:
 * the four block halves the font lacks are plain fills of the cell and the dark shade is the
 * light shade inverted. A character the font cannot show stops the build.
 *
 *     patron-font-gen REGULAR.psf.gz BOLD.psf.gz font_table.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "patron/escpos.h"

#define CELL_W 12
#define CELL_H 24
#define FONT_MAX (4u * 1024u * 1024u)
#define PSF2_MAGIC 0x864ab572u

struct psf {
    uint8_t *data;
    size_t len;
    uint32_t nglyphs, bytes_per_glyph, height, width, header;
    uint32_t *unicode; /* code point -> glyph + 1, 0 when absent (Basic Multilingual Plane) */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_gz(const char *path, struct psf *f)
{
    gzFile z = gzopen(path, "rb");
    if (!z)
        return -1;
    f->data = malloc(FONT_MAX);
    int n = f->data ? gzread(z, f->data, FONT_MAX) : -1;
    gzclose(z);
    if (n <= 32) {
        free(f->data);
        f->data = NULL;
        return -1;
    }
    f->len = (size_t)n;
    return 0;
}

/* One UTF-8 sequence of the Unicode table at p (at most `left` bytes); 0 when malformed. */
static size_t utf8(const uint8_t *p, size_t left, uint32_t *cp)
{
    size_t n = p[0] < 0x80 ? 1 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3 : 4;
    if (n > left)
        return 0;
    *cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0x7F >> n));
    for (size_t i = 1; i < n; i++)
        *cp = *cp << 6 | (p[i] & 0x3F);
    return n;
}

static int read_unicode(struct psf *f)
{
    size_t at = f->header + (size_t)f->nglyphs * f->bytes_per_glyph;
    f->unicode = calloc(0x10000, sizeof *f->unicode);
    if (!f->unicode)
        return -1;
    for (uint32_t g = 0; g < f->nglyphs && at < f->len;) {
        uint32_t cp;
        size_t n;
        if (f->data[at] == 0xFF) {
            g++, at++;
        } else if (f->data[at] == 0xFE) { /* sequences: not needed for single characters */
            while (at < f->len && f->data[at] != 0xFF)
                at++;
        } else if ((n = utf8(f->data + at, f->len - at, &cp)) == 0) {
            return -1;
        } else {
            if (cp < 0x10000 && !f->unicode[cp])
                f->unicode[cp] = g + 1;
            at += n;
        }
    }
    return 0;
}

static void release(struct psf *f)
{
    free(f->data);
    free(f->unicode);
    f->data = NULL;
    f->unicode = NULL;
}

/* Loads a font into *f, which must be zeroed. */
static int load(const char *path, struct psf *f)
{
    if (read_gz(path, f) != 0 || le32(f->data) != PSF2_MAGIC) {
        fprintf(stderr, "%s: not a gzip'd PSF2 font\n", path);
        release(f);
        return -1;
    }
    f->header = le32(f->data + 8);
    f->nglyphs = le32(f->data + 16);
    f->bytes_per_glyph = le32(f->data + 20);
    f->height = le32(f->data + 24);
    f->width = le32(f->data + 28);
    if (f->width != CELL_W || f->height != CELL_H || f->bytes_per_glyph != 2 * CELL_H ||
        !(le32(f->data + 12) & 1) ||
        f->header + (uint64_t)f->nglyphs * f->bytes_per_glyph > f->len || read_unicode(f) != 0) {
        fprintf(stderr, "%s: not a 12x24 PSF2 font with a Unicode table\n", path);
        release(f);
        return -1;
    }
    return 0;
}

/* The glyph of code point cp as 24 rows, bit 11 = leftmost dot; -1 when the font lacks it. */
static int glyph(const struct psf *f, uint32_t cp, uint16_t rows[CELL_H])
{
    if (cp < 0x10000 && f->unicode[cp]) {
        const uint8_t *g = f->data + f->header + (size_t)(f->unicode[cp] - 1) * f->bytes_per_glyph;
        for (unsigned r = 0; r < CELL_H; r++)
            rows[r] = (uint16_t)((g[2 * r] << 8 | g[2 * r + 1]) >> 4);
        return 0;
    }
    uint16_t full = (1u << CELL_W) - 1, left = (uint16_t)(full & ~(full >> CELL_W / 2));
    for (unsigned r = 0; r < CELL_H; r++) {
        switch (cp) {
        case 0x2580: /* upper half block */
            rows[r] = r < CELL_H / 2 ? full : 0;
            break;
        case 0x2584: /* lower half block */
            rows[r] = r >= CELL_H / 2 ? full : 0;
            break;
        case 0x258C: /* left half block */
            rows[r] = left;
            break;
        case 0x2590: /* right half block */
            rows[r] = full >> CELL_W / 2;
            break;
        case 0x2593: /* dark shade: the light shade inverted */
            if (glyph(f, 0x2591, rows) != 0)
                return -1;
            for (unsigned i = 0; i < CELL_H; i++)
                rows[i] = (uint16_t)(~rows[i] & full);
            return 0;
        default:
            return -1;
        }
    }
    return 0;
}

/* The code point byte b shows: the code page's table, with CP437's house sign at 0x7F. */
static uint32_t shown(enum patron_codepage cp, unsigned b)
{
    return b == 0x7F ? 0x2302 : patron_codepage_decode(cp, (uint8_t)b);
}

static int emit_face(const struct psf *f, const char *face)
{
    static const enum patron_codepage pages[2] = {PATRON_CODEPAGE_CP437, PATRON_CODEPAGE_CP858};
    printf("    {/* %s */\n", face);
    for (unsigned p = 0; p < 2; p++) {
        printf("        {/* %s */\n", p ? "CP858" : "CP437");
        for (unsigned b = 0; b < 256; b++) {
            uint16_t rows[CELL_H] = {0};
            if (b >= 0x20 && glyph(f, shown(pages[p], b), rows) != 0) {
                fprintf(stderr, "the font has no glyph for U+%04X (byte 0x%02X of %s)\n",
                        (unsigned)shown(pages[p], b), b, p ? "CP858" : "CP437");
                return -1;
            }
            printf("            {");
            for (unsigned r = 0; r < CELL_H; r++)
                printf("0x%03X%s", rows[r], r + 1 < CELL_H ? ", " : "");
            printf("}, /* 0x%02X U+%04X */\n", b, (unsigned)shown(pages[p], b));
        }
        printf("        },\n");
    }
    printf("    },\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct psf faces[2] = {0};
    char tmp[4096];
    int rc = 1;
    if (argc != 4 || snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]) >= (int)sizeof tmp) {
        fprintf(stderr, "usage: patron-font-gen REGULAR.psf.gz BOLD.psf.gz OUT.c\n");
        return 64;
    }
    if (load(argv[1], &faces[0]) != 0 || load(argv[2], &faces[1]) != 0)
        goto out;
    if (!freopen(tmp, "w", stdout)) {
        perror(tmp);
        goto out;
    }
    printf("/* SPDX-License-Identifier: MIT */\n"
           "/* Generated by patron-font-gen (firmware-host/font_gen.c) from %s and %s.\n"
           " * Do not edit: the printer model's font is the console font, as it is. */\n"
           "#include \"font.h\"\n\n"
           "const uint16_t patron__font[2][2][256][24] = {\n",
           strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1],
           strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2]);
    if (emit_face(&faces[0], "regular") != 0 || emit_face(&faces[1], "bold") != 0)
        goto out;
    printf("};\n");
    if (fflush(stdout) != 0 || fclose(stdout) != 0 || rename(tmp, argv[3]) != 0) {
        perror(argv[3]);
        goto out;
    }
    rc = 0;
out:
    release(&faces[0]);
    release(&faces[1]);
    return rc;
}
