/* SPDX-License-Identifier: MIT */
/* patron-usb-emu: runs any command against an emulated USB receipt printer and saves the bytes
 * the printer received, e.g. `patron-usb-emu --out job.bin -- patron --printer usb ...`. It
 * makes the umockdev testbed, starts the command under the umockdev preload library, answers
 * the command's USB traffic from its own worker thread, and exits with the command's status. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "usb_printer_emu.h"

#define PRELOAD "libumockdev-preload.so.0"
#define CAPTURE_MAX (64u * 1024 * 1024)

static void usage(FILE *to)
{
    fputs("usage: patron-usb-emu [--out FILE] [--vid HEX] [--pid HEX] [--ep-out HEX] "
          "[--ep-in HEX]\n"
          "         [--no-in] [--vendor-class] [--paper-end] [--near-end] [--cover-open] "
          "[--offline]\n"
          "         [--usblp] [--busy] [--silent] [--hang] [--unplug-after N] [--stats]\n"
          "         -- COMMAND [ARGS...]\n\n"
          "Runs COMMAND with an emulated USB printer (default 0416:5011, endpoints 01/82) and\n"
          "writes what it received to FILE. COMMAND runs under " PRELOAD ";\n"
          "with a gcc ASan build of COMMAND put the ASan runtime in LD_PRELOAD first:\n"
          "  LD_PRELOAD=$(gcc -print-file-name=libasan.so) patron-usb-emu -- COMMAND\n"
          "Exits with COMMAND's status (2 on a usage error, 1 if the emulator failed).\n",
          to);
}

static int parse_hex(const char *s, unsigned max, unsigned *out)
{
    char *e = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &e, 16);
    if (errno || e == s || *e || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

struct options {
    const char *out;
    int stats;
    struct usbemu_printer_config cfg;
};

static int parse_flag(struct options *o, int opt, const char *arg)
{
    unsigned v = 0;
    char *e = NULL;
    switch (opt) {
    case 'o':
        o->out = arg;
        return 0;
    case 'V':
        return parse_hex(arg, 0xffff, &v) ? -1 : (o->cfg.vid = (uint16_t)v, 0);
    case 'P':
        return parse_hex(arg, 0xffff, &v) ? -1 : (o->cfg.pid = (uint16_t)v, 0);
    case 'O':
        return parse_hex(arg, 0x0f, &v) || !v ? -1 : (o->cfg.ep_out = (uint8_t)v, 0);
    case 'I':
        return parse_hex(arg, 0x8f, &v) || !(v & 0x80) || !(v & 0x0f)
                   ? -1
                   : (o->cfg.ep_in = (uint8_t)v, 0);
    case 'n':
        o->cfg.no_in_endpoint = 1;
        return 0;
    case 'c':
        o->cfg.iface_class = 0xff;
        return 0;
    case 'p':
        o->cfg.status |= USBEMU_PAPER_END;
        return 0;
    case 'e':
        o->cfg.status |= USBEMU_PAPER_NEAR_END;
        return 0;
    case 'C':
        o->cfg.status |= USBEMU_COVER_OPEN;
        return 0;
    case 'f':
        o->cfg.status |= USBEMU_OFFLINE;
        return 0;
    case 'u':
        o->cfg.usblp_bound = 1;
        return 0;
    case 'b':
        o->cfg.faults |= USBEMU_FAULT_BUSY;
        return 0;
    case 's':
        o->cfg.faults |= USBEMU_FAULT_SILENT;
        return 0;
    case 'h':
        o->cfg.faults |= USBEMU_FAULT_HANG_OUT;
        return 0;
    case 'S':
        o->stats = 1;
        return 0;
    case 'U':
        errno = 0;
        o->cfg.unplug_after = strtoull(arg, &e, 10);
        o->cfg.unplug = 1;
        return errno || e == arg || *e ? -1 : 0;
    default:
        return -1;
    }
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longs[] = {{"out", required_argument, 0, 'o'},
                                          {"vid", required_argument, 0, 'V'},
                                          {"pid", required_argument, 0, 'P'},
                                          {"ep-out", required_argument, 0, 'O'},
                                          {"ep-in", required_argument, 0, 'I'},
                                          {"no-in", no_argument, 0, 'n'},
                                          {"vendor-class", no_argument, 0, 'c'},
                                          {"paper-end", no_argument, 0, 'p'},
                                          {"near-end", no_argument, 0, 'e'},
                                          {"cover-open", no_argument, 0, 'C'},
                                          {"offline", no_argument, 0, 'f'},
                                          {"usblp", no_argument, 0, 'u'},
                                          {"busy", no_argument, 0, 'b'},
                                          {"silent", no_argument, 0, 's'},
                                          {"hang", no_argument, 0, 'h'},
                                          {"unplug-after", required_argument, 0, 'U'},
                                          {"stats", no_argument, 0, 'S'},
                                          {"help", no_argument, 0, 'H'},
                                          {0, 0, 0, 0}};
    int opt;
    o->cfg.capture_max = CAPTURE_MAX;
    while ((opt = getopt_long(argc, argv, "+", longs, NULL)) != -1) {
        if (opt == 'H') {
            usage(stdout);
            exit(0);
        }
        if (parse_flag(o, opt, optarg) != 0) {
            fprintf(stderr, "patron-usb-emu: bad option or value (%s)\n", argv[optind - 1]);
            return -1;
        }
    }
    return optind < argc ? optind : -1;
}

/* The child runs under the preload; an ASan runtime already in LD_PRELOAD must stay first. */
static void run_child(char **cmd)
{
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old) {
        setenv("LD_PRELOAD", PRELOAD, 1);
    } else if (!strstr(old, "libumockdev-preload")) {
        size_t len = strlen(old) + sizeof PRELOAD + 1;
        char *both = malloc(len);
        if (!both)
            _exit(127);
        snprintf(both, len, "%s:%s", old, PRELOAD);
        setenv("LD_PRELOAD", both, 1);
    }
    execvp(cmd[0], cmd);
    fprintf(stderr, "patron-usb-emu: cannot run %s: %s\n", cmd[0], strerror(errno));
    _exit(127);
}

