/* SPDX-License-Identifier: MIT */
/* Referrals: every member has a referral code; a new member who enrols with it and then makes a
 * first qualifying purchase (at least the rule referral_min_basket_minor) earns both of them the
 * rule referral_bonus_points, once, inside that sale's transaction. Self-referral (the new member
 * has the referrer's email or phone, or is the referrer) and loops (A refers B who refers A) are
 * refused. The bonuses are not taken back by a refund of the qualifying sale.
 *
 * Thread-safety: as the store handle (one thread at a time). */
#ifndef PATRON_REFERRAL_H
#define PATRON_REFERRAL_H

#include "patron/export.h"

#include <stdint.h>

#include "patron/member.h"
#include "patron/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Eight Crockford Base32 symbols (no I, L, O, U); typed in any case, with or without a dash. */
#define PATRON_REFERRAL_CODE_CHARS 8

/* The member's referral code, minted on first request (RAND_bytes). Returns 0; PATRON_EINVAL /
 * PATRON_ECHECKDIGIT; PATRON_ENOCARD. */
PATRON_EXPORT int patron_referral_code(patron_store *s, const char *card,
                                       char code[PATRON_REFERRAL_CODE_CHARS + 1])
    __attribute__((warn_unused_result));

/* Enrolls a member referred by `code`, in one transaction: either both the member and the link
 * are recorded or neither. Returns 0 and fills *out; what patron_member_enroll() returns;
 * PATRON_ENOTFOUND for an unknown code; PATRON_ERULE for self-referral (the detail says why). */
PATRON_EXPORT int patron_member_enroll_referred(patron_store *s, const struct patron_enrollment *in,
                                                const char *code, struct patron_member *out)
    __attribute__((warn_unused_result));

/* Links a member enrolled without a code to their referrer, before their first purchase.
 * Returns 0; PATRON_ENOCARD; PATRON_ENOTFOUND for an unknown code; PATRON_ERULE for
 * self-referral, a loop, a member already referred or one who has bought already. */
PATRON_EXPORT int patron_referral_link(patron_store *s, const char *card, const char *code)
    __attribute__((warn_unused_result));

struct patron_referral_info {
    char code[PATRON_REFERRAL_CODE_CHARS + 1]; /* the member's own code */
    int64_t referred_by;                       /* the referrer's member id, 0 when none */
    int rewarded;                              /* their own referral bonus was paid */
    int64_t referred;                          /* members they referred */
    int64_t referred_rewarded;                 /* ... of whom made a qualifying purchase */
};

/* The member's referral code (minted when missing) and standing. Returns 0 or PATRON_ENOCARD. */
PATRON_EXPORT int patron_referral_info(patron_store *s, const char *card,
                                       struct patron_referral_info *out)
    __attribute__((warn_unused_result));

#ifdef __cplusplus
}
#endif
#endif
