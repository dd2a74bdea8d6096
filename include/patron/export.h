/* SPDX-License-Identifier: MIT */
/* PATRON_EXPORT marks the public API: libpatron is built with -fvisibility=hidden, so the shared
 * library exports exactly the functions (and the one table) its headers mark with it, and the
 * patron__ internals stay inside. tests/test_symbols.sh checks the list. */
#ifndef PATRON_EXPORT_H
#define PATRON_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define PATRON_EXPORT __attribute__((visibility("default")))
#else
#define PATRON_EXPORT
#endif

#endif
