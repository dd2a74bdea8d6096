/* SPDX-License-Identifier: MIT */
/* The customer display's pure parts: the two command sets byte for byte, frames in the code
 * page with the printer's replacement rules, scrolling, the templates checked at load, and the
 * rule that only members who agreed are greeted by name (and then by the first name only). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "patron/display.h"
#include "patron/json.h"
#include "patron/member.h"
#include "patron/privacy.h"
#include "patron/terminal.h"

static const struct patron_display_profile *epson(void)
{
    const struct patron_display_profile *p = patron_display_profile_find("epson-dm-d");
    assert_non_null(p);
    return p;
}

static const struct patron_display_profile *cd5220(void)
{
    const struct patron_display_profile *p = patron_display_profile_find("cd5220");
    assert_non_null(p);
    return p;
}

static void test_profiles(void **state)
{
    (void)state;
    assert_int_equal(epson()->set, PATRON_DISPLAY_SET_ESCPOS);
    assert_int_equal(cd5220()->set, PATRON_DISPLAY_SET_CD5220);
    assert_null(patron_display_profile_find("vfd-9000"));
    assert_non_null(patron_display_profile_at(1));
    assert_null(patron_display_profile_at(2));
}

static void test_init_bytes(void **state)
{
    (void)state;
    uint8_t b[64];
    /* ESC @, ESC t 19 (CP858), US MD1, US C 0, US X 4, CLR */
    static const uint8_t want_epson[] = {0x1b, 0x40, 0x1b, 0x74, 19,   0x1f, 0x01,
                                         0x1f, 0x43, 0x00, 0x1f, 0x58, 4,    0x0c};
    /* ESC @, ESC DC1, ESC _ 0, ESC * 4, CLR */
    static const uint8_t want_cd[] = {0x1b, 0x40, 0x1b, 0x11, 0x1b, 0x5f,
                                      0x00, 0x1b, 0x2a, 4,    0x0c};
    size_t n = patron_display_encode_init(epson(), b, sizeof b);
    assert_int_equal(n, sizeof want_epson);
    assert_memory_equal(b, want_epson, n);
    n = patron_display_encode_init(cd5220(), b, sizeof b);
    assert_int_equal(n, sizeof want_cd);
    assert_memory_equal(b, want_cd, n);
    assert_int_equal(patron_display_encode_init(epson(), b, 5), 0); /* too small: nothing */
    assert_int_equal(patron_display_encode_init(NULL, b, sizeof b), 0);
}

static void frame_of(struct patron_display_frame *f, const char *l1, const char *l2)
{
    memset(f, 0, sizeof *f);
    snprintf(f->line[0], sizeof f->line[0], "%s", l1);
    snprintf(f->line[1], sizeof f->line[1], "%s", l2);
    f->brightness = 4;
}

static void test_frame_bytes(void **state)
{
    (void)state;
    struct patron_display_frame f;
    uint8_t b[128];
    frame_of(&f, "Caf\xc3\xa9", "2 \xe2\x82\xac");
    size_t n = patron_display_encode_frame(epson(), &f, 0, b, sizeof b);
    assert_int_equal(n, 3 + 2 * (4 + 20));
    assert_memory_equal(b, ((const uint8_t[]){0x1f, 0x58, 4, 0x1f, 0x24, 1, 1}), 7);
    assert_memory_equal(b + 7, "Caf\x82                ", 20); /* é is 0x82 in CP858 */
    assert_memory_equal(b + 27, ((const uint8_t[]){0x1f, 0x24, 1, 2}), 4);
    assert_memory_equal(b + 31, "2 \xd5                 ", 20); /* € is 0xD5 in CP858 */
    /* CD5220: CP437 has no euro sign, so the printer's rule spells it EUR */
    n = patron_display_encode_frame(cd5220(), &f, 0, b, sizeof b);
    assert_memory_equal(b, ((const uint8_t[]){0x1b, 0x2a, 4, 0x1b, 0x6c, 1, 1}), 7);
    assert_memory_equal(b + 31, "2 EUR               ", 20);
    /* no control byte from text reaches the display */
    frame_of(&f, "a\x1b@b", "");
    n = patron_display_encode_frame(epson(), &f, 0, b, sizeof b);
    assert_memory_equal(b + 7, "a?@b", 4);
    /* blank: clear and dim */
    f.blank = 1;
    n = patron_display_encode_frame(cd5220(), &f, 0, b, sizeof b);
    assert_int_equal(n, 4);
    assert_memory_equal(b, ((const uint8_t[]){0x0c, 0x1b, 0x2a, 1}), 4);
}

