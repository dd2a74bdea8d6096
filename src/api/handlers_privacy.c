/* SPDX-License-Identifier: MIT */
/* Route handlers of what the shop holds about a member: their marketing consent (recorded with
 * the till's name), the export of everything held about them (their copy, a snapshot read), and
 * erasure of their personal data, which the writer runs outside any batch because it
 * checkpoints and truncates the WAL. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handlers.h"

/* Attempts at the erasure's checkpoint; each waits out the store's busy timeout already. */
#define ERASE_ATTEMPTS 3

int api_h_consent(struct api_call *c, patron_store *s)
{
    const char *source = api_str(c->body, "source");
    int marketing = json_is_true(json_object_get(c->body, "marketing"));
    struct patron_member m;
    json_t *o = NULL;
    int err = patron_member_consent(s, c->params[0], marketing, source, c->terminal.name);
    if (err == 0 && (err = patron_member_by_card(s, c->params[0], &m)) == 0)
        err = patron_json_consent(&m, source, &o);
    return api_reply_built(c, 200, err, o);
}

static long export_read(void *cls, char *buf, size_t max)
{
    size_t n = fread(buf, 1, max, cls);
    return n > 0 ? (long)n : ferror((FILE *)cls) ? -1 : 0;
}

static void export_close(void *cls)
{
    fclose(cls);
}

/* The copy is written to a temporary file under the read's one snapshot, then sent from it a
 * block at a time: however long the member's history, the service holds a block of it. */
int api_h_export(struct api_call *c, patron_store *s)
{
    FILE *f = NULL;
    int err = patron_member_export_file(s, c->params[0], &f);
    if (err != 0)
        return err;
    return api_reply_stream(c, (struct api_stream){export_read, export_close, f},
                            "application/json");
}

int api_h_erase(struct api_call *c, patron_store *s)
{
    struct patron_member m;
    json_t *o = NULL;
    int err = patron_member_by_card(s, c->params[0], &m);
    if (err != 0)
        return err;
    /* -EBUSY means the erasure is committed but a reader kept the WAL from being truncated:
     * erasing again only finishes the checkpoint. */
    err = patron_member_erase(s, c->params[0], c->terminal.name);
    for (int i = 1; err == -EBUSY && i < ERASE_ATTEMPTS; i++) {
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        err = patron_member_erase(s, c->params[0], c->terminal.name);
    }
    if (err == -EBUSY)
        snprintf(c->detail, sizeof c->detail,
                 "the erasure is committed, but old copies may remain in the WAL while the "
                 "store is busy; send the request again to finish it");
    if (err == 0)
        err = patron_json_erasure(m.member_id, &o);
    return api_reply_built(c, 200, err, o);
}
