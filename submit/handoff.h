/*++
 * NAME
 *	handoff 3h
 * SUMMARY
 *	give a finished copy to the real MTA by exec'ing its sendmail
 * DESCRIPTION
 *	handoff_check() verifies, before anything is composed, that the
 *	configured sendmail is an absolute path to an executable file and is
 *	not postseal itself (which would loop).
 *
 *	handoff_sendmail_at() runs "sendmail -i [-f sender] [-F name] --
 *	rcpt..." with execv (never a shell, never -t), with the copy as its
 *	standard input, and returns the status its exit code stands for
 *	(ps_status_from_exit()); 0 is PS_OK. Addresses reaching the argv
 *	have passed addr_check(); "--" keeps them from being read as
 *	options. The MTA gets [transport] timeout (default 5 minutes) for
 *	one copy; then its process group is stopped and the copy counts as
 *	a temporary failure (the caller queues it).
 *--*/
#ifndef PS_HANDOFF_H
#define PS_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "status.h"

enum ps_status handoff_check(const struct ps_config *cf, char *why,
			     size_t whylen);

/* Run "sendmail -i [-f sender] [-F name] -- rcpt..." with the copy
 * from offset in fd (0, or after a queue file's envelope) as stdin. */
enum ps_status handoff_sendmail_at(const struct ps_config *cf, const char *sender,
				   int sender_given, const char *fullname,
				   const char *const *rcpts, size_t nrcpts, int fd,
				   off_t offset, char *why, size_t whylen);

/* One copy by the configured transport: the real MTA's sendmail, or
 * SMTP to the relay (smtp.h), over verified TLS only when tls_required.
 * rcpt_state[i] tells each recipient's fate: RCPT_DONE (taken),
 * RCPT_TEMP (not taken, try again later), RCPT_PERM (refused for good).
 * sendmail takes or refuses a copy as a whole. The status: PS_OK when
 * every recipient is done, else the status of the first problem, with
 * why. */
enum rcpt_state { RCPT_DONE, RCPT_TEMP, RCPT_PERM };

enum ps_status handoff_copy(const struct ps_config *cf, const char *sender,
			    int sender_given, const char *fullname,
			    const char *const *rcpts, size_t nrcpts, int fd,
			    off_t offset, int tls_required, enum rcpt_state *state,
			    char *why, size_t whylen);

/* Run the real MTA's sendmail with one mode flag ("-bi") and no input:
 * postseal keeps no alias database of its own, so newaliases is the
 * MTA's. Its output goes to our stderr. */
enum ps_status handoff_mode(const struct ps_config *cf, const char *flag,
			    char *why, size_t whylen);

#endif
