/*-
 * refuse.h
 *	Return the recipients no policy can be decided for (envelope.h,
 *	struct undecidedlist) to the sender: one delivery status
 *	notification from the null sender to `to`, handed to the MTA
 *	(handoff_copy()) at once. PS_OK when the MTA took it; else the
 *	status and why.
 *--*/
#ifndef PS_REFUSE_H
#define PS_REFUSE_H

#include "conf.h"
#include "envelope.h"
#include "header.h"
#include "status.h"

/* The reporting host's name and the date now (RFC 5322), for a notice
 * (also the queue's, queue.c). */
void notice_stamp(char *host, size_t hostlen, char *date, size_t datelen);

enum ps_status refuse_return(const struct ps_config *cf, const char *to,
			     const struct undecidedlist *u, const struct header *h, char *why,
			     size_t whylen);

#endif
