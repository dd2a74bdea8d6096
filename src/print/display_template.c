/* SPDX-License-Identifier: MIT */
/* The customer display's templates (receipts/display-*.display): two lines of text with
 * {{placeholders}}, checked when they are loaded so that a mistake is a sentence naming the file
 * and line, never a garbled display at the counter; and the frame a template gives for one set of
 * values. The member's first name is a placeholder of display-scan alone, and display-scan is
 * used only for members who agreed to be greeted by name. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patron/display.h"
#include "patron/error.h"

#define TEMPLATE_TEXT_MAX 2048
#define FIRST_NAME_MAX 64

static const char *const kind_names[PATRON_DISPLAY_KINDS] = {
    "display-idle", "display-scan", "display-scan-anonymous", "display-sale", "display-redemption",
};

static const char *const fields[] = {
    "store.name",   "member.first_name", "points.balance", "points.earned",
    "points.spent", "reward.name",       "tier.progress",
};
#define FIELD_COUNT (sizeof fields / sizeof fields[0])
#define FIELD_FIRST_NAME 1

struct patron_display_templates {
    char line[PATRON_DISPLAY_KINDS][PATRON_DISPLAY_ROWS][PATRON_DISPLAY_LINE_MAX];
};

static int field_index(const char *name, size_t n)
{
    for (size_t i = 0; i < FIELD_COUNT; i++)
        if (strlen(fields[i]) == n && memcmp(fields[i], name, n) == 0)
            return (int)i;
    return -1;
}

static int say(char *msg, size_t len, const char *file, unsigned line, const char *fmt,
               const char *arg)
{
    if (msg && len) {
        char what[200];
        snprintf(what, sizeof what, fmt, arg);
        snprintf(msg, len, "%s:%u: %s", file, line, what);
    }
    return PATRON_EINVAL;
}

/* Checks one display line's placeholders. */
static int check_line(const char *file, int scan, const char *s, size_t n, unsigned lineno,
                      char *msg, size_t len)
{
    char name[64];
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '}' && i + 1 < n && s[i + 1] == '}')
            return say(msg, len, file, lineno, "'}}' without an opening '{{'%s", "");
        if (s[i] != '{' || i + 1 >= n || s[i + 1] != '{')
            continue;
        const char *close = NULL;
        for (size_t k = i + 2; k + 1 < n && !close; k++)
            if (s[k] == '}' && s[k + 1] == '}')
                close = s + k;
        if (!close)
            return say(msg, len, file, lineno, "'{{' is not closed with '}}'%s", "");
        size_t fl = (size_t)(close - (s + i + 2));
        snprintf(name, sizeof name, "%.*s", (int)(fl < 60 ? fl : 60), s + i + 2);
        int f = field_index(s + i + 2, fl);
        if (f < 0)
            return say(msg, len, file, lineno,
                       "unknown placeholder {{%s}} (known: store.name, member.first_name, "
                       "points.balance, points.earned, points.spent, reward.name, tier.progress)",
                       name);
        if (f == FIELD_FIRST_NAME && !scan)
            return say(msg, len, file, lineno,
                       "{{%s}} belongs in display-scan only, which is shown only to members who "
                       "agreed to be greeted by name",
                       name);
        i = (size_t)(close - s) + 1;
    }
    return 0;
}

/* Parses a template's text into its two lines. */
static int parse(const char *file, int kind, const char *text,
                 char lines[PATRON_DISPLAY_ROWS][PATRON_DISPLAY_LINE_MAX], char *msg, size_t len)
{
    unsigned lineno = 0, rows = 0;
    memset(lines, 0, (size_t)PATRON_DISPLAY_ROWS * PATRON_DISPLAY_LINE_MAX);
    for (const char *s = text; *s;) {
        const char *end = strchr(s, '\n');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        lineno++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] != '#') {
            if (rows == PATRON_DISPLAY_ROWS)
                return say(msg, len, file, lineno,
                           "a display shows two lines; this is a third (start a comment with "
                           "'#')%s",
                           "");
            if (n >= PATRON_DISPLAY_LINE_MAX)
                return say(msg, len, file, lineno, "the line is longer than 159 bytes%s", "");
            for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
                    return say(msg, len, file, lineno, "a control character in the text%s", "");
            int rc = check_line(file, kind == PATRON_DISPLAY_SCAN, s, n, lineno, msg, len);
            if (rc)
                return rc;
            memcpy(lines[rows++], s, n);
        }
        s = end ? end + 1 : s + n;
    }
    if (rows == 0)
        return say(msg, len, file, lineno ? lineno : 1, "the template shows nothing%s", "");
    return 0;
}

int patron_display_template_check(const char *name, const char *text, char *msg, size_t msglen)
{
    char lines[PATRON_DISPLAY_ROWS][PATRON_DISPLAY_LINE_MAX];
    for (int k = 0; k < PATRON_DISPLAY_KINDS; k++)
        if (name && text && strcmp(name, kind_names[k]) == 0)
            return parse(name, k, text, lines, msg, msglen);
    if (msg && msglen)
        snprintf(msg, msglen, "no display template is named \"%s\"", name ? name : "");
    return PATRON_EINVAL;
}

static int read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    buf[0] = '\0';
    if (!f)
        return errno ? -errno : -EIO;
    size_t n = fread(buf, 1, cap - 1, f);
    int rc = ferror(f) ? -EIO : n == cap - 1 ? PATRON_ETOOBIG : 0;
    fclose(f);
    if (rc == 0 && memchr(buf, '\0', n))
        rc = PATRON_EINVAL;
    buf[n] = '\0';
    return rc;
}

