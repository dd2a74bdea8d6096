/* SPDX-License-Identifier: MIT */
/* The customer displays of `patron serve`: each till's bound display (`patron terminal display`)
 * is opened at start and driven by one thread of its own, so a slow or unplugged display never
 * holds up a request: an event is queued (the oldest dropped when the queue is full) and the
 * thread renders it from the display templates, scrolls long lines, and goes back to the shop's
 * welcome (cleared and dimmed) after --display-idle seconds. A display that fails is a sentence
 * in the log; the sale goes on. */
#ifndef PATRON_API_DISPLAY_H
#define PATRON_API_DISPLAY_H

#include <jansson.h>
#include <stdint.h>

#include "api.h"

struct server;

/* Opens the bound displays and starts the thread (nothing when no till has a display). Never
 * fails the service: what cannot be opened is logged. */
void api_display_start(const struct api_settings *cfg);
/* Stops the thread and closes the displays; safe without a start. */
void api_display_stop(void);

/* An event for till `till_id`'s display: `type` is "scan" (data: the scan's reply, with the
 * member's name, greet_by_name, points, next_tier, points_to_next_tier), "sale" (points_earned,
 * points) or "redemption" (points_spent, points, reward_name); other types are ignored. Never
 * blocks on the display and does not steal `data`. `srv` may be NULL (the displays are the
 * process's own). Thread-safe. */
void patron__display_on_event(struct server *srv, int64_t till_id, const char *type,
                              const json_t *data);

/* 1 when till `till_id` has an open display (so a handler may look up what only it shows). */
int api_display_wanted(int64_t till_id);

/* After a call's work stands: passes its display event, if it has one, with its reply. */
void api_display_after(const struct api_call *c, const struct api_response *r);

#endif
