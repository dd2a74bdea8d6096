/* SPDX-License-Identifier: MIT */
/* ESC/POS job builder and printer profiles. A job is a bounded byte buffer that grows as
 * commands are appended; text goes in as UTF-8 and comes out in the profile's code page, and a
 * QR code is sent natively (GS ( k) or drawn as a raster image when the printer lacks it.
 *
 *     patron_escpos *j;
 *     if (patron_escpos_new(patron_escpos_profile_find("epson-tm-t20"), 0, &j) == 0) {
 *         patron_escpos_init(j);
 *         patron_escpos_text(j, "Café 2 €\n", SIZE_MAX);
 *         patron_escpos_qr(j, token, strlen(token), 0, PATRON_QR_ECC_Q);
 *         patron_escpos_cut(j);
 *         if (patron_escpos_error(j) == 0) send(patron_escpos_data(j, &len), len);
 *         patron_escpos_free(j);
 *     }
 *
 * Thread-safety: profiles are immutable and may be shared; a job belongs to one thread. */
#ifndef PATRON_ESCPOS_H
#define PATRON_ESCPOS_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Code pages the encoder converts text into; the value is not the ESC t number. */
enum patron_codepage {
    PATRON_CODEPAGE_CP437 = 0, /* US, box drawing; ESC t 0 */
    PATRON_CODEPAGE_CP858 = 1, /* Western Europe with the euro sign at 0xD5; ESC t 19 */
};

enum patron_escpos_align {
    PATRON_ALIGN_LEFT = 0,
    PATRON_ALIGN_CENTER = 1,
    PATRON_ALIGN_RIGHT = 2,
};

/* QR error correction levels; the value is the GS ( k fn 69 parameter. */
enum patron_qr_ecc {
    PATRON_QR_ECC_L = 48,
    PATRON_QR_ECC_M = 49,
    PATRON_QR_ECC_Q = 50,
    PATRON_QR_ECC_H = 51,
};

enum patron_barcode_kind {
    PATRON_BARCODE_AUTO = 0, /* EAN-13 for 13 digits with a valid check digit, else CODE128 */
    PATRON_BARCODE_EAN13,
    PATRON_BARCODE_CODE128,
};

#define PATRON_ESCPOS_MAX_JOB (1u << 20) /* default bound of a job's buffer */
#define PATRON_ESCPOS_MAX_QR_DATA 7089u  /* the largest payload GS ( k can store */
#define PATRON_ESCPOS_RASTER_BAND 255u   /* dot rows per GS v 0 command at most */

struct patron_escpos_profile {
    char name[32];
    unsigned dots;    /* printable width in dots at 203 dpi: 384 (58 mm) or 576 (80 mm) */
    unsigned columns; /* characters per line in font A (12 dots wide) */
    int native_qr;    /* 1: understands GS ( k; 0: QR codes go out as GS v 0 raster images */
    int cutter;       /* 1: has an auto-cutter; 0: "cut" feeds paper to tear off */
    enum patron_codepage codepage;
    unsigned qr_module; /* dots per QR module: 5 on 58 mm, 6 on 80 mm */
};

/* The built-in profile named `name` ("generic-58", "generic-80", "epson-tm-t20",
 * "epson-tm-t88"), or NULL. The pointer is static; do not free it. */
PATRON_EXPORT const struct patron_escpos_profile *patron_escpos_profile_find(const char *name);

/* The built-in profile for a USB printer's vendor and product id, or NULL when unknown. */
PATRON_EXPORT const struct patron_escpos_profile *patron_escpos_profile_for_usb(uint16_t vid,
                                                                                uint16_t pid);

/* The built-in profile at `index` (0, 1, ...), NULL past the end; for listings. */
PATRON_EXPORT const struct patron_escpos_profile *patron_escpos_profile_at(size_t index);

/* Parses a profile from configuration, "key=value" pairs separated by commas:
 * "name=x,dots=384,columns=32,native_qr=0,cutter=1,codepage=cp437[,qr_module=5]".
 * `name` and `dots` are required; columns defaults to dots/12, qr_module to 5 below 576 dots
 * and 6 from 576, native_qr to 0, cutter to 1, codepage to cp437. Returns 0 and fills *out;
 * PATRON_EINVAL for an unknown key, a bad value, or a missing name or dots. */
PATRON_EXPORT int patron_escpos_profile_parse(const char *spec, struct patron_escpos_profile *out)
    __attribute__((warn_unused_result));

/* Parses "cp437" / "cp858" (case-insensitive). Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_codepage_parse(const char *name, enum patron_codepage *out);

/* Converts one Unicode code point to bytes of `cp`, writing 1 to 3 bytes into out[3] and
 * returning how many. A character the code page lacks becomes its replacement: a Latin letter
 * with a diacritic becomes its base letter ("é" -> "e" where no é exists; "ł" -> "l"; "Æ" ->
 * "AE"), typographic quotes and dashes become ' " -, the ellipsis "...", the euro sign "EUR"
 * (in CP437), a no-break space a space, and anything else '?'. Control characters also
 * become '?', so no text can smuggle a printer command. Thread-safe. */
PATRON_EXPORT size_t patron_codepage_encode(enum patron_codepage cp, uint32_t codepoint,
                                            uint8_t out[3]);

/* The Unicode code point that byte `b` shows in `cp`. Thread-safe. */
PATRON_EXPORT uint32_t patron_codepage_decode(enum patron_codepage cp, uint8_t b);

typedef struct patron_escpos patron_escpos;