static void test_scrolling(void **state)
{
    (void)state;
    struct patron_display_frame f;
    uint8_t b[128];
    frame_of(&f, "Hello Ada - 1,240 points", "short");
    /* 24 cells + 3 blanks go round */
    assert_int_equal(patron_display_frame_steps(epson(), &f), 27);
    patron_display_encode_frame(epson(), &f, 0, b, sizeof b);
    assert_memory_equal(b + 7, "Hello Ada - 1,240 po", 20);
    patron_display_encode_frame(epson(), &f, 6, b, sizeof b);
    assert_memory_equal(b + 7, "Ada - 1,240 points  ", 20);
    assert_memory_equal(b + 31, "short               ", 20); /* a short line stays put */
    patron_display_encode_frame(epson(), &f, 22, b, sizeof b);
    assert_memory_equal(b + 7, "ts   Hello Ada - 1,2", 20);
    patron_display_encode_frame(epson(), &f, 27, b, sizeof b); /* round again */
    assert_memory_equal(b + 7, "Hello Ada - 1,240 po", 20);
    frame_of(&f, "fits", "");
    assert_int_equal(patron_display_frame_steps(epson(), &f), 1);
}

static void test_template_check(void **state)
{
    (void)state;
    char msg[300];
    assert_int_equal(patron_display_template_check("display-sale", "# c\n+{{points.earned}}\nB\n",
                                                   msg, sizeof msg),
                     0);
    assert_int_equal(
        patron_display_template_check("display-sale", "{{points.erned}}\n", msg, sizeof msg),
        PATRON_EINVAL);
    assert_non_null(strstr(msg, "display-sale:1: unknown placeholder {{points.erned}}"));
    assert_int_equal(patron_display_template_check("display-sale", "a\nb\nc\n", msg, sizeof msg),
                     PATRON_EINVAL);
    assert_non_null(strstr(msg, "display-sale:3: a display shows two lines"));
    assert_int_equal(
        patron_display_template_check("display-idle", "x {{store.name\n", msg, sizeof msg),
        PATRON_EINVAL);
    assert_non_null(strstr(msg, "not closed"));
    /* the first name only where consent is checked */
    assert_int_equal(patron_display_template_check("display-scan-anonymous",
                                                   "Hi {{member.first_name}}\n", msg, sizeof msg),
                     PATRON_EINVAL);
    assert_non_null(strstr(msg, "belongs in display-scan only"));
    assert_int_equal(patron_display_template_check("display-scan", "Hi {{member.first_name}}\n",
                                                   msg, sizeof msg),
                     0);
    assert_int_equal(
        patron_display_template_check("display-scan", "# only a comment\n", msg, sizeof msg),
        PATRON_EINVAL);
}

