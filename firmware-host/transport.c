/* SPDX-License-Identifier: MIT */
/* The printer transport front: parses a spec ("auto", "usb", "usb:VID:PID", "file:PATH",
 * "virtual:DIR", "none") from one table, opens the matching back-end of transport_internal.h,
 * and checks the arguments of every public call once, so back-ends can trust them. Also holds the
 * `none` back-end, which accepts and discards jobs. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_internal.h"
#include "transport_internal.h"

#define SPEC_MAX 1024
#define JOB_NAME_MAX 64
#define JOB_MAX (64u * 1024 * 1024) /* far above any coupon; stops a runaway job */
#define WIDTH_DEFAULT 576
#define WIDTH_MAX 4096

/* Back-ends write their failure sentences here; a caller may pass no detail buffer at all. */
void patron__printer_say(char *detail, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!detail || !len)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, len, fmt, ap);
    va_end(ap);
}

/* ---- the none back-end ---- */

static int none_send(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                     char *detail, size_t detail_len)
{
    (void)p, (void)job_name, (void)data, (void)len, (void)detail, (void)detail_len;
    return 0;
}

static int none_status(patron_printer *p, unsigned *status)
{
    (void)p;
    *status = PATRON_PRINTER_STATUS_UNKNOWN;
    return 0;
}

static void none_close(patron_printer *p)
{
    (void)p;
}

static const struct patron_printer_ops none_ops = {
    .send = none_send,
    .status = none_status,
    .close = none_close,
};

int patron__none_open(patron_printer **out)
{
    patron_printer *p = calloc(1, sizeof *p);
    if (!p)
        return PATRON_ENOMEM;
    p->ops = &none_ops;
    snprintf(p->info.kind, sizeof p->info.kind, "none");
    snprintf(p->info.description, sizeof p->info.description, "no printer (jobs are discarded)");
    *out = p;
    return 0;
}

/* ---- spec parsing ---- */

struct open_args {
    const char *rest; /* what follows the spec's prefix */
    const char *home; /* the data folder: "auto" falls back to its prints/ (NULL: see open_auto) */
    unsigned width;
    patron_printer **out;
    char *detail;
    size_t detail_len;
};

/* Until the virtual printer (firmware-host/virtual.c) is part of the build, "virtual" fails
 * plainly; CMake defines PATRON_HAVE_VIRTUAL when virtual.c is in the target. */
static int open_virtual_dir(const char *dir, const struct open_args *a)
{
#ifdef PATRON_HAVE_VIRTUAL
    return patron__virtual_open(dir, a->width, a->out, a->detail, a->detail_len);
#else
    patron__printer_say(a->detail, a->detail_len,
                        "the virtual printer is not built into this program (%s)", dir);
    return PATRON_EDEVICE;
#endif
}

/* The first USB printer, else the virtual printer in HOME/prints, HOME being the folder the
 * caller gave, else $PATRON_HOME, else ./var. A printer that is
 * there but busy or forbidden is reported, never silently replaced by the virtual one; the
 * fallback itself is recorded in the printer's info, with the reason, for the caller to say. */
static int open_auto(const struct open_args *a)
{
    char dir[PATH_MAX], why[160] = "";
    int r = patron__usb_open(1, 0, 0, a->width, a->out, why, sizeof why);
    if (r != PATRON_EDEVICE) {
        if (r != 0)
            patron__printer_say(a->detail, a->detail_len, "%s", why);
        return r;
    }
    const char *home = a->home && *a->home ? a->home : getenv("PATRON_HOME");
    if (!home || !*home)
        home = "./var";
    if ((size_t)snprintf(dir, sizeof dir, "%s/prints", home) >= sizeof dir) {
        patron__printer_say(a->detail, a->detail_len, "the data folder's name is too long");
        return PATRON_EINVAL;
    }
    if ((r = open_virtual_dir(dir, a)) == 0)
        patron__printer_say((*a->out)->info.fallback, sizeof(*a->out)->info.fallback,
                            "no USB printer (%s): printing to the virtual printer in %s",
                            why[0] ? why : "none found", dir);
    return r;
}

static int open_usb_any(const struct open_args *a)
{
    return patron__usb_open(1, 0, 0, a->width, a->out, a->detail, a->detail_len);
}

static int parse_hex16(const char *s, char stop, const char **end, uint16_t *out)
{
    char *e = NULL;
    if (!((s[0] >= '0' && s[0] <= '9') || (s[0] >= 'a' && s[0] <= 'f') ||
          (s[0] >= 'A' && s[0] <= 'F')))
        return -1;
    errno = 0;
    unsigned long v = strtoul(s, &e, 16);
    if (errno || e == s || *e != stop || v > 0xffff)
        return -1;
    *out = (uint16_t)v;
    *end = e;
    return 0;
}