/* A new empty job for `profile` (copied) whose buffer may grow to `max_bytes` (0 =
 * PATRON_ESCPOS_MAX_JOB). Returns 0 and sets *out; PATRON_EINVAL for a NULL or unusable
 * profile; PATRON_ENOMEM. Free with patron_escpos_free(). */
PATRON_EXPORT int patron_escpos_new(const struct patron_escpos_profile *profile, size_t max_bytes,
                                    patron_escpos **out) __attribute__((warn_unused_result));

/* Frees a job; NULL does nothing. */
PATRON_EXPORT void patron_escpos_free(patron_escpos *j);

/* Empties the job (bytes and error) but keeps its memory, to build the next job cheaply. */
PATRON_EXPORT void patron_escpos_reset(patron_escpos *j);

/* The job's bytes, valid until the next call that changes the job; *len receives the count. */
PATRON_EXPORT const uint8_t *patron_escpos_data(const patron_escpos *j, size_t *len);

/* The job's profile. */
PATRON_EXPORT const struct patron_escpos_profile *patron_escpos_profile(const patron_escpos *j);

/* The first error any append met (0 if none). Once a job has failed, every later append
 * does nothing and returns that error again, so a caller may check once at the end. */
PATRON_EXPORT int patron_escpos_error(const patron_escpos *j);

/* 1 when nothing has been printed on the current line since the last line feed. */
PATRON_EXPORT int patron_escpos_at_line_start(const patron_escpos *j);

/* Every append below returns 0, or the job's error: PATRON_ETOOBIG when the buffer would pass
 * its maximum, PATRON_EINVAL for a bad argument, PATRON_ENOMEM. Commands that only act at the
 * start of a line on a real printer (alignment, cut, images, codes) first end a started line. */

/* ESC @ (reset), then ESC t n selecting the profile's code page. */
PATRON_EXPORT int patron_escpos_init(patron_escpos *j);
/* ESC E n. */
PATRON_EXPORT int patron_escpos_bold(patron_escpos *j, int on);
/* ESC - n (1-dot underline or off). */
PATRON_EXPORT int patron_escpos_underline(patron_escpos *j, int on);
/* GS B n (white on black or off). */
PATRON_EXPORT int patron_escpos_invert(patron_escpos *j, int on);
/* GS ! n with width and height multipliers 1..8. */
PATRON_EXPORT int patron_escpos_size(patron_escpos *j, unsigned width, unsigned height);
/* ESC a n. */
PATRON_EXPORT int patron_escpos_align(patron_escpos *j, enum patron_escpos_align align);
/* UTF-8 text, converted to the code page (see patron_codepage_encode); '\n' ends the line,
 * '\t' is a space, malformed UTF-8 becomes '?'. `len` = SIZE_MAX reads up to the NUL. */
PATRON_EXPORT int patron_escpos_text(patron_escpos *j, const char *utf8, size_t len);
/* LF. */
PATRON_EXPORT int patron_escpos_newline(patron_escpos *j);
/* A horizontal rule `columns` characters long (0 = the profile's width), then LF. */
PATRON_EXPORT int patron_escpos_rule(patron_escpos *j, unsigned columns);
/* ESC d n: prints and feeds n lines (n <= 255). */
PATRON_EXPORT int patron_escpos_feed(patron_escpos *j, unsigned lines);
/* A QR code of `data` (1..PATRON_ESCPOS_MAX_QR_DATA bytes), model 2, at `module` dots a module
 * (0 = the profile's; shrunk if the symbol would not fit the paper), as GS ( k when the profile
 * has native QR, else as a GS v 0 raster image drawn by libqrencode (numeric mode for an
 * all-digit payload) with a 4-module quiet zone, in bands of at most
 * PATRON_ESCPOS_RASTER_BAND rows. */
PATRON_EXPORT int patron_escpos_qr(patron_escpos *j, const char *data, size_t len, unsigned module,
                                   enum patron_qr_ecc ecc);
/* The same with the path chosen by the caller (native = 1: GS ( k; 0: raster). */
PATRON_EXPORT int patron_escpos_qr_path(patron_escpos *j, const char *data, size_t len,
                                        unsigned module, enum patron_qr_ecc ecc, int native);
/* A GS v 0 raster image: `rows` rows of `width_dots` dots (<= the profile's dots), each row
 * (width_dots + 7) / 8 bytes, MSB = leftmost dot, 1 = black; sent in bands. */
PATRON_EXPORT int patron_escpos_raster(patron_escpos *j, const uint8_t *bits, unsigned width_dots,
                                       unsigned rows);
/* A barcode (GS w, GS h, GS H, GS k): `module` 2..6 dots, `height` 1..255 dots, `hri` prints
 * the digits below. EAN-13 needs 12 digits or 13 with a valid check digit; CODE128 takes
 * printable ASCII (at most 253 characters; all digits go out in code set C). Bars wider than
 * the profile's paper get a narrower module, down to 2 dots; PATRON_EINVAL when even that is
 * too wide (a printer would print nothing). */
PATRON_EXPORT int patron_escpos_barcode(patron_escpos *j, const char *data,
                                        enum patron_barcode_kind kind, unsigned module,
                                        unsigned height, int hri);
/* Cuts (GS V 66 0: feed to the cutter, partial cut) at the start of a line; on a profile
 * without a cutter it feeds 4 lines to tear off instead. */
PATRON_EXPORT int patron_escpos_cut(patron_escpos *j);
/* Raw bytes, for commands this builder does not know; the caller answers for them. */
PATRON_EXPORT int patron_escpos_raw(patron_escpos *j, const uint8_t *bytes, size_t len);

#ifdef __cplusplus
}
#endif
#endif
