/*++
 * NAME
 *	smtp 3h
 * SUMMARY
 *	hand a copy to an SMTP relay (libcurl), TLS as the copy needs
 * DESCRIPTION
 *	smtp_send() submits one copy to [transport] host:port: STARTTLS or
 *	implicit TLS (RFC 8314), AUTH PLAIN or LOGIN with the password that
 *	password-command prints (run with execv, no shell), the copy
 *	converted to CRLF on the way (curl dot-stuffs it), TCP_NODELAY.
 *
 *	TLS per copy (need):
 *	  SMTP_TLS_REQUIRED     only over TLS with a verified certificate;
 *	                        a relay that offers no STARTTLS or a bad
 *	                        certificate is a temporary failure, nothing
 *	                        is sent;
 *	  SMTP_TLS_OPPORTUNISTIC STARTTLS when offered; a certificate that
 *	                        does not verify is used anyway, and logged;
 *	AUTH is never sent without TLS.
 *
 *	Every recipient's RCPT reply is recorded (rcpt_code[i]: 250, 450,
 *	550, or 0 when not reached); one recipient's 5xx does not stop the
 *	others. Result: PS_OK when the relay took the copy for at least one
 *	recipient (check rcpt_code for the rest); PS_TEMPFAIL for a
 *	connection or TLS failure, a 4xx for everything, or any trouble
 *	before the data was accepted; PS_UNAVAILABLE when every recipient
 *	was refused with 5xx, or the message was.
 *
 *	A copy that needs TLS goes through smtp_send_strict() (smtptls.c):
 *	its own client over GnuTLS, certificate verified for the configured
 *	host name, which sends MAIL FROM with REQUIRETLS (RFC 8689) when the
 *	relay advertises it, so that every later hop must use TLS too; when
 *	the relay does not, verified TLS covers the first hop only and the
 *	log says so. (libcurl rebuilds MAIL FROM as "<local@domain>" and
 *	cannot carry the parameter.)
 *--*/
#ifndef PS_SMTP_H
#define PS_SMTP_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "status.h"

enum smtp_tls_need { SMTP_TLS_OPPORTUNISTIC, SMTP_TLS_REQUIRED };

struct smtp_outcome {
	int *rcpt_code;		/* n entries */
	int tls;		/* the session was TLS */
	int verified;		/* ... with a verified certificate */
	int requiretls_offered; /* the relay advertised REQUIRETLS */
};

enum ps_status smtp_send(const struct ps_config *cf, const char *sender,
			 const char *const *rcpts, size_t n, int fd, off_t offset,
			 enum smtp_tls_need need, struct smtp_outcome *out,
			 char *why, size_t whylen);

/* The strict client (GnuTLS): verified TLS always, REQUIRETLS when
 * offered. password: NULL without AUTH. */
enum ps_status smtp_send_strict(const struct ps_config *cf, const char *sender,
				const char *const *rcpts, size_t n, int fd,
				off_t offset, const char *password,
				struct smtp_outcome *out, char *why, size_t whylen);

/* The reply parser of the strict client, exposed for its tests and
 * fuzzer (tests/fuzz/fuzz_smtpreply.c). A reply is one or more lines
 * "NNN-text" and a last one "NNN text" or "NNN" (RFC 5321 4.2), each
 * ending in CRLF (a bare LF is taken too).
 *
 * smtp_reply_parse() reads whole lines from buf[*pos..len) into r
 * (initialised by smtp_reply_init() for each reply) and advances *pos past
 * each line it consumed. Returns 1 when the reply's last line was read
 * (r->code holds it; *pos is just after it, where a pipelined next reply
 * begins); 0 when more input is needed (*pos is at the start of the
 * unfinished line: call again with the same r once more bytes follow);
 * -1 when a line breaks the grammar: a code that is not %x32-35 %x30-35
 * %x30-39, a fourth byte other than SP or '-', a code that differs from
 * the reply's first line's, or more than SMTP_REPLY_LINES_MAX lines. After
 * -1 the connection is unusable. Any bytes may be given; nothing is
 * allocated, and the caller bounds the length of a line. */
#define SMTP_REPLY_LINES_MAX 100

struct smtp_reply {
	int code;	/* the reply code (of the lines read so far) */
	int lines;	/* lines read */
	int starttls;	/* an EHLO line was exactly the keyword STARTTLS */
	int requiretls; /* ... REQUIRETLS (RFC 8689) */
	char last[256]; /* the last line read, cut, non-printable bytes as '?' */
};

void smtp_reply_init(struct smtp_reply *r);
int smtp_reply_parse(const char *buf, size_t len, size_t *pos, struct smtp_reply *r);

#endif
