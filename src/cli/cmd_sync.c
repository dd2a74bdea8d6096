/* SPDX-License-Identifier: MIT */
/* `patron sync`: ships the store's outbox to head office (the machine setting `hq`: the URL that
 * `patron hq store add` printed for this store) once, in batches, exactly once, saying after each
 * batch how far head office has acknowledged, then pulls down the chain's members, cards and
 * balances. `patron sync status` says what the store knows:
 * the rows pending, the last acknowledged store_seq, the last success and the last error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] = "sync [--batch N] | sync status";

/* One sentence on stderr (and the JSON error with --json); the exit status of `err`. */
static int sync_fail(struct cli *c, int err, const char *sentence)
{
    if (c->json) {
        json_t *o = json_pack("{s:s, s:s}", "error", patron_err_name(err), "message", sentence);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    }
    fprintf(stderr, "patron: %s.\n", sentence);
    return cli_exit_status(err);
}

/* The sales held on cards not yet known: a JSON array, and lines appended to human. */
static json_t *held_sales(struct cli *c, char *human, size_t cap, int *err)
{
    enum { SHOWN = 20 };
    struct patron_held_sale h[SHOWN];
    size_t n = 0, len = strlen(human);
    char at[40];
    json_t *list = json_array();
    if ((*err = patron_held_list(c->store, h, SHOWN, &n)) != 0 || !list)
        return list;
    len += (size_t)snprintf(human + len, cap - len, "held sales (cards not known yet): %zu\n", n);
    for (size_t i = 0; i < n && i < SHOWN && len < cap; i++) {
        cli_format_time(h[i].held_at, at, sizeof at);
        len += (size_t)snprintf(human + len, cap - len,
                                "  card %s (store %d): sale %s, %lld points held since %s\n",
                                h[i].card, h[i].card_store, h[i].ref, (long long)h[i].points, at);
        json_array_append_new(list, json_pack("{s:I, s:s, s:i, s:s, s:I, s:s}", "held_id",
                                              (json_int_t)h[i].held_id, "card", h[i].card,
                                              "card_store", h[i].card_store, "ref", h[i].ref,
                                              "points", (json_int_t)h[i].points, "held_at", at));
    }
    return list;
}

static int sync_status(struct cli *c, struct cli_args *a)
{
    struct patron_outbox_sync st;
    int64_t last = 0;
    char success[40] = "never", human[4096];
    int status, err;
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = cli_open_store(c)) != 0)
        return status;
    if ((err = patron_outbox_sync_get(c->store, &st)) != 0 ||
        (err = patron_outbox_last(c->store, &last)) != 0)
        return cli_fail(c, err, "cannot read the sync state");
    if (st.last_success)
        cli_format_time(st.last_success, success, sizeof success);
    snprintf(human, sizeof human,
             "pending: %lld rows\nacknowledged by head office: up to store_seq %lld\n"
             "last success: %s\nlast error: %s\n",
             (long long)(last - st.acked_seq), (long long)st.acked_seq, success,
             st.last_error[0] ? st.last_error : "none");
    json_t *o =
        json_pack("{s:I, s:I, s:I, s:o, s:o}", "pending", (json_int_t)(last - st.acked_seq),
                  "acked_seq", (json_int_t)st.acked_seq, "last_seq", (json_int_t)last,
                  "last_success", st.last_success ? json_string(success) : json_null(),
                  "last_error", st.last_error[0] ? json_string(st.last_error) : json_null());
    json_t *held = held_sales(c, human, sizeof human, &err);
    if (err != 0 || !o || !held) {
        json_decref(o);
        json_decref(held);
        return cli_fail(c, err ? err : PATRON_ENOMEM, "cannot read the held sales");
    }
    json_object_set_new(o, "held", held);
    return cli_emit(c, o, human);
}

#ifdef PATRON_HAVE_HQ

#include "hq.h"
#include "link_pool.h"

/* After each batch: one line, flushed, so that whoever watches sees how far it got. */
static void progress(const struct patron_hq_sync_result *r, void *ctx)
{
    struct cli *c = ctx;
    if (c->json)
        return;
    printf("acknowledged up to store_seq %lld (%lld rows in %lld batches)\n",
           (long long)r->acked_seq, (long long)r->shipped, (long long)r->batches);
    fflush(stdout);
}

/* Keeps the failure in the store for `patron sync status`, then says it. */
static int failed(struct cli *c, int err, const char *sentence)
{
    if (patron_outbox_sync_failed(c->store, sentence) != 0)
        fprintf(stderr, "patron: cannot record the failure in the store.\n");
    return sync_fail(c, err, sentence);
}

