/* SPDX-License-Identifier: MIT */
/* patron-print: sends a file of ESC/POS bytes to a printer, reads a printer's status, or lists
 * the USB printers, through the same transports as libpatron. For setting up a counter
 * ("does this printer work?") and for driving the emulated printer from scripts. Exit codes
 * follow the `patron` program: 0 done, 4 invalid input, 5 printer error, 64 usage, 1 other. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patron/error.h"
#include "patron/printer.h"

#define FILE_MAX (64u * 1024 * 1024)
#define LIST_MAX 32

static int usage(void)
{
    fputs("usage: patron-print [--printer SPEC] [--width DOTS] FILE   send FILE (ESC/POS bytes)\n"
          "       patron-print [--printer SPEC] --status               read the printer's state\n"
          "       patron-print --list                                   list USB printers\n"
          "SPEC: auto (default), usb, usb:VID:PID, file:PATH, virtual:DIR, none\n",
          stderr);
    return 64;
}

static int exit_for(int err)
{
    switch (patron_err_kind(err)) {
    case PATRON_KIND_OK:
        return 0;
    case PATRON_KIND_INVALID:
        return 4;
    case PATRON_KIND_DEVICE:
        return 5;
    default:
        return 1;
    }
}

static int fail(int err, const char *detail)
{
    fprintf(stderr, "patron-print: %s%s%s\n", patron_strerror(err), detail[0] ? ": " : "", detail);
    return exit_for(err);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        return -errno;
    for (;;) {
        if (n == cap) {
            uint8_t *nb = cap < FILE_MAX ? realloc(buf, cap = cap ? cap * 2 : 65536) : NULL;
            if (!nb) {
                free(buf);
                fclose(f);
                return cap >= FILE_MAX ? PATRON_ETOOBIG : PATRON_ENOMEM;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return PATRON_EINVAL;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int list(void)
{
    struct patron_printer_info info[LIST_MAX];
    size_t n = 0;
    int r = patron_printer_list(info, LIST_MAX, &n);
    if (r != 0)
        return fail(r, "");
    for (size_t i = 0; i < n && i < LIST_MAX; i++)
        printf("usb:%04x:%04x\t%s\n", info[i].vendor_id, info[i].product_id, info[i].description);
    return 0;
}

static void print_status(unsigned s)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{PATRON_PRINTER_ONLINE, "online"},
                 {PATRON_PRINTER_PAPER_END, "paper-end"},
                 {PATRON_PRINTER_PAPER_NEAR_END, "paper-near-end"},
                 {PATRON_PRINTER_COVER_OPEN, "cover-open"},
                 {PATRON_PRINTER_ERROR, "error"},
                 {PATRON_PRINTER_STATUS_UNKNOWN, "unknown"}};
    const char *sep = "";
    if (!(s & (PATRON_PRINTER_ONLINE | PATRON_PRINTER_STATUS_UNKNOWN))) {
        printf("offline");
        sep = " ";
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (s & names[i].bit) {
            printf("%s%s", sep, names[i].name);
            sep = " ";
        }
    }
    printf("\n");
}

static int run(const char *spec, unsigned width, const char *file, int status_only)
{
    patron_printer *p = NULL;
    struct patron_printer_info info;
    char detail[512] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    unsigned s = 0;
    int r = file ? read_file(file, &data, &len) : 0;
    if (r != 0) {
        fprintf(stderr, "patron-print: cannot read %s: %s\n", file, patron_strerror(r));
        return r == PATRON_ETOOBIG ? 4 : 1;
    }
    if ((r = patron_printer_open(spec, width, &p, detail, sizeof detail)) != 0)
        goto out;
    patron_printer_describe(p, &info);
    fprintf(stderr, "patron-print: %s %s\n", info.kind, info.description);
    if (status_only && (r = patron_printer_status(p, &s)) == 0)
        print_status(s);
    if (!status_only)
        r = patron_printer_send(p, "job", data, len, detail, sizeof detail);
out:
    patron_printer_close(p);
    free(data);
    return r ? fail(r, detail) : 0;
}

int main(int argc, char **argv)
{
    const char *spec = getenv("PATRON_PRINTER"), *file = NULL;
    unsigned long width = 0;
    int status_only = 0;
    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--list"))
            return argc == 2 ? list() : usage();
        if (!strcmp(argv[i], "--status"))
            status_only = 1;
        else if (!strcmp(argv[i], "--printer") && i + 1 < argc)
            spec = argv[++i];
        else if (!strcmp(argv[i], "--width") && i + 1 < argc &&
                 (width = strtoul(argv[++i], &end, 10), *end == '\0') && width <= 4096)
            continue;
        else if (argv[i][0] != '-' && !file)
            file = argv[i];
        else
            return usage();
    }
    if (status_only == (file != NULL))
        return usage();
    return run(spec, (unsigned)width, file, status_only);
}
