/* SPDX-License-Identifier: MIT */
/* The customer display: a 2 x 20 character pole display bound to a till. A profile chooses the
 * command set (the ESC/POS display set of Epson DM-D class devices, or the CD5220 set), its code
 * page and its serial speed; frames (two lines of UTF-8 text) come from the display templates in
 * receipts/ (display-idle, display-scan, display-scan-anonymous, display-sale,
 * display-redemption), checked when they are loaded; the encoder turns a frame into the
 * display's bytes, in its code page with the printer's replacement rules, with long lines
 * scrolled one step at a time. Outputs: "usb:VID:PID" (libusb, bulk OUT), "file:DEV" (a serial
 * device, termios raw at the profile's speed), "virtual:DIR" (each frame as DIR/frame-N.txt and
 * .png), "none".
 *
 *     struct patron_display_frame f;
 *     patron_display_templates *t;
 *     if (patron_display_templates_load(home, &t, msg, sizeof msg) == 0) {
 *         struct patron_display_vars v = {.store_name = "Corner Shop"};
 *         patron_display_render(t, PATRON_DISPLAY_IDLE, &v, &f);
 *         patron_display_show(d, &f, 0, detail, sizeof detail);
 *     }
 *
 * Thread-safety: profiles and loaded templates are immutable and may be shared; an open display
 * is used by one thread at a time; the binding calls follow the store handle's rule. */
#ifndef PATRON_DISPLAY_H
#define PATRON_DISPLAY_H

#include "patron/export.h"

#include <stddef.h>
#include <stdint.h>

#include "patron/escpos.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PATRON_DISPLAY_COLUMNS 20
#define PATRON_DISPLAY_ROWS 2
#define PATRON_DISPLAY_LINE_MAX 160 /* bytes of UTF-8 text in one line of a frame */
#define PATRON_DISPLAY_SPEC_MAX 255
#define PATRON_DISPLAY_SCROLL_GAP 3 /* blanks between the end and the start of a scrolled line */

enum patron_display_set {
    PATRON_DISPLAY_SET_ESCPOS = 0, /* Epson DM-D: US $ x y, US X n, US MD1 */
    PATRON_DISPLAY_SET_CD5220 = 1, /* CD5220: ESC l x y, ESC * n, ESC DC1 */
};

struct patron_display_profile {
    char name[32];
    enum patron_display_set set;
    enum patron_codepage codepage;
    unsigned baud; /* serial speed for "file:" devices */
};

/* The built-in profile named `name` ("epson-dm-d", "cd5220"), or NULL. Static; do not free. */
PATRON_EXPORT const struct patron_display_profile *patron_display_profile_find(const char *name);
/* The built-in profile at `index`, NULL past the end; for listings and help. */
PATRON_EXPORT const struct patron_display_profile *patron_display_profile_at(size_t index);

/* What one frame shows: two lines of UTF-8 text (longer ones scroll), the brightness (1 dim ..
 * 4 full), and `blank` for a cleared, dimmed display (idle timeout). */
struct patron_display_frame {
    char line[PATRON_DISPLAY_ROWS][PATRON_DISPLAY_LINE_MAX];
    unsigned brightness;
    int blank;
};

/* The bytes that set a display up: initialise, code page (ESC/POS set), overwrite mode, cursor
 * off, full brightness, clear. Writes at most `cap` bytes; returns how many (0 when cap is too
 * small). */
PATRON_EXPORT size_t patron_display_encode_init(const struct patron_display_profile *p,
                                                uint8_t *out, size_t cap);

/* The bytes of one frame: brightness, then each line placed at its start and padded to 20
 * columns in the profile's code page; a blank frame clears the display and dims it. A line
 * wider than 20 columns shows the window that starts `step` columns in, going round with
 * PATRON_DISPLAY_SCROLL_GAP blanks between end and start. Returns the byte count (0 when cap is
 * too small). Pure. */
PATRON_EXPORT size_t patron_display_encode_frame(const struct patron_display_profile *p,
                                                 const struct patron_display_frame *f,
                                                 unsigned step, uint8_t *out, size_t cap);

/* How many scroll steps the frame has before it repeats (1 when nothing scrolls). */
PATRON_EXPORT unsigned patron_display_frame_steps(const struct patron_display_profile *p,
                                                  const struct patron_display_frame *f);

/* ---- templates ---- */

enum patron_display_kind {
    PATRON_DISPLAY_IDLE = 0,
    PATRON_DISPLAY_SCAN,           /* a member who agreed to be greeted by name */
    PATRON_DISPLAY_SCAN_ANONYMOUS, /* any other member: points without a name */
    PATRON_DISPLAY_SALE,
    PATRON_DISPLAY_REDEMPTION,
    PATRON_DISPLAY_KINDS,
};

