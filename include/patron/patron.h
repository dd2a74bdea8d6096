/* SPDX-License-Identifier: MIT */
/* libpatron: loyalty and rewards for the shop counter. Include this one header for all of it.
 *
 *     patron_store *s;
 *     if (patron_store_open("patron.db", &s) == 0) {
 *         struct patron_scan_result r;
 *         if (patron_scan(s, "2900000000018", &r) == 0)
 *             printf("%s has %lld points\n", r.member.name, (long long)r.member.points);
 *         patron_store_close(s);
 *     }
 */
#ifndef PATRON_PATRON_H
#define PATRON_PATRON_H

#include "patron/card.h"
#include "patron/card_space.h"
#include "patron/chain.h"
#include "patron/display.h"
#include "patron/error.h"
#include "patron/feedback.h"
#include "patron/held.h"
#include "patron/import.h"
#include "patron/keyring.h"
#include "patron/ledger.h"
#include "patron/limits.h"
#include "patron/member.h"
#include "patron/offer.h"
#include "patron/outbox.h"
#include "patron/personal.h"
#include "patron/print.h"
#include "patron/printer.h"
#include "patron/privacy.h"
#include "patron/program.h"
#include "patron/receipt.h"
#include "patron/referral.h"
#include "patron/report.h"
#include "patron/reward.h"
#include "patron/scan.h"
#include "patron/store.h"
#include "patron/voucher.h"
#include "patron/wallet.h"
#include "patron/webhook.h"

#endif