static void test_render(void **state)
{
    (void)state;
    patron_display_templates *t = NULL;
    struct patron_display_frame f;
    char msg[300];
    assert_int_equal(patron_display_templates_load(NULL, &t, msg, sizeof msg), 0);
    struct patron_display_vars v = {.store_name = "Corner Shop",
                                    .member_name = "Ada Lovelace King",
                                    .greet_by_name = 1,
                                    .points = 1240,
                                    .next_tier = "Gold",
                                    .points_to_next_tier = 260};
    patron_display_render(t, PATRON_DISPLAY_IDLE, &v, &f);
    assert_string_equal(f.line[0], "Welcome to");
    assert_string_equal(f.line[1], "Corner Shop");
    patron_display_render(t, PATRON_DISPLAY_SCAN, &v, &f);
    assert_string_equal(f.line[0], "Hello Ada \xe2\x80\x94 1,240 points");
    assert_string_equal(f.line[1], "260 more to Gold");
    assert_null(strstr(f.line[0], "Lovelace"));
    /* a member who did not agree: points, no name */
    v.greet_by_name = 0;
    patron_display_render(t, PATRON_DISPLAY_SCAN, &v, &f);
    assert_string_equal(f.line[0], "1,240 points");
    assert_null(strstr(f.line[0], "Ada"));
    assert_null(strstr(f.line[1], "Ada"));
    /* at the top tier, the progress is to the next reward */
    v.next_tier = NULL;
    v.next_reward = "Free coffee";
    v.points_to_next_reward = 60;
    patron_display_render(t, PATRON_DISPLAY_SCAN, &v, &f);
    assert_string_equal(f.line[1], "60 more to Free coffee");
    v.points_earned = 1234567;
    patron_display_render(t, PATRON_DISPLAY_SALE, &v, &f);
    assert_string_equal(f.line[0], "+1,234,567 points");
    assert_string_equal(f.line[1], "Balance 1,240");
    v.reward_name = "Free coffee";
    v.points_spent = 500;
    patron_display_render(t, PATRON_DISPLAY_REDEMPTION, &v, &f);
    assert_string_equal(f.line[0], "Redeemed Free coffee");
    assert_string_equal(f.line[1], "500 points used");
    patron_display_templates_free(t);
}

/* A shop's own copy in HOME/receipts is read first, and a bad one is refused with its file. */
static void test_load_home(void **state)
{
    (void)state;
    char dir[] = "/tmp/patron-display-XXXXXX", path[256], msg[300];
    patron_display_templates *t = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/receipts", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/receipts/display-idle.display", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("Hi {{member.first_name}}\n", f);
    fclose(f);
    assert_int_equal(patron_display_templates_load(dir, &t, msg, sizeof msg), PATRON_EINVAL);
    assert_non_null(strstr(msg, "/receipts/display-idle.display:1:"));
    test_rmtree(dir);
}

/* ---- the till's binding and the member's answer ---- */

static void test_binding(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_terminal till;
    struct patron_display_binding b;
    char token[PATRON_TOKEN_LEN + 1];
    test_store_open(&t);
    assert_int_equal(patron_terminal_add(t.s, "till-1", PATRON_ROLE_CASHIER, &till, token), 0);
    assert_int_equal(patron_terminal_display_get(t.s, till.terminal_id, &b), 0);
    assert_string_equal(b.spec, "none");
    assert_string_equal(b.profile, "epson-dm-d");
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "usb:0dd4:0201", "cd5220"), 0);
    assert_int_equal(patron_terminal_display_get(t.s, till.terminal_id, &b), 0);
    assert_string_equal(b.spec, "usb:0dd4:0201");
    assert_string_equal(b.profile, "cd5220");
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "file:/dev/ttyUSB0", NULL), 0);
    assert_int_equal(patron_terminal_display_get(t.s, till.terminal_id, &b), 0);
    assert_string_equal(b.profile, "cd5220"); /* kept */
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "usb:0dd4", NULL), PATRON_EINVAL);
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "lpt:1", NULL), PATRON_EINVAL);
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "virtual:", NULL), PATRON_EINVAL);
    assert_int_equal(patron_terminal_display_set(t.s, "till-1", "none", "vfd"), PATRON_EINVAL);
    assert_int_equal(patron_terminal_display_set(t.s, "till-9", "none", NULL), PATRON_ENOTFOUND);
    assert_int_equal(patron_terminal_display_get(t.s, 999, &b), PATRON_ENOTFOUND);
    test_store_close(&t);
}

