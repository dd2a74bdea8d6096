/* SPDX-License-Identifier: MIT */
/* Fixed placeholder values and a 243-digit voucher token shared by the printing tests, so that
 * every template renders the same bytes on every run. */
#ifndef PATRON_PRINT_FIXTURE_H
#define PATRON_PRINT_FIXTURE_H

#include <stddef.h>
#include <string.h>

#include "patron/receipt.h"

/* 243 digits, as a PV1 voucher's 100 bytes come out (14 groups of 17 digits and 5 more). */
static inline const char *fixture_token(void)
{
    static char token[244];
    if (!token[0]) {
        unsigned x = 12345;
        for (int i = 0; i < 243; i++) {
            x = x * 1103515245u + 12345u;
            token[i] = (char)('0' + (x >> 16) % 10);
        }
    }
    return token;
}

static inline size_t fixture_vars(struct patron_receipt_var *v, const char *token)
{
    const struct patron_receipt_var fixed[] = {
        {"store.name", "Corner Café"},
        {"member.name", "Zoë Müller"},
        {"member.since", "2024-03-01"},
        {"reward.name", "Free coffee"},
        {"offer.name", "20 % off pastries"},
        {"offer.terms", "On any pastry, once, this week."},
        {"voucher.token", token},
        {"voucher.code", "7K3M-9QXD-2B4F-TR"},
        {"voucher.expires", "2026-02-14"},
        {"voucher.value", "2.50 €"},
        {"reprint", ""},
        {"card.number", "2900000000018"},
        {"points.earned", "+42"},
        {"points.balance", "1 234"},
        {"points.expiring", "120"},
        {"points.expiry_date", "2026-03-31"},
        {"offer.next", "Next time: 20 % off pastries"},
        {"tier.name", "Silver"},
        {"tier.progress", "266 points to Gold"},
        {"tier.label", "Tier"},
        {"points.expiry_label", "Expiring by 2026-03-31"},
        {"printer.profile", "test"},
        {"printer.dots", "384"},
        {"printer.columns", "32"},
        {"printer.qr", "native"},
    };
    memcpy(v, fixed, sizeof fixed);
    return sizeof fixed / sizeof fixed[0];
}

#define FIXTURE_MAX_VARS 32

#endif
