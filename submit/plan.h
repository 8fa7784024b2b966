/*++
 * NAME
 *	plan 3h
 * SUMMARY
 *	partition the recipients into the copies that will be sent
 * DESCRIPTION
 *	plan_build() is pure: from the recipients (with their keys already
 *	looked up) it makes
 *	  - one encrypted copy for all visible recipients that have a key;
 *	  - one encrypted copy per blind recipient with a key, encrypted to
 *	    that key only, so that no other copy carries its key ID;
 *	  - one plaintext copy for every recipient without a key (the
 *	    opportunistic default; policy refines this);
 *	or, for input that is already encrypted, one pass-through copy for
 *	everybody. Copies are ordered: encrypted first, plaintext last.
 *--*/
#ifndef PS_PLAN_H
#define PS_PLAN_H

#include <stddef.h>

#include "envelope.h"
#include "status.h"

enum copy_kind { COPY_ENCRYPTED, COPY_PLAIN, COPY_PASSTHROUGH };

struct copy {
	enum copy_kind kind;
	size_t *rcpt; /* indices into the recipient list */
	size_t n;
	int fd;	      /* the composed copy, -1 until composed */
	int handed_off;
};

struct plan {
	struct copy *v;
	size_t n;
};

enum ps_status plan_build(const struct rcptlist *l, int passthrough,
			  struct plan *p);
void plan_free(struct plan *p);

const char *copy_kind_name(enum copy_kind k);

#endif