static void test_greet_flag(void **state)
{
    (void)state;
    struct test_store t;
    struct patron_member m;
    json_t *o = NULL;
    test_store_open(&t);
    struct patron_enrollment in = {.name = "Ada Lovelace"};
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    assert_int_equal(m.greet_by_name, 0); /* off unless asked */
    in.name = "Grace Hopper";
    in.greet_by_name = 1;
    assert_int_equal(patron_member_enroll(t.s, &in, &m), 0);
    assert_int_equal(m.greet_by_name, 1);
    assert_int_equal(patron_member_by_id(t.s, m.member_id, &m), 0);
    assert_int_equal(m.greet_by_name, 1);
    assert_int_equal(patron_json_member(&m, &o), 0);
    assert_true(json_is_true(json_object_get(o, "greet_by_name")));
    json_decref(o);
    /* an erased member is greeted by no name, whatever they once said */
    assert_int_equal(patron_member_erase(t.s, m.card, "test"), 0);
    assert_int_equal(patron_member_by_id(t.s, m.member_id, &m), 0);
    assert_int_equal(m.greet_by_name, 0);
    test_store_close(&t);
}

/* ---- outputs ---- */

static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* The virtual display's frames are what the bytes sent leave on the glass. */
static void test_virtual_frames(void **state)
{
    (void)state;
    char dir[] = "/tmp/patron-vdisplay-XXXXXX", spec[64], path[128], text[256], detail[200];
    uint8_t want[256], got[256];
    struct patron_display_frame f;
    patron_display *d = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(spec, sizeof spec, "virtual:%s/glass", dir);
    for (size_t k = 0; k < 2; k++) {
        const struct patron_display_profile *p = patron_display_profile_at(k);
        assert_int_equal(patron_display_open(spec, p, &d, detail, sizeof detail), 0);
        frame_of(&f, "Hello Ada - 1,240 points", "Caf\xc3\xa9 \xc3\x9f");
        assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
        assert_int_equal(patron_display_show(d, &f, 6, detail, sizeof detail), 0);
        f.blank = 1;
        assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
        patron_display_close(d);
        snprintf(path, sizeof path, "%s/glass/frame-%06zu.txt", dir, 3 * k + 1);
        read_file(path, text, sizeof text);
        assert_string_equal(text, "Hello Ada - 1,240 po\nCaf\xc3\xa9 \xc3\x9f\n");
        snprintf(path, sizeof path, "%s/glass/frame-%06zu.txt", dir, 3 * k + 2);
        read_file(path, text, sizeof text);
        assert_string_equal(text, "Ada - 1,240 points\nCaf\xc3\xa9 \xc3\x9f\n");
        snprintf(path, sizeof path, "%s/glass/frame-%06zu.txt", dir, 3 * k + 3);
        read_file(path, text, sizeof text);
        assert_string_equal(text, "\n\n");
        snprintf(path, sizeof path, "%s/glass/frame-%06zu.bin", dir, 3 * k + 1);
        f.blank = 0;
        size_t n = patron_display_encode_frame(p, &f, 0, want, sizeof want);
        assert_int_equal(read_file(path, (char *)got, sizeof got), n);
        assert_memory_equal(got, want, n);
        snprintf(path, sizeof path, "%s/glass/frame-%06zu.png", dir, 3 * k + 1);
        assert_int_equal(access(path, R_OK), 0);
        /* the next open counts on */
        snprintf(spec, sizeof spec, "virtual:%s/glass", dir);
    }
    test_rmtree(dir);
}

/* A session's bytes: set-up, a scan frame, one scroll step, the idle timeout's blank. */
static void session(patron_display *d)
{
    struct patron_display_frame f;
    char detail[200];
    frame_of(&f, "Hello Ada \xe2\x80\x94 1,240 points", "260 more to Gold \xe2\x82\xac");
    assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
    assert_int_equal(patron_display_show(d, &f, 1, detail, sizeof detail), 0);
    f.blank = 1;
    assert_int_equal(patron_display_show(d, &f, 0, detail, sizeof detail), 0);
}

