/*++
 * NAME
 *	submit 3h
 * SUMMARY
 *	one submission, from stdin to the MTA
 * DESCRIPTION
 *	submit_deliver() runs the pipeline of DESIGN.md section 2: intake
 *	(all of stdin first), configuration, header and address checks,
 *	envelope, key lookup, plan, compose every copy, then hand the copies
 *	off one by one. Nothing is handed off before every copy has been
 *	composed, so a failure in key lookup or encryption sends nothing.
 *	When a handoff fails, the result is that copy's status and why names
 *	the recipients that were already handed off.
 *
 *	A recipient whose key lookup is inconclusive (unknown = defer) does
 *	not hold up the others: the message, as its plaintext copy would be
 *	sent, is queued for that recipient as "awaiting a key lookup"
 *	(queue.h) before any copy is handed off, and the submission succeeds.
 *	submit_retry() is the queue runner's second look: the same pipeline
 *	for the queued message's recipients, each ending QR_DONE (handed off,
 *	or queued as a finished copy), QR_WAIT (still inconclusive, or a
 *	temporary failure) or QR_PERM (refused).
 *--*/
#ifndef PS_SUBMIT_H
#define PS_SUBMIT_H

#include <stddef.h>

#include "cli.h"
#include "conf.h"
#include "queue.h"
#include "status.h"

enum ps_status submit_deliver(const struct cli *c, int in_fd, char *why,
			      size_t whylen);

/* A queue_lookup_fn (queue.h). */
enum ps_status submit_retry(const struct ps_config *cf, const struct queue_msg *qm,
			    int *state, char *wait_why, size_t wait_whylen, char *why,
			    size_t whylen);

#endif
