/*-
 * refuse.c
 *	Recipients that cannot be decided go back to the sender at once.
 *
 *	A recipient argument that is not an address, or a -t recipient field
 *	that does not parse, names recipients no policy can be matched to.
 *	Postfix's sendmail accepts such a message and its bounce follows;
 *	postseal sends the others their copies and returns these to the
 *	sender with a delivery status notification (RFC 3464) built here:
 *	the message's Message-ID and Date and the reason for each; no other
 *	header field and not the body (the notice is plaintext, the copies
 *	may not be). Sent from the null sender, so it is never bounced in
 *	turn; queued when the MTA cannot take it now.
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
#include "policy.h"
#include "queue.h"
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

/* The value of the first field called name, printable, or "" */
static void
field_text(const struct header *h, const char *name, char *out, size_t outlen)
{
	long i = header_find(h, name, 0);
	size_t len, k = 0;
	const char *v;

	out[0] = '\0';
	if (i < 0)
		return;
	v = header_value(h, (size_t)i, &len);
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	for (size_t j = 0; j < len && k + 1 < outlen && k < 200; j++)
		if (v[j] != '\r' && v[j] != '\n')
			out[k++] = (unsigned char)v[j] >= 0x20 && (unsigned char)v[j] < 0x7F ? v[j] : '?';
	out[k] = '\0';
}

enum ps_status
refuse_return(const struct ps_config *cf, const char *to, const struct undecidedlist *u,
	      const struct header *h, char *why, size_t whylen)
{
	char host[256], date[64], boundary[64], msgid[256], mdate[256], id[64];
	unsigned char rnd[8];
	const char *rcpt[1] = {to};
	struct queue_env env = {"", 1, NULL, "plaintext", 0, rcpt, 1, NULL, 0, -1};
	struct pol_effective pe;
	enum rcpt_state state = RCPT_TEMP;
	struct buf b;
	enum ps_status st;
	int out, quiet;

	/* the notice is plaintext: for a sender whose mail must be
	 * encrypted it does not repeat what was written, and it goes over
	 * verified TLS where the sender's policy asks that of plaintext */
	pol_resolve(&cf->policy, &cf->user, to, &pe);
	quiet = pe.v.encrypt == ENC_REQUIRE;
	env.tls_required = pe.v.no_key == NK_TLS_REQUIRED;
	notice_stamp(host, sizeof(host), date, sizeof(date));
	/* a boundary no header field of the sender's can foresee */
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return ps_fail(PS_TEMPFAIL, why, whylen, "getrandom: %s", strerror(errno));
	ps_why(boundary, sizeof(boundary), "postseal-dsn-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0],
	       rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	/* which message: what the outside of every copy shows anyway */
	field_text(h, "Message-ID", msgid, sizeof(msgid));
	field_text(h, "Date", mdate, sizeof(mdate));
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
		   "postseal on %s did not send your message%s%s%s%s%s\n"
		   "to %zu of its recipients: their addresses cannot be read, so no policy\n"
		   "can be decided for them. Its other recipients are not affected.\n\n",
		   host, to, date, boundary, boundary, host, msgid[0] ? " " : "", msgid,
		   mdate[0] ? "\nof " : "", mdate, "", u->n);
	if (quiet)
		buf_printf(&b, "Your mail must be encrypted (encrypt = require), so they are not\n"
			       "repeated here; postseal's log on %s names them.\n",
			   host);
	else
		for (size_t i = 0; i < u->n; i++)
			buf_printf(&b, "  %s\n    %s\n", u->v[i].what, u->v[i].why);
	buf_printf(&b, "\n--%s\nContent-Type: message/delivery-status\n\n"
		       "Reporting-MTA: dns; %s\nArrival-Date: %s\n",
		   boundary, host, date);
	for (size_t i = 0; i < u->n; i++)
		buf_printf(&b, "\nFinal-Recipient: x-postseal; %s\nAction: failed\n"
			       "Status: 5.1.3\nDiagnostic-Code: x-postseal; %s\n",
			   quiet ? "(not repeated)" : u->v[i].what,
			   quiet ? "bad recipient address" : u->v[i].why);
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
	st = handoff_copy(cf, "", 1, NULL, rcpt, 1, out, 0, env.tls_required, &state, why,
			  whylen);
	if (st != PS_OK && state != RCPT_PERM) {
		/* the MTA cannot take it now: the queue hands it on later */
		char qwhy[PS_WHY_MAX];

		snprintf(qwhy, sizeof(qwhy), "%s", why);
		if ((st = queue_put(cf, &env, out, qwhy, id, sizeof(id), why, whylen)) == PS_OK)
			log_info("the notice to %s is queued as %s: %s", to, id, qwhy);
	}
	close(out);
	return st;
}
