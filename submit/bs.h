/*++
 * NAME
 *	bs 3h
 * SUMMARY
 *	postseal -bs: SMTP on standard input and output
 * DESCRIPTION
 *	smtp_session() speaks the server side of SMTP (RFC 5321) on fds 0
 *	and 1, as PHP's Symfony Mailer, Swift Mailer and Alpine expect from
 *	"sendmail -bs": EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, VRFY, HELP,
 *	QUIT. Each message accepted with DATA (dot-unstuffed into a private
 *	spool file) goes through the same pipeline as any submission
 *	(submit_deliver(): policy, keys, compose, handoff or queue), and the
 *	reply to the final dot says how it ended: 250 when handed off or
 *	queued, 451 for a temporary failure (nothing sent), 554/550 when
 *	refused, with the reason. A DATA line longer than 64000 octets
 *	refuses that message (554; it is never cut); lines longer than 1000
 *	octets in commands,
 *	more than PS_RCPT_MAX recipients, bad addresses and commands out of
 *	order get their RFC 5321 error codes; end of input ends the session.
 *	Returns the exit status: 0, or 75 when the input ended in DATA.
 *--*/
#ifndef PS_BS_H
#define PS_BS_H

#include "cli.h"

int smtp_session(const struct cli *c);

#endif