static void check_golden(const char *name, const uint8_t *got, size_t n)
{
    char path[1024];
    static uint8_t want[4096];
    snprintf(path, sizeof path, "%s/tests/golden/%s", getenv("PATRON_SOURCE_DIR"), name);
    if (getenv("PATRON_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(got, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
    size_t m = read_file(path, (char *)want, sizeof want);
    assert_int_equal(m, n);
    assert_memory_equal(want, got, n);
}

/* Everything the master side of a pseudo-terminal can read within a quiet spell. */
static size_t drain_pty(int master, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    struct pollfd p = {.fd = master, .events = POLLIN};
    while (n < cap && poll(&p, 1, 500) == 1) {
        ssize_t r = read(master, buf + n, cap - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    return n;
}

/* "file:DEV" through a pseudo-terminal: the bytes a serial display receives, byte for byte. */
static void test_serial_golden(void **state)
{
    (void)state;
    static const char *const golden[] = {"display-epson-dm-d.bin", "display-cd5220.bin"};
    for (size_t k = 0; k < 2; k++) {
        char spec[128], detail[200];
        uint8_t got[4096];
        patron_display *d = NULL;
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        assert_true(master >= 0);
        assert_int_equal(grantpt(master), 0);
        assert_int_equal(unlockpt(master), 0);
        snprintf(spec, sizeof spec, "file:%s", ptsname(master));
        int rc = patron_display_open(spec, patron_display_profile_at(k), &d, detail, sizeof detail);
        if (rc != 0)
            fail_msg("%s: %s", spec, detail);
        session(d);
        size_t n = drain_pty(master, got, sizeof got);
        patron_display_close(d);
        close(master);
        check_golden(golden[k], got, n);
    }
}

/* The patron program: bind, list, test pattern on the virtual display; the enrol flag. */
static void test_cli(void **state)
{
    (void)state;
    char dir[] = "/tmp/patron-cdisplay-XXXXXX", db[128], spec[128], out[8192], path[160];
    char text[256];
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/patron.db", dir);
    snprintf(spec, sizeof spec, "virtual:%s/pole", dir);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "init", (char *)NULL), 0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "add", "t1", "--role",
                                     "cashier", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "display", "t1",
                                     "virtual:x", "--profile", "vfd", (char *)NULL),
                     64);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "display", "t1", spec,
                                     "--profile", "cd5220", (char *)NULL),
                     0);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "terminal", "list", (char *)NULL),
                     0);
    assert_non_null(strstr(out, "display virtual:"));
    assert_non_null(strstr(out, "(cd5220)"));
    assert_int_equal(
        test_run_patron(out, sizeof out, "--db", db, "display", "test", "t1", (char *)NULL), 0);
    snprintf(path, sizeof path, "%s/pole/frame-000001.txt", dir);
    read_file(path, text, sizeof text);
    /* CD5220 is CP437: no euro sign (EUR), no l with stroke (l) */
    assert_string_equal(text,
                        "12345678901234567890\n\xc3\xa9\xc3\xa8\xc3\xbc\xc3\x9f EUR l ABC test\n");
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "enroll",
                                     "--name", "Ada", "--greet-by-name", (char *)NULL),
                     0);
    json_t *o = json_loads(out, 0, NULL);
    assert_non_null(o);
    char card[32];
    snprintf(card, sizeof card, "%s", json_string_value(json_object_get(o, "card")));
    json_decref(o);
    assert_int_equal(test_run_patron(out, sizeof out, "--db", db, "--json", "member", "show", card,
                                     (char *)NULL),
                     0);
    o = json_loads(out, 0, NULL);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "greet_by_name")));
    json_decref(o);
    test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profiles),       cmocka_unit_test(test_init_bytes),
        cmocka_unit_test(test_frame_bytes),    cmocka_unit_test(test_scrolling),
        cmocka_unit_test(test_template_check), cmocka_unit_test(test_render),
        cmocka_unit_test(test_load_home),      cmocka_unit_test(test_binding),
        cmocka_unit_test(test_greet_flag),     cmocka_unit_test(test_virtual_frames),
        cmocka_unit_test(test_serial_golden),  cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
