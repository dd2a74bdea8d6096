/* SPDX-License-Identifier: MIT */
/* What each source's export calls Patron's fields (the presets), the formats' names, and the
 * phone rule: numbers are kept in E.164. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "migrate/migrate_internal.h"
#include "patron/error.h"

static const char *const field_names[PATRON__F_COUNT] = {
    "ignore", "card",    "phone", "email",  "name", "birthday",        "consent",
    "points", "expires", "ref",   "joined", "tier", "lifetime_points", "consent_date",
};

struct column_name {
    const char *column;
    enum patron__import_field field;
};

static const struct column_name square_columns[] = {
    {"phone_number", PATRON__F_PHONE},
    {"balance", PATRON__F_POINTS},
    {"given_name", PATRON__F_NAME},
    {"email_address", PATRON__F_EMAIL},
    {"lifetime_points", PATRON__F_LIFETIME},
    {"enrolled_at", PATRON__F_JOINED},
    {"id", PATRON__F_REF},
    {NULL, PATRON__F_IGNORE},
};
static const struct column_name smile_columns[] = {
    {"email", PATRON__F_EMAIL},
    {"points", PATRON__F_POINTS},
    {"first_name", PATRON__F_NAME},
    {NULL, PATRON__F_IGNORE},
};
static const struct column_name odoo_columns[] = {
    {"code", PATRON__F_CARD},       {"points", PATRON__F_POINTS},
    {"partner_id", PATRON__F_NAME}, {"expiration_date", PATRON__F_EXPIRES},
    {NULL, PATRON__F_IGNORE},
};
static const struct column_name open_loyalty_columns[] = {
    {"loyaltycardnumber", PATRON__F_CARD},
    {"phone", PATRON__F_PHONE},
    {"email", PATRON__F_EMAIL},
    {"firstname", PATRON__F_NAME},
    {"points", PATRON__F_POINTS},
    {"customerid", PATRON__F_REF},
    {NULL, PATRON__F_IGNORE},
};

int patron__import_field_named(const char *name)
{
    for (int i = 0; i < PATRON__F_COUNT; i++)
        if (strcasecmp(name, field_names[i]) == 0)
            return i;
    return -1;
}

enum patron__import_field patron__import_column(enum patron_import_format f, const char *column)
{
    const struct column_name *t = NULL;
    int generic;
    switch (f) {
    case PATRON_IMPORT_SQUARE:
        t = square_columns;
        break;
    case PATRON_IMPORT_SMILE:
        t = smile_columns;
        break;
    case PATRON_IMPORT_ODOO:
        t = odoo_columns;
        break;
    case PATRON_IMPORT_OPEN_LOYALTY:
        t = open_loyalty_columns;
        break;
    case PATRON_IMPORT_GENERIC:
        break;
    }
    for (; t && t->column; t++)
        if (strcasecmp(column, t->column) == 0)
            return t->field;
    generic = patron__import_field_named(column);
    return f == PATRON_IMPORT_GENERIC && generic > 0 ? (enum patron__import_field)generic
                                                     : PATRON__F_IGNORE;
}

int patron_import_format_parse(const char *name, enum patron_import_format *out)
{
    static const char *const names[] = {"generic", "square", "smile", "odoo", "open-loyalty"};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum patron_import_format)i;
            return 0;
        }
    return PATRON_EINVAL;
}

static int country_ok(const char *cc)
{
    size_t n = cc ? strlen(cc) : 0;
    if (n < 1 || n > 3 || cc[0] == '0')
        return 0;
    return strspn(cc, "0123456789") == n;
}

int patron_import_phone_e164(const char *in, const char *country_code, char out[17])
{
    char digits[32];
    size_t n = 0;
    int plus = 0;
    for (const char *p = in; p && *p; p++) {
        if (*p == '+' && n == 0 && !plus)
            plus = 1;
        else if (isdigit((unsigned char)*p) && n < sizeof digits - 1)
            digits[n++] = *p;
        else if (!strchr(" -.()/", *p))
            return PATRON_EINVAL;
    }
    digits[n] = '\0';
    const char *national = NULL, *international = digits;
    if (!plus && digits[0] == '0' && digits[1] == '0')
        international = digits + 2;
    else if (!plus)
        national = digits[0] == '0' ? digits + 1 : digits, international = NULL;
    if (national && !country_ok(country_code))
        return PATRON_EINVAL;
    char e164[48];
    int len = national ? snprintf(e164, sizeof e164, "+%s%s", country_code, national)
                       : snprintf(e164, sizeof e164, "+%s", international);
    if (len < 9 || len > 16 || e164[1] == '0')
        return PATRON_EINVAL;
    memcpy(out, e164, (size_t)len + 1);
    return 0;
}
