/* SPDX-License-Identifier: MIT */
/* `patron scanner list|test`: the USB HID devices and serial ports a card scanner may be on,
 * and a scanner's scans decoded one a line (what each is: a card, a voucher, or why it is
 * refused), until Ctrl-C or --count scans. Nothing is looked up or written. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "patron/scanner.h"

static const char scanner_usage[] =
    "patron scanner list | test [auto|usb|usb:VID:PID|file:DEV] [--count N]";

static int scanner_list(struct cli *c)
{
    struct patron_scanner_info found[32];
    size_t n = 0, off = 0;
    char human[8192] = "";
    glob_t g;
    if (patron_scanner_list(found, 32, &n) != 0)
        n = 0;
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < 32; i++) {
        char spec[16];
        snprintf(spec, sizeof spec, "usb:%04x:%04x", found[i].vendor_id, found[i].product_id);
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s}", "spec", spec, "protocol",
                                        found[i].protocol, "description", found[i].description));
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, "%-22s %-9s %s\n", spec,
                                    found[i].protocol, found[i].description);
    }
    if (glob("/dev/ttyACM*", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char spec[300];
            snprintf(spec, sizeof spec, "file:%s", g.gl_pathv[i]);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "spec", spec, "protocol",
                                                 "serial", "description", g.gl_pathv[i]));
            if (off < sizeof human)
                off += (size_t)snprintf(human + off, sizeof human - off, "%-22s serial\n", spec);
        }
        globfree(&g);
    }
    return cli_emit(c, json_pack("{s:o}", "scanners", arr),
                    off ? human : "No USB HID device or serial scanner found.\n");
}

/* One scan as a line and as JSON. */
static json_t *describe(const struct cli *c, int r, const struct patron_scan_line *line,
                        const char *why)
{
    char what[PATRON_SCAN_WHY_MAX];
    if (r == PATRON_SCAN_REJECTED) {
        if (!c->json)
            printf("refused: %s\n", why);
        fflush(stdout);
        return json_pack("{s:s, s:s}", "kind", "refused", "detail", why);
    }
    enum patron_scan_kind k = patron_scan_classify(line, what, sizeof what);
    const char *kind = k == PATRON_SCAN_CARD      ? "card"
                       : k == PATRON_SCAN_VOUCHER ? "voucher"
                                                  : "invalid";
    if (c->json)
        ; /* one JSON object at the end */
    else if (k == PATRON_SCAN_CARD)
        printf("card %s%s%s\n", line->data, line->symbology[0] ? " " : "", line->symbology);
    else if (k == PATRON_SCAN_VOUCHER)
        printf("voucher (%zu digits)%s%s\n", line->len, line->symbology[0] ? " " : "",
               line->symbology);
    else
        printf("refused: %s\n", what);
    fflush(stdout);
    return json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "data", line->data, "symbology",
                     line->symbology, "detail", k == PATRON_SCAN_INVALID ? what : "");
}

static int scanner_test(struct cli *c, struct cli_args *a)
{
    const char *count_text = cli_take(a, "--count");
    const char *spec = cli_positional(a);
    int64_t count = 0, seen = 0;
    patron_scanner *sc = NULL;
    struct patron_scanner_info info;
    char detail[256] = "", why[PATRON_SCAN_WHY_MAX];
    int status, err;
    if ((status = cli_no_leftovers(c, a, scanner_usage)) != 0)
        return status;
    if (count_text && cli_parse_int(count_text, 1, 1000000, &count) != 0)
        return cli_usage(c, "--count takes a whole number from 1 to 1000000");
    if ((err = patron_scanner_open(spec ? spec : "auto", &sc, detail, sizeof detail)) != 0) {
        fprintf(stderr, "patron: %s\n", detail);
        return cli_fail(c, err, "no scanner");
    }
    patron_scanner_describe(sc, &info);
    fprintf(stderr, "patron: reading %s (%s, %s); Ctrl-C ends\n", info.description, info.kind,
            info.protocol);
    json_t *scans = json_array();
    while (count == 0 || seen < count) {
        struct patron_scan_line line;
        int r = patron_scanner_read(sc, 1000, &line, why, sizeof why);
        if (r < 0) {
            fprintf(stderr, "patron: %s\n", why);
            break;
        }
        if (r == PATRON_SCAN_LINE || r == PATRON_SCAN_REJECTED) {
            json_array_append_new(scans, describe(c, r, &line, why));
            seen++;
        }
    }
    patron_scanner_close(sc);
    if (!c->json) {
        json_decref(scans);
        return seen == count || count == 0 ? 0 : cli_exit_status(PATRON_EDEVICE);
    }
    return cli_emit(c, json_pack("{s:o, s:I}", "scans", scans, "count", (json_int_t)seen), "");
}

int cli_cmd_scanner(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (sub && strcmp(sub, "list") == 0) {
        int status = cli_no_leftovers(c, a, scanner_usage);
        return status ? status : scanner_list(c);
    }
    if (sub && strcmp(sub, "test") == 0)
        return scanner_test(c, a);
    return cli_usage(c, scanner_usage);
}