static int open_usb_id(const struct open_args *a)
{
    uint16_t vid, pid;
    const char *e;
    if (parse_hex16(a->rest, ':', &e, &vid) != 0 || parse_hex16(e + 1, '\0', &e, &pid) != 0) {
        patron__printer_say(
            a->detail, a->detail_len,
            "bad USB printer id \"%s\": write usb:VID:PID in hex, e.g. usb:04b8:0e28", a->rest);
        return PATRON_EINVAL;
    }
    return patron__usb_open(0, vid, pid, a->width, a->out, a->detail, a->detail_len);
}

static int open_file(const struct open_args *a)
{
    return patron__file_open(a->rest, a->width, a->out, a->detail, a->detail_len);
}

static int open_virtual(const struct open_args *a)
{
    return open_virtual_dir(a->rest, a);
}

static int open_none(const struct open_args *a)
{
    return patron__none_open(a->out);
}

/* One table: a spec is a whole word, or a prefix followed by a non-empty argument. */
static const struct spec_kind {
    const char *name;
    int takes_arg;
    int (*open)(const struct open_args *a);
} spec_kinds[] = {
    {"auto", 0, open_auto},  {"usb", 0, open_usb_any},      {"usb:", 1, open_usb_id},
    {"file:", 1, open_file}, {"virtual:", 1, open_virtual}, {"none", 0, open_none},
};

int patron_printer_open(const char *spec, unsigned width_dots, patron_printer **out, char *detail,
                        size_t detail_len)
{
    return patron_printer_open_in(spec, width_dots, NULL, out, detail, detail_len);
}

int patron_printer_open_in(const char *spec, unsigned width_dots, const char *home,
                           patron_printer **out, char *detail, size_t detail_len)
{
    struct open_args a = {.home = home,
                          .width = width_dots ? width_dots : WIDTH_DEFAULT,
                          .out = out,
                          .detail = detail,
                          .detail_len = detail_len};
    patron__printer_say(detail, detail_len, "%s", "");
    if (!out || a.width > WIDTH_MAX) {
        patron__printer_say(detail, detail_len, "bad arguments to open a printer");
        return PATRON_EINVAL;
    }
    spec = spec && *spec ? spec : "auto";
    if (strnlen(spec, SPEC_MAX + 1) > SPEC_MAX) {
        patron__printer_say(detail, detail_len, "the printer spec is longer than %d bytes",
                            SPEC_MAX);
        return PATRON_EINVAL;
    }
    for (size_t i = 0; i < sizeof spec_kinds / sizeof spec_kinds[0]; i++) {
        const struct spec_kind *k = &spec_kinds[i];
        size_t n = strlen(k->name);
        if (k->takes_arg ? (strncmp(spec, k->name, n) != 0 || !spec[n])
                         : strcmp(spec, k->name) != 0)
            continue;
        a.rest = spec + n;
        return k->open(&a);
    }
    patron__printer_say(
        detail, detail_len,
        "unknown printer \"%.64s\": use auto, usb, usb:VID:PID, file:PATH, virtual:DIR or none",
        spec);
    return PATRON_EINVAL;
}

void patron_printer_close(patron_printer *p)
{
    if (!p)
        return;
    p->ops->close(p);
    free(p);
}

/* Job names become file names in the virtual printer: keep them plain. */
static int job_name_ok(const char *name)
{
    size_t n = strnlen(name, JOB_NAME_MAX + 1);
    if (n == 0 || n > JOB_NAME_MAX || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int patron_printer_send(patron_printer *p, const char *job_name, const uint8_t *data, size_t len,
                        char *detail, size_t detail_len)
{
    patron__printer_say(detail, detail_len, "%s", "");
    if (!p || (!data && len)) {
        patron__printer_say(detail, detail_len, "bad arguments to send a print job");
        return PATRON_EINVAL;
    }
    if (len > JOB_MAX) {
        patron__printer_say(detail, detail_len, "a print job of %zu bytes is larger than %u", len,
                            JOB_MAX);
        return PATRON_ETOOBIG;
    }
    job_name = job_name ? job_name : "job";
    if (!job_name_ok(job_name)) {
        patron__printer_say(detail, detail_len,
                            "bad job name (letters, digits, '-', '_' and '.' only)");
        return PATRON_EINVAL;
    }
    return p->ops->send(p, job_name, data ? data : (const uint8_t *)"", len, detail, detail_len);
}

int patron_printer_status(patron_printer *p, unsigned *status)
{
    unsigned s = 0;
    if (!p || !status)
        return PATRON_EINVAL;
    int r = p->ops->status(p, &s);
    if (r == 0)
        *status = s;
    return r;
}

void patron_printer_describe(const patron_printer *p, struct patron_printer_info *out)
{
    if (p && out)
        *out = p->info;
}

int patron_printer_list(struct patron_printer_info *out, size_t cap, size_t *count)
{
    size_t n = 0;
    if (!count || (cap && !out))
        return PATRON_EINVAL;
    int r = patron__usb_list(out, cap, &n);
    if (r == 0)
        *count = n;
    return r;
}
