/* SPDX-License-Identifier: MIT */
/* The customer display kept with its till: the output spec ("usb:VID:PID", "file:DEV",
 * "virtual:DIR", "none") and the profile that chooses the command set, checked before they are
 * stored so that `patron serve` never meets a binding it cannot parse. */
#include <stdlib.h>
#include <string.h>

#include "core/store_internal.h"
#include "patron/display.h"

static int hex16(const char *s, size_t n)
{
    if (n == 0 || n > 4)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    return 1;
}

int patron_display_spec_check(const char *spec)
{
    size_t n = spec ? strlen(spec) : 0;
    if (n == 0 || n > PATRON_DISPLAY_SPEC_MAX)
        return PATRON_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)spec[i] < 0x20 || spec[i] == 0x7f)
            return PATRON_EINVAL;
    if (strcmp(spec, "none") == 0)
        return 0;
    if (strncmp(spec, "usb:", 4) == 0) {
        const char *colon = strchr(spec + 4, ':');
        return colon && hex16(spec + 4, (size_t)(colon - spec - 4)) &&
                       hex16(colon + 1, strlen(colon + 1))
                   ? 0
                   : PATRON_EINVAL;
    }
    if (strncmp(spec, "file:", 5) == 0 || strncmp(spec, "virtual:", 8) == 0)
        return spec[strcspn(spec, ":") + 1] ? 0 : PATRON_EINVAL;
    return PATRON_EINVAL;
}

int patron_terminal_display_set(patron_store *s, const char *till, const char *spec,
                                const char *profile)
{
    if (patron_display_spec_check(spec) != 0)
        return patron__fail(s, PATRON_EINVAL,
                            "a display is usb:VID:PID, file:DEVICE, virtual:DIR or none");
    if (profile && !patron_display_profile_find(profile))
        return patron__fail(s, PATRON_EINVAL, "the display profile is epson-dm-d or cd5220");
    sqlite3_stmt *st = patron__stmt(s, "UPDATE terminals SET display_spec = ?2,"
                                       " display_profile = coalesce(?3, display_profile)"
                                       " WHERE name = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_text(st, 1, till ? till : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
    if (profile)
        sqlite3_bind_text(st, 3, profile, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    int err = patron__step_done(s, st);
    if (err == 0 && sqlite3_changes(s->db) == 0)
        err = patron__fail(s, PATRON_ENOTFOUND, "no till is named '%s'", till ? till : "");
    return err;
}

int patron_terminal_display_get(patron_store *s, int64_t terminal_id,
                                struct patron_display_binding *out)
{
    sqlite3_stmt *st =
        patron__stmt(s, "SELECT display_spec, display_profile FROM terminals WHERE id = ?1");
    if (!st)
        return PATRON_EDB;
    sqlite3_bind_int64(st, 1, terminal_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        patron__copy(out->spec, sizeof out->spec, (const char *)sqlite3_column_text(st, 0));
        patron__copy(out->profile, sizeof out->profile, (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? patron__fail(s, PATRON_ENOTFOUND, "no till has the id %lld",
                                            (long long)terminal_id)
                             : patron__db_err(s, rc);
}