/* Finds and parses one template: HOME/receipts, the installed set, the source tree. */
static int load_one(const char *home, int kind, patron_display_templates *t, char *msg, size_t len)
{
    const char *dirs[3] = {NULL, PATRON_RECEIPTS_INSTALL_DIR, PATRON_RECEIPTS_SOURCE_DIR};
    char home_dir[4096], path[4200], text[TEMPLATE_TEXT_MAX];
    if (home && snprintf(home_dir, sizeof home_dir, "%s/receipts", home) < (int)sizeof home_dir)
        dirs[0] = home_dir;
    for (size_t i = 0; i < 3; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/%s.display", dirs[i], kind_names[kind]);
        int rc = read_small(path, text, sizeof text);
        if (rc == -ENOENT || rc == -ENOTDIR)
            continue;
        if (rc) {
            if (msg && len)
                snprintf(msg, len, "%s: %s", path, patron_strerror(rc));
            return rc;
        }
        return parse(path, kind, text, t->line[kind], msg, len);
    }
    if (msg && len)
        snprintf(msg, len, "no display template \"%s\" (looked in %s/receipts and %s)",
                 kind_names[kind], home ? home : "$PATRON_HOME", PATRON_RECEIPTS_SOURCE_DIR);
    return PATRON_ENOTFOUND;
}

int patron_display_templates_load(const char *home, patron_display_templates **out, char *msg,
                                  size_t msglen)
{
    patron_display_templates *t = calloc(1, sizeof *t);
    int rc = t ? 0 : PATRON_ENOMEM;
    for (int k = 0; rc == 0 && k < PATRON_DISPLAY_KINDS; k++)
        rc = load_one(home, k, t, msg, msglen);
    if (rc) {
        free(t);
        return rc;
    }
    *out = t;
    return 0;
}

void patron_display_templates_free(patron_display_templates *t)
{
    free(t);
}

/* ---- rendering ---- */

/* 1240 -> "1,240"; -5 -> "-5". */
static void thousands(int64_t v, char *out, size_t cap)
{
    char digits[32];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int n = snprintf(digits, sizeof digits, "%" PRIu64, u), o = 0;
    if (v < 0 && (size_t)o + 1 < cap)
        out[o++] = '-';
    for (int i = 0; i < n && (size_t)o + 1 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0 && (size_t)o + 2 < cap)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* The first word of a name, never more. */
static void first_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    while (name && name[n] && name[n] != ' ' && name[n] != '\t' && n + 1 < cap)
        n++;
    /* never cut inside a UTF-8 sequence */
    while (n > 0 && name && ((unsigned char)name[n] & 0xc0) == 0x80)
        n--;
    memcpy(out, name ? name : "", n);
    out[n] = '\0';
}

static void value_of(int field, const struct patron_display_vars *v, char *out, size_t cap)
{
    char num[40];
    out[0] = '\0';
    switch (field) {
    case 0:
        snprintf(out, cap, "%s", v->store_name ? v->store_name : "");
        break;
    case FIELD_FIRST_NAME:
        if (v->greet_by_name)
            first_name(v->member_name, out, cap < FIRST_NAME_MAX ? cap : FIRST_NAME_MAX);
        break;
    case 2:
    case 3:
    case 4:
        thousands(field == 2   ? v->points
                  : field == 3 ? v->points_earned
                               : v->points_spent,
                  out, cap);
        break;
    case 5:
        snprintf(out, cap, "%s", v->reward_name ? v->reward_name : "");
        break;
    case 6: /* the next tier, else the next reward */
        if (v->next_tier && *v->next_tier) {
            thousands(v->points_to_next_tier, num, sizeof num);
            snprintf(out, cap, "%s more to %s", num, v->next_tier);
        } else if (v->next_reward && *v->next_reward) {
            thousands(v->points_to_next_reward, num, sizeof num);
            snprintf(out, cap, "%s more to %s", num, v->next_reward);
        }
        break;
    default:
        break;
    }
}

/* Appends n bytes, cutting only between UTF-8 sequences. */
static void append(char *dst, size_t *len, const char *s, size_t n)
{
    if (*len + n >= PATRON_DISPLAY_LINE_MAX) {
        n = PATRON_DISPLAY_LINE_MAX - 1 - *len;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst + *len, s, n);
    *len += n;
    dst[*len] = '\0';
}

static void expand(const char *tpl, const struct patron_display_vars *v, char *dst)
{
    size_t len = 0;
    char val[PATRON_DISPLAY_LINE_MAX];
    dst[0] = '\0';
    for (const char *s = tpl; *s;) {
        const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
        if (!open || !close) {
            append(dst, &len, s, strlen(s));
            return;
        }
        append(dst, &len, s, (size_t)(open - s));
        value_of(field_index(open + 2, (size_t)(close - open - 2)), v, val, sizeof val);
        append(dst, &len, val, strlen(val));
        s = close + 2;
    }
}

void patron_display_render(const patron_display_templates *t, enum patron_display_kind kind,
                           const struct patron_display_vars *v, struct patron_display_frame *out)
{
    memset(out, 0, sizeof *out);
    out->brightness = 4;
    if (!t || !v || kind < 0 || kind >= PATRON_DISPLAY_KINDS)
        return;
    if (kind == PATRON_DISPLAY_SCAN && (!v->greet_by_name || !v->member_name || !*v->member_name))
        kind = PATRON_DISPLAY_SCAN_ANONYMOUS;
    for (unsigned r = 0; r < PATRON_DISPLAY_ROWS; r++)
        expand(t->line[kind][r], v, out->line[r]);
}
