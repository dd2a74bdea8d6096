/* SPDX-License-Identifier: MIT */
/* Fuzz target for receipt templates: the input is a template, compiled with patron_receipt_parse
 * and, when it compiles, rendered with the printing tests' fixed values on a 58 mm profile
 * (raster QR, CP437, no cutter) and an 80 mm one (native QR, CP858, cutter). Every job that
 * renders is read back by the printer model, which must understand all of it: the encoder never
 * emits a command the model (and so the printers it stands for) does not know. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escpos_model.h"
#include "patron/error.h"
#include "patron/receipt.h"
#include "print_fixture.h"

#define TEXT_MAX (16u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixture values plus two that try to smuggle markup and printer commands in as text. */
static size_t vars(struct patron_receipt_var *v)
{
    size_t n = fixture_vars(v, fixture_token());
    v[n++] =
        (struct patron_receipt_var){"evil", "{{store.name}} | ^^^\"_` \\x41 \x1b@\x1dV\x42\n="};
    v[n++] = (struct patron_receipt_var){"empty", ""};
    return n;
}

/* Where a fault was located must lie in the text: line 1..lines, column 1..(line length + 1). */
static void check_location(const char *text, unsigned line, unsigned col)
{
    unsigned lines = 1;
    for (const char *q = text; *q; q++)
        lines += *q == '\n';
    if (line < 1 || line > lines || col < 1 || col > strlen(text) + 1)
        abort();
}

static void read_back(const struct patron_escpos_profile *prof, const uint8_t *job, size_t len)
{
    struct patron_model *m;
    size_t nunknown;
    if (patron_model_new(prof->dots, &m) != 0)
        abort();
    int rc = patron_model_feed(m, job, len);
    if (rc == 0)
        rc = patron_model_flush(m);
    if (rc != 0 && rc != PATRON_ETOOBIG)
        abort();
    const struct patron_model_unknown *u = patron_model_unknown(m, &nunknown);
    if (nunknown != 0) { /* the encoder emitted something the model does not understand */
        fprintf(stderr, "%s: %s at byte %zu of %zu:", prof->name, u->what, u->offset, len);
        for (size_t i = 0; i < u->len; i++)
            fprintf(stderr, " %02x", u->bytes[i]);
        fprintf(stderr, "\n");
        abort();
    }
    patron_model_free(m);
}

static void render(const patron_receipt *t, const char *profile_name)
{
    struct patron_receipt_var v[FIXTURE_MAX_VARS];
    const struct patron_escpos_profile *prof = patron_escpos_profile_find(profile_name);
    uint8_t *job = NULL;
    size_t len = 0;
    char msg[256] = "";
    if (!prof)
        abort();
    int rc = patron_receipt_render_job(t, prof, v, vars(v), &job, &len, msg, sizeof msg);
    if (rc != 0) {
        if ((rc != PATRON_EINVAL && rc != PATRON_ETOOBIG) || msg[0] == '\0')
            abort(); /* a refusal says why */
        return;
    }
    /* A job starts with ESC @ and ends with the printer's modes back at their defaults. */
    if (len < 2 || job[0] != 0x1B || job[1] != '@')
        abort();
    read_back(prof, job, len);
    free(job);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[TEXT_MAX + 1];
    patron_receipt *t = NULL;
    unsigned line = 0, col = 0;
    char msg[256] = "";
    if (size > TEXT_MAX)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = patron_receipt_parse(text, &t, &line, &col, msg, sizeof msg);
    if (rc != 0) {
        if (rc != PATRON_EINVAL || t != NULL || msg[0] == '\0')
            abort();
        check_location(text, line, col);
        return 0;
    }
    render(t, "generic-58");
    render(t, "epson-tm-t20");
    patron_receipt_free(t);
    return 0;
}
