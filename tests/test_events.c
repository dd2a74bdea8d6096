/* SPDX-License-Identifier: MIT */
/* The event bus behind GET /v1/events, without HTTP: a slow reader loses its oldest events and
 * is told how many, the publisher never waits for it; events go to their till only (till 0 to
 * every till); a quiet stream gets heartbeats; a till has a bounded number of streams; closing
 * the bus ends every stream. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "events.h"
#include "patron/error.h"

/* Reads one event (or comment) of the stream into buf. */
static const char *next(struct patron_stream *st, char *buf, size_t cap)
{
    ssize_t n = patron__events_read(st, buf, cap - 1);
    assert_true(n > 0);
    buf[n] = '\0';
    return buf;
}

static void a_slow_reader_loses_the_oldest_with_a_note(void **state)
{
    (void)state;
    struct patron_server *srv = patron__events_new(60000);
    struct patron_stream *st = NULL;
    char buf[4096], want[64];
    assert_int_equal(patron__events_subscribe(srv, 7, -1, &st), 0);
    for (int i = 1; i <= EVENTS_QUEUE + 36; i++) {
        json_t *o = json_pack("{s:i}", "n", i);
        patron__events_publish(srv, 7, "sale", o); /* never waits for the reader */
        json_decref(o);
    }
    assert_non_null(strstr(next(st, buf, sizeof buf), "event: lost\ndata: {\"lost\":36}"));
    assert_non_null(strstr(next(st, buf, sizeof buf), "\"n\":37,"));
    assert_non_null(strstr(buf, "event: sale\n"));
    assert_non_null(strstr(buf, "\"till_id\":7"));
    for (int i = 38; i <= EVENTS_QUEUE + 36; i++) {
        snprintf(want, sizeof want, "\"n\":%d,", i);
        assert_non_null(strstr(next(st, buf, sizeof buf), want));
    }
    patron__events_unsubscribe(st);
    patron__events_close(srv);
    patron__events_free(srv);
}

static void events_go_to_their_till_and_quiet_streams_beat(void **state)
{
    (void)state;
    struct patron_server *srv = patron__events_new(30);
    struct patron_stream *a = NULL, *b = NULL, *more[EVENTS_PER_TILL];
    char buf[4096];
    assert_int_equal(patron__events_subscribe(srv, 1, -1, &a), 0);
    assert_int_equal(patron__events_subscribe(srv, 2, -1, &b), 0);
    json_t *o = json_pack("{s:s}", "state", "paper_end");
    patron__events_publish(srv, 1, "scan", o);
    patron__events_publish(srv, 0, "print", o);
    json_decref(o);
    assert_non_null(strstr(next(a, buf, sizeof buf), "event: scan"));
    assert_non_null(strstr(next(a, buf, sizeof buf), "event: print"));
    assert_non_null(strstr(next(b, buf, sizeof buf), "event: print")); /* not till 1's scan */
    assert_string_equal(next(b, buf, sizeof buf), ": heartbeat\n\n");
    /* a till's streams are bounded */
    for (int i = 0; i < EVENTS_PER_TILL - 1; i++)
        assert_int_equal(patron__events_subscribe(srv, 1, -1, &more[i]), 0);
    assert_int_equal(patron__events_subscribe(srv, 1, -1, &more[EVENTS_PER_TILL - 1]),
                     PATRON_ELIMIT);
    assert_int_equal(patron__events_streams(srv), EVENTS_PER_TILL + 1);
    /* closing ends every stream and refuses new ones */
    patron__events_close(srv);
    assert_int_equal(patron__events_read(a, buf, sizeof buf), MHD_CONTENT_READER_END_OF_STREAM);
    assert_int_equal(patron__events_subscribe(srv, 3, -1, &more[0]), -ESHUTDOWN);
    patron__events_unsubscribe(a);
    patron__events_unsubscribe(b);
    for (int i = 0; i < EVENTS_PER_TILL - 1; i++)
        patron__events_unsubscribe(more[i]);
    patron__events_free(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_slow_reader_loses_the_oldest_with_a_note),
        cmocka_unit_test(events_go_to_their_till_and_quiet_streams_beat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
