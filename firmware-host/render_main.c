/* SPDX-License-Identifier: MIT */
/* patron-render: turns a raw ESC/POS job (.bin) into a PNG of the paper, for previews and for
 * debugging a printout without a printer. Unknown commands are listed on stderr and make the
 * exit status 2, so a script notices them. */
#include "escpos_model.h"
#include "patron/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOB (16u << 20)

static int usage(void)
{
    fprintf(stderr, "usage: patron-render [--width DOTS] JOB.bin OUT.png\n"
                    "  DOTS is the paper's printable width: 384 (58 mm) or 576 (80 mm, default)\n");
    return 64;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    if (!f)
        return NULL;
    if ((buf = malloc(MAX_JOB + 1)) != NULL) {
        *len = fread(buf, 1, MAX_JOB + 1, f);
        if (ferror(f) || *len > MAX_JOB) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    unsigned width = 576;
    int i = 1, rc;
    if (argc > 2 && strcmp(argv[1], "--width") == 0) {
        width = (unsigned)strtoul(argv[2], NULL, 10);
        i = 3;
    }
    if (argc - i != 2)
        return usage();
    size_t len = 0, unknown = 0;
    uint8_t *job = slurp(argv[i], &len);
    struct patron_model *m = NULL;
    if (!job) {
        fprintf(stderr, "patron-render: cannot read %s (or it is over 16 MiB)\n", argv[i]);
        return 1;
    }
    if ((rc = patron_model_new(width, &m)) == 0 && (rc = patron_model_feed(m, job, len)) == 0 &&
        (rc = patron_model_flush(m)) == 0)
        rc = patron_model_write_png(m, argv[i + 1]);
    if (rc) {
        fprintf(stderr, "patron-render: %s\n", patron_strerror(rc));
    } else {
        const struct patron_model_unknown *u = patron_model_unknown(m, &unknown);
        for (size_t k = 0; k < unknown && k < PATRON_MODEL_MAX_UNKNOWN; k++) {
            fprintf(stderr, "offset %zu: %s:", u[k].offset, u[k].what);
            for (size_t b = 0; b < u[k].len; b++)
                fprintf(stderr, " %02X", u[k].bytes[b]);
            fputc('\n', stderr);
        }
    }
    patron_model_free(m);
    free(job);
    return rc ? 1 : unknown ? 2 : 0;
}