/* The values a template may name. NULL strings are empty. `first_name` is taken only by the
 * display-scan template, which is used only when `greet_by_name` is set. */
struct patron_display_vars {
    const char *store_name;
    const char *member_name; /* the full name; only its first word is ever shown */
    int greet_by_name;
    int64_t points;          /* balance */
    int64_t points_earned;   /* sale */
    int64_t points_spent;    /* redemption */
    const char *reward_name; /* redemption */
    const char *next_tier;   /* scan: the next tier, NULL at the top */
    int64_t points_to_next_tier;
    const char *next_reward; /* scan: the cheapest reward not yet affordable, or NULL */
    int64_t points_to_next_reward;
};

typedef struct patron_display_templates patron_display_templates;

/* Loads and checks the five display templates (DIR/display-*.display, DIR being `home`/receipts,
 * then the installed set, then the source tree's receipts/). A template is at most two lines of
 * text ('#' starts a comment line) with {{placeholders}}: store.name, member.first_name (only
 * in display-scan), points.balance, points.earned, points.spent, reward.name, tier.progress
 * (the points still needed for the next tier, else for the next reward).
 * Returns 0 and sets *out; PATRON_EINVAL with "FILE:LINE: what is wrong" in msg; PATRON_ENOTFOUND
 * when a template is missing. */
PATRON_EXPORT int patron_display_templates_load(const char *home, patron_display_templates **out,
                                                char *msg, size_t msglen)
    __attribute__((warn_unused_result));
/* Parses one template's text as the file `name` ("display-scan") would be; for tests. */
PATRON_EXPORT int patron_display_template_check(const char *name, const char *text, char *msg,
                                                size_t msglen) __attribute__((warn_unused_result));
PATRON_EXPORT void patron_display_templates_free(patron_display_templates *t);

/* Fills the frame of `kind` from the values; a scan of a member who did not agree to be greeted
 * by name (or with no name) uses display-scan-anonymous whatever `kind` says. Points are written
 * with thousands separators ("1,240"). Full brightness. Pure. */
PATRON_EXPORT void patron_display_render(const patron_display_templates *t,
                                         enum patron_display_kind kind,
                                         const struct patron_display_vars *v,
                                         struct patron_display_frame *out);

/* ---- the till's binding ---- */

struct patron_display_binding {
    char spec[PATRON_DISPLAY_SPEC_MAX + 1]; /* "none" when unbound */
    char profile[32];
};

/* Checks a spec: "none", "usb:VID:PID", "file:DEV", "virtual:DIR". Returns 0 or PATRON_EINVAL. */
PATRON_EXPORT int patron_display_spec_check(const char *spec);

/* Binds a display to the till named `till` (profile NULL keeps the till's). Returns 0;
 * PATRON_EINVAL for a bad spec or profile; PATRON_ENOTFOUND for an unknown till. */
PATRON_EXPORT int patron_terminal_display_set(patron_store *s, const char *till, const char *spec,
                                              const char *profile)
    __attribute__((warn_unused_result));
/* The binding of till `terminal_id`. Returns 0 or PATRON_ENOTFOUND. */
PATRON_EXPORT int patron_terminal_display_get(patron_store *s, int64_t terminal_id,
                                              struct patron_display_binding *out)
    __attribute__((warn_unused_result));

/* ---- outputs ---- */

typedef struct patron_display patron_display;

/* Opens the output named by `spec` for `profile` and sends the set-up bytes. "none" opens a
 * display that discards frames. Returns 0 and sets *out; PATRON_EINVAL for a bad spec;
 * PATRON_EDEVICE (with a sentence in detail) when the device cannot be opened. */
PATRON_EXPORT int patron_display_open(const char *spec,
                                      const struct patron_display_profile *profile,
                                      patron_display **out, char *detail, size_t detail_len)
    __attribute__((warn_unused_result));
/* Shows one frame at scroll `step`. Returns 0, PATRON_EDEVICE or PATRON_ETIMEOUT (sentence in
 * detail). The virtual display writes DIR/frame-N.txt (what the display shows, as UTF-8) and
 * DIR/frame-N.png, N counting from 1. */
PATRON_EXPORT int patron_display_show(patron_display *d, const struct patron_display_frame *f,
                                      unsigned step, char *detail, size_t detail_len)
    __attribute__((warn_unused_result));
/* Sends raw bytes (a test pattern, say). */
PATRON_EXPORT int patron_display_send(patron_display *d, const uint8_t *data, size_t len,
                                      char *detail, size_t detail_len)
    __attribute__((warn_unused_result));
/* The frame of `patron display test`: a ruler and the code page's letters. */
PATRON_EXPORT void patron_display_test_frame(struct patron_display_frame *out);
PATRON_EXPORT void patron_display_close(patron_display *d);

#ifdef __cplusplus
}
#endif
#endif
