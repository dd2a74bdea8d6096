/* SPDX-License-Identifier: MIT */
/* Coupons rendered per second (compiled template -> ESC/POS bytes with a native QR for an
 * 80 mm printer, a fresh 243-digit token each time) and bytes per coupon. With --document it
 * prints the same coupon as a plain ReceiptLine document instead, for bench/coupon.sh to feed
 * the npm receiptline package. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "patron/receipt.h"

static const char *const keys[] = {"store.name",    "reprint",        "reward.name",
                                   "voucher.value", "member.name",    "voucher.token",
                                   "voucher.code",  "voucher.expires"};

static void fill(const char **values, char *token, unsigned seed)
{
    for (int i = 0; i < 243; i++) {
        seed = seed * 1103515245u + 12345u;
        token[i] = (char)('0' + (seed >> 16) % 10);
    }
    token[243] = '\0';
    values[0] = "Corner Cafe";
    values[1] = "";
    values[2] = "Free coffee";
    values[3] = "2.50 EUR";
    values[4] = "Zoe Muller";
    values[5] = token;
    values[6] = "7K3M-9QXD-2B4F-TR";
    values[7] = "2026-02-14";
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The template's text with every {{key}} replaced and the QR module set to the 80 mm
 * profile's 6 dots, so both renderers draw the same coupon. */
static int print_document(const char *path, const char **values)
{
    static char text[PATRON_RECEIPT_MAX_TEXT + 1];
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "{{"), *close = open ? strstr(open, "}}") : NULL;
        if (!open || !close) {
            fputs(p, stdout);
            break;
        }
        fwrite(p, 1, (size_t)(open - p), stdout);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            if (strlen(keys[k]) == (size_t)(close - open - 2) &&
                !memcmp(keys[k], open + 2, (size_t)(close - open - 2)))
                fputs(values[k], stdout);
        p = close + 2;
    }
    return 0;
}

static int run(const patron_receipt *t, patron_escpos *j, const struct patron_receipt_var *vars,
               const char **values, char *token, long iters, const char *name)
{
    char msg[256];
    size_t bytes = 0, len;
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        fill(values, token, (unsigned)i + 1);
        patron_escpos_reset(j);
        patron_escpos_init(j);
        if (patron_receipt_render(t, vars, 8, j, msg, sizeof msg) != 0) {
            fprintf(stderr, "bench_coupon: %s\n", msg);
            return 1;
        }
        patron_escpos_data(j, &len);
        bytes += len;
    }
    double secs = now() - t0;
    printf("%s_coupons_per_sec %.0f\n", name, (double)iters / secs);
    printf("%s_bytes_per_coupon %.0f\n", name, (double)bytes / (double)iters);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("PATRON_SOURCE_DIR");
    char path[1024], msg[256], token[244];
    const char *values[8];
    struct patron_receipt_var vars[8];
    patron_receipt *t = NULL;
    patron_escpos *j = NULL;
    long iters = argc > 1 && argv[1][0] != '-' ? atol(argv[1]) : 20000;
    snprintf(path, sizeof path, "%s/receipts/reward-coupon.receipt", dir ? dir : ".");
    fill(values, token, 1);
    if (argc > 1 && strcmp(argv[1], "--document") == 0)
        return print_document(path, values);
    if (patron_receipt_load(NULL, "reward-coupon", &t, msg, sizeof msg) != 0 ||
        patron_escpos_new(patron_escpos_profile_find("epson-tm-t20"), 0, &j) != 0) {
        fprintf(stderr, "bench_coupon: %s\n", msg);
        return 1;
    }
    for (size_t k = 0; k < 8; k++)
        vars[k] = (struct patron_receipt_var){keys[k], values[k]};
    if (run(t, j, vars, values, token, iters, "patron") != 0)
        return 1;
    /* the same printer without native QR: the symbol goes out as a raster image */
    struct patron_escpos_profile raster = *patron_escpos_profile_find("epson-tm-t20");
    raster.native_qr = 0;
    patron_escpos_free(j);
    if (patron_escpos_new(&raster, 0, &j) != 0 ||
        run(t, j, vars, values, token, iters / 10, "patron_raster") != 0)
        return 1;
    patron_escpos_free(j);
    patron_receipt_free(t);
    return 0;
}
