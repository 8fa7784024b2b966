/*-
 * refuse.c
 *	Recipients that cannot be decided go back to the sender at once.
 *
 *	A recipient argument that is not an address, or a -t recipient field
 *	that does not parse, names recipients no policy can be matched to.
 *	Postfix's sendmail accepts such a message and its bounce follows;
 *	postseal sends the others their copies and returns these to the
 *	sender with a delivery status notification (RFC 3464) built here:
 *	the reason for each, and the message's header fields without Bcc
 *	and Resent-Bcc (the body is not in it: it stays with the recipients
 *	it was meant for). Sent from the null sender, so it is never
 *	bounced in turn.
 *--*/
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "handoff.h"
#include "log.h"
#include "refuse.h"

void
notice_stamp(char *host, size_t hostlen, char *date, size_t datelen)
{
	time_t now = time(NULL);
	struct tm tm;

	if (gethostname(host, hostlen) < 0)
		ps_why(host, hostlen, "localhost");
	host[hostlen - 1] = '\0';
	localtime_r(&now, &tm);
	strftime(date, datelen, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

enum ps_status
refuse_return(const struct ps_config *cf, const char *to, const struct undecidedlist *u,
	      const struct header *h, char *why, size_t whylen)
{
	char host[256], date[64], boundary[64];
	unsigned char rnd[8];
	const char *rcpt[1] = {to};
	enum rcpt_state state;
	struct buf b;
	enum ps_status st;
	int out;

	notice_stamp(host, sizeof(host), date, sizeof(date));
	/* a boundary no header field of the sender's can foresee */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom: %s", strerror(errno));
	ps_why(boundary, sizeof(boundary), "postseal-dsn-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
	       rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	buf_init(&b, 1024 * 1024);
	buf_printf(&b,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
		   "To: %s\n"
		   "Subject: Undelivered Mail Returned to Sender\n"
		   "Date: %s\n"
		   "Auto-Submitted: auto-replied\n"
		   "MIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n"
		   " boundary=\"%s\"\n\n"
		   "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "postseal on %s did not send your message to the recipients below:\n"
		   "their addresses cannot be read, so no policy can be decided for\n"
		   "them. Correct them and send the message again. Its other\n"
		   "recipients are not affected by this.\n\n",
		   host, to, date, boundary, boundary, host);
	for (size_t i = 0; i < u->n; i++)
		buf_printf(&b, "  %s\n    %s\n", u->v[i].what, u->v[i].why);
	buf_printf(&b, "\n--%s\nContent-Type: message/delivery-status\n\n"
		       "Reporting-MTA: dns; %s\nArrival-Date: %s\n",
		   boundary, host, date);
	for (size_t i = 0; i < u->n; i++)
		buf_printf(&b, "\nFinal-Recipient: x-postseal; %s\nAction: failed\n"
			       "Status: 5.1.3\nDiagnostic-Code: x-postseal; %s\n",
			   u->v[i].what, u->v[i].why);
	buf_printf(&b, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	for (size_t i = 0; i < h->n; i++) {
		if (header_name_is(h, i, "Bcc") || header_name_is(h, i, "Resent-Bcc"))
			continue;
		for (size_t k = 0; k < h->f[i].len; k++)
			if (h->raw.data[h->f[i].off + k] != '\r')
				buf_putc(&b, h->raw.data[h->f[i].off + k]);
	}
	buf_printf(&b, "\n--%s--\n", boundary);
	if (b.failed) {
		buf_free(&b);
		return ps_fail(PS_TEMPFAIL, why, whylen, "the notice to %s is too large", to);
	}
	if ((out = spool_open(spool_dir_default(), why, whylen)) < 0) {
		buf_free(&b);
		return PS_TEMPFAIL;
	}
	if (write_all(out, b.data, b.len) < 0) {
		st = ps_fail(PS_TEMPFAIL, why, whylen, "writing the notice: %s", strerror(errno));
		buf_free(&b);
		close(out);
		return st;
	}
	buf_free(&b);
	st = handoff_copy(cf, "", 1, NULL, rcpt, 1, out, 0, 0, &state, why, whylen);
	close(out);
	return st;
}
