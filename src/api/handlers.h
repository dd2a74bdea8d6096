/* SPDX-License-Identifier: MIT */
/* The route handlers of the counter service, one per route of the table in router.c. Each
 * reads its validated body and parameters from the call, calls the library once, and leaves its
 * JSON reply on the call; it returns 0 or the library's PATRON_* code. */
#ifndef PATRON_API_HANDLERS_H
#define PATRON_API_HANDLERS_H

#include "api.h"

int api_h_health(struct api_call *c, patron_store *s);
int api_h_metrics(struct api_call *c, patron_store *s);
int api_h_scan(struct api_call *c, patron_store *s);
int api_h_sale(struct api_call *c, patron_store *s);
int api_h_refund(struct api_call *c, patron_store *s);
int api_h_rewards(struct api_call *c, patron_store *s);
int api_h_redeem(struct api_call *c, patron_store *s);
int api_h_enroll(struct api_call *c, patron_store *s);
int api_h_member(struct api_call *c, patron_store *s);
int api_h_adjust(struct api_call *c, patron_store *s);

#endif
