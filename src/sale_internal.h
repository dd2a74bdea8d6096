/* SPDX-License-Identifier: MIT */
/* Shared between sales and refunds: the earning arithmetic and reading back a recorded sale.
 * Never installed. */
#ifndef PATRON_SALE_INTERNAL_H
#define PATRON_SALE_INTERNAL_H

#include "patron/ledger.h"
#include "patron/program.h"
#include "store_internal.h"

struct patron__earning {
    int64_t weight;      /* sum of qty * unit price * category multiplier (thousandths) */
    int64_t lines_minor; /* sum of qty * unit price */
    int64_t points;
};

/* The earning rule of include/patron/ledger.h, in exact integer arithmetic. */
int64_t patron__earn_points(const struct patron_program *p, int64_t weight, int64_t paid,
                            int64_t lines_minor, int64_t tier_permille);

/* Reads a recorded sale back as the answer to its request (replayed = 1). */
int patron__sale_result(patron_store *s, int64_t sale_id, struct patron_sale_result *out);

/* The name of a tier. */
int patron__sale_tier_name(patron_store *s, int64_t tier_id, char *buf, size_t len);

#endif
