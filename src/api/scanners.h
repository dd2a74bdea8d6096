/* SPDX-License-Identifier: MIT */
/* The card scanners of `patron serve`: one thread per till bound to a scanner (`patron terminal
 * scanner`), which opens the device, reads whole scans, looks each up (a card: the member scan;
 * a voucher QR: the voucher check) on a store handle of its own, and publishes what it found on
 * the till's event stream. An unplugged scanner is opened again every few seconds. */
#ifndef PATRON_API_SCANNERS_H
#define PATRON_API_SCANNERS_H

struct api_settings;
struct api_scanners;

/* Starts a thread per bound scanner (none: nothing to start). Returns 0 or a PATRON_* code. */
int api_scanners_start(const struct api_settings *cfg, struct api_scanners **out);
/* Stops the threads and closes the devices; NULL does nothing. */
void api_scanners_stop(struct api_scanners *ss);

#endif
