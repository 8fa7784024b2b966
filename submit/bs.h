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
 *	EHLO, HELO and RSET abort the open transaction and forget its
 *	recipients (RFC 5321 4.1.4). The data ends only at <CRLF>.<CRLF>
 *	(4.1.1.4): a "." line ending in a bare LF, after one, or at the end
 *	of input is data, so a message cannot be cut short, nor a second one
 *	smuggled in, with bare line feeds (commands and text lines may end
 *	in a bare LF, as Postfix's smtpd "normalize" allows). Reply text is
 *	printable US-ASCII (4.2): a reason that quotes an address from the
 *	message has its control and 8-bit bytes replaced.
 *	Returns the exit status: 0, or 75 when the input ended in DATA.
 *--*/
#ifndef PS_BS_H
#define PS_BS_H

#include <stddef.h>

#include "cli.h"
#include "status.h"

int smtp_session(const struct cli *c);

/* What one accepted message goes through: submit_deliver() (submit.h)
 * in postseal. c carries the transaction (sender, recipients); fd is the
 * message, dot-unstuffed, LF line endings, at offset 0. */
typedef enum ps_status (*bs_deliver_fn)(const struct cli *c, int fd, char *why,
					size_t whylen);

/* smtp_session() on in_fd and out_fd, each message given to deliver:
 * the seam for the unit tests and the fuzzer (tests/fuzz/fuzz_bs.c),
 * which hand off nothing. Nothing else differs. */
int smtp_session_io(const struct cli *c, int in_fd, int out_fd, bs_deliver_fn deliver);

#endif
