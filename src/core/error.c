/* SPDX-License-Identifier: MIT */
/* Messages, names and kinds of libpatron's error codes, all generated from the one table in
 * include/patron/error.h; operating-system errors (-errno) fall through to strerror. */
#include "patron/error.h"

#include <errno.h>
#include <string.h>

static int is_patron_code(int err)
{
    return err >= PATRON__ERRNO_MIN && err <= PATRON__ERRNO_MAX;
}

const char *patron_strerror(int err)
{
    switch (err) {
    case PATRON_OK:
        return "success";
#define PATRON_XX(name, num, kind, msg)                                                            \
    case PATRON_##name:                                                                            \
        return msg;
        PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
    default:
        break;
    }
    if (err < 0 && !is_patron_code(err)) {
        if (err == -ENOSPC)
            return "disk is full; nothing was written";
        return strerror(-err);
    }
    return "unknown error";
}

const char *patron_err_name(int err)
{
    switch (err) {
    case PATRON_OK:
        return "OK";
#define PATRON_XX(name, num, kind, msg)                                                            \
    case PATRON_##name:                                                                            \
        return #name;
        PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
    case -ENOENT:
        return "ENOENT";
    case -EACCES:
        return "EACCES";
    case -EBUSY:
        return "EBUSY";
    case -ENOSPC:
        return "ENOSPC";
    case -ETIMEDOUT:
        return "ETIMEDOUT";
    case -ENODEV:
        return "ENODEV";
    default:
        return "EUNKNOWN";
    }
}

enum patron_error_kind patron_err_kind(int err)
{
    switch (err) {
    case PATRON_OK:
        return PATRON_KIND_OK;
#define PATRON_XX(name, num, kind, msg)                                                            \
    case PATRON_##name:                                                                            \
        return PATRON_KIND_##kind;
        PATRON_ERRNO_MAP(PATRON_XX)
#undef PATRON_XX
    default:
        return PATRON_KIND_INTERNAL;
    }
}