static int save(usbemu_printer *p, const char *path)
{
    size_t n = usbemu_printer_received(p, NULL, 0);
    uint8_t *buf = malloc(n ? n : 1);
    FILE *f = NULL;
    int r = -1;
    if (!buf)
        goto out;
    size_t got = usbemu_printer_received(p, buf, n); /* more may have come since */
    n = got < n ? got : n;
    if (!(f = fopen(path, "wb")) || fwrite(buf, 1, n, f) != n)
        goto out;
    r = 0;
out:
    if (f && fclose(f) != 0)
        r = -1;
    if (r != 0)
        fprintf(stderr, "patron-usb-emu: cannot write %s: %s\n", path, strerror(errno));
    free(buf);
    return r;
}

static void print_stats(usbemu_printer *p)
{
    struct usbemu_stats s;
    usbemu_printer_stats(p, &s);
    fprintf(stderr,
            "patron-usb-emu: received %zu bytes; %u status requests; usblp detached %u, "
            "reattached %u; %u claims; %u transfers cancelled%s\n",
            usbemu_printer_received(p, NULL, 0), s.status_requests, s.detaches, s.reattaches,
            s.claims, s.discarded, s.unplugged ? "; unplugged" : "");
}

static int wait_child(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR)
            return 1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
    struct options o = {0};
    usbemu_printer *p = NULL;
    int cmd = parse(argc, argv, &o), status = 1;
    if (cmd < 0) {
        usage(stderr);
        return 2;
    }
    usbemu *e = usbemu_new();
    if (!e || usbemu_add_printer(e, &o.cfg, &p) != 0) {
        fprintf(stderr, "patron-usb-emu: cannot create the emulated printer\n");
        usbemu_free(e);
        return 1;
    }
    signal(SIGINT, SIG_IGN); /* Ctrl-C reaches the command; we save what came before it */
    pid_t pid = fork();
    if (pid == 0)
        run_child(argv + cmd);
    if (pid > 0)
        status = wait_child(pid);
    else
        fprintf(stderr, "patron-usb-emu: fork: %s\n", strerror(errno));
    if (o.out && save(p, o.out) != 0 && status == 0)
        status = 1;
    if (o.stats)
        print_stats(p);
    usbemu_free(e);
    return status;
}
