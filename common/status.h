/*++
 * NAME
 *	status 3h
 * SUMMARY
 *	the internal error vocabulary and its one mapping to sysexits(3)
 * DESCRIPTION
 *	Functions return a ps_status and, where a reason helps the user, fill
 *	a caller-supplied "why" buffer (PS_WHY_MAX). main() is the only place
 *	that turns a status into an exit code, through ps_exit_code().
 *
 *	PS_TEMPFAIL is the answer to anything unexpected: the mail client
 *	keeps the message and retries. Permanent statuses are reserved for
 *	failures that a retry cannot fix.
 *--*/
#ifndef PS_STATUS_H
#define PS_STATUS_H

#include <stddef.h>

enum ps_status {
	PS_OK = 0,
	PS_USAGE,	/* bad command line */
	PS_DATAERR,	/* bad message or address */
	PS_NOINPUT,	/* an input file is missing */
	PS_NOUSER,	/* recipient unknown */
	PS_UNAVAILABLE, /* refused by policy or by the MTA, permanently */
	PS_SOFTWARE,	/* our own bug */
	PS_OSERR,	/* fork, pipe, ... failed */
	PS_CANTCREAT,	/* cannot create the spool file */
	PS_IOERR,	/* read or write error */
	PS_TEMPFAIL,	/* try again later */
	PS_NOPERM,	/* permission denied */
	PS_CONFIG,	/* bad configuration */
	PS_NOHOST,	/* host name unknown (from the MTA) */
	PS_PROTOCOL,	/* remote protocol error (from the MTA) */
	PS_STATUS_COUNT
};

/* The sysexits(3) code for a status. */
int ps_exit_code(enum ps_status st);

/* The status that a child's sysexits code stands for; an unknown code or
 * a signal becomes PS_TEMPFAIL. */
enum ps_status ps_status_from_exit(int code);

/* A short name ("temporary failure") for messages. */
const char *ps_status_name(enum ps_status st);

/* Fill why (size PS_WHY_MAX or whylen) printf-style and return st. */
enum ps_status ps_fail(enum ps_status st, char *why, size_t whylen,
		       const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Fill why printf-style and return -1: for functions that answer 0/-1. */
int ps_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
