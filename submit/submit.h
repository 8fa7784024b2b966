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
 *--*/
#ifndef PS_SUBMIT_H
#define PS_SUBMIT_H

#include <stddef.h>

#include "cli.h"
#include "status.h"

enum ps_status submit_deliver(const struct cli *c, int in_fd, char *why,
			      size_t whylen);

#endif