static int sync_run(struct cli *c, struct cli_args *a, const char *batch_text)
{
    struct patron_hq_sync_result r;
    int64_t batch = 0; /* PATRON_HQ_SYNC_BATCH_ROWS */
    patron_hq *h = NULL;
    char detail[512], human[384];
    int status, err;
    if (batch_text && cli_parse_int(batch_text, 1, 100000, &batch) != 0)
        return cli_usage(c, usage);
    if ((status = cli_no_leftovers(c, a, usage)) != 0 || (status = cli_open_store(c)) != 0)
        return status;
    if (!c->hq || !c->hq[0]) {
        fputs("patron: no head office address: pass --hq URL, set PATRON_HQ, or write `hq = URL` "
              "in patron.conf.\n",
              stderr);
        return CLI_EXIT_USAGE;
    }
    if ((err = patron_hq_connect(c->hq, &h, detail, sizeof detail)) != 0)
        return failed(c, err, detail);
    err = patron_hq_sync(h, c->store, (size_t)batch, progress, c, &r, detail, sizeof detail);
    patron_hq_close(h);
    if (err != 0)
        return failed(c, err, detail);
    snprintf(human, sizeof human,
             "head office holds every row up to store_seq %lld (%lld shipped now)\n"
             "from the chain: %lld members, %lld cards, %lld balances, %lld members erased\n"
             "held sales posted: %lld\n%s",
             (long long)r.acked_seq, (long long)r.shipped, (long long)r.pulled.members,
             (long long)r.pulled.cards, (long long)r.pulled.balances, (long long)r.pulled.erased,
             (long long)r.pulled.held_posted,
             r.card_space ? "card number space granted (this store's were 80% used)\n" : "");
    return cli_emit(
        c,
        json_pack("{s:I, s:I, s:I, s:I, s:i, s:{s:I, s:I, s:I, s:I, s:I}}", "from_seq",
                  (json_int_t)r.from_seq, "acked_seq", (json_int_t)r.acked_seq, "shipped",
                  (json_int_t)r.shipped, "batches", (json_int_t)r.batches, "card_space",
                  r.card_space, "pulled", "members", (json_int_t)r.pulled.members, "cards",
                  (json_int_t)r.pulled.cards, "balances", (json_int_t)r.pulled.balances, "erased",
                  (json_int_t)r.pulled.erased, "held_posted", (json_int_t)r.pulled.held_posted),
        human);
}

/* One round of the service's sync thread, on a link of its pool. */
struct sync_round {
    patron_store *s;
    int pull;
};

static int sync_round_on(patron_hq *h, void *arg, char *detail, size_t len)
{
    const struct sync_round *r = arg;
    struct patron_hq_sync_result res;
    /* batches of PATRON_HQ_SYNC_BATCH_ROWS: a round ships what a few sales wrote in one, a
     * backlog (head office was away) in big ones */
    return r->pull ? patron_hq_sync(h, r->s, 0, NULL, NULL, &res, detail, len)
                   : patron_hq_ship(h, r->s, 0, NULL, NULL, &res, detail, len);
}

/* The link is a pool of one (link_pool.h): a link that head office dropped since the last round
 * (a restart, a cut) is replaced and the round run again on a new one, so the sentence kept is
 * about head office now, not about the old link. Shipping twice is safe: head office takes each
 * store_seq once. */
int cli_sync_link_run(void **link, const char *hq, patron_store *s, int pull, char *detail,
                      size_t len)
{
    int err;
    if (!*link && (err = patron_hq_pool_open(hq, 1, 0, (patron_hq_pool **)link)) != 0)
        return err;
    struct sync_round r = {.s = s, .pull = pull};
    return patron_hq_pool_run(*link, sync_round_on, &r, detail, len);
}

void cli_sync_link_close(void *link)
{
    patron_hq_pool_close(link);
}

#else

static int sync_run(struct cli *c, struct cli_args *a, const char *batch_text)
{
    (void)a;
    (void)batch_text;
    return sync_fail(c, PATRON_EINVAL,
                     "this patron was built without libpq, so it cannot sync with head office; "
                     "install libpq-dev and build again");
}

#endif

int cli_cmd_sync(struct cli *c, struct cli_args *a)
{
    const char *batch_text = cli_take(a, "--batch");
    const char *sub = cli_positional(a);
    if (!sub)
        return sync_run(c, a, batch_text);
    if (strcmp(sub, "status") == 0 && !batch_text)
        return sync_status(c, a);
    return cli_usage(c, usage);
}
