/* SPDX-License-Identifier: MIT */
/* Fuzz target for the printer model's ESC/POS interpreter. The first byte picks the paper width
 * and whether the job arrives in one piece or two; the rest is the job. Whatever the bytes, the
 * model must stay within its paper limit, keep every listed report inside the bytes fed, and
 * leave an image that can be read end to end (the sanitizers watch the reads). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escpos_model.h"
#include "patron/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct patron_model *m, size_t fed)
{
    unsigned width, height;
    size_t n, ncuts;
    const uint8_t *bits = patron_model_bitmap(m, &width, &height);
    if (height > PATRON_MODEL_MAX_ROWS || (height && !bits))
        abort();
    /* The first and last byte of every row: enough for the sanitizers to catch an image
     * smaller than it says, without reading megabytes on every input. */
    volatile uint8_t sink = 0;
    for (size_t r = 0, bpr = (width + 7) / 8; r < height; r++)
        sink ^= bits[r * bpr] ^ bits[r * bpr + bpr - 1];
    (void)sink;
    const struct patron_model_unknown *u = patron_model_unknown(m, &n);
    for (size_t i = 0; i < n && i < PATRON_MODEL_MAX_UNKNOWN; i++)
        if (u[i].offset >= fed || u[i].len > sizeof u[i].bytes ||
            !memchr(u[i].what, '\0', sizeof u[i].what) || u[i].what[0] == '\0')
            abort();
    const unsigned *cuts = patron_model_cuts(m, &ncuts);
    for (size_t i = 0; i < ncuts; i++)
        if (cuts[i] >= height || (i && cuts[i] <= cuts[i - 1]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned widths[] = {384, 576, 8, 2048};
    struct patron_model *m;
    if (size < 1)
        return 0;
    unsigned width = widths[data[0] & 3];
    const uint8_t *job = data + 1;
    size_t len = size - 1, first = len;
    if (data[0] & 4) /* two pieces, split at a point the high bits pick */
        first = len * (data[0] >> 3) / 32;
    if (patron_model_new(width, &m) != 0)
        abort();
    int rc = patron_model_feed(m, job, first);
    if (rc == 0)
        rc = patron_model_feed(m, job + first, len - first);
    if (rc == 0)
        rc = patron_model_flush(m);
    if (rc != 0 && rc != PATRON_ETOOBIG)
        abort();
    check(m, len);
    patron_model_free(m);
    return 0;
}
