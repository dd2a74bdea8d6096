/* SPDX-License-Identifier: MIT */
/* `patron printer list|status|test`: the USB printers attached, what the configured printer
 * says of itself (paper, cover), and a test page through the print queue. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char printer_usage[] = "patron printer list | status | test";

static int printer_list(struct cli *c)
{
    struct patron_printer_info found[16];
    size_t n = 0;
    char human[4096] = "";
    size_t off = 0;
    int err = patron_printer_list(found, 16, &n);
    if (err != 0)
        return cli_fail(c, err, "cannot list USB printers");
    json_t *arr = json_array();
    for (size_t i = 0; i < n && i < 16; i++) {
        char id[10];
        snprintf(id, sizeof id, "%04x:%04x", found[i].vendor_id, found[i].product_id);
        json_array_append_new(
            arr, json_pack("{s:s, s:s}", "usb_id", id, "description", found[i].description));
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, "usb:%s  %s\n", id,
                                    found[i].description);
    }
    return cli_emit(c, json_pack("{s:o}", "printers", arr),
                    n ? human : "No USB printer found (the virtual printer is used).\n");
}

static const struct {
    unsigned bit;
    const char *word;
} status_words[] = {
    {PATRON_PRINTER_PAPER_END, "paper_end"},    {PATRON_PRINTER_PAPER_NEAR_END, "paper_near_end"},
    {PATRON_PRINTER_COVER_OPEN, "cover_open"},  {PATRON_PRINTER_ERROR, "error"},
    {PATRON_PRINTER_STATUS_UNKNOWN, "unknown"},
};

static int printer_status(struct cli *c)
{
    patron_printer *p;
    struct patron_escpos_profile profile;
    struct patron_printer_info info;
    char detail[256] = "", human[512];
    unsigned bits = 0;
    int err = cli_open_printer(c, &p, &profile, detail, sizeof detail);
    if (err != 0) {
        fprintf(stderr, "patron: %s\n", detail);
        return cli_fail(c, err, "printer unavailable");
    }
    patron_printer_describe(p, &info);
    err = patron_printer_status(p, &bits);
    patron_printer_close(p);
    if (err != 0)
        return cli_fail(c, err, "the printer did not report its status");
    json_t *words = json_array();
    size_t off = (size_t)snprintf(human, sizeof human, "%s (%s), profile %s: %s", info.kind,
                                  info.description, profile.name,
                                  bits & PATRON_PRINTER_ONLINE ? "online" : "offline");
    for (size_t i = 0; i < sizeof status_words / sizeof status_words[0]; i++) {
        if (!(bits & status_words[i].bit))
            continue;
        json_array_append_new(words, json_string(status_words[i].word));
        if (off < sizeof human)
            off += (size_t)snprintf(human + off, sizeof human - off, ", %s", status_words[i].word);
    }
    if (off < sizeof human)
        snprintf(human + off, sizeof human - off, "\n");
    return cli_emit(c,
                    json_pack("{s:s, s:s, s:s, s:b, s:o}", "kind", info.kind, "description",
                              info.description, "profile", profile.name, "online",
                              (bits & PATRON_PRINTER_ONLINE) != 0, "status", words),
                    human);
}

static int printer_test(struct cli *c)
{
    patron_printer *p;
    struct patron_escpos_profile profile;
    struct patron_store_info store;
    char detail[256] = "", dots[16], columns[16];
    int64_t job;
    int err, status;
    if ((status = cli_open_store(c)) != 0 || (status = cli_check_templates(c)) != 0)
        return status;
    if ((err = cli_open_printer(c, &p, &profile, detail, sizeof detail)) != 0) {
        fprintf(stderr, "patron: %s\n", detail);
        return cli_fail(c, err, "printer unavailable");
    }
    patron_printer_close(p);
    if ((err = patron_store_info(c->store, &store)) != 0)
        return cli_fail(c, err, "cannot read the store");
    snprintf(dots, sizeof dots, "%u", profile.dots);
    snprintf(columns, sizeof columns, "%u", profile.columns);
    struct patron_receipt_var vars[] = {
        {"store.name", store.name[0] ? store.name : "Patron"},
        {"printer.profile", profile.name},
        {"printer.dots", dots},
        {"printer.columns", columns},
        {"printer.qr", profile.native_qr ? "native (GS ( k)" : "raster image (GS v 0)"},
    };
    if ((err = patron_print_enqueue(c->store, "test-page", vars, sizeof vars / sizeof vars[0],
                                    &job)) != 0)
        return cli_fail(c, err, "cannot queue the test page");
    json_t *o = json_pack("{s:I}", "print_job", (json_int_t)job);
    if ((status = cli_print_after(c, o, job)) >= 0)
        return status;
    return cli_emit(c, o, "Test page printed.\n");
}

int cli_cmd_printer(struct cli *c, struct cli_args *a)
{
    const char *sub = cli_positional(a);
    if (!sub || a->argc != 0)
        return cli_usage(c, printer_usage);
    if (strcmp(sub, "list") == 0)
        return printer_list(c);
    if (strcmp(sub, "status") == 0)
        return printer_status(c);
    if (strcmp(sub, "test") == 0)
        return printer_test(c);
    return cli_usage(c, printer_usage);
}
