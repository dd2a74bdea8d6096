/* SPDX-License-Identifier: MIT */
/* The command line's source of card number spaces (patron/card_space.h): with a head office set,
 * a store that runs out of card numbers while enrolling or importing asks head office for a
 * space there and then; offline, the enrolment is refused with the store's sentence. */
#include <stdio.h>

#include "cli.h"

#ifdef PATRON_HAVE_HQ
#include "hq.h"

static int grant(void *arg, patron_store *s, int *space, char *detail, size_t len)
{
    const struct cli *c = arg;
    return patron_hq_card_space_grant_url(c->hq, s, space, detail, len);
}

void cli_card_space_source(struct cli *c)
{
    if (c->store && c->hq && c->hq[0])
        patron_store_set_card_space_source(c->store, grant, c);
}
#else
void cli_card_space_source(struct cli *c)
{
    (void)c;
}
#endif
