/* SPDX-License-Identifier: MIT */
/* Runs the `patron` program the way a person does: in a chosen folder, with a chosen environment,
 * keeping both what it prints on stdout and what it says on stderr. */
#ifndef PATRON_TEST_CLIRUN_H
#define PATRON_TEST_CLIRUN_H

#include <stddef.h>

struct clirun {
    const char *cwd;        /* folder to run in; NULL: the test's */
    const char *const *env; /* "NAME=VALUE" sets, "NAME" unsets; NULL-terminated; may be NULL */
    unsigned as_uid;        /* when run as root: run the program as this user instead (0: don't) */
    char out[16384];        /* stdout, NUL-terminated (cut at the size) */
    char err[8192];         /* stderr, likewise */
};

/* Runs `$PATRON_BIN args...` (NULL-terminated). Returns the exit status. */
int clirun(struct clirun *r, const char *arg, ...);

#endif
